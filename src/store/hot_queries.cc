#include "store/hot_queries.h"

#include <string>

namespace hasivu::store {

const std::vector<HotQuery>& HotQueries() {
  using S = HotQuerySamples;
  auto str = [](std::string_view s) { return Value(std::string(s)); };
  static const std::vector<HotQuery> kQueries = {
      {"orders_of_parent_first_page", kOrdersOfParentFirstPage, {str(S::kParentId), int64_t{20}}},
      {"orders_of_school_on_day",
       kOrdersOfSchoolOnDay,
       {str(S::kSchoolId), str(S::kDate), int64_t{20}},
       /*ordered_by_index=*/true},
      {"orders_of_parent_after",
       kOrdersOfParentAfter,
       {str(S::kParentId), str(S::kCursorCreatedAt), str(S::kOrderId), int64_t{20}}},
      {"children_of_parent", kChildrenOfParent, {str(S::kParentId)}},
      {"orders_of_student_first_page",
       kOrdersOfStudentFirstPage,
       {str(S::kStudentId), int64_t{20}},
       /*ordered_by_index=*/true},
      {"orders_of_student_after",
       kOrdersOfStudentAfter,
       {str(S::kStudentId), str(S::kCursorCreatedAt), str(S::kOrderId), int64_t{20}}},
      {"orders_of_school_after",
       kOrdersOfSchoolAfter,
       {str(S::kSchoolId), str(S::kCursorCreatedAt), str(S::kOrderId), int64_t{20}}},
      {"deliverable_order_of_student",
       kDeliverableOrderOfStudent,
       {str(S::kStudentId), str(S::kDate)}},
      {"card_by_number", kCardByNumber, {str(S::kCardNumber)}},
      {"daily_menu_of_school", kDailyMenuOfSchool, {str(S::kSchoolId), str(S::kDate)}},
      {"daily_menu_slots", kDailyMenuSlots, {str(S::kDailyMenuId)}, /*ordered_by_index=*/true},
      {"session_by_refresh_hash", kSessionByRefreshHash, {str(S::kRefreshHash)}},
      {"user_by_email", kUserByEmail, {str(S::kEmail)}},
  };
  return kQueries;
}

const std::vector<std::string_view>& LargeTables() {
  static const std::vector<std::string_view> kTables = {
      "orders",      "order_items",     "users",         "rfid_cards",
      "daily_menus", "menu_item_slots", "auth_sessions", "menu_items"};
  return kTables;
}

}  // namespace hasivu::store
