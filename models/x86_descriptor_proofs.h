// SPDX-License-Identifier: GPL-2.0-only
// The x86 EPT proofs mmudiff prove runs: the walker-x86 and legacy-x86 SPTE constructors
// (x86_backend_sptes.h) against shadow_zero_check and the SDM, the model against the SDM, and
// -- when the kernel is built in -- the model against the compiled __reset_rsvds_bits_mask_ept.
#pragma once

#include <string>
#include <vector>

#include "models/proofs.h"

namespace mmudiff::models {

std::vector<ProofSpec> x86_descriptor_proofs();

// The name of the kernel cross-check, listed by x86_descriptor_proofs() only when
// zero_check_kernel_available(); mmudiff prove reports it as skipped otherwise.
inline const std::string kZeroCheckCrossCheckName = "model.ept.zero-check-is-the-kernels";

}  // namespace mmudiff::models
