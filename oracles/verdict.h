// SPDX-License-Identifier: GPL-2.0-only
// What the oracles conclude about one stream: findings with a class, the oracle that saw them,
// the operation, and the evidence. A finding's signature (class + oracle + operation kind + rule
// + the backend that differs) is what deduplicates findings across a campaign.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
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

// One side of a structural divergence: the first diverging descriptor as one backend has it,
// every field decoded by the table's format, so a report can put the sides next to each other.
struct DescriptorSide {
  std::string backend;
  uint64_t ipa_start = 0;  // the IPA range the entry translates: [ipa_start, ipa_end)
  uint64_t ipa_end = 0;
  unsigned level = 0;
  uint64_t raw = 0;
  std::string kind;  // "invalid", "table", "block", "page", "reserved"
  std::vector<std::pair<std::string, std::string>> fields;  // name -> "value (meaning)"

  bool operator==(const DescriptorSide&) const = default;
};

struct Finding {
  Severity severity;
  std::string oracle;                 // "return-codes", "final-tables", "memory", "warnings", ...
  size_t op_index;                    // the operation after which it was seen
  std::string op_kind;                // that operation's name
  std::string summary;                // one line
  std::vector<std::string> evidence;  // decoded descriptors, effect traces, per backend
  // The first diverging descriptor, one side per backend compared (reference first); empty
  // when the finding is not about two tables differing.
  std::vector<DescriptorSide> divergence = {};
  // The oracle's rule that fired ("tlb-stale", "refcount", "SIGSEGV", ...) and the backend that
  // differs from the reference; either may be empty when it does not apply.
  std::string rule = {};
  std::string backend = {};

  // "class/oracle/operation[/rule][/backend]": begins with class/oracle/operation, so a prefix of
  // it names a family of findings.
  std::string signature() const;
};

}  // namespace mmudiff
