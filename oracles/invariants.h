// SPDX-License-Identifier: GPL-2.0-only
// Rules every table KVM builds must satisfy, checked on each backend's table on its own:
// reserved bits by level, block alignment, device memory never executable, owner annotations
// well-formed, each table page referenced once, and refcount = 1 + non-zero entries.
#pragma once

#include <string>
#include <vector>

#include "mmu/backend.h"
#include "oracles/ipa_windows.h"
#include "oracles/objection.h"

namespace mmudiff {

// Rules: "reserved-bits", "block-alignment", "device-exec", "owner", "aliasing", "refcount".
// With only_page_rules, just the two that are not about what the entries say (a table whose
// masked hash equals one already checked says the same): "aliasing" and "refcount".
// Within windows, only the entries that reach into them, and the pages on the way to them, are
// checked: a page's refcount still counts all its entries.
std::vector<Objection> check_invariants(const TableRoot& root, const SimMemory& memory,
                                        bool only_page_rules = false,
                                        const IpaWindows* within = nullptr);

}  // namespace mmudiff
