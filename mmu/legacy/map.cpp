// SPDX-License-Identifier: GPL-2.0-only
// map and set_owner: the range is cut into the largest mappings that fit, in address order, and
// each is handed to the map function for its level.
#include <cerrno>

#include "mmu/legacy/descriptors.h"
#include "mmu/legacy/legacy_backend.h"

namespace mmudiff::legacy {

// The first level, from the top, whose block fits the rest of the range with both the IPA and
// the PA aligned to it; the last level always fits. No frame, no alignment to respect.
unsigned LegacyBackend::mapping_level(uint64_t ipa, uint64_t end, uint64_t phys,
                                      bool force_pte) const {
  if (force_pte) return kLastLevel;
  unsigned first = mmu_.start_level() > kMinBlockLevel ? mmu_.start_level() : kMinBlockLevel;
  for (unsigned level = first; level < kLastLevel; ++level) {
    uint64_t granule = granule_size(level);
    if (granule <= end - ipa && is_aligned(ipa, granule) &&
        (!maps_frame(phys) || is_aligned(phys, granule)))
      return level;
  }
  return kLastLevel;
}

// A frame below the PA size gets a leaf; anything else (set_owner's kInvalidPhys included) gets
// the owner annotation. Planted: a map's frame at or above the PA size is taken as a frame too,
// and its leaf carries the OA bits [47:12] of it -- an alias of some frame below.
bool LegacyBackend::maps_frame(uint64_t phys) const {
  if (pa_is_valid(phys, mmu_.layout())) [[likely]]
    return true;
  return mmu_.plant() == Plant::kLegacyOaAbovePaSize && phys != kInvalidPhys;
}

// Mappings go in one at a time in address order, and every table a mapping needs is created
// before the mapping goes in: the same order of stores and TLBIs as the kernel's single walk,
// which also decides each address's level from the top down and creates tables on its way.
// An error stops everything; what was mapped before it stays mapped.
int LegacyBackend::map_range(IpaRange range, uint64_t phys, uint64_t attrs, uint8_t owner,
                             bool force_pte, Memcache* mc) {
  for (uint64_t ipa = range.start; ipa < range.end;) {
    unsigned level = mapping_level(ipa, range.end, phys, force_pte);
    // A PA beyond the PA size maps nothing: the descriptor is the owner annotation (0 for map).
    uint64_t desc = maps_frame(phys) ? leaf_descriptor(phys, attrs, level, mmu_.layout())
                                     : owner_descriptor(owner);
    int ret = 0;
    switch (level) {
      case 1:
        ret = map_level1_block(ipa, desc, mc);
        break;
      case 2:
        ret = map_level2_block(ipa, desc, mc);
        break;
      default:
        ret = map_level3_page(ipa, desc, mc);
        break;
    }
    // The mapping is already there (up to permissions): 6.1 stops the walk with -EAGAIN for the
    // caller to retry, 6.12 leaves that entry as it is and maps the rest -- unless the map is a
    // fault handler's, which then has nothing left to do and tells its caller so.
    if (ret == -EAGAIN && mmu_.generation().map_skips_existing_mappings &&
        !(map_walk_flags_ & walk_flag::kHandleFault))
      ret = 0;
    if (ret) return ret;
    if (maps_frame(phys)) phys += granule_size(level);
    ipa += granule_size(level);
  }
  return 0;
}

int LegacyBackend::map(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot, Memcache* mc) {
  return map_with_walk_flags(addr, size, phys, prot, mc, 0);
}

int LegacyBackend::map_with_walk_flags(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot,
                                       Memcache* mc, uint8_t walk_flags) {
  if (walk_flags && !mmu_.generation().map_takes_walk_flags) return -EOPNOTSUPP;
  const Arm64S2Config& config = mmu_.config();
  if (config.idmap && addr != phys) {
    // The kernel WARNs here: an identity-mapped table asked for anything else is a caller bug.
    warnings_.push_back("map: identity-mapped table asked to map an IPA to another PA");
    return -EINVAL;
  }
  std::optional<uint64_t> attrs = leaf_attributes(prot, mmu_.fwb(), mmu_.layout(), mmu_.plant(),
                                                  mmu_.generation().has_normal_nc);
  if (!attrs) return -EINVAL;
  bool force_pte = config.force_pte == ForcePte::Always ||
                   (config.force_pte == ForcePte::Device && (prot & prot::kDevice));

  IpaRange range;
  int ret = walk_range(addr, size, &range);
  map_walk_flags_ = walk_flags;
  if (!ret) ret = map_range(range, align_down(phys, kPageSize), *attrs, 0, force_pte, mc);
  map_walk_flags_ = 0;
  // Whatever happened, the stores made so far must be visible to the table walker.
  mmu_.effects().dsb(Barrier::IshSt);
  return ret;
}

// Owner annotations are only ever written page by page.
int LegacyBackend::set_owner(uint64_t addr, uint64_t size, Memcache* mc, uint8_t owner) {
  if (owner > kMaxOwnerId) return -EINVAL;
  IpaRange range;
  if (int ret = walk_range(addr, size, &range)) return ret;
  return map_range(range, kInvalidPhys, 0, owner, true, mc);
}

}  // namespace mmudiff::legacy
