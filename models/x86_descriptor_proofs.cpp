// SPDX-License-Identifier: GPL-2.0-only
#include "models/x86_descriptor_proofs.h"

#include <fmt/format.h>

#include "mmu/format/x86_ept_format.h"
#include "models/proof_run.h"
#include "models/x86_backend_sptes.h"
#include "models/x86_ept_proofs.h"
#include "models/x86_zero_check_cross_check.h"

namespace mmudiff::models {

namespace {

void take(ProofRun& run, ProofResult r) {
  run.answer = r.answer;
  run.unknown_reason = std::move(r.unknown_reason);
  run.counterexample = std::move(r.counterexample);
}

template <class A>
void add_backend(std::vector<ProofSpec>& out) {
  out.push_back({fmt::format("{}.ept.leaf-spte-valid", A::kName), A::kName,
                 "make_spte's leaves pass KVM's shadow_zero_check, are no EPT misconfiguration, "
                 "map the pfn with the memory type asked and grant no more than asked, for "
                 "MAXPHYADDR 36-52, 4/5 levels, A/D and execute-only on/off, every huge-page "
                 "level, level, and TDP MMU access/memory-type request",
                 [](ProofRun& r) { take(r, prove_ept_leaf_sptes<A>(r.solver, r.plant)); }});
  out.push_back({fmt::format("{}.ept.nonleaf-spte-valid", A::kName), A::kName,
                 "make_nonleaf_spte's entries are present, PS clear, point at their table, pass "
                 "shadow_zero_check and are no EPT misconfiguration, at every table level",
                 [](ProofRun& r) { take(r, prove_ept_nonleaf_sptes<A>(r.solver, r.plant)); }});
  out.push_back({fmt::format("{}.ept.split-spte-valid", A::kName), A::kName,
                 "make_huge_page_split_spte's children are valid SPTEs for their part of the "
                 "huge page and keep its A/D, R/W, host-/MMU-writable, memory type and X",
                 [](ProofRun& r) { take(r, prove_ept_split_sptes<A>(r.solver, r.plant)); }});
}

void prove_zero_check_matches_kernel(ProofRun& run) {
  const ZeroCheckCrossCheck x = cross_check_zero_check(run.solver);
  run.answer = x.answer;
  run.unknown_reason = x.unknown_reason;
  if (x.mismatches.empty()) return;
  const ZeroCheckMismatch& m = x.mismatches.front();
  Counterexample c;
  c.level = m.level;
  c.inputs = {{"maxphyaddr", m.input.maxphyaddr},
              {"execonly", m.input.execonly},
              {"huge_page_level", static_cast<uint64_t>(m.input.huge_page_level)},
              {"levels", m.levels}};
  if (m.field == "is_rsvd_spte") {
    c.inputs.push_back({"level", m.level});
    c.descriptor = m.spte;
    c.decoded = x86_ept_format({m.input.maxphyaddr, m.levels, true, m.input.execonly})
                    .describe(m.spte, trait_level(m.level, m.levels), false);
    c.violated = fmt::format("is_rsvd_spte: the model says {}, the kernel {}",
                             m.model ? "reserved" : "fine", m.kernel ? "reserved" : "fine");
  } else {
    c.descriptor = m.model;
    c.decoded = fmt::format("{}: model {:#x}, kernel {:#x} (differ in {:#x})", m.field, m.model,
                            m.kernel, m.model ^ m.kernel);
    c.violated = fmt::format("{} equals __reset_rsvds_bits_mask_ept's", m.field);
  }
  run.counterexample = std::move(c);
}

}  // namespace

std::vector<ProofSpec> x86_descriptor_proofs() {
  std::vector<ProofSpec> out;
  add_backend<WalkerX86Sptes>(out);
  add_backend<LegacyX86Sptes>(out);
  out.push_back({"model.ept.zero-check-is-sdm", "model",
                 "on present entries, __reset_rsvds_bits_mask_ept's check rejects exactly the "
                 "SDM's EPT misconfigurations, for MAXPHYADDR 36-52, execute-only on/off, "
                 "huge-page levels 1-3, levels 1-5",
                 [](ProofRun& r) { take(r, prove_zero_check_is_sdm(r.solver)); }});
  if (zero_check_kernel_available())
    out.push_back({kZeroCheckCrossCheckName, "model",
                   "the model's shadow_zero_check (every rsvd_bits_mask entry and bad_mt_xwr) is "
                   "what the compiled Linux 6.12 __reset_rsvds_bits_mask_ept computes, and "
                   "is_rsvd_spte agrees on boundary SPTEs, for MAXPHYADDR 36-52, execute-only "
                   "on/off, huge-page levels 1-3, 4 and 5 levels",
                   prove_zero_check_matches_kernel});
  return out;
}

}  // namespace mmudiff::models
