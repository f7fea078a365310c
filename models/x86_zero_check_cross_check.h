// SPDX-License-Identifier: GPL-2.0-only
// The Z3 model of shadow_zero_check (x86_ept_model.h) against the compiled kernel: for every
// input KVM can call __reset_rsvds_bits_mask_ept with (MAXPHYADDR 36..52, execute-only off and
// on, huge-page level 4K/2M/1G) and both root levels, Z3 proves that the model's formula for
// every rsvd_bits_mask[bit 7][level - 1] and for bad_mt_xwr equals what Linux 6.12's own
// function computed (linux612::ept_shadow_zero_check), and the model's is_rsvd_spte agrees
// with the kernel's on boundary SPTEs (each single bit at each level, every bits 5:0 value).
// Only with the linux612-tdp backend built (MMUDIFF_HAVE_LINUX612_TDP).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/solver.h"
#include "models/x86_ept_model.h"

namespace mmudiff::models {

// The model under test: the formula for __reset_rsvds_bits_mask_ept(pa_bits_rsvd, execonly,
// huge_page_level). The tests pass deliberately altered ones.
using SymbolicZeroCheckModel =
    std::function<RsvdBitsValidate<SymbolicBits>(const SymbolicBits&, const z3::expr& pa_bits_rsvd,
                                                 const z3::expr& execonly, int huge_page_level)>;
RsvdBitsValidate<SymbolicBits> zero_check_model(const SymbolicBits& b, const z3::expr& pa_bits_rsvd,
                                                const z3::expr& execonly, int huge_page_level);

struct ZeroCheckMismatch {
  ZeroCheckInput input;
  unsigned levels = 4;
  std::string field;  // "rsvd_bits_mask[1][2]", "bad_mt_xwr" or "is_rsvd_spte"
  uint64_t model = 0;
  uint64_t kernel = 0;
  uint64_t spte = 0;  // for is_rsvd_spte: the SPTE they disagree on
  unsigned level = 0;
};

struct ZeroCheckCrossCheck {
  Answer answer = Answer::Unknown;
  std::string unknown_reason;
  unsigned inputs = 0;                        // (input, levels) pairs compared
  unsigned queries = 0;                       // Z3 queries
  unsigned sptes = 0;                         // concrete is_rsvd_spte comparisons
  std::vector<ZeroCheckMismatch> mismatches;  // the first per (input, levels)
};

// Whether the compiled kernel is there to compare with.
bool zero_check_kernel_available();

// Compares model (default: x86_ept_model.h's) with the kernel on every input. Unknown without
// the kernel.
ZeroCheckCrossCheck cross_check_zero_check(Solver& s,
                                           const SymbolicZeroCheckModel& model = zero_check_model);

}  // namespace mmudiff::models
