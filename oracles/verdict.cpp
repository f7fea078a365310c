// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/verdict.h"

#include <fmt/format.h>

namespace mmudiff {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::Security:
      return "security";
    case Severity::Functional:
      return "functional";
    case Severity::HardwareEffects:
      return "hardware-effects";
    case Severity::StructuralOnly:
      return "structural-only";
  }
  return "?";
}

namespace {

// A rule or backend as one part of a signature: "put_page of a free page" ->
// "put_page-of-a-free-page".
std::string signature_part(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '+' || c == '-';
    if (!keep) c = '-';
  }
  return out;
}

}  // namespace

std::string Finding::signature() const {
  std::string s = fmt::format("{}/{}/{}", severity_name(severity), oracle, op_kind);
  // "-" keeps the backend in the fifth place when there is no rule: never a rule of that name.
  if (!rule.empty() || !backend.empty())
    s += "/" + (rule.empty() ? std::string("-") : signature_part(rule));
  if (!backend.empty()) s += "/" + signature_part(backend);
  return s;
}

}  // namespace mmudiff
