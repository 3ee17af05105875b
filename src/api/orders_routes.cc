#include "api/orders_routes.h"

#include <sodium.h>

#include <algorithm>
#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "api/body_reader.h"
#include "api/cached_read.h"
#include "api/envelope.h"
#include "api/json_writer.h"
#include "api/read_helpers.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "common/utf8.h"
#include "domain/idempotency.h"
#include "domain/order_service.h"

namespace hasivu::api {
namespace {

namespace json = boost::json;
using domain::Principal;

// ---- conditional reads and field selection (api.md conventions) ----
// Field names are checked against the resource's names, so an unknown name is refused even on
// an empty page.
// `fields=a,b,c` → the names, or field issues for unknown ones.
std::optional<std::vector<std::string>> ParseFields(const std::string* fields,
                                                    const std::set<std::string_view>& known,
                                                    std::vector<FieldIssue>& issues) {
  if (fields == nullptr) return std::nullopt;
  std::vector<std::string> out;
  std::string_view rest = *fields;
  while (true) {
    const size_t comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    if (!known.count(name)) {
      issues.push_back({"fields", "unknown field '" + std::string(Utf8Prefix(name, 64)) + "'"});
      return std::nullopt;
    }
    out.emplace_back(name);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

// ---- JSON out ----
// An order's members in the order they are written; a `fields` selection writes the named ones
// in the order it names them (api.md).
constexpr JsonKey kListMembers[] = {"id",          "orderNumber",  "studentId", "student",
                                    "school",      "deliveryDate", "status",    "paymentStatus",
                                    "totalAmount", "currency",     "itemCount", "createdAt",
                                    "updatedAt"};
constexpr size_t kListMemberCount = std::size(kListMembers);
// The detail's members: the list's, then these.
constexpr JsonKey kDetailOnlyMembers[] = {"items", "specialInstructions", "allergyInfo"};

const std::set<std::string_view>& ListFieldNames() {
  static const std::set<std::string_view> kNames = [] {
    std::set<std::string_view> n;
    for (JsonKey k : kListMembers) n.insert(k.name());
    return n;
  }();
  return kNames;
}
const std::set<std::string_view>& DetailFieldNames() {
  static const std::set<std::string_view> kNames = [] {
    std::set<std::string_view> n = ListFieldNames();
    for (JsonKey k : kDetailOnlyMembers) n.insert(k.name());
    return n;
  }();
  return kNames;
}

// The member numbers to write (a list member i < kListMemberCount, a detail-only one
// kListMemberCount + j): every list member (and, for a detail, every detail member) in order,
// or the names of `fields` (ParseFields accepted them) in its order, each once.
std::vector<size_t> MembersToWrite(const std::optional<std::vector<std::string>>& fields,
                                   bool detail) {
  std::vector<size_t> out;
  const size_t count = kListMemberCount + (detail ? std::size(kDetailOnlyMembers) : 0);
  auto name_of = [](size_t i) {
    return i < kListMemberCount ? kListMembers[i] : kDetailOnlyMembers[i - kListMemberCount];
  };
  if (!fields) {
    for (size_t i = 0; i < count; ++i) out.push_back(i);
    return out;
  }
  for (const std::string& name : *fields) {
    for (size_t i = 0; i < count; ++i) {
      if (name_of(i).name() == name && std::find(out.begin(), out.end(), i) == out.end()) {
        out.push_back(i);
      }
    }
  }
  return out;
}

// Writes list member `i` of the order (key and value).
void WriteOrderMember(JsonWriter& w, size_t i, const store::OrderRow& o,
                      const store::OrderExtras& e) {
  w.Key(kListMembers[i]);
  switch (i) {
    case 0:
      return w.String(o.id);
    case 1:
      return w.String(o.order_number);
    case 2:
      return w.String(o.student_id);
    case 3:
      w.BeginObject();
      w.Key("id");
      w.String(o.student_id);
      w.Key("firstName");
      w.String(e.student_first_name);
      w.Key("lastName");
      w.String(e.student_last_name);
      w.Key("grade");
      w.OptString(e.grade);
      w.Key("section");
      w.OptString(e.section);
      return w.EndObject();
    case 4:
      w.BeginObject();
      w.Key("id");
      w.String(o.school_id);
      w.Key("name");
      w.String(e.school_name);
      return w.EndObject();
    case 5:
      return w.String(o.delivery_date);
    case 6:
      return w.String(o.status);
    case 7:
      return w.String(o.payment_status);
    case 8:
      return w.Int(o.total_amount_paise);
    case 9:
      return w.String(o.currency);
    case 10:
      return w.Int(o.item_count);
    case 11:
      return w.String(o.created_at);
    default:
      return w.String(o.updated_at);
  }
}

void WriteOrder(JsonWriter& w, const std::vector<size_t>& members, const store::OrderRow& o,
                const store::OrderExtras& e) {
  w.BeginObject();
  for (size_t i : members) WriteOrderMember(w, i, o, e);
  w.EndObject();
}

// {"order":{...}}: the detail's members of `members` (MembersToWrite(..., true)).
std::string OrderDetailData(const store::OrderDetailRow& d, const std::vector<size_t>& members) {
  std::string out;
  out.reserve(1024);
  JsonWriter w(out);
  w.BeginObject();
  w.Key("order");
  w.BeginObject();
  for (size_t i : members) {
    if (i < kListMemberCount) {
      WriteOrderMember(w, i, d.order, d.extras);
      continue;
    }
    w.Key(kDetailOnlyMembers[i - kListMemberCount]);
    switch (i - kListMemberCount) {
      case 0:
        w.BeginArray();
        for (const store::OrderItemRow& item : d.items) {
          w.BeginObject();
          w.Key("id");
          w.String(item.id);
          w.Key("menuItemId");
          w.String(item.menu_item_id);
          w.Key("name");
          w.String(item.name);
          w.Key("quantity");
          w.Int(item.quantity);
          w.Key("unitPrice");
          w.Int(item.unit_price_paise);
          w.Key("totalPrice");
          w.Int(item.total_price_paise);
          w.Key("notes");
          w.OptString(item.notes);
          w.EndObject();
        }
        w.EndArray();
        break;
      case 1:
        w.OptString(d.special_instructions);
        break;
      default:
        w.OptString(d.allergy_info);
        break;
    }
  }
  w.EndObject();
  w.EndObject();
  return out;
}

std::string OrderDetailData(const store::OrderDetailRow& d) {
  return OrderDetailData(d, MembersToWrite(std::nullopt, /*detail=*/true));
}

// ---- JSON in ----

// Canonical JSON (object keys sorted, recursively) so that formatting and key order do not
// change an Idempotency-Key's request hash.
void Canonical(const json::value& v, std::string& out) {
  if (v.is_object()) {
    std::vector<std::pair<std::string_view, const json::value*>> members;
    for (const auto& kv : v.as_object()) members.emplace_back(kv.key(), &kv.value());
    std::sort(members.begin(), members.end());
    out += '{';
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out += ',';
      out += json::serialize(json::string(members[i].first));
      out += ':';
      Canonical(*members[i].second, out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    bool first = true;
    for (const json::value& e : v.as_array()) {
      if (!first) out += ',';
      first = false;
      Canonical(e, out);
    }
    out += ']';
  } else {
    out += json::serialize(v);
  }
}

// Parses an orders-create body; issues for wrong types and missing fields.
domain::CreateOrderInput ReadCreateOrder(const json::object& body,
                                         std::vector<FieldIssue>& issues) {
  BodyReader r(issues);
  domain::CreateOrderInput in;
  in.student_id = r.String(body, "studentId", {}, true).value_or("");
  in.delivery_date = r.String(body, "deliveryDate", {}, true).value_or("");
  in.special_instructions = r.String(body, "specialInstructions");
  in.allergy_info = r.String(body, "allergyInfo");
  const char* list_key = body.contains("items") ? "items" : "orderItems";
  const json::value* items = body.if_contains(list_key);
  if (items == nullptr || items->is_null()) {
    issues.push_back({"items", "is required"});
    return in;
  }
  if (!items->is_array()) {
    issues.push_back({"items", "must be an array"});
    return in;
  }
  const json::array& lines = items->as_array();
  if (lines.empty() || lines.size() > domain::kMaxOrderLines) {
    issues.push_back({"items", "must have 1-20 lines"});
    return in;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string at = "items[" + std::to_string(i) + "]";
    if (!lines[i].is_object()) {
      issues.push_back({at, "must be an object"});
      continue;
    }
    const json::object& line = lines[i].as_object();
    domain::OrderLineInput l;
    l.menu_item_id = r.String(line, "menuItemId", at + ".menuItemId", true).value_or("");
    l.quantity = r.Int(line, "quantity", at + ".quantity", true).value_or(1);
    l.notes = r.String(line, "notes", at + ".notes");
    in.items.push_back(std::move(l));
  }
  return in;
}

// The query parameters orders-list accepts.
const std::set<std::string_view> kListParameters = {
    "status", "paymentStatus", "studentId", "schoolId",     "dateFrom", "dateTo",
    "sort",   "limit",         "cursor",    "includeTotal", "fields"};

// The list's filters, sort and page from its query; a problem with any is a field issue in
// q.issues.
domain::ListOrdersInput ReadListQuery(QueryParams& q) {
  std::vector<FieldIssue>& issues = q.issues;
  domain::ListOrdersInput in;
  if (const std::string* v = q.Find("status")) {
    if (domain::IsOrderStatus(*v)) {
      in.status = *v;
    } else {
      issues.push_back({"status",
                        "must be one of pending, confirmed, preparing, ready, "
                        "out_for_delivery, delivered, cancelled"});
    }
  }
  if (const std::string* v = q.Find("paymentStatus")) {
    if (domain::IsPaymentStatus(*v)) {
      in.payment_status = *v;
    } else {
      issues.push_back({"paymentStatus", "must be one of pending, paid, failed, refunded"});
    }
  }
  auto uuid = [&](const char* name, std::optional<std::string>& out) {
    if (const std::string* v = q.Find(name)) {
      if (IsUuid(*v)) {
        std::string lower = *v;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out = std::move(lower);
      } else {
        issues.push_back({name, "must be a UUID"});
      }
    }
  };
  uuid("studentId", in.student_id);
  uuid("schoolId", in.school_id);
  auto date = [&](const char* name, std::optional<std::string>& out) {
    if (const std::string* v = q.Find(name)) {
      if (ParseDate(*v).ok()) {
        out = *v;
      } else {
        issues.push_back({name, "must be a date YYYY-MM-DD"});
      }
    }
  };
  date("dateFrom", in.date_from);
  date("dateTo", in.date_to);
  if (in.date_from && in.date_to && *in.date_from > *in.date_to) {
    issues.push_back({"dateTo", "must not be before dateFrom"});
  }
  if (const std::string* v = q.Find("sort")) {
    StatusOr<domain::OrderSort> sort = domain::ParseOrderSort(*v);
    if (sort.ok()) {
      in.sort = *sort;
    } else {
      issues.push_back({"sort", sort.status().details().at(0).issue});
    }
  }
  if (const std::string* v = q.Find("limit")) {
    int64_t limit = 0;
    bool digits = !v->empty() && v->size() <= 3;
    for (char c : *v) {
      digits = digits && c >= '0' && c <= '9';
      if (digits) limit = limit * 10 + (c - '0');
    }
    if (digits && limit >= 1 && limit <= 100) {
      in.limit = limit;
    } else {
      issues.push_back({"limit", "must be an integer between 1 and 100"});
    }
  }
  if (const std::string* v = q.Find("cursor")) in.cursor = *v;
  if (const std::string* v = q.Find("includeTotal")) {
    if (*v == "true" || *v == "1") {
      in.include_total = true;
    } else if (*v != "false" && *v != "0") {
      issues.push_back({"includeTotal", "must be true or false"});
    }
  }
  return in;
}

// The data of a page of orders-list: {"orders":[...], "pagination":{...}}, each order cut to
// `fields` when given (names ParseFields accepted).
std::string RenderOrderPage(const domain::OrderPage& page, int64_t limit,
                            const std::optional<std::vector<std::string>>& fields) {
  const std::vector<size_t> members = MembersToWrite(fields, /*detail=*/false);
  std::string out;
  out.reserve(128 + page.orders.size() * 640);
  JsonWriter w(out);
  w.BeginObject();
  w.Key("orders");
  w.BeginArray();
  for (size_t i = 0; i < page.orders.size(); ++i) {
    WriteOrder(w, members, page.orders[i], page.extras[i]);
  }
  w.EndArray();
  w.Key("pagination");
  w.BeginObject();
  w.Key("limit");
  w.Int(limit);
  w.Key("nextCursor");
  w.OptString(page.next_cursor);
  w.Key("hasMore");
  w.Bool(page.has_more);
  if (page.total) {
    w.Key("total");
    w.Int(*page.total);
  }
  w.EndObject();
  w.EndObject();
  return out;
}

}  // namespace

http::Response OrderRoutes::List(const http::Request& request) const {
  Principal p;
  if (auto denied = RequirePrincipal(authenticator_, request, &p)) return *denied;
  QueryParams q = ParseQuery(request.query, kListParameters);
  domain::ListOrdersInput in = ReadListQuery(q);
  std::optional<std::vector<std::string>> fields =
      ParseFields(q.Find("fields"), ListFieldNames(), q.issues);
  if (!q.issues.empty()) {
    return Error(request, 400, "VALIDATION_ERROR", "Invalid query parameters", q.issues);
  }
  // One cache entry per caller scope and query; every order change drops the lists of its
  // scopes (domain/read_cache.h).
  const domain::ReadCache::Scope scope = domain::ReadCache::OrderListScope(p);
  return reads_.ConditionalSuccess(request, domain::ReadCache::OrderListKey(scope, request.query),
                                   cache::Kind::kOrderList, scope.tags,
                                   [&]() -> StatusOr<std::string> {
                                     StatusOr<domain::OrderPage> page = orders_.List(p, in);
                                     if (!page.ok()) return page.status();
                                     return RenderOrderPage(*page, in.limit, fields);
                                   });
}

http::Response OrderRoutes::Create(const http::Request& request) const {
  Principal p;
  if (auto denied = RequirePrincipal(authenticator_, request, &p)) return *denied;
  std::optional<domain::IdempotentRequest> idempotency;
  if (const std::string* key = request.headers.Find("Idempotency-Key")) {
    Status valid = domain::ValidateIdempotencyKey(*key);
    if (!valid.ok()) return ErrorFromStatus(request, valid);
    idempotency.emplace();
    idempotency->user_id = p.user_id;
    idempotency->key = *key;
    idempotency->method = "POST";
    idempotency->path = "/api/v1/orders";
  }
  ParsedBody body = ParseJsonObject(request);
  if (!body.ok) return body.error;
  std::vector<FieldIssue> issues;
  domain::CreateOrderInput in = ReadCreateOrder(body.object, issues);
  if (issues.empty()) issues = domain::ValidateCreateOrder(in);
  if (!issues.empty()) {
    return Error(request, 400, "VALIDATION_ERROR", "The order is not valid", issues);
  }
  if (idempotency) {
    std::string canonical;
    Canonical(body.object, canonical);
    idempotency->request_hash =
        domain::IdempotencyRequestHash(idempotency->method, idempotency->path, canonical);
  }
  auto render = [](const store::OrderDetailRow& d) { return OrderDetailData(d); };
  StatusOr<domain::CreatedOrder> created = orders_.Create(p, in, idempotency, render);
  if (!created.ok()) return ErrorFromStatus(request, created.status());
  // The body is the data as rendered above (or as stored for a replay): sent as it is.
  http::Response r =
      SuccessSerialized(request, created->body, static_cast<unsigned>(created->status));
  r.headers.Set("Location", "/api/v1/orders/" + created->order_id);
  if (created->replayed) r.headers.Set("Idempotent-Replayed", "true");
  return r;
}

http::Response OrderRoutes::Get(const http::Request& request) const {
  Principal p;
  if (auto denied = RequirePrincipal(authenticator_, request, &p)) return *denied;
  QueryParams q = ParseQuery(request.query, {"fields"});
  std::optional<std::vector<std::string>> fields =
      ParseFields(q.Find("fields"), DetailFieldNames(), q.issues);
  if (!q.issues.empty()) {
    return Error(request, 400, "VALIDATION_ERROR", "Invalid query parameters", q.issues);
  }
  const std::string order_id(request.PathParam("id"));
  return reads_.ConditionalSuccess(
      request, domain::ReadCache::OrderDetailKey(p, order_id, request.query),
      cache::Kind::kOrderList, {domain::ReadCache::OrderTag(order_id)},
      [&]() -> StatusOr<std::string> {
        ASSIGN_OR_RETURN(store::OrderDetailRow order, orders_.Get(p, order_id));
        return OrderDetailData(order, MembersToWrite(fields, /*detail=*/true));
      });
}

http::Response OrderRoutes::UpdateStatus(const http::Request& request) const {
  Principal p;
  if (auto denied = RequirePrincipal(authenticator_, request, &p)) return *denied;
  ParsedBody body = ParseJsonObject(request);
  if (!body.ok) return body.error;
  std::vector<FieldIssue> issues;
  BodyReader r(issues);
  std::optional<std::string> status = r.String(body.object, "status", {}, true);
  if (!issues.empty()) {
    return Error(request, 400, "VALIDATION_ERROR", "The status is not valid", issues);
  }
  StatusOr<store::OrderDetailRow> order = orders_.UpdateStatus(p, request.PathParam("id"), *status);
  if (!order.ok() && *status == "cancelled" &&
      order.status().reason() == "INVALID_STATUS_TRANSITION") {
    // The caller may cancel this order (permission is checked before the transition), and it
    // may already be cancelled with its refund still owed: cancelling again retries the refund.
    StatusOr<store::OrderDetailRow> current = orders_.Get(p, request.PathParam("id"));
    if (current.ok() && current->order.status == "cancelled" &&
        current->order.payment_status == "paid") {
      order = std::move(current);
    }
  }
  if (!order.ok()) return ErrorFromStatus(request, order.status());
  if (*status == "cancelled" && order->order.payment_status == "paid") {
    // The cancellation is committed whatever the gateway says. A refund it cannot make now
    // stays owed (paymentStatus stays "paid"); it is logged and audited for an operator.
    StatusOr<domain::RefundOutcome> refund =
        payments_.RefundCancelledOrder(order->order.id, p.user_id, request.request_id);
    if (refund.ok() && refund->result == "refunded") order->order.payment_status = "refunded";
  }
  return SuccessSerialized(request, OrderDetailData(*order));
}

Status OrderRoutes::Register(http::Router& router) const {
  RETURN_IF_ERROR(router.Add("GET", "/api/v1/orders", [this](http::Request& r) { return List(r); },
                             {.blocking = true, .try_inline = true, .name = "orders-list"}));
  RETURN_IF_ERROR(router.Add("POST", "/api/v1/orders",
                             [this](http::Request& r) { return Create(r); },
                             {.blocking = true, .name = "orders-create"}));
  RETURN_IF_ERROR(router.Add("GET", "/api/v1/orders/{id}",
                             [this](http::Request& r) { return Get(r); },
                             {.blocking = true, .try_inline = true, .name = "orders-get"}));
  return router.Add(
      "PATCH", "/api/v1/orders/{id}/status", [this](http::Request& r) { return UpdateStatus(r); },
      // Cancelling a paid order calls the gateway (a refund).
      {.blocking = true, .name = "orders-status", .offload = settings_.remote_gateway});
}

}  // namespace hasivu::api
