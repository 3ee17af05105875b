#include "domain/password.h"

#include <crypt.h>
#include <sodium.h>

#include <mutex>

namespace hasivu::domain {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool IsBcrypt(std::string_view h) {
  return StartsWith(h, "$2a$") || StartsWith(h, "$2b$") || StartsWith(h, "$2y$");
}

VerifyResult VerifyArgon2id(std::string_view password, std::string_view stored,
                            const PasswordSettings& current) {
  // libsodium reads a NUL-terminated string of at most crypto_pwhash_STRBYTES bytes.
  if (stored.size() >= crypto_pwhash_STRBYTES) return {};
  if (stored.find('\0') != std::string_view::npos) return {};
  char buf[crypto_pwhash_STRBYTES] = {};
  stored.copy(buf, stored.size());
  if (crypto_pwhash_str_verify(buf, password.data(), password.size()) != 0) return {};
  const int rehash = crypto_pwhash_str_needs_rehash(buf, current.opslimit, current.memlimit);
  return {.ok = true, .needs_rehash = rehash != 0};
}

VerifyResult VerifyBcrypt(std::string_view password, std::string_view stored) {
  // crypt() takes C strings: an embedded NUL would silently shorten the password.
  if (password.find('\0') != std::string_view::npos) return {};
  if (stored.size() >= CRYPT_OUTPUT_SIZE) return {};
  if (stored.find('\0') != std::string_view::npos) return {};
  const std::string phrase(password);
  const std::string setting(stored);
  // struct crypt_data is ~32 KiB: keep it off the stack; value-initialised as crypt_rn requires.
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  bool ok = false;
  // Failure tokens start with '*'; the length of a bcrypt hash is public, only its bytes are not.
  if (out != nullptr && out[0] != '*' && std::string_view(out).size() == stored.size()) {
    ok = sodium_memcmp(out, stored.data(), stored.size()) == 0;
  }
  sodium_memzero(data.get(), sizeof(crypt_data));
  return {.ok = ok, .needs_rehash = ok};
}

}  // namespace

PasswordSettings LightPasswordSettings() {
  return {.opslimit = crypto_pwhash_argon2id_OPSLIMIT_MIN,
          .memlimit = crypto_pwhash_argon2id_MEMLIMIT_MIN};
}

struct PasswordHasher::DummyState {
  std::once_flag once;
  std::string hash;
};

PasswordHasher::PasswordHasher(PasswordSettings settings)
    : settings_(settings), dummy_(std::make_unique<DummyState>()) {
  // sodium_init() is idempotent and thread-safe; its failure is reported by every Hash().
  sodium_ok_ = sodium_init() >= 0;
}

PasswordHasher::~PasswordHasher() = default;

Status PasswordHasher::ValidateSettings(const PasswordSettings& s) {
  if (s.opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      s.opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX) {
    return InvalidArgumentError("password opslimit out of range");
  }
  if (s.memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      s.memlimit > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return InvalidArgumentError("password memlimit out of range");
  }
  return Status::Ok();
}

StatusOr<std::string> PasswordHasher::Hash(std::string_view password) const {
  if (!sodium_ok_) return InternalError("libsodium failed to initialise");
  RETURN_IF_ERROR(ValidateSettings(settings_));
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), settings_.opslimit,
                            settings_.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return ResourceExhaustedError("argon2id: out of memory");
  }
  return std::string(out);
}

VerifyResult PasswordHasher::Verify(std::string_view password, std::string_view stored_hash) const {
  if (StartsWith(stored_hash, "$argon2id$")) {
    return VerifyArgon2id(password, stored_hash, settings_);
  }
  if (IsBcrypt(stored_hash)) return VerifyBcrypt(password, stored_hash);
  return {};
}

void PasswordHasher::DummyVerify(std::string_view password) const {
  std::call_once(dummy_->once, [this] {
    unsigned char secret[16];
    randombytes_buf(secret, sizeof secret);
    auto h = Hash(std::string_view(reinterpret_cast<const char*>(secret), sizeof secret));
    dummy_->hash = h.ok() ? *h : std::string();
  });
  (void)Verify(password, dummy_->hash);
}

std::optional<PasswordSettings> PasswordHasher::Argon2idParameters(std::string_view phc) {
  constexpr std::string_view kPrefix = "$argon2id$v=19$";
  if (!StartsWith(phc, kPrefix)) return std::nullopt;
  std::string_view rest = phc.substr(kPrefix.size());
  // "m=<KiB>,t=<passes>,p=<lanes>$..."
  auto number = [&rest](std::string_view key) -> std::optional<uint64_t> {
    if (!StartsWith(rest, key)) return std::nullopt;
    rest.remove_prefix(key.size());
    uint64_t n = 0;
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9' && digits < 12) {
      n = n * 10 + static_cast<uint64_t>(rest[digits] - '0');
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    rest.remove_prefix(digits);
    return n;
  };
  std::optional<uint64_t> m = number("m=");
  if (!m || !StartsWith(rest, ",")) return std::nullopt;
  rest.remove_prefix(1);
  std::optional<uint64_t> t = number("t=");
  if (!t || !StartsWith(rest, ",")) return std::nullopt;
  rest.remove_prefix(1);
  if (!number("p=") || !StartsWith(rest, "$")) return std::nullopt;
  return PasswordSettings{.opslimit = *t, .memlimit = static_cast<size_t>(*m) * 1024};
}

std::string PasswordHasher::DummyHashForTest() const {
  // Set once inside call_once, before any DummyVerify() returns.
  return dummy_->hash;
}

}  // namespace hasivu::domain
