#include "common/time_util.h"

#include <date/date.h>
#include <date/tz.h>

#include <charconv>
#include <cstdio>
#include <ratio>
#include <type_traits>

namespace hasivu {
namespace {

bool ParseInt(std::string_view s, int& out) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Writes `value` as exactly `width` decimal digits (zero-padded) at `p`; returns the end.
char* PutDigits(char* p, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return p + width;
}

// `Fraction` is the unit of the digits after the seconds (microseconds or milliseconds). Digits
// are written by hand: snprintf took ~3 600 instructions a call under callgrind, and the access
// log line and a response's meta timestamp each call this on every request.
template <typename Fraction>
std::string FormatWith(TimePoint t, int digits) {
  const auto f = std::chrono::floor<Fraction>(t);
  const auto day = std::chrono::floor<std::chrono::days>(f);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{f - day};
  // A 64-bit count of nanoseconds spans 1677 to 2262: always four digits.
  static_assert(std::is_same_v<TimePoint::period, std::nano> && sizeof(TimePoint::rep) == 8);
  const int year = int(ymd.year());
  char buf[40];
  char* p = PutDigits(buf, static_cast<unsigned>(year), 4);
  *p++ = '-';
  p = PutDigits(p, unsigned(ymd.month()), 2);
  *p++ = '-';
  p = PutDigits(p, unsigned(ymd.day()), 2);
  *p++ = 'T';
  p = PutDigits(p, static_cast<unsigned>(hms.hours().count()), 2);
  *p++ = ':';
  p = PutDigits(p, static_cast<unsigned>(hms.minutes().count()), 2);
  *p++ = ':';
  p = PutDigits(p, static_cast<unsigned>(hms.seconds().count()), 2);
  *p++ = '.';
  p = PutDigits(p, static_cast<unsigned>(hms.subseconds().count()), digits);
  *p++ = 'Z';
  return std::string(buf, p);
}

}  // namespace

std::string FormatRfc3339(TimePoint t) { return FormatWith<std::chrono::microseconds>(t, 6); }

std::string FormatRfc3339Millis(TimePoint t) { return FormatWith<std::chrono::milliseconds>(t, 3); }

StatusOr<TimePoint> ParseRfc3339(std::string_view s) {
  auto bad = [&] {
    return InvalidArgumentError("not an RFC 3339 instant: '" + std::string(s.substr(0, 40)) + "'");
  };
  if (s.size() < 19) return bad();
  ASSIGN_OR_RETURN(Date d, ParseDate(s.substr(0, 10)));
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return bad();
  int hh, mm, ss;
  if (s[13] != ':' || s[16] != ':' || !ParseInt(s.substr(11, 2), hh) ||
      !ParseInt(s.substr(14, 2), mm) || !ParseInt(s.substr(17, 2), ss) || hh > 23 || mm > 59 ||
      ss > 60) {
    return bad();
  }
  size_t i = 19;
  std::chrono::microseconds frac{0};
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    int64_t v = 0;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 6) {
        v = v * 10 + (s[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (i == start) return bad();
    while (digits < 6) {
      v *= 10;
      ++digits;
    }
    frac = std::chrono::microseconds(v);
  }
  std::chrono::minutes offset{0};
  if (i < s.size()) {
    if (s[i] == 'Z' || s[i] == 'z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      const int sign = s[i] == '-' ? -1 : 1;
      ++i;
      int oh = 0, om = 0;
      if (i + 2 > s.size() || !ParseInt(s.substr(i, 2), oh)) return bad();
      i += 2;
      if (i < s.size() && s[i] == ':') ++i;
      if (i + 2 <= s.size()) {
        if (!ParseInt(s.substr(i, 2), om)) return bad();
        i += 2;
      }
      offset = std::chrono::minutes(sign * (oh * 60 + om));
    } else {
      return bad();
    }
  }
  if (i != s.size()) return bad();
  // In whole seconds first: years up to 9999 fit, while a TimePoint (nanoseconds) holds only
  // 1677..2262, and converting beyond that overflows (text a client sends reaches here).
  const std::chrono::sys_seconds whole =
      d + std::chrono::hours(hh) + std::chrono::minutes(mm) + std::chrono::seconds(ss) - offset;
  constexpr std::chrono::sys_seconds kFirst =
      std::chrono::ceil<std::chrono::seconds>(TimePoint::min());
  constexpr std::chrono::sys_seconds kLast =
      std::chrono::floor<std::chrono::seconds>(TimePoint::max()) - std::chrono::seconds(1);
  if (whole < kFirst || whole > kLast) return bad();
  return TimePoint(whole) + frac;
}

std::string FormatDate(Date d) {
  const std::chrono::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()));
  return buf;
}

StatusOr<Date> ParseDate(std::string_view s) {
  int y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !ParseInt(s.substr(0, 4), y) ||
      !ParseInt(s.substr(5, 2), m) || !ParseInt(s.substr(8, 2), d)) {
    return InvalidArgumentError("not a YYYY-MM-DD date");
  }
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(unsigned(m)),
                                        std::chrono::day(unsigned(d))};
  if (!ymd.ok()) return InvalidArgumentError("not a calendar date");
  return Date(ymd);
}

StatusOr<Date> LocalDate(TimePoint t, std::string_view tz) {
  try {
    const date::time_zone* zone = date::locate_zone(tz);
    const auto local = zone->to_local(std::chrono::floor<std::chrono::seconds>(t));
    const auto days = std::chrono::floor<date::days>(local);
    return Date(std::chrono::days(days.time_since_epoch().count()));
  } catch (const std::exception&) {
    return InvalidArgumentError("unknown time zone '" + std::string(tz) + "'");
  }
}

bool IsValidTimeZone(std::string_view tz) {
  try {
    return date::locate_zone(tz) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

unsigned IsoWeekday(Date d) { return std::chrono::weekday(d).iso_encoding(); }

}  // namespace hasivu
