// SPDX-License-Identifier: GPL-2.0-only
// Where an installed mmudiff finds what `cmake --install` put beside it. The layout is relative
// (GNUInstallDirs): bin/mmudiff, libexec/mmudiff/{libfuzzer,afl}/ (a fuzz build's fuzz/ folder:
// targets, seeds/, regressions/, mmudiff.dict), share/mmudiff/{corpus,schema}/; so an installed
// tree works from any prefix and any working directory. A binary run from its build tree has no
// such neighbours, and its callers fall back to the build tree's paths.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace mmudiff::cli {

// The directory holding the running executable (/proc/self/exe, symlinks resolved), if known.
std::optional<std::filesystem::path> executable_dir();

// libexec/mmudiff/ENGINE ("libfuzzer", "afl") beside this executable, if that directory exists.
std::optional<std::filesystem::path> installed_fuzz_dir(std::string_view engine);

}  // namespace mmudiff::cli
