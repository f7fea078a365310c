// SPDX-License-Identifier: GPL-2.0-only
// An x86 EPT VM's configuration: what init takes on x86 (mmu/x86/tdp_api.h says how the
// backends use it).
#pragma once

#include <cstdint>

namespace mmudiff::x86 {

// What the CPU and the host give the VM: the knobs of kvm_mmu_set_ept_masks(),
// kvm_configure_mmu() and mmu.c's policies.
struct EptConfig {
  uint8_t maxphyaddr = 46;     // 36..52: boot_cpu_data.x86_phys_bits
  uint8_t levels = 4;          // 4 or 5: the root role's level
  bool ad = true;              // enable_ept_ad_bits
  bool execonly = true;        // cpu_has_vmx_ept_execute_only()
  bool nx_huge_pages = false;  // the iTLB-multihit mitigation: executable huge pages split
  uint8_t max_level = 3;       // tdp_huge_page_level: 1 (4K only), 2 (2M) or 3 (1G)
  // How the host backs guest memory (host_pfn_mapping_level): 1, 2 or 3.
  uint8_t host_level = 3;
  // The memslot: [slot_base, slot_base + slot_size), page-aligned.
  uint64_t slot_base = 0;
  uint64_t slot_size = uint64_t{4} << 30;
  // The host physical address guest physical address 0 is backed by: a fault's pfn is
  // (gpa + host_base) mod 2^maxphyaddr, a multiple of 1 GiB apart so every huge page is backed
  // congruently. The host's mapping is a function of the gfn, as it is for KVM between
  // invalidations: a present SPTE is never replaced by one for another pfn (tdp_mmu.c BUGs).
  uint64_t host_base = 0;
  // Host pfns at or above this are MMIO to the host (kvm_is_mmio_pfn: uncached memory type);
  // 0 means none is.
  uint64_t host_mmio_pfn = 0;

  bool operator==(const EptConfig&) const = default;
};

}  // namespace mmudiff::x86
