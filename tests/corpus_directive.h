// SPDX-License-Identifier: GPL-2.0-only
// What a corpus .mmu file says about itself in "# key: value" lines: its expected verdict, its
// plant, its backends (corpus_test's header lists the keys).
#pragma once

#include <string>

namespace mmudiff::testing {

// The value of the first "# key: value" line of text, or "" when there is none.
inline std::string directive(const std::string& text, const std::string& key) {
  std::string tag = "# " + key + ":";
  size_t p = text.find(tag);
  if (p == std::string::npos) return "";
  size_t start = text.find_first_not_of(' ', p + tag.size());
  size_t end = text.find('\n', start);
  return text.substr(start, end - start);
}

}  // namespace mmudiff::testing
