// SPDX-License-Identifier: GPL-2.0-only
// The shadow page: the legacy x86 backend's record of one table page, as x86 KVM's struct
// kvm_mmu_page. The SPTEs live in simulated memory; everything the backend needs to know about a
// table without reading it (its level and role, the gfn it starts at, the parent SPTE that points
// at it, whether the NX huge page mitigation put it there) is here.
#pragma once

#include <cstdint>

#include "mmu/format/x86_ept.h"

namespace mmudiff::legacy_x86 {

inline constexpr uint8_t kAccExec = 1;  // ACC_EXEC_MASK
inline constexpr uint8_t kAccWrite = 2;
inline constexpr uint8_t kAccUser = 4;
inline constexpr uint8_t kAccAll = kAccExec | kAccWrite | kAccUser;

// union kvm_mmu_page_role, the parts a direct (TDP) MMU on EPT uses. Every page of one VM shares
// the root's role but for the level, so (gfn, role) names a table.
struct ShadowRole {
  uint8_t level = 0;
  bool direct = true;
  bool ad_disabled = false;
  uint8_t access = kAccAll;
  bool invalid = false;

  bool operator==(const ShadowRole&) const = default;
};

inline constexpr uint64_t pages_at(unsigned level) {
  return uint64_t{1} << ((level - 1) * x86ept::kLevelBits);
}
// The gfns one table page of LEVEL translates.
inline constexpr uint64_t table_gfn_span(unsigned level) {
  return pages_at(level) * x86ept::kEntriesPerTable;
}
inline constexpr uint64_t round_gfn(uint64_t gfn, unsigned level) {
  return gfn & ~(pages_at(level) - 1);
}
inline constexpr unsigned spte_index(uint64_t gfn, unsigned level) {
  return static_cast<unsigned>((gfn >> ((level - 1) * x86ept::kLevelBits)) &
                               (x86ept::kEntriesPerTable - 1));
}

struct KvmMmuPage {
  ShadowRole role;
  uint64_t gfn = 0;         // first gfn the page translates
  uint64_t* spt = nullptr;  // the table page in simulated memory
  uint64_t spt_pa = 0;
  KvmMmuPage* parent = nullptr;  // whose SPTE points here (sp->ptep); nullptr for the root
  uint16_t parent_index = 0;
  KvmMmuPage* hash_next = nullptr;  // chain in PageHash
  // Linked by a fault that was not allowed an executable huge page: a later fault may not
  // replace it with a huge page (disallowed_hugepage_adjust).
  bool nx_huge_page_disallowed = false;
  // Taken out of the table and every lookup; freed when the zap list is committed.
  bool unlinked = false;
  // Written since the last incremental self-check.
  bool touched = false;

  unsigned level() const { return role.level; }
  uint64_t entry_gfn(unsigned index) const { return gfn + uint64_t{index} * pages_at(level()); }
};

}  // namespace mmudiff::legacy_x86
