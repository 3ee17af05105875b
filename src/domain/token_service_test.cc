#include "domain/token_service.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/ids.h"

namespace hasivu::domain {
namespace {

using std::chrono::seconds;

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";
constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";

class TokenServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto().ok()); }

  Principal Someone() const {
    return Principal{"0190f5a0-0000-7000-8000-00000000a001", Role::kSchoolAdmin,
                     "0190f5a0-0000-7000-8000-00000000c001",
                     "0190f5a0-0000-7000-8000-00000000f001"};
  }
  // A payload like Issue() writes, with overrides.
  std::string Payload(int64_t iat, int64_t exp, std::string iss = "hasivu",
                      std::string aud = "hasivu-api") const {
    boost::json::object o{{"sub", Someone().user_id},
                          {"role", "parent"},
                          {"school", ""},
                          {"sid", Someone().session_id},
                          {"iat", iat},
                          {"exp", exp},
                          {"iss", iss},
                          {"aud", aud}};
    return boost::json::serialize(o);
  }
  int64_t Now() const {
    return std::chrono::duration_cast<seconds>(clock_.Now().time_since_epoch()).count();
  }

  FixedClock clock_{std::chrono::system_clock::time_point(seconds(1'800'000'000))};
  TokenService service_{TokenSettings{kSecret, "hasivu", "hasivu-api", seconds(900)}, &clock_};
};

TEST_F(TokenServiceTest, IssuedTokenVerifiesWithItsClaims) {
  auto token = service_.Issue(Someone());
  ASSERT_TRUE(token.ok());
  auto claims = service_.Verify(*token);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->principal.user_id, Someone().user_id);
  EXPECT_EQ(claims->principal.role, Role::kSchoolAdmin);
  EXPECT_EQ(claims->principal.school_id, Someone().school_id);
  EXPECT_EQ(claims->principal.session_id, Someone().session_id);
  EXPECT_EQ(claims->issued_at, Now());
  EXPECT_EQ(claims->expires_at, Now() + 900);
  // The header is exactly the pinned one.
  EXPECT_EQ(token->substr(0, token->find('.')), Base64UrlEncode(kHeader));
}

TEST_F(TokenServiceTest, ExpiredTokenSaysTokenExpired) {
  auto token = service_.Issue(Someone());
  ASSERT_TRUE(token.ok());
  clock_.Advance(seconds(899));
  EXPECT_TRUE(service_.Verify(*token).ok());
  clock_.Advance(seconds(1));
  auto claims = service_.Verify(*token);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(claims.status().reason(), "TOKEN_EXPIRED");
}

TEST_F(TokenServiceTest, WrongIssuerOrAudienceIsRefused) {
  for (const auto& [iss, aud] : std::vector<std::pair<std::string, std::string>>{
           {"other", "hasivu-api"}, {"hasivu", "other-api"}, {"", ""}}) {
    std::string token =
        TokenService::SignRawForTest(kHeader, Payload(Now(), Now() + 60, iss, aud), kSecret);
    auto claims = service_.Verify(token);
    ASSERT_FALSE(claims.ok()) << iss << " " << aud;
    EXPECT_EQ(claims.status().code(), StatusCode::kUnauthenticated);
    EXPECT_TRUE(claims.status().reason().empty());
  }
  // A correctly crafted payload does verify (the helper itself is sound).
  EXPECT_TRUE(
      service_.Verify(TokenService::SignRawForTest(kHeader, Payload(Now(), Now() + 60), kSecret))
          .ok());
}

TEST_F(TokenServiceTest, AlgNoneIsRefused) {
  const std::string unsigned_token = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." +
                                     Base64UrlEncode(Payload(Now(), Now() + 60)) + ".";
  EXPECT_EQ(service_.Verify(unsigned_token).status().code(), StatusCode::kUnauthenticated);
  // Even with a valid HMAC over it, "none" is not an algorithm we accept.
  std::string signed_none = TokenService::SignRawForTest(R"({"alg":"none","typ":"JWT"})",
                                                         Payload(Now(), Now() + 60), kSecret);
  EXPECT_FALSE(service_.Verify(signed_none).ok());
  std::string upper_none =
      TokenService::SignRawForTest(R"({"alg":"NONE"})", Payload(Now(), Now() + 60), kSecret);
  EXPECT_FALSE(service_.Verify(upper_none).ok());
}

TEST_F(TokenServiceTest, OtherAlgorithmsInTheHeaderAreRefused) {
  for (std::string_view header :
       {R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"RS256","typ":"JWT"})",
        R"({"alg":"hs256","typ":"JWT"})", R"({"typ":"JWT"})", R"({"alg":["HS256"]})",
        R"({"alg":"HS256","typ":"JWT","kid":"../../etc/passwd"})",
        R"({"alg":"HS256","typ":"JWT","crit":["exp"]})", R"({"alg":"HS256","typ":"JWS"})",
        R"(["HS256"])", "not json"}) {
    std::string token = TokenService::SignRawForTest(header, Payload(Now(), Now() + 60), kSecret);
    EXPECT_FALSE(service_.Verify(token).ok()) << header;
  }
  // alg alone (typ is optional) is fine.
  EXPECT_TRUE(service_
                  .Verify(TokenService::SignRawForTest(R"({"alg":"HS256"})",
                                                       Payload(Now(), Now() + 60), kSecret))
                  .ok());
}

TEST_F(TokenServiceTest, ResignedWithAnotherSecretIsRefused) {
  std::string token = TokenService::SignRawForTest(kHeader, Payload(Now(), Now() + 60),
                                                   "another-secret-of-at-least-32-bytes!!");
  auto claims = service_.Verify(token);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(TokenServiceTest, TamperedPayloadWithTheOldSignatureIsRefused) {
  auto token = service_.Issue(Someone());
  ASSERT_TRUE(token.ok());
  const size_t dot1 = token->find('.');
  const size_t dot2 = token->rfind('.');
  boost::json::object payload =
      boost::json::parse(*Base64UrlDecode(token->substr(dot1 + 1, dot2 - dot1 - 1))).as_object();
  payload["role"] = "admin";
  std::string forged = token->substr(0, dot1) + "." +
                       Base64UrlEncode(boost::json::serialize(payload)) + token->substr(dot2);
  EXPECT_FALSE(service_.Verify(forged).ok());
  // Flipping one signature character is refused too.
  std::string flipped = *token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(service_.Verify(flipped).ok());
}

TEST_F(TokenServiceTest, GarbageAndNonCanonicalTokensAreRefused) {
  auto token = service_.Issue(Someone());
  ASSERT_TRUE(token.ok());
  for (const std::string& bad :
       {std::string(), std::string("."), std::string(".."), std::string("a.b.c"),
        std::string("a.b"), *token + ".", *token + ".extra", "." + *token, *token + "=",
        token->substr(0, token->rfind('.') + 1), std::string("\0\0\0", 3),
        std::string("eyJ!!!.eyJ.sig"), std::string(300, '.'), "Bearer " + *token}) {
    auto claims = service_.Verify(bad);
    EXPECT_FALSE(claims.ok()) << bad;
    if (!claims.ok()) {
      EXPECT_EQ(claims.status().code(), StatusCode::kUnauthenticated);
    }
  }
  // Padding on a segment makes a different, refused token.
  std::string padded = token->substr(0, token->find('.')) + "=" + token->substr(token->find('.'));
  EXPECT_FALSE(service_.Verify(padded).ok());
}

TEST_F(TokenServiceTest, HugeTokenIsRefusedBeforeParsing) {
  std::string huge = std::string(kMaxTokenBytes, 'a') + ".b.c";
  auto claims = service_.Verify(huge);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().code(), StatusCode::kUnauthenticated);
  std::string big_payload(1 << 20, 'x');
  EXPECT_FALSE(service_.Verify(TokenService::SignRawForTest(kHeader, big_payload, kSecret)).ok());
}

TEST_F(TokenServiceTest, MissingOrMistypedClaimsAreRefused) {
  for (
      std::string_view payload :
      {R"({})",
       R"({"sub":"u","role":"parent","sid":"s","iat":1,"iss":"hasivu","aud":"hasivu-api"})",
       R"({"sub":"u","role":"root","sid":"s","iat":1,"exp":99999999999,"iss":"hasivu","aud":"hasivu-api"})",
       R"({"sub":"u","role":"parent","sid":"s","iat":1,"exp":"99999999999","iss":"hasivu","aud":"hasivu-api"})",
       R"({"sub":"","role":"parent","sid":"s","iat":1,"exp":99999999999,"iss":"hasivu","aud":"hasivu-api"})",
       R"({"sub":"u","role":"parent","sid":"s","iat":1,"exp":99999999999,"iss":"hasivu","aud":["hasivu-api"]})"}) {
    std::string token = TokenService::SignRawForTest(kHeader, payload, kSecret);
    EXPECT_FALSE(service_.Verify(token).ok()) << payload;
  }
  // Issued an hour in the future: refused.
  EXPECT_FALSE(service_
                   .Verify(TokenService::SignRawForTest(
                       kHeader, Payload(Now() + 3600, Now() + 7200), kSecret))
                   .ok());
}

TEST(Base64UrlTest, RoundTripsAndRejectsOtherAlphabets) {
  ASSERT_TRUE(InitCrypto().ok());
  for (std::string_view s : {"", "f", "fo", "foo", "foob", "\xff\xfe\xfd"}) {
    auto back = Base64UrlDecode(Base64UrlEncode(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64UrlDecode("+/8").ok());   // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm8=").ok());  // padding
  EXPECT_FALSE(Base64UrlDecode("Zm9=").ok());
  EXPECT_FALSE(Base64UrlDecode("Zh").ok());  // non-zero trailing bits ("Zg" is canonical)
}

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(TokenServiceTest, ARememberedTokenStillExpiresOnTime) {
  auto token = service_.Issue(Someone());
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(service_.Verify(*token).ok());  // verified once: remembered on this thread
  ASSERT_TRUE(service_.Verify(*token).ok());
  clock_.Advance(seconds(900));
  auto expired = service_.Verify(*token);
  EXPECT_EQ(expired.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(expired.status().reason(), "TOKEN_EXPIRED");
}

TEST_F(TokenServiceTest, ATokenRememberedByOneServiceIsNotTrustedByAnother) {
  auto token = service_.Issue(Someone());
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(service_.Verify(*token).ok());
  // Same thread, another key: the token must be checked afresh, and fail.
  TokenService other(TokenSettings{kSecret + "-other", "hasivu", "hasivu-api", seconds(900)},
                     &clock_);
  EXPECT_EQ(other.Verify(*token).status().code(), StatusCode::kUnauthenticated);
  // And back: the first service still accepts it.
  EXPECT_TRUE(service_.Verify(*token).ok());
}

}  // namespace
}  // namespace hasivu::domain
