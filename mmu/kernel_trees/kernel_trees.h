// SPDX-License-Identifier: GPL-2.0-only
// The developer's own kernel trees (-DMMUDIFF_KERNEL_TREES=NAME=PATH;...): each one's pgtable.c,
// compiled with the shim of its API generation, as a backend of that generation's profile. Never
// a reference: the release the tree is based on is (mmu/kernel_trees/README.md).
#pragma once

#include <vector>

#include "mmu/backend.h"

namespace mmudiff {

// In the order the option names them; registered_backends() lists them after the built-in ones.
const std::vector<BackendInfo>& kernel_tree_backends();

}  // namespace mmudiff
