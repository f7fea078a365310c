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

std::string Finding::signature() const {
  std::string s = fmt::format("{}/{}/{}", severity_name(severity), oracle, op_kind);
  if (!rule.empty()) s += "/" + rule;
  if (!backend.empty()) s += "/" + backend;
  return s;
}

}  // namespace mmudiff
