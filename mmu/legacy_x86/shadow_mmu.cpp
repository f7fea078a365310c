// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/legacy_x86/shadow_mmu.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace mmudiff::legacy_x86 {

namespace ept = x86ept;

ShadowMmu::ShadowMmu(Machine& machine, Plant plant)
    : machine_(machine), plant_(plant), zap_(hash_, machine.memory, plant_) {}

ShadowMmu::~ShadowMmu() {
  release_all();
}

ShadowRole ShadowMmu::role_at(unsigned level) const {
  ShadowRole role;
  role.level = static_cast<uint8_t>(level);
  role.ad_disabled = !config_.ad;
  return role;
}

int ShadowMmu::create_root(const x86::EptConfig& config) {
  if (config.levels < ept::kMinLevels || config.levels > ept::kMaxLevels ||
      config.maxphyaddr < ept::kMinMaxPhyAddr || config.maxphyaddr > ept::kMaxMaxPhyAddr ||
      config.max_level < 1 || config.max_level > ept::kMaxLeafLevel || config.host_level < 1 ||
      config.host_level > ept::kMaxLeafLevel)
    return -EINVAL;
  config_ = config;
  spte_config_ = {config.maxphyaddr, config.ad, config.execonly, config.nx_huge_pages, plant_};
  // kvm_mmu_load: the caches are topped up, the root taken from them, the rest given back.
  const bool cached = topup_cache();
  if (cached) root_ = alloc_table(config.levels, 0, /*from_cache=*/true);
  release_cache();
  if (!root_) return -ENOMEM;
  publish_new_table(*root_);
  hash_.insert(root_);
  touch(*root_);
  return 0;
}

bool ShadowMmu::topup_cache() {
  constexpr size_t kCacheMin = ept::kMaxLevels;  // PT64_ROOT_MAX_LEVEL
  while (cache_.size() < kCacheMin) {
    void* page = machine_.memory.zalloc_page();
    if (!page) return false;
    std::fill_n(static_cast<uint64_t*>(page), ept::kEntriesPerTable, ept::kNonPresent);
    machine_.memory.note_store(machine_.memory.virt_to_phys(page));
    cache_.push_back(page);
  }
  return true;
}

void ShadowMmu::release_cache() {
  while (!cache_.empty()) {
    machine_.memory.put_page(cache_.back());
    cache_.pop_back();
  }
}

KvmMmuPage* ShadowMmu::alloc_table(unsigned level, uint64_t gfn, bool from_cache) {
  void* page = nullptr;
  if (from_cache && !cache_.empty()) {
    page = cache_.back();
    cache_.pop_back();
  } else {
    // The kernel WARNs when a fault finds its cache empty, then allocates anyway.
    if (from_cache) warn("the memory cache ran dry");
    page = machine_.memory.zalloc_page();
  }
  if (!page) return nullptr;
  auto* sp = new KvmMmuPage;
  sp->role = role_at(level);
  sp->gfn = gfn;
  sp->spt = static_cast<uint64_t*>(page);
  sp->spt_pa = machine_.memory.virt_to_phys(page);
  return sp;
}

void ShadowMmu::free_unlinked(KvmMmuPage* sp) {
  machine_.memory.put_page(sp->spt);
  delete sp;
}

void ShadowMmu::publish_new_table(const KvmMmuPage& sp) {
  for (unsigned i = 0; i < ept::kEntriesPerTable; ++i)
    if (sp.spt[i]) machine_.effects.store(sp.spt_pa + i * sizeof(uint64_t), 0, sp.spt[i]);
}

void ShadowMmu::link_table(KvmMmuPage& sp, unsigned index, KvmMmuPage& child, bool shared) {
  publish_new_table(child);
  for (unsigned i = 0; i < ept::kEntriesPerTable; ++i) count(child, child.spt[i], +1);
  touch(child);
  child.parent = &sp;
  child.parent_index = static_cast<uint16_t>(index);
  hash_.insert(&child);
  set_spte(sp, index, make_nonleaf_spte(kSpteIntegers, spte_config_, child.spt_pa), shared);
}

void ShadowMmu::touch(KvmMmuPage& sp) {
  if (sp.touched) return;
  sp.touched = true;
  touched_.push_back(&sp);
}

void ShadowMmu::count(const KvmMmuPage& sp, uint64_t spte, int delta) {
  if (!is_present(spte)) return;
  (is_leaf(spte, sp.level()) ? leaf_sptes_ : table_sptes_) += delta;
}

uint64_t ShadowMmu::write_spte(KvmMmuPage& sp, unsigned index, uint64_t new_spte) {
  uint64_t old = sp.spt[index];
  count(sp, old, -1);
  count(sp, new_spte, +1);
  touch(sp);
  machine_.effects.store(sp.spt_pa + index * sizeof(uint64_t), old, new_spte);
  sp.spt[index] = new_spte;
  return old;
}

void ShadowMmu::set_spte(KvmMmuPage& sp, unsigned index, uint64_t new_spte, bool shared) {
  uint64_t old = write_spte(sp, index, new_spte);
  handle_changed(sp, index, old, new_spte, shared);
}

void ShadowMmu::zap_spte_atomic(KvmMmuPage& sp, unsigned index) {
  const uint64_t old = write_spte(sp, index, ept::kFrozen);
  flush_gfn(sp.entry_gfn(index), sp.level());
  write_spte(sp, index, ept::kNonPresent);
  handle_changed(sp, index, old, ept::kNonPresent, /*shared=*/true);
}

KvmMmuPage* ShadowMmu::child_table(const KvmMmuPage& sp, unsigned index) {
  KvmMmuPage* child = hash_.find(sp.entry_gfn(index), role_at(sp.level() - 1));
  if (!child || child->spt_pa != (sp.spt[index] & ept::kAddrMask)) {
    warn(fmt::format("L{} SPTE {} of the table at gfn {:#x} points at no shadow page", sp.level(),
                     index, sp.gfn));
    return nullptr;
  }
  return child;
}

void ShadowMmu::handle_changed(KvmMmuPage& sp, unsigned index, uint64_t old_spte, uint64_t new_spte,
                               bool shared) {
  const unsigned level = sp.level();
  const bool was_present = is_present(old_spte);
  const bool now_present = is_present(new_spte);
  const bool was_leaf = was_present && is_leaf(old_spte, level);
  const bool now_leaf = now_present && is_leaf(new_spte, level);
  const bool pfn_changed = spte_pfn(old_spte) != spte_pfn(new_spte);
  const uint64_t gfn = sp.entry_gfn(index);

  if (was_leaf && now_leaf && pfn_changed)
    warn(
        fmt::format("gfn {:#x}: a present leaf {:#x} replaced by {:#x}, another pfn (the kernel "
                    "BUG()s)",
                    gfn, old_spte, new_spte));
  if (old_spte == new_spte) return;
  if (now_leaf) {
    if ((new_spte & ept::kMmuWritable) ? !(new_spte & ept::kHostWritable) : is_writable(new_spte))
      warn(fmt::format("gfn {:#x}: SPTE {:#x} breaks the writable invariants", gfn, new_spte));
  }
  if (!was_present && !now_present) {
    if (!is_mmio(old_spte) && !is_mmio(new_spte) && new_spte != ept::kFrozen)
      warn(fmt::format("gfn {:#x}: non-present SPTE {:#x} replaced by non-present {:#x}", gfn,
                       old_spte, new_spte));
    return;
  }
  if (was_leaf) rmap_.remove({&sp, static_cast<uint16_t>(index)});
  if (now_leaf) rmap_.add({&sp, static_cast<uint16_t>(index)});
  if (was_present && !was_leaf && (now_leaf || !now_present || pfn_changed)) {
    if (now_present && !now_leaf)
      warn(fmt::format("gfn {:#x}: a table SPTE moved to another table", gfn));
    // The table is found by its gfn and role, as the old SPTE pointed at it.
    KvmMmuPage* child = hash_.find(gfn, role_at(level - 1));
    if (child && child->spt_pa == (old_spte & ept::kAddrMask))
      remove_table(*child, shared);
    else
      warn(fmt::format("gfn {:#x}: a removed L{} table has no shadow page", gfn, level - 1));
  }
}

void ShadowMmu::remove_table(KvmMmuPage& table, bool shared) {
  touch(table);  // so that commit_zap() sees it go
  for (unsigned i = 0; i < ept::kEntriesPerTable; ++i) {
    const uint64_t old = table.spt[i];
    // Exclusive: a non-present SPTE has nothing to record and cannot become present.
    if (!shared && !is_present(old)) continue;
    write_spte(table, i, ept::kFrozen);
    handle_changed(table, i, old, ept::kFrozen, shared);
  }
  rmap_.remove_table(table);
  // Children first, as their call_rcu callbacks were queued: the frees come in the same order.
  zap_.prepare(table);
}

std::vector<KvmMmuPage*> ShadowMmu::tables_at(unsigned level) const {
  std::vector<KvmMmuPage*> out;
  hash_.for_each([&](KvmMmuPage& sp) {
    if (sp.level() == level && &sp != root_) out.push_back(&sp);
  });
  std::sort(out.begin(), out.end(),
            [](const KvmMmuPage* a, const KvmMmuPage* b) { return a->gfn < b->gfn; });
  return out;
}

void ShadowMmu::flush_gfn(uint64_t gfn, unsigned level) {
  machine_.effects.tlb_flush_range(round_gfn(gfn, level) << ept::kPageShift, ept::level_size(level),
                                   level);
}

void ShadowMmu::commit_zap() {
  // Freed pages leave the touched list first, and what was known of them.
  std::erase_if(touched_, [&](const KvmMmuPage* sp) {
    if (sp->unlinked) known_problems_.erase(sp->spt_pa);
    return sp->unlinked;
  });
  zap_.commit();
}

void ShadowMmu::release_all() {
  release_cache();
  touched_.clear();
  known_problems_.clear();
  table_sptes_ = leaf_sptes_ = 0;
  zap_.commit();
  std::vector<KvmMmuPage*> left;
  hash_.for_each([&](KvmMmuPage& sp) { left.push_back(&sp); });
  for (KvmMmuPage* sp : left) {
    hash_.remove(sp);
    free_unlinked(sp);
  }
  rmap_.clear();
  root_ = nullptr;
}

std::vector<std::string> ShadowMmu::take_warnings() {
  std::vector<std::string> out = std::exchange(warnings_, {});
  // A problem is known by where it is and what it is, not by the SPTE's value of the moment nor
  // by how many SPTEs of the table have it. A page checked again replaces what is known of it.
  for (auto& [page, problems] : check_touched()) {
    std::set<std::string> keys;
    std::set<std::string>& known = known_problems_[page];
    for (const std::string& problem : problems) {
      std::string key = problem.substr(0, problem.find(" (value "));
      if (!known.count(key)) out.push_back("self-check: " + problem);
      keys.insert(std::move(key));
    }
    if (keys.empty())
      known_problems_.erase(page);
    else
      known = std::move(keys);
  }
  return out;
}

}  // namespace mmudiff::legacy_x86
