// SPDX-License-Identifier: GPL-2.0-only
#include "models/x86_zero_check_cross_check.h"

#include <fmt/format.h>

#ifdef MMUDIFF_HAVE_LINUX612_TDP
#include "mmu/linux612_tdp/linux612_spte_check.h"
#endif

namespace mmudiff::models {

RsvdBitsValidate<SymbolicBits> zero_check_model(const SymbolicBits& b, const z3::expr& pa_bits_rsvd,
                                                const z3::expr& execonly, int huge_page_level) {
  return reset_rsvds_bits_mask_ept(b, pa_bits_rsvd, execonly, huge_page_level);
}

#ifdef MMUDIFF_HAVE_LINUX612_TDP

bool zero_check_kernel_available() {
  return true;
}

namespace {

// The SPTEs where a mask off by one bit or one XWR/memory-type pattern shows: every single
// bit, and every value of bits 5:0 with and without bit 7, each also with R set so that XWR
// alone does not decide.
std::vector<uint64_t> boundary_sptes() {
  std::vector<uint64_t> out;
  for (unsigned bit = 0; bit < 64; ++bit) {
    out.push_back(uint64_t{1} << bit);
    out.push_back((uint64_t{1} << bit) | 1);
  }
  for (uint64_t low = 0; low < 64; ++low) {
    out.push_back(low);
    out.push_back(low | (uint64_t{1} << 7));
  }
  return out;
}

}  // namespace

ZeroCheckCrossCheck cross_check_zero_check(Solver& s, const SymbolicZeroCheckModel& model) {
  ZeroCheckCrossCheck r;
  r.answer = Answer::Proved;
  const SymbolicBits b{&s.ctx()};
  const std::vector<uint64_t> sptes = boundary_sptes();
  for (const ZeroCheckInput& in : zero_check_inputs()) {
    for (unsigned levels : {4u, 5u}) {
      ++r.inputs;
      const linux612::EptZeroCheck kernel = linux612::ept_shadow_zero_check(
          in.maxphyaddr, in.execonly, levels, static_cast<unsigned>(in.huge_page_level));
      Solver::Scope scope(s);
      // The arguments are symbolic and pinned to KVM's, so the proof is about the formula the
      // model builds for any argument, read at this one.
      const z3::expr pa_bits_rsvd = s.word("pa_bits_rsvd");
      const z3::expr execonly = s.ctx().bool_const("execonly");
      s.assume(pa_bits_rsvd == b.lit(reserved_hpa_bits(in.maxphyaddr)));
      s.assume(execonly == s.ctx().bool_val(in.execonly));
      const RsvdBitsValidate<SymbolicBits> m = model(b, pa_bits_rsvd, execonly, in.huge_page_level);

      std::vector<std::pair<std::string, std::pair<z3::expr, uint64_t>>> fields;
      for (unsigned big = 0; big < 2; ++big)
        for (unsigned i = 0; i < 5; ++i)
          fields.push_back({fmt::format("rsvd_bits_mask[{}][{}]", big, i),
                            {m.rsvd_bits_mask[big][i], kernel.rsvd_bits_mask[big][i]}});
      fields.push_back({"bad_mt_xwr", {m.bad_mt_xwr, kernel.bad_mt_xwr}});
      z3::expr all = s.ctx().bool_val(true);
      for (const auto& [name, f] : fields) all = all && f.first == b.lit(f.second);
      ++r.queries;
      const Outcome o = s.prove(all);
      if (o.answer == Answer::Unknown) {
        r.answer = Answer::Unknown;
        r.unknown_reason = fmt::format("maxphyaddr={} execonly={} huge_page_level={}: {}",
                                       in.maxphyaddr, in.execonly, in.huge_page_level, o.reason);
        return r;
      }
      if (o.answer == Answer::Counterexample) {
        r.answer = Answer::Counterexample;
        for (const auto& [name, f] : fields) {
          const uint64_t v = s.value(f.first);
          if (v == f.second) continue;
          r.mismatches.push_back({in, levels, name, v, f.second, 0, 0});
          break;
        }
        continue;
      }
      // The masks are equal; is_rsvd_spte is the kernel's own on both sides of this check.
      const ConcreteRsvdCheck concrete = kvm_reset_rsvds_bits_mask_ept(
          reserved_hpa_bits(in.maxphyaddr), in.execonly, in.huge_page_level);
      bool differs = false;
      for (unsigned level = 1; level <= 5 && !differs; ++level) {
        for (uint64_t spte : sptes) {
          ++r.sptes;
          const bool ours = kvm_is_rsvd_spte(concrete, spte, static_cast<int>(level));
          const bool theirs = linux612::is_rsvd_spte(kernel, spte, level);
          if (ours == theirs) continue;
          r.answer = Answer::Counterexample;
          r.mismatches.push_back({in, levels, "is_rsvd_spte", ours, theirs, spte, level});
          differs = true;
          break;
        }
      }
    }
  }
  return r;
}

#else

bool zero_check_kernel_available() {
  return false;
}

ZeroCheckCrossCheck cross_check_zero_check(Solver&, const SymbolicZeroCheckModel&) {
  ZeroCheckCrossCheck r;
  r.unknown_reason = "built without the linux612-tdp backend (MMUDIFF_LINUX612=OFF)";
  return r;
}

#endif

}  // namespace mmudiff::models
