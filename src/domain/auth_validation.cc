#include "domain/auth_validation.h"

#include <cstdint>
#include <utility>

namespace hasivu::domain {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

// Counts UTF-8 code points; invalid sequences count per byte, which only makes a limit stricter.
size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace

std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string NormalizeEmail(std::string_view email) {
  std::string out(TrimAscii(email));
  for (char& c : out) {
    if (IsUpper(c)) c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string EmailIssue(std::string_view email) {
  if (email.empty()) return "is required";
  if (email.size() > kMaxEmailLength) return "must be at most 254 characters";
  const size_t at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) {
    return "must be a valid email address";
  }
  std::string_view local = email.substr(0, at);
  std::string_view domain = email.substr(at + 1);
  if (local.empty() || local.size() > 64 || domain.empty()) return "must be a valid email address";
  for (char c : local) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
        c == ';' || c == '<' || c == '>' || c == '[' || c == '\\' || c == ']') {
      return "must be a valid email address";
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return "must be a valid email address";
  }
  if (domain.find('.') == std::string_view::npos) return "must be a valid email address";
  size_t start = 0;
  while (start <= domain.size()) {
    size_t end = domain.find('.', start);
    if (end == std::string_view::npos) end = domain.size();
    std::string_view label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return "must be a valid email address";
    }
    for (char c : label) {
      if (!IsLower(c) && !IsDigit(c) && c != '-') return "must be a valid email address";
    }
    start = end + 1;
  }
  return "";
}

std::string PasswordIssue(std::string_view password) {
  const size_t n = CodePoints(password);
  if (n < 8 || n > 128 || password.size() > 512) return "must be 8-128 characters";
  bool upper = false, lower = false, digit = false, symbol = false;
  for (char c : password) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return "must not contain control characters";
    if (IsUpper(c)) {
      upper = true;
    } else if (IsLower(c)) {
      lower = true;
    } else if (IsDigit(c)) {
      digit = true;
    } else {
      symbol = true;
    }
  }
  if (!upper || !lower || !digit || !symbol) {
    return "must contain an upper-case letter, a lower-case letter, a digit and a symbol";
  }
  return "";
}

std::string NameIssue(std::string_view name) {
  std::string_view t = TrimAscii(name);
  if (t.empty()) return "is required";
  if (CodePoints(t) > 100 || t.size() > 400) return "must be at most 100 characters";
  for (char c : t) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return "must not contain control characters";
  }
  return "";
}

std::string PhoneIssue(std::string_view phone) {
  if (phone.size() < 7 || phone.size() > 20) return "must be 7-20 characters";
  int digits = 0;
  for (char c : phone) {
    if (IsDigit(c)) {
      ++digits;
    } else if (c != '+' && c != ' ' && c != '-') {
      return "may contain only digits, '+', spaces and dashes";
    }
  }
  if (digits < 7) return "must contain at least 7 digits";
  return "";
}

std::vector<FieldIssue> NewAccountIssues(std::string_view normalized_email,
                                         std::string_view password, std::string_view first_name,
                                         std::string_view last_name) {
  std::vector<FieldIssue> issues;
  const std::pair<const char*, std::string> checks[] = {{"email", EmailIssue(normalized_email)},
                                                        {"password", PasswordIssue(password)},
                                                        {"firstName", NameIssue(first_name)},
                                                        {"lastName", NameIssue(last_name)}};
  for (const auto& [field, issue] : checks) {
    if (!issue.empty()) issues.push_back({field, issue});
  }
  return issues;
}

}  // namespace hasivu::domain
