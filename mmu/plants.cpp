// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/plants.h"

namespace mmudiff {

const std::vector<PlantInfo>& planted_bugs() {
  static const std::vector<PlantInfo> kPlants = {
      {Plant::kWalkerLeakTableOnUpdate, "walker-leak-table-on-update", "walker", Arch::Arm64S2,
       "page tables leaked when a valid entry is updated"},
      {Plant::kWalkerNoTlbiTableToBlock, "walker-no-tlbi-table-to-block", "walker", Arch::Arm64S2,
       "missing TLB invalidation when a table becomes a block"},
      {Plant::kLegacyRelaxWrongLevel, "legacy-relax-wrong-level", "legacy", Arch::Arm64S2,
       "permission relaxed at the wrong level"},
      {Plant::kWalkerUnalignedStartSkip, "walker-unaligned-start-skip", "walker", Arch::Arm64S2,
       "unaligned start address skipping entries"},
      {Plant::kLegacyRangeEndOffByOne, "legacy-range-end-off-by-one", "legacy", Arch::Arm64S2,
       "off-by-one at range end"},
      {Plant::kWalkerPaCursorDrift, "walker-pa-cursor-drift", "walker", Arch::Arm64S2,
       "PA cursor drifting from the IPA in the map walker"},
      {Plant::kLegacyDescendFreedSubtree, "legacy-descend-freed-subtree", "legacy", Arch::Arm64S2,
       "descending into a just-freed subtree"},
      {Plant::kWalkerLeakNonLeafOnZap, "walker-leak-nonleaf-on-zap", "walker", Arch::Arm64S2,
       "non-leaf entries leaked when zapping everything"},
      {Plant::kLegacySkipAfterRestart, "legacy-skip-after-restart", "legacy", Arch::Arm64S2,
       "an entry skipped after a walk restart"},
      {Plant::kLegacyWrprotectWrongBit, "legacy-wrprotect-wrong-bit", "legacy", Arch::Arm64S2,
       "write-protect testing the wrong writable bit"},
      {Plant::kWalkerLoseAccessFlag, "walker-lose-access-flag", "walker", Arch::Arm64S2,
       "A/D bits lost"},
      {Plant::kLegacyOaAbovePaSize, "legacy-oa-above-pa-size", "legacy", Arch::Arm64S2,
       "frames above the PA size mapped"},
      {Plant::kWalkerReservedBit, "walker-reserved-bit", "walker", Arch::Arm64S2,
       "a reserved (RES0) descriptor bit set"},
      {Plant::kLegacyDeviceExecutable, "legacy-device-executable", "legacy", Arch::Arm64S2,
       "device memory left executable (XN dropped)"},
      {Plant::kWalkerLeafTlbiWrongLevel, "walker-leaf-tlbi-wrong-level", "walker", Arch::Arm64S2,
       "TLB invalidation with the wrong level hint"},
      {Plant::kWalkerRelaxNoFlush, "walker-relax-no-flush", "walker", Arch::Arm64S2,
       "a relax that leaves the old, less permissive entry in the TLB"},
      {Plant::kWalkerNoIcacheInval, "walker-no-icache-inval", "walker", Arch::Arm64S2,
       "missing instruction-cache invalidation for an executable mapping"},
      {Plant::kLegacyTableTlbiLeafLevel, "legacy-table-tlbi-leaf-level", "legacy", Arch::Arm64S2,
       "a table entry's teardown flushed with a leaf level hint"},
      {Plant::kLegacyNoCleanOnRemap, "legacy-no-clean-on-remap", "legacy", Arch::Arm64S2,
       "missing cache maintenance when a page is moved to another PA"},
      {Plant::kLegacyCmoWrongSize, "legacy-cmo-wrong-size", "legacy", Arch::Arm64S2,
       "cache maintenance over the wrong size"},
      {Plant::kWalkerUseFreedTable, "walker-use-freed-table", "walker", Arch::Arm64S2,
       "a freed table page used: its poison followed as a table descriptor"},
      {Plant::kLegacyUnmapNeverReturns, "legacy-unmap-never-returns", "legacy", Arch::Arm64S2,
       "a walk restart that makes no forward progress"},
      {Plant::kLegacyX86ReservedAboveMaxPhyAddr, "legacy-x86-reserved-above-maxphyaddr", "legacy",
       Arch::X86Ept, "frames above the PA size mapped: a reserved bit above MAXPHYADDR"},
      {Plant::kLegacyX86WriteWithoutRead, "legacy-x86-write-without-read", "legacy", Arch::X86Ept,
       "an EPT misconfiguration: W without R"},
      {Plant::kLegacyX86ExecOnlyWithoutSupport, "legacy-x86-exec-only-without-support", "legacy",
       Arch::X86Ept, "an execute-only SPTE on a CPU without execute-only support"},
      {Plant::kLegacyX86ZapLeafsNoFlush, "legacy-x86-zap-leafs-no-flush", "legacy", Arch::X86Ept,
       "a zap that forgets the TLB flush it owes"},
      {Plant::kLegacyX86LeakShadowPageOnZap, "legacy-x86-leak-shadow-page-on-zap", "legacy",
       Arch::X86Ept, "non-leaf entries leaked when zapping"},
      {Plant::kLegacyX86RmapLeftAfterZap, "legacy-x86-rmap-left-after-zap", "legacy", Arch::X86Ept,
       "a reverse map left pointing at a zapped SPTE"},
      {Plant::kLegacyX86WrprotMissesHugePage, "legacy-x86-wrprot-misses-huge-page", "legacy",
       Arch::X86Ept, "write-protect missing a huge page"},
      {Plant::kLegacyX86SplitLosesAccessDirty, "legacy-x86-split-loses-access-dirty", "legacy",
       Arch::X86Ept, "A/D bits lost"},
      {Plant::kLegacyX86SplitLosesHostWritable, "legacy-x86-split-loses-host-writable", "legacy",
       Arch::X86Ept, "a huge-page split losing host-writable"},
      {Plant::kWalkerX86DirtyOnRefault, "walker-x86-dirty-on-refault", "walker", Arch::X86Ept,
       "A/D bits set where the kernel leaves them: a re-faulted writable leaf made dirty again"},
      {Plant::kWalkerX86ZapLeafsNoFlush, "walker-x86-zap-leafs-no-flush", "walker", Arch::X86Ept,
       "a zap that forgets the TLB flush it owes"},
      {Plant::kWalkerX86SplitNxNotExecutable, "walker-x86-split-nx-not-executable", "walker",
       Arch::X86Ept, "NX huge page mitigation: split pieces not made executable again"},
      {Plant::kLegacyX86HugeOverTableNoFlush, "legacy-x86-huge-over-table-no-flush", "legacy",
       Arch::X86Ept,
       "a huge leaf installed over a table without flushing the table's translations"},
      {Plant::kWalkerX86HugeOverTableNoFlush, "walker-x86-huge-over-table-no-flush", "walker",
       Arch::X86Ept,
       "a huge leaf installed over a table without flushing the table's translations"},
      {Plant::kLegacy612LockedLeftLocked, "legacy-612-locked-left-locked", "legacy", Arch::Arm64S2,
       "a locked PTE left locked: break-before-make that never makes", Arm64Kernel::Linux612},
      {Plant::kWalker612InPlacePermissionChange, "walker-612-in-place-permission-change", "walker",
       Arch::Arm64S2,
       "a permission change stored in place: no break-before-make, the TLBs keep the old "
       "permission",
       Arm64Kernel::Linux612},
      {Plant::kWalker612FreeUnlinkedBeforeFlush, "walker-612-free-unlinked-before-flush", "walker",
       Arch::Arm64S2,
       "the table a block replaces freed before the TLBI of its break: the walk cache may follow "
       "the freed page",
       Arm64Kernel::Linux612},
      {Plant::kLegacy612SplitLeaksCachePage, "legacy-612-split-leaks-cache-page", "legacy",
       Arch::Arm64S2,
       "a split that leaks its cache pages: on the short-cache path a page taken from the cache "
       "is neither linked nor given back",
       Arm64Kernel::Linux612},
      {Plant::kWalker612RangeTlbiShort, "walker-612-range-tlbi-short", "walker", Arch::Arm64S2,
       "off-by-one at range end: a range TLBI that misses the last page", Arm64Kernel::Linux612},
      {Plant::kWalker612FreeUnlinkedLeaksLeafTable, "walker-612-free-unlinked-leaks-leaf-table",
       "walker", Arch::Arm64S2,
       "a page table leaked when an unlinked table is torn down: a table of pages keeps a "
       "reference free_unlinked never drops",
       Arm64Kernel::Linux612},
      {Plant::kWalker612Lpa2PaBits5150, "walker-612-lpa2-pa-bits-51-50", "walker", Arch::Arm64S2,
       "a descriptor encoder that drops address bits: with FEAT_LPA2 a leaf maps its PA without "
       "bits 51:50, another page of the host's",
       Arm64Kernel::Linux612},
      {Plant::kWalker612SharedMapSkipsBreak, "walker-612-shared-map-skips-break", "walker",
       Arch::Arm64S2,
       "a shared walk that writes an entry as an exclusive one may: a change of software bits "
       "stored in place, with no break-before-make, where another walker may race with it",
       Arm64Kernel::Linux612},
      {Plant::kLegacy612NcMappedCacheable, "legacy-612-nc-mapped-cacheable", "legacy",
       Arch::Arm64S2,
       "wrong memory attributes: a non-cacheable mapping (NORMAL_NC) given the normal cacheable "
       "MemAttr, so the guest's view of device-like memory goes through the caches",
       Arm64Kernel::Linux612},
      {Plant::kWalker612LockCmpxchgUnchecked, "walker-612-lock-cmpxchg-unchecked", "walker",
       Arch::Arm64S2,
       "a plain store where a compare-and-swap is needed: the cmpxchg that locks an entry is not "
       "checked, so a vCPU that lost the race overwrites the winner's new entry (lost update)",
       Arm64Kernel::Linux612},
      {Plant::kWalker612RetryStaleOld, "walker-612-retry-stale-old", "walker", Arch::Arm64S2,
       "a lost race retried without reloading: after a failed cmpxchg the attribute change is "
       "swapped in again, computed from the stale value, undoing the other vCPU's change",
       Arm64Kernel::Linux612},
      {Plant::kWalker612FreeUnlinkedNoGracePeriod, "walker-612-free-unlinked-no-grace-period",
       "walker", Arch::Arm64S2,
       "an unlinked table freed before the grace period: a table a block replaces is freed at "
       "once instead of through call_rcu, under another vCPU's walk still inside it",
       Arm64Kernel::Linux612},
      {Plant::kWalker612LostRaceExtraPut, "walker-612-lost-race-extra-put", "walker", Arch::Arm64S2,
       "a reference dropped twice on the locked path: a fault that loses the race to install a "
       "table puts the parent table page's reference as though it had taken one",
       Arm64Kernel::Linux612},
      {Plant::kWalker612PublishWithoutRelease, "walker-612-publish-without-release", "walker",
       Arch::Arm64S2,
       "a missing barrier: the entry that replaces a locked PTE is published with a plain "
       "WRITE_ONCE, not smp_store_release, so another CPU may see it before the table's reference "
       "and contents",
       Arm64Kernel::Linux612},
      {Plant::kWalker612SharedWalkWithoutRcu, "walker-612-shared-walk-without-rcu", "walker",
       Arch::Arm64S2,
       "a lockless walk outside an RCU read-side section: another vCPU's unlinked table is freed "
       "after its grace period while this walk is still inside it",
       Arm64Kernel::Linux612},
  };
  return kPlants;
}

const PlantInfo* find_plant(std::string_view name) {
  for (const PlantInfo& p : planted_bugs())
    if (p.name == name) return &p;
  return nullptr;
}

const PlantInfo* plant_info(Plant id) {
  for (const PlantInfo& p : planted_bugs())
    if (p.id == id) return &p;
  return nullptr;
}

}  // namespace mmudiff
