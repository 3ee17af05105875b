#include "bench/prometheus.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <utility>

namespace hasivu::bench {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsNameStart(char c, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}
bool IsNameChar(char c, bool colon_ok) {
  return IsNameStart(c, colon_ok) || (c >= '0' && c <= '9');
}

bool IsMetricName(std::string_view s) {
  if (s.empty() || !IsNameStart(s[0], true)) return false;
  return std::all_of(s.begin() + 1, s.end(), [](char c) { return IsNameChar(c, true); });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

// Go's strconv.ParseFloat is what the format defers to; from_chars covers the decimal forms and
// these cover the spellings from_chars refuses (a leading '+').
std::optional<double> ParseFloat(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  std::string_view body = s;
  if (body[0] == '+' || body[0] == '-') {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (EqualsIgnoreCase(body, "inf") || EqualsIgnoreCase(body, "infinity")) {
    return negative ? -kInf : kInf;
  }
  if (EqualsIgnoreCase(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
  if (body.empty() || body[0] == '+' || body[0] == '-') return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (ec != std::errc() || end != body.data() + body.size()) return std::nullopt;
  return negative ? -v : v;
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<MetricType> ParseType(std::string_view s) {
  if (s == "counter") return MetricType::kCounter;
  if (s == "gauge") return MetricType::kGauge;
  if (s == "histogram") return MetricType::kHistogram;
  if (s == "summary") return MetricType::kSummary;
  if (s == "untyped") return MetricType::kUntyped;
  return std::nullopt;
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

Status LineError(int line, std::string_view what) {
  return InvalidArgumentError("line " + std::to_string(line) + ": " + std::string(what));
}

// A cursor over one line; every Parse* returns false on malformed input after setting error_.
class LineParser {
 public:
  LineParser(std::string_view line, int number) : s_(line), number_(number) {}

  // `help_seen` and `type_seen`: the names that had a HELP or TYPE line before this one.
  Status ParseComment(Scrape& scrape, std::set<std::string>& help_seen,
                      std::set<std::string>& type_seen) {
    ++pos_;  // '#'
    SkipBlanks();
    const std::string_view keyword = Token();
    if (keyword != "HELP" && keyword != "TYPE") return Status::Ok();  // a plain comment
    SkipBlanks();
    const std::string name(Token());
    if (!IsMetricName(name)) return Error("'# " + std::string(keyword) + "' needs a metric name");
    MetricFamily& family = scrape.families[name];
    if (keyword == "HELP") {
      if (!help_seen.insert(name).second) return Error("a second HELP for " + name);
      SkipBlanks();
      return UnescapeHelp(s_.substr(pos_), family.help);
    }
    if (!type_seen.insert(name).second) return Error("a second TYPE for " + name);
    const std::string_view type = TrimBlanks(s_.substr(pos_));
    const std::optional<MetricType> parsed = ParseType(type);
    if (!parsed) return Error("unknown metric type '" + std::string(type) + "'");
    family.type = *parsed;
    return Status::Ok();
  }

  Status ParseSample(Scrape& scrape) {
    MetricSample sample;
    sample.line = number_;
    const size_t start = pos_;
    while (pos_ < s_.size() && IsNameChar(s_[pos_], true)) ++pos_;
    sample.name = std::string(s_.substr(start, pos_ - start));
    if (!IsMetricName(sample.name)) return Error("a sample must start with a metric name");
    SkipBlanks();
    if (pos_ < s_.size() && s_[pos_] == '{') {
      ++pos_;
      RETURN_IF_ERROR(ParseLabels(sample.labels));
      SkipBlanks();
    }
    const std::string_view value = Token();
    if (value.empty()) return Error("sample " + sample.name + " has no value");
    const std::optional<double> v = ParseFloat(value);
    if (!v) return Error("value '" + std::string(value) + "' is not a number");
    sample.value = *v;
    SkipBlanks();
    if (pos_ < s_.size()) {
      const std::string_view ts = Token();
      const std::optional<int64_t> t = ParseInt64(ts);
      if (!t) return Error("timestamp '" + std::string(ts) + "' is not an integer");
      sample.timestamp_ms = *t;
      SkipBlanks();
      if (pos_ < s_.size()) return Error("unexpected text after the timestamp");
    }
    RETURN_IF_ERROR(CheckHistogramBucket(scrape, sample));
    scrape.samples.push_back(std::move(sample));
    return Status::Ok();
  }

 private:
  Status Error(std::string what) const { return LineError(number_, what); }

  void SkipBlanks() {
    while (pos_ < s_.size() && IsBlank(s_[pos_])) ++pos_;
  }

  std::string_view Token() {
    const size_t start = pos_;
    while (pos_ < s_.size() && !IsBlank(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  Status UnescapeHelp(std::string_view text, std::string& out) const {
    out.clear();
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '\\') {
        out += text[i];
        continue;
      }
      if (i + 1 == text.size()) return Error("HELP text ends in a lone backslash");
      const char e = text[++i];
      if (e == '\\') {
        out += '\\';
      } else if (e == 'n') {
        out += '\n';
      } else {
        return Error(std::string("invalid escape \\") + e + " in HELP text");
      }
    }
    return Status::Ok();
  }

  Status ParseLabels(MetricLabels& labels) {
    for (;;) {
      SkipBlanks();
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return Status::Ok();
      }
      const size_t start = pos_;
      if (pos_ >= s_.size() || !IsNameStart(s_[pos_], false)) return Error("expected a label name");
      while (pos_ < s_.size() && IsNameChar(s_[pos_], false)) ++pos_;
      std::string name(s_.substr(start, pos_ - start));
      SkipBlanks();
      if (pos_ >= s_.size() || s_[pos_] != '=') return Error("expected '=' after label " + name);
      ++pos_;
      SkipBlanks();
      if (pos_ >= s_.size() || s_[pos_] != '"')
        return Error("label " + name + " needs a quoted value");
      ++pos_;
      std::string value;
      RETURN_IF_ERROR(ParseLabelValue(name, value));
      if (!labels.emplace(name, std::move(value)).second) return Error("duplicate label " + name);
      SkipBlanks();
      if (pos_ >= s_.size()) return Error("labels not closed with '}'");
      if (s_[pos_] == ',') {
        ++pos_;
      } else if (s_[pos_] != '}') {
        return Error("expected ',' or '}' after label " + name);
      }
    }
  }

  Status ParseLabelValue(const std::string& name, std::string& out) {
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return Status::Ok();
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) break;
      const char e = s_[pos_++];
      if (e == '\\' || e == '"') {
        out += e;
      } else if (e == 'n') {
        out += '\n';
      } else {
        return Error(std::string("invalid escape \\") + e + " in the value of label " + name);
      }
    }
    return Error("the value of label " + name + " is not terminated");
  }

  Status CheckHistogramBucket(const Scrape& scrape, const MetricSample& sample) const {
    constexpr std::string_view kBucket = "_bucket";
    const std::string_view name = sample.name;
    if (name.size() <= kBucket.size() || name.substr(name.size() - kBucket.size()) != kBucket) {
      return Status::Ok();
    }
    const auto family = scrape.families.find(name.substr(0, name.size() - kBucket.size()));
    if (family == scrape.families.end() || family->second.type != MetricType::kHistogram) {
      return Status::Ok();
    }
    const auto le = sample.labels.find("le");
    if (le == sample.labels.end()) return Error("histogram bucket " + sample.name + " has no le");
    const std::optional<double> bound = ParseFloat(le->second);
    if (!bound || std::isnan(*bound)) {
      return Error("histogram bucket " + sample.name + " has le=\"" + le->second + "\"");
    }
    return Status::Ok();
  }

  std::string_view s_;
  int number_;
  size_t pos_ = 0;
};

bool Matches(const MetricSample& sample, std::string_view name, const MetricLabels& subset) {
  if (sample.name != name) return false;
  for (const auto& [k, v] : subset) {
    const auto it = sample.labels.find(k);
    if (it == sample.labels.end() || it->second != v) return false;
  }
  return true;
}

bool SameBounds(const std::vector<HistogramBucket>& a, const std::vector<HistogramBucket>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].upper_bound != b[i].upper_bound) return false;
  }
  return true;
}

}  // namespace

StatusOr<Scrape> ParsePrometheusText(std::string_view text) {
  Scrape scrape;
  std::set<std::string> help_seen;
  std::set<std::string> type_seen;
  int number = 0;
  while (!text.empty()) {
    ++number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t first = 0;
    while (first < line.size() && IsBlank(line[first])) ++first;
    if (first == line.size()) continue;
    LineParser parser(line.substr(first), number);
    if (line[first] == '#') {
      RETURN_IF_ERROR(parser.ParseComment(scrape, help_seen, type_seen));
    } else {
      RETURN_IF_ERROR(parser.ParseSample(scrape));
    }
  }
  return scrape;
}

std::vector<const MetricSample*> FindSamples(const Scrape& scrape, std::string_view name,
                                             const MetricLabels& subset) {
  std::vector<const MetricSample*> out;
  for (const MetricSample& s : scrape.samples) {
    if (Matches(s, name, subset)) out.push_back(&s);
  }
  return out;
}

const MetricSample* FindSample(const Scrape& scrape, std::string_view name,
                               const MetricLabels& subset) {
  for (const MetricSample& s : scrape.samples) {
    if (Matches(s, name, subset)) return &s;
  }
  return nullptr;
}

std::optional<double> CounterIncrease(const Scrape& before, const Scrape& after,
                                      std::string_view name, const MetricLabels& subset) {
  const std::vector<const MetricSample*> now = FindSamples(after, name, subset);
  if (now.empty()) return std::nullopt;
  std::map<MetricLabels, double> then;
  for (const MetricSample* s : FindSamples(before, name, subset)) then.emplace(s->labels, s->value);
  double total = 0;
  for (const MetricSample* s : now) {
    const auto it = then.find(s->labels);
    const double start = it == then.end() ? 0 : it->second;
    total += s->value >= start ? s->value - start : s->value;
  }
  return total;
}

StatusOr<std::optional<HistogramCounts>> FindHistogram(const Scrape& scrape, std::string_view name,
                                                       const MetricLabels& subset) {
  const std::string base(name);
  // One series per label set without `le`.
  std::map<MetricLabels, std::vector<HistogramBucket>> series;
  for (const MetricSample* s : FindSamples(scrape, base + "_bucket", subset)) {
    MetricLabels key = s->labels;
    const auto le = key.find("le");
    if (le == key.end()) {
      return InvalidArgumentError("line " + std::to_string(s->line) + ": " + s->name +
                                  " has no le");
    }
    const std::optional<double> bound = ParseFloat(le->second);
    if (!bound || std::isnan(*bound)) {
      return InvalidArgumentError("line " + std::to_string(s->line) + ": " + s->name +
                                  " has le=\"" + le->second + "\"");
    }
    key.erase(le);
    series[std::move(key)].push_back({*bound, s->value});
  }
  if (series.empty()) return std::optional<HistogramCounts>();
  HistogramCounts merged;
  for (auto& [labels, buckets] : series) {
    std::sort(buckets.begin(), buckets.end(),
              [](const HistogramBucket& a, const HistogramBucket& b) {
                return a.upper_bound < b.upper_bound;
              });
    for (size_t i = 1; i < buckets.size(); ++i) {
      if (buckets[i].upper_bound == buckets[i - 1].upper_bound) {
        return InvalidArgumentError(
            base + ": two buckets with le=" + std::to_string(buckets[i].upper_bound));
      }
    }
    if (merged.buckets.empty()) {
      merged.buckets = buckets;
      continue;
    }
    if (!SameBounds(merged.buckets, buckets)) {
      return InvalidArgumentError(base + ": series with different bucket bounds cannot be merged");
    }
    for (size_t i = 0; i < buckets.size(); ++i) {
      merged.buckets[i].cumulative_count += buckets[i].cumulative_count;
    }
  }
  for (const MetricSample* s : FindSamples(scrape, base + "_sum", subset)) merged.sum += s->value;
  const std::vector<const MetricSample*> counts = FindSamples(scrape, base + "_count", subset);
  for (const MetricSample* s : counts) merged.count += s->value;
  // _count is optional in practice for hand-written exporters; the +Inf bucket is the same figure.
  if (counts.empty() && merged.buckets.back().upper_bound == kInf) {
    merged.count = merged.buckets.back().cumulative_count;
  }
  return std::optional<HistogramCounts>(std::move(merged));
}

StatusOr<HistogramCounts> HistogramDelta(const HistogramCounts& before,
                                         const HistogramCounts& after) {
  if (before.buckets.empty()) return after;
  if (!SameBounds(before.buckets, after.buckets)) {
    return InvalidArgumentError("histogram bucket bounds changed between the scrapes");
  }
  bool reset = after.count < before.count;
  for (size_t i = 0; i < after.buckets.size() && !reset; ++i) {
    reset = after.buckets[i].cumulative_count < before.buckets[i].cumulative_count;
  }
  if (reset) return after;
  HistogramCounts d;
  d.buckets = after.buckets;
  for (size_t i = 0; i < d.buckets.size(); ++i) {
    d.buckets[i].cumulative_count -= before.buckets[i].cumulative_count;
  }
  d.sum = after.sum - before.sum;
  d.count = after.count - before.count;
  return d;
}

std::optional<double> HistogramQuantile(const HistogramCounts& h, double q, bool* in_overflow) {
  if (in_overflow != nullptr) *in_overflow = false;
  const std::vector<HistogramBucket>& b = h.buckets;
  if (std::isnan(q) || b.size() < 2 || b.back().upper_bound != kInf) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  std::vector<double> cumulative(b.size());
  double running = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    running = std::max(running, b[i].cumulative_count);
    cumulative[i] = running;
  }
  const double total = cumulative.back();
  if (!(total > 0)) return std::nullopt;
  const double rank = q * total;
  // The first bucket that reaches the rank and holds anything: for q = 0 that is the lowest
  // observation's bucket, whose lower bound is the answer.
  size_t i = 0;
  while (i < b.size() && (cumulative[i] < rank || cumulative[i] == 0)) ++i;
  if (i >= b.size() - 1) {
    if (in_overflow != nullptr) *in_overflow = true;
    return b[b.size() - 2].upper_bound;
  }
  if (i == 0 && b[0].upper_bound <= 0) return b[0].upper_bound;
  const double lower = i == 0 ? 0 : b[i - 1].upper_bound;
  const double below = i == 0 ? 0 : cumulative[i - 1];
  const double in_bucket = cumulative[i] - below;
  return lower + (b[i].upper_bound - lower) * ((rank - below) / in_bucket);
}

}  // namespace hasivu::bench
