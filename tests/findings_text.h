// SPDX-License-Identifier: GPL-2.0-only
// What the oracles said, as the text of a failure message: a stream's findings, or one oracle's
// objections.
#pragma once

#include <string>
#include <vector>

#include "oracles/harness.h"
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

// "rule: what", a line each.
inline std::string describe_objections(const std::vector<Objection>& v) {
  std::string s;
  for (const auto& x : v) s += x.rule + ": " + x.what + "\n";
  return s;
}

}  // namespace mmudiff::testing
