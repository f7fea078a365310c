// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/effects_check.h"

#include <fmt/format.h>

#include "mmu/format/arm64_s2.h"

namespace mmudiff {

using namespace arm64s2;

namespace {

bool is_leaf_at(uint64_t d, unsigned level) {
  return is_leaf_kind(classify(d, level));
}

constexpr unsigned kGrantW = 4;

// What a translation grants: R, W, and execution at EL1 and at EL0. Stage-2 XN[1:0] with FEAT_XNX:
// 00 both, 01 EL0 only, 10 neither, 11 EL1 only (without FEAT_XNX XN[0] is RES0 and 00/10 are
// all KVM writes). Counting the ELs apart makes 00 -> 01 a loss, which a single X bit would hide.
unsigned grants(uint64_t d) {
  unsigned xn = static_cast<unsigned>((d & kXnMask) >> 53);
  return ((d & kS2apR) ? 8u : 0u) | ((d & kS2apW) ? kGrantW : 0u) |
         ((xn == 0 || xn == 3) ? 2u : 0u) | ((xn == 0 || xn == 1) ? 1u : 0u);
}

constexpr uint64_t kBbmFields = kOaMask | kMemAttrMask | kShMask;

}  // namespace

void EffectsChecker::reset(const TableRoot& root) {
  pages_.clear();
  uint64_t per_page = granule_size(root.start_level) * kEntriesPerTable;
  for (unsigned p = 0; p < root.pgd_pages; ++p) {
    Page& pg = pages_[root.pgd_pa + p * kPageSize];
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
  auto it = pages_.find(page_pa);
  if (it == pages_.end() || depth > kLevels) return false;
  const Page& p = it->second;
  for (uint64_t d : p.entries) {
    if (!(d & kValid)) continue;
    if (is_leaf_at(d, p.level)) return true;
    if (classify(d, p.level) == DescriptorKind::Table &&
        subtree_has_valid_leaf(output_address(d), depth + 1))
      return true;
  }
  return false;
}

void EffectsChecker::detach(uint64_t page_pa, unsigned depth) {
  auto it = pages_.find(page_pa);
  if (it == pages_.end() || depth > kLevels) return;
  Page& p = it->second;
  for (uint64_t d : p.entries)
    if (classify(d, p.level) == DescriptorKind::Table) detach(output_address(d), depth + 1);
  // Mark it so the next store or link starts from a zeroed page again.
  p.linked = false;
  p.level = 0xff;
}

std::vector<EffectViolation> EffectsChecker::check(std::span<const Effect> events, OpKind op) {
  std::vector<EffectViolation> out;
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

    uint64_t page_pa = e.addr & ~(kPageSize - 1);
    unsigned index = static_cast<unsigned>((e.addr & (kPageSize - 1)) / 8);
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
    uint64_t ipa = pg.base + index * granule_size(level);
    uint64_t size = granule_size(level);
    bool old_valid = old & kValid, new_valid = neu & kValid;
    bool old_table = classify(old, level) == DescriptorKind::Table;
    bool new_table = classify(neu, level) == DescriptorKind::Table;

    if (old_valid && new_valid &&
        (old_table != new_table || ((old ^ neu) & (old_table ? kOaMask : kBbmFields))))
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
    bool leaves_below = old_table && subtree_has_valid_leaf(output_address(old), 0);
    if (old_valid && !new_valid) cleared.push_back({e.addr, ipa, size, level, leaves_below, false});

    if (old_table && (!new_table || output_address(old) != output_address(neu))) {
      uint64_t child = output_address(old);
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
    if (new_table && (!old_table || output_address(old) != output_address(neu))) {
      auto [it, fresh] = pages_.try_emplace(output_address(neu));
      if (!fresh && it->second.level == 0xff) it->second = Page{};
      it->second.linked = true;
      it->second.level = level + 1;
      it->second.base = ipa;
    }
    if (old_valid && !old_table) {
      bool moved = !new_valid || new_table || ((old ^ neu) & kBbmFields);
      unsigned lost = grants(old) & ~(new_valid && !new_table ? grants(neu) : 0u);
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
