// SPDX-License-Identifier: GPL-2.0-only
// The abstract reference model: what Linux 6.1's stage-2 kvm_pgtable does to a table (and where
// Linux 6.12's does otherwise, what that does: the init's Arm64S2Config::kernel), stated as
// rules over an abstract state instead of as code over descriptor pages. It consumes the same
// operations as a backend and predicts (1) every operation's result and (2) the Translation the
// table has afterwards, which the translation oracle compares with the architectural walk of each
// backend's real table.
//
// The state is
//   - the non-zero entries that are not tables, by IPA: valid leaves (level, PA, attribute bits)
//     and owner annotations (an owner id, always one 4 KiB page);
//   - the table pages that exist below the start level, as (level, base IPA).
// Tables are part of the state because the semantics depend on them: a map needs a memcache page
// for every table it must create (-ENOMEM otherwise), get_leaf reports the level at which it found
// nothing, and tables outlive their entries (only unmap frees a table, when it has become empty;
// a block mapped over a table frees the whole subtree).
//
// Descriptors appear only at the boundary, where the kernel's interface returns one (mkyoung,
// mkold, get_leaf) or compares two (map's "only the permissions differ" test). Hardware effects
// (TLBI, DSB, cache maintenance) are not predicted here: the effects oracle checks those.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory_resource>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "mmu/format/arm64_s2.h"
#include "mmu/memory/sim_memory.h"
#include "mmu/ops/op.h"
#include "oracles/ipa_windows.h"
#include "oracles/node_recycler.h"
#include "oracles/translation.h"

namespace mmudiff {

// A non-zero entry that is not a table.
struct ModelLeaf {
  uint8_t level = arm64s2::kLastLevel;
  bool valid = false;  // false: an owner annotation
  uint64_t pa = 0;     // valid: the output address, aligned to the level's granule
  uint64_t attrs = 0;  // valid: the leaf attribute bits (KVM_PTE_LEAF_ATTR_LO | _HI)
  uint8_t owner = 0;   // annotation: the owner id (1; owner 0 is no entry at all)

  bool operator==(const ModelLeaf&) const = default;
};

// A table page below the start level: its entries are at `level`, it translates
// [base, base + granule_size(level - 1)).
struct ModelTable {
  unsigned level;
  uint64_t base;
  bool operator==(const ModelTable&) const = default;
  auto operator<=>(const ModelTable&) const = default;
};

// A table Linux 6.12's create_unlinked built that free_unlinked has not freed: entries at
// level + 1 mapping [0, granule_size(level)) to phys onwards (nothing for a phys beyond the PA
// size) with attrs, in `pages` table pages.
struct ModelUnlinked {
  unsigned level;
  uint64_t phys;
  uint64_t attrs;
  size_t pages;
};

class ReferenceModel {
 public:
  // max_pages: the bound on live table pages, as the backends' SimMemory enforces it.
  explicit ReferenceModel(size_t max_pages = MemoryLimits{}.max_pages);
  // Copies to try orders of operations on (the linearizability oracle), each with its own pool.
  ReferenceModel(const ReferenceModel& other);
  ReferenceModel& operator=(const ReferenceModel& other);

  // One operation, with the result apply_op() would give for a correct backend.
  OpResult apply(const Op& op);

  // What the table translates to now (normalised). Empty when no table is live. Within
  // windows, clipped to them (IpaWindows::clipped), reading only the leaves that reach into them.
  Translation translation(const IpaWindows* within = nullptr) const;
  // Where the last apply() changed the translation (everything, for init and destroy), once
  // asked to keep track: checking after every operation needs it, the fuzz loop does not.
  void track_changes(bool on) { track_changes_ = on; }
  const IpaWindows& changed() const { return changed_; }

  bool live() const { return live_; }
  const Config& config() const { return config_; }
  unsigned start_level() const { return start_level_; }
  unsigned pgd_pages() const { return pgd_pages_; }
  // Live table pages, start-level pages included: what the backend's SimMemory holds.
  size_t live_pages() const;
  // The tables below the start level, by level then base.
  std::vector<ModelTable> tables() const;
  // Takes on tables a table has that the model lacks, where they hang off the model's own and
  // no leaf of the model's covers them: a shared map that lost its race (-EAGAIN) may still have
  // installed the tables down to its leaf, and whether a later map needs its memcache depends on
  // them (the linearizability oracle).
  void adopt_tables(std::vector<ModelTable> tables);
  const std::pmr::map<uint64_t, ModelLeaf>& leaves() const { return leaves_; }
  // The leaf a map would install at entry (level, base) if its walk put one there: its PA
  // cursor at base, its attributes. None when the map's range does not hold the entry whole, or
  // it is no valid map. A fault that reloads its entry and finds another vCPU's table there
  // descends and maps such leaves (the linearizability oracle's allowance).
  std::optional<ModelLeaf> asked_leaf(const Op& map, unsigned level, uint64_t base) const;
  // Takes on a leaf where the model's tables lead to its level and nothing covers it yet; false
  // (and no change) otherwise.
  bool adopt_leaf(uint64_t base, const ModelLeaf& leaf);
  // The leaf as a relax_perms of prot leaves it (no software bits: those are -EINVAL).
  static ModelLeaf relaxed(ModelLeaf leaf, uint64_t prot);
  // Forgets the leaf at base (its tables stay): a fault whose leaf went into a table another
  // vCPU had just unlinked returns 0 and maps nothing.
  void drop_leaf(uint64_t base);
  // Forgets a table page that holds nothing (no leaf, no table below): false otherwise. The
  // table a fault installed that another vCPU's block unlinked.
  bool drop_table(const ModelTable& table);
  // The live unlinked tables, oldest first, and what the i-th translates: an unlinked table
  // changes nothing of the table's own translation.
  const std::vector<ModelUnlinked>& unlinked() const { return unlinked_; }
  // A hash of the whole state (leaves, tables, unlinked tables): two models with the same state
  // answer every operation alike, so a search over orders of operations need not visit both.
  uint64_t fingerprint() const;
  Translation unlinked_translation(size_t i) const;

  // The descriptor the kernel stores for a leaf (what mkyoung, mkold and get_leaf return), in a
  // table with FEAT_LPA2 or without.
  static uint64_t descriptor(const ModelLeaf& leaf, bool lpa2);
  // The leaf attribute bits a map with this prot installs (stage2_set_prot_attr), or -EINVAL.
  // normal_nc: the kernel has KVM_PGTABLE_PROT_NORMAL_NC (6.12; 6.1 ignores the bit).
  static int prot_to_attrs(uint64_t prot, bool fwb, bool lpa2, uint64_t* attrs,
                           bool normal_nc = false);

 private:
  // The range a walk of (addr, size) covers, or the walk's error (-ERANGE, or -EINVAL without a
  // table). An empty range (end <= start, after wrapping) is not an error.
  struct Range {
    uint64_t start;
    uint64_t end;
  };
  int walk_range(uint64_t addr, uint64_t size, Range* range) const;

  // The entry that translates addr: the level below the deepest table covering it.
  struct Slot {
    unsigned level;
    uint64_t base;
  };
  Slot slot_of(uint64_t addr) const;
  bool is_table(unsigned level, uint64_t base) const;  // entry (level, base) points to a table
  bool table_empty(const ModelTable& t) const;
  void erase_below(unsigned level, uint64_t base);  // everything under entry (level, base)
  const ModelLeaf* leaf_at(uint64_t base) const;
  // The leaf (valid or an annotation) whose range holds addr, if any.
  const ModelLeaf* covering_leaf(uint64_t addr) const;
  // The table has FEAT_LPA2 (6.12 only): 52-bit PAs, PA[51:50] in bits [9:8], no SH field.
  bool lpa2() const { return config_.arm64.lpa2; }
  bool linux612() const { return config_.arm64.kernel == Arm64Kernel::Linux612; }
  // install_leaf's answer when 6.12 leaves the entry as it is and the map goes on.
  static constexpr int kLeftAsItIs = 1;

  // What map and set_owner have in common: stage2_map_walker's rules.
  struct MapRequest {
    uint64_t phys;  // the PA cursor; >= 2^48 is invalid and writes owner annotations instead
    uint64_t attrs;
    uint8_t owner;
    bool force_pte;
    bool has_memcache;
    size_t memcache;  // pages left
    // 6.12, KVM_PGTABLE_WALK_HANDLE_FAULT: a leaf left as it is ends the map with -EAGAIN.
    bool handles_fault = false;
  };
  int map_walk(const Range& range, MapRequest* req);
  bool leaf_allowed(uint64_t addr, uint64_t end, unsigned level, const MapRequest& req) const;
  int install_leaf(unsigned level, uint64_t base, bool replaced_table, MapRequest* req);
  int alloc_table(MapRequest* req);

  // stage2_update_leaf_attrs: every valid leaf the range touches; the last one's old descriptor
  // and level are reported.
  int update_leaf_attrs(uint64_t addr, uint64_t size, uint64_t set, uint64_t clr, uint64_t* old_pte,
                        uint32_t* level);
  // The first leaf in IPA order whose range reaches into [start, ...).
  std::pmr::map<uint64_t, ModelLeaf>::iterator first_leaf_reaching(uint64_t start);
  // Linux 6.12's kvm_pgtable_stage2_test_clear_young: 1 when a valid leaf of the range was young.
  int test_clear_young(uint64_t addr, uint64_t size, bool mkold);

  int init(const Config& config);
  void destroy();
  int map(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot, int32_t memcache,
          uint8_t walk_flags);
  int unmap(uint64_t addr, uint64_t size);
  int set_owner(uint64_t addr, uint64_t size, int32_t memcache, uint8_t owner);
  int relax_perms(uint64_t addr, uint64_t prot);
  static void relax_bits(uint64_t prot, uint64_t* set, uint64_t* clr);
  int flush(uint64_t addr, uint64_t size);
  int get_leaf(uint64_t addr, uint64_t* pte, uint32_t* level) const;
  // Linux 6.12's kvm_pgtable_stage2_split with a cache of `memcache` pages.
  int split(uint64_t addr, uint64_t size, int32_t memcache);
  // The valid block at `base` met by the split's walk at `visit`; *cache pages left.
  int split_block(uint64_t base, uint64_t visit, uint64_t end, size_t* cache);
  // Linux 6.12's kvm_pgtable_stage2_create_unlinked with a cache of `memcache` pages, and
  // free_unlinked of the live table number n modulo how many there are (-ENOENT for none).
  int create_unlinked(uint64_t phys, unsigned level, uint64_t prot, int32_t memcache,
                      bool force_pte);
  int free_unlinked(uint64_t n);

  size_t max_pages_;
  bool live_ = false;
  // Like struct kvm_pgtable, these survive destroy: a walk after destroy still checks its range
  // against the old IPA size before it finds no table (-ERANGE before -EINVAL).
  Config config_{};
  unsigned ia_bits_ = 0;
  unsigned start_level_ = 0;
  unsigned pgd_pages_ = 0;
  // A stream makes and drops leaves by the thousand: their nodes are recycled, not malloc'd.
  NodeRecycler pool_;
  std::pmr::map<uint64_t, ModelLeaf> leaves_{&pool_};  // by base IPA
  bool track_changes_ = false;
  IpaWindows changed_;
  void touch(uint64_t lo, uint64_t hi) {
    if (track_changes_) changed_.add(lo, hi);
  }
  std::set<uint64_t> tables_[arm64s2::kLevels];  // [level]: bases of table pages at that level
  std::vector<ModelUnlinked> unlinked_;
};

}  // namespace mmudiff
