#include "api/json_writer.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

namespace hasivu::api {
namespace {

namespace json = boost::json;

std::string Written(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonWriterTest, EveryByteIsEscapedAsBoostJsonEscapesIt) {
  for (int c = 0; c < 256; ++c) {
    const std::string s = {'a', static_cast<char>(c), 'b'};
    EXPECT_EQ(Written(s), json::serialize(json::string(s))) << "byte " << c;
  }
  EXPECT_EQ(Written("\""), "\"\\\"\"");
  // Past the word-at-a-time scan: an escape at each position of a long string.
  for (const char special : {'\n', '"', '\\', '\x01', '\x1f', '\0'}) {
    for (size_t at = 0; at < 40; ++at) {
      std::string s(40, '\xc3');  // bytes of 0x80 and up are never escaped
      s[at] = special;
      EXPECT_EQ(Written(s), json::serialize(json::string(s))) << int{special} << " at " << at;
    }
  }
  EXPECT_EQ(Written(std::string(1, '\x1f')), "\"\\u001f\"");
  EXPECT_EQ(Written("é/€"), "\"é/€\"");
  EXPECT_EQ(Written(""), "\"\"");
}

TEST(JsonWriterTest, RandomStringsMatchBoostJson) {
  std::mt19937 rng(15);
  // Mostly printable text with quotes, backslashes and control characters among it.
  const std::string alphabet = std::string("abc XYZ019\"\\/\b\f\n\r\t\x01\x7f") + "é" + '\0';
  for (int n = 0; n < 2000; ++n) {
    std::string s;
    const size_t length = rng() % 60;
    for (size_t i = 0; i < length; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    ASSERT_EQ(Written(s), json::serialize(json::string(s))) << n;
  }
}

TEST(JsonWriterTest, NestedValuesMatchBoostJsonSerialize) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("orders");
  w.BeginArray();
  for (int i = 0; i < 3; ++i) {
    w.BeginObject();
    w.Key("id");
    w.String("o-" + std::to_string(i));
    w.Key("student");
    w.BeginObject();
    w.Key("grade");
    w.OptString(i == 1 ? std::optional<std::string>("5") : std::nullopt);
    w.EndObject();
    w.Key("empty");
    w.BeginArray();
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("min");
  w.Int(std::numeric_limits<int64_t>::min());
  w.Key("max");
  w.Int(std::numeric_limits<int64_t>::max());
  w.Key("zero");
  w.Int(0);
  w.Key("yes");
  w.Bool(true);
  w.Key("no");
  w.Bool(false);
  w.Key("none");
  w.Null();
  w.Key("count");
  w.OptInt(7);
  w.Key("uncounted");
  w.OptInt(std::nullopt);
  w.Key("raw");
  w.Raw(R"({"a":[1,2]})");
  w.Key("text");
  w.String("a \"quoted\"\nline\\ and a long run of plain words");
  w.EndObject();

  json::array orders;
  for (int i = 0; i < 3; ++i) {
    orders.push_back(json::object{
        {"id", "o-" + std::to_string(i)},
        {"student", json::object{{"grade", i == 1 ? json::value("5") : json::value(nullptr)}}},
        {"empty", json::array()}});
  }
  json::object want;
  want["orders"] = std::move(orders);
  want["min"] = std::numeric_limits<int64_t>::min();
  want["max"] = std::numeric_limits<int64_t>::max();
  want["zero"] = 0;
  want["yes"] = true;
  want["no"] = false;
  want["none"] = nullptr;
  want["count"] = 7;
  want["uncounted"] = nullptr;
  want["raw"] = json::parse(R"({"a":[1,2]})");
  want["text"] = "a \"quoted\"\nline\\ and a long run of plain words";
  EXPECT_EQ(out, json::serialize(want));
}

TEST(JsonWriterTest, AppendsToWhatTheStringAlreadyHolds) {
  std::string out = "prefix:";
  JsonWriter w(out);
  w.BeginArray();
  w.Int(1);
  w.Int(-2);
  w.EndArray();
  EXPECT_EQ(out, "prefix:[1,-2]");
}

}  // namespace
}  // namespace hasivu::api
