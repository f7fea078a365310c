// SPDX-License-Identifier: GPL-2.0-only
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "mmu/ops/op.h"

namespace mmudiff::cli {

inline constexpr const char* kProfileNames = "arm64-6.1 (or arm64-s2), arm64-6.12, x86-ept";

// --profile (or --arch) NAME: the semantics profile of the streams a command generates (the
// streams it reads name theirs in their init line).
inline CLI::Option* add_profile_option(CLI::App* cmd, ProfileId* id) {
  return cmd->add_option_function<std::string>(
      "--profile,--arch",
      [id](const std::string& name) {
        if (!profile_from_name(name, id))
          throw CLI::ValidationError("--profile", "'" + name + "' is not one of " + kProfileNames);
      },
      "profile of the generated streams: arm64-6.1 (default; also arm64-s2), arm64-6.12 or "
      "x86-ept");
}

}  // namespace mmudiff::cli
