#include "payments/signature.h"

#include <gtest/gtest.h>

namespace hasivu::payments {
namespace {

TEST(SignatureTest, HmacSha256MatchesRfc4231TestCase2) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SignatureTest, CheckoutSignatureIsHmacOfOrderPipePayment) {
  const std::string sig = CheckoutSignature("secret", "order_ABCDEFGHIJKLMN", "pay_ABCDEFGHIJKLMN");
  EXPECT_EQ(sig, HmacSha256Hex("secret", "order_ABCDEFGHIJKLMN|pay_ABCDEFGHIJKLMN"));
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_EQ(sig.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(VerifyCheckoutSignature("secret", "order_ABCDEFGHIJKLMN", "pay_ABCDEFGHIJKLMN", sig));
}

TEST(SignatureTest, CheckoutSignatureRejectsEveryTampering) {
  const std::string sig = CheckoutSignature("secret", "order_A", "pay_B");
  EXPECT_FALSE(VerifyCheckoutSignature("other", "order_A", "pay_B", sig));
  EXPECT_FALSE(VerifyCheckoutSignature("secret", "order_X", "pay_B", sig));
  EXPECT_FALSE(VerifyCheckoutSignature("secret", "order_A", "pay_X", sig));
  std::string flipped = sig;
  flipped[63] = flipped[63] == '0' ? '1' : '0';
  EXPECT_FALSE(VerifyCheckoutSignature("secret", "order_A", "pay_B", flipped));
  EXPECT_FALSE(VerifyCheckoutSignature("secret", "order_A", "pay_B", sig.substr(0, 63)));
  EXPECT_FALSE(VerifyCheckoutSignature("secret", "order_A", "pay_B", ""));
  std::string upper = sig;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != sig) {
    EXPECT_FALSE(VerifyCheckoutSignature("secret", "order_A", "pay_B", upper));
  }
  // The separator matters: "a|b" and "a|" + "b" are the same, "ab" is not.
  EXPECT_NE(CheckoutSignature("s", "order_A", "pay_B"), HmacSha256Hex("s", "order_Apay_B"));
}

TEST(SignatureTest, ConstantTimeEqualsIsExactEquality) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "xbc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(SignatureTest, WebhookSignatureCoversTheRawBytes) {
  const std::string body = R"({"event":"payment.captured","payload":{}})";
  const std::string sig = WebhookSignature("whsec", body);
  EXPECT_EQ(sig, HmacSha256Hex("whsec", body));
  EXPECT_TRUE(VerifyWebhookSignature("whsec", body, sig));
  EXPECT_FALSE(VerifyWebhookSignature("whsec", body + " ", sig));  // same JSON, other bytes
  EXPECT_FALSE(VerifyWebhookSignature("other", body, sig));
}

}  // namespace
}  // namespace hasivu::payments
