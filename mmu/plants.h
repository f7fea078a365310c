// SPDX-License-Identifier: GPL-2.0-only
// Planted bugs: known-wrong behaviour a backend switches on at run time, one at a time, so a
// campaign, a proof or a test can show that mmudiff finds that class of bug. Each is modelled on
// a bug class from Linux history (BRIEF.md, end). A backend tests its plant with one integer
// compare on the path concerned; with no plant that branch is never taken.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

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
};

struct PlantInfo {
  Plant id;
  std::string_view name;       // the --plant NAME
  std::string_view backend;    // the backend that carries it
  std::string_view bug_class;  // the BRIEF.md class it is modelled on
};

// Every plant except kNone, in enum order.
const std::vector<PlantInfo>& planted_bugs();
// nullptr when no plant has that name.
const PlantInfo* find_plant(std::string_view name);
// The plant's entry; kNone has none.
const PlantInfo* plant_info(Plant id);

}  // namespace mmudiff
