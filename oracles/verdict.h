// SPDX-License-Identifier: GPL-2.0-only
// What the oracles conclude about one stream: findings with a class, the oracle that saw them,
// the operation, and the evidence. A finding's signature (class + oracle + operation kind) is
// what deduplicates findings across a campaign.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mmudiff {

// Most severe first.
enum class Severity : uint8_t {
  Security,         // a backend maps more than the reference allows, or corrupts memory
  Functional,       // a missing or weaker mapping, a wrong return code, a leak
  HardwareEffects,  // a missing invalidation, a break-before-make violation
  StructuralOnly,   // the same translation built with another shape
};

const char* severity_name(Severity s);

struct Finding {
  Severity severity;
  std::string oracle;                 // "return-codes", "final-tables", "memory", "warnings", ...
  size_t op_index;                    // the operation after which it was seen
  std::string op_kind;                // that operation's name
  std::string summary;                // one line
  std::vector<std::string> evidence;  // decoded descriptors, effect traces, per backend

  std::string signature() const;
};

}  // namespace mmudiff
