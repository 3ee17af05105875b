#include "api/auth.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace hasivu::api {
namespace {

http::Request WithAuthorization(std::string value) {
  http::Request r;
  r.headers.Add("Authorization", std::move(value));
  return r;
}

std::optional<std::string> TokenOf(std::string value) {
  const http::Request r = WithAuthorization(std::move(value));
  const std::optional<std::string_view> token = BearerToken(r);
  if (!token) return std::nullopt;
  return std::string(*token);
}

TEST(BearerTokenTest, TheTokenAfterTheSchemeWhateverTheSchemesCase) {
  EXPECT_EQ(TokenOf("Bearer abc.def-ghi_jkl"), "abc.def-ghi_jkl");
  EXPECT_EQ(TokenOf("bearer x"), "x");
  EXPECT_EQ(TokenOf("BEARER x"), "x");
  const std::string long_token(400, 'a');
  EXPECT_EQ(TokenOf("Bearer " + long_token), long_token);
}

TEST(BearerTokenTest, MalformedHeadersCarryNoToken) {
  EXPECT_EQ(BearerToken(http::Request{}), std::nullopt);
  EXPECT_EQ(TokenOf(""), std::nullopt);
  EXPECT_EQ(TokenOf("Bearer"), std::nullopt);
  EXPECT_EQ(TokenOf("Bearer "), std::nullopt);
  EXPECT_EQ(TokenOf("Basic abcdef"), std::nullopt);
  EXPECT_EQ(TokenOf("Bearerxabcdef"), std::nullopt);
  EXPECT_EQ(TokenOf("Bearer  abc"), std::nullopt);  // two spaces
  EXPECT_EQ(TokenOf("Bearer abc def"), std::nullopt);
  EXPECT_EQ(TokenOf("Bearer abc\tdef"), std::nullopt);
  EXPECT_EQ(TokenOf("Bearer abc\t"), std::nullopt);
  EXPECT_EQ(TokenOf("Bearer\tabc"), std::nullopt);
}

TEST(ConfiguredTokenTest, MatchesOnlyItsOwnTokenAndNothingWhenUnset) {
  const ConfiguredToken token("s3cret-token");
  EXPECT_TRUE(token.configured());
  EXPECT_TRUE(token.Matches(WithAuthorization("Bearer s3cret-token")));
  EXPECT_FALSE(token.Matches(WithAuthorization("Bearer s3cret-tokem")));
  EXPECT_FALSE(token.Matches(WithAuthorization("Bearer s3cret-token2")));
  EXPECT_FALSE(token.Matches(WithAuthorization("Bearer s3cret")));
  EXPECT_FALSE(token.Matches(http::Request{}));

  const ConfiguredToken unset("");
  EXPECT_FALSE(unset.configured());
  EXPECT_FALSE(unset.Matches(WithAuthorization("Bearer x")));
}

}  // namespace
}  // namespace hasivu::api
