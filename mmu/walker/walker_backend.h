// SPDX-License-Identifier: GPL-2.0-only
// The walker backend: a generic table walker with one small visitor per operation, in the style
// of arm64's kvm_pgtable, written from its observable behaviour in Linux 6.1 and 6.12: the
// configuration's kernel picks the generation it follows (generation.h).
#pragma once

#include <memory>

#include "mmu/backend.h"

namespace mmudiff {

std::unique_ptr<Arm64S2Backend> make_walker_backend(Machine& machine, Plant plant);

}  // namespace mmudiff
