// SPDX-License-Identifier: GPL-2.0-only
// Rules every table KVM builds must satisfy, checked on each backend's table on its own:
// reserved bits by level, block alignment, device memory never executable, owner annotations
// well-formed, each table page referenced once, and refcount = 1 + non-zero entries.
#pragma once

#include <string>
#include <vector>

#include "mmu/backend.h"
#include "oracles/objection.h"

namespace mmudiff {

// Rules: "reserved-bits", "block-alignment", "device-exec", "owner", "aliasing", "refcount".
std::vector<Objection> check_invariants(const TableRoot& root, const SimMemory& memory);

}  // namespace mmudiff
