#include "api/rfid_routes.h"

#include <boost/json.hpp>

#include "api/auth.h"
#include "api/body_reader.h"
#include "api/client_address.h"
#include "api/envelope.h"
#include "domain/rfid_service.h"

namespace hasivu::api {
namespace {

namespace json = boost::json;

json::value OptString(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}

json::object VerificationJson(const domain::DeliveryVerification& v) {
  return json::object{{"id", v.id},
                      {"verifiedAt", v.verified_at},
                      {"status", v.status},
                      {"orderId", OptString(v.order_id)},
                      {"cardId", v.card_id},
                      {"readerId", OptString(v.reader_id)},
                      {"location", OptString(v.location)}};
}

json::object SuccessJson(const domain::RfidVerifyResult& r) {
  json::array items;
  for (const auto& line : r.order.items) {
    items.push_back(json::object{{"name", line.name}, {"quantity", line.quantity}});
  }
  const domain::DeliveryVerification& v = *r.verification;
  return json::object{
      {"verification",
       json::object{{"id", v.id}, {"verifiedAt", v.verified_at}, {"status", v.status}}},
      {"student", json::object{{"id", r.student.id},
                               {"firstName", r.student.first_name},
                               {"lastName", r.student.last_name},
                               {"grade", OptString(r.student.grade)},
                               {"section", OptString(r.student.section)}}},
      {"school", json::object{{"id", r.school_id}, {"name", r.school_name}}},
      {"order", json::object{{"id", r.order.id},
                             {"orderNumber", r.order.order_number},
                             {"status", r.order.status},
                             {"items", std::move(items)}}},
      {"card", json::object{{"id", r.card_id}, {"cardNumber", r.card_number}}}};
}

http::Response AlreadyDelivered(const http::Request& request, const domain::RfidVerifyResult& r) {
  http::Response response =
      Error(request, 409, "ALREADY_DELIVERED", "The order has already been delivered");
  boost::system::error_code ec;
  json::value body = json::parse(response.body, ec);
  if (ec || !body.is_object()) return response;
  json::object* error =
      body.as_object().if_contains("error") ? body.as_object()["error"].if_object() : nullptr;
  if (error == nullptr) return response;
  (*error)["verification"] =
      r.verification ? json::value(VerificationJson(*r.verification)) : json::value(nullptr);
  (*error)["order"] = json::object{{"id", r.order.id},
                                   {"orderNumber", r.order.order_number},
                                   {"status", r.order.status},
                                   {"deliveredAt", OptString(r.order.delivered_at)}};
  response.body = json::serialize(body);
  return response;
}

}  // namespace

http::Response RfidRoutes::Verify(const http::Request& request) const {
  domain::Principal principal;
  if (auto denied = RequirePrincipal(authenticator_, request, &principal)) return *denied;
  ParsedBody parsed = ParseJsonObject(request);
  if (!parsed.ok) return parsed.error;

  std::vector<FieldIssue> issues;
  domain::RfidVerifyInput input;
  const json::value* card = parsed.object.if_contains("cardNumber");
  if (card == nullptr || card->is_null()) {
    issues.push_back({"cardNumber", "is required"});
  } else if (!card->is_string()) {
    issues.push_back({"cardNumber", "must be a string"});
  } else {
    input.card_number = std::string(card->as_string());
  }
  BodyReader read(issues);
  input.reader_id = read.String(parsed.object, "readerId");
  input.order_id = read.String(parsed.object, "orderId");
  input.location = read.String(parsed.object, "location");
  if (!issues.empty()) {
    return Error(request, 400, "VALIDATION_ERROR", "The verification request is invalid", issues);
  }

  domain::RfidRequestInfo info{.request_id = request.request_id,
                               .ip_address = ClientAddress(request, trusted_proxies_),
                               .user_agent = std::string(request.headers.Get("User-Agent"))};
  StatusOr<domain::RfidVerifyResult> result = rfid_.Verify(principal, input, info);
  if (!result.ok()) return ErrorFromStatus(request, result.status());
  if (result->kind == domain::RfidVerifyResult::Kind::kAlreadyDelivered) {
    return AlreadyDelivered(request, *result);
  }
  return Success(request, SuccessJson(*result));
}

Status RfidRoutes::Register(http::Router& router) const {
  return router.Add("POST", "/api/v1/rfid/verify",
                    [this](http::Request& request) { return Verify(request); },
                    {.blocking = true, .name = "rfid-verify-card"});
}

}  // namespace hasivu::api
