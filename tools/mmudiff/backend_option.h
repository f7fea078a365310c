// SPDX-License-Identifier: GPL-2.0-only
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace mmudiff::cli {

// --backends walker,linux61,legacy (default: every backend in this build).
inline CLI::Option* add_backends_option(CLI::App* cmd, std::vector<std::string>* backends) {
  return cmd
      ->add_option("--backends", *backends,
                   "comma-separated backends to compare (default: all; see 'mmudiff backends')")
      ->delimiter(',');
}

}  // namespace mmudiff::cli
