// SPDX-License-Identifier: GPL-2.0-only
// Compares what a backend's table translates to against what the reference says it must, and
// says how bad the first difference is: more than allowed (security) or less (functional).
#pragma once

#include <optional>
#include <string>

#include "mmu/format/format.h"
#include "oracles/translation.h"
#include "oracles/verdict.h"

namespace mmudiff {

struct TranslationDifference {
  Severity severity;
  uint64_t ipa;
  std::string what;  // one line: "IPA 0x...: maps PA 0x... where the reference maps nothing"
};

// format reads the attribute bits of both translations (Mapping::attrs).
std::optional<TranslationDifference> compare_translations(
    const Translation& actual, const Translation& expected,
    const DescriptorFormat& format = default_format());

// "rw- MemAttr=0xf SH=3 AF=1 SW=0x0": the access a mapping grants, then its attribute bits.
std::string describe_mapping_attrs(uint64_t attrs,
                                   const DescriptorFormat& format = default_format());

}  // namespace mmudiff
