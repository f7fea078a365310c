// SPDX-License-Identifier: GPL-2.0-only
// Every proof mmudiff prove runs: the backends' descriptor proofs (arm64_descriptor_proofs.cpp),
// then the model's own: the MemAttr values KVM writes mean what the model says, and the oracles'
// invariant checks agree with the model (cross_check.h).
#include <fmt/format.h>

#include "mmu/format/arm64_s2.h"
#include "models/arm64_descriptor_proofs.h"
#include "models/cross_check.h"
#include "models/proof_run.h"
#include "models/proofs.h"
#include "models/x86_descriptor_proofs.h"

namespace mmudiff::models {

namespace {

namespace s2 = arm64s2;

// The MemAttr constants of mmu/format, read through the model: normal memory is write-back and
// not reserved, device memory is device, under either FWB setting.
void prove_memattr_encodings(ProofRun& r) {
  for (bool fwb : {false, true}) {
    for (bool device : {false, true}) {
      Solver::Scope scope(r.solver);
      z3::expr d = r.solver.word("descriptor");
      const uint64_t attr = device ? s2::mem_attr_device(fwb) : s2::mem_attr_normal(fwb);
      r.solver.assume(r.model.mem_attr(d) == r.bits.lit(attr));
      const z3::expr meaning = device
                                   ? r.model.device(d, fwb)
                                   : r.model.normal_write_back(d, fwb) && !r.model.device(d, fwb);
      if (!r.verify(
              {{device ? "KVM's device MemAttr reads as device memory"
                       : "KVM's normal MemAttr reads as normal write-back memory",
                meaning},
               {"KVM's MemAttr is not a reserved encoding", !r.model.mem_attr_reserved(d, fwb)}},
              d, 3, fwb, {{"descriptor", d}}))
        return;
    }
  }
}

void prove_oracle_agrees(ProofRun& r) {
  CrossCheckResult x = cross_check_oracle_invariants(r.solver);
  r.answer = x.answer;
  r.unknown_reason = x.unknown_reason;
  if (x.disagreements.empty()) return;
  const CrossCheckDisagreement& d = x.disagreements.front();
  Counterexample c;
  c.level = d.level;
  c.fwb = d.fwb;
  c.inputs = {{"level", d.level}, {"fwb", d.fwb ? 1u : 0u}, {"descriptor", d.descriptor}};
  c.descriptor = d.descriptor;
  c.decoded = d.decoded;
  c.violated = fmt::format("rule {}: the oracle {} it, the model says it is {}", d.rule,
                           d.oracle ? "reports" : "does not report", d.model ? "broken" : "kept");
  r.counterexample = std::move(c);
}

}  // namespace

const std::vector<ProofSpec>& proof_catalogue() {
  static const std::vector<ProofSpec> kProofs = [] {
    std::vector<ProofSpec> out = descriptor_proofs();
    out.push_back({"model.memattr-encodings", "model",
                   "the MemAttr values KVM writes read as normal write-back and device memory, "
                   "not reserved, with and without FWB",
                   prove_memattr_encodings});
    out.push_back({"model.oracle-invariants-agree", "model",
                   "the oracles' reserved-bits, block-alignment, device-exec and owner checks "
                   "agree with the model on every descriptor at every level",
                   prove_oracle_agrees});
    for (ProofSpec& p : x86_descriptor_proofs()) out.push_back(std::move(p));
    return out;
  }();
  return kProofs;
}

}  // namespace mmudiff::models
