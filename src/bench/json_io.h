// Internal to hasivu_bench (targets.cc, baseline.cc, report.cc): strict reading of the JSON files
// the bench accepts, and the JSON of a RunConfig, which the baseline and the report both carry.
//
// Strict means: an unknown key or a value of the wrong type is InvalidArgument naming the key by
// its path from the file's root ("profiles.ours.functions.auth-login.warm_p95_ms"), so a typo in a
// hand-written file is reported instead of silently meaning "no threshold".
//
// Thread-safety: pure functions of their arguments.
#ifndef HASIVU_BENCH_JSON_IO_H_
#define HASIVU_BENCH_JSON_IO_H_

#include <boost/json.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/result.h"
#include "common/status.h"

namespace hasivu::bench::internal {

// "a.b" from "a" and "b"; "b" when `path` is empty.
std::string JoinPath(std::string_view path, std::string_view key);

// Parses `text` as one JSON value; InvalidArgument "<what>: not JSON: <reason>".
StatusOr<boost::json::value> ParseJson(std::string_view text, std::string_view what);

// InvalidArgument naming the first key of `object` that is not in `allowed`.
Status CheckKeys(const boost::json::object& object, std::initializer_list<std::string_view> allowed,
                 std::string_view path);

// The value at `key` as the type named, or InvalidArgument "<path.key>: expected <type>, got
// <kind>". The Optional forms give nullopt for an absent key (a null is a wrong type: absent means
// absent). Numbers accept any JSON number and refuse what is not finite.
StatusOr<const boost::json::object*> ObjectAt(const boost::json::object& o, std::string_view key,
                                              std::string_view path);
StatusOr<const boost::json::array*> ArrayAt(const boost::json::object& o, std::string_view key,
                                            std::string_view path);
StatusOr<double> NumberAt(const boost::json::object& o, std::string_view key,
                          std::string_view path);
StatusOr<std::optional<double>> OptionalNumberAt(const boost::json::object& o, std::string_view key,
                                                 std::string_view path);
StatusOr<std::string> StringAt(const boost::json::object& o, std::string_view key,
                               std::string_view path);
StatusOr<std::optional<std::string>> OptionalStringAt(const boost::json::object& o,
                                                      std::string_view key, std::string_view path);
StatusOr<std::vector<double>> NumbersAt(const boost::json::object& o, std::string_view key,
                                        std::string_view path);
StatusOr<std::vector<std::string>> StringsAt(const boost::json::object& o, std::string_view key,
                                             std::string_view path);

// A double as JSON: the number (an integer when it is whole), or null when it is not finite (JSON
// has no NaN or infinity).
boost::json::value NumberJson(double v);
boost::json::value OptionalJson(const std::optional<double>& v);
boost::json::array NumbersJson(const std::vector<double>& v);
boost::json::array StringsJson(const std::vector<std::string>& v);

// RunConfig <-> JSON, every field, keys as the field names. Reading refuses unknown keys and wrong
// types; absent keys keep their defaults.
boost::json::object RunConfigJson(const RunConfig& config);
StatusOr<RunConfig> RunConfigFromJson(const boost::json::object& o, std::string_view path);

// Writes `text` to `path` through a temporary file in the same folder and a rename, so a reader
// never sees half a file. Internal on failure, naming the path and errno's text.
Status WriteFileAtomically(const std::string& path, std::string_view text);
// The whole file; NotFound when it does not exist, Internal for other errors.
StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace hasivu::bench::internal

#endif  // HASIVU_BENCH_JSON_IO_H_
