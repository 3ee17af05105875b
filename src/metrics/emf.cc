#include "metrics/emf.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <span>
#include <string_view>
#include <utility>

#include <boost/json.hpp>

#include "metrics/catalog.h"

namespace hasivu::metrics {
namespace {

namespace json = boost::json;

// One metric of a document group: a scalar (kSum, kLatest), or a distribution's values already
// expanded and cut into chunks of at most max_values_per_metric.
struct Entry {
  const SeriesInfo* info = nullptr;
  double scalar = 0;
  std::vector<std::vector<double>> chunks;  // kDistribution only
  bool distribution = false;
  size_t Rounds() const { return distribution ? chunks.size() : 1; }
};

// An integral value is written as a JSON integer ("12"), anything else as a double; Boost.JSON
// writes doubles in exponent form ("1.25E1"), valid JSON that CloudWatch reads.
json::value Number(double v) {
  constexpr double kExactInt = 9007199254740992.0;  // 2^53
  if (std::nearbyint(v) == v && std::fabs(v) < kExactInt) return json::value(int64_t(v));
  return json::value(v);
}

std::string Serialize(const Dimensions& dims,
                      std::span<const std::pair<const Entry*, size_t>> items,
                      int64_t timestamp_ms) {
  json::array dimension_names;
  for (const auto& [name, value] : dims) dimension_names.emplace_back(name);
  json::array dimension_sets;
  dimension_sets.emplace_back(std::move(dimension_names));
  json::array definitions;
  for (const auto& [entry, round] : items) {
    definitions.emplace_back(json::object{{"Name", entry->info->name},
                                          {"Unit", UnitName(entry->info->unit)},
                                          {"StorageResolution", 60}});
  }
  json::object directive{{"Namespace", catalog::kNamespace},
                         {"Dimensions", std::move(dimension_sets)},
                         {"Metrics", std::move(definitions)}};
  json::array directives;
  directives.emplace_back(std::move(directive));
  json::object root;
  root["_aws"] =
      json::object{{"Timestamp", timestamp_ms}, {"CloudWatchMetrics", std::move(directives)}};
  for (const auto& [name, value] : dims) root[name] = value;
  for (const auto& [entry, round] : items) {
    if (!entry->distribution) {
      root[entry->info->name] = Number(entry->scalar);
      continue;
    }
    const std::vector<double>& chunk = entry->chunks[round];
    json::array values;
    values.reserve(chunk.size());
    for (double v : chunk) values.push_back(Number(v));
    root[entry->info->name] = std::move(values);
  }
  return json::serialize(root);
}

// Serializes `items` as one document, or, when that is over the size limit, as several (halving
// the metrics); a single metric over the limit is dropped and counted.
void EmitDocuments(const Dimensions& dims, std::span<const std::pair<const Entry*, size_t>> items,
                   int64_t timestamp_ms, const EmfLimits& limits, std::vector<std::string>& out,
                   EmfStats& stats) {
  if (items.empty()) return;
  std::string doc = Serialize(dims, items, timestamp_ms);
  if (doc.size() <= limits.max_document_bytes) {
    out.push_back(std::move(doc));
    ++stats.documents;
    return;
  }
  if (items.size() == 1) {
    ++stats.oversize_documents;
    const auto& [entry, round] = items.front();
    if (entry->distribution) {
      stats.values -= entry->chunks[round].size();
      stats.values_dropped += entry->chunks[round].size();
    }
    // Counted once per series, on its first piece.
    if (round == 0) {
      --stats.series;
      ++stats.series_dropped;
    }
    return;
  }
  const size_t half = items.size() / 2;
  EmitDocuments(dims, items.first(half), timestamp_ms, limits, out, stats);
  EmitDocuments(dims, items.subspan(half), timestamp_ms, limits, out, stats);
}

bool AllFinite(const IntervalData& d) {
  return std::all_of(d.values.begin(), d.values.end(),
                     [](const auto& p) { return std::isfinite(p.first); });
}

}  // namespace

std::vector<uint64_t> ScaleCountsForEmf(const std::vector<uint64_t>& counts, uint64_t budget) {
  unsigned __int128 total = 0;
  for (uint64_t c : counts) total += c;
  if (total <= budget) return counts;
  std::vector<uint64_t> scaled(counts.size());
  std::vector<std::pair<uint64_t, size_t>> remainders;  // (remainder, index)
  remainders.reserve(counts.size());
  uint64_t given = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const unsigned __int128 share = static_cast<unsigned __int128>(counts[i]) * budget;
    scaled[i] = static_cast<uint64_t>(share / total);
    given += scaled[i];
    remainders.emplace_back(static_cast<uint64_t>(share % total), i);
  }
  // Largest remainder: the values still to give go to the largest fractional parts (earlier
  // representatives first on ties, so the result does not depend on sort stability).
  std::sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (size_t k = 0; given < budget && k < remainders.size(); ++k, ++given) {
    ++scaled[remainders[k].second];
  }
  // Minimum and Maximum stay exact: the extremes keep one value each, taken from the
  // representative furthest over its exact share (scaled * total - count * budget largest), so
  // the proportions move as little as possible.
  if (budget >= 2) {
    size_t first = counts.size(), last = counts.size();
    for (size_t i = 0; i < counts.size(); ++i) {
      if (counts[i] == 0) continue;
      if (first == counts.size()) first = i;
      last = i;
    }
    for (size_t extreme : {first, last}) {
      if (extreme == counts.size() || scaled[extreme] > 0) continue;
      size_t donor = counts.size();
      __int128 best_excess = 0;
      for (size_t i = 0; i < counts.size(); ++i) {
        // An extreme may give only what it holds beyond its own one value.
        if (scaled[i] < ((i == first || i == last) ? 2u : 1u)) continue;
        const __int128 excess = static_cast<__int128>(scaled[i]) * static_cast<__int128>(total) -
                                static_cast<__int128>(counts[i]) * budget;
        if (donor == counts.size() || excess > best_excess) {
          donor = i;
          best_excess = excess;
        }
      }
      if (donor == counts.size()) continue;
      --scaled[donor];
      ++scaled[extreme];
    }
  }
  return scaled;
}

std::vector<std::string> EncodeEmf(const std::vector<SeriesInterval>& intervals,
                                   int64_t timestamp_ms, const EmfLimits& limits, EmfStats* stats) {
  EmfStats local;
  EmfStats& st = stats ? *stats : local;
  const size_t per_metric = std::max<size_t>(1, limits.max_values_per_metric);
  const size_t per_document = std::max<size_t>(1, limits.max_metrics_per_document);
  const uint64_t budget = std::max<size_t>(2, limits.max_values_per_series);

  // Group key: the sorted dimension set, and how many series of the same name came before in that
  // set (a repeated (name, dimensions) pair goes to documents of its own rather than overwrite).
  using Key = std::pair<Dimensions, size_t>;
  std::map<Key, std::vector<Entry>> groups;
  std::map<std::pair<Dimensions, std::string_view>, size_t> seen;

  for (const SeriesInterval& s : intervals) {
    const IntervalData& d = s.data;
    // A sum that did not move is a known zero (no errors this minute), worth a data point: an
    // alarm on it sees OK rather than missing data. A distribution or level without data has no
    // value to send.
    if (d.count == 0 && s.info.aggregation != Aggregation::kSum) {
      ++st.series_skipped;
      continue;
    }
    Dimensions dims = s.info.dimensions;
    std::sort(dims.begin(), dims.end());
    bool clash =
        s.info.name.empty() || s.info.name == "_aws" || dims.size() > limits.max_dimensions;
    for (size_t i = 0; i < dims.size(); ++i) {
      const std::string& name = dims[i].first;
      clash = clash || name.empty() || name == s.info.name || name == "_aws" ||
              (i > 0 && name == dims[i - 1].first);
    }
    Entry e;
    e.info = &s.info;
    e.distribution = s.info.aggregation == Aggregation::kDistribution;
    if (!e.distribution) {
      e.scalar = d.sum;
      clash = clash || !std::isfinite(d.sum);
    } else {
      clash = clash || d.values.empty() || !AllFinite(d);
    }
    if (clash) {
      ++st.series_dropped;
      if (e.distribution) st.values_dropped += d.count;
      continue;
    }
    if (e.distribution) {
      std::vector<uint64_t> counts;
      counts.reserve(d.values.size());
      uint64_t total = 0;
      for (const auto& [value, n] : d.values) {
        counts.push_back(n);
        total += n;
      }
      const std::vector<uint64_t> sent = ScaleCountsForEmf(counts, budget);
      uint64_t sent_total = 0;
      for (uint64_t n : sent) sent_total += n;
      st.values_dropped += total - sent_total;
      st.values += sent_total;
      std::vector<double> chunk;
      chunk.reserve(std::min<uint64_t>(per_metric, sent_total));
      for (size_t i = 0; i < sent.size(); ++i) {
        for (uint64_t k = 0; k < sent[i]; ++k) {
          chunk.push_back(d.values[i].first);
          if (chunk.size() == per_metric) {
            e.chunks.push_back(std::move(chunk));
            chunk.clear();
            chunk.reserve(std::min<uint64_t>(per_metric, sent_total));
          }
        }
      }
      if (!chunk.empty()) e.chunks.push_back(std::move(chunk));
      if (e.chunks.empty()) {
        ++st.series_skipped;
        continue;
      }
    }
    const size_t occurrence = seen[{dims, std::string_view(s.info.name)}]++;
    ++st.series;
    groups[Key{std::move(dims), occurrence}].push_back(std::move(e));
  }

  std::vector<std::string> out;
  std::vector<std::pair<const Entry*, size_t>> items;
  for (const auto& [key, entries] : groups) {
    size_t rounds = 0;
    for (const Entry& e : entries) rounds = std::max(rounds, e.Rounds());
    // Round r holds the r-th chunk of each distribution that has one (and, in round 0, the
    // scalars), cut into documents of at most per_document metrics.
    for (size_t r = 0; r < rounds; ++r) {
      items.clear();
      for (const Entry& e : entries) {
        if (r < e.Rounds()) items.emplace_back(&e, r);
      }
      for (size_t begin = 0; begin < items.size(); begin += per_document) {
        const size_t n = std::min(per_document, items.size() - begin);
        EmitDocuments(key.first, std::span(items).subspan(begin, n), timestamp_ms, limits, out, st);
      }
    }
  }
  return out;
}

}  // namespace hasivu::metrics
