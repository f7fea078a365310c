// SPDX-License-Identifier: GPL-2.0-only
// The entry that decides how a table translates one IPA: the walk from the root follows table
// descriptors down to the first entry that is not one -- the leaf, or the invalid or reserved
// entry it stops at. Evidence for a finding about one IPA (the reference model and a table
// disagreeing there), shown side by side for every backend.
#pragma once

#include <optional>

#include "mmu/backend.h"
#include "mmu/memory/sim_memory.h"
#include "oracles/table_hash.h"

namespace mmudiff {

// As a DivergingEntry with the same descriptor on both sides: the IPA the entry starts at, its
// level and its raw value. nullopt when the table is dead or the IPA is past its input range.
std::optional<DivergingEntry> deciding_entry(const TableRoot& root, const SimMemory& memory,
                                             uint64_t ipa);

}  // namespace mmudiff
