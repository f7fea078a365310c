// SPDX-License-Identifier: GPL-2.0-only
// The stage-2 operations, each a small visitor over walk(). They return what the
// kvm_pgtable_stage2_* functions of the table's kernel generation (generation.h) return, because
// return codes are compared across backends.
#pragma once

#include <cstdint>

#include "mmu/memory/sim_memory.h"
#include "mmu/ops/op.h"
#include "mmu/walker/page_table.h"
#include "mmu/walker/pte.h"

namespace mmudiff::walker {

// lifetime.cpp
int stage2_init(Stage2PageTable& pgt, const Arm64S2Config& config);
void stage2_destroy(Stage2PageTable& pgt);
// A table page map has unlinked from the entry at parent_level: what is below it is released
// and the page freed (6.12's free_unlinked_table).
void free_unlinked_table(Stage2PageTable& pgt, Pte* table, unsigned parent_level);

// map.cpp: both install leaves through the same visitor.
// walk_flags: 6.12's walk_flag bits; -EOPNOTSUPP for any in a generation without them.
int stage2_map(Stage2PageTable& pgt, uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot,
               Memcache* memcache, uint8_t walk_flags = 0);
int stage2_set_owner(Stage2PageTable& pgt, uint64_t addr, uint64_t size, Memcache* memcache,
                     uint8_t owner_id);

// unmap.cpp
int stage2_unmap(Stage2PageTable& pgt, uint64_t addr, uint64_t size);

// leaf_attrs.cpp: in-place changes to valid leaves, no break-before-make.
int stage2_wrprotect(Stage2PageTable& pgt, uint64_t addr, uint64_t size);
Pte stage2_mkyoung(Stage2PageTable& pgt, uint64_t addr);
Pte stage2_mkold(Stage2PageTable& pgt, uint64_t addr);
bool stage2_is_young(Stage2PageTable& pgt, uint64_t addr);
// 6.12's range test_clear_young: 1 when a valid leaf of the range was young, else 0;
// -EOPNOTSUPP in a generation without it.
int stage2_test_clear_young(Stage2PageTable& pgt, uint64_t addr, uint64_t size, bool mkold);
int stage2_relax_perms(Stage2PageTable& pgt, uint64_t addr, uint64_t prot);

// split.cpp: 6.12's eager split of the valid blocks in the range, with the pages of `cache`;
// -EOPNOTSUPP in a generation without it.
int stage2_split(Stage2PageTable& pgt, uint64_t addr, uint64_t size, Memcache& cache);

// map.cpp: 6.12's kvm_pgtable_stage2_create_unlinked. A table at `level` mapping
// granule_size(level) from phys, kept in pgt.unlinked; -EINVAL for a phys not aligned to that or
// a prot map refuses, -ENOMEM when the cache runs dry (what was built is freed).
int stage2_create_unlinked(Stage2PageTable& pgt, uint64_t phys, unsigned level, uint64_t prot,
                           Memcache& cache, bool force_pte);
// lifetime.cpp: 6.12's kvm_pgtable_stage2_free_unlinked of pgt.unlinked[index].
void stage2_free_unlinked(Stage2PageTable& pgt, size_t index);

// flush.cpp
int stage2_flush(Stage2PageTable& pgt, uint64_t addr, uint64_t size);

// get_leaf.cpp
struct LeafLookup {
  int ret = 0;  // pte and level mean something only when this is 0
  Pte pte = 0;
  unsigned level = 0;
};
LeafLookup get_leaf(const Stage2PageTable& pgt, uint64_t addr);

}  // namespace mmudiff::walker
