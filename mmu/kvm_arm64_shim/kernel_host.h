// SPDX-License-Identifier: GPL-2.0-only
// The machine side of an arm64 kernel backend (linux61, linux612): what the kernel's callbacks
// (mm_ops, descriptor stores, TLBI, barriers, WARN_ON) become, through arm64k_host_ops, on one
// Machine: SimMemory calls and EffectLog entries. A backend owns one and gives the C adapter
// `&Arm64KernelHost::kOps` with a pointer to it.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "mmu/backend.h"
#include "mmu/kvm_arm64_shim/kvm_arm64_shim.h"

namespace mmudiff {

class Arm64KernelHost {
 public:
  explicit Arm64KernelHost(Machine& machine) : machine_(machine) {}
  Arm64KernelHost(const Arm64KernelHost&) = delete;
  Arm64KernelHost& operator=(const Arm64KernelHost&) = delete;

  // The callbacks; each takes the Arm64KernelHost* as its host argument.
  static const arm64k_host_ops kOps;

  Machine& machine() { return machine_; }
  // The size of the last zalloc_pages_exact: the kernel sized the PGD itself (kvm_pgd_pages()).
  size_t pgd_bytes() const { return pgd_bytes_; }
  void forget_pgd_bytes() { pgd_bytes_ = 0; }
  // The kernel's WARN_ONs since the last call, as "WARN_ON(cond) at file:line".
  std::vector<std::string> take_warnings() {
    std::lock_guard lock(warnings_mutex_);
    return std::exchange(warnings_, {});
  }
  // A problem the backend noticed itself, beside the kernel's WARN_ONs. Locked: the vCPUs of a
  // threaded run may warn at once, and a warning is rare enough to pay for it.
  void warn(std::string what) {
    std::lock_guard lock(warnings_mutex_);
    warnings_.push_back(std::move(what));
  }

 private:
  static Arm64KernelHost& self(void* host) { return *static_cast<Arm64KernelHost*>(host); }
  SimMemory& memory() { return machine_.memory; }
  EffectLog& effects() { return machine_.effects; }

  Machine& machine_;
  size_t pgd_bytes_ = 0;
  std::mutex warnings_mutex_;
  std::vector<std::string> warnings_;
};

// The C side's form of a configuration (tlb_range: whether the CPU has FEAT_TLBIRANGE, which
// only 6.12 asks).
arm64k_config arm64k_config_of(const Arm64S2Config& config);

// The TableRoot of a live kernel table: its IPA size, start level, first PGD page (a pointer into
// the machine's memory) and, from the PGD allocation the host saw, its concatenated pages.
TableRoot kernel_table_root(Arm64KernelHost& host, unsigned ia_bits, unsigned start_level,
                            void* pgd, bool fwb);

}  // namespace mmudiff
