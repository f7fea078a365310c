// SPDX-License-Identifier: GPL-2.0-only
// The linux612 backend: Linux 6.12's arch/arm64/kvm/hyp/pgtable.c, extracted at build time from
// Debian's linux-source-6.12 package and compiled unmodified as C behind a shim of our own
// (shim/prelude.h and linux612_adapter.c on mmu/kvm_arm64_shim, which linux61 shares). This
// header names no kernel type.
//
// It is the reference of profile arm64-6.12 (mmu/registry.cpp): 6.12 legitimately differs from
// 6.1 (mmu/linux612/README.md lists how). A user's tree of the same API generation
// (-DMMUDIFF_KERNEL_TREES, cmake/KernelTrees.cmake) runs through the same backend on its own
// kernel object.
#pragma once

#include <memory>
#include <string_view>

#include "mmu/backend.h"
#include "mmu/kernel_source_info.h"

// The entry points of one 6.12-generation kernel object (mmu/linux612/linux612_adapter.h).
struct l612a_entry_points;

namespace mmudiff {

// The plant is ignored, as linux61 does: this is the kernel's code, unmodified. Whether the CPU
// has FEAT_TLBIRANGE (ARM64_HAS_TLB_RANGE) comes with each init (Arm64S2Config::tlb_range).
std::unique_ptr<Arm64S2Backend> make_linux612_backend(Machine& machine, Plant plant);

// The same backend on another 6.12-generation kernel object: a user's tree, named NAME.
std::unique_ptr<Arm64S2Backend> make_kernel612_backend(Machine& machine, std::string_view name,
                                                       const l612a_entry_points& api);

// Where the compiled kernel code came from, recorded at configure time; reports print it.
const KernelSourceInfo& linux612_arm64_source_info();

}  // namespace mmudiff
