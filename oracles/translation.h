// SPDX-License-Identifier: GPL-2.0-only
// What a stage-2 table means, independent of its shape: IPA ranges -> (PA, attributes), and the
// owner annotations of invalid entries. The architectural walker produces it from a table; the
// reference model produces it from the operations alone; the translation oracle compares them.
#pragma once

#include <cstdint>
#include <vector>

namespace mmudiff {

// Attribute bits of a leaf that translation depends on: MemAttr, S2AP, SH, AF, XN, software bits.
// Everything else in a leaf (valid, type, OA) is either the shape or the address.
inline constexpr uint64_t kTranslationAttrMask = (uint64_t{0xf} << 2) | (uint64_t{3} << 6) |
                                                 (uint64_t{3} << 8) | (uint64_t{1} << 10) |
                                                 (uint64_t{3} << 53) | (uint64_t{0xf} << 55);

struct Mapping {
  uint64_t ipa;
  uint64_t size;
  uint64_t pa;
  uint64_t attrs;  // leaf bits under kTranslationAttrMask
  bool operator==(const Mapping&) const = default;
};

struct OwnerAnnotation {
  uint64_t ipa;  // one 4 KiB page (or larger, if an annotation was written at a higher level)
  uint64_t size;
  uint64_t descriptor;  // the invalid descriptor's raw value
  bool operator==(const OwnerAnnotation&) const = default;
};

// Sorted by IPA, non-overlapping, and normalised: adjacent ranges whose PA continues linearly with
// equal attributes are merged, so a 2 MiB block and 512 equivalent pages compare equal.
struct Translation {
  std::vector<Mapping> mappings;
  std::vector<OwnerAnnotation> annotations;
  bool operator==(const Translation&) const = default;
};

// Merges adjacent equivalent ranges in place (input sorted by IPA).
void normalise(Translation* t);

}  // namespace mmudiff
