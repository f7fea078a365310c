// SPDX-License-Identifier: GPL-2.0-only
// Linux 6.12's unlinked tables (create_unlinked) as the table oracles read them: each one a root
// of its own, a single page whose entries are at level + 1 and translate [0, granule of its
// level). The masked hash, the architectural walk and the invariants then judge it as they judge
// a linked table, and the reference model says what it must translate.
#pragma once

#include <cstdint>
#include <vector>

#include "mmu/backend.h"

namespace mmudiff {

// The root the oracles walk an unlinked table from; `table` is the linked table's, whose format
// and FWB setting it shares.
TableRoot unlinked_root(const UnlinkedTable& unlinked, const TableRoot& table);

// Every table page of the tree under root, each once (what freeing it must free).
std::vector<uint64_t> tree_pages(const TableRoot& root, const SimMemory& memory);

}  // namespace mmudiff
