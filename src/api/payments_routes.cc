// Payment routes (api.md payments-create-order, payments-verify; supporting payments-simulate and
// payments-webhook): JSON in and out; the rules live in domain::PaymentService.
#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>

#include "api/auth.h"
#include "api/body_reader.h"
#include "api/envelope.h"
#include "api/routes.h"
#include "domain/payment_service.h"
#include "payments/gateway.h"

namespace hasivu::api {

namespace json = boost::json;

namespace {

payments::GatewaySettings GatewaySettingsOf(const domain::PaymentSettings& s) {
  payments::GatewaySettings g;
  g.kind = s.gateway == domain::GatewayKind::kRazorpay ? payments::GatewayKind::kRazorpay
                                                       : payments::GatewayKind::kSimulated;
  g.key_id = s.key_id;
  g.key_secret = s.key_secret;
  g.webhook_secret = s.webhook_secret;
  g.base_url = s.razorpay_base_url;
  g.timeout = s.gateway_timeout;
  g.connect_timeout = std::min(s.gateway_timeout, std::chrono::milliseconds(2000));
  g.retries = s.gateway_retries;
  return g;
}

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

Status RegisterPaymentRoutes(http::Router& router, ApiContext& ctx) {
  // A call to Razorpay can take seconds: keep it off the I/O threads even on SQLite.
  const bool remote_gateway = ctx.settings.payments.gateway == domain::GatewayKind::kRazorpay;
  ASSIGN_OR_RETURN(std::shared_ptr<payments::Gateway> gateway,
                   payments::NewGateway(GatewaySettingsOf(ctx.settings.payments)));
  // Called once per committed payment change of an order: drop what the cache shows of it.
  auto service = std::make_shared<domain::PaymentService>(
      ctx.db, ctx.clock, gateway.get(), ctx.settings.payments,
      [read_cache = ctx.read_cache](const std::string& order_id) {
        if (read_cache != nullptr) read_cache->OrderChanged(order_id);
      });
  ctx.payment_service = service;
  const ApiContext* c = &ctx;

  RETURN_IF_ERROR(router.Add(
      "POST", "/api/v1/payments/orders",
      [c, service, gateway](http::Request& request) -> http::Response {
        domain::Principal principal;
        if (auto denied = RequirePrincipal(*c, request, &principal)) return *denied;
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
          return Error(request, 400, "VALIDATION_ERROR", "The payment order request is invalid",
                       issues);
        }
        auto r = service->CreatePaymentOrder(principal, order_id, amount);
        if (!r.ok()) return PaymentError(request, r.status());
        json::object data{{"paymentOrder", PaymentOrderJson(r->payment_order)},
                          {"keyId", r->key_id}};
        // A new payment order is 201; the still-valid one returned again is 200.
        return Success(request, std::move(data), r->created ? 201 : 200);
      },
      {.blocking = true, .name = "payments-create-order", .offload = remote_gateway}));

  RETURN_IF_ERROR(router.Add(
      "POST", "/api/v1/payments/verify",
      [c, service, gateway](http::Request& request) -> http::Response {
        domain::Principal principal;
        if (auto denied = RequirePrincipal(*c, request, &principal)) return *denied;
        ParsedBody parsed = ParseJsonObject(request);
        if (!parsed.ok) return parsed.error;
        std::vector<FieldIssue> issues;
        BodyReader read(issues);
        domain::VerifyPaymentInput in;
        in.razorpay_order_id = read.String(parsed.object, "razorpayOrderId").value_or("");
        in.razorpay_payment_id = read.String(parsed.object, "razorpayPaymentId").value_or("");
        in.razorpay_signature = read.String(parsed.object, "razorpaySignature").value_or("");
        if (!issues.empty()) {
          return Error(request, 400, "VALIDATION_ERROR", "The verification request is invalid",
                       issues);
        }
        auto r = service->Verify(principal, in, request.request_id);
        if (!r.ok()) return PaymentError(request, r.status());
        json::object v{{"verified", true},
                       {"paymentId", r->payment_id},
                       {"orderId", r->order_id},
                       {"amount", r->amount_paise},
                       {"currency", r->currency},
                       {"status", r->status},
                       {"verifiedAt", r->verified_at}};
        return Success(request, json::object{{"verification", std::move(v)}});
      },
      {.blocking = true, .name = "payments-verify", .offload = remote_gateway}));

  RETURN_IF_ERROR(router.Add(
      "POST", "/api/v1/payments/webhook",
      [service, gateway](http::Request& request) -> http::Response {
        // The signature covers the raw bytes, so the body is used exactly as received.
        auto r = service->HandleWebhook(request.body, request.headers.Get("X-Razorpay-Signature"),
                                        request.request_id);
        if (!r.ok()) return PaymentError(request, r.status());
        return Success(
            request, json::object{{"received", true}, {"event", r->event}, {"result", r->result}});
      },
      {.blocking = true, .name = "payments-webhook", .offload = remote_gateway}));

  // The checkout simulation exists only with the simulated gateway in development; otherwise the
  // path is not registered at all (404).
  if (ctx.payments_simulator && ctx.settings.payments.gateway == domain::GatewayKind::kSimulated) {
    RETURN_IF_ERROR(router.Add(
        "POST", "/api/v1/payments/simulate",
        [c, service, gateway](http::Request& request) -> http::Response {
          domain::Principal principal;
          if (auto denied = RequirePrincipal(*c, request, &principal)) return *denied;
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
            return Error(request, 400, "VALIDATION_ERROR", "The simulation request is invalid",
                         issues);
          }
          auto r = service->SimulateCheckout(principal, order_id, outcome == "success");
          if (!r.ok()) return PaymentError(request, r.status());
          return Success(request, json::object{{"razorpayOrderId", r->order_id},
                                               {"razorpayPaymentId", r->payment_id},
                                               {"razorpaySignature", r->signature}});
        },
        {.blocking = true, .name = "payments-simulate"}));
  }
  return Status::Ok();
}

}  // namespace hasivu::api
