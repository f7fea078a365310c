// SPDX-License-Identifier: GPL-2.0-only
// map and set_owner: install leaves over a range, choosing the largest block that fits, using
// break-before-make over existing entries, replacing whole tables by a block in one step, and
// breaking a block into an (empty) table when the range needs something smaller. Where 6.12
// does it otherwise, the visitor follows the table's generation (generation.h).
#include <cerrno>

#include "mmu/sched/deterministic_scheduler.h"
#include "mmu/walker/attributes.h"
#include "mmu/walker/marked_access.h"
#include "mmu/walker/stage2.h"
#include "mmu/walker/walk.h"

namespace mmudiff::walker {

namespace {

using arm64s2::granule_size;
using arm64s2::kLastLevel;

// What to install: a valid leaf for a valid phys, otherwise an owner annotation.
struct MapRequest {
  uint64_t phys;  // advances by a granule with each valid leaf installed
  Pte attr;
  uint8_t owner_id;
  bool force_pte;  // pages only
  Memcache* memcache;
  // An unlinked table's memory is clean already and nothing can have cached it
  // (KVM_PGTABLE_WALK_SKIP_CMO); its entries start empty, so no break needs a TLBI either.
  bool skip_cmo;
  // KVM_PGTABLE_WALK_SHARED: other walkers may be in the table, so even a change of software
  // bits goes through break-before-make (a single store could race with theirs).
  bool shared = false;
};

bool block_mapping_supported(uint64_t addr, uint64_t end, uint64_t phys, unsigned level,
                             bool lpa2) {
  const uint64_t granule = granule_size(level);
  if (!arm64s2::level_supports_block(level)) return false;
  if (granule > end - addr) return false;
  // An invalid phys has no alignment to respect: the "leaf" it makes carries no address.
  if (phys_is_valid(phys, lpa2) && !is_aligned(phys, granule)) return false;
  return is_aligned(addr, granule);
}

class Stage2MapWalker {
 public:
  // start: where the walk starts, the page-aligned addr (6.12 offsets each leaf's PA from it).
  Stage2MapWalker(Stage2PageTable& pgt, const MapRequest& request, uint64_t start)
      : pgt_(pgt), gen_(pgt.generation()), req_(request), start_(start) {}

  int operator()(const VisitedEntry& e) {
    switch (e.visit) {
      case Visit::TablePre:
        return table_pre(e);
      case Visit::Leaf:
        return leaf(e);
      case Visit::TablePost:
        return table_post(e);
    }
    return -EINVAL;
  }

 private:
  enum class LeafOutcome {
    Installed,
    TooLarge,         // this level cannot hold the leaf: go one level down
    PermissionsOnly,  // the entry already maps this, differing in R/W/XN at most
    Busy,             // 6.12: another walker holds the entry (locked) or changed it first
  };

  // The output address of a leaf at addr; an invalid one stays as it is, so that it cannot be
  // offset into a valid one.
  uint64_t phys_at(uint64_t addr) const {
    if (!gen_.pa_from_range_offset || !phys_is_valid(req_.phys, pgt_.lpa2())) return req_.phys;
    return req_.phys + (addr - start_);
  }

  bool leaf_allowed(const VisitedEntry& e) const {
    if (req_.force_pte && e.level < kLastLevel) return false;
    return block_mapping_supported(e.addr, e.end, phys_at(e.addr), e.level, pgt_.lpa2());
  }

  LeafOutcome try_leaf(const VisitedEntry& e) {
    if (!leaf_allowed(e)) return LeafOutcome::TooLarge;

    const uint64_t granule = granule_size(e.level);
    const uint64_t phys = phys_at(e.addr);
    const bool has_phys = phys_is_valid(phys, pgt_.lpa2());
    // 6.12 decides from what the walk read: on a shared walk the entry may have changed since,
    // and the swap below then fails rather than act on a value no longer there.
    const Pte old = gen_.marks_descriptor_accesses ? e.old : *e.ptep;
    const Pte next = has_phys ? make_leaf_pte(phys, req_.attr, e.level, pgt_.plant, pgt_.lpa2())
                              : make_owner_pte(req_.owner_id);

    // Leave permission changes to relax_perms: the vCPU faults again if it still needs them,
    // and the mapping need not be broken for it.
    if (pte_valid(old) && pte_valid(next) && !((old ^ next) & ~kS2Perms))
      return LeafOutcome::PermissionsOnly;

    // Nothing the hardware walker uses changes: no need to break the entry first. Planted: the
    // test masks the permission bits too, so a change of software bits that also takes a
    // permission away is stored in place, with no break and no TLBI: the TLBs keep the old
    // permission.
    const uint64_t in_place_mask = pgt_.plant == Plant::kWalker612InPlacePermissionChange
                                       ? arm64s2::kSwMask | kS2Perms
                                       : arm64s2::kSwMask;
    // A shared walk never does (Planted: it does, as if it held the table alone).
    const bool exclusive = !req_.shared || pgt_.plant == Plant::kWalker612SharedMapSkipsBreak;
    if (gen_.sw_bits_change_in_place && exclusive && !((old ^ next) & ~in_place_mask)) {
      if (pte_is_counted(old) && !pte_is_counted(next)) pgt_.mm.put_page(e.ptep);
      if (!pte_is_counted(old) && pte_is_counted(next)) pgt_.mm.get_page(e.ptep);
      if (gen_.marks_descriptor_accesses)
        write_once(pgt_, e.ptep, next);
      else
        pgt_.mmu.write_pte(e.ptep, next);
      return LeafOutcome::Installed;
    }

    if (!break_entry(e)) return LeafOutcome::Busy;
    // Planted: Linux before "KVM: arm64: Fix memory leak on stage2 update of a valid PTE"
    // counted the new leaf again although it replaces one: the table page is never freed.
    if (pgt_.plant == Plant::kWalkerLeakTableOnUpdate && pte_valid(old)) [[unlikely]]
      pgt_.mm.get_page(e.ptep);

    // The guest must not see stale cache lines through the new mapping.
    if (!req_.skip_cmo && pte_cacheable(next, pgt_.has_fwb()))
      pgt_.mm.dcache_clean_inval_poc(pte_to_phys(next, pgt_.lpa2()), granule);
    // Planted: the I-cache may then hold stale instructions for the newly executable page.
    if (!req_.skip_cmo && executable(next) && pgt_.plant != Plant::kWalkerNoIcacheInval)
      pgt_.mm.icache_inval_pou(pte_to_phys(next, pgt_.lpa2()), granule);

    make_entry(e.ptep, next);
    if (has_phys && !gen_.pa_from_range_offset) req_.phys += phys_stride(granule);
    return LeafOutcome::Installed;
  }

  bool executable(Pte pte) const {
    return pte_executable(pte) && (pte_valid(pte) || !gen_.icache_only_for_valid);
  }

  // The PA cursor moves with the IPA cursor, by the size of the leaf just installed.
  uint64_t phys_stride(uint64_t granule) const {
    // Planted: a cursor that always steps by a page drifts behind the IPA after the first block.
    if (pgt_.plant == Plant::kWalkerPaCursorDrift) [[unlikely]]
      return arm64s2::kPageSize;
    return granule;
  }

  // The break of break-before-make, before an entry is replaced. 6.1 breaks only a counted
  // entry, to 0; 6.12 breaks every entry, to the locked value a concurrent walk keeps off, and
  // fails (false) when another walker has the entry.
  bool break_entry(const VisitedEntry& e) {
    if (gen_.break_through_locked_entry) return break_to_locked(e);
    if (pte_is_counted(*e.ptep)) put_pte(e.ptep, e.addr, e.level);
    return true;
  }

  // 6.1's break: clear a counted entry, invalidate what the TLB may hold for a valid one, and
  // drop the entry's reference on its table page.
  void put_pte(Pte* ptep, uint64_t addr, unsigned level) {
    const Pte pte = *ptep;
    if (pte_valid(pte)) {
      pgt_.mmu.clear_pte(ptep);
      pgt_.mmu.tlb_flush_ipa(addr, pte_is_table(pte, level) ? 0 : leaf_tlbi_level(level));
    }
    pgt_.mm.put_page(ptep);
  }

  // 6.12's break: the old value's translations are invalidated once the entry is locked. A
  // table's span is flushed as a range: range TLBIs over its granule with FEAT_TLBIRANGE, the
  // whole VMID without.
  bool break_to_locked(const VisitedEntry& e) {
    const Pte old = e.old;
    if (pte_is_locked(old)) {
      // Another walker is between its break and its make: only a shared walk can meet that.
      if (!req_.shared) pgt_.warnings.push_back("WARN_ON: locked entry met by an exclusive walk");
      return false;
    }
    // Claimed only if it still holds what the walk read; otherwise another walker was first.
    // Planted: the swap's outcome is ignored, so a walk that lost goes on as the entry's owner
    // and overwrites what the winner installs.
    if (!try_set_pte(pgt_, e, kLockedPte, req_.shared) &&
        pgt_.plant != Plant::kWalker612LockCmpxchgUnchecked)
      return false;
    if (pte_is_table(old, e.level)) {
      const uint64_t granule = arm64s2::granule_size(e.level);
      // Planted: without it the TLB keeps the old leaves' translations after the block.
      if (pgt_.plant != Plant::kWalkerNoTlbiTableToBlock) [[likely]]
        pgt_.tlb_flush_vmid_range(align_down(e.addr, granule), granule);
    } else if (pte_valid(old)) {
      pgt_.mmu.tlb_flush_ipa(e.addr, leaf_tlbi_level(e.level));
    }
    if (pte_is_counted(old)) pgt_.mm.put_page(e.ptep);
    return true;
  }

  // Planted: every leaf taken for a page, so a block's hint names the wrong level and the TLBI
  // need not remove it (Arm ARM, TLBI IPAS2E1IS, TTL).
  unsigned leaf_tlbi_level(unsigned level) const {
    return pgt_.plant == Plant::kWalkerLeafTlbiWrongLevel ? arm64s2::kLastLevel : level;
  }

  // The make of break-before-make. 6.12 takes the reference before it publishes the entry, so
  // that the page cannot be freed under a walker that already sees it.
  void make_entry(Pte* ptep, Pte next) {
    if (gen_.break_through_locked_entry) {
      if (pte_is_counted(next)) pgt_.mm.get_page(ptep);
      // Planted: published with a plain store, no release: nothing orders the reference and a
      // new table's contents before the entry that makes them reachable.
      if (pgt_.plant == Plant::kWalker612PublishWithoutRelease) [[unlikely]]
        write_once(pgt_, ptep, next);
      else
        store_release(pgt_, ptep, next);
      return;
    }
    pgt_.mmu.write_pte(ptep, next);
    if (pte_is_counted(next)) pgt_.mm.get_page(ptep);
  }

  int table_pre(const VisitedEntry& e) {
    if (gen_.block_over_table_on_the_way_down) return replace_table_by_block(e);
    return detach_table(e);
  }

  // 6.12: a table wholly covered by a block this map can use is replaced like a leaf, and the
  // table, no longer reachable, is freed with everything below it once no walk can be inside it
  // any more.
  int replace_table_by_block(const VisitedEntry& e) {
    if (!leaf_allowed(e)) return 0;
    Pte* child = pgt_.mm.phys_to_virt(pte_to_phys(e.old, pgt_.lpa2()));
    // Planted: the subtree goes back to the allocator before the break's TLBI, while the walk
    // cache may still follow the entry that pointed to it.
    if (pgt_.plant == Plant::kWalker612FreeUnlinkedBeforeFlush) [[unlikely]] {
      free_unlinked_table(pgt_, child, e.level);
      try_leaf(e);
      return 0;
    }
    switch (try_leaf(e)) {
      case LeafOutcome::Installed:
        // Planted: freed at once, though another vCPU's walk may still be inside the table.
        if (pgt_.plant == Plant::kWalker612FreeUnlinkedNoGracePeriod) [[unlikely]]
          free_unlinked_table(pgt_, child, e.level);
        else
          free_after_grace_period(child, e.level);
        return 0;
      case LeafOutcome::Busy:
        return -EAGAIN;
      case LeafOutcome::TooLarge:
      case LeafOutcome::PermissionsOnly:  // a block is never a table's permission change
        break;
    }
    return 0;
  }

  // Shared walks that were inside the table when it was unlinked may still read it: it goes
  // after a grace period (at once outside a concurrent run, where no other walk exists).
  void free_after_grace_period(Pte* table, unsigned level) {
    Stage2PageTable* pgt = &pgt_;
    sched::DeterministicScheduler::call_rcu(
        [pgt, table, level] { free_unlinked_table(*pgt, table, level); });
  }

  // 6.1: a table wholly covered by a block this map can use: detach it now, release what is
  // below it as the walk passes, and install the block when the walk comes back up (table_post).
  int detach_table(const VisitedEntry& e) {
    if (anchor_) return 0;
    if (!leaf_allowed(e)) return 0;
    detached_ = pgt_.mm.phys_to_virt(pte_to_phys(*e.ptep, pgt_.lpa2()));
    pgt_.mmu.clear_pte(e.ptep);
    // One invalidation of everything, rather than one per leaf under the table. Planted: without
    // it the TLB keeps the old leaves' translations after the block replaced them.
    if (pgt_.plant != Plant::kWalkerNoTlbiTableToBlock) [[likely]]
      pgt_.mmu.tlb_flush_vmid();
    anchor_ = e.ptep;
    return 0;
  }

  int leaf(const VisitedEntry& e) {
    if (anchor_) {
      // Below a detached table: only the references go; the page is freed whole later.
      if (pte_is_counted(*e.ptep)) pgt_.mm.put_page(e.ptep);
      return 0;
    }

    switch (try_leaf(e)) {
      case LeafOutcome::Installed:
        return 0;
      case LeafOutcome::PermissionsOnly:
      case LeafOutcome::Busy:
        return -EAGAIN;
      case LeafOutcome::TooLarge:
        break;
    }

    if (e.level == kLastLevel) {
      pgt_.warnings.push_back("WARN_ON: no page mapping allowed at the last level");
      return -EINVAL;
    }
    Pte* child = pgt_.mm.zalloc_page(req_.memcache);
    if (!child) return -ENOMEM;

    // A block in the way is dropped, not split: the parts of it outside this range come back
    // through later faults. An entry another walker has is left to it, and the page goes back.
    if (!break_entry(e)) {
      pgt_.mm.put_page(child);
      // Planted: the error path also drops a reference on the entry's table page, as if the
      // lost entry had been counted: the page's count falls one short of its entries.
      if (pgt_.plant == Plant::kWalker612LostRaceExtraPut) [[unlikely]]
        pgt_.mm.put_page(e.ptep);
      return -EAGAIN;
    }
    // Atomic: on a shared walk other vCPUs' compare-and-swaps meet this entry (and fail on it).
    if (pte_valid(__atomic_load_n(e.ptep, __ATOMIC_RELAXED))) {
      pgt_.warnings.push_back("WARN_ON: table installed over a valid entry");
    }
    make_entry(e.ptep, make_table_pte(pgt_.mm.virt_to_phys(child), pgt_.lpa2()));
    return 0;
  }

  int table_post(const VisitedEntry& e) {
    if (!anchor_) return 0;

    Pte* child;
    int ret = 0;
    if (anchor_ == e.ptep) {
      child = detached_;
      anchor_ = nullptr;
      detached_ = nullptr;
      ret = leaf(e);  // installs the block over the now empty entry
    } else {
      child = pgt_.mm.phys_to_virt(pte_to_phys(*e.ptep, pgt_.lpa2()));
    }
    // The table page loses its last reference (the parent entry's) and is freed; the parent
    // page loses the reference the table entry held.
    pgt_.mm.put_page(child);
    pgt_.mm.put_page(e.ptep);
    return ret;
  }

  Stage2PageTable& pgt_;
  const Generation& gen_;
  MapRequest req_;
  const uint64_t start_;
  Pte* anchor_ = nullptr;    // 6.1: the detached table's entry, while the walk is below it
  Pte* detached_ = nullptr;  // 6.1: the detached table's page
};

// 6.12 replaces a table on the way down and has nothing to do on the way back up.
VisitSet map_visits(const Generation& gen) {
  if (gen.block_over_table_on_the_way_down) return Visit::TablePre | Visit::Leaf;
  return Visit::TablePre | Visit::Leaf | Visit::TablePost;
}

bool force_pte_for(ForcePte policy, uint64_t prot) {
  switch (policy) {
    case ForcePte::Never:
      return false;
    case ForcePte::Always:
      return true;
    case ForcePte::Device:
      return prot & arm64s2::prot::kDevice;
  }
  return false;
}

}  // namespace

int stage2_map(Stage2PageTable& pgt, uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot,
               Memcache* memcache, uint8_t walk_flags) {
  if (walk_flags && !pgt.generation().map_takes_walk_flags) return -EOPNOTSUPP;
  if (pgt.config.idmap && addr != phys) {
    pgt.warnings.push_back("WARN_ON: identity-mapped table asked to map addr != phys");
    return -EINVAL;
  }
  const std::optional<Pte> attr =
      leaf_attrs_for_prot(prot, pgt.has_fwb(), pgt.lpa2(), pgt.generation().has_normal_nc);
  if (!attr) return -EINVAL;

  const MapRequest request{align_down(phys, arm64s2::kPageSize),
                           *attr,
                           0,
                           force_pte_for(pgt.config.force_pte, prot),
                           memcache,
                           /*skip_cmo=*/false,
                           (walk_flags & walk_flag::kShared) != 0};
  // A fault handler's walk (user_mem_abort's) ends at "nothing to do" and returns it.
  const WalkFor purpose =
      walk_flags & walk_flag::kHandleFault ? WalkFor::FaultHandler : WalkFor::Caller;
  // A shared walk (a vCPU's fault) runs beside others, inside an RCU read-side section.
  SharedWalkSection section(request.shared, pgt.plant);
  const int ret =
      walk(pgt, addr, size, map_visits(pgt.generation()),
           Stage2MapWalker(pgt, request, align_down(addr, arm64s2::kPageSize)), purpose);
  section.leave();
  // Publish the new entries to the hardware walker whether or not the walk finished.
  pgt.mmu.dsb_ishst();
  return ret;
}

int stage2_create_unlinked(Stage2PageTable& pgt, uint64_t phys, unsigned level, uint64_t prot,
                           Memcache& cache, bool force_pte) {
  if (!pgt.generation().has_unlinked_tables) return -EOPNOTSUPP;
  if (!is_aligned(phys, granule_size(level))) return -EINVAL;
  const std::optional<Pte> attr =
      leaf_attrs_for_prot(prot, pgt.has_fwb(), pgt.lpa2(), pgt.generation().has_normal_nc);
  if (!attr) return -EINVAL;
  Pte* table = pgt.mm.zalloc_page(&cache);
  if (!table) return -ENOMEM;
  // The map visitor over the new table alone, leaves only: each entry is installed as map
  // installs it over an empty entry (locked first), pages only with force_pte.
  const MapRequest request{phys, *attr, 0, force_pte, &cache, /*skip_cmo=*/true};
  const int ret =
      walk_unlinked(pgt, table, level, Visit::Leaf, Stage2MapWalker(pgt, request, /*start=*/0));
  if (ret) {
    free_unlinked_table(pgt, table, level);
    return ret;
  }
  pgt.unlinked.push_back({table, level});
  return 0;
}

int stage2_set_owner(Stage2PageTable& pgt, uint64_t addr, uint64_t size, Memcache* memcache,
                     uint8_t owner_id) {
  if (owner_id > arm64s2::kMaxOwnerId) return -EINVAL;
  // Ownership is tracked per page, and an annotation has no address to align.
  const MapRequest request{kPhysInvalid, 0, owner_id, true, memcache, false};
  return walk(pgt, addr, size, map_visits(pgt.generation()),
              Stage2MapWalker(pgt, request, align_down(addr, arm64s2::kPageSize)));
}

}  // namespace mmudiff::walker
