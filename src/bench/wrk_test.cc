#include "bench/wrk.h"

#include <gtest/gtest.h>

namespace hasivu::bench {
namespace {

// As wrk 4.1 (Debian 12) prints it with --latency.
constexpr std::string_view kReport =
    R"(Running 10s test @ http://127.0.0.1:18093/api/v1/orders?limit=20
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   735.06us  222.98us   8.98ms   92.60%
    Req/Sec    67.89k     2.56k   71.54k    78.00%
  Latency Distribution
     50%  693.00us
     75%  766.00us
     90%  869.00us
     99%    1.56ms
  675620 requests in 10.00s, 60.57MB read
  Non-2xx or 3xx responses: 12
Requests/sec:  67553.47
Transfer/sec:      6.06MB
)";

TEST(WrkOutputTest, ReadsThroughputPercentilesAndCounts) {
  auto r = ParseWrkOutput(kReport);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->requests_per_second, 67553.47);
  EXPECT_DOUBLE_EQ(r->p50_ms, 0.693);
  EXPECT_DOUBLE_EQ(r->p99_ms, 1.56);
  EXPECT_EQ(r->requests, 675620u);
  EXPECT_EQ(r->non_2xx, 12u);
}

TEST(WrkOutputTest, LatenciesInSecondsAndMinutesAreConverted) {
  std::string text(kReport);
  text.replace(text.find("693.00us"), 8, "2.50s");
  text.replace(text.find("1.56ms"), 6, "1.00m");
  auto r = ParseWrkOutput(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->p50_ms, 2500);
  EXPECT_DOUBLE_EQ(r->p99_ms, 60000);
}

TEST(WrkOutputTest, AReportWithoutTheFiguresIsAnError) {
  EXPECT_FALSE(ParseWrkOutput("unable to connect to 127.0.0.1:1 Connection refused\n").ok());
  std::string no_latency(kReport);
  no_latency.erase(no_latency.find("  Latency Distribution"),
                   no_latency.find("  675620") - no_latency.find("  Latency Distribution"));
  auto r = ParseWrkOutput(no_latency);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--latency"), std::string::npos);
}

TEST(WrkRunTest, AMissingProgramAndABodyAreRefusedBeforeAnythingRuns) {
  Endpoint e{"127.0.0.1", 1, ""};
  Request get;
  get.target = "/healthz";
  WrkOptions o;
  o.program = "/nonexistent/wrk";
  auto missing = RunWrk(e, get, o);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kFailedPrecondition);
  Request post = get;
  post.method = "POST";
  post.body = "{}";
  auto refused = RunWrk(e, post, WrkOptions{});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hasivu::bench
