#include "seed/fixtures.h"

#include <boost/json.hpp>
#include <cstdio>
#include <string_view>
#include <utility>

#include "common/time_util.h"

namespace hasivu::seed {
namespace {

boost::json::object AccountJson(const SeedAccount& a) {
  return {{"id", a.id}, {"email", a.email}, {"password", a.password}};
}

}  // namespace

std::string FixturesJson(const SeedReport& report) {
  namespace json = boost::json;
  json::array schools;
  for (const SeedSchool& s : report.schools) {
    json::array kitchen;
    for (const SeedAccount& k : s.kitchen_staff) kitchen.push_back(AccountJson(k));
    json::array readers;
    for (const SeedReader& r : s.readers) readers.push_back({{"id", r.id}, {"name", r.name}});
    json::array items;
    for (const std::string& id : s.menu_item_ids) items.push_back(json::value(id));
    json::array parents;
    for (const SeedParent& p : s.parents) {
      json::object po = AccountJson(p.account);
      json::array children;
      for (const SeedChild& c : p.children) {
        json::object co = AccountJson(c.account);
        co["grade"] = c.grade;
        co["section"] = c.section;
        co["cardNumber"] = c.card_number;
        co["cardActive"] = c.card_active;
        co["cardExpired"] = c.card_expired;
        children.push_back(std::move(co));
      }
      po["children"] = std::move(children);
      parents.push_back(std::move(po));
    }
    schools.push_back(json::object{{"id", s.id},
                                   {"name", s.name},
                                   {"timezone", s.timezone},
                                   {"schoolAdmin", AccountJson(s.school_admin)},
                                   {"kitchenStaff", std::move(kitchen)},
                                   {"readers", std::move(readers)},
                                   {"menuItemIds", std::move(items)},
                                   {"parents", std::move(parents)}});
  }
  json::object root{{"baseDate", FormatDate(report.base_date)},
                    {"admin", AccountJson(report.admin)},
                    {"schools", std::move(schools)}};
  return json::serialize(root);
}

std::string DemoLoginsText(const SeedReport& report) {
  std::string out = "demo logins (email / password):\n";
  auto line = [&out](std::string_view role, const SeedAccount& a) {
    out += "  ";
    out += role;
    out += ": ";
    out += a.email;
    out += " / ";
    out += a.password;
    out += "\n";
  };
  line("admin", report.admin);
  if (!report.schools.empty()) {
    const SeedSchool& s = report.schools.front();
    line("school admin", s.school_admin);
    if (!s.kitchen_staff.empty()) line("kitchen staff", s.kitchen_staff.front());
    if (!s.parents.empty()) {
      line("parent", s.parents.front().account);
      if (!s.parents.front().children.empty()) {
        line("student", s.parents.front().children.front().account);
      }
    }
  }
  return out;
}

std::string SeedSummary(const SeedReport& r) {
  const SeedCounts& c = r.counts;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "base date %s; %lld schools, %lld users (%lld parents, %lld students), %lld menu "
                "items, %lld daily menus, %lld slots, %lld RFID cards, %lld readers, %lld orders "
                "(%lld deliverable today), %lld order items, %lld payment orders",
                FormatDate(r.base_date).c_str(), (long long)c.schools, (long long)c.users,
                (long long)c.parents, (long long)c.students, (long long)c.menu_items,
                (long long)c.daily_menus, (long long)c.menu_item_slots, (long long)c.rfid_cards,
                (long long)c.rfid_readers, (long long)c.orders,
                (long long)c.today_deliverable_orders, (long long)c.order_items,
                (long long)c.payment_orders);
  return buf;
}

}  // namespace hasivu::seed
