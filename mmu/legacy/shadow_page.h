// SPDX-License-Identifier: GPL-2.0-only
// The shadow page: the legacy backend's record of one table page, as in x86 KVM's struct
// kvm_mmu_page. The descriptors themselves live in simulated memory; everything the backend
// needs to know about them without reading them is here.
#pragma once

#include <cstdint>

#include "mmu/format/arm64_s2.h"

namespace mmudiff::legacy {

enum class TableFormat : uint8_t { Arm64Stage2Granule4K };

// What kind of table this page is. Two shadow pages with the same base and level but another role
// could not share a table page; here one table exists per configuration, and the role is checked
// rather than used to tell pages apart.
struct ShadowRole {
  TableFormat format = TableFormat::Arm64Stage2Granule4K;
  uint8_t level = 0;
  bool root = false;  // one of the concatenated start-level pages, owned by init/destroy
  bool fwb = false;   // the MemAttr encoding the leaves below use
  // In a tree nothing links (create_unlinked): its IPAs are the tree's own [0, its span), so its
  // leaves are in no reverse map and its pages in the tree's hash, not the table's.
  bool detached = false;

  bool operator==(const ShadowRole&) const = default;
};

// The IPA span one table page translates: 512 entries of its level's granule.
inline constexpr uint64_t table_span(unsigned level) {
  return arm64s2::granule_size(level) * arm64s2::kEntriesPerTable;
}
inline constexpr uint64_t table_base(uint64_t ipa, unsigned level) {
  return ipa & ~(table_span(level) - 1);
}

struct ShadowPage {
  ShadowRole role;
  uint64_t base_ipa = 0;        // first IPA the page translates
  uint64_t* entries = nullptr;  // the table page in simulated memory
  uint64_t table_pa = 0;
  ShadowPage* parent = nullptr;     // whose descriptor points here; nullptr for a root page
  uint16_t parent_index = 0;        // which of the parent's entries that is
  uint16_t present = 0;             // non-zero entries: the page's refcount is 1 + present
  ShadowPage* hash_next = nullptr;  // chain in ShadowHash

  unsigned level() const { return role.level; }
  uint64_t entry_ipa(unsigned index) const {
    return base_ipa + uint64_t{index} * arm64s2::granule_size(role.level);
  }
};

}  // namespace mmudiff::legacy
