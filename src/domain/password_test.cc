#include "domain/password.h"

#include <crypt.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <memory>
#include <string>

namespace hasivu::domain {
namespace {

PasswordSettings Light() { return LightPasswordSettings(); }

// A real bcrypt hash as the original platform stored them (bcryptjs wrote "$2a$"/"$2b$").
std::string BcryptHash(const std::string& password, const char* prefix) {
  auto data = std::make_unique<crypt_data>();
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  const char* setting = crypt_gensalt_rn(prefix, 10, nullptr, 0, salt, sizeof salt);
  EXPECT_NE(setting, nullptr);
  const char* out = crypt_rn(password.c_str(), setting, data.get(), sizeof(crypt_data));
  EXPECT_NE(out, nullptr);
  return out == nullptr ? std::string() : std::string(out);
}

TEST(PasswordTest, HashIsArgon2idPhcStringAndRoundTrips) {
  PasswordHasher hasher(Light());
  auto hash = hasher.Hash("Correct-horse-9");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0u) << *hash;
  const VerifyResult r = hasher.Verify("Correct-horse-9", *hash);
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.needs_rehash);
}

TEST(PasswordTest, DefaultSettingsProduceInteractiveParameters) {
  PasswordHasher hasher;
  auto hash = hasher.Hash("Abcdef1!");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << *hash;
  EXPECT_TRUE(hasher.Verify("Abcdef1!", *hash).ok);
}

TEST(PasswordTest, SaltsDiffer) {
  PasswordHasher hasher(Light());
  auto a = hasher.Hash("same");
  auto b = hasher.Hash("same");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(PasswordTest, WrongPasswordFails) {
  PasswordHasher hasher(Light());
  auto hash = hasher.Hash("Correct-horse-9");
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(hasher.Verify("correct-horse-9", *hash).ok);
  EXPECT_FALSE(hasher.Verify("", *hash).ok);
  EXPECT_FALSE(hasher.Verify(std::string("Correct-horse-9\0", 16), *hash).ok);
}

TEST(PasswordTest, NeedsRehashWhenParametersChange) {
  PasswordHasher light(Light());
  auto hash = light.Hash("pw-Aa1!");
  ASSERT_TRUE(hash.ok());
  PasswordHasher stronger({.opslimit = 2, .memlimit = 16 * 1024});
  const VerifyResult r = stronger.Verify("pw-Aa1!", *hash);
  EXPECT_TRUE(r.ok);  // any argon2id parameters are accepted
  EXPECT_TRUE(r.needs_rehash);
  auto fresh = stronger.Hash("pw-Aa1!");
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(stronger.Verify("pw-Aa1!", *fresh).needs_rehash);
}

TEST(PasswordTest, LegacyBcryptVerifiesAndNeedsRehash) {
  PasswordHasher hasher(Light());
  for (const char* prefix : {"$2b$", "$2a$", "$2y$"}) {
    const std::string hash = BcryptHash("Legacy-Pass1", prefix);
    ASSERT_EQ(hash.rfind(prefix, 0), 0u) << hash;
    ASSERT_EQ(hash.size(), 60u);
    const VerifyResult ok = hasher.Verify("Legacy-Pass1", hash);
    EXPECT_TRUE(ok.ok) << prefix;
    EXPECT_TRUE(ok.needs_rehash) << prefix;
    const VerifyResult bad = hasher.Verify("Legacy-Pass2", hash);
    EXPECT_FALSE(bad.ok) << prefix;
    EXPECT_FALSE(bad.needs_rehash) << prefix;
    // A tampered last character must fail.
    std::string tampered = hash;
    tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
    EXPECT_FALSE(hasher.Verify("Legacy-Pass1", tampered).ok) << prefix;
  }
}

TEST(PasswordTest, GarbageHashesAreRejected) {
  PasswordHasher hasher(Light());
  const std::string long_garbage(1000, '$');
  const std::string long_argon = "$argon2id$" + std::string(500, 'x');
  const std::string long_bcrypt = "$2b$10$" + std::string(5000, 'a');
  for (std::string_view h :
       {std::string_view(""), std::string_view("$"), std::string_view("plain-text-password"),
        std::string_view("$argon2id$"), std::string_view("$argon2id$v=19$m=8,t=1,p=1$"),
        std::string_view("$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA"), std::string_view("$2b$"),
        std::string_view("$2b$10$"), std::string_view("$2b$99$abc"),
        std::string_view("$2x$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyzABCD"),
        std::string_view("$1$abc$def"), std::string_view("*0"), std::string_view(long_garbage),
        std::string_view(long_argon), std::string_view(long_bcrypt)}) {
    const VerifyResult r = hasher.Verify("anything", h);
    EXPECT_FALSE(r.ok) << h.substr(0, 60);
    EXPECT_FALSE(r.needs_rehash) << h.substr(0, 60);
  }
}

TEST(PasswordTest, HashWithNulInsideIsNotTruncated) {
  PasswordHasher hasher(Light());
  auto hash = hasher.Hash("abc");
  ASSERT_TRUE(hash.ok());
  std::string with_nul = *hash + std::string("\0junk", 5);
  EXPECT_FALSE(hasher.Verify("abc", with_nul).ok);
}

TEST(PasswordTest, LongPasswordsWork) {
  PasswordHasher hasher(Light());
  const std::string pw(128, 'Z');
  auto hash = hasher.Hash(pw);
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hasher.Verify(pw, *hash).ok);
  EXPECT_FALSE(hasher.Verify(pw.substr(0, 127), *hash).ok);
  // bcrypt only reads the first 72 bytes; still must verify the full password.
  const std::string bhash = BcryptHash(pw, "$2b$");
  EXPECT_TRUE(hasher.Verify(pw, bhash).ok);
}

TEST(PasswordTest, InvalidSettingsAreRefused) {
  EXPECT_FALSE(PasswordHasher::ValidateSettings({.opslimit = 0, .memlimit = 8192}).ok());
  EXPECT_FALSE(PasswordHasher::ValidateSettings({.opslimit = 1, .memlimit = 1024}).ok());
  EXPECT_TRUE(PasswordHasher::ValidateSettings(Light()).ok());
  PasswordHasher bad({.opslimit = 0, .memlimit = 8192});
  auto hash = bad.Hash("x");
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.status().code(), StatusCode::kInvalidArgument);
}

TEST(PasswordTest, DummyVerifyDoesNotCrashAndIsRepeatable) {
  PasswordHasher hasher(Light());
  hasher.DummyVerify("whatever");
  hasher.DummyVerify("");
  SUCCEED();
}

}  // namespace
}  // namespace hasivu::domain

namespace hasivu::domain {
namespace {

// The unknown-user path must cost what a real verify costs: its reference hash carries the
// configured parameters, not the light ones seeded accounts use.
TEST(PasswordTest, DummyVerifyUsesTheConfiguredParameters) {
  const PasswordSettings configured{.opslimit = 3, .memlimit = size_t{1} << 20};
  PasswordHasher hasher(configured);
  EXPECT_EQ(hasher.DummyHashForTest(), "");
  hasher.DummyVerify("anything");
  std::optional<PasswordSettings> dummy =
      PasswordHasher::Argon2idParameters(hasher.DummyHashForTest());
  ASSERT_TRUE(dummy.has_value()) << hasher.DummyHashForTest();
  EXPECT_EQ(dummy->opslimit, configured.opslimit);
  EXPECT_EQ(dummy->memlimit, configured.memlimit);
  // The same parameters as a hash stored for a user under these settings.
  std::optional<PasswordSettings> stored =
      PasswordHasher::Argon2idParameters(*hasher.Hash("Str0ng!pass"));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->opslimit, dummy->opslimit);
  EXPECT_EQ(stored->memlimit, dummy->memlimit);
  EXPECT_NE(dummy->memlimit, LightPasswordSettings().memlimit);
}

TEST(PasswordTest, Argon2idParametersParsesOnlyArgon2idPhcStrings) {
  auto p = PasswordHasher::Argon2idParameters("$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->opslimit, 2u);
  EXPECT_EQ(p->memlimit, size_t{64} << 20);
  EXPECT_FALSE(PasswordHasher::Argon2idParameters("$2b$10$abcdefghijklmnopqrstuv").has_value());
  EXPECT_FALSE(PasswordHasher::Argon2idParameters("$argon2id$v=19$m=,t=2,p=1$x$y").has_value());
  EXPECT_FALSE(PasswordHasher::Argon2idParameters("$argon2id$v=19$m=8,t=2").has_value());
  EXPECT_FALSE(PasswordHasher::Argon2idParameters("").has_value());
}

}  // namespace
}  // namespace hasivu::domain
