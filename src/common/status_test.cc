#include "common/status.h"

#include <gtest/gtest.h>

namespace hasivu {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2) return InvalidArgumentError("odd");
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status Check(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  Status s = NotFoundError("user 42");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: user 42");
  EXPECT_EQ(s.WithContext("load").message(), "load: user 42");
  EXPECT_EQ(s.WithContext("load").code(), StatusCode::kNotFound);
}

TEST(StatusTest, MacrosPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Quarter(7).status().message(), "odd");
  EXPECT_TRUE(Check(4).ok());
  EXPECT_FALSE(Check(5).ok());
}

TEST(StatusTest, StatusOrFromOkStatusIsInternalError) {
  StatusOr<int> v(Status::Ok());
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace hasivu

namespace hasivu {
namespace {

TEST(StatusTest, ReasonAndDetailsTravelWithTheStatus) {
  Status s(StatusCode::kFailedPrecondition, "slot sold out", "SOLD_OUT");
  EXPECT_EQ(s.reason(), "SOLD_OUT");
  EXPECT_EQ(s.WithContext("create order").reason(), "SOLD_OUT");
  EXPECT_TRUE(s.details().empty());
  Status v = ValidationError("bad items", {{"items[0].quantity", "must be between 1 and 10"}});
  EXPECT_EQ(v.code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(v.details().size(), 1u);
  EXPECT_EQ(v.details()[0].field, "items[0].quantity");
  Status copy = v.WithContext("orders");
  EXPECT_EQ(copy.details(), v.details());
  EXPECT_FALSE(copy == v);  // message differs
  EXPECT_FALSE(Status(StatusCode::kNotFound, "x", "A") == Status(StatusCode::kNotFound, "x", "B"));
}

// Only messages written for clients are marked so: the api/ layer sends no other text.
TEST(StatusTest, OnlyMarkedMessagesAreForClients) {
  EXPECT_FALSE(
      AlreadyExistsError("sqlite: UNIQUE constraint failed: users.email").message_is_for_client());
  EXPECT_FALSE(InvalidArgumentError("postgres: invalid byte sequence").message_is_for_client());
  EXPECT_TRUE(AbortedError("The order changed; retry").ForClient().message_is_for_client());
  EXPECT_TRUE(
      Status(StatusCode::kAborted, "An item is sold out", "SOLD_OUT").message_is_for_client());
  EXPECT_TRUE(ValidationError("bad", {{"f", "is required"}}).message_is_for_client());
  // Context is operator text: the result is no longer the client's message.
  EXPECT_FALSE(ValidationError("bad", {}).WithContext("orders").message_is_for_client());
  EXPECT_FALSE(Status::Ok().ForClient().message_is_for_client());
  EXPECT_TRUE(AbortedError("x").ForClient().WithDetails({{"f", "i"}}).message_is_for_client());
}

}  // namespace
}  // namespace hasivu
