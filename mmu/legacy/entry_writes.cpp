// SPDX-License-Identifier: GPL-2.0-only
// The primitives through which every descriptor changes.
#include <algorithm>

#include "mmu/legacy/descriptors.h"
#include "mmu/legacy/shadow_mmu.h"

namespace mmudiff::legacy {

void ShadowMmu::write_entry(ShadowPage& table, unsigned index, uint64_t desc) {
  uint64_t* entry = &table.entries[index];
  uint64_t old = *entry;
  unsigned level = table.level();
  machine_.effects.store(machine_.memory.entry_pa(entry), old, desc);
  *entry = desc;

  // A rewritten leaf (new permissions, new AF) stays where it was: only a leaf appearing or
  // disappearing changes the reverse maps.
  bool was_leaf = is_valid_leaf(old, level) && !table.role.detached;
  bool is_leaf = is_valid_leaf(desc, level) && !table.role.detached;
  // Only this entry's own record goes: a split fills the new table before it breaks the block,
  // so the frame of the block's first page is by then the first new leaf's.
  if (was_leaf && !is_leaf)
    rmap_.remove(table.entry_ipa(index), {&table, static_cast<uint16_t>(index)});
  if (!was_leaf && is_leaf)
    rmap_.add(table.entry_ipa(index), {&table, static_cast<uint16_t>(index)});

  // Every non-zero entry holds a reference on its page: owner annotations count too, a locked
  // entry does not.
  if (!holds_reference(old) && holds_reference(desc)) {
    ++table.present;
    machine_.memory.get_page(entry);
  } else if (holds_reference(old) && !holds_reference(desc)) {
    --table.present;
    machine_.memory.put_page(entry);
  }

  // Only relax_perms rewrites a valid leaf in place with more access than it had.
  if (plant_ == Plant::kLegacyRelaxWrongLevel && was_leaf && is_leaf) [[unlikely]]
    relax_at_level_above(table, index, old, desc);
}

// Planted: the permission a fault asked for is granted at the granule of the level above the
// leaf -- to every leaf of its table page -- as when the fault's level is taken for the
// mapping's (a 4 KiB fault on a block, or the other way round).
void ShadowMmu::relax_at_level_above(ShadowPage& table, unsigned index, uint64_t old,
                                     uint64_t relaxed) {
  uint64_t added = relaxed & ~old & (kS2apR | kS2apW);
  uint64_t cleared = old & ~relaxed & kXn;
  if (!added && !cleared) return;
  for (unsigned i = 0; i < kEntriesPerTable; ++i) {
    uint64_t* entry = &table.entries[i];
    if (i == index || !is_valid_leaf(*entry, table.level())) continue;
    uint64_t widened = (*entry | added) & ~cleared;
    if (widened == *entry) continue;
    // A leaf rewritten in place: no count or reverse-map change, only the store.
    machine_.effects.store(machine_.memory.entry_pa(entry), *entry, widened);
    *entry = widened;
  }
}

void ShadowMmu::invalidate_entry(ShadowPage& table, unsigned index, uint64_t visit_ipa) {
  uint64_t old = table.entries[index];
  if (!is_valid(old)) return;
  write_entry(table, index, 0);
  // A table entry is no leaf: only "any level" (0) reaches its walk-cache copy. Planted: the
  // hint of the leaves below it, which the architecture need not honour for a table.
  unsigned table_hint = plant_ == Plant::kLegacyTableTlbiLeafLevel ? kLastLevel : 0;
  machine_.effects.tlbi_ipa(visit_ipa, is_table(old, table.level()) ? table_hint : table.level());
}

void ShadowMmu::flush_ipa_range(uint64_t ipa, uint64_t size) {
  if (!config_.tlb_range) {
    machine_.effects.tlbi_vmid();
    return;
  }
  uint64_t pages = size / kPageSize;
  while (pages) {
    uint64_t n = std::min(pages, kMaxTlbiRangePages);
    machine_.effects.tlb_flush_range(ipa, n * kPageSize, 0);
    ipa += n * kPageSize;
    pages -= n;
  }
}

void ShadowMmu::break_before_make(ShadowPage& table, unsigned index, uint64_t visit_ipa) {
  uint64_t old = table.entries[index];
  if (!is_valid(old) && !generation_->break_invalid_entries) return;
  write_entry(table, index, generation_->break_value);
  // A table's TLB entries are those of every leaf below it: rather than one TLBI per leaf, the
  // whole VMID goes (6.1), or the entry's span (6.12).
  if (is_table(old, table.level()) && generation_->table_break_flushes_its_range)
    flush_ipa_range(table.entry_ipa(index), granule_size(table.level()));
  else if (is_table(old, table.level()))
    machine_.effects.tlbi_vmid();
  else if (is_valid(old))
    machine_.effects.tlbi_ipa(visit_ipa, table.level());
}

ShadowPage& ShadowMmu::link_new_table(ShadowPage& parent, unsigned index, void* page) {
  ShadowPage& child = new_unlinked_table(parent.entry_ipa(index), parent.level() + 1, page);
  link_table(parent, index, child);
  return child;
}

ShadowPage& ShadowMmu::new_unlinked_table(uint64_t base_ipa, unsigned level, void* page) {
  auto* child = new ShadowPage;
  child->role = {TableFormat::Arm64Stage2Granule4K, static_cast<uint8_t>(level), false,
                 config_.has_fwb()};
  child->base_ipa = base_ipa;
  child->entries = static_cast<uint64_t*>(page);
  child->table_pa = machine_.memory.virt_to_phys(page);
  hash_.insert(child);
  return *child;
}

ShadowPage& ShadowMmu::new_detached_table(ShadowHash& tree, uint64_t base_ipa, unsigned level,
                                          void* page) {
  auto* table = new ShadowPage;
  table->role = {TableFormat::Arm64Stage2Granule4K, static_cast<uint8_t>(level), false,
                 config_.has_fwb(), true};
  table->base_ipa = base_ipa;
  table->entries = static_cast<uint64_t*>(page);
  table->table_pa = machine_.memory.virt_to_phys(page);
  tree.insert(table);
  return *table;
}

void ShadowMmu::release_detached(ShadowHash& tree, ShadowPage& table) {
  // Children first, each found in the tree's hash, so pages go in the order the kernel's
  // post-order walk frees them.
  if (table.level() < kLastLevel)
    for (unsigned i = 0; i < kEntriesPerTable; ++i)
      if (is_table(table.entries[i], table.level()))
        if (ShadowPage* child = tree.find(table.entry_ipa(i), table.level() + 1))
          release_detached(tree, *child);
  tree.remove(&table);
  for (unsigned i = 0; i < table.present; ++i) machine_.memory.put_page(table.entries);
  machine_.memory.put_page(table.entries);
  delete &table;
}

void ShadowMmu::link_table(ShadowPage& parent, unsigned index, ShadowPage& child) {
  child.parent = &parent;
  child.parent_index = static_cast<uint16_t>(index);
  write_entry(parent, index, table_descriptor(child.table_pa, layout()));
}

void ShadowMmu::clean_caches_before_install(uint64_t desc, unsigned level) {
  if (generation_->maintenance_needs_valid && !is_valid(desc)) return;
  uint64_t size = granule_size(level);
  // Planted: a page's worth, whatever the leaf's size: most of a block is left uncleaned.
  uint64_t clean_size = plant_ == Plant::kLegacyCmoWrongSize ? kPageSize : size;
  if (mem_attr_is_normal(desc, fwb()))
    machine_.effects.dcache_clean_inval(output_pa(desc, layout()), clean_size);
  if (is_executable(desc)) machine_.effects.icache_inval(output_pa(desc, layout()), size);
}

}  // namespace mmudiff::legacy
