// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/kernel_source_info.h"

#include <fmt/format.h>

namespace mmudiff {

bool KernelSourceInfo::matches_tested() const {
  for (const auto& f : files)
    if (!f.matches_tested()) return false;
  return true;
}

std::string KernelSourceInfo::summary() const {
  std::string s = fmt::format("{} {}", package, package_version);
  for (const auto& f : files) {
    if (!f.path.ends_with(".c")) continue;
    auto slash = f.path.rfind('/');
    s += fmt::format(" {}:{}", f.path.substr(slash == std::string_view::npos ? 0 : slash + 1),
                     f.sha256.substr(0, 12));
  }
  if (!matches_tested()) s += fmt::format(" (untested: tested with {})", tested_package_version);
  return s;
}

}  // namespace mmudiff
