// SPDX-License-Identifier: GPL-2.0-only
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

namespace mmudiff::cli {

// --backends walker,linux61,legacy (default: every backend in this build). A name given twice is
// refused while the command line is parsed (exit status 2): a backend compared with itself agrees
// by construction, and the run would claim more evidence than it has.
inline CLI::Option* add_backends_option(CLI::App* cmd, std::vector<std::string>* backends) {
  return cmd
      ->add_option_function<std::vector<std::string>>(
          "--backends",
          [backends](const std::vector<std::string>& names) {
            for (auto it = names.begin(); it != names.end(); ++it)
              if (std::find(names.begin(), it, *it) != it)
                throw CLI::ValidationError("--backends",
                                           fmt::format("backend '{}' is named twice", *it));
            *backends = names;
          },
          "comma-separated backends to compare (default: all; see 'mmudiff backends')")
      ->delimiter(',');
}

}  // namespace mmudiff::cli
