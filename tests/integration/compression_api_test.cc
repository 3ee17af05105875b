// Response compression through a seeded `hasivu serve` (issue 4): what the server sends for each
// Accept-Encoding is decoded and compared with the identity answer; ETags per encoding with
// If-None-Match → 304; /metrics and the monitoring dashboard's compression summary; and the
// --compression flags.
#include <boost/json.hpp>
#include <string>

#include "compress/codec.h"
#include "compress/negotiation.h"
#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

namespace json = boost::json;
using compress::Encoding;

constexpr char kMonitoringToken[] = "monitoring-token-compression-5e1d93a7";
constexpr char kOrders[] = "/api/v1/orders?limit=100";

json::value DataOf(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("data")) return nullptr;
  return v.at("data");
}

class CompressionApiTest : public ApiSuite {
 public:
  static void SetUpTestSuite() {
    SetServerOptions({"--monitoring-token", kMonitoringToken}, {});
    ApiSuite::SetUpTestSuite();
  }

 protected:
  static std::string AdminToken() {
    static const std::string token = Login(Fixtures().at("admin"));
    return token;
  }
  static ApiResponse Get(const std::string& target, const std::vector<std::string>& headers) {
    return Call("GET", target, AdminToken(), "", headers);
  }
};

TEST_F(CompressionApiTest, OrdersListDecodesToTheIdentityAnswerForEachCodec) {
  const ApiResponse identity = Get(kOrders, {});
  ASSERT_EQ(identity.status, 200) << identity.body;
  EXPECT_EQ(identity.Header("content-encoding"), "");
  EXPECT_EQ(identity.Header("vary"), "Accept-Encoding");
  const json::value data = DataOf(identity.body);
  ASSERT_FALSE(data.is_null());
  const std::string etag = identity.Header("etag");
  ASSERT_FALSE(etag.empty());
  ASSERT_GT(identity.body.size(), 10000u);

  const struct {
    const char* accept;
    Encoding expected;
  } cases[] = {{"gzip, deflate, br, zstd", Encoding::kBrotli},  // Chrome, Firefox
               {"gzip, deflate, br", Encoding::kBrotli},        // Safari
               {"zstd;q=1, br;q=0.5", Encoding::kZstd},
               {"gzip, deflate", Encoding::kGzip},  // Python requests
               {"identity", Encoding::kIdentity},
               {"br;q=0, zstd;q=0, gzip;q=0", Encoding::kIdentity}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.accept);
    const ApiResponse r = Get(kOrders, {std::string("Accept-Encoding: ") + c.accept});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.Header("vary"), "Accept-Encoding");
    EXPECT_EQ(r.Header("content-length"), std::to_string(r.body.size()));
    if (c.expected == Encoding::kIdentity) {
      EXPECT_EQ(r.Header("content-encoding"), "");
      EXPECT_EQ(r.Header("etag"), etag);
      EXPECT_EQ(DataOf(r.body), data);
      continue;
    }
    EXPECT_EQ(r.Header("content-encoding"), compress::EncodingName(c.expected));
    EXPECT_EQ(r.Header("etag"), compress::TagForEncoding(etag, c.expected));
    StatusOr<std::string> decoded = compress::Decode(c.expected, r.body);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    // meta (timestamp, requestId) differs per request; data must be the same.
    EXPECT_EQ(DataOf(*decoded), data);
    // The aim: JSON at least 75 % smaller.
    EXPECT_LT(r.body.size() * 4, decoded->size()) << r.body.size() << " of " << decoded->size();
  }
}

TEST_F(CompressionApiTest, EncodedETagRevalidatesWith304) {
  const ApiResponse first = Get(kOrders, {"Accept-Encoding: br"});
  ASSERT_EQ(first.status, 200);
  const std::string tag = first.Header("etag");
  ASSERT_GT(tag.size(), 5u);
  EXPECT_EQ(tag.substr(tag.size() - 4), "-br\"");

  const ApiResponse again = Get(kOrders, {"Accept-Encoding: br", "If-None-Match: " + tag});
  EXPECT_EQ(again.status, 304) << again.body;
  EXPECT_EQ(again.Header("etag"), tag);
  EXPECT_EQ(again.Header("vary"), "Accept-Encoding");
  EXPECT_TRUE(again.body.empty());

  // A br tag does not validate the gzip variant.
  const ApiResponse gzip = Get(kOrders, {"Accept-Encoding: gzip", "If-None-Match: " + tag});
  EXPECT_EQ(gzip.status, 200);
  EXPECT_EQ(gzip.Header("content-encoding"), "gzip");
  EXPECT_EQ(gzip.Header("etag"), tag.substr(0, tag.size() - 4) + "-gzip\"");
}

TEST_F(CompressionApiTest, SmallAnswersAndHeadAreNotCompressed) {
  const ApiResponse health = Call("GET", "/healthz", "", "", {"Accept-Encoding: br"});
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(health.Header("content-encoding"), "");
  const ApiResponse identity = Get(kOrders, {});
  const ApiResponse head = Call("HEAD", kOrders, AdminToken(), "", {"Accept-Encoding: br"});
  ASSERT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-encoding"), "");
  EXPECT_EQ(head.Header("content-length"), std::to_string(identity.body.size()));
  EXPECT_EQ(head.Header("etag"), identity.Header("etag"));
  const ApiResponse missing = Get("/api/v1/nope", {"Accept-Encoding: br"});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Header("content-encoding"), "");
}

TEST_F(CompressionApiTest, MetricsAndDashboardReportCompression) {
  // Something compressed first (gzip, as Prometheus scrapes).
  ASSERT_EQ(Get(kOrders, {"Accept-Encoding: gzip"}).Header("content-encoding"), "gzip");
  const ApiResponse metrics = Call("GET", "/metrics", "", "", {"Accept-Encoding: gzip"});
  ASSERT_EQ(metrics.status, 200);
  ASSERT_EQ(metrics.Header("content-encoding"), "gzip");
  StatusOr<std::string> text = compress::Decode(Encoding::kGzip, metrics.body);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  for (const char* series : {"hasivu_http_compressed_responses_total{encoding=\"gzip\"}",
                             "hasivu_http_compression_bytes_in_total{encoding=\"gzip\"}",
                             "hasivu_http_compression_bytes_out_total{encoding=\"br\"}",
                             "hasivu_http_compression_seconds_bucket{encoding=\"zstd\"",
                             "hasivu_http_compression_errors_total{encoding=\"br\"} 0"}) {
    EXPECT_NE(text->find(series), std::string::npos) << series;
  }

  const ApiResponse d = Call("GET", "/api/v1/monitoring/dashboard", kMonitoringToken);
  ASSERT_EQ(d.status, 200) << d.body;
  const json::object& c = d.Data().at("compression").as_object();
  EXPECT_GE(c.at("responses").as_int64(), 1);
  EXPECT_GT(c.at("bytesSaved").as_int64(), 0);
  ASSERT_TRUE(c.at("ratio").is_double());
  EXPECT_GT(c.at("ratio").as_double(), 0.0);
  EXPECT_LT(c.at("ratio").as_double(), 0.5);
  EXPECT_EQ(c.at("errors").as_int64(), 0);
  EXPECT_GE(c.at("byEncoding").at("gzip").at("responses").as_int64(), 1);
  EXPECT_EQ(c.at("bytesIn").as_int64() - c.at("bytesOut").as_int64(),
            c.at("bytesSaved").as_int64());
}

class CompressionOffApiTest : public ApiSuite {
 public:
  static void SetUpTestSuite() {
    SetServerOptions({"--compression", "false"}, {{"HASIVU_COMPRESSION_MIN_BYTES", "1"}});
    ApiSuite::SetUpTestSuite();
  }
};

TEST_F(CompressionOffApiTest, FlagTurnsCompressionOff) {
  const ApiResponse r = Call("GET", kOrders, Login(Fixtures().at("admin")), "",
                             {"Accept-Encoding: gzip, deflate, br, zstd"});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-encoding"), "");
  EXPECT_EQ(r.Header("vary"), "");
  EXPECT_FALSE(DataOf(r.body).is_null());
}

class CompressionLevelsApiTest : public ApiSuite {
 public:
  static void SetUpTestSuite() {
    SetServerOptions({"--compression-codecs", "gzip", "--compression-gzip-level", "1"},
                     {{"HASIVU_COMPRESSION_MIN_BYTES", "100000000"}});
    ApiSuite::SetUpTestSuite();
  }
};

TEST_F(CompressionLevelsApiTest, CodecListAndThresholdFromFlagsAndEnvironment) {
  const std::string token = Login(Fixtures().at("admin"));
  // Over the threshold nothing qualifies: identity, still with Vary.
  const ApiResponse r = Call("GET", kOrders, token, "", {"Accept-Encoding: br, gzip"});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-encoding"), "");
  EXPECT_EQ(r.Header("vary"), "Accept-Encoding");
}

TEST(CompressionConfigTest, InvalidFlagsExitTwoNamingTheFlag) {
  const CommandResult r = RunCommand(
      {HasivuBinary(), "serve", "--listen", "127.0.0.1:0", "--compression-brotli-level", "12"}, {},
      std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--compression-brotli-level"), std::string::npos) << r.err;
  const CommandResult codecs =
      RunCommand({HasivuBinary(), "serve", "--listen", "127.0.0.1:0"},
                 {{"HASIVU_COMPRESSION_CODECS", "lz4"}}, std::chrono::seconds(30));
  EXPECT_EQ(codecs.exit_code, 2);
  EXPECT_NE(codecs.err.find("--compression-codecs"), std::string::npos) << codecs.err;
}

TEST(EstimateCompressionTest, PrintsEveryCodecAndLevel) {
  const std::string dir = MakeTempDir("hasivu-estimate");
  const std::string file = dir + "/body.json";
  std::string body;
  for (int i = 0; i < 200; ++i) body += "{\"name\":\"Masala Dosa\",\"price\":4500},";
  {
    FILE* f = std::fopen(file.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(body.data(), 1, body.size(), f);
    std::fclose(f);
  }
  const CommandResult r = RunCommand({HasivuBinary(), "estimate-compression", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(std::to_string(body.size()) + " bytes"), std::string::npos) << r.out;
  for (const char* row : {"br         0", "br        11", "zstd       1", "zstd      19",
                          "gzip       1", "gzip       9"}) {
    EXPECT_NE(r.out.find(row), std::string::npos) << row << "\n" << r.out;
  }
  EXPECT_EQ(r.out.find("FAILED"), std::string::npos);
  const CommandResult missing =
      RunCommand({HasivuBinary(), "estimate-compression", dir + "/missing.json"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("missing.json"), std::string::npos);
}

}  // namespace
}  // namespace hasivu::testing
