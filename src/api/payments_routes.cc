#include "api/payments_routes.h"

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>

#include "api/auth.h"
#include "api/body_reader.h"
#include "api/envelope.h"
#include "domain/payment_service.h"

namespace hasivu::api {

namespace json = boost::json;

namespace {

// PAYMENT_ORDER_EXPIRED is the one answer outside ErrorFromStatus's mapping: 410 Gone.
http::Response PaymentError(const http::Request& request, const Status& s) {
  if (s.reason() == "PAYMENT_ORDER_EXPIRED") {
    return Error(request, 410, "PAYMENT_ORDER_EXPIRED", s.message());
  }
  return ErrorFromStatus(request, s);
}

json::object PaymentOrderJson(const domain::PaymentOrderView& po) {
  return json::object{{"id", po.id},
                      {"gatewayOrderId", po.gateway_order_id},
                      {"orderId", po.order_id},
                      {"amount", po.amount_paise},
                      {"currency", po.currency},
                      {"status", po.status},
                      {"expiresAt", po.expires_at}};
}

}  // namespace

http::Response PaymentRoutes::CreateOrder(const http::Request& request) const {
  domain::Principal principal;
  if (auto denied = RequirePrincipal(authenticator_, request, &principal)) return *denied;
  ParsedBody parsed = ParseJsonObject(request);
  if (!parsed.ok) return parsed.error;
  std::vector<FieldIssue> issues;
  BodyReader read(issues);
  const std::string order_id = read.String(parsed.object, "orderId").value_or("");
  if (order_id.empty() && issues.empty()) issues.push_back({"orderId", "is required"});
  std::optional<int64_t> amount;
  if (const json::value* a = parsed.object.if_contains("amount"); a && !a->is_null()) {
    if (a->is_int64() && a->as_int64() >= 0) {
      amount = a->as_int64();
    } else if (a->is_uint64()) {
      amount = -1;  // beyond any order total: a mismatch, reported as such
    } else {
      issues.push_back({"amount", "must be a non-negative integer number of paise"});
    }
  }
  if (!issues.empty()) {
    return Error(request, 400, "VALIDATION_ERROR", "The payment order request is invalid", issues);
  }
  auto r = payments_.CreatePaymentOrder(principal, order_id, amount);
  if (!r.ok()) return PaymentError(request, r.status());
  json::object data{{"paymentOrder", PaymentOrderJson(r->payment_order)}, {"keyId", r->key_id}};
  // A new payment order is 201; the still-valid one returned again is 200.
  return Success(request, std::move(data), r->created ? 201 : 200);
}

http::Response PaymentRoutes::Verify(const http::Request& request) const {
  domain::Principal principal;
  if (auto denied = RequirePrincipal(authenticator_, request, &principal)) return *denied;
  ParsedBody parsed = ParseJsonObject(request);
  if (!parsed.ok) return parsed.error;
  std::vector<FieldIssue> issues;
  BodyReader read(issues);
  domain::VerifyPaymentInput in;
  in.razorpay_order_id = read.String(parsed.object, "razorpayOrderId").value_or("");
  in.razorpay_payment_id = read.String(parsed.object, "razorpayPaymentId").value_or("");
  in.razorpay_signature = read.String(parsed.object, "razorpaySignature").value_or("");
  if (!issues.empty()) {
    return Error(request, 400, "VALIDATION_ERROR", "The verification request is invalid", issues);
  }
  auto r = payments_.Verify(principal, in, request.request_id);
  if (!r.ok()) return PaymentError(request, r.status());
  json::object v{{"verified", true},
                 {"paymentId", r->payment_id},
                 {"orderId", r->order_id},
                 {"amount", r->amount_paise},
                 {"currency", r->currency},
                 {"status", r->status},
                 {"verifiedAt", r->verified_at}};
  return Success(request, json::object{{"verification", std::move(v)}});
}

http::Response PaymentRoutes::Webhook(const http::Request& request) const {
  // The signature covers the raw bytes, so the body is used exactly as received.
  auto r = payments_.HandleWebhook(request.body, request.headers.Get("X-Razorpay-Signature"),
                                   request.request_id);
  if (!r.ok()) return PaymentError(request, r.status());
  return Success(request,
                 json::object{{"received", true}, {"event", r->event}, {"result", r->result}});
}

http::Response PaymentRoutes::Simulate(const http::Request& request) const {
  domain::Principal principal;
  if (auto denied = RequirePrincipal(authenticator_, request, &principal)) return *denied;
  ParsedBody parsed = ParseJsonObject(request);
  if (!parsed.ok) return parsed.error;
  std::vector<FieldIssue> issues;
  BodyReader read(issues);
  const std::string order_id = read.String(parsed.object, "razorpayOrderId").value_or("");
  if (order_id.empty() && issues.empty()) {
    issues.push_back({"razorpayOrderId", "is required"});
  }
  std::string outcome = read.String(parsed.object, "outcome").value_or("");
  if (outcome.empty()) outcome = "success";
  if (outcome != "success" && outcome != "failure") {
    issues.push_back({"outcome", "must be success or failure"});
  }
  if (!issues.empty()) {
    return Error(request, 400, "VALIDATION_ERROR", "The simulation request is invalid", issues);
  }
  auto r = payments_.SimulateCheckout(principal, order_id, outcome == "success");
  if (!r.ok()) return PaymentError(request, r.status());
  return Success(request, json::object{{"razorpayOrderId", r->order_id},
                                       {"razorpayPaymentId", r->payment_id},
                                       {"razorpaySignature", r->signature}});
}

Status PaymentRoutes::Register(http::Router& router) const {
  RETURN_IF_ERROR(router.Add(
      "POST", "/api/v1/payments/orders", [this](http::Request& r) { return CreateOrder(r); },
      {.blocking = true, .name = "payments-create-order", .offload = settings_.remote_gateway}));
  RETURN_IF_ERROR(router.Add(
      "POST", "/api/v1/payments/verify", [this](http::Request& r) { return Verify(r); },
      {.blocking = true, .name = "payments-verify", .offload = settings_.remote_gateway}));
  RETURN_IF_ERROR(router.Add(
      "POST", "/api/v1/payments/webhook", [this](http::Request& r) { return Webhook(r); },
      {.blocking = true, .name = "payments-webhook", .offload = settings_.remote_gateway}));
  if (!settings_.simulator) return Status::Ok();
  return router.Add("POST", "/api/v1/payments/simulate",
                    [this](http::Request& r) { return Simulate(r); },
                    {.blocking = true, .name = "payments-simulate"});
}

}  // namespace hasivu::api
