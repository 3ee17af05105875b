// What `hasivu bench` sends and receives: plain values, so scenarios, the load generator and the
// reports share them without sharing an HTTP library's types.
//
// Thread-safety: values.
#ifndef HASIVU_BENCH_REQUEST_H_
#define HASIVU_BENCH_REQUEST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hasivu::bench {

struct Header {
  std::string name;
  std::string value;
};

// One request of a scenario. Host, Content-Length, Connection (keep-alive) and, when `body` is not
// empty, Content-Type: application/json are added by whoever sends it.
struct Request {
  std::string method = "GET";
  std::string
      target;  // origin form, "/api/v1/orders?limit=20"; the endpoint's base path is prefixed
  std::vector<Header> headers;  // e.g. Authorization, Idempotency-Key, Accept-Encoding
  std::string body;
};

struct Response {
  int status = 0;
  std::vector<Header> headers;  // names lower-cased
  std::string body;             // as received (not decoded when the server compressed it)
  // The first header named `name` (lower case), or empty.
  std::string_view HeaderValue(std::string_view name) const;
};

// The envelope's error code ("SOLD_OUT") of an error body, or empty when the body is not an error
// envelope (compressed, not JSON, or a success).
std::string ErrorCodeOf(std::string_view body);

// Where a server listens: http://HOST[:PORT][/BASE]. Only plain HTTP: a bench measures the
// server, and TLS in front of it is the proxy's cost (docs/decisions.md D29).
struct Endpoint {
  std::string host;  // a name or an address; IPv6 without brackets
  uint16_t port = 80;
  std::string base_path;         // "" or "/stage" (no trailing slash), prefixed to every target
  std::string ToString() const;  // "http://host:port/base"
};

// Parses `url`; InvalidArgument with a reason for anything but http://host[:port][/path] (https,
// userinfo, a query or fragment, an empty host, a port out of range).
StatusOr<Endpoint> ParseEndpoint(std::string_view url);

// The request as bytes on the wire, HTTP/1.1 keep-alive, for `endpoint` (Host and base path).
std::string SerializeRequest(const Endpoint& endpoint, const Request& request);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_REQUEST_H_
