// SPDX-License-Identifier: GPL-2.0-only
// Seeds from the proofs' boundaries: for each family of proofs, the inputs Z3 finds at the edge
// of its domain (the last OA each PA size allows, the first OA bit a block may not have, every
// distinct attribute encoding map can write, the last owner id KVM takes), written as .mmu
// operation streams for corpus/seeds/. Deterministic: the same build writes the same files.
#pragma once

#include <string>
#include <vector>

#include "models/solver.h"

namespace mmudiff::models {

struct SeedFile {
  std::string name;  // "z3-pa-range.mmu"
  std::string text;  // .mmu text
};

std::vector<SeedFile> generate_seeds(Solver& solver);

// Writes every seed into dir (created if missing); returns the paths written.
std::vector<std::string> write_seeds(Solver& solver, const std::string& dir);

}  // namespace mmudiff::models
