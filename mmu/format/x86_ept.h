// SPDX-License-Identifier: GPL-2.0-only
// Intel EPT paging-structure entries as KVM's TDP MMU writes them (Linux 6.12, spte.h and
// asm/vmx.h): the hardware bits from the Intel SDM (Vol. 3C, "EPT Translation Mechanism") and the
// bits KVM keeps for itself in the ignored ones. Like arm64_s2.h, this is the only thing the x86
// backends share: constants and pure arithmetic, no page-table logic.
//
// Levels are numbered as the SDM and KVM number them for x86: 1 holds 4 KiB pages, 2 holds
// 2 MiB leaves (PDE), 3 holds 1 GiB leaves (PDPTE), 4 is the PML4, 5 the PML5 of a 5-level
// table. The root is at level `levels` (4 or 5).
#pragma once

#include <cstdint>

namespace mmudiff::x86ept {

inline constexpr uint64_t bit(unsigned n) {
  return uint64_t{1} << n;
}
inline constexpr uint64_t genmask(unsigned hi, unsigned lo) {
  return (~uint64_t{0} >> (63 - hi)) & (~uint64_t{0} << lo);
}

inline constexpr unsigned kPageShift = 12;
inline constexpr uint64_t kPageSize = bit(kPageShift);
inline constexpr unsigned kEntriesPerTable = 512;
inline constexpr unsigned kLevelBits = 9;
inline constexpr unsigned kPageLevel = 1;     // PG_LEVEL_4K
inline constexpr unsigned kMaxLeafLevel = 3;  // PG_LEVEL_1G: no 512 GiB leaves
inline constexpr unsigned kMinLevels = 4;
inline constexpr unsigned kMaxLevels = 5;
inline constexpr unsigned kMinMaxPhyAddr = 36;
inline constexpr unsigned kMaxMaxPhyAddr = 52;

// The guest-physical bit where a level's index starts: an entry at LEVEL maps 2^shift bytes.
inline constexpr unsigned level_shift(unsigned level) {
  return kPageShift + (level - 1) * kLevelBits;
}
inline constexpr uint64_t level_size(unsigned level) {
  return bit(level_shift(level));
}
inline constexpr unsigned table_index(uint64_t gpa, unsigned level) {
  return static_cast<unsigned>((gpa >> level_shift(level)) & (kEntriesPerTable - 1));
}
// Guest-physical bits a table of LEVELS levels translates (48 or 57).
inline constexpr unsigned gpa_bits(unsigned levels) {
  return level_shift(levels) + kLevelBits;
}

// ---- Hardware bits (SDM Table 29-x "Format of an EPT ... Entry") -----------------------------
inline constexpr uint64_t kRead = bit(0);   // VMX_EPT_READABLE_MASK
inline constexpr uint64_t kWrite = bit(1);  // VMX_EPT_WRITABLE_MASK
inline constexpr uint64_t kExec = bit(2);   // VMX_EPT_EXECUTABLE_MASK (supervisor execute)
inline constexpr uint64_t kRwxMask = genmask(2, 0);
inline constexpr unsigned kMemTypeShift = 3;  // VMX_EPT_MT_EPTE_SHIFT: leaves only
inline constexpr uint64_t kMemTypeMask = genmask(5, 3);
inline constexpr uint64_t kIgnorePat = bit(6);    // VMX_EPT_IPAT_BIT: leaves only
inline constexpr uint64_t kLargePage = bit(7);    // PT_PAGE_SIZE_MASK: a leaf at level 2 or 3
inline constexpr uint64_t kAccessed = bit(8);     // VMX_EPT_ACCESS_BIT, with EPT A/D enabled
inline constexpr uint64_t kDirty = bit(9);        // VMX_EPT_DIRTY_BIT, leaves, with EPT A/D
inline constexpr uint64_t kUserExec = bit(10);    // mode-based execute control; KVM never sets it
inline constexpr uint64_t kSuppressVe = bit(63);  // VMX_EPT_SUPPRESS_VE_BIT

// Memory types (SDM "EPT and Memory Typing"): 2, 3 and 7 are reserved in a leaf.
inline constexpr unsigned kMemTypeUc = 0;
inline constexpr unsigned kMemTypeWc = 1;
inline constexpr unsigned kMemTypeWt = 4;
inline constexpr unsigned kMemTypeWp = 5;
inline constexpr unsigned kMemTypeWb = 6;

// The physical-address field of any entry: bits 51:12, of which those at and above MAXPHYADDR
// are reserved.
inline constexpr uint64_t kAddrMask = genmask(51, 12);  // SPTE_BASE_ADDR_MASK without SME
inline constexpr uint64_t addr_mask(unsigned maxphyaddr) {
  return genmask(maxphyaddr - 1, 12);
}

// ---- KVM's software bits in an EPT SPTE (6.12 spte.h) ------------------------------------------
inline constexpr uint64_t kMmuPresent = bit(11);  // SPTE_MMU_PRESENT_MASK
inline constexpr unsigned kAdStateShift = 52;     // SPTE_TDP_AD_SHIFT
inline constexpr uint64_t kAdStateMask = genmask(53, 52);
inline constexpr uint64_t kAdEnabled = 0;                     // SPTE_TDP_AD_ENABLED
inline constexpr uint64_t kAdDisabled = uint64_t{1} << 52;    // SPTE_TDP_AD_DISABLED
inline constexpr uint64_t kAdWrprotOnly = uint64_t{2} << 52;  // SPTE_TDP_AD_WRPROT_ONLY
// Access tracking (A/D off): R and X are saved here while RWX are cleared.
inline constexpr unsigned kAccTrackSavedShift = 54;  // SHADOW_ACC_TRACK_SAVED_BITS_SHIFT
inline constexpr uint64_t kAccTrackSavedBits = kRead | kExec;
inline constexpr uint64_t kAccTrackSavedMask = kAccTrackSavedBits << kAccTrackSavedShift;
inline constexpr uint64_t kHostWritable = bit(57);  // EPT_SPTE_HOST_WRITABLE
inline constexpr uint64_t kMmuWritable = bit(58);   // EPT_SPTE_MMU_WRITABLE
// What a non-present SPTE holds: "suppress #VE" set, nothing else (SHADOW_NONPRESENT_VALUE).
// New tables are filled with it, not with zeroes.
inline constexpr uint64_t kNonPresent = kSuppressVe;
// A frozen SPTE (REMOVED_SPTE / FROZEN_SPTE): written while a thread owns the entry; 0x5a0 in
// bits 11:0 with bit 63, which no present or MMIO SPTE can be.
inline constexpr uint64_t kFrozen = kNonPresent | 0x5a0;

// MMIO SPTEs (6.12, EPT): RWX = 110b (W+X without R, an EPT misconfiguration), and the memslot
// generation split over bits 10:3 and 62:52.
inline constexpr uint64_t kMmioValue = kWrite | kExec;  // VMX_EPT_MISCONFIG_WX_VALUE
inline constexpr uint64_t kMmioMask = kRwxMask | kSuppressVe;  // as kvm_mmu_set_ept_masks sets it
inline constexpr uint64_t kMmioGenLowMask = genmask(10, 3);
inline constexpr uint64_t kMmioGenHighMask = genmask(62, 52);

// KVM's RET_PF_* fault outcomes (mmu_internal.h), the return value of a TDP fault.
enum FaultResult : int {
  kRetPfContinue = 0,
  kRetPfRetry = 1,
  kRetPfEmulate = 2,
  kRetPfWriteProtected = 3,
  kRetPfInvalid = 4,
  kRetPfFixed = 5,
  kRetPfSpurious = 6,
};

}  // namespace mmudiff::x86ept
