#include "compress/settings.h"

#include <string>

#include "compress/codec.h"

namespace hasivu::compress {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithLower(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    if (Lower(s[i]) != lower_prefix[i]) return false;
  }
  return true;
}

bool EndsWithLower(std::string_view s, std::string_view lower_suffix) {
  return s.size() >= lower_suffix.size() &&
         StartsWithLower(s.substr(s.size() - lower_suffix.size()), lower_suffix);
}

bool EqualsLower(std::string_view s, std::string_view lower) {
  return s.size() == lower.size() && StartsWithLower(s, lower);
}

}  // namespace

Status ValidateSettings(const Settings& s) {
  struct Check {
    Encoding encoding;
    int level;
    const char* name;
  };
  for (const Check& c :
       {Check{Encoding::kBrotli, s.brotli_level, "brotli level"},
        Check{Encoding::kBrotli, s.brotli_level_per_request, "brotli per-request level"},
        Check{Encoding::kZstd, s.zstd_level, "zstd level"},
        Check{Encoding::kGzip, s.gzip_level, "gzip level"}}) {
    const Codec* codec = CodecFor(c.encoding);
    if (c.level < codec->min_level() || c.level > codec->max_level()) {
      return InvalidArgumentError(
          std::string(c.name) + " must be " + std::to_string(codec->min_level()) + ".." +
          std::to_string(codec->max_level()) + ", got " + std::to_string(c.level));
    }
  }
  if (s.enabled && s.codecs.empty()) {
    return InvalidArgumentError("at least one codec must be offered while compression is on");
  }
  return Status::Ok();
}

int PerRequestLevelFor(const Settings& settings, Encoding encoding) {
  return encoding == Encoding::kBrotli ? settings.brotli_level_per_request
                                       : LevelFor(settings, encoding);
}

int LevelFor(const Settings& settings, Encoding encoding) {
  switch (encoding) {
    case Encoding::kBrotli:
      return settings.brotli_level;
    case Encoding::kZstd:
      return settings.zstd_level;
    case Encoding::kGzip:
      return settings.gzip_level;
    case Encoding::kIdentity:
      break;
  }
  return 0;
}

bool IsCompressibleContentType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  if (StartsWithLower(type, "text/")) return type.size() > 5;
  if (EndsWithLower(type, "+json") || EndsWithLower(type, "+xml")) return true;
  for (std::string_view t : {"application/json", "application/javascript", "application/xml",
                             "application/x-ndjson", "application/wasm", "image/svg+xml",
                             "application/x-javascript", "application/graphql-response+json"}) {
    if (EqualsLower(type, t)) return true;
  }
  return false;
}

}  // namespace hasivu::compress
