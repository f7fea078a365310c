// SPDX-License-Identifier: GPL-2.0-only
// The effects oracle's x86 EPT rules (docs/oracles.md, "effects on x86"): what the TLBs and the
// paging-structure caches may hold when a TDP MMU operation returns, its caller's flush included
// (apply_op adds the flush that mmu.c does when a function says one is needed).
//  - A ranged flush (kvm_flush_remote_tlbs_range, recorded with its exact range) drops every
//    cached entry, leaf or paging-structure, that translates a GPA of the range: tdp_mmu.c
//    relies on that when it zaps a non-leaf SPTE and flushes only its gfn at its level. A full
//    flush (INVEPT single-context) drops everything.
//  - No break-before-make: x86 raises no TLB conflict abort, and KVM installs a huge leaf over a
//    table before flushing (tdp_mmu_map_handle_target_level). No cache maintenance: the EPT walk
//    and guest memory are coherent.
//  - When the operation returns, nothing cached may let the guest do more than the tables say,
//    page by page: reach another host page or memory type, read, write or execute where the SPTE
//    no longer allows it, or write without setting a D bit the tables cleared (dirty logging with
//    A/D: the CPU does not set D again through an entry it cached dirty). A huge leaf the tables
//    now say page by page through a new table (an eager split) leaves nothing stale.
//  - Exceptions, as KVM's callers have them: aging (kvm_mmu_notifier_clear_young flushes nothing:
//    an old-but-cached entry costs accuracy, not safety) and zap_all (kvm_tdp_mmu_zap_all: "a TLB
//    flush is unnecessary, KVM zaps everything if and only the VM is being destroyed"; no vCPU runs
//    again). Destroy ends the table's life.
#include <algorithm>

#include <fmt/format.h>

#include "mmu/format/x86_ept_format.h"
#include "oracles/effects_check.h"

namespace mmudiff {

namespace {

constexpr unsigned kRead = 4, kWrite = 2, kExec = 1;

unsigned rwx(const Permissions& p) {
  return (p.read ? kRead : 0u) | (p.write ? kWrite : 0u) | (p.executable() ? kExec : 0u);
}

std::string rwx_names(unsigned g) {
  std::string s;
  if (g & kRead) s += "R";
  if (g & kWrite) s += "W";
  if (g & kExec) s += "X";
  return s;
}

}  // namespace

void EffectsChecker::invalidate_range(uint64_t start, uint64_t size) {
  const DescriptorFormat& f = *format_;
  const uint64_t end = start + size < start ? UINT64_MAX : start + size;
  for (unsigned l = 0; l < f.levels() && l < kMaxLevels; ++l) {
    auto& stale = stale_[l];
    auto it = stale.lower_bound(start & ~(f.granule_size(l) - 1));
    while (it != stale.end() && it->first < end) it = stale.erase(it);
  }
}

template <typename Visit>
bool EffectsChecker::visit_current_page(uint64_t page_pa, unsigned level, uint64_t base,
                                        uint64_t start, uint64_t end, Visit& visit) const {
  const DescriptorFormat& f = *format_;
  auto it = pages_.find(page_pa);
  const bool known = it != pages_.end() && it->second.linked;
  const uint64_t g = f.granule_size(level);
  const uint64_t first = start > base ? (start - base) / g : 0;
  for (uint64_t i = first; i < f.entries_per_table() && base + i * g < end; ++i) {
    const uint64_t d = known ? it->second.entries[i] : f.empty_entry();
    const uint64_t at = base + i * g;
    if (level + 1 < f.levels() && f.classify(d, level) == DescriptorKind::Table) {
      if (!visit_current_page(f.next_table_address(d, level), level + 1, at, start, end, visit))
        return false;
    } else if (!visit(level, at, d)) {
      return false;
    }
  }
  return true;
}

template <typename Visit>
bool EffectsChecker::visit_current(uint64_t start, uint64_t end, Visit&& visit) const {
  const DescriptorFormat& f = *format_;
  const uint64_t span = f.root_page_span(start_level_);
  for (uint64_t r = start / span; r < root_pages_.size() && r * span < end; ++r)
    if (!visit_current_page(root_pages_[r], start_level_, r * span, start, end, visit))
      return false;
  return true;
}

void EffectsChecker::judge_stale_leaf_x86(uint64_t stale, unsigned level, uint64_t ipa,
                                          ObjectionSink& out) const {
  const DescriptorFormat& f = *format_;
  const uint64_t size = f.granule_size(level);
  const LeafAttributes was = f.leaf_attributes(stale, level, false);
  const uint64_t was_pa = was.output_address & ~(size - 1);
  auto object = [&](const char* rule, uint64_t gpa, std::string what) {
    out.add({Severity::Security, rule,
             fmt::format("GPA {:#x} level {}: {:#018x} may still be cached, and no flush "
                         "covering it followed: {}",
                         ipa, x86_level(level, f.levels()), stale, what),
             gpa});
  };
  visit_current(ipa, ipa + size, [&](unsigned cur_level, uint64_t base, uint64_t cur) {
    const uint64_t gpa = std::max(base, ipa);
    if (!is_leaf(cur, cur_level)) {
      object("tlb-staleness", gpa,
             fmt::format("GPA {:#x} is no longer mapped ({:#018x})", gpa, cur));
      return false;
    }
    const LeafAttributes now = f.leaf_attributes(cur, cur_level, false);
    const uint64_t cur_size = f.granule_size(cur_level);
    const uint64_t now_pa = (now.output_address & ~(cur_size - 1)) + (gpa - base);
    if (now_pa != was_pa + (gpa - ipa)) {
      object("tlb-staleness", gpa,
             fmt::format("GPA {:#x} now maps PA {:#x} ({:#018x}), the cached entry PA {:#x}", gpa,
                         now_pa, cur, was_pa + (gpa - ipa)));
      return false;
    }
    if (now.memory_type != was.memory_type) {
      object(
          "tlb-staleness", gpa,
          fmt::format("GPA {:#x} is now {} ({:#018x}), the cached entry {}", gpa,
                      memory_type_name(now.memory_type), cur, memory_type_name(was.memory_type)));
      return false;
    }
    if (unsigned extra = rwx(was.permissions) & ~rwx(now.permissions)) {
      object("tlb-staleness", gpa,
             fmt::format("GPA {:#x} lost {} ({:#018x})", gpa, rwx_names(extra), cur));
      return false;
    }
    if (was.dirty && !now.dirty && now.permissions.write) {
      object("dirty-staleness", gpa,
             fmt::format("GPA {:#x} had its D bit cleared ({:#018x}), but the CPU does not set it "
                         "again through an entry it cached dirty: writes go unlogged",
                         gpa, cur));
      return false;
    }
    return true;
  });
}

void EffectsChecker::judge_stale_x86(const Op& op, ObjectionSink& out) const {
  if (op.kind == OpKind::Age || op.kind == OpKind::ZapAll) return;
  const DescriptorFormat& f = *format_;
  for (unsigned l = 0; l < kMaxLevels && l < f.levels(); ++l) {
    for (const auto& [ipa, values] : stale_[l]) {
      for (uint64_t s : values) {
        if (f.classify(s, l) != DescriptorKind::Table) {
          if (is_leaf(s, l)) judge_stale_leaf_x86(s, l, ipa, out);
          continue;
        }
        const uint64_t cur = current(l, ipa);
        if (f.classify(cur, l) == DescriptorKind::Table &&
            f.next_table_address(cur, l) == f.next_table_address(s, l))
          continue;
        out.add({Severity::Security, "walk-cache-staleness",
                 fmt::format("GPA {:#x} level {}: non-leaf SPTE {:#018x} removed (the entry "
                             "now holds {:#018x}), and no flush covering it followed: the "
                             "paging-structure caches may still follow page {:#x}",
                             ipa, x86_level(l, f.levels()), s, cur, f.next_table_address(s, l)),
                 ipa});
      }
    }
  }
}

}  // namespace mmudiff
