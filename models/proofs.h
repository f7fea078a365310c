// SPDX-License-Identifier: GPL-2.0-only
// The named proofs: each a property of one backend's descriptor functions (or of the model
// itself), proved for every input in its domain by running the backend's own templated source
// on Z3 bit-vectors. A failed proof carries a concrete counterexample: its inputs and the
// descriptor the backend built from them, decoded by mmu/format.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mmu/plants.h"
#include "models/solver.h"

namespace mmudiff::models {

struct Counterexample {
  std::vector<std::pair<std::string, uint64_t>> inputs;  // "level", "fwb", "prot", "pa", ...
  uint64_t descriptor = 0;                               // what the backend built
  unsigned level = 0;
  bool fwb = false;
  std::string decoded;   // describe_descriptor(descriptor, level, fwb)
  std::string violated;  // which part of the property fails, in words
};

struct ProofResult {
  std::string name;
  std::string backend;   // "walker", "legacy" or "model"
  std::string property;  // one line
  Answer answer = Answer::Unknown;
  std::string unknown_reason;
  double time_ms = 0;
  std::optional<Counterexample> counterexample;
};

class ProofRun;

struct ProofSpec {
  std::string name;
  std::string backend;
  std::string property;
  std::function<void(ProofRun&)> body;
};

// Every proof, in report order.
const std::vector<ProofSpec>& proof_catalogue();
// Whether a proof is about x86 EPT ("x86-ept" formats) rather than arm64 stage 2.
bool is_x86_proof(const ProofSpec& spec);
// The catalogue's proofs for one format: FORMAT "x86-ept..." gives the x86 ones, any other the
// arm64 ones.
std::vector<const ProofSpec*> proofs_for_format(const std::string& format);
const ProofSpec* find_proof(const std::string& name);

// Runs one proof on solver with plant on in the backends' descriptor functions.
ProofResult run_proof(const ProofSpec& spec, Solver& solver, Plant plant);

// Runs specs on up to `threads` threads (0: one per core), each with a Solver of its own: a Z3
// context is never shared between threads. The x86 proofs take seconds each, so a report's
// proofs take about half as long on two cores. on_result, when given, sees each result in the
// order of specs, on the calling thread, as soon as it and every one before it are done.
std::vector<ProofResult> run_proofs(const std::vector<const ProofSpec*>& specs, unsigned timeout_ms,
                                    Plant plant, unsigned threads = 0,
                                    const std::function<void(const ProofResult&)>& on_result = {});

// Counterexample inputs that are counts or flags (level, fwb, maxphyaddr, levels, ...), shown in
// decimal; every other input is a bit pattern, shown in hex.
bool counterexample_input_is_number(const std::string& name);

// "  counterexample: level=2 fwb=0 prot=0x6 pa=0x40200000\n  descriptor: L2 block ...\n"
std::string format_counterexample(const Counterexample& c);

}  // namespace mmudiff::models
