#include "cache/memory/memory_cache.h"

#include <atomic>
#include <bit>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cache/glob.h"
#include "cache/tier_metrics.h"

namespace hasivu::cache {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

// Per-entry bookkeeping (map node, list node, expiry node) charged on top of key and value.
constexpr size_t kEntryOverhead = 160;

size_t RoundUpPow2(size_t n) { return n <= 1 ? 1 : std::bit_ceil(n); }

uint64_t Mix(uint64_t h) {
  // splitmix64 finaliser: spreads std::hash (identity-like on some libraries) over all bits.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

class MemoryCache final : public Cache {
 public:
  explicit MemoryCache(const MemoryCacheSettings& s)
      : clock_(s.clock != nullptr ? s.clock : &SystemClock()),
        shard_mask_(RoundUpPow2(s.shards) - 1),
        shard_budget_(s.max_bytes / (shard_mask_ + 1)),
        slot_mask_(RoundUpPow2(s.generation_slots) - 1),
        slots_(new std::atomic<uint64_t>[slot_mask_ + 1]),
        shards_(shard_mask_ + 1),
        metrics_(s.registry, s.tier) {
    for (size_t i = 0; i <= slot_mask_; ++i) slots_[i].store(0, std::memory_order_relaxed);
  }

  ~MemoryCache() override {
    // The gauges may live in a shared registry: give back what this cache charged.
    int64_t keys = 0, bytes = 0;
    for (Shard& shard : shards_) {
      std::lock_guard lock(shard.mu);
      keys += static_cast<int64_t>(shard.map.size());
      bytes += static_cast<int64_t>(shard.bytes);
    }
    metrics_.keys.Add(-keys);
    metrics_.bytes.Add(-bytes);
  }

  // cache::Cache
  StatusOr<std::optional<Entry>> Get(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    Shard& shard = ShardOf(key);
    TimePoint now = clock_->Now();
    std::lock_guard lock(shard.mu);
    auto it = shard.map.find(key);
    if (it == shard.map.end()) {
      metrics_.misses.Add();
      return std::optional<Entry>();
    }
    Node& node = it->second;
    if (node.expires <= now) {
      EraseLocked(shard, it);
      metrics_.evictions.Add();
      metrics_.misses.Add();
      return std::optional<Entry>();
    }
    if (!IsCurrent(node)) {
      EraseLocked(shard, it);
      metrics_.misses.Add();
      return std::optional<Entry>();
    }
    shard.lru.splice(shard.lru.begin(), shard.lru, node.lru);
    metrics_.hits.Add();
    return std::optional<Entry>(
        Entry{node.value, std::chrono::duration_cast<std::chrono::milliseconds>(node.expires - now),
              node.tags});
  }

  StatusOr<Stamp> StampFor(std::string_view key, const Tags& tags) override {
    RETURN_IF_ERROR(ValidateKey(key));
    RETURN_IF_ERROR(ValidateTags(tags));
    Stamp stamp;
    stamp.generations.reserve(2 + tags.size());
    stamp.generations.push_back(pattern_generation_.load());
    stamp.generations.push_back(slots_[KeySlot(key)].load());
    for (const std::string& tag : tags) stamp.generations.push_back(slots_[TagSlot(tag)].load());
    // After the generations: see Stamp::sequence.
    stamp.sequence = sequence_.load();
    return stamp;
  }

  Status SetIfCurrent(std::string_view key, ValuePtr value, std::chrono::milliseconds ttl,
                      const Tags& tags, const Stamp& stamp) override {
    RETURN_IF_ERROR(ValidateKey(key));
    RETURN_IF_ERROR(ValidateTags(tags));
    RETURN_IF_ERROR(ValidateTtl(ttl));
    if (value == nullptr) return InvalidArgumentError("cache value is null");
    if (!stamp.valid) return Status::Ok();
    if (stamp.generations.size() != 2 + tags.size()) {
      return InvalidArgumentError("cache stamp does not belong to this key and tags");
    }
    size_t charge = key.size() + value->size() + kEntryOverhead;
    for (const std::string& tag : tags) charge += tag.size() + 32;
    if (charge > shard_budget_) {
      return ResourceExhaustedError("cache value of " + std::to_string(value->size()) +
                                    " bytes exceeds the in-process shard budget of " +
                                    std::to_string(shard_budget_) + " bytes");
    }
    Node node;
    node.value = std::move(value);
    node.tags = tags;
    node.charge = charge;
    node.slots.reserve(1 + tags.size());
    node.slots.push_back(KeySlot(key));
    for (const std::string& tag : tags) node.slots.push_back(TagSlot(tag));
    node.generations.assign(stamp.generations.begin() + 1, stamp.generations.end());

    Shard& shard = ShardOf(key);
    TimePoint now = clock_->Now();
    node.expires = now + ttl;
    std::lock_guard lock(shard.mu);
    // Checked under the shard lock: an invalidation bumps generations before it takes shard
    // locks to erase, so either we see its bump here or it erases what we insert.
    if (stamp.generations[0] != pattern_generation_.load() || !IsCurrent(node)) {
      metrics_.stale_sets.Add();
      return Status::Ok();
    }
    auto old = shard.map.find(key);
    if (old != shard.map.end()) EraseLocked(shard, old);
    MakeRoomLocked(shard, charge, now);
    auto [it, inserted] = shard.map.emplace(std::string(key), std::move(node));
    Node& n = it->second;
    const std::string* stored_key = &it->first;
    shard.lru.push_front(stored_key);
    n.lru = shard.lru.begin();
    n.expiry = shard.by_expiry.emplace(n.expires, stored_key);
    shard.bytes += charge;
    metrics_.keys.Add(1);
    metrics_.bytes.Add(static_cast<int64_t>(charge));
    metrics_.sets.Add();
    return Status::Ok();
  }

  Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    // Sequence before generation: see Stamp::sequence and the tiered cache's L1 fill.
    sequence_.fetch_add(1);
    slots_[KeySlot(key)].fetch_add(1);
    metrics_.invalidations.Add();
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mu);
    auto it = shard.map.find(key);
    if (it != shard.map.end()) EraseLocked(shard, it);
    return Status::Ok();
  }

  Status InvalidateTags(const Tags& tags) override {
    RETURN_IF_ERROR(ValidateTags(tags));
    if (tags.empty()) return Status::Ok();
    sequence_.fetch_add(1);
    for (const std::string& tag : tags) slots_[TagSlot(tag)].fetch_add(1);
    metrics_.invalidations.Add();
    // Entries stay until met (Get drops them): invalidation is O(tags), not O(entries).
    return Status::Ok();
  }

  StatusOr<size_t> InvalidatePattern(std::string_view glob) override {
    if (glob.empty()) return InvalidArgumentError("cache pattern is empty");
    if (glob.size() > kMaxKeyBytes) return InvalidArgumentError("cache pattern is too long");
    sequence_.fetch_add(1);
    pattern_generation_.fetch_add(1);
    metrics_.invalidations.Add();
    size_t removed = 0;
    for (Shard& shard : shards_) {
      std::lock_guard lock(shard.mu);
      for (auto it = shard.map.begin(); it != shard.map.end();) {
        auto next = std::next(it);
        if (GlobMatch(glob, it->first)) {
          EraseLocked(shard, it);
          ++removed;
        }
        it = next;
      }
    }
    return removed;
  }

  Status Clear() override {
    sequence_.fetch_add(1);
    pattern_generation_.fetch_add(1);
    metrics_.invalidations.Add();
    for (Shard& shard : shards_) {
      std::lock_guard lock(shard.mu);
      while (!shard.map.empty()) EraseLocked(shard, shard.map.begin());
    }
    return Status::Ok();
  }

  CacheStats Stats() const override { return CacheStats{{metrics_.Snapshot(true)}}; }

  CacheHealth Health() const override { return CacheHealth{true, metrics_.tier() + ": ok", {}}; }

 private:
  struct Node {
    ValuePtr value;
    Tags tags;
    TimePoint expires;
    size_t charge = 0;
    std::vector<uint32_t> slots;        // key slot, then one per tag
    std::vector<uint64_t> generations;  // generation of each slot when stamped
    std::list<const std::string*>::iterator lru;
    std::multimap<TimePoint, const std::string*>::iterator expiry;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, Node, StringHash, std::equal_to<>>;
  struct Shard {
    std::mutex mu;
    Map map;                                                 // GUARDED_BY(mu)
    std::list<const std::string*> lru;                       // GUARDED_BY(mu), most recent first
    std::multimap<TimePoint, const std::string*> by_expiry;  // GUARDED_BY(mu)
    size_t bytes = 0;                                        // GUARDED_BY(mu)
  };

  Shard& ShardOf(std::string_view key) {
    return shards_[Mix(std::hash<std::string_view>{}(key)) & shard_mask_];
  }
  uint32_t KeySlot(std::string_view key) const {
    return static_cast<uint32_t>(Mix(std::hash<std::string_view>{}(key) ^ 0x6b657973ULL) &
                                 slot_mask_);
  }
  uint32_t TagSlot(std::string_view tag) const {
    return static_cast<uint32_t>(Mix(std::hash<std::string_view>{}(tag) ^ 0x74616773ULL) &
                                 slot_mask_);
  }

  bool IsCurrent(const Node& node) const {
    for (size_t i = 0; i < node.slots.size(); ++i) {
      if (slots_[node.slots[i]].load(std::memory_order_acquire) != node.generations[i]) {
        return false;
      }
    }
    return true;
  }

  void EraseLocked(Shard& shard, Map::iterator it) {
    Node& node = it->second;
    shard.lru.erase(node.lru);
    shard.by_expiry.erase(node.expiry);
    shard.bytes -= node.charge;
    metrics_.keys.Add(-1);
    metrics_.bytes.Add(-static_cast<int64_t>(node.charge));
    shard.map.erase(it);
  }

  void MakeRoomLocked(Shard& shard, size_t charge, TimePoint now) {
    while (shard.bytes + charge > shard_budget_ && !shard.map.empty()) {
      const std::string* victim = nullptr;
      if (!shard.by_expiry.empty() && shard.by_expiry.begin()->first <= now) {
        victim = shard.by_expiry.begin()->second;
      } else {
        victim = shard.lru.back();
      }
      EraseLocked(shard, shard.map.find(*victim));
      metrics_.evictions.Add();
    }
  }

  const Clock* clock_;
  const size_t shard_mask_;
  const size_t shard_budget_;
  const size_t slot_mask_;
  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
  std::atomic<uint64_t> pattern_generation_{0};
  std::atomic<uint64_t> sequence_{0};
  std::vector<Shard> shards_;
  mutable TierMetrics metrics_;
};

}  // namespace

StatusOr<CachePtr> NewMemoryCache(MemoryCacheSettings settings) {
  if (settings.max_bytes == 0) return InvalidArgumentError("memory cache: max_bytes is 0");
  if (settings.shards == 0) settings.shards = 1;
  if (settings.shards > 4096) return InvalidArgumentError("memory cache: more than 4096 shards");
  if (settings.generation_slots == 0) settings.generation_slots = 1;
  if (settings.generation_slots > (1u << 24)) {
    return InvalidArgumentError("memory cache: more than 2^24 generation slots");
  }
  return CachePtr(std::make_unique<MemoryCache>(settings));
}

}  // namespace hasivu::cache
