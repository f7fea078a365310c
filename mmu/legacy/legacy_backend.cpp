// SPDX-License-Identifier: GPL-2.0-only
// Table lifetime, range checks and lookups; the operations that change tables have their own files.
#include "mmu/legacy/legacy_backend.h"

#include <cerrno>
#include <utility>

#include "mmu/legacy/descriptors.h"

namespace mmudiff {

std::unique_ptr<Arm64S2Backend> make_legacy_backend(Machine& machine, Plant plant) {
  return std::make_unique<legacy::LegacyBackend>(machine, plant);
}

namespace legacy {

int LegacyBackend::init(const Arm64S2Config& config) {
  if (mmu_.live()) destroy();
  mmu_.set_generation(config.kernel);
  return mmu_.create_roots(config);
}

void LegacyBackend::destroy() {
  // The caller's unlinked tables go first, as KVM frees what it built before the table goes.
  while (!unlinked_.empty()) free_unlinked(0);
  mmu_.release_all();
}

std::vector<std::string> LegacyBackend::take_warnings() {
  return std::exchange(warnings_, {});
}

int LegacyBackend::walk_range(uint64_t addr, uint64_t size, IpaRange* range) const {
  *range = page_range(addr, size);
  uint64_t limit = mmu_.ia_limit();
  if (range->start > limit || range->end > limit) return -ERANGE;
  if (!mmu_.live()) return -EINVAL;
  return 0;
}

// Whatever is not a table at the deepest level that has one, valid or not: an empty entry at
// level 1 is reported as (0, 1), as the kernel's leaf walker reports it.
int LegacyBackend::get_leaf(uint64_t addr, uint64_t* pte, uint32_t* level) {
  IpaRange range;
  if (int ret = walk_range(align_down(addr, kPageSize), kPageSize, &range)) return ret;
  ShadowPage& table = mmu_.deepest_table(range.start);
  if (pte) *pte = table.entries[table_index(range.start, table.level())];
  if (level) *level = table.level();
  return 0;
}

}  // namespace legacy
}  // namespace mmudiff
