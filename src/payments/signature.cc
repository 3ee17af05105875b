#include "payments/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace hasivu::payments {

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  // HMAC() with an empty key still needs a non-null pointer.
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &mac_len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(mac_len * 2, '0');
  for (unsigned int i = 0; i < mac_len; ++i) {
    out[2 * i] = kHex[mac[i] >> 4];
    out[2 * i + 1] = kHex[mac[i] & 0xF];
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Length is not secret (every valid signature has 64 characters).
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string CheckoutSignature(std::string_view key_secret, std::string_view order_id,
                              std::string_view payment_id) {
  std::string message;
  message.reserve(order_id.size() + 1 + payment_id.size());
  message.append(order_id).append("|").append(payment_id);
  return HmacSha256Hex(key_secret, message);
}

bool VerifyCheckoutSignature(std::string_view key_secret, std::string_view order_id,
                             std::string_view payment_id, std::string_view signature) {
  return ConstantTimeEquals(CheckoutSignature(key_secret, order_id, payment_id), signature);
}

std::string WebhookSignature(std::string_view webhook_secret, std::string_view raw_body) {
  return HmacSha256Hex(webhook_secret, raw_body);
}

bool VerifyWebhookSignature(std::string_view webhook_secret, std::string_view raw_body,
                            std::string_view signature) {
  return ConstantTimeEquals(WebhookSignature(webhook_secret, raw_body), signature);
}

}  // namespace hasivu::payments
