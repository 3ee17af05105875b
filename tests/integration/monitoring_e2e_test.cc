// End-to-end monitoring (issue 13): a live `hasivu serve` (SQLite, demo data, EMF lines every
// second into a file, alarms every 10 s) driven through all ten functions, then read from the
// outside as an operator would: /metrics, the monitoring dashboard JSON, the EMF file, and
// `hasivu cloudwatch-config`, whose every dashboard and alarm series must be one this server
// really wrote (the live half of app/cloudwatch_config_test.cc's agreement test).
//
// The test counts every request it makes, by the server's route name, and the server's numbers
// must match those counts exactly. The process's first request is the test's own (the harness
// waits for the "listening" line instead of probing /healthz): an admin login, which must be
// cold start's and not in the warm latency series.
//
// Only bounded polls wait (for the first EMF flush, the first alarm evaluation); nothing asserts
// a duration.
#include <signal.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "metrics/testing/emf_check.h"
#include "tests/integration/api_fixture.h"
#include "tests/integration/harness.h"

namespace hasivu::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr const char* kNamespace = "HASIVU/Performance";
// The ten functions of api.md, as the server names their routes and the Function dimension.
const std::vector<std::string> kTenFunctions = {
    "auth-register",         "auth-login",      "users-get",
    "menus-daily",           "orders-list",     "orders-create",
    "payments-create-order", "payments-verify", "rfid-verify-card",
    "monitoring-dashboard"};
// The process's first request goes to this function.
constexpr const char* kFirstFunction = "auth-login";

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// Polls `done` every 200 ms until it holds or `limit` passes; returns its last answer.
bool WaitFor(const std::function<bool()>& done, milliseconds limit) {
  const auto deadline = steady_clock::now() + limit;
  while (true) {
    if (done()) return true;
    if (steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(200));
  }
}

int64_t WallMillis() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- Prometheus text ----------------------------------------------------------------------------

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<Sample> ParseSamples(const std::string& text) {
  std::vector<Sample> out;
  for (const std::string& line : Lines(text)) {
    if (line[0] == '#') continue;
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') s.name += line[i++];
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::string key, value;
        while (i < line.size() && line[i] != '=') key += line[i++];
        i += 2;  // ="
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) ++i;
          value += line[i++];
        }
        ++i;  // closing quote
        if (i < line.size() && line[i] == ',') ++i;
        s.labels[key] = value;
      }
      ++i;  // }
    }
    s.value = std::strtod(line.c_str() + i, nullptr);
    out.push_back(std::move(s));
  }
  return out;
}

// The sum of the samples of `name` whose labels include `labels`; nullopt when there is none.
std::optional<double> Sum(const std::vector<Sample>& samples, const std::string& name,
                          const std::map<std::string, std::string>& labels = {}) {
  std::optional<double> sum;
  for (const Sample& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (match) sum = sum.value_or(0) + s.value;
  }
  return sum;
}

// ---- EMF lines, read as CloudWatch would --------------------------------------------------------

// A series as CloudWatch names it: namespace, metric name, dimension (name, value) set.
struct SeriesRef {
  std::string ns, name;
  std::map<std::string, std::string> dims;
  auto operator<=>(const SeriesRef&) const = default;
};

std::string ToString(const SeriesRef& r) {
  std::string s = r.name + "{";
  for (const auto& [n, v] : r.dims) s += n + "=" + v + ",";
  if (s.back() == ',') s.pop_back();
  return s + "}";
}

struct SeriesTotal {
  size_t values = 0;  // numbers received: array elements, or one per plain number
  double sum = 0;     // their sum
};

struct EmfFile {
  size_t documents = 0;
  std::vector<std::string> invalid;  // CheckEmfDocument's findings, with the line
  std::set<std::string> namespaces;
  std::map<SeriesRef, SeriesTotal> series;
  std::vector<std::string> dimension_values;  // "Name=value", every one seen
  int64_t first_timestamp = 0, last_timestamp = 0;
};

double Number(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  return v.as_double();
}

EmfFile ReadEmf(const std::string& path) {
  EmfFile f;
  for (const std::string& line : Lines(Slurp(path))) {
    ++f.documents;
    const std::string problem = metrics::testing::CheckEmfDocument(line);
    if (!problem.empty()) {
      f.invalid.push_back(problem + ": " + line.substr(0, 300));
      continue;
    }
    const json::object root = json::parse(line).as_object();
    const int64_t ts = root.at("_aws").at("Timestamp").to_number<int64_t>();
    if (f.first_timestamp == 0) f.first_timestamp = ts;
    f.last_timestamp = ts;
    for (const json::value& d : root.at("_aws").at("CloudWatchMetrics").as_array()) {
      const std::string ns(d.at("Namespace").as_string());
      f.namespaces.insert(ns);
      for (const json::value& set : d.at("Dimensions").as_array()) {
        SeriesRef ref{ns, "", {}};
        for (const json::value& n : set.as_array()) {
          const std::string name(n.as_string());
          ref.dims[name] = std::string(root.at(name).as_string());
          f.dimension_values.push_back(name + "=" + ref.dims[name]);
        }
        for (const json::value& m : d.at("Metrics").as_array()) {
          ref.name = std::string(m.at("Name").as_string());
          SeriesTotal& t = f.series[ref];
          const json::value& v = root.at(ref.name);
          if (v.is_array()) {
            for (const json::value& x : v.as_array()) {
              ++t.values;
              t.sum += Number(x);
            }
          } else {
            ++t.values;
            t.sum += Number(v);
          }
        }
      }
    }
  }
  return f;
}

// What `hasivu cloudwatch-config` output names: every dashboard widget's metric lines and every
// alarm's metric, with exact dimensions.
std::set<SeriesRef> ReferencedSeries(const json::object& config) {
  std::set<SeriesRef> out;
  for (const json::value& d : config.at("Dashboards").as_array()) {
    const json::object body = json::parse(d.at("DashboardBody").as_string()).as_object();
    for (const json::value& w : body.at("widgets").as_array()) {
      for (const json::value& line : w.at("properties").at("metrics").as_array()) {
        const json::array& a = line.as_array();
        SeriesRef r{std::string(a.at(0).as_string()), std::string(a.at(1).as_string()), {}};
        for (size_t i = 2; i + 1 < a.size() && a[i].is_string(); i += 2) {
          r.dims[std::string(a[i].as_string())] = std::string(a[i + 1].as_string());
        }
        out.insert(std::move(r));
      }
    }
  }
  for (const json::value& a : config.at("Alarms").as_array()) {
    SeriesRef r{std::string(a.at("Namespace").as_string()),
                std::string(a.at("MetricName").as_string()),
                {}};
    for (const json::value& dim : a.at("Dimensions").as_array()) {
      r.dims[std::string(dim.at("Name").as_string())] = std::string(dim.at("Value").as_string());
    }
    out.insert(std::move(r));
  }
  return out;
}

// ---- the client ---------------------------------------------------------------------------------

// Sends requests and counts each under the server's name of its route ("metrics", "unmatched",
// "auth-login", ...), so the server's counters can be compared with what was really sent.
class Client {
 public:
  explicit Client(int port) : port_(port) {}

  ApiResponse Call(const std::string& route, const std::string& method, const std::string& target,
                   const std::string& token = "", const std::string& body = "") {
    std::vector<std::string> headers;
    if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
    if (!body.empty()) headers.push_back("Content-Type: application/json");
    HttpResponse raw = HttpRequest(port_, method, target, headers, body);
    ++sent_[route];
    ApiResponse r;
    r.status = raw.ok ? raw.status : 0;
    r.headers = std::move(raw.headers);
    r.body = std::move(raw.body);
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (!ec) r.json = std::move(v);
    return r;
  }

  // A login's access token ("" with a test failure when it did not answer 200).
  std::string Login(const json::value& account, int expect = 200) {
    ApiResponse r = Call("auth-login", "POST", "/api/v1/auth/login", "",
                         Json(json::object{{"email", Str(account, "email")},
                                           {"password", Str(account, "password")}}));
    EXPECT_EQ(r.status, expect) << r.body;
    if (r.status != 200) return "";
    return Str(r.Data().at("tokens"), "accessToken");
  }

  std::vector<Sample> Metrics() {
    ApiResponse r = Call("metrics", "GET", "/metrics");
    EXPECT_EQ(r.status, 200);
    return ParseSamples(r.body);
  }

  int Sent(const std::string& route) const {
    auto it = sent_.find(route);
    return it == sent_.end() ? 0 : it->second;
  }
  int SentInAll() const {
    int n = 0;
    for (const auto& [route, count] : sent_) n += count;
    return n;
  }
  const std::map<std::string, int>& sent() const { return sent_; }

 private:
  const int port_;
  std::map<std::string, int> sent_;
};

// ---- the test -----------------------------------------------------------------------------------

class MonitoringE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(HasivuBinary().empty()) << "HASIVU_BINARY is not set";
    std::string error;
    store_ = EmptyStore::Create(&error);
    ASSERT_NE(store_, nullptr) << error;
    emf_path_ = store_->data_dir() + "/emf.jsonl";
  }
  void TearDown() override {
    server_.reset();  // the server stops before its store goes
    store_.reset();
  }

  // The demo data the server seeded.
  const json::object& Fixtures() {
    if (fixtures_.empty()) {
      fixtures_ = json::parse(Slurp(store_->data_dir() + "/fixtures.json")).as_object();
    }
    return fixtures_;
  }
  const json::value& School(size_t i) { return Fixtures().at("schools").at(i); }
  const json::value& Parent() { return School(0).at("parents").at(0); }

  // Traffic through all ten functions (and a few routes beside them). Returns the created
  // order's total (paise).
  int64_t DriveTraffic(Client& c);
  void CheckMetrics(Client& c, const std::vector<Sample>& m, int64_t order_total);
  void CheckDashboard(Client& c, const json::object& config, double* cold_start_ms);
  void CheckEmf(const EmfFile& emf, const Client& c, int64_t order_total, double cold_start_ms,
                const std::set<SeriesRef>& referenced, int64_t stopped_at_ms);

  std::unique_ptr<EmptyStore> store_;
  std::unique_ptr<ServerProcess> server_;
  std::string emf_path_;
  json::object fixtures_;
  std::string admin_token_;
};

int64_t MonitoringE2eTest::DriveTraffic(Client& c) {
  // The process's first request: cold start's.
  admin_token_ = c.Login(Fixtures().at("admin"));
  const std::string& admin = admin_token_;
  const std::string parent = c.Login(Parent());
  const std::string kitchen = c.Login(School(0).at("kitchenStaff").at(0));
  c.Login(json::object{{"email", Str(Parent(), "email")}, {"password", "not-the-password"}}, 401);

  ApiResponse registered = c.Call("auth-register", "POST", "/api/v1/auth/register", "",
                                  Json(json::object{{"email", "e2e.parent@monitoring-e2e.example"},
                                                    {"password", "Str0ng!pass"},
                                                    {"firstName", "Asha"},
                                                    {"lastName", "Rao"}}));
  EXPECT_EQ(registered.status, 201) << registered.body;

  EXPECT_EQ(c.Call("users-get", "GET", "/api/v1/users/me", parent).status, 200);
  EXPECT_EQ(c.Call("users-get", "GET", "/api/v1/users/me").status, 401);

  // menus-daily twice (the second from the cache), then one order from that menu.
  const std::string school = Str(School(0), "id");
  const std::string date = NextWeekday(std::string(Fixtures().at("baseDate").as_string()), 2);
  const std::string menu_target = "/api/v1/menus/daily?schoolId=" + school + "&date=" + date;
  ApiResponse menu = c.Call("menus-daily", "GET", menu_target, parent);
  EXPECT_EQ(menu.status, 200) << menu.body;
  EXPECT_EQ(c.Call("menus-daily", "GET", menu_target, parent).status, 200);
  std::string item;
  if (const json::value* items = menu.Data().if_contains("items")) {
    for (const json::value& m : items->as_array()) {
      const json::value& available = m.at("availableQuantity");
      if (m.at("maxPerOrder").is_null() && (available.is_null() || available.as_int64() >= 5)) {
        item = Str(m, "menuItemId");
        break;
      }
    }
  }
  EXPECT_FALSE(item.empty()) << menu.body;

  EXPECT_EQ(c.Call("orders-list", "GET", "/api/v1/orders?limit=5", parent).status, 200);
  EXPECT_EQ(c.Call("orders-list", "GET", "/api/v1/orders?limit=5", parent).status, 200);
  EXPECT_EQ(c.Call("orders-list", "GET", "/api/v1/orders?limit=5", admin).status, 200);

  const std::string child = Str(Parent().at("children").at(0), "id");
  ApiResponse created =
      c.Call("orders-create", "POST", "/api/v1/orders", parent,
             Json(json::object{
                 {"studentId", child},
                 {"deliveryDate", date},
                 {"items", json::array{json::object{{"menuItemId", item}, {"quantity", 1}}}}}));
  EXPECT_EQ(created.status, 201) << created.body;
  ApiResponse invalid = c.Call("orders-create", "POST", "/api/v1/orders", parent,
                               Json(json::object{{"deliveryDate", date}}));
  EXPECT_EQ(invalid.status, 400) << invalid.body;
  const json::value* order = created.Data().if_contains("order");
  if (order == nullptr) {
    ADD_FAILURE() << "no order created: " << created.body;
    return 0;
  }
  const std::string order_id = Str(*order, "id");
  const int64_t total = order->at("totalAmount").as_int64();

  // Pay for it on the simulated gateway.
  ApiResponse payment = c.Call("payments-create-order", "POST", "/api/v1/payments/orders", parent,
                               Json(json::object{{"orderId", order_id}}));
  EXPECT_EQ(payment.status, 201) << payment.body;
  std::string gateway_order;
  if (const json::value* po = payment.Data().if_contains("paymentOrder")) {
    gateway_order = Str(*po, "gatewayOrderId");
  }
  ApiResponse paid =
      c.Call("payments-simulate", "POST", "/api/v1/payments/simulate", parent,
             Json(json::object{{"razorpayOrderId", gateway_order}, {"outcome", "success"}}));
  EXPECT_EQ(paid.status, 200) << paid.body;
  ApiResponse verified =
      c.Call("payments-verify", "POST", "/api/v1/payments/verify", parent,
             Json(json::object{{"razorpayOrderId", Str(paid.Data(), "razorpayOrderId")},
                               {"razorpayPaymentId", Str(paid.Data(), "razorpayPaymentId")},
                               {"razorpaySignature", Str(paid.Data(), "razorpaySignature")}}));
  EXPECT_EQ(verified.status, 200) << verified.body;

  // The kitchen delivers a seeded order of today: the school's third student from the end has
  // one out for delivery (rfid_api_test.cc describes the seeding).
  std::vector<json::value> students;
  for (const json::value& p : School(0).at("parents").as_array()) {
    for (const json::value& s : p.at("children").as_array()) students.push_back(s);
  }
  const json::value& student = students.at(students.size() - 3);
  EXPECT_TRUE(student.at("cardActive").as_bool() && !student.at("cardExpired").as_bool());
  ApiResponse scan =
      c.Call("rfid-verify-card", "POST", "/api/v1/rfid/verify", kitchen,
             Json(json::object{{"cardNumber", Str(student, "cardNumber")},
                               {"readerId", Str(School(0).at("readers").at(0), "id")}}));
  EXPECT_EQ(scan.status, 200) << scan.body;

  EXPECT_EQ(c.Call("monitoring-dashboard", "GET", "/api/v1/monitoring/dashboard", parent).status,
            403);
  EXPECT_EQ(c.Call("monitoring-dashboard", "GET", "/api/v1/monitoring/dashboard", admin).status,
            200);
  EXPECT_EQ(c.Call("unmatched", "GET", "/api/v1/no-such-thing").status, 404);
  EXPECT_EQ(c.Call("healthz", "GET", "/healthz").status, 200);
  return total;
}

void MonitoringE2eTest::CheckMetrics(Client& c, const std::vector<Sample>& m, int64_t order_total) {
  // Requests and warm latency, per route: every request counted; the first one (an auth-login)
  // is cold start's, not in hasivu_http_request_duration_seconds.
  double requests_in_all = 0, latencies_in_all = 0;
  for (const auto& [route, sent] : c.sent()) {
    // The /metrics request being answered is counted once answered: not in `m`.
    const int answered = route == "metrics" ? sent - 1 : sent;
    const int first = route == kFirstFunction ? 1 : 0;
    EXPECT_EQ(Sum(m, "hasivu_http_requests_total", {{"route", route}}), answered) << route;
    EXPECT_EQ(Sum(m, "hasivu_http_request_duration_seconds_count", {{"route", route}}),
              answered - first)
        << route;
  }
  for (const Sample& s : m) {
    if (s.name == "hasivu_http_requests_total") requests_in_all += s.value;
    if (s.name == "hasivu_http_request_duration_seconds_count") latencies_in_all += s.value;
  }
  EXPECT_EQ(requests_in_all, c.SentInAll() - 1);  // less the /metrics request being answered
  EXPECT_EQ(latencies_in_all, requests_in_all - 1) << "exactly one request is cold start's";

  // The monitor's own series.
  EXPECT_EQ(Sum(m, "hasivu_business_events_total", {{"event", "order_created"}}), 1);
  EXPECT_EQ(Sum(m, "hasivu_business_events_total", {{"event", "payment_captured"}}), 1);
  EXPECT_EQ(Sum(m, "hasivu_business_events_total", {{"event", "delivery_verified"}}), 1);
  EXPECT_EQ(Sum(m, "hasivu_business_amount_paise_total", {{"event", "order_created"}}),
            order_total);
  EXPECT_EQ(Sum(m, "hasivu_flow_cumulative_duration_seconds_count",
                {{"flow", "orders_create"}, {"checkpoint", "invalidated"}}),
            1);
  EXPECT_EQ(Sum(m, "hasivu_cold_start_duration_seconds_count", {{"store", "sqlite"}}), 1);
  EXPECT_GT(Sum(m, "hasivu_cold_start_duration_seconds_sum", {{"store", "sqlite"}}).value_or(0), 0);
  EXPECT_GT(Sum(m, "hasivu_memory_rss_bytes").value_or(0), 0);
  EXPECT_EQ(Sum(m, "hasivu_metrics_dropped_series_total"), 0) << "a series over the limits";
  EXPECT_EQ(Sum(m, "hasivu_metrics_dropped_observations_total"), 0);

  // The access log and the EMF flusher.
  EXPECT_GT(Sum(m, "hasivu_access_log_lines_total").value_or(0), 0);
  EXPECT_EQ(Sum(m, "hasivu_access_log_dropped_total"), 0);
  EXPECT_GT(Sum(m, "hasivu_emf_documents_total").value_or(0), 0);
  EXPECT_EQ(Sum(m, "hasivu_emf_dropped_documents_total"), 0);
  EXPECT_EQ(Sum(m, "hasivu_emf_dropped_values_total"), 0);

  // Alarm gauges: three states per alarm, exactly one of them 1.
  std::map<std::string, std::map<std::string, double>> states;
  for (const Sample& s : m) {
    if (s.name == "hasivu_alarm_state")
      states[s.labels.at("alarm")][s.labels.at("state")] = s.value;
  }
  EXPECT_EQ(states.size(), 15u);
  for (const auto& [alarm, by_state] : states) {
    EXPECT_EQ(by_state.size(), 3u) << alarm;
    double ones = 0;
    for (const auto& [state, v] : by_state) {
      EXPECT_TRUE(state == "OK" || state == "ALARM" || state == "INSUFFICIENT_DATA") << state;
      EXPECT_TRUE(v == 0 || v == 1) << alarm << " " << state << " " << v;
      ones += v;
    }
    EXPECT_EQ(ones, 1) << alarm;
  }
}

void MonitoringE2eTest::CheckDashboard(Client& c, const json::object& config,
                                       double* cold_start_ms) {
  std::map<std::string, int> before = c.sent();  // the dashboard request itself is not counted
  ApiResponse r =
      c.Call("monitoring-dashboard", "GET", "/api/v1/monitoring/dashboard", admin_token_);
  ASSERT_EQ(r.status, 200) << r.body;
  const json::object& d = r.Data();

  // Cold start: exec -> listening + the first request's own service time, reported apart.
  const json::object& service = d.at("service").as_object();
  ASSERT_TRUE(service.at("coldStart").is_object()) << json::serialize(service);
  const json::object& cold = service.at("coldStart").as_object();
  EXPECT_EQ(cold.at("store").as_string(), "sqlite");
  const double total = Number(cold.at("totalMs")), init = Number(cold.at("initMs")),
               first = Number(cold.at("firstRequestMs"));
  EXPECT_GT(init, 0);
  EXPECT_GT(first, 0);
  EXPECT_NEAR(total, init + first, 0.0015);  // each rounded to 0.001 ms
  EXPECT_EQ(Number(service.at("coldStartMs")), total);
  *cold_start_ms = total;

  // Every endpoint's count is what was sent to it.
  const json::array& endpoints = d.at("endpoints").as_array();
  EXPECT_EQ(endpoints.size(), kTenFunctions.size());
  for (const json::value& e : endpoints) {
    const std::string f(e.at("function").as_string());
    EXPECT_TRUE(e.at("routed").as_bool()) << f;
    EXPECT_EQ(e.at("count").to_number<int64_t>(), before[f]) << f;
    EXPECT_TRUE(e.at("p95Ms").is_number()) << f << ": a warm request was sent to each";
  }
  int ten = 0;
  for (const std::string& f : kTenFunctions) ten += before[f];
  EXPECT_EQ(d.at("runtime").at("requestsTotal").to_number<int64_t>(), ten);

  // The alarms the server evaluates are the ones `cloudwatch-config` hands to CloudWatch: same
  // names, series (with exact dimensions), statistic, period and threshold.
  std::map<std::string, const json::object*> put_alarms;
  for (const json::value& a : config.at("Alarms").as_array()) {
    put_alarms[std::string(a.at("AlarmName").as_string())] = &a.as_object();
  }
  const json::array& alarms = d.at("alarms").as_array();
  EXPECT_EQ(alarms.size(), 15u);
  EXPECT_EQ(put_alarms.size(), 15u);
  for (const json::value& av : alarms) {
    const json::object& a = av.as_object();
    const std::string name(a.at("name").as_string());
    const std::string state(a.at("state").as_string());
    // After the first evaluation (waited for): every alarm has data or treats missing data.
    EXPECT_TRUE(state == "ok" || state == "alarm") << name << ": " << state;
    EXPECT_FALSE(a.at("reason").as_string().empty()) << name;
    EXPECT_FALSE(a.at("transitions").as_array().empty()) << name;
    EXPECT_EQ(a.at("periodSeconds").to_number<int>(), 10) << name;
    auto it = put_alarms.find(name);
    if (it == put_alarms.end()) {
      ADD_FAILURE() << name << " is evaluated by the server but not in cloudwatch-config";
      continue;
    }
    const json::object& p = *it->second;
    std::string metric(p.at("MetricName").as_string());
    if (!p.at("Dimensions").as_array().empty()) {
      metric += "{";
      for (const json::value& dim : p.at("Dimensions").as_array()) {
        metric += std::string(dim.at("Name").as_string()) + "=" +
                  std::string(dim.at("Value").as_string()) + ",";
      }
      metric.back() = '}';
    }
    EXPECT_EQ(a.at("metric").as_string(), metric) << name;
    const json::value* stat = p.if_contains("ExtendedStatistic");
    if (stat == nullptr) stat = &p.at("Statistic");
    EXPECT_EQ(a.at("statistic"), *stat) << name;
    EXPECT_EQ(Number(a.at("threshold")), Number(p.at("Threshold"))) << name;
    EXPECT_EQ(Number(p.at("Period")), 10) << name;
    if (name == "hasivu-cold-start") {
      // Its datapoint is the cold start (a histogram's Maximum: within the bucket error).
      ASSERT_TRUE(a.at("value").is_number()) << json::serialize(a);
      EXPECT_NEAR(Number(a.at("value")), total, total / 16 + 0.01);
      if (std::fabs(total - 1000) > 100) {
        EXPECT_EQ(state, total > 1000 ? "alarm" : "ok");
      }
    }
  }
}

void MonitoringE2eTest::CheckEmf(const EmfFile& emf, const Client& c, int64_t order_total,
                                 double cold_start_ms, const std::set<SeriesRef>& referenced,
                                 int64_t stopped_at_ms) {
  ASSERT_GT(emf.documents, 0u);
  for (const std::string& problem : emf.invalid) ADD_FAILURE() << problem;
  EXPECT_EQ(emf.namespaces, std::set<std::string>{kNamespace});
  // The last interval was flushed on the way out.
  EXPECT_GE(emf.last_timestamp, stopped_at_ms);

  auto total = [&](const std::string& name,
                   const std::map<std::string, std::string>& dims) -> SeriesTotal {
    auto it = emf.series.find({kNamespace, name, dims});
    return it == emf.series.end() ? SeriesTotal{} : it->second;
  };
  // Every request, in some interval; warm latency without the first request.
  for (const std::string& f : kTenFunctions) {
    const int first = f == kFirstFunction ? 1 : 0;
    EXPECT_EQ(total("ApiRequests", {{"Function", f}}).sum, c.Sent(f)) << f;
    EXPECT_EQ(total("ApiLatency", {{"Function", f}}).values, size_t(c.Sent(f) - first)) << f;
    EXPECT_EQ(total("ApiServerErrors", {{"Function", f}}).sum, 0) << f;
  }
  EXPECT_EQ(total("ApiErrorRate", {}).sum, 0);
  // Cold start, once, with its parts.
  const SeriesTotal cold = total("ColdStartDuration", {{"Store", "sqlite"}});
  EXPECT_EQ(cold.values, 1u);
  EXPECT_NEAR(cold.sum, cold_start_ms, cold_start_ms / 16 + 0.01);
  EXPECT_EQ(total("ColdStartInitDuration", {{"Store", "sqlite"}}).values, 1u);
  EXPECT_EQ(total("ColdStartFirstRequestDuration", {{"Store", "sqlite"}}).values, 1u);
  // Business events.
  EXPECT_EQ(total("BusinessEvents", {{"Event", "order_created"}}).sum, 1);
  EXPECT_EQ(total("BusinessEvents", {{"Event", "payment_captured"}}).sum, 1);
  EXPECT_EQ(total("BusinessEvents", {{"Event", "delivery_verified"}}).sum, 1);
  EXPECT_EQ(total("BusinessAmountPaise", {{"Event", "order_created"}}).sum, order_total);
  EXPECT_GE(total("DatabaseQueryDuration", {{"QueryKind", "write"}}).values, 1u);

  // Bounded dimensions: values from the fixed sets, never an id.
  const std::regex uuid(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  const std::set<std::string> functions(kTenFunctions.begin(), kTenFunctions.end());
  for (const std::string& dv :
       std::set<std::string>(emf.dimension_values.begin(), emf.dimension_values.end())) {
    const std::string name = dv.substr(0, dv.find('=')), value = dv.substr(dv.find('=') + 1);
    EXPECT_FALSE(std::regex_search(value, uuid)) << dv;
    EXPECT_LE(value.size(), 64u) << dv;
    EXPECT_FALSE(name.ends_with("Id") || name.ends_with("ID")) << dv;
    // Store, Tier, QueryKind and Function: the server's fixed values.
    static const std::map<std::string, std::set<std::string>> kFixed = {
        {"Store", {"sqlite"}}, {"Tier", {"memory"}}, {"QueryKind", {"read", "write"}}};
    if (name == "Function") {
      EXPECT_TRUE(functions.contains(value)) << dv;
    } else if (kFixed.contains(name)) {
      EXPECT_TRUE(kFixed.at(name).contains(value)) << dv;
    }
  }

  // The live agreement: every series a dashboard or alarm names, this server wrote.
  EXPECT_GT(referenced.size(), 30u);
  for (const SeriesRef& r : referenced) {
    EXPECT_EQ(r.ns, kNamespace) << ToString(r);
    EXPECT_TRUE(emf.series.contains(r))
        << ToString(r) << " is named by cloudwatch-config but the live server never wrote it";
  }
}

TEST_F(MonitoringE2eTest, TrafficShowsInMetricsDashboardAndEmfAsCloudWatchConfigNamesIt) {
  server_ = std::make_unique<ServerProcess>(
      std::vector<std::string>{"--data-dir", store_->data_dir(), "--store", store_->url(),
                               "--log-level", "warn", "--argon2-opslimit", "1",
                               "--argon2-memlimit-kib", "8", "--emf-output", emf_path_,
                               "--emf-interval", "1", "--alarm-period", "10"},
      std::map<std::string, std::string>{}, seconds(60), ReadyWhen::kListeningLine);
  ASSERT_TRUE(server_->started()) << server_->Stderr();
  Client c(server_->port());

  const int64_t order_total = DriveTraffic(c);
  ASSERT_FALSE(HasFailure()) << "the traffic did not go as planned";

  // The first EMF flush (every second) and the first alarm evaluation (every 10 s).
  EXPECT_TRUE(WaitFor([&] { return !Lines(Slurp(emf_path_)).empty(); }, seconds(10)))
      << "no EMF line written";
  std::vector<Sample> m;
  EXPECT_TRUE(WaitFor(
      [&] {
        m = c.Metrics();
        return Sum(m, "hasivu_emf_documents_total").value_or(0) > 0 &&
               Sum(m, "hasivu_alarm_state",
                   {{"alarm", "hasivu-cold-start"}, {"state", "INSUFFICIENT_DATA"}}) == 0;
      },
      seconds(30)))
      << "no EMF flush or no alarm evaluation";
  CheckMetrics(c, m, order_total);

  // What cloudwatch-config gives CloudWatch for this server (and its alarm period).
  const CommandResult config_run =
      RunCommand({HasivuBinary(), "cloudwatch-config", "--store", "sqlite", "--cache", "memory",
                  "--alarm-period", "10"},
                 {}, seconds(30));
  ASSERT_EQ(config_run.exit_code, 0) << config_run.err;
  const json::object config = json::parse(config_run.out).as_object();
  EXPECT_EQ(config.at("Namespace").as_string(), kNamespace);

  double cold_start_ms = 0;
  CheckDashboard(c, config, &cold_start_ms);

  // One request at the very end: the flusher's last interval (written on SIGTERM) holds it.
  EXPECT_EQ(c.Call("users-get", "GET", "/api/v1/users/me").status, 401);
  const int64_t stopped_at_ms = WallMillis();
  EXPECT_EQ(server_->StopWith(SIGTERM), 0) << server_->Stderr();

  CheckEmf(ReadEmf(emf_path_), c, order_total, cold_start_ms, ReferencedSeries(config),
           stopped_at_ms);

  // The access log: a line per request, the first one marked cold.
  int access_lines = 0;
  std::vector<std::string> cold_lines;
  for (const std::string& line : Lines(server_->Stdout())) {
    if (line.rfind("{\"ts\":", 0) != 0) continue;
    ++access_lines;
    if (line.find("\"cold\":true") != std::string::npos) cold_lines.push_back(line);
  }
  EXPECT_EQ(access_lines, c.SentInAll());
  ASSERT_EQ(cold_lines.size(), 1u);
  EXPECT_NE(cold_lines[0].find("\"path\":\"/api/v1/auth/login\""), std::string::npos)
      << cold_lines[0];
}

}  // namespace
}  // namespace hasivu::testing
