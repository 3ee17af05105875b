#include "bench/request.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <string>

namespace hasivu::bench {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool HasHeader(const Request& request, std::string_view name) {
  for (const Header& h : request.headers) {
    if (EqualsIgnoreCase(h.name, name)) return true;
  }
  return false;
}

// Methods whose requests carry a body by their semantics: without a Content-Length even an empty
// one leaves some servers (and proxies) answering 411 Length Required.
bool MethodExpectsBody(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

std::string HostForUrl(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return "[" + std::string(host) + "]";
  return std::string(host);
}

Status BadEndpoint(std::string_view url, std::string_view why) {
  return InvalidArgumentError("endpoint '" + std::string(url) + "': " + std::string(why) +
                              " (expected http://HOST[:PORT][/BASE])");
}

}  // namespace

std::string_view Response::HeaderValue(std::string_view name) const {
  for (const Header& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

std::string ErrorCodeOf(std::string_view body) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const boost::json::object& o = v.get_object();
  const auto* success = o.if_contains("success");
  if (success == nullptr || !success->is_bool() || success->get_bool()) return {};
  const auto* error = o.if_contains("error");
  if (error == nullptr || !error->is_object()) return {};
  const auto* code = error->get_object().if_contains("code");
  if (code == nullptr || !code->is_string()) return {};
  return std::string(code->get_string());
}

std::string Endpoint::ToString() const {
  return "http://" + HostForUrl(host) + ":" + std::to_string(port) + base_path;
}

StatusOr<Endpoint> ParseEndpoint(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return BadEndpoint(url, "not a URL: " + parsed.error().message());
  const boost::urls::url_view& u = *parsed;
  if (u.scheme_id() == boost::urls::scheme::https) {
    return BadEndpoint(url,
                       "https is not supported: the bench measures the server over plain "
                       "HTTP, TLS in front of it is the proxy's cost");
  }
  if (u.scheme_id() != boost::urls::scheme::http) {
    return BadEndpoint(url, "the scheme must be http");
  }
  if (!u.has_authority()) return BadEndpoint(url, "no host");
  if (u.has_userinfo()) return BadEndpoint(url, "user information is not supported");
  if (u.has_query()) return BadEndpoint(url, "a query is not allowed");
  if (u.has_fragment()) return BadEndpoint(url, "a fragment is not allowed");

  Endpoint endpoint;
  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      endpoint.host = u.host_ipv6_address().to_string();
      break;
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::name:
      endpoint.host = u.host();
      break;
    default:
      return BadEndpoint(url, "unsupported host");
  }
  if (endpoint.host.empty()) return BadEndpoint(url, "empty host");

  // RFC 3986 lets "host:" mean the default port; port_number() cannot tell that from an
  // overflow, so the digits are read here.
  if (u.has_port() && !u.port().empty()) {
    const std::string_view digits = u.port();
    unsigned value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size() || value < 1 ||
        value > 65535) {
      return BadEndpoint(url, "port '" + std::string(digits) + "' is not in 1-65535");
    }
    endpoint.port = static_cast<uint16_t>(value);
  }

  // Kept percent-encoded: it goes on the wire in front of targets that are encoded already.
  std::string path(u.encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  endpoint.base_path = std::move(path);
  return endpoint;
}

std::string SerializeRequest(const Endpoint& endpoint, const Request& request) {
  std::string out;
  out.reserve(128 + request.target.size() + request.body.size());
  out += request.method;
  out += ' ';
  out += endpoint.base_path;
  out += request.target.empty() ? std::string_view("/") : std::string_view(request.target);
  out += " HTTP/1.1\r\nHost: ";
  out += HostForUrl(endpoint.host);
  out += ':';
  out += std::to_string(endpoint.port);
  out += "\r\nConnection: keep-alive\r\n";
  for (const Header& h : request.headers) {
    // These describe the connection and the framing, which are the sender's: a scenario's copy
    // would contradict the one written here.
    if (EqualsIgnoreCase(h.name, "host") || EqualsIgnoreCase(h.name, "content-length") ||
        EqualsIgnoreCase(h.name, "connection")) {
      continue;
    }
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  if (!request.body.empty() && !HasHeader(request, "content-type")) {
    out += "Content-Type: application/json\r\n";
  }
  if (!request.body.empty() || MethodExpectsBody(request.method)) {
    out += "Content-Length: ";
    out += std::to_string(request.body.size());
    out += "\r\n";
  }
  out += "\r\n";
  out += request.body;
  return out;
}

}  // namespace hasivu::bench
