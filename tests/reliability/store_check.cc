#include "tests/reliability/store_check.h"

#include <set>

namespace hasivu::reliability {
namespace {

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// A statement whose answer is a count; a failure is recorded as a violation and answers -1.
int64_t Count(const SqlRunner& sql, const std::string& statement, std::vector<std::string>& out) {
  std::string error;
  std::optional<std::string> v = sql(statement, &error);
  if (!v) {
    out.push_back("query failed: " + error + " in: " + statement);
    return -1;
  }
  try {
    return v->empty() ? 0 : std::stoll(*v);
  } catch (const std::exception&) {
    out.push_back("not a count: '" + *v + "' from: " + statement);
    return -1;
  }
}

// `template_sql` holds "{}" where an IN list of `values` goes; the counts of all batches summed.
int64_t CountIn(const SqlRunner& sql, const std::string& template_sql,
                const std::vector<std::string>& values, std::vector<std::string>& out) {
  constexpr size_t kBatch = 200;
  int64_t total = 0;
  for (size_t i = 0; i < values.size(); i += kBatch) {
    std::string list;
    for (size_t j = i; j < std::min(values.size(), i + kBatch); ++j) {
      if (!list.empty()) list += ",";
      list += Quote(values[j]);
    }
    std::string statement = template_sql;
    statement.replace(statement.find("{}"), 2, list);
    const int64_t n = Count(sql, statement, out);
    if (n < 0) return -1;
    total += n;
  }
  return total;
}

// Counts the rows `statement` finds for the acknowledged `ids`; names a difference as
// "acknowledged <noun> N, <found_label> M".
int64_t ExpectAllFound(const SqlRunner& sql, const std::string& noun,
                       const std::string& found_label, const std::string& statement,
                       const std::vector<std::string>& ids, std::vector<std::string>& out) {
  const int64_t found = CountIn(sql, statement, ids, out);
  if (found != static_cast<int64_t>(ids.size())) {
    out.push_back("acknowledged " + noun + " " + std::to_string(ids.size()) + ", " + found_label +
                  " " + std::to_string(found));
  }
  return found;
}

void ExpectZero(const SqlRunner& sql, const std::string& what, const std::string& statement,
                std::vector<std::string>& out) {
  const int64_t n = Count(sql, statement, out);
  if (n > 0) out.push_back(what + ": " + std::to_string(n));
}

std::string CheckIntegrity(const SqlRunner& sql, bool postgres, std::vector<std::string>& out) {
  std::string error;
  if (!postgres) {
    std::optional<std::string> v = sql("PRAGMA integrity_check", &error);
    if (!v) {
      out.push_back("integrity_check failed: " + error);
      return "";
    }
    if (*v != "ok") out.push_back("integrity_check: " + *v);
    return "integrity_check: " + *v;
  }
  // amcheck lives in schema public (scripts/services.sh); the store is the current schema.
  const int64_t indexes =
      Count(sql,
            "SELECT count(*) FROM (SELECT public.bt_index_check(c.oid, true) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_am am ON am.oid = c.relam "
            "WHERE n.nspname = current_schema() AND am.amname = 'btree') t",
            out);
  const int64_t tables = Count(sql,
                               "SELECT count(*) FROM pg_class c "
                               "JOIN pg_namespace n ON n.oid = c.relnamespace "
                               "WHERE n.nspname = current_schema() AND c.relkind = 'r'",
                               out);
  ExpectZero(sql, "verify_heapam found corruption",
             "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
             "LATERAL public.verify_heapam(c.oid) v "
             "WHERE n.nspname = current_schema() AND c.relkind = 'r'",
             out);
  if (indexes <= 0) out.push_back("amcheck checked no index");
  return "amcheck: " + std::to_string(indexes) + " B-tree indexes (heapallindexed), " +
         std::to_string(tables) + " tables (verify_heapam)";
}

}  // namespace

StatusOr<StoreCounts> CountRows(const SqlRunner& sql) {
  std::vector<std::string> problems;
  StoreCounts c;
  c.orders = Count(sql, "SELECT count(*) FROM orders", problems);
  c.idempotency_keys = Count(sql, "SELECT count(*) FROM idempotency_keys", problems);
  if (!problems.empty()) return Status(StatusCode::kUnavailable, problems.front());
  return c;
}

StoreCheck CheckStore(const SqlRunner& sql, bool postgres, const StoreCounts& before,
                      const std::vector<WriteRecord>& writes, const std::string& base_date) {
  StoreCheck r;
  std::vector<std::string>& out = r.violations;
  r.integrity = CheckIntegrity(sql, postgres, out);

  std::vector<std::string> orders, payments, deliveries, cards;
  for (const WriteRecord& w : writes) {
    if (w.state == WriteState::kFailed) {
      out.push_back(w.function + " refused: " + w.failure);
      continue;
    }
    if (w.state != WriteState::kAcknowledged) {
      out.push_back(w.function + " never settled after " + std::to_string(w.attempts.size()) +
                    " attempts");
      continue;
    }
    if (w.resource_id.empty()) out.push_back(w.function + " acknowledged without an id");
    if (w.function == "orders-create") orders.push_back(w.resource_id);
    if (w.function == "payments-verify") payments.push_back(w.resource_id);
    if (w.function == "rfid-verify-card") {
      deliveries.push_back(w.resource_id);
      cards.push_back(w.card_number);
    }
  }
  for (const auto* ids : {&orders, &payments, &deliveries}) {
    if (std::set<std::string>(ids->begin(), ids->end()).size() != ids->size()) {
      out.push_back("two acknowledgements name the same resource");
    }
  }

  // Orders: each acknowledged one present; exactly as many new ones as acknowledged.
  r.orders_acknowledged = static_cast<int64_t>(orders.size());
  r.orders_found = ExpectAllFound(sql, "orders", "found",
                                  "SELECT count(*) FROM orders WHERE id IN ({})", orders, out);
  StatusOr<StoreCounts> after = CountRows(sql);
  if (!after.ok()) {
    out.push_back(after.status().message());
  } else {
    r.orders_gained = after->orders - before.orders;
    if (r.orders_gained != r.orders_acknowledged) {
      out.push_back("the store gained " + std::to_string(r.orders_gained) + " orders for " +
                    std::to_string(r.orders_acknowledged) + " acknowledged");
    }
    if (after->idempotency_keys - before.idempotency_keys != r.orders_acknowledged) {
      out.push_back(
          "the store gained " + std::to_string(after->idempotency_keys - before.idempotency_keys) +
          " idempotency records for " + std::to_string(r.orders_acknowledged) + " orders");
    }
  }
  ExpectZero(sql, "idempotency claims left unfinished",
             "SELECT count(*) FROM idempotency_keys WHERE response_status IS NULL", out);
  ExpectZero(sql, "orders without lines",
             "SELECT count(*) FROM orders o WHERE NOT EXISTS "
             "(SELECT 1 FROM order_items i WHERE i.order_id = o.id)",
             out);
  ExpectZero(sql, "orders whose total is not the sum of their lines",
             "SELECT count(*) FROM orders o WHERE o.total_amount_paise <> "
             "(SELECT coalesce(sum(i.total_price_paise), 0) FROM order_items i "
             "WHERE i.order_id = o.id)",
             out);

  // The payment ledger.
  r.payments_acknowledged = static_cast<int64_t>(payments.size());
  r.payments_found = ExpectAllFound(sql, "payments", "captured transactions found",
                                    "SELECT count(*) FROM payment_transactions "
                                    "WHERE status = 'captured' AND gateway_payment_id IN ({})",
                                    payments, out);
  ExpectZero(sql, "paid orders without exactly one captured transaction",
             "SELECT count(*) FROM orders o WHERE o.payment_status = 'paid' AND "
             "(SELECT count(*) FROM payment_transactions t JOIN payment_orders p "
             "ON p.id = t.payment_order_id WHERE p.order_id = o.id AND t.status = 'captured') <> 1",
             out);
  ExpectZero(sql, "paid payment orders of orders that are not paid",
             "SELECT count(*) FROM payment_orders p JOIN orders o ON o.id = p.order_id "
             "WHERE p.status = 'paid' AND o.payment_status NOT IN ('paid', 'refunded')",
             out);
  const int64_t captured = Count(sql,
                                 "SELECT coalesce(sum(amount_paise), 0) FROM payment_transactions "
                                 "WHERE status = 'captured'",
                                 out);
  const int64_t paid = Count(
      sql, "SELECT coalesce(sum(total_amount_paise), 0) FROM orders WHERE payment_status = 'paid'",
      out);
  if (captured != paid) {
    out.push_back("captured " + std::to_string(captured) + " paise against paid orders of " +
                  std::to_string(paid));
  }

  // Deliveries.
  r.deliveries_acknowledged = static_cast<int64_t>(deliveries.size());
  r.deliveries_found = ExpectAllFound(sql, "deliveries", "found",
                                      "SELECT count(*) FROM delivery_verifications "
                                      "WHERE status = 'verified' AND id IN ({})",
                                      deliveries, out);
  ExpectZero(sql, "orders delivered twice",
             "SELECT count(*) FROM (SELECT order_id FROM delivery_verifications "
             "WHERE status = 'verified' GROUP BY order_id HAVING count(*) > 1) t",
             out);
  ExpectZero(sql, "delivered orders without a verification",
             "SELECT count(*) FROM orders o WHERE o.status = 'delivered' AND NOT EXISTS "
             "(SELECT 1 FROM delivery_verifications d WHERE d.order_id = o.id "
             "AND d.status = 'verified')",
             out);
  ExpectZero(sql, "verifications of orders that are not delivered",
             "SELECT count(*) FROM delivery_verifications d JOIN orders o ON o.id = d.order_id "
             "WHERE d.status = 'verified' AND o.status <> 'delivered'",
             out);
  const std::string day = Quote(base_date);
  const int64_t scans = CountIn(sql,
                                "SELECT count(*) FROM delivery_verifications d "
                                "JOIN rfid_cards c ON c.id = d.card_id "
                                "JOIN orders o ON o.id = d.order_id "
                                "WHERE d.status = 'verified' AND o.delivery_date = " +
                                    day + " AND c.card_number IN ({})",
                                cards, out);
  const int64_t delivered_today = CountIn(sql,
                                          "SELECT count(*) FROM orders o "
                                          "JOIN rfid_cards c ON c.student_id = o.student_id "
                                          "WHERE o.status = 'delivered' AND o.delivery_date = " +
                                              day + " AND c.card_number IN ({})",
                                          cards, out);
  if (scans != delivered_today || scans < static_cast<int64_t>(cards.size())) {
    out.push_back("the scanned cards have " + std::to_string(scans) + " deliveries today for " +
                  std::to_string(delivered_today) + " delivered orders and " +
                  std::to_string(cards.size()) + " acknowledged scans");
  }
  return r;
}

}  // namespace hasivu::reliability
