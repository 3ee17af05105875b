// Razorpay's signatures, shared by every gateway backend and by the domain:
// - checkout: lower-case hex HMAC-SHA256 over "<order id>|<payment id>" with the key secret;
// - webhook: lower-case hex HMAC-SHA256 of the raw request body with the webhook secret.
// Comparisons run in constant time (CRYPTO_memcmp) so a caller cannot learn a correct prefix.
//
// Thread-safety: pure functions.
#ifndef HASIVU_PAYMENTS_SIGNATURE_H_
#define HASIVU_PAYMENTS_SIGNATURE_H_

#include <string>
#include <string_view>

namespace hasivu::payments {

// Lower-case hex HMAC-SHA256 of `data` with `key` (64 characters).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// True iff a and b are equal; for equal lengths the time does not depend on where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

std::string CheckoutSignature(std::string_view key_secret, std::string_view order_id,
                              std::string_view payment_id);
bool VerifyCheckoutSignature(std::string_view key_secret, std::string_view order_id,
                             std::string_view payment_id, std::string_view signature);

std::string WebhookSignature(std::string_view webhook_secret, std::string_view raw_body);
bool VerifyWebhookSignature(std::string_view webhook_secret, std::string_view raw_body,
                            std::string_view signature);

}  // namespace hasivu::payments

#endif  // HASIVU_PAYMENTS_SIGNATURE_H_
