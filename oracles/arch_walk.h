// SPDX-License-Identifier: GPL-2.0-only
// An architectural stage-2 translation-table walk, written from the Arm ARM (VMSAv8-64, 4 KiB
// granule): what the hardware would translate every IPA to, given VTTBR (the start-level pages),
// VTCR (start level, concatenation, IPA size) and the descriptors in memory. It knows nothing of
// KVM: it does not know which encodings KVM writes, only what the architecture makes of them.
#pragma once

#include <string>
#include <vector>

#include "mmu/backend.h"
#include "oracles/ipa_windows.h"
#include "oracles/translation.h"

namespace mmudiff {

struct ArchWalk {
  Translation translation;
  // Descriptors the architecture treats as a fault or as CONSTRAINED UNPREDICTABLE although KVM
  // would call them valid, or table pointers to no table: each one a line of evidence.
  std::vector<std::string> anomalies;
};

// Walks with the architectural walker of root's format; throws std::logic_error for a format
// that has none (has_arch_walker). Within windows, only the entries that reach into them are
// read, and the translation is clipped to them (IpaWindows::clipped).
ArchWalk arch_walk(const TableRoot& root, const SimMemory& memory,
                   const IpaWindows* within = nullptr);
bool has_arch_walker(const DescriptorFormat& format);

}  // namespace mmudiff
