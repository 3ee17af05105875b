#include "domain/auth_validation.h"

#include <gtest/gtest.h>

#include <string>

#include "domain/auth_session_cache.h"

namespace hasivu::domain {
namespace {

TEST(AuthValidationTest, NormalizeEmailTrimsAndLowerCases) {
  EXPECT_EQ(NormalizeEmail("  Parent.One@Demo.HASIVU.test\t\n"), "parent.one@demo.hasivu.test");
  EXPECT_EQ(NormalizeEmail(""), "");
}

TEST(AuthValidationTest, EmailSyntax) {
  for (std::string_view ok : {"a@b.co", "first.last+tag@school-1.example.in", "o'brien@x.test"}) {
    EXPECT_EQ(EmailIssue(ok), "") << ok;
  }
  for (std::string_view bad :
       {"", "plain", "@x.test", "a@", "a@b", "a@@b.test", "a b@x.test", "a@x..test", "a@-x.test",
        "a@x-.test", ".a@x.test", "a.@x.test", "a..b@x.test", "a@x.test.", "a@x_y.test",
        "\"a\"@x.test", "a@x.test'; DROP TABLE users;--"}) {
    EXPECT_NE(EmailIssue(bad), "") << bad;
  }
  std::string long_local(65, 'a');
  EXPECT_NE(EmailIssue(long_local + "@x.test"), "");
  std::string long_email = "a@" + std::string(60, 'b') + "." + std::string(60, 'c') + "." +
                           std::string(60, 'd') + "." + std::string(60, 'e') + ".example.test";
  ASSERT_GT(long_email.size(), 254u);
  EXPECT_EQ(EmailIssue(long_email), "must be at most 254 characters");
}

TEST(AuthValidationTest, PasswordRules) {
  EXPECT_EQ(PasswordIssue("Str0ng!pw"), "");
  EXPECT_EQ(PasswordIssue("Ab1!Ab1!"), "");
  EXPECT_NE(PasswordIssue("Ab1!Ab1"), "");                       // 7 characters
  EXPECT_NE(PasswordIssue("alllower1!"), "");                    // no upper
  EXPECT_NE(PasswordIssue("ALLUPPER1!"), "");                    // no lower
  EXPECT_NE(PasswordIssue("NoDigits!!"), "");                    // no digit
  EXPECT_NE(PasswordIssue("NoSymbol12"), "");                    // no symbol
  EXPECT_NE(PasswordIssue("Ab1!" + std::string(125, 'x')), "");  // 129
  EXPECT_EQ(PasswordIssue("Ab1!" + std::string(124, 'x')), "");  // 128
  EXPECT_NE(PasswordIssue(std::string("Ab1!abcd\0", 9)), "");    // control character
}

TEST(AuthValidationTest, NamesAndPhones) {
  EXPECT_EQ(NameIssue("Ananya"), "");
  EXPECT_EQ(NameIssue("O'Brien; DROP TABLE users;--"), "");  // stored verbatim, not rejected
  EXPECT_EQ(NameIssue("  "), "is required");
  EXPECT_NE(NameIssue(std::string(101, 'x')), "");
  EXPECT_EQ(NameIssue(std::string(100, 'x')), "");
  EXPECT_NE(NameIssue("a\x01"), "");
  EXPECT_EQ(PhoneIssue("+91 98765-43210"), "");
  EXPECT_NE(PhoneIssue("12345"), "");
  EXPECT_NE(PhoneIssue("+91 (987) 654"), "");
  EXPECT_NE(PhoneIssue("--------"), "");
  EXPECT_NE(PhoneIssue(std::string(21, '1')), "");
}

TEST(AuthValidationTest, NewAccountIssuesNameEachBadFieldInOrder) {
  EXPECT_TRUE(NewAccountIssues("a@school.example", "Str0ng-Pass!", "Asha", "Rao").empty());
  const std::vector<FieldIssue> issues = NewAccountIssues("nope", "weak", "", "Rao");
  ASSERT_EQ(issues.size(), 3u);
  EXPECT_EQ(issues[0].field, "email");
  EXPECT_EQ(issues[1].field, "password");
  EXPECT_EQ(issues[2].field, "firstName");
  EXPECT_EQ(issues[0].issue, EmailIssue("nope"));
  EXPECT_EQ(NewAccountIssues("a@school.example", "Str0ng-Pass!", "Asha", "").at(0).field,
            "lastName");
}

TEST(SessionStateCacheTest, EntriesExpireAndRevocationWins) {
  SessionStateCache cache(std::chrono::milliseconds(5000), 4);
  const auto t0 = std::chrono::steady_clock::time_point(std::chrono::seconds(100));
  EXPECT_FALSE(cache.Get("f1", t0).has_value());
  cache.Put("f1", true, t0);
  EXPECT_EQ(cache.Get("f1", t0 + std::chrono::seconds(4)), true);
  EXPECT_FALSE(cache.Get("f1", t0 + std::chrono::seconds(5)).has_value());
  cache.MarkRevoked("f1", t0 + std::chrono::seconds(1));
  EXPECT_EQ(cache.Get("f1", t0 + std::chrono::seconds(2)), false);
  for (int i = 0; i < 1000; ++i) cache.Put("k" + std::to_string(i), true, t0);
  EXPECT_LE(cache.SizeForTest(), 16u * 4u);
}

}  // namespace
}  // namespace hasivu::domain
