// SPDX-License-Identifier: GPL-2.0-only
// The consistency self-check: shadow pages, table pages, the hash, the parent links and the rmaps
// must all tell the same story, and no present SPTE may set a bit the kernel's shadow_zero_check
// reserves. take_warnings() runs it, so every harness run checks it.
#include <fmt/format.h>

#include "mmu/legacy_x86/shadow_mmu.h"

namespace mmudiff::legacy_x86 {

namespace ept = x86ept;

namespace {

std::string where(const KvmMmuPage& sp) {
  return fmt::format("L{} table {:#x} (gfn {:#x})", sp.level(), sp.spt_pa, sp.gfn);
}

}  // namespace

void ShadowMmu::check_page(const KvmMmuPage& sp, std::vector<std::string>& problems, size_t* tables,
                           size_t* leaves) const {
  auto problem = [&](std::string text) { problems.push_back(where(sp) + ": " + std::move(text)); };
  const unsigned level = sp.level();
  const SimMemory& memory = machine_.memory;

  if (!memory.is_live(sp.spt_pa) || memory.phys_to_virt(sp.spt_pa) != sp.spt)
    problem("table page is not live, or not where the shadow page says");
  if (sp.unlinked) problem("an unlinked page is still in the hash");
  if (level < 1 || level > root_level()) problem("level outside the table's levels");
  if (!(sp.role == role_at(level))) problem("role does not match the VM's");
  if (sp.gfn % table_gfn_span(level) != 0 || sp.gfn >= table_gfn_limit())
    problem("gfn misaligned or beyond the table");
  if (&sp == root_) {
    if (sp.parent || level != root_level() || sp.gfn != 0) problem("the root is out of place");
  } else if (const KvmMmuPage* parent = sp.parent) {
    if (hash_.find(parent->gfn, parent->role) != parent) problem("parent is not in the hash");
    if (parent->level() != level + 1 || parent->entry_gfn(sp.parent_index) != sp.gfn)
      problem("parent link points at the wrong SPTE");
    if (parent->spt[sp.parent_index] != make_nonleaf_spte(kSpteIntegers, spte_config_, sp.spt_pa))
      problem("parent SPTE does not point at this page");
  } else {
    problem("a table with no parent");
  }

  // SPTEs whose value is wrong (rather than the structures around them): one problem per table
  // and kind, with the first of them, since one bad huge page splits into 512 bad pieces.
  struct BadValues {
    const char* what;
    unsigned count = 0;
    unsigned first = 0;
    uint64_t value = 0;
    void add(unsigned i, uint64_t spte) {
      if (!count++) first = i, value = spte;
    }
  };
  BadValues stray{"neither non-present nor MMIO"}, reserved{"set a reserved bit or combination"},
      unwritable{"break the writable invariants"};

  for (unsigned i = 0; i < ept::kEntriesPerTable; ++i) {
    const uint64_t spte = sp.spt[i];
    const uint64_t gfn = sp.entry_gfn(i);
    if (!is_present(spte)) {
      if (spte != ept::kNonPresent && !(level == ept::kPageLevel && is_mmio(spte)))
        stray.add(i, spte);
      continue;
    }
    if (is_reserved_spte(config_.maxphyaddr, config_.max_level, spte, level)) reserved.add(i, spte);
    if (!is_leaf(spte, level)) {
      ++*tables;
      const KvmMmuPage* child = hash_.find(gfn, role_at(level - 1));
      if (!child || child->parent != &sp || child->parent_index != i ||
          child->spt_pa != (spte & ept::kAddrMask))
        problem(fmt::format("SPTE {} is a table without a matching shadow page", i));
      continue;
    }
    ++*leaves;
    // check_spte_writable_invariants: writable needs MMU-writable, which needs host-writable.
    if ((spte & ept::kMmuWritable) ? !(spte & ept::kHostWritable) : is_writable(spte))
      unwritable.add(i, spte);
    if (level > config_.max_level) problem(fmt::format("leaf {} above the huge-page level", i));
    const SpteRef* ref = rmap_.find(gfn);
    if (!ref || ref->sp != &sp || ref->index != i)
      problem(fmt::format("leaf {} is missing from the rmaps", i));
  }
  for (const BadValues* bad : {&stray, &reserved, &unwritable})
    if (bad->count)
      problem(fmt::format("SPTEs {} (value of SPTE {}: {:#018x}; {} in all)", bad->what, bad->first,
                          bad->value, bad->count));
}

std::vector<std::string> ShadowMmu::self_check() const {
  std::vector<std::string> problems;
  if (!live()) {
    if (hash_.size() || rmap_.size()) problems.push_back("no root, but shadow pages or rmaps left");
    return problems;
  }
  if (hash_.find(0, role_at(root_level())) != root_) problems.push_back("the root is not hashed");
  size_t tables = 0, leaves = 0;
  hash_.for_each([&](const KvmMmuPage& sp) { check_page(sp, problems, &tables, &leaves); });
  // Every shadow page but the root is pointed at by exactly one table SPTE.
  if (hash_.size() != 1 + tables)
    problems.push_back(
        fmt::format("{} shadow pages, but 1 root and {} table SPTEs", hash_.size(), tables));
  if (rmap_.size() != leaves)
    problems.push_back(fmt::format("{} rmaps for {} present leaves", rmap_.size(), leaves));
  rmap_.for_each([&](uint64_t gfn, const SpteRef& ref) {
    if (ref.sp->unlinked || hash_.find(ref.sp->gfn, ref.sp->role) != ref.sp || ref.gfn() != gfn ||
        !is_present_leaf(ref.spte(), ref.level()))
      problems.push_back(fmt::format("rmap for gfn {:#x} points at no present leaf", gfn));
  });
  if (table_sptes_ != static_cast<int64_t>(tables) || leaf_sptes_ != static_cast<int64_t>(leaves))
    problems.push_back(fmt::format("running counts {} tables, {} leaves; the tables hold {}, {}",
                                   table_sptes_, leaf_sptes_, tables, leaves));
  return problems;
}

void ShadowMmu::check_rmaps_into(const KvmMmuPage& sp, std::vector<std::string>& problems) const {
  rmap_.for_each_keyed(
      sp.gfn, sp.gfn + table_gfn_span(sp.level()), [&](uint64_t gfn, const SpteRef& ref) {
        if (ref.sp == &sp && !is_present_leaf(ref.spte(), ref.level()))
          problems.push_back(fmt::format("rmap for gfn {:#x} points at no present leaf", gfn));
      });
}

std::map<uint64_t, std::vector<std::string>> ShadowMmu::check_touched() {
  std::map<uint64_t, std::vector<std::string>> by_page;
  std::vector<std::string>& problems = by_page[0];
  if (!live()) {
    if (hash_.size() || rmap_.size()) problems.push_back("no root, but shadow pages or rmaps left");
    return by_page;
  }
  size_t tables = 0, leaves = 0;
  for (KvmMmuPage* sp : touched_) {
    sp->touched = false;
    if (sp->unlinked) continue;
    std::vector<std::string>& of_page = by_page[sp->spt_pa];
    check_page(*sp, of_page, &tables, &leaves);
    check_rmaps_into(*sp, of_page);
  }
  touched_.clear();
  // Every shadow page but the root is pointed at by exactly one table SPTE; every present leaf
  // has its rmap.
  if (static_cast<int64_t>(hash_.size()) != 1 + table_sptes_)
    problems.push_back(
        fmt::format("{} shadow pages, but 1 root and {} table SPTEs", hash_.size(), table_sptes_));
  if (static_cast<int64_t>(rmap_.size()) != leaf_sptes_)
    problems.push_back(fmt::format("{} rmaps for {} present leaves", rmap_.size(), leaf_sptes_));
  return by_page;
}

}  // namespace mmudiff::legacy_x86
