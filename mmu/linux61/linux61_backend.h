// SPDX-License-Identifier: GPL-2.0-only
// The linux61 backend: Linux 6.1's arch/arm64/kvm/hyp/pgtable.c, extracted at build time from
// Debian's linux-source-6.1 package and compiled unmodified as C behind a shim of our own
// (shim/prelude.h, linux61_adapter.c). This header names no kernel type.
#pragma once

#include <memory>

#include "mmu/backend.h"
#include "mmu/kernel_source_info.h"

namespace mmudiff {

std::unique_ptr<Arm64S2Backend> make_linux61_backend(Machine& machine, Plant plant);

// Where the compiled kernel code came from, recorded at configure time; reports print it.
const KernelSourceInfo& linux61_source_info();

}  // namespace mmudiff
