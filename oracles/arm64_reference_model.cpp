// SPDX-License-Identifier: GPL-2.0-only
// The reference model's rules. Each operation is stated over the abstract state (leaves by IPA,
// table pages by level and base); the comments give the rule in words, and where a rule is a
// surprising fact of Linux 6.1's pgtable.c, which function it comes from.
#include "oracles/arm64_reference_model.h"

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <stdexcept>

namespace mmudiff {

using namespace arm64s2;

namespace {

constexpr uint64_t kLeafAttrMaskAll = kLeafAttrLo | kLeafAttrHi;
// KVM_PTE_LEAF_ATTR_S2_PERMS: what a map over an existing leaf may not change by itself.
constexpr uint64_t kS2Perms = kS2apR | kS2apW | kXn;
// KVM_PHYS_INVALID, what set_owner maps.
constexpr uint64_t kPhysInvalid = ~uint64_t{0};

constexpr uint64_t align_down(uint64_t x, uint64_t a) {
  return x & ~(a - 1);
}
constexpr bool is_aligned(uint64_t x, uint64_t a) {
  return (x & (a - 1)) == 0;
}
// A PA is one the table can hold: below 2^48 (PARange capped at 48 bits), or with FEAT_LPA2
// below 2^52 (kvm_phys_is_valid with kvm_get_parange_max()).
constexpr bool phys_valid(uint64_t pa, unsigned pa_bits) {
  return pa < bit(pa_bits);
}

// Where a PA goes in a descriptor (kvm_phys_to_pte): bits [47:12]; with FEAT_LPA2 bits [49:12],
// and PA[51:50] in bits [9:8]. Bits above the PA size are dropped.
constexpr uint64_t pa_field(uint64_t pa, bool lpa2) {
  if (!lpa2) return pa & genmask(47, 12);
  return (pa & genmask(49, 12)) | (((pa >> 50) & 3) << 8);
}

}  // namespace

ReferenceModel::ReferenceModel(size_t max_pages) : max_pages_(max_pages) {}

ReferenceModel::ReferenceModel(const ReferenceModel& other) : max_pages_(other.max_pages_) {
  *this = other;
}

ReferenceModel& ReferenceModel::operator=(const ReferenceModel& other) {
  if (this == &other) return *this;
  max_pages_ = other.max_pages_;
  live_ = other.live_;
  config_ = other.config_;
  ia_bits_ = other.ia_bits_;
  start_level_ = other.start_level_;
  pgd_pages_ = other.pgd_pages_;
  // The nodes come from this model's own pool, whatever the other's.
  leaves_.clear();
  leaves_.insert(other.leaves_.begin(), other.leaves_.end());
  track_changes_ = other.track_changes_;
  changed_ = other.changed_;
  for (unsigned l = 0; l < kLevels; ++l) tables_[l] = other.tables_[l];
  unlinked_ = other.unlinked_;
  return *this;
}

uint64_t ReferenceModel::descriptor(const ModelLeaf& leaf, bool lpa2) {
  if (!leaf.valid) return (uint64_t{leaf.owner} << kOwnerShift) & kOwnerMask;
  uint64_t d = pa_field(leaf.pa, lpa2) | (leaf.attrs & kLeafAttrMaskAll) | kValid;
  if (leaf.level == kLastLevel) d |= kTypeBit;  // page; a block has type 0
  return d;
}

// Device and (6.12) normal non-cacheable memory are never executable, and never both at once.
int ReferenceModel::prot_to_attrs(uint64_t prot, bool fwb, bool lpa2, uint64_t* attrs,
                                  bool normal_nc) {
  const bool device = prot & prot::kDevice;
  const bool nc = normal_nc && (prot & prot::kNormalNc);
  if (device && nc) return -EINVAL;
  const uint64_t mem_attr = device ? mem_attr_device(fwb)
                            : nc   ? mem_attr_normal_nc(fwb)
                                   : mem_attr_normal(fwb);
  uint64_t a = mem_attr << kMemAttrShift;
  if (!(prot & prot::kX)) {
    a |= kXn;
  } else if (device || nc) {
    return -EINVAL;
  }
  if (prot & prot::kR) a |= kS2apR;
  if (prot & prot::kW) a |= kS2apW;
  // With LPA2 the shareability is VTCR_EL2's (DS = 1): bits [9:8] carry PA[51:50].
  if (!lpa2) a |= kShInner << kShShift;
  a |= kAf;
  a |= prot & prot::kSwMask;
  *attrs = a;
  return 0;
}

size_t ReferenceModel::live_pages() const {
  if (!live_) return 0;
  size_t n = pgd_pages_;
  for (const auto& t : tables_) n += t.size();
  for (const ModelUnlinked& u : unlinked_) n += u.pages;
  return n;
}

std::vector<ModelTable> ReferenceModel::tables() const {
  std::vector<ModelTable> out;
  for (unsigned level = 0; level < kLevels; ++level)
    for (uint64_t base : tables_[level]) out.push_back({level, base});
  return out;
}

void ReferenceModel::adopt_tables(std::vector<ModelTable> tables) {
  if (!live_) return;
  std::sort(tables.begin(), tables.end());
  for (const ModelTable& t : tables) {
    if (t.level <= start_level_ || t.level >= kLevels) continue;
    const unsigned entry = t.level - 1;  // the level of the entry that points to it
    if (t.base % granule_size(entry) != 0) continue;
    const bool hangs =
        entry == start_level_ || is_table(entry - 1, align_down(t.base, granule_size(entry - 1)));
    const ModelLeaf* leaf = covering_leaf(t.base);
    if (hangs && !(leaf && leaf->level <= entry)) tables_[t.level].insert(t.base);
  }
}

std::optional<ModelLeaf> ReferenceModel::asked_leaf(const Op& map, unsigned level,
                                                    uint64_t base) const {
  if (map.kind != OpKind::Map || level >= kLevels || base % granule_size(level) != 0)
    return std::nullopt;
  if (base < map.addr || base - map.addr + granule_size(level) > map.size) return std::nullopt;
  uint64_t attrs = 0;
  if (prot_to_attrs(map.prot, config_.arm64.has_fwb(), lpa2(), &attrs, linux612()))
    return std::nullopt;
  ModelLeaf leaf;
  leaf.level = static_cast<uint8_t>(level);
  leaf.valid = true;
  leaf.pa = align_down(map.phys, kPageSize) + (base - map.addr);
  leaf.attrs = attrs;
  return leaf;
}

bool ReferenceModel::adopt_leaf(uint64_t base, const ModelLeaf& leaf) {
  if (!live_ || base % granule_size(leaf.level) != 0) return false;
  const Slot slot = slot_of(base);
  if (slot.level != leaf.level || slot.base != base || covering_leaf(base)) return false;
  leaves_.emplace(base, leaf);
  touch(base, base + granule_size(leaf.level));
  return true;
}

uint64_t ReferenceModel::fingerprint() const {
  // FNV-1a over the state's words: a search's memo, not a security boundary.
  uint64_t h = 0xcbf29ce484222325;
  auto mix = [&](uint64_t word) {
    for (unsigned byte = 0; byte < 8; ++byte) {
      h ^= (word >> (8 * byte)) & 0xff;
      h *= 0x100000001b3;
    }
  };
  mix(live_);
  for (const auto& [base, leaf] : leaves_) {
    mix(base);
    mix(uint64_t{leaf.level} | uint64_t{leaf.valid} << 8 | uint64_t{leaf.owner} << 16);
    mix(leaf.pa);
    mix(leaf.attrs);
  }
  for (unsigned level = 0; level < kLevels; ++level) {
    mix(~uint64_t{level});
    for (uint64_t base : tables_[level]) mix(base);
  }
  for (const ModelUnlinked& u : unlinked_) {
    mix(u.level);
    mix(u.phys);
    mix(u.attrs);
    mix(u.pages);
  }
  return h;
}

void ReferenceModel::drop_leaf(uint64_t base) {
  auto it = leaves_.find(base);
  if (it == leaves_.end()) return;
  touch(base, base + granule_size(it->second.level));
  leaves_.erase(it);
}

bool ReferenceModel::drop_table(const ModelTable& table) {
  if (table.level <= start_level_ || table.level >= kLevels) return false;
  if (!tables_[table.level].count(table.base) || !table_empty(table)) return false;
  tables_[table.level].erase(table.base);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Shape queries

bool ReferenceModel::is_table(unsigned level, uint64_t base) const {
  return level < kLastLevel && tables_[level + 1].count(base) != 0;
}

ReferenceModel::Slot ReferenceModel::slot_of(uint64_t addr) const {
  unsigned level = start_level_;
  while (is_table(level, align_down(addr, granule_size(level)))) ++level;
  return {level, align_down(addr, granule_size(level))};
}

const ModelLeaf* ReferenceModel::leaf_at(uint64_t base) const {
  auto it = leaves_.find(base);
  return it == leaves_.end() ? nullptr : &it->second;
}

const ModelLeaf* ReferenceModel::covering_leaf(uint64_t addr) const {
  auto it = leaves_.upper_bound(addr);
  if (it == leaves_.begin()) return nullptr;
  --it;
  return addr - it->first < granule_size(it->second.level) ? &it->second : nullptr;
}

// A table page counts 1 + its non-zero entries; it is "empty" (count 1) when nothing at all lies
// in its range: every deeper entry hangs off a table entry of this page.
bool ReferenceModel::table_empty(const ModelTable& t) const {
  const uint64_t end = t.base + granule_size(t.level - 1);
  auto l = leaves_.lower_bound(t.base);
  if (l != leaves_.end() && l->first < end) return false;
  if (t.level < kLastLevel) {
    auto c = tables_[t.level + 1].lower_bound(t.base);
    if (c != tables_[t.level + 1].end() && *c < end) return false;
  }
  return true;
}

void ReferenceModel::erase_below(unsigned level, uint64_t base) {
  const uint64_t end = base + granule_size(level);
  touch(base, end);
  leaves_.erase(leaves_.lower_bound(base), leaves_.lower_bound(end));
  for (unsigned l = level + 1; l < kLevels; ++l)
    tables_[l].erase(tables_[l].lower_bound(base), tables_[l].lower_bound(end));
}

// kvm_pgtable_walk: [ALIGN_DOWN(addr, 4K), PAGE_ALIGN(start + size)) in u64 arithmetic, so a range
// that runs off the top wraps and is empty; -ERANGE if either end lies beyond 2^ia_bits; then
// -EINVAL if there is no table.
int ReferenceModel::walk_range(uint64_t addr, uint64_t size, Range* range) const {
  const uint64_t start = align_down(addr, kPageSize);
  const uint64_t end = align_down(start + size + (kPageSize - 1), kPageSize);
  const uint64_t limit = bit(ia_bits_);
  if (start > limit || end > limit) return -ERANGE;
  if (!live_) return -EINVAL;
  *range = {start, end};
  return 0;
}

// ---------------------------------------------------------------------------------------------
// init / destroy

int ReferenceModel::init(const Config& config) {
  if (!valid_ia_bits(config.arm64.ia_bits)) return -EINVAL;
  const Geometry g = geometry_for(config.arm64.ia_bits);
  if (g.pgd_pages > max_pages_) return -ENOMEM;
  live_ = true;
  if (track_changes_) changed_ = IpaWindows::all();
  config_ = config;
  ia_bits_ = g.ia_bits;
  start_level_ = g.start_level;
  pgd_pages_ = g.pgd_pages;
  return 0;
}

void ReferenceModel::destroy() {
  live_ = false;
  if (track_changes_) changed_ = IpaWindows::all();
  leaves_.clear();
  for (auto& t : tables_) t.clear();
  unlinked_.clear();  // the caller frees what it did not link before the table goes
}

// ---------------------------------------------------------------------------------------------
// map and set_owner (stage2_map_walker)
//
// The range is covered entry by entry in IPA order, at the cursor:
//  - A leaf is allowed at a level when the level can hold blocks (or is the last), force_pte does
//    not forbid it (pages only), the granule fits in what is left of the range, the cursor is
//    aligned to it, and the PA cursor is too, unless the PA is invalid.
//  - Over a table: if a leaf is allowed at the table's level, the whole subtree goes and the leaf
//    is installed in its place; otherwise the map continues inside the table.
//  - Over anything else (nothing, a leaf, an annotation): if a leaf is allowed, it is installed;
//    if not, a table page is taken from the memcache (none, or none left: -ENOMEM, with the
//    entry untouched), the old block (if any) is dropped whole, the new table installed empty and
//    the map continues inside it.
//  - Installing over an existing valid leaf that would differ only in S2AP R/W and XN is -EAGAIN
//    and ends the operation, with whatever was done before it kept. Linux 6.12 leaves that
//    leaf as it is and goes on with the rest of the range (its walk swallows the visitor's
//    -EAGAIN), unless its caller passed KVM_PGTABLE_WALK_HANDLE_FAULT: then, as in 6.1, the
//    -EAGAIN ends the map and is returned. (KVM_PGTABLE_WALK_SHARED changes only effects.)
//  - A valid PA installs a valid leaf and moves the PA cursor on by the granule; an invalid one
//    (>= 2^48) installs an owner annotation (map: owner 0, i.e. a zero entry) and the PA cursor
//    stays put. Linux 6.12 has no cursor: each entry's PA is the map's PA plus the entry's
//    offset from the range's start (the same PA wherever every entry before it was installed).

bool ReferenceModel::leaf_allowed(uint64_t addr, uint64_t end, unsigned level,
                                  const MapRequest& req) const {
  if (req.force_pte && level < kLastLevel) return false;
  if (!level_supports_block(level)) return false;
  const uint64_t granule = granule_size(level);
  if (granule > end - addr) return false;
  if (phys_valid(req.phys, config_.arm64.pa_bits()) && !is_aligned(req.phys, granule)) return false;
  return is_aligned(addr, granule);
}

int ReferenceModel::install_leaf(unsigned level, uint64_t base, bool replaced_table,
                                 MapRequest* req) {
  const bool valid = phys_valid(req->phys, config_.arm64.pa_bits());
  ModelLeaf next;
  next.level = static_cast<uint8_t>(level);
  next.valid = valid;
  if (valid) {
    next.pa = req->phys;
    next.attrs = req->attrs & kLeafAttrMaskAll;
  } else {
    next.owner = req->owner;
  }
  const bool next_zero = !valid && req->owner == 0;

  // Where it goes, found once: a map fills a range in IPA order.
  auto it = leaves_.lower_bound(base);
  const bool present = it != leaves_.end() && it->first == base;
  if (!replaced_table && present) {
    const ModelLeaf& old = it->second;
    if (old.valid && valid && !((descriptor(old, lpa2()) ^ descriptor(next, lpa2())) & ~kS2Perms))
      return linux612() ? kLeftAsItIs : -EAGAIN;
  }
  touch(base, base + granule_size(level));
  if (next_zero) {
    if (present) leaves_.erase(it);
  } else if (present) {
    it->second = next;
  } else {
    leaves_.emplace_hint(it, base, next);
  }
  if (valid) req->phys += granule_size(level);
  return 0;
}

int ReferenceModel::alloc_table(MapRequest* req) {
  if (!req->has_memcache) return -ENOMEM;
  if (req->memcache == 0) return -ENOMEM;
  --req->memcache;
  if (live_pages() >= max_pages_) return -ENOMEM;
  return 0;
}

int ReferenceModel::map_walk(const Range& range, MapRequest* req) {
  uint64_t cursor = range.start;
  const uint64_t phys_at_start = req->phys;
  // Where the next entry's walk starts: in the table the last entry was in, while the cursor is
  // inside it (nothing above that table changed), else at the start level.
  unsigned resume = start_level_;
  while (cursor < range.end) {
    unsigned level = resume;
    if (linux612() && phys_valid(phys_at_start, config_.arm64.pa_bits()))
      req->phys = phys_at_start + (cursor - range.start);
    for (;;) {
      const uint64_t base = align_down(cursor, granule_size(level));
      if (is_table(level, base)) {
        // Only when the cursor is at the table's base can a leaf at its level be allowed: the
        // same test the kernel makes once, on the way down (stage2_map_walk_table_pre).
        if (leaf_allowed(cursor, range.end, level, *req)) {
          erase_below(level, base);
          tables_[level + 1].erase(base);
          install_leaf(level, base, /*replaced_table=*/true, req);
          break;
        }
        ++level;
        continue;
      }
      if (leaf_allowed(cursor, range.end, level, *req)) {
        const int ret = install_leaf(level, base, /*replaced_table=*/false, req);
        if (ret == kLeftAsItIs && req->handles_fault) return -EAGAIN;
        if (ret && ret != kLeftAsItIs) return ret;
        break;
      }
      if (level == kLastLevel) return -EINVAL;  // cannot happen: a page always fits
      if (int ret = alloc_table(req)) return ret;
      // The block, if there was one, is dropped whole: the new table starts empty.
      if (leaves_.erase(base)) touch(base, base + granule_size(level));
      tables_[level + 1].insert(base);
      ++level;
    }
    cursor = align_down(cursor, granule_size(level)) + granule_size(level);
    resume =
        level > start_level_ && !is_aligned(cursor, granule_size(level - 1)) ? level : start_level_;
  }
  return 0;
}

int ReferenceModel::map(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot,
                        int32_t memcache, uint8_t walk_flags) {
  if (walk_flags && !linux612()) return -EOPNOTSUPP;
  if (config_.arm64.idmap && addr != phys) return -EINVAL;
  uint64_t attrs = 0;
  if (int ret = prot_to_attrs(prot, config_.arm64.has_fwb(), lpa2(), &attrs, linux612()))
    return ret;
  Range range{};
  if (int ret = walk_range(addr, size, &range)) return ret;
  MapRequest req{};
  req.phys = align_down(phys, kPageSize);
  req.attrs = attrs;
  req.owner = 0;
  req.force_pte = config_.arm64.force_pte == ForcePte::Always ||
                  (config_.arm64.force_pte == ForcePte::Device && (prot & prot::kDevice));
  req.has_memcache = memcache != kNoMemcache;
  req.memcache = static_cast<size_t>(memcache);
  req.handles_fault = walk_flags & walk_flag::kHandleFault;
  return map_walk(range, &req);
}

// set_owner: a map of the invalid PA with force_pte, so pages only. Owner 1 annotates each page,
// owner 0 clears it; either way the tables on the way are created and stay.
int ReferenceModel::set_owner(uint64_t addr, uint64_t size, int32_t memcache, uint8_t owner) {
  if (owner > kMaxOwnerId) return -EINVAL;
  Range range{};
  if (int ret = walk_range(addr, size, &range)) return ret;
  MapRequest req{};
  req.phys = kPhysInvalid;
  req.owner = owner;
  req.force_pte = true;
  req.has_memcache = memcache != kNoMemcache;
  req.memcache = static_cast<size_t>(memcache);
  return map_walk(range, &req);
}

// ---------------------------------------------------------------------------------------------
// unmap (stage2_unmap_walker): every leaf the range touches goes whole (a page unmapped inside a
// block drops the block); annotations it touches are cleared; then every table the range
// touches that has nothing left in it is freed, deepest first, so freeing a child can empty its
// parent. Tables the range does not touch stay, empty or not.

int ReferenceModel::unmap(uint64_t addr, uint64_t size) {
  Range range{};
  if (int ret = walk_range(addr, size, &range)) return ret;
  if (range.start >= range.end) return 0;

  auto it = leaves_.lower_bound(range.start);
  if (it != leaves_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + granule_size(prev->second.level) > range.start) it = prev;
  }
  for (; it != leaves_.end() && it->first < range.end; it = leaves_.erase(it))
    touch(it->first, it->first + granule_size(it->second.level));

  for (unsigned level = kLastLevel; level > start_level_; --level) {
    const uint64_t span = granule_size(level - 1);
    auto t = tables_[level].lower_bound(align_down(range.start, span));
    while (t != tables_[level].end() && *t < range.end) {
      if (table_empty({level, *t})) {
        t = tables_[level].erase(t);
      } else {
        ++t;
      }
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Leaf attributes (stage2_update_leaf_attrs): valid leaves the range touches are changed in place,
// whole blocks at a time; invalid entries are left alone. The old descriptor and level of the
// last valid leaf touched are reported (0 and level 0 if there was none).

int ReferenceModel::update_leaf_attrs(uint64_t addr, uint64_t size, uint64_t set, uint64_t clr,
                                      uint64_t* old_pte, uint32_t* level) {
  Range range{};
  if (int ret = walk_range(addr, size, &range)) return ret;
  set &= kLeafAttrMaskAll;
  clr &= kLeafAttrMaskAll;
  uint64_t last_pte = 0;
  uint32_t last_level = 0;
  if (range.start < range.end) {
    for (auto it = first_leaf_reaching(range.start); it != leaves_.end() && it->first < range.end;
         ++it) {
      ModelLeaf& leaf = it->second;
      if (!leaf.valid) continue;
      last_pte = descriptor(leaf, lpa2());
      last_level = leaf.level;
      const uint64_t attrs = (leaf.attrs & ~clr) | set;
      if (attrs != leaf.attrs) touch(it->first, it->first + granule_size(leaf.level));
      leaf.attrs = attrs;
    }
  }
  if (old_pte) *old_pte = last_pte;
  if (level) *level = last_level;
  return 0;
}

std::pmr::map<uint64_t, ModelLeaf>::iterator ReferenceModel::first_leaf_reaching(uint64_t start) {
  auto it = leaves_.lower_bound(start);
  if (it != leaves_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + granule_size(prev->second.level) > start) it = prev;
  }
  return it;
}

// test_clear_young (6.12): young when any valid leaf the range touches has AF; mkold clears it
// on each of them. A walk that fails (beyond the IPA size) answers 0 (the kernel WARNs).
int ReferenceModel::test_clear_young(uint64_t addr, uint64_t size, bool mkold) {
  if (!linux612()) return -EOPNOTSUPP;
  Range range{};
  if (walk_range(addr, size, &range) || range.start >= range.end) return 0;
  bool young = false;
  for (auto it = first_leaf_reaching(range.start); it != leaves_.end() && it->first < range.end;
       ++it) {
    ModelLeaf& leaf = it->second;
    if (!leaf.valid || !(leaf.attrs & kAf)) continue;
    young = true;
    if (!mkold) continue;
    leaf.attrs &= ~kAf;
    touch(it->first, it->first + granule_size(leaf.level));
  }
  return young ? 1 : 0;
}

// relax_perms only adds: R and W set S2AP bits, X clears XN; a software bit is -EINVAL; nothing
// mapped is not an error in 6.1. Linux 6.12 walks with KVM_PGTABLE_WALK_HANDLE_FAULT, and an
// entry that is not a valid leaf ends that walk with -EAGAIN (the fault is retried).
// stage2_relax_perms's attribute changes: R and W granted, X by clearing XN.
void ReferenceModel::relax_bits(uint64_t prot, uint64_t* set, uint64_t* clr) {
  if (prot & prot::kR) *set |= kS2apR;
  if (prot & prot::kW) *set |= kS2apW;
  if (prot & prot::kX) *clr |= kXn;
}

int ReferenceModel::relax_perms(uint64_t addr, uint64_t prot) {
  if (prot & prot::kSwMask) return -EINVAL;
  if (linux612()) {
    Range range{};
    if (int ret = walk_range(addr, 1, &range)) return ret;
    const ModelLeaf* leaf = covering_leaf(range.start);
    if (!leaf || !leaf->valid) return -EAGAIN;
  }
  uint64_t set = 0, clr = 0;
  relax_bits(prot, &set, &clr);
  return update_leaf_attrs(addr, 1, set, clr, nullptr, nullptr);
}

ModelLeaf ReferenceModel::relaxed(ModelLeaf leaf, uint64_t prot) {
  uint64_t set = 0, clr = 0;
  relax_bits(prot, &set, &clr);
  leaf.attrs = (leaf.attrs | set) & ~clr;
  return leaf;
}

// flush changes nothing; with FWB it returns 0 before even checking the range.
int ReferenceModel::flush(uint64_t addr, uint64_t size) {
  if (config_.arm64.has_fwb()) return 0;
  Range range{};
  return walk_range(addr, size, &range);
}

// get_leaf: the entry translating the page of addr, whatever it holds (zero included), and the
// level it sits at: one below the deepest table on the way.
int ReferenceModel::get_leaf(uint64_t addr, uint64_t* pte, uint32_t* level) const {
  Range range{};
  if (int ret = walk_range(align_down(addr, kPageSize), kPageSize, &range)) return ret;
  const Slot s = slot_of(range.start);
  const ModelLeaf* leaf = leaf_at(s.base);
  *pte = leaf && leaf->level == s.level ? descriptor(*leaf, lpa2()) : 0;
  *level = s.level;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// split (Linux 6.12's kvm_pgtable_stage2_split, stage2_split_walker): each valid block the range
// touches, in IPA order (the first may begin before the range), is replaced whole by a table:
//  - a 2 MiB block takes 1 cache page and becomes 512 pages;
//  - a 1 GiB block becomes 512 x 512 pages when the cache holds 513 pages (one table of 2 MiB
//    entries and 512 tables of pages), else, with at least 1, one table of 512 2 MiB blocks, of
//    which those the range touches are split next, in order, as 2 MiB blocks are;
//  - an empty cache at a block is -ENOMEM, which ends the split: what was split stays split.
// The new leaves map the block's PA range with the attributes map gives the block's R, W, X and
// software bits (kvm_pgtable_stage2_pte_prot keeps only those): normal memory, AF set, whatever
// the block's memory type and AF were. Invalid entries, pages and tables are left alone.

int ReferenceModel::split_block(uint64_t base, uint64_t visit, uint64_t end, size_t* cache) {
  const ModelLeaf block = leaves_.at(base);
  const unsigned level = block.level;
  const size_t full = level == 1 ? size_t{kEntriesPerTable} + 1 : 1;
  const bool to_pages = *cache >= full;
  if (*cache < 1) return -ENOMEM;
  const size_t pages = to_pages ? full : 1;
  if (live_pages() + pages > max_pages_) return -ENOMEM;
  *cache -= pages;

  uint64_t prot = block.attrs & prot::kSwMask;
  if (block.attrs & kS2apR) prot |= prot::kR;
  if (block.attrs & kS2apW) prot |= prot::kW;
  if (!(block.attrs & kXn)) prot |= prot::kX;
  uint64_t attrs = 0;
  prot_to_attrs(prot, config_.arm64.has_fwb(), lpa2(), &attrs);

  const uint64_t span = granule_size(level);
  touch(base, base + span);
  leaves_.erase(base);
  tables_[level + 1].insert(base);
  const unsigned leaf_level = to_pages ? kLastLevel : level + 1;
  if (to_pages && level + 1 < kLastLevel)
    for (uint64_t t = base; t < base + span; t += granule_size(level + 1))
      tables_[kLastLevel].insert(t);
  const uint64_t step = granule_size(leaf_level);
  auto hint = leaves_.lower_bound(base);
  for (uint64_t off = 0; off < span; off += step) {
    ModelLeaf leaf;
    leaf.level = static_cast<uint8_t>(leaf_level);
    leaf.valid = true;
    leaf.pa = block.pa + off;
    leaf.attrs = attrs;
    hint = std::next(leaves_.emplace_hint(hint, base + off, leaf));
  }
  if (to_pages) return 0;
  // The walk enters the new table where it is and splits its blocks in the range.
  for (uint64_t piece = align_down(visit, step); piece < base + span && piece < end;
       piece += step) {
    if (int ret = split_block(piece, std::max(visit, piece), end, cache)) return ret;
  }
  return 0;
}

int ReferenceModel::split(uint64_t addr, uint64_t size, int32_t memcache) {
  if (!linux612()) return -EOPNOTSUPP;
  Range range{};
  if (int ret = walk_range(addr, size, &range)) return ret;
  if (range.start >= range.end) return 0;
  std::vector<uint64_t> blocks;
  auto it = leaves_.lower_bound(range.start);
  if (it != leaves_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + granule_size(prev->second.level) > range.start) it = prev;
  }
  for (; it != leaves_.end() && it->first < range.end; ++it)
    if (it->second.valid && it->second.level < kLastLevel) blocks.push_back(it->first);
  size_t cache = memcache < 0 ? 0 : static_cast<size_t>(memcache);
  for (uint64_t base : blocks)
    if (int ret = split_block(base, std::max(range.start, base), range.end, &cache)) return ret;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Unlinked tables (Linux 6.12's kvm_pgtable_stage2_create_unlinked / _free_unlinked)
//
// create_unlinked maps the granule of `level` from phys as map would map that range into an
// empty table of entries at level + 1: blocks of level + 1 (any level >= 1 holds them, and the
// range is aligned), or with force_pte pages under tables. Its checks come in this order: phys
// not aligned to the granule is -EINVAL; a prot map refuses is -EINVAL; then every page comes
// from the cache, the first a dry cache cannot give being -ENOMEM (what was built is freed).
// Nothing is linked, so the table's translation does not change.

int ReferenceModel::create_unlinked(uint64_t phys, unsigned level, uint64_t prot, int32_t memcache,
                                    bool force_pte) {
  if (!linux612()) return -EOPNOTSUPP;
  if (phys & (granule_size(level) - 1)) return -EINVAL;
  uint64_t attrs = 0;
  if (int ret =
          prot_to_attrs(prot, config_.arm64.has_fwb(), config_.arm64.lpa2, &attrs, linux612()))
    return ret;
  size_t pages = 1;
  for (unsigned l = level + 1, tables = 1; force_pte && l < kLastLevel; ++l) {
    tables *= kEntriesPerTable;
    pages += tables;
  }
  if (memcache < 0 || static_cast<size_t>(memcache) < pages) return -ENOMEM;
  if (live_pages() + pages > max_pages_) return -ENOMEM;
  unlinked_.push_back({level, phys, attrs, pages});
  return 0;
}

int ReferenceModel::free_unlinked(uint64_t n) {
  if (unlinked_.empty()) return -ENOENT;
  unlinked_.erase(unlinked_.begin() + static_cast<std::ptrdiff_t>(n % unlinked_.size()));
  return 0;
}

Translation ReferenceModel::unlinked_translation(size_t i) const {
  const ModelUnlinked& u = unlinked_.at(i);
  Translation t;
  if (phys_valid(u.phys, config_.arm64.pa_bits()))
    t.mappings.push_back({0, granule_size(u.level), u.phys, u.attrs & kTranslationAttrMask});
  return t;
}

// ---------------------------------------------------------------------------------------------

OpResult ReferenceModel::apply(const Op& op) {
  OpResult r;
  changed_.clear();
  switch (op.kind) {
    case OpKind::Init:
      if (live_) destroy();
      r.ret = init(op.config);
      break;
    case OpKind::Destroy:
      destroy();
      break;
    case OpKind::Map:
      r.ret = map(op.addr, op.size, op.phys, op.prot, op.memcache, op.walk_flags);
      break;
    case OpKind::Unmap:
      r.ret = unmap(op.addr, op.size);
      break;
    case OpKind::Wrprotect:
      r.ret = update_leaf_attrs(op.addr, op.size, 0, kS2apW, nullptr, nullptr);
      break;
    case OpKind::Mkyoung:
      update_leaf_attrs(op.addr, 1, kAf, 0, &r.value, nullptr);
      break;
    case OpKind::Mkold:
      update_leaf_attrs(op.addr, 1, 0, kAf, &r.value, nullptr);
      break;
    case OpKind::IsYoung: {
      uint64_t pte = 0;
      update_leaf_attrs(op.addr, 1, 0, 0, &pte, nullptr);
      r.ret = (pte & kAf) ? 1 : 0;
      break;
    }
    case OpKind::RelaxPerms:
      r.ret = relax_perms(op.addr, op.prot);
      break;
    case OpKind::Flush:
      r.ret = flush(op.addr, op.size);
      break;
    case OpKind::SetOwner:
      r.ret = set_owner(op.addr, op.size, op.memcache, op.owner);
      break;
    case OpKind::Arm64Split:
      r.ret = split(op.addr, op.size, op.memcache);
      break;
    case OpKind::CreateUnlinked:
      r.ret = create_unlinked(op.phys, op.level, op.prot, op.memcache, op.owner != 0);
      break;
    case OpKind::FreeUnlinked:
      r.ret = free_unlinked(op.addr);
      break;
    case OpKind::Arm64TestClearYoung:
      r.ret = test_clear_young(op.addr, op.size, op.mkold);
      break;
    case OpKind::GetLeaf: {
      uint64_t pte = 0;
      uint32_t level = 0;
      r.ret = get_leaf(op.addr, &pte, &level);
      if (r.ret == 0) {
        r.value = pte;
        r.level = level;
      }
      break;
    }
    default:
      throw std::logic_error("the arm64 reference model was given an x86 operation");
  }
  return r;
}

Translation ReferenceModel::translation(const IpaWindows* within) const {
  Translation t;
  if (!live_) return t;
  // Built merged (a run of pages can be millions long); normalise() then only confirms it.
  auto add = [&](uint64_t base, const ModelLeaf& leaf) {
    const uint64_t size = granule_size(leaf.level);
    if (leaf.valid) {
      const Mapping m{base, size, leaf.pa, leaf.attrs & kTranslationAttrMask};
      if (!t.mappings.empty()) {
        Mapping& last = t.mappings.back();
        if (last.ipa + last.size == m.ipa && last.pa + last.size == m.pa && last.attrs == m.attrs) {
          last.size += m.size;
          return;
        }
      }
      t.mappings.push_back(m);
    } else {
      const OwnerAnnotation a{base, size, descriptor(leaf, lpa2())};
      if (!t.annotations.empty()) {
        OwnerAnnotation& last = t.annotations.back();
        if (last.ipa + last.size == a.ipa && last.descriptor == a.descriptor) {
          last.size += a.size;
          return;
        }
      }
      t.annotations.push_back(a);
    }
  };
  if (!within) {
    for (const auto& [base, leaf] : leaves_) add(base, leaf);
    normalise(&t);
    return t;
  }
  // The leaves that reach into the windows, each once (one may reach into two), then clipped.
  uint64_t next = 0;  // leaves below this were taken
  for (const IpaWindows::Range& w : within->ranges()) {
    auto it = leaves_.upper_bound(std::max(w.lo, next));
    if (it != leaves_.begin() && std::prev(it)->first >= next) --it;
    for (; it != leaves_.end() && it->first < w.hi; ++it) {
      if (it->first + granule_size(it->second.level) <= w.lo) continue;
      add(it->first, it->second);
      next = it->first + 1;
    }
  }
  return within->clipped(t);
}

}  // namespace mmudiff
