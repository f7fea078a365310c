// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/effects_check.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace mmudiff {

namespace {

constexpr unsigned kGrantW = 4;

// What a translation grants: R, W, and execution at the privileged and the unprivileged level
// (arm64: EL1 and EL0 under FEAT_XNX). Counting the levels apart makes a loss of execution at
// one of them a loss, which a single X bit would hide.
unsigned grants(const DescriptorFormat& f, uint64_t d) {
  Permissions p = f.permissions(d);
  return (p.read ? 8u : 0u) | (p.write ? kGrantW : 0u) | (p.exec_privileged ? 2u : 0u) |
         (p.exec_unprivileged ? 1u : 0u);
}

std::string grant_names(unsigned g) {
  std::string s;
  if (g & 8) s += "R";
  if (g & kGrantW) s += "W";
  if (g & 2) s += s.empty() ? "X(EL1)" : " X(EL1)";
  if (g & 1) s += s.empty() ? "X(EL0)" : " X(EL0)";
  return s;
}

}  // namespace

std::string TraceEntry::describe() const {
  switch (kind) {
    case EffectKind::Store:
      return linked ? fmt::format("store L{} IPA {:#x}: {:#018x} -> {:#018x}", level, addr,
                                  old_value, new_value)
                    : fmt::format("store into an unlinked table, entry {}: {:#018x} -> {:#018x}",
                                  addr, old_value, new_value);
    case EffectKind::TlbiIpa:
      if (size)
        return fmt::format("TLB flush GPA [{:#x}, {:#x}) (level {})", addr, addr + size, level);
      return fmt::format("TLBI IPA {:#x} level hint {}", addr, level);
    case EffectKind::TlbiVmid:
      return "TLBI VMID";
    case EffectKind::Dsb:
      return fmt::format("DSB {}", static_cast<int>(barrier));
    case EffectKind::Isb:
      return "ISB";
    case EffectKind::DcacheCleanInval:
      return fmt::format("DC CIVAC PA [{:#x}, {:#x})", addr, addr + size);
    case EffectKind::IcacheInval:
      return fmt::format("IC IVAU PA [{:#x}, {:#x})", addr, addr + size);
  }
  return "?";
}

void EffectsChecker::reset(const TableRoot& root, Arch arch, bool unmap_defers_tlbi) {
  clear();
  arch_ = arch;
  unmap_defers_tlbi_ = arch == Arch::Arm64S2 && unmap_defers_tlbi;
  format_ = root.format;
  fwb_ = root.fwb;
  ia_bits_ = root.ia_bits;
  start_level_ = root.start_level;
  const DescriptorFormat& f = *format_;
  uint64_t per_page = f.root_page_span(root.start_level);
  for (unsigned p = 0; p < root.pgd_pages; ++p) {
    uint64_t pa = root.pgd_pa + p * f.page_size();
    Page& pg = pages_[pa];
    // A new root holds the format's empty entries (KVM's non-present SPTE on x86), not zeros.
    if (f.empty_entry() != 0) pg.entries.fill(f.empty_entry());
    pg.linked = true;
    pg.level = root.start_level;
    pg.base = p * per_page;
    root_pages_.push_back(pa);
  }
}

void EffectsChecker::clear() {
  pages_.clear();
  root_pages_.clear();
  for (auto& s : stale_) s.clear();
}

bool EffectsChecker::is_leaf(uint64_t d, unsigned level) const {
  DescriptorKind k = format_->classify(d, level);
  return k == DescriptorKind::Block || k == DescriptorKind::Page;
}

bool EffectsChecker::cacheable(uint64_t leaf, unsigned level) const {
  MemoryType t = format_->leaf_attributes(leaf, level, fwb_).memory_type;
  return t == MemoryType::NormalWriteBack || t == MemoryType::NormalWriteThrough ||
         t == MemoryType::NormalMixed;
}

bool EffectsChecker::executable(uint64_t leaf, unsigned /*level*/) const {
  return format_->permissions(leaf).executable();
}

EffectsChecker::Range EffectsChecker::output_range(uint64_t leaf, unsigned level) const {
  uint64_t size = format_->granule_size(level);
  uint64_t oa = format_->output_address(leaf, level) & ~(size - 1);
  return {oa, oa + size};
}

bool EffectsChecker::compatible(uint64_t a, uint64_t b, unsigned level) const {
  const DescriptorFormat& f = *format_;
  DescriptorKind ka = f.classify(a, level), kb = f.classify(b, level);
  if (ka == DescriptorKind::Table || kb == DescriptorKind::Table)
    return ka == kb && f.next_table_address(a, level) == f.next_table_address(b, level);
  return is_leaf(a, level) && is_leaf(b, level) && ((a ^ b) & f.break_before_make_mask()) == 0;
}

EffectsChecker::Page& EffectsChecker::page_for_store(uint64_t page_pa) {
  auto [it, fresh] = pages_.try_emplace(page_pa);
  // A page written while unlinked is new (or reused after a free, when the allocator zeroed it
  // without a recorded store): its shadow starts from zero.
  if (!fresh && !it->second.linked && it->second.level == 0xff) it->second = Page{};
  return it->second;
}

uint64_t EffectsChecker::current(unsigned level, uint64_t ipa) const {
  const DescriptorFormat& f = *format_;
  uint64_t root = ipa / f.root_page_span(start_level_);
  if (root >= root_pages_.size()) return 0;
  uint64_t page = root_pages_[root];
  for (unsigned l = start_level_; l <= level; ++l) {
    auto it = pages_.find(page);
    if (it == pages_.end() || !it->second.linked) return 0;
    uint64_t d = it->second.entries[(ipa >> f.index_shift(l)) & (f.entries_per_table() - 1)];
    if (l == level) return d;
    if (f.classify(d, l) != DescriptorKind::Table) return 0;
    page = f.next_table_address(d, l);
  }
  return 0;
}

void EffectsChecker::link(uint64_t page_pa, unsigned level, uint64_t base, unsigned depth) {
  const DescriptorFormat& f = *format_;
  if (depth > f.levels() || level >= f.levels()) return;
  auto [it, fresh] = pages_.try_emplace(page_pa);
  if (!fresh && it->second.level == 0xff) it->second = Page{};
  Page& p = it->second;
  p.linked = true;
  p.level = level;
  p.base = base;
  // A table filled before it was linked brings its entries into reach all at once.
  if (p.blank) return;
  for (unsigned i = 0; i < p.entries.size(); ++i)
    if (f.classify(p.entries[i], level) == DescriptorKind::Table)
      link(f.next_table_address(p.entries[i], level), level + 1, base + i * f.granule_size(level),
           depth + 1);
}

void EffectsChecker::detach(uint64_t page_pa, unsigned depth, unsigned level, uint64_t ipa,
                            uint64_t desc) {
  const DescriptorFormat& f = *format_;
  auto it = pages_.find(page_pa);
  if (it == pages_.end() || depth > f.levels() || !it->second.linked) return;
  unlinked_from_[page_pa] = {level, ipa, desc};
  Page& p = it->second;
  // Whatever the subtree held valid may still be cached, and is no longer what the tables say.
  for (unsigned i = 0; i < p.entries.size(); ++i) {
    uint64_t d = p.entries[i];
    DescriptorKind k = f.classify(d, p.level);
    if (k == DescriptorKind::Invalid || k == DescriptorKind::Reserved) continue;
    uint64_t entry_ipa = p.base + i * f.granule_size(p.level);
    auto& values = stale_[p.level][entry_ipa];
    if (std::find(values.begin(), values.end(), d) == values.end()) values.push_back(d);
    if (pending_unmap_cleans_ && k != DescriptorKind::Table && !fwb_ && cacheable(d, p.level))
      owe_clean(output_range(d, p.level), p.level, entry_ipa, d);
    if (k == DescriptorKind::Table)
      detach(f.next_table_address(d, p.level), depth + 1, p.level, entry_ipa, d);
  }
  // Mark it so the next store or link starts from a zeroed page again.
  detached_.push_back(page_pa);
  p.linked = false;
  p.level = 0xff;
}

void EffectsChecker::owe_clean(Range r, unsigned level, uint64_t ipa, uint64_t desc) {
  pending_cleans_.push_back({r, level, ipa, desc});
  dcache_served_.push_back(r);
}

void EffectsChecker::invalidate(uint64_t ipa, unsigned hint) {
  // A hint names the level of the leaf that translates the address (Arm ARM, TLBI IPAS2E1IS,
  // TTL): it removes leaves of that level only. A table entry is no leaf, so only an
  // invalidation without a hint reaches the walk cache's copy of it.
  const DescriptorFormat& f = *format_;
  for (unsigned l = 0; l < f.levels() && l < kMaxLevels; ++l) {
    auto it = stale_[l].find(ipa & ~(f.granule_size(l) - 1));
    if (it == stale_[l].end()) continue;
    if (hint == 0)
      stale_[l].erase(it);
    else if (hint == l && std::erase_if(it->second, [&](uint64_t d) { return is_leaf(d, l); }) &&
             it->second.empty())
      stale_[l].erase(it);
  }
}

void EffectsChecker::invalidate_arm64_range(Range r) {
  const DescriptorFormat& f = *format_;
  for (unsigned l = 0; l < f.levels() && l < kMaxLevels; ++l) {
    const uint64_t g = f.granule_size(l);
    auto& stale = stale_[l];
    for (auto it = stale.lower_bound(r.start & ~(g - 1)); it != stale.end() && it->first < r.end;) {
      const uint64_t ipa = it->first;
      // A table entry's walk-cache copy serves its whole span; a leaf is owed what owed_part
      // says. Either goes only when r holds all of that.
      std::erase_if(it->second, [&](uint64_t d) {
        const Range need = is_leaf(d, l) ? owed_part(ipa, g) : Range{ipa, ipa + g};
        return need.start < need.end && r.start <= need.start && need.end <= r.end;
      });
      it = it->second.empty() ? stale.erase(it) : std::next(it);
    }
  }
}

EffectsChecker::Range EffectsChecker::owed_part(uint64_t ipa, uint64_t granule) const {
  const uint64_t end = ipa + granule < ipa ? UINT64_MAX : ipa + granule;
  if (owes_all_) return {ipa, end};
  const uint64_t s = std::max(ipa, owed_.start), e = std::min(end, owed_.end);
  return s < e ? Range{s, e} : Range{ipa, ipa};
}

void EffectsChecker::check_conflicts(unsigned level, uint64_t ipa, uint64_t old, uint64_t neu,
                                     ObjectionSink& out) const {
  const DescriptorFormat& f = *format_;
  auto conflict = [&](std::string what) {
    out.add({Severity::HardwareEffects, "break-before-make", std::move(what), ipa});
  };
  // The entry itself: the value it held, and whatever it held before that is still cached.
  if (auto it = stale_[level].find(ipa); it != stale_[level].end()) {
    for (uint64_t s : it->second) {
      if (compatible(s, neu, level)) continue;
      if (s == old)
        conflict(
            fmt::format("IPA {:#x} level {}: valid {:#018x} replaced by valid {:#018x} "
                        "without going through invalid",
                        ipa, level, old, neu));
      else
        conflict(
            fmt::format("IPA {:#x} level {}: {:#018x} written before the TLBI for the "
                        "entry cleared there ({:#018x} may still be cached)",
                        ipa, level, neu, s));
      return;
    }
  }
  // A block above it that may still be cached overlaps whatever is written below.
  for (unsigned l = start_level_; l < level; ++l) {
    uint64_t key = ipa & ~(f.granule_size(l) - 1);
    auto it = stale_[l].find(key);
    if (it == stale_[l].end()) continue;
    for (uint64_t s : it->second)
      if (is_leaf(s, l)) {
        conflict(
            fmt::format("IPA {:#x} level {}: {:#018x} written before the TLBI for the "
                        "block {:#018x} at level {}, which overlaps it",
                        ipa, level, neu, s, l));
        return;
      }
  }
  // Entries below a new leaf that may still be cached overlap it with another size.
  if (!is_leaf(neu, level)) return;
  uint64_t end = ipa + f.granule_size(level);
  for (unsigned l = level + 1; l < f.levels() && l < kMaxLevels; ++l) {
    auto it = stale_[l].lower_bound(ipa);
    if (it == stale_[l].end() || it->first >= end) continue;
    conflict(
        fmt::format("IPA {:#x} level {}: {:#018x} written before the TLBI for {:#018x} at "
                    "IPA {:#x} level {}, which it overlaps",
                    ipa, level, neu, it->second.front(), it->first, l));
    return;
  }
}

void EffectsChecker::process_free(const PageFree& free, ObjectionSink& out) {
  // x86 frees unlinked tables after an RCU grace period the harness does not run: the order of
  // its frees and flushes within an operation says nothing.
  if (arch_ != Arch::Arm64S2) return;
  const uint64_t page_pa = free.pa;
  if (auto page = pages_.find(page_pa); page != pages_.end() && page->second.linked) {
    const Page& p = page->second;
    if (tracing_) free_trace_.push_back({free.after, true, p.level, p.base});
    out.add({Severity::Security, "freed-before-flush",
             fmt::format("table page {:#x} (level {}, IPA {:#x}) freed while still linked into "
                         "the tables: walkers reach it, and the page may be reused as anything",
                         page_pa, p.level, p.base),
             p.base});
    return;
  }
  auto it = unlinked_from_.find(page_pa);
  if (it == unlinked_from_.end()) {
    if (tracing_) free_trace_.push_back({free.after, false, 0xff, 0});
    return;
  }
  const Unlinked& u = it->second;
  if (tracing_) free_trace_.push_back({free.after, false, u.level, u.ipa});
  auto cached = stale_[u.level].find(u.ipa);
  if (cached == stale_[u.level].end() ||
      std::find(cached->second.begin(), cached->second.end(), u.desc) == cached->second.end())
    return;
  out.add({Severity::Security, "freed-before-flush",
           fmt::format("table page {:#x} freed while the walk cache may still hold IPA {:#x} "
                       "level {}'s entry {:#018x} pointing to it: no TLBI without a level hint "
                       "came between the unlink and the free, and the page may be reused while "
                       "a walker follows it",
                       page_pa, u.ipa, u.level, u.desc),
           u.ipa});
}

namespace {

// Does one of `done` contain r? Maintenance usually comes right before its store: newest first.
template <typename R>
bool covered_by_one(const std::vector<R>& done, R r) {
  for (auto it = done.rbegin(); it != done.rend(); ++it)
    if (it->start <= r.start && it->end >= r.end) return true;
  return false;
}

}  // namespace

void EffectsChecker::process_store(const Effect& e, const Op& op, ObjectionSink& out) {
  const DescriptorFormat& f = *format_;
  uint64_t page_pa = e.addr & ~(f.page_size() - 1);
  unsigned index = static_cast<unsigned>((e.addr & (f.page_size() - 1)) / 8);
  Page& pg = page_for_store(page_pa);
  uint64_t shadow = pg.entries[index];
  if (shadow != e.old_value && pg.linked)
    out.add({Severity::HardwareEffects, "unrecorded-store",
             fmt::format("entry {:#x} held {:#018x} by the record, but the store replaced {:#018x}",
                         e.addr, shadow, e.old_value)});
  uint64_t old = e.old_value, neu = e.new_value;
  pg.entries[index] = neu;
  pg.blank = false;
  unsigned level = pg.level;
  auto is_table = [&](uint64_t d) {
    return level < f.levels() && f.classify(d, level) == DescriptorKind::Table;
  };
  EventRecord& record = records_.back();
  record.level = static_cast<uint8_t>(level);
  record.old_table = is_table(old);
  record.new_table = is_table(neu);
  if (tracing_) {
    auto masked = [&](uint64_t d, bool table) {
      return table ? d & ~f.table_address_mask(level) : d;
    };
    trace_.push_back({EffectKind::Store, pg.linked, static_cast<uint8_t>(pg.linked ? level : 0),
                      Barrier::None, pg.linked ? pg.base + index * f.granule_size(level) : index, 0,
                      masked(old, record.old_table), masked(neu, record.new_table)});
  }
  if (!pg.linked || old == neu) return;

  uint64_t ipa = pg.base + index * f.granule_size(level);
  DescriptorKind old_kind = f.classify(old, level), new_kind = f.classify(neu, level);
  bool old_table = old_kind == DescriptorKind::Table, new_table = new_kind == DescriptorKind::Table;
  bool old_leaf = is_leaf(old, level), new_leaf = is_leaf(neu, level);
  bool same_table = old_table && new_table &&
                    f.next_table_address(old, level) == f.next_table_address(neu, level);

  // What the old value leaves that the TLB or walk cache may still hold. x86 judges any change of
  // a leaf against the translation (a lost D bit matters there); arm64 what break-before-make
  // and the permission rules look at.
  const bool arm64 = arch_ == Arch::Arm64S2;
  bool unmapping = arm64 && op.kind == OpKind::Unmap && !new_leaf;
  bool leaf_changed =
      old_leaf &&
      (!arm64 || !(new_leaf && compatible(old, neu, level) && grants(f, old) == grants(f, neu)));
  if ((old_table && !same_table) || leaf_changed) {
    auto& values = stale_[level][ipa];
    if (std::find(values.begin(), values.end(), old) == values.end()) values.push_back(old);
  }
  if (old_table && !same_table) {
    pending_unmap_cleans_ = unmapping;
    detach(f.next_table_address(old, level), 0, level, ipa, old);
    pending_unmap_cleans_ = false;
    record.detached_end = static_cast<uint32_t>(detached_.size());
  }
  if (old_leaf && unmapping && !fwb_ && cacheable(old, level))
    owe_clean(output_range(old, level), level, ipa, old);

  if (arm64 && (new_leaf || new_table)) check_conflicts(level, ipa, old, neu, out);
  if (new_table && !same_table) link(f.next_table_address(neu, level), level + 1, ipa, 0);
  if (!arm64 || !new_leaf) return;

  // Cache maintenance the new leaf needs before it is stored: unless the entry already mapped
  // the same PA alike just before (a permission or access-flag change in place).
  Range r = output_range(neu, level);
  bool same_output = old_leaf && output_range(old, level).start == r.start;
  bool needs_clean = cacheable(neu, level), needs_icache = executable(neu, level);
  if (needs_clean) dcache_served_.push_back(r);
  if (needs_icache) icache_served_.push_back(r);
  auto missing = [&](const std::vector<Range>& done, const char* rule, const char* what,
                     const char* maintenance) {
    if (covered_by_one(done, r)) return;
    out.add({Severity::HardwareEffects, rule,
             fmt::format("IPA {:#x} level {}: {:#018x} {} PA [{:#x}, {:#x}), and no {} of "
                         "the whole range came before it was stored",
                         ipa, level, neu, what, r.start, r.end, maintenance),
             ipa});
  };
  if (!fwb_ && needs_clean && !(same_output && cacheable(old, level)))
    missing(dcache_done_, "poc-clean-missing", "maps cacheable memory (no FWB) at",
            "clean+invalidate to the PoC");
  if (needs_icache && !(same_output && executable(old, level)))
    missing(icache_done_, "icache-inval-missing", "makes executable",
            "instruction-cache invalidation to the PoU");
}

void EffectsChecker::judge_stale(const Op& op, ObjectionSink& out) const {
  const DescriptorFormat& f = *format_;
  for (unsigned l = 0; l < kMaxLevels; ++l) {
    for (const auto& [ipa, values] : stale_[l]) {
      uint64_t cur = current(l, ipa);
      for (uint64_t s : values) {
        // Under a deferring unmap, a leaf dropped whole owes nothing outside the caller's range.
        if (!owes_all_ && is_leaf(s, l)) {
          const Range need = owed_part(ipa, f.granule_size(l));
          if (need.start == need.end) continue;
        }
        if (f.classify(s, l) == DescriptorKind::Table) {
          if (compatible(s, cur, l)) continue;
          out.add({Severity::Security, "walk-cache-staleness",
                   fmt::format("IPA {:#x} level {}: table {:#018x} removed (the entry now "
                               "holds {:#018x}), and no TLBI without a level hint "
                               "followed: the walk cache may still follow page {:#x}",
                               ipa, l, s, cur, f.next_table_address(s, l)),
                   ipa});
          continue;
        }
        if (!is_leaf(cur, l) || !compatible(s, cur, l)) {
          out.add({Severity::Security, "tlb-staleness",
                   fmt::format("IPA {:#x} level {}: {:#018x} -> {:#018x} moved or unmapped, "
                               "and no TLBI covering it followed",
                               ipa, l, s, cur),
                   ipa});
          continue;
        }
        unsigned extra = grants(f, s) & ~grants(f, cur);
        if (op.kind == OpKind::Wrprotect) extra &= ~kGrantW;  // the caller flushes the VMID
        unsigned missing = grants(f, cur) & ~grants(f, s);
        if (extra)
          out.add({Severity::Security, "tlb-staleness",
                   fmt::format("IPA {:#x} level {}: {:#018x} -> {:#018x} lost permission "
                               "{}, and no TLBI covering it followed",
                               ipa, l, s, cur, grant_names(extra)),
                   ipa});
        else if (missing && op.kind == OpKind::RelaxPerms)
          out.add({Severity::Functional, "relax-not-flushed",
                   fmt::format("IPA {:#x} level {}: relaxed to {:#018x} (adds {}), but "
                               "{:#018x} may stay cached: the guest faults on it again",
                               ipa, l, cur, grant_names(missing), s),
                   ipa});
      }
    }
  }
}

void EffectsChecker::check_cache_maintenance(const Op& op, ObjectionSink& out) {
  const DescriptorFormat& f = *format_;
  for (const auto& c : pending_cleans_)
    out.add({Severity::HardwareEffects, "poc-clean-missing",
             fmt::format("IPA {:#x} level {}: {:#018x} unmapped without FWB, and no "
                         "clean+invalidate to the PoC of PA [{:#x}, {:#x}) followed its "
                         "invalidation",
                         c.ipa, c.level, c.desc, c.range.start, c.range.end),
             c.ipa});

  // flush cleans every cacheable leaf in its range (nothing with FWB: 6.1 returns at once).
  uint64_t page = f.page_size();
  uint64_t start = op.addr & ~(page - 1);
  uint64_t end = op.addr + op.size;
  bool in_range = op.size != 0 && end > op.addr && end <= UINT64_MAX - page &&
                  ((end + page - 1) & ~(page - 1)) <= (uint64_t{1} << ia_bits_);
  if (op.kind == OpKind::Flush && !fwb_ && in_range) {
    end = (end + page - 1) & ~(page - 1);
    std::vector<std::tuple<uint64_t, unsigned, uint64_t>> todo;  // page, level, base
    for (uint64_t pa : root_pages_) {
      auto it = pages_.find(pa);
      if (it != pages_.end()) todo.emplace_back(pa, it->second.level, it->second.base);
    }
    while (!todo.empty()) {
      auto [pa, level, base] = todo.back();
      todo.pop_back();
      auto it = pages_.find(pa);
      if (it == pages_.end() || level >= f.levels()) continue;
      uint64_t g = f.granule_size(level);
      for (unsigned i = 0; i < it->second.entries.size(); ++i) {
        uint64_t ipa = base + i * g, d = it->second.entries[i];
        if (ipa + g <= start || ipa >= end) continue;
        if (f.classify(d, level) == DescriptorKind::Table) {
          todo.emplace_back(f.next_table_address(d, level), level + 1, ipa);
        } else if (is_leaf(d, level) && cacheable(d, level)) {
          Range r = output_range(d, level);
          dcache_served_.push_back(r);
          if (!covered_by_one(dcache_done_, r))
            out.add({Severity::HardwareEffects, "poc-clean-missing",
                     fmt::format("IPA {:#x} level {}: flush left cacheable {:#018x} "
                                 "without a clean+invalidate to the PoC of PA "
                                 "[{:#x}, {:#x})",
                                 ipa, level, d, r.start, r.end),
                     ipa});
        }
      }
    }
  }

  // Maintenance that serves no leaf the operation maps, unmaps or flushes: device memory, normal
  // non-cacheable memory (6.12's NORMAL_NC: no line of it can be in a cache), a range beyond the
  // leaf, another address.
  auto unserved = [&](std::vector<Range>& served, const std::vector<Range>& done,
                      const char* what) {
    if (done.empty()) return;  // no maintenance to justify: nothing to sort
    // Walks serve leaves in address order: usually sorted already.
    if (!std::is_sorted(served.begin(), served.end())) std::sort(served.begin(), served.end());
    // max_end[k]: the furthest any of served[0..k] reaches, so "one served range holds [s, e)"
    // is a binary search for the last range starting at or before s.
    std::vector<uint64_t>& max_end = max_end_;
    max_end.resize(served.size());
    for (size_t k = 0; k < served.size(); ++k)
      max_end[k] = std::max(served[k].end, k ? max_end[k - 1] : 0);
    size_t n = 0;  // served[0, n) start at or before the maintenance
    for (const Range& d : done) {
      // Maintenance comes in address order too: the search goes on from where it was, and
      // starts again only when an address goes back.
      if (n && served[n - 1].start > d.start)
        n = static_cast<size_t>(
            std::upper_bound(served.begin(), served.end(), Range{d.start, UINT64_MAX}) -
            served.begin());
      while (n < served.size() && served[n].start <= d.start) ++n;
      if (n && max_end[n - 1] >= d.end) continue;
      out.add_lazy(Severity::HardwareEffects, "cmo-unjustified", std::nullopt, [&] {
        return fmt::format(
            "{} of PA [{:#x}, {:#x}) serves no leaf the operation maps, unmaps or flushes that "
            "needs it (device memory, non-cacheable memory, or a wrong range)",
            what, d.start, d.end);
      });
    }
  };
  unserved(dcache_served_, dcache_done_, "clean+invalidate to the PoC");
  unserved(icache_served_, icache_done_, "instruction-cache invalidation");
}

std::vector<Objection> EffectsChecker::check(std::span<const Effect> events, const Op& op,
                                             std::span<const PageFree> frees) {
  ObjectionSink raw;
  dcache_done_.clear();
  icache_done_.clear();
  dcache_served_.clear();
  icache_served_.clear();
  pending_cleans_.clear();
  trace_.clear();
  records_.clear();
  detached_.clear();
  unlinked_from_.clear();
  free_trace_.clear();
  // A deferring unmap (6.12, FEAT_TLBIRANGE and FWB) owes the pages its caller named, read as
  // its range TLBI reads them: the page holding the address, the size in whole pages. KVM's
  // callers name whole pages; what else of a block unmap drops is faulted back later, and may
  // stay cached meanwhile (the kernel's comment in stage2_unmap_walker).
  owes_all_ = !(unmap_defers_tlbi_ && op.kind == OpKind::Unmap);
  if (!owes_all_) {
    const uint64_t page = format_->page_size();
    const uint64_t start = op.addr & ~(page - 1), size = op.size & ~(page - 1);
    owed_ = {start, start + size < start ? UINT64_MAX : start + size};
  }
  size_t next_free = 0;
  auto frees_until = [&](size_t position) {
    for (; next_free < frees.size() && frees[next_free].after <= position; ++next_free)
      process_free(frees[next_free], raw);
  };
  // Consecutive range TLBIs (a range split into chunks the instruction can encode) act as one,
  // until a store comes between them.
  Range run{0, 0};
  for (size_t k = 0; k < events.size(); ++k) {
    const Effect& e = events[k];
    frees_until(k);
    if (e.kind == EffectKind::Store) run = {0, 0};
    records_.push_back({0, false, false, static_cast<uint32_t>(detached_.size())});
    if (tracing_ && e.kind != EffectKind::Store)
      trace_.push_back({e.kind, true, e.level, e.barrier, e.addr, e.size, 0, 0});
    switch (e.kind) {
      case EffectKind::Store:
        process_store(e, op, raw);
        break;
      case EffectKind::TlbiVmid:
        for (auto& s : stale_) s.clear();
        break;
      case EffectKind::TlbiIpa:
        if (arch_ == Arch::X86Ept) {
          invalidate_range(e.addr, e.size);
        } else if (e.size) {
          // The instruction names pages: BaseADDR is the address's page.
          const uint64_t start = e.addr & ~(format_->page_size() - 1);
          const uint64_t end = start + e.size < start ? UINT64_MAX : start + e.size;
          run = run.end == start && run.start < run.end ? Range{run.start, end} : Range{start, end};
          invalidate_arm64_range(run);
        } else {
          invalidate(e.addr, e.level);
        }
        break;
      case EffectKind::DcacheCleanInval:
        dcache_done_.push_back({e.addr, e.addr + e.size});
        // An unmapped leaf is cleaned once the guest can no longer reach it.
        std::erase_if(pending_cleans_, [&](const PendingClean& c) {
          auto it = stale_[c.level].find(c.ipa);
          bool invalidated =
              it == stale_[c.level].end() ||
              std::find(it->second.begin(), it->second.end(), c.desc) == it->second.end();
          return invalidated && e.addr <= c.range.start && e.addr + e.size >= c.range.end;
        });
        break;
      case EffectKind::IcacheInval:
        icache_done_.push_back({e.addr, e.addr + e.size});
        break;
      case EffectKind::Dsb:
      case EffectKind::Isb:
        break;
    }
  }
  frees_until(events.size());
  if (arch_ == Arch::X86Ept) {
    judge_stale_x86(op, raw);
  } else {
    check_cache_maintenance(op, raw);
    judge_stale(op, raw);
  }
  // What the operation leaves cached was judged once; the callers' flushes (wrprotect) and the
  // reports end it here.
  for (auto& s : stale_) s.clear();

  return std::move(raw).finish();
}

}  // namespace mmudiff
