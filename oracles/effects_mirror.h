// SPDX-License-Identifier: GPL-2.0-only
// Holds one backend's hardware effects to the reference's, operation by operation, without judging
// them again: event by event, the same kind and fields, a store into the same entry of the
// corresponding table page, the same values (table descriptors: the same bits outside the
// address, pointing at corresponding pages). Pages correspond as the two histories of stores make
// them: the root pages in order, then each page the first store or table descriptor of both
// backends names, until the reference's EffectsChecker takes it out of reach.
//
// A backend it follows throughout has, store for store, the reference's effects on tables that
// differ only in where their pages are. EffectsChecker would trace it alike and object to it as it
// objects to the reference: the harness judges the reference alone, and with it every backend its
// mirror follows. It costs a hash lookup per store, where a checker of its own shadows every table
// page. At the first event that differs it says so, and only a full check of that backend
// (EffectsChecker) can tell what differs and whether it matters.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>

#include "mmu/backend.h"
#include "oracles/effects_check.h"

namespace mmudiff {

class EffectsMirror {
 public:
  // New tables: the reference's and this backend's. false when their roots differ in shape.
  bool reset(const TableRoot& ref, const TableRoot& mine);
  void clear();

  // Are MINE the effects REF had, which REF_CHECKER has just checked? false at the first
  // difference; the correspondence is then no longer kept, and only reset() starts it again.
  // The pages each freed must correspond too, freed at the same points among the events (a
  // freed page then corresponds to nothing).
  bool follow(std::span<const Effect> ref, const EffectsChecker& ref_checker,
              std::span<const Effect> mine, std::span<const PageFree> ref_frees = {},
              std::span<const PageFree> my_frees = {});

 private:
  // Do these pages correspond? Two that neither does yet are made to.
  bool correspond(uint64_t ref_page, uint64_t my_page);
  bool same_value(uint64_t ref, uint64_t mine, bool table, unsigned level);
  void forget(uint64_t ref_page);

  const DescriptorFormat* format_ = &default_format();
  std::unordered_map<uint64_t, uint64_t> mine_of_;  // reference page -> this backend's
  std::unordered_map<uint64_t, uint64_t> ref_of_;   // and back
  // The pair a store last found corresponding: no page address is odd.
  static constexpr std::pair<uint64_t, uint64_t> kNoPair{1, 1};
  std::pair<uint64_t, uint64_t> last_ = kNoPair;
};

}  // namespace mmudiff
