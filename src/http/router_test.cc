#include "http/router.h"

#include <gtest/gtest.h>

namespace hasivu::http {
namespace {

Handler Returns(std::string body) {
  return [body](Request&) {
    Response response;
    response.body = body;
    return response;
  };
}

std::string Call(const MatchResult& match) {
  Request request;
  return match.route->handler(request).body;
}

TEST(RouterTest, LiteralBeatsParameterAtTheSameDepth) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/users/{id}", Returns("by-id")).ok());
  ASSERT_TRUE(router.Add("GET", "/users/me", Returns("me")).ok());

  MatchResult me = router.Match("GET", "/users/me");
  ASSERT_EQ(me.kind, MatchResult::Kind::kFound);
  EXPECT_EQ(Call(me), "me");
  EXPECT_TRUE(me.params.empty());

  MatchResult other = router.Match("GET", "/users/42");
  ASSERT_EQ(other.kind, MatchResult::Kind::kFound);
  EXPECT_EQ(Call(other), "by-id");
  ASSERT_EQ(other.params.size(), 1u);
  EXPECT_EQ(other.params[0].first, "id");
  EXPECT_EQ(other.params[0].second, "42");
}

TEST(RouterTest, ExtractsSeveralParametersInPatternOrder) {
  Router router;
  ASSERT_TRUE(router.Add("PATCH", "/schools/{school}/orders/{order}/status", Returns("x")).ok());
  MatchResult match = router.Match("PATCH", "/schools/s-1/orders/o 2/status");
  ASSERT_EQ(match.kind, MatchResult::Kind::kFound);
  ASSERT_EQ(match.params.size(), 2u);
  EXPECT_EQ(match.params[0], (std::pair<std::string, std::string>{"school", "s-1"}));
  EXPECT_EQ(match.params[1], (std::pair<std::string, std::string>{"order", "o 2"}));
  EXPECT_EQ(match.route->pattern, "/schools/{school}/orders/{order}/status");
  EXPECT_EQ(match.route->options.name, match.route->pattern);  // default name
}

TEST(RouterTest, FallsBackToParameterWhenTheLiteralBranchHasNoRoute) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/users/me/settings", Returns("settings")).ok());
  ASSERT_TRUE(router.Add("GET", "/users/{id}/orders", Returns("orders")).ok());
  MatchResult match = router.Match("GET", "/users/me/orders");
  ASSERT_EQ(match.kind, MatchResult::Kind::kFound);
  EXPECT_EQ(Call(match), "orders");
  EXPECT_EQ(match.params[0].second, "me");
  // The parameter capture of an abandoned branch does not leak into the result.
  MatchResult settings = router.Match("GET", "/users/me/settings");
  ASSERT_EQ(settings.kind, MatchResult::Kind::kFound);
  EXPECT_TRUE(settings.params.empty());
}

TEST(RouterTest, NotFoundVersusMethodNotAllowedWithAllow) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/orders", Returns("list")).ok());
  ASSERT_TRUE(router.Add("POST", "/orders", Returns("create")).ok());
  ASSERT_TRUE(router.Add("DELETE", "/orders/{id}", Returns("delete")).ok());

  EXPECT_EQ(router.Match("GET", "/nothing").kind, MatchResult::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "/orders/1/extra").kind, MatchResult::Kind::kNotFound);

  MatchResult put = router.Match("PUT", "/orders");
  ASSERT_EQ(put.kind, MatchResult::Kind::kMethodNotAllowed);
  EXPECT_EQ(put.allow, "GET, HEAD, POST");
  EXPECT_EQ(put.route, nullptr);

  MatchResult get = router.Match("GET", "/orders/7");
  ASSERT_EQ(get.kind, MatchResult::Kind::kMethodNotAllowed);
  EXPECT_EQ(get.allow, "DELETE");  // no GET, so no implied HEAD either
}

TEST(RouterTest, HeadIsAnsweredByGetUnlessRegistered) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/a", Returns("get-a")).ok());
  ASSERT_TRUE(router.Add("GET", "/b", Returns("get-b")).ok());
  ASSERT_TRUE(router.Add("HEAD", "/b", Returns("head-b")).ok());

  MatchResult a = router.Match("HEAD", "/a");
  ASSERT_EQ(a.kind, MatchResult::Kind::kFound);
  EXPECT_EQ(a.route->method, "GET");
  MatchResult b = router.Match("HEAD", "/b");
  ASSERT_EQ(b.kind, MatchResult::Kind::kFound);
  EXPECT_EQ(Call(b), "head-b");
  EXPECT_EQ(router.Match("POST", "/b").allow, "GET, HEAD");
}

TEST(RouterTest, RejectsDuplicates) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/users/{id}", Returns("x")).ok());
  EXPECT_EQ(router.Add("GET", "/users/{id}", Returns("y")).code(), StatusCode::kAlreadyExists);
  // Same shape with another parameter name is the same route.
  EXPECT_EQ(router.Add("GET", "/users/{uid}", Returns("y")).code(), StatusCode::kAlreadyExists);
  // Another method on the same shape is fine, even with another name.
  ASSERT_TRUE(router.Add("DELETE", "/users/{uid}", Returns("d")).ok());
  MatchResult del = router.Match("DELETE", "/users/9");
  ASSERT_EQ(del.kind, MatchResult::Kind::kFound);
  EXPECT_EQ(del.params[0].first, "uid");
  MatchResult get = router.Match("GET", "/users/9");
  EXPECT_EQ(get.params[0].first, "id");
  EXPECT_EQ(Call(get), "x");
}

TEST(RouterTest, RejectsMalformedPatterns) {
  Router router;
  for (const char* pattern :
       {"", "users", "/users/", "/a//b", "/{", "/{}", "/{id", "/id}", "/x{id}", "/{id}x", "/{1d}",
        "/{a-b}", "/{id}/{id}", "/a?b", "/a#b", "/a%20b"}) {
    EXPECT_EQ(router.Add("GET", pattern, Returns("x")).code(), StatusCode::kInvalidArgument)
        << pattern;
  }
  EXPECT_EQ(router.Add("get", "/a", Returns("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router.Add("", "/a", Returns("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router.Add("GET", "/a", Handler()).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(router.List().empty());
  EXPECT_TRUE(router.Add("GET", "/{_ok9}", Returns("x")).ok());
}

TEST(RouterTest, TrailingSlashIsSignificant) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/users", Returns("users")).ok());
  ASSERT_TRUE(router.Add("GET", "/users/{id}", Returns("user")).ok());
  EXPECT_EQ(router.Match("GET", "/users").kind, MatchResult::Kind::kFound);
  // "/users/" is not "/users", and a parameter never matches the empty segment.
  EXPECT_EQ(router.Match("GET", "/users/").kind, MatchResult::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "/users/5/").kind, MatchResult::Kind::kNotFound);
}

TEST(RouterTest, RootAndOddPaths) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/", Returns("root")).ok());
  ASSERT_TRUE(router.Add("GET", "/a/{x}/c", Returns("abc")).ok());
  EXPECT_EQ(Call(router.Match("GET", "/")), "root");
  EXPECT_EQ(router.Match("GET", "").kind, MatchResult::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "a/b/c").kind, MatchResult::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "//").kind, MatchResult::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "/a//c").kind, MatchResult::Kind::kNotFound);
  // Decoded odd bytes are just segment text.
  MatchResult odd = router.Match("GET", "/a/..%{} \xff/c");
  ASSERT_EQ(odd.kind, MatchResult::Kind::kFound);
  EXPECT_EQ(odd.params[0].second, "..%{} \xff");
  // Very deep paths are cheap and never match a shallow trie.
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "/a";
  EXPECT_EQ(router.Match("GET", deep).kind, MatchResult::Kind::kNotFound);
}

TEST(RouterTest, ListsRoutesInRegistrationOrder) {
  Router router;
  ASSERT_TRUE(router.Add("POST", "/b", Returns("x"), {.blocking = true, .name = "b-create"}).ok());
  ASSERT_TRUE(router.Add("GET", "/a", Returns("x")).ok());
  const auto list = router.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0], (std::pair<std::string, std::string>{"POST", "/b"}));
  EXPECT_EQ(list[1], (std::pair<std::string, std::string>{"GET", "/a"}));
  const auto routes = router.Routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0]->options.name, "b-create");
  EXPECT_TRUE(routes[0]->options.blocking);
}

}  // namespace
}  // namespace hasivu::http
