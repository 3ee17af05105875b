#include "bench/json_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace hasivu::bench::internal {
namespace json = boost::json;

namespace {

std::string_view KindName(json::kind k) {
  switch (k) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

Status WrongType(std::string_view path, std::string_view expected, const json::value& got) {
  return InvalidArgumentError(std::string(path) + ": expected " + std::string(expected) + ", got " +
                              std::string(KindName(got.kind())));
}

StatusOr<double> AsNumber(const json::value& v, std::string_view path) {
  if (!v.is_number()) return WrongType(path, "a number", v);
  const double d = v.to_number<double>();
  // Boost.JSON reads 1e999 as infinity; a threshold or a latency of infinity is a broken file.
  if (!std::isfinite(d)) return InvalidArgumentError(std::string(path) + ": not a finite number");
  return d;
}

std::string ErrnoText() { return std::strerror(errno); }

}  // namespace

std::string JoinPath(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

StatusOr<json::value> ParseJson(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return InvalidArgumentError(std::string(what) + ": not JSON: " + ec.message());
  return v;
}

Status CheckKeys(const json::object& object, std::initializer_list<std::string_view> allowed,
                 std::string_view path) {
  for (const auto& entry : object) {
    const std::string_view key(entry.key().data(), entry.key().size());
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) return InvalidArgumentError(JoinPath(path, key) + ": unknown key");
  }
  return Status::Ok();
}

StatusOr<const json::object*> ObjectAt(const json::object& o, std::string_view key,
                                       std::string_view path) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return InvalidArgumentError(JoinPath(path, key) + ": missing");
  if (!v->is_object()) return WrongType(JoinPath(path, key), "an object", *v);
  return &v->get_object();
}

StatusOr<const json::array*> ArrayAt(const json::object& o, std::string_view key,
                                     std::string_view path) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return InvalidArgumentError(JoinPath(path, key) + ": missing");
  if (!v->is_array()) return WrongType(JoinPath(path, key), "an array", *v);
  return &v->get_array();
}

StatusOr<double> NumberAt(const json::object& o, std::string_view key, std::string_view path) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return InvalidArgumentError(JoinPath(path, key) + ": missing");
  return AsNumber(*v, JoinPath(path, key));
}

StatusOr<std::optional<double>> OptionalNumberAt(const json::object& o, std::string_view key,
                                                 std::string_view path) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::optional<double>();
  ASSIGN_OR_RETURN(double d, AsNumber(*v, JoinPath(path, key)));
  return std::optional<double>(d);
}

StatusOr<std::string> StringAt(const json::object& o, std::string_view key, std::string_view path) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return InvalidArgumentError(JoinPath(path, key) + ": missing");
  if (!v->is_string()) return WrongType(JoinPath(path, key), "a string", *v);
  return std::string(v->get_string());
}

StatusOr<std::optional<std::string>> OptionalStringAt(const json::object& o, std::string_view key,
                                                      std::string_view path) {
  if (!o.contains(key)) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string s, StringAt(o, key, path));
  return std::optional<std::string>(std::move(s));
}

StatusOr<std::vector<double>> NumbersAt(const json::object& o, std::string_view key,
                                        std::string_view path) {
  ASSIGN_OR_RETURN(const json::array* a, ArrayAt(o, key, path));
  std::vector<double> out;
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    ASSIGN_OR_RETURN(double d,
                     AsNumber((*a)[i], JoinPath(path, key) + "[" + std::to_string(i) + "]"));
    out.push_back(d);
  }
  return out;
}

StatusOr<std::vector<std::string>> StringsAt(const json::object& o, std::string_view key,
                                             std::string_view path) {
  ASSIGN_OR_RETURN(const json::array* a, ArrayAt(o, key, path));
  std::vector<std::string> out;
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    if (!(*a)[i].is_string()) {
      return WrongType(JoinPath(path, key) + "[" + std::to_string(i) + "]", "a string", (*a)[i]);
    }
    out.emplace_back((*a)[i].get_string());
  }
  return out;
}

json::value NumberJson(double v) {
  if (!std::isfinite(v)) return nullptr;
  // Boost.JSON writes every double in exponent form (20 as 2E1); whole numbers as integers keep
  // the files readable, and readers take any number as a double anyway.
  if (v == std::floor(v) && std::abs(v) < 9e15) return static_cast<int64_t>(v);
  return v;
}

json::value OptionalJson(const std::optional<double>& v) {
  if (!v) return nullptr;
  return NumberJson(*v);
}

json::array NumbersJson(const std::vector<double>& v) {
  json::array out;
  out.reserve(v.size());
  for (double d : v) out.push_back(NumberJson(d));
  return out;
}

json::array StringsJson(const std::vector<std::string>& v) {
  json::array out;
  out.reserve(v.size());
  for (const std::string& s : v) out.emplace_back(s);
  return out;
}

json::object RunConfigJson(const RunConfig& c) {
  return {{"version", c.version},
          {"started_at", c.started_at},
          {"url", c.url},
          {"peer_url", c.peer_url},
          {"store", c.store},
          {"cache", c.cache},
          {"machine", c.machine},
          {"repetitions", c.repetitions},
          {"connections", c.connections},
          {"duration_seconds", NumberJson(c.duration_seconds)},
          {"cold_starts", c.cold_starts},
          {"functions", StringsJson(c.functions)},
          {"setup_requests", c.setup_requests},
          {"setup_writes", c.setup_writes},
          {"skipped", StringsJson(c.skipped)},
          {"notes", StringsJson(c.notes)}};
}

StatusOr<RunConfig> RunConfigFromJson(const json::object& o, std::string_view path) {
  RETURN_IF_ERROR(
      CheckKeys(o,
                {"version", "started_at", "url", "peer_url", "store", "cache", "machine",
                 "repetitions", "connections", "duration_seconds", "cold_starts", "functions",
                 "setup_requests", "setup_writes", "skipped", "notes"},
                path));
  RunConfig c;
  const auto str = [&](std::string_view key, std::string& out) -> Status {
    ASSIGN_OR_RETURN(std::optional<std::string> s, OptionalStringAt(o, key, path));
    if (s) out = std::move(*s);
    return Status::Ok();
  };
  const auto whole = [&](std::string_view key, auto& out) -> Status {
    ASSIGN_OR_RETURN(std::optional<double> d, OptionalNumberAt(o, key, path));
    if (!d) return Status::Ok();
    if (*d < 0 || *d != std::floor(*d)) {
      return InvalidArgumentError(JoinPath(path, key) + ": expected a whole number >= 0");
    }
    out = static_cast<std::remove_reference_t<decltype(out)>>(*d);
    return Status::Ok();
  };
  const auto strings = [&](std::string_view key, std::vector<std::string>& out) -> Status {
    if (!o.contains(key)) return Status::Ok();
    ASSIGN_OR_RETURN(out, StringsAt(o, key, path));
    return Status::Ok();
  };
  RETURN_IF_ERROR(str("version", c.version));
  RETURN_IF_ERROR(str("started_at", c.started_at));
  RETURN_IF_ERROR(str("url", c.url));
  RETURN_IF_ERROR(str("peer_url", c.peer_url));
  RETURN_IF_ERROR(str("store", c.store));
  RETURN_IF_ERROR(str("cache", c.cache));
  RETURN_IF_ERROR(str("machine", c.machine));
  RETURN_IF_ERROR(whole("repetitions", c.repetitions));
  RETURN_IF_ERROR(whole("connections", c.connections));
  ASSIGN_OR_RETURN(std::optional<double> duration, OptionalNumberAt(o, "duration_seconds", path));
  if (duration) c.duration_seconds = *duration;
  RETURN_IF_ERROR(whole("cold_starts", c.cold_starts));
  RETURN_IF_ERROR(strings("functions", c.functions));
  RETURN_IF_ERROR(whole("setup_requests", c.setup_requests));
  RETURN_IF_ERROR(whole("setup_writes", c.setup_writes));
  RETURN_IF_ERROR(strings("skipped", c.skipped));
  RETURN_IF_ERROR(strings("notes", c.notes));
  return c;
}

Status WriteFileAtomically(const std::string& path, std::string_view text) {
  // mkstemp in the target's folder: rename() is atomic only within one file system.
  std::string tmp = path + ".XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return InternalError("write " + path + ": " + ErrnoText());
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = ErrnoText();
      ::close(fd);
      ::unlink(tmp.c_str());
      return InternalError("write " + path + ": " + why);
    }
    done += static_cast<size_t>(n);
  }
  // mkstemp creates the file 0600; a report or baseline is meant to be read by others (CI).
  ::fchmod(fd, 0644);
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = ErrnoText();
    ::unlink(tmp.c_str());
    return InternalError("write " + path + ": " + why);
  }
  return Status::Ok();
}

StatusOr<std::string> ReadWholeFile(const std::string& path) {
  // stdio rather than a stream: errno after a failed fopen() is the reason, which is what tells
  // a missing file (NotFound) from one that cannot be read.
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    if (errno == ENOENT) return NotFoundError("read " + path + ": no such file");
    return InternalError("read " + path + ": " + ErrnoText());
  }
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return InternalError("read " + path + ": read error");
  return out;
}

}  // namespace hasivu::bench::internal
