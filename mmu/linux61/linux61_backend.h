// SPDX-License-Identifier: GPL-2.0-only
// The linux61 backend: Linux 6.1's arch/arm64/kvm/hyp/pgtable.c, extracted at build time from
// Debian's linux-source-6.1 package and compiled unmodified as C behind a shim of our own
// (shim/prelude.h, linux61_adapter.c). This header names no kernel type.
#pragma once

#include <memory>

#include "mmu/backend.h"
#include "mmu/kernel_source_info.h"

// The entry points of one 6.1-generation kernel object (mmu/linux61/linux61_adapter.h).
struct l61_entry_points;

namespace mmudiff {

std::unique_ptr<Arm64S2Backend> make_linux61_backend(Machine& machine, Plant plant);

// The same backend on another 6.1-generation kernel object: a user's tree, named NAME.
std::unique_ptr<Arm64S2Backend> make_kernel61_backend(Machine& machine, std::string_view name,
                                                      const l61_entry_points& api);

// Where the compiled kernel code came from, recorded at configure time; reports print it.
const KernelSourceInfo& linux61_source_info();

}  // namespace mmudiff
