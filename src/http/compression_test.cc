// Response compression through a real Server on loopback: what goes over the wire is decoded and
// compared with the identity body.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "compress/codec.h"
#include "compress/negotiation.h"
#include "compress/open_encoded.h"
#include "http/server.h"

namespace hasivu::http {
namespace {

using compress::Encoding;

struct WireResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  bool Has(const std::string& name) const { return headers.count(name) > 0; }
};

// Blocking keep-alive client with a receive timeout (a server bug fails, never hangs).
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{};
    tv.tv_sec = 5;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  WireResponse Read(bool head_request = false) {
    WireResponse r;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return r;
    }
    const std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    const int status = std::stoi(head.substr(9, 3));
    while (line_end != std::string::npos) {
      const size_t next = head.find("\r\n", line_end + 2);
      const std::string line = head.substr(line_end + 2, next - line_end - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        EXPECT_EQ(r.headers.count(name), 0u) << "duplicate header " << name;
        r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      }
      line_end = next;
    }
    size_t length = 0;
    if (!head_request && r.headers.count("content-length")) {
      length = std::stoul(r.headers["content-length"]);
    }
    while (buffer_.size() < length) {
      if (!Fill()) return r;
    }
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    r.status = status;
    return r;
  }

 private:
  bool Fill() {
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

std::string Raw(std::string_view method, std::string_view path, std::string_view headers = "") {
  return std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" +
         std::string(headers) + "\r\n";
}

std::string BigJson() {
  std::string out = "{\"success\":true,\"data\":{\"orders\":[";
  for (int i = 0; i < 60; ++i) {
    out += "{\"id\":\"ord_" + std::to_string(1000 + i) +
           "\",\"status\":\"confirmed\",\"paymentStatus\":\"paid\",\"totalAmount\":" +
           std::to_string(4500 + i * 10) + ",\"currency\":\"INR\",\"itemCount\":2},";
  }
  out.back() = ']';
  out += "}}";
  return out;
}

constexpr char kETag[] = "\"0123456789abcdef\"";

// If-None-Match handling as api/read_helpers.cc does it: identity tags only.
bool Lists(std::string_view inm, std::string_view tag) {
  while (!inm.empty()) {
    const size_t comma = inm.find(',');
    std::string_view t = inm.substr(0, comma);
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (t.substr(0, 2) == "W/") t.remove_prefix(2);
    if (t == tag || t == "*") return true;
    if (comma == std::string_view::npos) break;
    inm.remove_prefix(comma + 1);
  }
  return false;
}

std::string OpenPrefix() {
  std::string out = "{\"success\":true,\"data\":[";
  for (int i = 0; i < 400; ++i) out += "{\"id\":\"ord_" + std::to_string(1000 + i) + "\"},";
  out.back() = ']';
  return out;
}

std::string OpenTail(int n) {
  return ",\"meta\":{\"timestamp\":\"2026-11-27T17:00:00.000Z\",\"requestId\":\"req-" +
         std::to_string(n) + "\"}}";
}

class CompressionTest : public ::testing::Test {
 protected:
  CompressionTest() : registry_(metrics::NewRegistry()) {
    settings_.host = "127.0.0.1";
    settings_.port = 0;
    settings_.io_threads = 1;
    settings_.blocking_threads = 2;
    settings_.access_log = false;
    big_ = BigJson();
    auto json = [](std::string body) {
      Response r;
      r.body = std::move(body);
      return r;
    };
    Add("GET", "/big", [this, json](Request& request) {
      Response r = json(big_);
      r.headers.Set("ETag", kETag);
      const std::string* inm = request.headers.Find("If-None-Match");
      if (inm != nullptr && Lists(*inm, kETag)) {
        Response not_modified;
        not_modified.status = 304;
        not_modified.content_type.clear();
        not_modified.headers.Set("ETag", kETag);
        return not_modified;
      }
      return r;
    });
    Add("GET", "/big-blocking", [this, json](Request&) { return json(big_); },
        {.blocking = true, .name = "big-blocking"});
    Add("GET", "/small", [json](Request&) { return json("{\"success\":true}"); });
    Add("GET", "/png", [this](Request&) {
      Response r;
      r.content_type = "image/png";
      r.body = big_;
      return r;
    });
    Add("GET", "/html-vary", [this](Request&) {
      Response r;
      r.content_type = "text/html; charset=utf-8";
      r.body = big_;
      r.headers.Set("Vary", "Authorization");
      r.headers.Set("Content-Encoding", "gzip");  // not the handler's to set: dropped
      return r;
    });
    Add("POST", "/nothing", [](Request&) {
      Response r;
      r.status = 204;
      r.content_type.clear();
      return r;
    });
    Add("GET", "/pre/{encoding}", [this](Request& request) {
      const Encoding e = *compress::EncodingFromName(request.PathParam("encoding"));
      Response r;
      r.body = *compress::Encode(e, big_, 1);
      r.content_encoding = std::string(request.PathParam("encoding"));
      r.headers.Set("ETag", kETag);
      return r;
    });
    // What the cache does (compress/open_encoded.h): the prefix is encoded once, each request
    // only appends its own tail.
    for (Encoding e : compress::kCodecs) {
      open_[static_cast<size_t>(e)] = *compress::EncodeOpen(e, OpenPrefix(), 1);
    }
    Add("GET", "/open/{encoding}", [this](Request& request) {
      const Encoding e = *compress::EncodingFromName(request.PathParam("encoding"));
      Response r;
      r.body = compress::FinishEncoded(open_[static_cast<size_t>(e)], OpenTail(++open_served_));
      r.content_encoding = std::string(request.PathParam("encoding"));
      r.headers.Set("ETag", kETag);
      return r;
    });
    Add("GET", "/pre-bad", [this](Request&) {
      Response r;
      r.body = big_;
      r.content_encoding = "deflate";
      return r;
    });
  }

  ~CompressionTest() override {
    if (server_) {
      server_->Stop();
      server_->Wait();
    }
    compress::FailEncodesForTest(0);
  }

  void Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {}) {
    ASSERT_TRUE(
        router_.Add(std::move(method), std::move(pattern), std::move(handler), std::move(options))
            .ok());
  }

  void StartServer() {
    auto server = Server::Create(settings_, router_, nullptr, *registry_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    ASSERT_TRUE(server_->Start().ok());
  }

  WireResponse Exchange(const std::string& raw, bool head = false) {
    Client client(server_->port());
    EXPECT_TRUE(client.connected());
    EXPECT_TRUE(client.Send(raw));
    return client.Read(head);
  }

  uint64_t CounterValue(std::string_view name, std::string_view encoding) {
    return registry_->GetCounter(name, "", {{"encoding", std::string(encoding)}}).Value();
  }

  // Checks an encoded response against the identity body: headers, length, decoded bytes.
  void ExpectEncoded(const WireResponse& r, Encoding e, const std::string& identity) {
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.Header("content-encoding"), compress::EncodingName(e));
    EXPECT_EQ(r.Header("vary"), "Accept-Encoding");
    EXPECT_EQ(r.Header("content-length"), std::to_string(r.body.size()));
    EXPECT_LT(r.body.size(), identity.size() / 3);
    StatusOr<std::string> decoded = compress::Decode(e, r.body);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, identity);
  }

  metrics::RegistryPtr registry_;
  Router router_;
  ServerSettings settings_;
  std::unique_ptr<Server> server_;
  std::string big_;
  compress::OpenEncoded open_[4];
  std::atomic<int> open_served_{0};
};

TEST_F(CompressionTest, EachCodecDecodesToTheIdentityBody) {
  StartServer();
  const WireResponse identity = Exchange(Raw("GET", "/big"));
  ASSERT_EQ(identity.status, 200);
  EXPECT_EQ(identity.body, big_);
  EXPECT_FALSE(identity.Has("content-encoding"));
  EXPECT_EQ(identity.Header("vary"), "Accept-Encoding");
  EXPECT_EQ(identity.Header("etag"), kETag);

  const struct {
    const char* accept;
    Encoding expected;
  } cases[] = {{"gzip, deflate, br, zstd", Encoding::kBrotli},
               {"zstd", Encoding::kZstd},
               {"gzip", Encoding::kGzip},
               {"br;q=0.1, gzip;q=0.9", Encoding::kGzip}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.accept);
    const WireResponse r =
        Exchange(Raw("GET", "/big", std::string("Accept-Encoding: ") + c.accept + "\r\n"));
    ExpectEncoded(r, c.expected, big_);
    EXPECT_EQ(r.Header("etag"), compress::TagForEncoding(kETag, c.expected));
  }
  EXPECT_EQ(CounterValue("hasivu_http_compressed_responses_total", "br"), 1u);
  EXPECT_EQ(CounterValue("hasivu_http_compressed_responses_total", "gzip"), 2u);
  EXPECT_EQ(CounterValue("hasivu_http_compressed_responses_total", "zstd"), 1u);
  EXPECT_EQ(CounterValue("hasivu_http_compression_bytes_in_total", "gzip"), 2 * big_.size());
  EXPECT_LT(CounterValue("hasivu_http_compression_bytes_out_total", "gzip"), big_.size());
  const std::string text = registry_->RenderPrometheus();
  EXPECT_NE(text.find("hasivu_http_compression_seconds_count{encoding=\"br\"} 1"),
            std::string::npos)
      << text;
}

TEST_F(CompressionTest, IdentityWhenRefusedOrUnknown) {
  StartServer();
  for (const char* accept : {"identity", "br;q=0, gzip;q=0, zstd;q=0", "*;q=0", "compress",
                             "garbage;;q==, ;q=1, \"br\", gz ip"}) {
    SCOPED_TRACE(accept);
    const WireResponse r =
        Exchange(Raw("GET", "/big", std::string("Accept-Encoding: ") + accept + "\r\n"));
    ASSERT_EQ(r.status, 200);  // never 406
    EXPECT_FALSE(r.Has("content-encoding"));
    EXPECT_EQ(r.body, big_);
  }
}

TEST_F(CompressionTest, PolicySkipsSmallBodiesHeadNoContentAndCompressedTypes) {
  StartServer();
  const std::string br = "Accept-Encoding: br\r\n";
  const WireResponse small = Exchange(Raw("GET", "/small", br));
  EXPECT_FALSE(small.Has("content-encoding"));
  EXPECT_EQ(small.body, "{\"success\":true}");
  EXPECT_EQ(small.Header("vary"), "Accept-Encoding");

  const WireResponse head = Exchange(Raw("HEAD", "/big", br), /*head=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_FALSE(head.Has("content-encoding"));
  EXPECT_EQ(head.Header("content-length"), std::to_string(big_.size()));

  const WireResponse none = Exchange(Raw("POST", "/nothing", br));
  EXPECT_EQ(none.status, 204);
  EXPECT_FALSE(none.Has("content-encoding"));

  const WireResponse png = Exchange(Raw("GET", "/png", br));
  EXPECT_FALSE(png.Has("content-encoding"));
  EXPECT_FALSE(png.Has("vary"));
  EXPECT_EQ(png.body, big_);
}

TEST_F(CompressionTest, HandlerVaryIsMergedAndItsContentEncodingDropped) {
  StartServer();
  const WireResponse r = Exchange(Raw("GET", "/html-vary", "Accept-Encoding: zstd\r\n"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("vary"), "Authorization, Accept-Encoding");
  EXPECT_EQ(r.Header("content-encoding"), "zstd");
  EXPECT_EQ(*compress::Decode(Encoding::kZstd, r.body), big_);
  // Without Accept-Encoding the handler's "Content-Encoding: gzip" must not reach the wire.
  const WireResponse plain = Exchange(Raw("GET", "/html-vary"));
  EXPECT_FALSE(plain.Has("content-encoding"));
  EXPECT_EQ(plain.body, big_);
}

TEST_F(CompressionTest, BlockingRoutesCompressOnThePool) {
  StartServer();
  ExpectEncoded(Exchange(Raw("GET", "/big-blocking", "Accept-Encoding: gzip\r\n")), Encoding::kGzip,
                big_);
}

TEST_F(CompressionTest, PipelinedRequestsEachGetTheirOwnEncoding) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(Raw("GET", "/big", "Accept-Encoding: br\r\n") + Raw("GET", "/big") +
                          Raw("GET", "/big-blocking", "Accept-Encoding: zstd\r\n") +
                          Raw("GET", "/big", "Accept-Encoding: gzip\r\n")));
  ExpectEncoded(client.Read(), Encoding::kBrotli, big_);
  const WireResponse identity = client.Read();
  EXPECT_FALSE(identity.Has("content-encoding"));
  EXPECT_EQ(identity.body, big_);
  ExpectEncoded(client.Read(), Encoding::kZstd, big_);
  ExpectEncoded(client.Read(), Encoding::kGzip, big_);
}

TEST_F(CompressionTest, NotModifiedForTheEncodedTag) {
  StartServer();
  const WireResponse first = Exchange(Raw("GET", "/big", "Accept-Encoding: br\r\n"));
  ASSERT_EQ(first.Header("etag"), "\"0123456789abcdef-br\"");

  const WireResponse again = Exchange(
      Raw("GET", "/big", "Accept-Encoding: br\r\nIf-None-Match: " + first.Header("etag") + "\r\n"));
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(again.Header("etag"), "\"0123456789abcdef-br\"");
  EXPECT_EQ(again.Header("vary"), "Accept-Encoding");
  EXPECT_TRUE(again.body.empty());

  // The br tag does not validate the gzip variant: a full gzip answer with its own tag.
  const WireResponse other = Exchange(Raw(
      "GET", "/big", "Accept-Encoding: gzip\r\nIf-None-Match: " + first.Header("etag") + "\r\n"));
  ExpectEncoded(other, Encoding::kGzip, big_);
  EXPECT_EQ(other.Header("etag"), "\"0123456789abcdef-gzip\"");

  // The identity tag still works for identity clients.
  const WireResponse identity =
      Exchange(Raw("GET", "/big", std::string("If-None-Match: ") + kETag + "\r\n"));
  EXPECT_EQ(identity.status, 304);
  EXPECT_EQ(identity.Header("etag"), kETag);

  // A weak comparison with a list.
  const WireResponse listed = Exchange(
      Raw("GET", "/big",
          "Accept-Encoding: zstd\r\nIf-None-Match: \"x\", W/\"0123456789abcdef-zstd\"\r\n"));
  EXPECT_EQ(listed.status, 304);
  EXPECT_EQ(listed.Header("etag"), "\"0123456789abcdef-zstd\"");
}

TEST_F(CompressionTest, PrecompressedBodiesAreSentAsTheyAre) {
  StartServer();
  for (const char* name : {"br", "zstd", "gzip"}) {
    SCOPED_TRACE(name);
    const Encoding e = *compress::EncodingFromName(name);
    const std::string expected_bytes = *compress::Encode(e, big_, 1);
    const WireResponse r = Exchange(
        Raw("GET", std::string("/pre/") + name, "Accept-Encoding: " + std::string(name) + "\r\n"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, expected_bytes);  // not compressed a second time
    EXPECT_EQ(r.Header("content-encoding"), name);
    EXPECT_EQ(r.Header("vary"), "Accept-Encoding");
    EXPECT_EQ(r.Header("etag"), compress::TagForEncoding(kETag, e));
    EXPECT_EQ(CounterValue("hasivu_http_precompressed_responses_total", name), 1u);
    EXPECT_EQ(CounterValue("hasivu_http_compressed_responses_total", name), 0u);
  }
  const WireResponse bad = Exchange(Raw("GET", "/pre-bad", "Accept-Encoding: br\r\n"));
  EXPECT_EQ(bad.status, 500);
  EXPECT_FALSE(bad.Has("content-encoding"));
}

TEST_F(CompressionTest, OpenEncodedBodiesFinishedPerRequestAreSentAsTheyAre) {
  StartServer();
  int served = 0;
  for (Encoding e : compress::kCodecs) {
    const std::string name(compress::EncodingName(e));
    SCOPED_TRACE(name);
    for (int i = 0; i < 2; ++i) {
      const WireResponse r =
          Exchange(Raw("GET", "/open/" + name, "Accept-Encoding: " + name + "\r\n"));
      ++served;
      ASSERT_EQ(r.status, 200);
      EXPECT_EQ(r.Header("content-encoding"), name);
      EXPECT_EQ(r.Header("vary"), "Accept-Encoding");
      EXPECT_EQ(r.Header("etag"), compress::TagForEncoding(kETag, e));
      EXPECT_EQ(r.Header("content-length"), std::to_string(r.body.size()));
      EXPECT_EQ(r.body, compress::FinishEncoded(open_[static_cast<size_t>(e)], OpenTail(served)));
      StatusOr<std::string> decoded = compress::Decode(e, r.body);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      EXPECT_EQ(*decoded, OpenPrefix() + OpenTail(served));
    }
    EXPECT_EQ(CounterValue("hasivu_http_precompressed_responses_total", name), 2u);
    EXPECT_EQ(CounterValue("hasivu_http_compressed_responses_total", name), 0u);
  }
}

// curl's own decoders (libcurl with zlib, brotli and zstd) accept the finished bodies.
TEST_F(CompressionTest, CurlDecodesOpenEncodedBodies) {
  if (::access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/curl";
  StartServer();
  int served = 0;
  for (Encoding e : compress::kCodecs) {
    const std::string name(compress::EncodingName(e));
    SCOPED_TRACE(name);
    const std::string command =
        "/usr/bin/curl -sS --compressed --max-time 10 -H 'Accept-Encoding: " + name +
        "' http://127.0.0.1:" + std::to_string(server_->port()) + "/open/" + name + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string out;
    char buffer[4096];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
    const int rc = ::pclose(pipe);  // waits for curl
    ++served;
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out, OpenPrefix() + OpenTail(served));
  }
}

TEST_F(CompressionTest, CodecErrorSendsIdentityAndIsCounted) {
  StartServer();
  compress::FailEncodesForTest(1);
  const WireResponse r = Exchange(Raw("GET", "/big", "Accept-Encoding: br\r\n"));
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(r.Has("content-encoding"));
  EXPECT_EQ(r.body, big_);
  EXPECT_EQ(r.Header("etag"), kETag);
  EXPECT_EQ(CounterValue("hasivu_http_compression_errors_total", "br"), 1u);
  EXPECT_EQ(CounterValue("hasivu_http_compressed_responses_total", "br"), 0u);
  // The next one compresses again.
  ExpectEncoded(Exchange(Raw("GET", "/big", "Accept-Encoding: br\r\n")), Encoding::kBrotli, big_);
}

TEST_F(CompressionTest, SettingsDisableLimitAndChooseCodecs) {
  settings_.compression.min_bytes = big_.size() + 1;
  settings_.compression.codecs = compress::EncodingSet().With(Encoding::kGzip);
  StartServer();
  EXPECT_FALSE(Exchange(Raw("GET", "/big", "Accept-Encoding: gzip\r\n")).Has("content-encoding"));
  server_->Stop();
  server_->Wait();
  server_.reset();

  settings_.compression.min_bytes = 1024;
  StartServer();
  EXPECT_EQ(
      Exchange(Raw("GET", "/big", "Accept-Encoding: br, gzip\r\n")).Header("content-encoding"),
      "gzip");
  server_->Stop();
  server_->Wait();
  server_.reset();

  settings_.compression.enabled = false;
  StartServer();
  const WireResponse off = Exchange(Raw("GET", "/big", "Accept-Encoding: br, gzip\r\n"));
  EXPECT_FALSE(off.Has("content-encoding"));
  EXPECT_FALSE(off.Has("vary"));
  EXPECT_EQ(off.body, big_);
}

TEST_F(CompressionTest, ABodyCompressedPerResponseUsesThePerRequestBrotliLevel) {
  settings_.compression.brotli_level = 11;
  settings_.compression.brotli_level_per_request = 0;
  StartServer();
  const WireResponse r = Exchange(Raw("GET", "/big", "Accept-Encoding: br\r\n"));
  ExpectEncoded(r, Encoding::kBrotli, big_);
  // Brotli's output is a function of the input and the quality: the bytes say which was used.
  StatusOr<std::string> q0 = compress::Encode(Encoding::kBrotli, big_, 0);
  StatusOr<std::string> q11 = compress::Encode(Encoding::kBrotli, big_, 11);
  ASSERT_TRUE(q0.ok() && q11.ok());
  ASSERT_NE(*q0, *q11) << "the test body must tell the two levels apart";
  EXPECT_EQ(r.body, *q0);
}

TEST(CompressionSettingsTest, CreateRefusesInvalidLevels) {
  auto registry = metrics::NewRegistry();
  Router router;
  ServerSettings settings;
  settings.compression.brotli_level = 12;
  auto server = Server::Create(settings, router, nullptr, *registry);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("brotli level"), std::string::npos)
      << server.status().ToString();
}

}  // namespace
}  // namespace hasivu::http
