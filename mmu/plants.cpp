// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/plants.h"

namespace mmudiff {

const std::vector<PlantInfo>& planted_bugs() {
  static const std::vector<PlantInfo> kPlants = {
      {Plant::kWalkerLeakTableOnUpdate, "walker-leak-table-on-update", "walker",
       "page tables leaked when a valid entry is updated"},
      {Plant::kWalkerNoTlbiTableToBlock, "walker-no-tlbi-table-to-block", "walker",
       "missing TLB invalidation when a table becomes a block"},
      {Plant::kLegacyRelaxWrongLevel, "legacy-relax-wrong-level", "legacy",
       "permission relaxed at the wrong level"},
      {Plant::kWalkerUnalignedStartSkip, "walker-unaligned-start-skip", "walker",
       "unaligned start address skipping entries"},
      {Plant::kLegacyRangeEndOffByOne, "legacy-range-end-off-by-one", "legacy",
       "off-by-one at range end"},
      {Plant::kWalkerPaCursorDrift, "walker-pa-cursor-drift", "walker",
       "PA cursor drifting from the IPA in the map walker"},
      {Plant::kLegacyDescendFreedSubtree, "legacy-descend-freed-subtree", "legacy",
       "descending into a just-freed subtree"},
      {Plant::kWalkerLeakNonLeafOnZap, "walker-leak-nonleaf-on-zap", "walker",
       "non-leaf entries leaked when zapping everything"},
      {Plant::kLegacySkipAfterRestart, "legacy-skip-after-restart", "legacy",
       "an entry skipped after a walk restart"},
      {Plant::kLegacyWrprotectWrongBit, "legacy-wrprotect-wrong-bit", "legacy",
       "write-protect testing the wrong writable bit"},
      {Plant::kWalkerLoseAccessFlag, "walker-lose-access-flag", "walker", "A/D bits lost"},
      {Plant::kLegacyOaAbovePaSize, "legacy-oa-above-pa-size", "legacy",
       "frames above the PA size mapped"},
      {Plant::kWalkerReservedBit, "walker-reserved-bit", "walker",
       "a reserved (RES0) descriptor bit set"},
      {Plant::kLegacyDeviceExecutable, "legacy-device-executable", "legacy",
       "device memory left executable (XN dropped)"},
      {Plant::kWalkerLeafTlbiWrongLevel, "walker-leaf-tlbi-wrong-level", "walker",
       "TLB invalidation with the wrong level hint"},
      {Plant::kWalkerRelaxNoFlush, "walker-relax-no-flush", "walker",
       "a relax that leaves the old, less permissive entry in the TLB"},
      {Plant::kWalkerNoIcacheInval, "walker-no-icache-inval", "walker",
       "missing instruction-cache invalidation for an executable mapping"},
      {Plant::kLegacyTableTlbiLeafLevel, "legacy-table-tlbi-leaf-level", "legacy",
       "a table entry's teardown flushed with a leaf level hint"},
      {Plant::kLegacyNoCleanOnRemap, "legacy-no-clean-on-remap", "legacy",
       "missing cache maintenance when a page is moved to another PA"},
      {Plant::kLegacyCmoWrongSize, "legacy-cmo-wrong-size", "legacy",
       "cache maintenance over the wrong size"},
      {Plant::kWalkerUseFreedTable, "walker-use-freed-table", "walker",
       "a freed table page used: its poison followed as a table descriptor"},
      {Plant::kLegacyUnmapNeverReturns, "legacy-unmap-never-returns", "legacy",
       "a walk restart that makes no forward progress"},
  };
  return kPlants;
}

const std::vector<PlantInfo>& planted_x86_bugs() {
  static const std::vector<PlantInfo> kPlants = {
      {Plant::kLegacyX86ReservedAboveMaxPhyAddr, "legacy-x86-reserved-above-maxphyaddr",
       "legacy-x86", "frames above the PA size mapped: a reserved bit above MAXPHYADDR"},
      {Plant::kLegacyX86WriteWithoutRead, "legacy-x86-write-without-read", "legacy-x86",
       "an EPT misconfiguration: W without R"},
      {Plant::kLegacyX86ExecOnlyWithoutSupport, "legacy-x86-exec-only-without-support",
       "legacy-x86", "an execute-only SPTE on a CPU without execute-only support"},
      {Plant::kLegacyX86ZapLeafsNoFlush, "legacy-x86-zap-leafs-no-flush", "legacy-x86",
       "a zap that forgets the TLB flush it owes"},
      {Plant::kLegacyX86HugeOverTableNoFlush, "legacy-x86-huge-over-table-no-flush", "legacy-x86",
       "missing TLB invalidation when a table becomes a huge page"},
      {Plant::kLegacyX86LeakShadowPageOnZap, "legacy-x86-leak-shadow-page-on-zap", "legacy-x86",
       "non-leaf entries leaked when zapping"},
      {Plant::kLegacyX86RmapLeftAfterZap, "legacy-x86-rmap-left-after-zap", "legacy-x86",
       "a reverse map left pointing at a zapped SPTE"},
      {Plant::kLegacyX86WrprotMissesHugePage, "legacy-x86-wrprot-misses-huge-page", "legacy-x86",
       "write-protect missing a huge page"},
      {Plant::kLegacyX86SplitLosesAccessDirty, "legacy-x86-split-loses-access-dirty", "legacy-x86",
       "A/D bits lost"},
      {Plant::kLegacyX86SplitLosesHostWritable, "legacy-x86-split-loses-host-writable",
       "legacy-x86", "a huge-page split losing host-writable"},
  };
  return kPlants;
}

const PlantInfo* find_plant(std::string_view name) {
  for (const auto* list : {&planted_bugs(), &planted_x86_bugs()})
    for (const PlantInfo& p : *list)
      if (p.name == name) return &p;
  return nullptr;
}

const PlantInfo* plant_info(Plant id) {
  for (const auto* list : {&planted_bugs(), &planted_x86_bugs()})
    for (const PlantInfo& p : *list)
      if (p.id == id) return &p;
  return nullptr;
}

}  // namespace mmudiff
