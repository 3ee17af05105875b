// Router: maps method + path to a handler. Patterns are literal segments and `{name}` segments
// ("/api/v1/users/{id}"); a literal segment wins over a parameter at the same depth
// ("/users/me" before "/users/{id}"). Matching costs O(segments), not O(routes).
//
// Matching rules:
// - A parameter matches one whole non-empty segment; it never spans a '/'.
// - Literal first, then parameter: "/users/me" goes to "/users/me" when that route exists. If the
//   literal branch has no route for the whole path, the parameter branch is tried
//   ("/users/me/orders" reaches "/users/{id}/orders" when "/users/me/orders" is not registered).
//   The method is checked only on the node the path resolves to, so that node decides 404/405.
// - Trailing slashes are significant: "/users/" does not match "/users" (404), and a pattern
//   may not end with '/' (except "/" itself). Empty segments ("/a//b") match nothing.
// - Patterns are in decoded form; literal segments may not contain any of {}?#%.
// - A GET route also answers HEAD (the server drops the body), unless HEAD is registered itself.
//
// Thread-safety: Add() only before the server starts; Match() is const and safe concurrently.
#ifndef HASIVU_HTTP_ROUTER_H_
#define HASIVU_HTTP_ROUTER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/message.h"
#include "http/offload_queue.h"

namespace hasivu::http {

using Handler = std::function<Response(Request&)>;

struct RouteOptions {
  // The handler may block on a database round trip. When the server has a blocking pool
  // (PostgreSQL), it runs there and the event loop moves on; otherwise it runs inline.
  bool blocking = false;
  // With blocking, and a blocking pool: the handler is first tried on the I/O thread inside a
  // NonBlockingAttempt (common/blocking.h), so an answer from memory (a cached read) skips the
  // two thread hops; if anything in it would block, that answer is dropped and the handler runs
  // on the pool inside a RetryAfterRefusal. Only for handlers with no effect before their first
  // refused call (reads), that leave the Request as they found it.
  bool try_inline = false;
  // Name used for metrics labels and logs (e.g. "orders-list"). Default: the pattern.
  std::string name;
  // The handler spends long on the CPU (password hashing) or waits on another service (a payment
  // gateway): it always runs off the I/O threads, on the blocking pool, or on a pool of
  // ServerSettings::cpu_threads when there is none.
  bool offload = false;
  // When set, offloaded requests of this route take a slot of this queue while they wait for or
  // run on the pool; with none free the server answers 503 SERVICE_BUSY (offload_queue.h).
  // Routes may share one queue. Ignored when the handler runs inline.
  std::shared_ptr<OffloadQueue> queue = nullptr;
};

struct Route {
  std::string method;
  std::string pattern;
  Handler handler;
  RouteOptions options;
};

struct MatchResult {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed } kind = Kind::kNotFound;
  const Route* route = nullptr;                             // when kFound
  std::vector<std::pair<std::string, std::string>> params;  // when kFound
  std::string allow;  // when kMethodNotAllowed: "GET, HEAD" style list for the Allow header
};

class Router {
 public:
  Router();
  ~Router();
  // kInvalidArgument for a malformed pattern; kAlreadyExists for a duplicate method + pattern.
  Status Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
  // `path` is the decoded path without query. A GET route also answers HEAD.
  MatchResult Match(std::string_view method, std::string_view path) const;
  // Every (method, pattern) registered, for the OpenAPI coverage test.
  std::vector<std::pair<std::string, std::string>> List() const;
  // Every registered route, in registration order; the pointers live as long as the Router.
  // The server resolves its per-route metrics from these once, at Start().
  std::vector<const Route*> Routes() const;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace hasivu::http

#endif  // HASIVU_HTTP_ROUTER_H_
