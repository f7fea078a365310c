// SPDX-License-Identifier: GPL-2.0-only
// What a proof body works with: the solver, the symbolic domain the backends' descriptor
// functions run on, the format model, and verify(), which asks Z3 for each part of a property
// in turn and keeps the first counterexample.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mmu/plants.h"
#include "models/arm64_s2_model.h"
#include "models/proofs.h"
#include "models/solver.h"
#include "models/symbolic_bits.h"

namespace mmudiff::models {

class ProofRun {
 public:
  ProofRun(Solver& s, Plant p) : solver(s), bits{&s.ctx()}, model(s.ctx()), plant(p) {}

  using Named = std::pair<std::string, z3::expr>;

  // Proves each claim (its name says what it means) under the assumptions in scope. False, with
  // the result recorded, at the first claim that fails or that Z3 cannot decide: the proof stops.
  bool verify(const std::vector<Named>& claims, const z3::expr& descriptor, unsigned level,
              bool fwb, const std::vector<Named>& inputs);

  Solver& solver;
  SymbolicBits bits;
  Arm64S2Model model;
  Plant plant;

  Answer answer = Answer::Proved;
  std::string unknown_reason;
  std::optional<Counterexample> counterexample;
};

}  // namespace mmudiff::models
