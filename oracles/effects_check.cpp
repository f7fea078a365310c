// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/effects_check.h"

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

}  // namespace

void EffectsChecker::reset(const TableRoot& root) {
  pages_.clear();
  format_ = root.format;
  const DescriptorFormat& f = *format_;
  uint64_t per_page = f.root_page_span(root.start_level);
  for (unsigned p = 0; p < root.pgd_pages; ++p) {
    Page& pg = pages_[root.pgd_pa + p * f.page_size()];
    pg.linked = true;
    pg.level = root.start_level;
    pg.base = p * per_page;
  }
}

EffectsChecker::Page& EffectsChecker::page_for_store(uint64_t page_pa) {
  auto [it, fresh] = pages_.try_emplace(page_pa);
  // A page written while unlinked is new (or reused after a free, when the allocator zeroed it
  // without a recorded store): its shadow starts from zero.
  if (!fresh && !it->second.linked && it->second.level == 0xff) it->second = Page{};
  return it->second;
}

bool EffectsChecker::subtree_has_valid_leaf(uint64_t page_pa, unsigned depth) const {
  const DescriptorFormat& f = *format_;
  auto it = pages_.find(page_pa);
  if (it == pages_.end() || depth > f.levels()) return false;
  const Page& p = it->second;
  for (uint64_t d : p.entries) {
    DescriptorKind k = f.classify(d, p.level);
    if (k == DescriptorKind::Block || k == DescriptorKind::Page) return true;
    if (k == DescriptorKind::Table &&
        subtree_has_valid_leaf(f.next_table_address(d, p.level), depth + 1))
      return true;
  }
  return false;
}

void EffectsChecker::detach(uint64_t page_pa, unsigned depth) {
  const DescriptorFormat& f = *format_;
  auto it = pages_.find(page_pa);
  if (it == pages_.end() || depth > f.levels()) return;
  Page& p = it->second;
  for (uint64_t d : p.entries)
    if (f.classify(d, p.level) == DescriptorKind::Table)
      detach(f.next_table_address(d, p.level), depth + 1);
  // Mark it so the next store or link starts from a zeroed page again.
  p.linked = false;
  p.level = 0xff;
}

std::vector<EffectViolation> EffectsChecker::check(std::span<const Effect> events, OpKind op) {
  std::vector<EffectViolation> out;
  const DescriptorFormat& f = *format_;
  std::vector<Obligation> pending;
  // Entries cleared from valid during this operation, waiting for their invalidation.
  struct Cleared {
    uint64_t entry_pa, ipa, size;
    unsigned level;
    bool needs_vmid;  // a table with valid leaves below: one TLBI by IPA covers one leaf only
    bool invalidated;
  };
  std::vector<Cleared> cleared;

  for (size_t i = 0; i < events.size(); ++i) {
    const Effect& e = events[i];
    if (e.kind == EffectKind::TlbiVmid) {
      pending.clear();
      for (auto& c : cleared) c.invalidated = true;
      continue;
    }
    if (e.kind == EffectKind::TlbiIpa) {
      auto covers = [&](uint64_t ipa, uint64_t size, unsigned level) {
        return e.addr >= ipa && e.addr - ipa < size && (e.level == 0 || e.level == level);
      };
      std::erase_if(pending, [&](const Obligation& o) {
        return !o.needs_vmid && covers(o.ipa, o.size, o.level);
      });
      for (auto& c : cleared)
        if (!c.needs_vmid && covers(c.ipa, c.size, c.level)) c.invalidated = true;
      continue;
    }
    if (e.kind != EffectKind::Store) continue;

    uint64_t page_pa = e.addr & ~(f.page_size() - 1);
    unsigned index = static_cast<unsigned>((e.addr & (f.page_size() - 1)) / 8);
    Page& pg = page_for_store(page_pa);
    uint64_t shadow = pg.entries[index];
    if (shadow != e.old_value && pg.linked)
      out.push_back(
          {"unrecorded-store",
           fmt::format("entry {:#x} held {:#018x} by the record, but the store replaced {:#018x}",
                       e.addr, shadow, e.old_value)});
    uint64_t old = e.old_value, neu = e.new_value;
    pg.entries[index] = neu;
    if (!pg.linked || old == neu) continue;

    unsigned level = pg.level;
    uint64_t ipa = pg.base + index * f.granule_size(level);
    uint64_t size = f.granule_size(level);
    DescriptorKind old_kind = f.classify(old, level), new_kind = f.classify(neu, level);
    bool old_valid = old_kind != DescriptorKind::Invalid;
    bool new_valid = new_kind != DescriptorKind::Invalid;
    bool old_table = old_kind == DescriptorKind::Table;
    bool new_table = new_kind == DescriptorKind::Table;
    uint64_t bbm_fields = f.break_before_make_mask();

    if (old_valid && new_valid &&
        (old_table != new_table ||
         ((old ^ neu) & (old_table ? f.table_address_mask(level) : bbm_fields))))
      out.push_back(
          {"break-before-make",
           fmt::format("IPA {:#x} level {}: valid {:#018x} replaced by valid {:#018x} without "
                       "going through invalid",
                       ipa, level, old, neu)});
    if (new_valid) {
      for (const auto& c : cleared) {
        if (c.entry_pa == e.addr && !c.invalidated)
          out.push_back(
              {"break-before-make",
               fmt::format("IPA {:#x} level {}: {:#018x} written before the TLBI for the entry "
                           "cleared there",
                           ipa, level, neu)});
      }
      std::erase_if(cleared, [&](const Cleared& c) { return c.entry_pa == e.addr; });
    }
    bool leaves_below = old_table && subtree_has_valid_leaf(f.next_table_address(old, level), 0);
    if (old_valid && !new_valid) cleared.push_back({e.addr, ipa, size, level, leaves_below, false});

    if (old_table &&
        (!new_table || f.next_table_address(old, level) != f.next_table_address(neu, level))) {
      uint64_t child = f.next_table_address(old, level);
      // Even an empty table may sit in the walk caches: the hardware could keep walking the page
      // after it is freed and reused. Linux 6.1 invalidates by IPA at the table's level
      // (stage2_put_pte), or the whole VMID when leaves sat below (stage2_map_walk_table_pre).
      pending.push_back(
          {ipa, size, level, leaves_below,
           leaves_below
               ? fmt::format("IPA {:#x} level {}: table with valid leaves below it removed", ipa,
                             level)
               : fmt::format("IPA {:#x} level {}: empty table removed", ipa, level)});
      detach(child, 0);
    }
    if (new_table &&
        (!old_table || f.next_table_address(old, level) != f.next_table_address(neu, level))) {
      auto [it, fresh] = pages_.try_emplace(f.next_table_address(neu, level));
      if (!fresh && it->second.level == 0xff) it->second = Page{};
      it->second.linked = true;
      it->second.level = level + 1;
      it->second.base = ipa;
    }
    if (old_valid && !old_table) {
      bool moved = !new_valid || new_table || ((old ^ neu) & bbm_fields);
      unsigned lost = grants(f, old) & ~(new_valid && !new_table ? grants(f, neu) : 0u);
      if (op == OpKind::Wrprotect) lost &= ~kGrantW;  // the caller flushes the VMID after wrprotect
      if (moved || lost)
        pending.push_back({ipa, size, level, false,
                           fmt::format("IPA {:#x} level {}: {:#018x} -> {:#018x} {}", ipa, level,
                                       old, neu, moved ? "moved or unmapped" : "lost permission")});
    }
  }
  for (const auto& o : pending)
    out.push_back(
        {"tlb-staleness", o.what + (o.needs_vmid ? ", and no VMID-wide TLBI followed"
                                                 : ", and no TLBI covering it followed")});
  return out;
}

}  // namespace mmudiff
