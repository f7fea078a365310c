// SPDX-License-Identifier: GPL-2.0-only
// The cross-check of the oracles' fast invariant checks (oracles/invariants.h, run at fuzzing
// speed on every table) against the Z3 model, rule by rule: reserved-bits, block-alignment,
// device-exec and owner, at every level, with and without FWB.
//
// The oracle is C++ on integers, so it is first lifted into Z3 from its own answers: per rule
// and per encoding class (bits [1:0]), a truth table over the few bits the rule reads as a field
// (MemAttr and XN for device-exec, the owner id for owner) and, for every other bit, whether
// setting it alone trips the rule. Z3 is then asked for any descriptor on which the lifted
// oracle and the model disagree. The lifting assumes each rule is such a field test or'ed with
// single-bit tests; that assumption is itself tested by replaying, through the real oracle,
// descriptors Z3 picks on both sides of every rule with many bits set at random.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/solver.h"

namespace mmudiff::models {

struct CrossCheckDisagreement {
  std::string rule;
  unsigned level = 0;
  bool fwb = false;
  uint64_t descriptor = 0;
  bool oracle = false;  // the oracle reports the rule
  bool model = false;   // the model says the rule is broken
  std::string decoded;
};

struct CrossCheckResult {
  Answer answer = Answer::Proved;  // Counterexample: see disagreement
  std::string unknown_reason;
  std::vector<CrossCheckDisagreement> disagreements;  // the first found, at most one per rule
  size_t queries = 0;                                 // Z3 equivalence queries asked
  size_t replayed = 0;                                // Z3 witnesses replayed through the oracle
};

CrossCheckResult cross_check_oracle_invariants(Solver& solver);

// What the oracle reports for one descriptor alone in a table page at level: the rule names.
std::vector<std::string> oracle_rules_for(uint64_t desc, unsigned level, bool fwb);

}  // namespace mmudiff::models
