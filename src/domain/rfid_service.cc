#include "domain/rfid_service.h"

#include <boost/json.hpp>

#include "common/ids.h"
#include "common/time_util.h"
#include "common/utf8.h"
#include "domain/access.h"
#include "store/rfid_repo.h"

namespace hasivu::domain {
namespace {

constexpr size_t kMaxLocation = 255;

Status Refusal(StatusCode code, std::string message, std::string reason) {
  return Status(code, std::move(message), std::move(reason));
}

bool Deliverable(std::string_view status) {
  return status == "confirmed" || status == "preparing" || status == "ready" ||
         status == "out_for_delivery";
}

DeliveryVerification FromRow(const store::VerificationRow& v) {
  return DeliveryVerification{.id = v.id,
                              .verified_at = v.verified_at,
                              .status = v.status,
                              .order_id = v.order_id,
                              .card_id = v.card_id,
                              .reader_id = v.reader_id,
                              .location = v.location};
}

// What the read phase found: everything the write and the answer need.
struct Plan {
  store::CardRow card;
  std::string today;
  store::DeliveryOrderRow order;
  bool already_delivered = false;
  std::optional<store::VerificationRow> first_verification;
  std::vector<store::OrderLineRow> lines;
};

RfidVerifyResult ResultOf(const Plan& plan) {
  RfidVerifyResult r;
  r.kind = plan.already_delivered ? RfidVerifyResult::Kind::kAlreadyDelivered
                                  : RfidVerifyResult::Kind::kVerified;
  if (plan.first_verification) r.verification = FromRow(*plan.first_verification);
  r.student = RfidStudent{.id = plan.card.student_id,
                          .first_name = plan.card.student_first_name,
                          .last_name = plan.card.student_last_name,
                          .grade = plan.card.grade,
                          .section = plan.card.section};
  r.school_id = plan.card.school_id;
  r.school_name = plan.card.school_name;
  r.order = RfidOrder{.id = plan.order.id,
                      .order_number = plan.order.order_number,
                      .status = plan.order.status,
                      .delivered_at = plan.order.delivered_at,
                      .items = {}};
  for (const auto& l : plan.lines) r.order.items.push_back({l.name, l.quantity});
  r.card_id = plan.card.id;
  r.card_number = plan.card.card_number;
  return r;
}

// Loads the delivered order's first verification and lines into `plan`.
Status LoadDelivered(store::Connection& c, Plan& plan) {
  plan.already_delivered = true;
  ASSIGN_OR_RETURN(plan.first_verification, store::FindVerifiedDelivery(c, plan.order.id));
  ASSIGN_OR_RETURN(plan.lines, store::ListOrderLines(c, plan.order.id));
  return Status::Ok();
}

}  // namespace

bool IsValidCardNumber(std::string_view n) {
  constexpr std::string_view kPrefix = "RFID-";
  if (n.size() < kPrefix.size() + 4 || n.size() > kPrefix.size() + 60) return false;
  if (n.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char ch : n.substr(kPrefix.size())) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-';
    if (!ok) return false;
  }
  return true;
}

StatusOr<RfidVerifyResult> RfidService::Verify(const Principal& principal,
                                               const RfidVerifyInput& input,
                                               const RfidRequestInfo& info) const {
  metrics::FlowTimer flow = verify_flow_.Start();
  // Families never scan cards; refusing before any lookup keeps card numbers unprobeable.
  if (!principal.IsAdmin() && !principal.IsSchoolStaff()) {
    return Refusal(StatusCode::kPermissionDenied,
                   "Only kitchen staff, school admins and admins verify deliveries", "FORBIDDEN");
  }
  std::vector<FieldIssue> issues;
  if (!IsValidCardNumber(input.card_number)) {
    issues.push_back({"cardNumber", "must match ^RFID-[A-Z0-9-]{4,60}$"});
  }
  if (input.reader_id && !IsUuid(*input.reader_id)) {
    issues.push_back({"readerId", "must be a UUID"});
  }
  if (input.order_id && !IsUuid(*input.order_id)) issues.push_back({"orderId", "must be a UUID"});
  if (input.location && input.location->size() > kMaxLocation) {
    issues.push_back({"location", "must be at most 255 characters"});
  }
  if (!issues.empty()) return ValidationError("The verification request is invalid", issues);
  flow.Checkpoint("validated");

  const TimePoint now = clock_->Now();
  const std::string now_text = FormatRfc3339(now);
  Plan plan;

  // The lookups run inside the delivery's write transaction: what they check cannot change
  // before the write, and on SQLite they read through the writer's page cache, which no other
  // connection's commit invalidates (a reader connection's cache is dropped after every write,
  // so a stream of scans would re-read every page from the file).
  auto find = [&](store::Connection& c) -> Status {
    plan = Plan{};
    ASSIGN_OR_RETURN(std::optional<store::CardRow> card,
                     store::FindCardByNumber(c, input.card_number));
    if (!card || !CanVerifyDelivery(principal, card->school_id)) {
      return Refusal(StatusCode::kNotFound, "No such card", "CARD_NOT_FOUND");
    }
    plan.card = std::move(*card);
    if (!plan.card.active) {
      return Refusal(StatusCode::kFailedPrecondition, "The card is deactivated", "CARD_INACTIVE");
    }
    if (plan.card.expires_at) {
      ASSIGN_OR_RETURN(TimePoint expires, ParseRfc3339(*plan.card.expires_at));
      if (expires <= now) {
        return Refusal(StatusCode::kFailedPrecondition, "The card has expired", "CARD_EXPIRED");
      }
    }
    if (!plan.card.student_active) {
      return Refusal(StatusCode::kFailedPrecondition, "The card's student is not active",
                     "STUDENT_INACTIVE");
    }
    if (!plan.card.school_active) {
      return Refusal(StatusCode::kFailedPrecondition, "The card's school is not active",
                     "SCHOOL_INACTIVE");
    }
    if (input.reader_id) {
      ASSIGN_OR_RETURN(std::optional<store::ReaderRow> reader,
                       store::FindReader(c, *input.reader_id));
      if (!reader || !reader->active || reader->school_id != plan.card.school_id) {
        return Refusal(StatusCode::kFailedPrecondition,
                       "The reader is not an active reader of the card's school",
                       "READER_MISMATCH");
      }
    }
    ASSIGN_OR_RETURN(Date today, LocalDate(now, plan.card.school_timezone));
    plan.today = FormatDate(today);

    if (input.order_id) {
      ASSIGN_OR_RETURN(std::optional<store::DeliveryOrderRow> order,
                       store::FindDeliveryOrder(c, *input.order_id));
      if (!order || order->student_id != plan.card.student_id) {
        return Refusal(StatusCode::kNotFound, "The student has no such order", "NO_ORDER_TODAY");
      }
      plan.order = std::move(*order);
      if (plan.order.status == "delivered") return LoadDelivered(c, plan);
      if (plan.order.delivery_date != plan.today || plan.order.payment_status != "paid" ||
          !Deliverable(plan.order.status)) {
        return Refusal(StatusCode::kFailedPrecondition,
                       "The order is not a paid order of today awaiting delivery",
                       "ORDER_NOT_DELIVERABLE");
      }
    } else {
      ASSIGN_OR_RETURN(std::optional<store::DeliveryOrderRow> order,
                       store::FindDeliverableOrderOfStudent(c, plan.card.student_id, plan.today));
      if (!order) {
        ASSIGN_OR_RETURN(std::optional<store::DeliveryOrderRow> delivered,
                         store::FindDeliveredOrderOfStudent(c, plan.card.student_id, plan.today));
        if (!delivered) {
          return Refusal(StatusCode::kNotFound, "The student has no paid order to deliver today",
                         "NO_ORDER_TODAY");
        }
        plan.order = std::move(*delivered);
        return LoadDelivered(c, plan);
      }
      plan.order = std::move(*order);
    }
    ASSIGN_OR_RETURN(plan.lines, store::ListOrderLines(c, plan.order.id));
    return Status::Ok();
  };

  namespace json = boost::json;
  store::VerificationRow verification;
  bool lost_race = false;
  Status written = db_->Write([&](store::Connection& c) -> Status {
    RETURN_IF_ERROR(find(c));
    if (plan.already_delivered) return Status::Ok();
    verification = store::VerificationRow{.id = NewUuidV7(now),
                                          .order_id = plan.order.id,
                                          .student_id = plan.card.student_id,
                                          .card_id = plan.card.id,
                                          .reader_id = input.reader_id,
                                          .verified_at = now_text,
                                          .status = "verified",
                                          .location = input.location};
    const json::object data{{"method", "rfid"},
                            {"verifiedBy", principal.user_id},
                            {"cardNumber", plan.card.card_number}};
    const json::object changes{
        {"status", json::object{{"from", plan.order.status}, {"to", "delivered"}}},
        {"deliveredAt", now_text}};
    json::object metadata{{"verificationId", verification.id}, {"cardId", plan.card.id}};
    if (input.reader_id) metadata["readerId"] = *input.reader_id;
    if (input.location) metadata["location"] = *input.location;
    const store::DeliveryAuditRow audit{.id = NewUuidV7(now),
                                        .order_id = plan.order.id,
                                        .user_id = principal.user_id,
                                        .changes_json = json::serialize(changes),
                                        .metadata_json = json::serialize(metadata),
                                        .ip_address = info.ip_address,
                                        .user_agent = Utf8Truncated(info.user_agent, 512),
                                        .request_id = info.request_id,
                                        .created_at = now_text};
    ASSIGN_OR_RETURN(bool moved, store::MarkOrderDelivered(c, plan.order.id, plan.card.student_id,
                                                           plan.today, now_text));
    if (!moved) {
      lost_race = true;
      return AbortedError("the order changed before it could be delivered").ForClient();
    }
    Status inserted = store::InsertVerification(c, verification, json::serialize(data));
    if (inserted.code() == StatusCode::kAlreadyExists) lost_race = true;
    RETURN_IF_ERROR(inserted);
    RETURN_IF_ERROR(store::TouchCard(c, plan.card.id, now_text));
    return store::InsertDeliveryAudit(c, audit);
  });
  if (lost_race) {
    // Another scan (or the kitchen flow) got there first: answer with what it did. The read
    // runs after our rollback, so it sees the winner's committed rows.
    RETURN_IF_ERROR(db_->Read([&](store::Connection& c) -> Status {
      ASSIGN_OR_RETURN(std::optional<store::DeliveryOrderRow> order,
                       store::FindDeliveryOrder(c, plan.order.id));
      if (!order || order->status != "delivered") {
        return Refusal(StatusCode::kFailedPrecondition, "The order is no longer awaiting delivery",
                       "ORDER_NOT_DELIVERABLE");
      }
      plan.order = std::move(*order);
      return LoadDelivered(c, plan);
    }));
    return ResultOf(plan);
  }
  RETURN_IF_ERROR(written);
  flow.Checkpoint("committed");
  if (plan.already_delivered) return ResultOf(plan);
  delivered_.Track();
  if (read_cache_ != nullptr) read_cache_->OrderChanged(plan.order.id);
  flow.Checkpoint("invalidated");

  plan.order.status = "delivered";
  plan.order.delivered_at = now_text;
  plan.first_verification = verification;
  return ResultOf(plan);
}

}  // namespace hasivu::domain
