#include "http/router.h"

#include <algorithm>
#include <map>
#include <utility>

namespace hasivu::http {

struct Router::Node {
  struct Entry {
    const Route* route = nullptr;
    // The `{name}` names of this route's pattern, in order. Kept per entry because two methods
    // may reach the same node through differently named parameters.
    std::vector<std::string> param_names;
  };
  // std::less<> lets Match() look up a string_view without building a string.
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;
  std::map<std::string, Entry, std::less<>> methods;  // sorted, so Allow lists are stable
};

namespace {

bool IsParamNameChar(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  return !first && c >= '0' && c <= '9';
}

bool IsValidMethod(std::string_view method) {
  if (method.empty() || method.size() > 32) return false;
  return std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Segments of a path that starts with '/': "/" has none, "/a/" has {"a", ""}.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.size() <= 1) return segments;
  size_t start = 1;
  while (true) {
    const size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      segments.push_back(path.substr(start));
      return segments;
    }
    segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

Status Router::Add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  if (!IsValidMethod(method)) {
    return InvalidArgumentError("route method must be upper-case letters: '" + method + "'");
  }
  if (!handler) return InvalidArgumentError("route " + method + " " + pattern + " has no handler");
  if (pattern.empty() || pattern[0] != '/') {
    return InvalidArgumentError("route pattern must start with '/': '" + pattern + "'");
  }
  if (pattern.size() > 1 && pattern.back() == '/') {
    return InvalidArgumentError("route pattern must not end with '/': '" + pattern + "'");
  }

  Node* node = root_.get();
  std::vector<std::string> param_names;
  for (std::string_view segment : SplitPath(pattern)) {
    if (segment.empty()) {
      return InvalidArgumentError("route pattern has an empty segment: '" + pattern + "'");
    }
    if (segment.front() == '{') {
      const std::string_view name = segment.substr(1, segment.size() - 1);
      if (segment.size() < 3 || segment.back() != '}' ||
          !IsParamNameChar(name.front(), /*first=*/true) ||
          !std::all_of(name.begin(), name.end() - 1,
                       [](char c) { return IsParamNameChar(c, /*first=*/false); })) {
        return InvalidArgumentError("malformed parameter segment '" + std::string(segment) +
                                    "' in route pattern '" + pattern + "'");
      }
      std::string param(name.substr(0, name.size() - 1));
      if (std::find(param_names.begin(), param_names.end(), param) != param_names.end()) {
        return InvalidArgumentError("parameter '" + param + "' appears twice in '" + pattern + "'");
      }
      param_names.push_back(std::move(param));
      if (!node->param) node->param = std::make_unique<Node>();
      node = node->param.get();
      continue;
    }
    if (segment.find_first_of("{}?#%") != std::string_view::npos) {
      return InvalidArgumentError("literal segment '" + std::string(segment) +
                                  "' of route pattern '" + pattern +
                                  "' holds one of {}?#% (patterns are decoded paths)");
    }
    auto it = node->literals.find(segment);
    if (it == node->literals.end()) {
      it = node->literals.emplace(std::string(segment), std::make_unique<Node>()).first;
    }
    node = it->second.get();
  }

  if (node->methods.contains(method)) {
    // Same node means same shape: "/users/{id}" and "/users/{uid}" collide too.
    return AlreadyExistsError("route " + method + " " + pattern +
                              " duplicates a route already registered (" +
                              node->methods.find(method)->second.route->pattern + ")");
  }
  auto route = std::make_unique<Route>();
  route->method = method;
  route->pattern = std::move(pattern);
  route->handler = std::move(handler);
  route->options = std::move(options);
  if (route->options.name.empty()) route->options.name = route->pattern;
  node->methods.emplace(std::move(method), Node::Entry{route.get(), std::move(param_names)});
  routes_.push_back(std::move(route));
  return Status::Ok();
}

namespace {

// Depth-first over the trie, literal child before parameter child. Backtracking to the
// parameter only happens when the literal subtree has no route for the whole path, and each
// node is visited at most once, so a match costs O(segments) for any route table without
// literal/parameter overlap and never more than the size of the trie.
template <typename NodeT>
const NodeT* Find(const NodeT* node, const std::vector<std::string_view>& segments, size_t i,
                  std::vector<std::string_view>& captured) {
  if (i == segments.size()) return node->methods.empty() ? nullptr : node;
  const std::string_view segment = segments[i];
  if (auto it = node->literals.find(segment); it != node->literals.end()) {
    if (const NodeT* found = Find(it->second.get(), segments, i + 1, captured)) return found;
  }
  if (node->param && !segment.empty()) {
    captured.push_back(segment);
    if (const NodeT* found = Find(node->param.get(), segments, i + 1, captured)) return found;
    captured.pop_back();
  }
  return nullptr;
}

}  // namespace

MatchResult Router::Match(std::string_view method, std::string_view path) const {
  MatchResult result;
  if (path.empty() || path[0] != '/') return result;
  const std::vector<std::string_view> segments = SplitPath(path);
  std::vector<std::string_view> captured;
  const Node* node = Find(root_.get(), segments, 0, captured);
  if (node == nullptr) return result;

  auto it = node->methods.find(method);
  if (it == node->methods.end() && method == "HEAD") it = node->methods.find("GET");
  if (it == node->methods.end()) {
    result.kind = MatchResult::Kind::kMethodNotAllowed;
    std::vector<std::string_view> allowed;
    for (const auto& [name, entry] : node->methods) allowed.push_back(name);
    if (node->methods.contains("GET") && !node->methods.contains("HEAD")) {
      allowed.push_back("HEAD");
    }
    std::sort(allowed.begin(), allowed.end());
    for (std::string_view name : allowed) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += name;
    }
    return result;
  }

  result.kind = MatchResult::Kind::kFound;
  result.route = it->second.route;
  const std::vector<std::string>& names = it->second.param_names;
  result.params.reserve(names.size());
  for (size_t i = 0; i < names.size() && i < captured.size(); ++i) {
    result.params.emplace_back(names[i], std::string(captured[i]));
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> Router::List() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) out.emplace_back(route->method, route->pattern);
  return out;
}

std::vector<const Route*> Router::Routes() const {
  std::vector<const Route*> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) out.push_back(route.get());
  return out;
}

}  // namespace hasivu::http
