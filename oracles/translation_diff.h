// SPDX-License-Identifier: GPL-2.0-only
// Compares what a backend's table translates to against what the reference says it must, and
// says how bad the first difference is: more than allowed (security) or less (functional).
#pragma once

#include <optional>
#include <string>

#include "oracles/translation.h"
#include "oracles/verdict.h"

namespace mmudiff {

struct TranslationDifference {
  Severity severity;
  uint64_t ipa;
  std::string what;  // one line: "IPA 0x...: maps PA 0x... where the reference maps nothing"
};

std::optional<TranslationDifference> compare_translations(const Translation& actual,
                                                          const Translation& expected);

std::string describe_mapping_attrs(uint64_t attrs);

}  // namespace mmudiff
