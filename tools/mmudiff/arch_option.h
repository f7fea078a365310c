// SPDX-License-Identifier: GPL-2.0-only
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "mmu/ops/op.h"

namespace mmudiff::cli {

// --arch arm64-s2|x86-ept: the architecture of the streams a command generates (the streams
// it reads name theirs in their init line).
inline CLI::Option* add_arch_option(CLI::App* cmd, Arch* arch) {
  return cmd->add_option_function<std::string>(
      "--arch",
      [arch](const std::string& name) {
        if (!arch_from_name(name, arch))
          throw CLI::ValidationError("--arch", "'" + name + "' is not one of arm64-s2, x86-ept");
      },
      "architecture of the generated streams: arm64-s2 (default) or x86-ept");
}

}  // namespace mmudiff::cli
