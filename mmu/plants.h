// SPDX-License-Identifier: GPL-2.0-only
// Planted bugs: known-wrong behaviour a backend switches on at run time, one at a time, so a
// campaign, a proof or a test can show that mmudiff finds that class of bug. Each is modelled on
// a bug class from Linux history (BRIEF.md, end). A backend tests its plant with one integer
// compare on the path concerned; with no plant that branch is never taken.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "mmu/ops/op.h"

namespace mmudiff {

enum class Plant : uint32_t {
  kNone = 0,
  kWalkerLeakTableOnUpdate,    // updating a valid leaf takes a table-page reference for good
  kWalkerNoTlbiTableToBlock,   // table -> block without the TLBI that covers the old table
  kLegacyRelaxWrongLevel,      // relax_perms applied at the level above: the whole table page
  kWalkerUnalignedStartSkip,   // an unaligned start skips the first entry of the next table
  kLegacyRangeEndOffByOne,     // unmap stops one page short of its end
  kWalkerPaCursorDrift,        // map's PA cursor steps a page whatever the leaf's size
  kLegacyDescendFreedSubtree,  // unmap walks into a table page it has just freed
  kWalkerLeakNonLeafOnZap,     // unmap leaves empty tables reaching past the range's end
  kLegacySkipAfterRestart,     // unmap, restarting after it freed a table, skips an entry
  kLegacyWrprotectWrongBit,    // wrprotect clears S2AP_R instead of S2AP_W
  kWalkerLoseAccessFlag,       // a permission change drops AF
  kLegacyOaAbovePaSize,        // frames above the PA size are mapped, not refused
  kWalkerReservedBit,          // a block descriptor carries a RES0 bit
  kLegacyDeviceExecutable,     // device memory mapped without XN
  kWalkerLeafTlbiWrongLevel,   // a leaf broken by map is invalidated with a page's level hint
  kWalkerRelaxNoFlush,         // relax_perms changes the leaf and never invalidates it
  kWalkerNoIcacheInval,        // map installs executable leaves without invalidating the I-cache
  kLegacyTableTlbiLeafLevel,   // a table entry torn down is invalidated with a leaf's level hint
  kLegacyNoCleanOnRemap,       // a leaf moved to another PA is installed without its PoC clean
  kLegacyCmoWrongSize,         // the clean before installing a leaf covers one page, not the leaf
  kWalkerUseFreedTable,        // unmap reads the tables below a table page it has just freed
  kLegacyUnmapNeverReturns,    // unmap, once restarted, resumes where it is: no forward progress
  // x86 EPT (legacy_x86): planted in the Shadow-MMU-shaped TDP backend.
  kLegacyX86ReservedAboveMaxPhyAddr,  // RAM leaves set the bit at MAXPHYADDR (a reserved bit)
  kLegacyX86WriteWithoutRead,         // access tracking clears R and X but leaves W
  kLegacyX86ExecOnlyWithoutSupport,   // access tracking clears R and W but leaves X
  kLegacyX86ZapLeafsNoFlush,          // zap_leafs zaps and tells the caller no flush is owed
  kLegacyX86HugeOverTableNoFlush,     // a huge SPTE replaces a table without the gfn flush
  kLegacyX86LeakShadowPageOnZap,      // a zapped subtree's 4K tables are never freed
  kLegacyX86RmapLeftAfterZap,         // zap_leafs leaves the zapped SPTE in the rmaps
  kLegacyX86WrprotMissesHugePage,     // wrprot_slot write-protects 4K SPTEs only
  kLegacyX86SplitLosesAccessDirty,    // a split's children lose the huge SPTE's A and D
  kLegacyX86SplitLosesHostWritable,   // a split's children lose host-writable
  // x86 EPT (walker_x86): planted in the generic walker's TDP visitors.
  kWalkerX86DirtyOnRefault,        // a writable leaf re-faulted writable is made dirty again
  kWalkerX86HugeOverTableNoFlush,  // a huge leaf replaces a table without the gfn flush
  kWalkerX86ZapLeafsNoFlush,       // zap_leafs zaps and tells the caller no flush is owed
  kWalkerX86SplitNxNotExecutable,  // 4K pieces of an NX huge page are not made executable
  // arm64, Linux 6.12's code paths (profile arm64-6.12).
  kLegacy612LockedLeftLocked,  // a leaf replaced by break-before-make stays locked: no new entry
  kWalker612InPlacePermissionChange,  // 6.12's software-bits fast path also takes permissions
  kWalker612FreeUnlinkedBeforeFlush,  // a table a block replaces is freed before its flush
  kLegacy612SplitLeaksCachePage,  // a short split cache: a page taken for a full split is leaked
  kWalker612RangeTlbiShort,       // unmap's deferred range TLBI covers one page less than it must
  kWalker612FreeUnlinkedLeaksLeafTable,  // free_unlinked forgets a table of pages: it stays live
  kWalker612Lpa2PaBits5150,       // with FEAT_LPA2 a leaf's PA[51:50] are not stored (bits 9:8)
  kWalker612SharedMapSkipsBreak,  // a shared map changes software bits in place, without a break
  kLegacy612NcMappedCacheable,    // NORMAL_NC mapped with the normal (cacheable) MemAttr
  // arm64 6.12's shared walks (mmu/walker/marked_access.h): seen only when vCPUs race.
  kWalker612LockCmpxchgUnchecked,       // the lock's cmpxchg may fail: the walk goes on regardless
  kWalker612RetryStaleOld,              // a lost attribute swap is retried with the stale change
  kWalker612FreeUnlinkedNoGracePeriod,  // a table a block replaces is freed at once, not by RCU
  kWalker612LostRaceExtraPut,           // a map that loses its race drops the parent's reference
  kWalker612PublishWithoutRelease,      // the new entry after the lock is a plain WRITE_ONCE
  kWalker612SharedWalkWithoutRcu,       // a shared walk takes no RCU read lock
};

struct PlantInfo {
  Plant id;
  std::string_view name;       // the --plant NAME
  std::string_view backend;    // the backend that carries it, a name within `arch`
  Arch arch;                   // whose backends: "legacy" and "walker" exist for each
  std::string_view bug_class;  // the BRIEF.md class it is modelled on
  // arm64: the kernel generation whose code path carries it (a 6.12 plant shows in arm64-6.12
  // streams only).
  Arm64Kernel kernel = Arm64Kernel::Linux61;

  // The profile whose streams can show it.
  ProfileId profile() const {
    if (arch == Arch::X86Ept) return ProfileId::X86Ept;
    return kernel == Arm64Kernel::Linux612 ? ProfileId::Arm64Linux612 : ProfileId::Arm64Linux61;
  }
};

// Every plant of every architecture that an oracle can see, in enum order: each has a reproducer
// in corpus/regressions/ and a backend in the registry (find_backend(p.backend, p.arch)).
const std::vector<PlantInfo>& planted_bugs();
// nullptr when no plant has that name.
const PlantInfo* find_plant(std::string_view name);
// The plant's entry; kNone has none.
const PlantInfo* plant_info(Plant id);

}  // namespace mmudiff
