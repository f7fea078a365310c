// SPDX-License-Identifier: GPL-2.0-only
// Checks a backend's hardware effects, operation by operation, against the architecture's rules
// for changing live translation tables:
//  - break-before-make: a valid entry may not become another valid entry with a different output
//    address, memory type, shareability or shape; it must go through invalid, and a TLBI covering
//    it must come before the new entry is written;
//  - TLB staleness: when a translation loses permission, moves or disappears, a TLBI covering it
//    (by IPA with a matching or absent level hint, or the whole VMID) must follow within the same
//    operation; a valid table replaced while leaves below it were valid needs the whole VMID.
// Documented exceptions, as the kernel's callers flush instead: clearing the access flag (mkold:
// "over in the core code", clear_flush_young) and wrprotect (kvm_mmu_wp_memory_region flushes the
// VMID afterwards).
//
// It follows the tables through the recorded descriptor stores alone (a shadow of every table
// page), so a write that bypasses the record is itself reported.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "mmu/backend.h"

namespace mmudiff {

struct EffectViolation {
  std::string rule;  // "break-before-make", "tlb-staleness", "unrecorded-store"
  std::string what;
};

class EffectsChecker {
 public:
  // A new table: its start-level pages are where the walk begins.
  void reset(const TableRoot& root);
  void clear() { pages_.clear(); }

  std::vector<EffectViolation> check(std::span<const Effect> events, OpKind op);

 private:
  struct Page {
    bool linked = false;  // reachable from the root as far as the stores tell
    unsigned level = 0;
    uint64_t base = 0;
    std::array<uint64_t, 512> entries{};
  };
  struct Obligation {
    uint64_t ipa, size;
    unsigned level;
    bool needs_vmid;
    std::string what;
  };

  Page& page_for_store(uint64_t page_pa);
  bool subtree_has_valid_leaf(uint64_t page_pa, unsigned depth) const;
  void detach(uint64_t page_pa, unsigned depth);

  std::unordered_map<uint64_t, Page> pages_;
  const DescriptorFormat* format_ = &default_format();
};

}  // namespace mmudiff
