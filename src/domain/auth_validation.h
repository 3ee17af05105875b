// Input rules of auth-register and auth-login (api.md): email normalisation and syntax,
// password strength, names and phone. Pure functions; safe concurrently.
#ifndef HASIVU_DOMAIN_AUTH_VALIDATION_H_
#define HASIVU_DOMAIN_AUTH_VALIDATION_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hasivu::domain {

inline constexpr size_t kMaxEmailLength = 254;

// Trims ASCII whitespace and lower-cases ASCII letters. Other bytes are kept as they are.
std::string NormalizeEmail(std::string_view email);

// Syntax check of a normalised email: one '@', a non-empty local part of at most 64 printable
// characters without spaces or quotes, a domain of dot-separated labels of [a-z0-9-] (no label
// starting or ending with '-') with at least one dot, total <= 254. Returns the issue text or "".
std::string EmailIssue(std::string_view normalized_email);

// 8-128 characters with an upper-case letter, a lower-case letter, a digit and a symbol (any
// other printable character). Returns the issue text or "".
std::string PasswordIssue(std::string_view password);

// A required name: 1-100 characters after trimming, no control characters. "" if fine.
std::string NameIssue(std::string_view name);

// An optional phone: 7-20 characters of digits, '+', spaces and dashes with at least 7 digits.
std::string PhoneIssue(std::string_view phone);

// The issues of a new account's normalised email, password and trimmed names, in that order,
// with the API's field names (email, password, firstName, lastName). Empty when all are fine.
std::vector<FieldIssue> NewAccountIssues(std::string_view normalized_email,
                                         std::string_view password, std::string_view first_name,
                                         std::string_view last_name);

// Trims ASCII whitespace.
std::string_view TrimAscii(std::string_view s);

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_AUTH_VALIDATION_H_
