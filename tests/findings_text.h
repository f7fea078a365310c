// SPDX-License-Identifier: GPL-2.0-only
// What the oracles said, as the text of a failure message: a stream's findings, or one oracle's
// objections.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "oracles/harness.h"
#include "oracles/isolated_run.h"
#include "oracles/objection.h"

namespace mmudiff::testing {

// Each finding's signature and summary, its evidence indented below it.
inline std::string describe_findings(const StreamReport& r) {
  std::string s;
  for (const auto& f : r.findings) {
    s += "[" + f.signature() + "] " + f.summary + "\n";
    for (const auto& e : f.evidence) s += "    " + e + "\n";
  }
  return s;
}

// Everything a report says, for a failure message that shows where two differ. A crash is its
// signature: the sanitizer's report names the child's pid and addresses.
inline std::string describe_report(const StreamReport& r) {
  std::ostringstream s;
  for (const auto& f : r.findings) {
    s << "[" << f.signature() << "]";
    if (!is_crash_finding(f)) {
      s << " " << f.summary << "\n";
      for (const auto& e : f.evidence) s << "    " << e << "\n";
    }
    s << "\n";
  }
  for (const auto& n : r.notes) s << "note: " << n << "\n";
  for (uint64_t h : r.root_hashes) s << "root hash " << h << "\n";
  s << "pages " << r.table_pages << ", mappings " << r.mappings << ", bound " << r.bound_reached
    << " " << r.refusal << "\n";
  return s.str();
}

// "rule: what", a line each.
inline std::string describe_objections(const std::vector<Objection>& v) {
  std::string s;
  for (const auto& x : v) s += x.rule + ": " + x.what + "\n";
  return s;
}

}  // namespace mmudiff::testing
