// SPDX-License-Identifier: GPL-2.0-only
#include <fmt/format.h>

#include "mmu/backend.h"
#include "mmu/profile/profile.h"
#include "tools/mmudiff/commands.h"
#ifdef MMUDIFF_HAVE_LINUX61
#include "mmu/linux61/linux61_backend.h"
#endif
#ifdef MMUDIFF_HAVE_LINUX612_TDP
#include "mmu/linux612_tdp/linux612_source_info.h"
#endif
#ifdef MMUDIFF_HAVE_LINUX612
#include "mmu/linux612/linux612_backend.h"
#endif

namespace mmudiff::cli {

void add_backends_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("backends", "List the backends compiled into this build");
  cmd->callback([exit_code] {
    for (const auto& b : registered_backends())
      fmt::print("{:<13} {:<9} {}\n", b.name, arch_name(b.arch), b.description);
    for (const auto& b : unprofiled_backends())
      fmt::print("{:<13} {:<9} {}\n", b.name, arch_name(b.arch), b.description);
    // What each architecture's streams mean, and whose code is the reference.
    for (unsigned a = 0; a < kArchCount; ++a) {
      const Profile& p = profile(static_cast<Arch>(a));
      fmt::print("{:<13} semantics: {}; {} operations\n", p.name, p.semantics, p.operations.size());
    }
#ifdef MMUDIFF_HAVE_LINUX61
    fmt::print("{}\n", linux61_source_info().summary());
#endif
#ifdef MMUDIFF_HAVE_LINUX612_TDP
    fmt::print("{}\n", linux612_source_info().summary());
#endif
#ifdef MMUDIFF_HAVE_LINUX612
    fmt::print("{}\n", linux612_arm64_source_info().summary());
#endif
    *exit_code = kExitAgree;
  });
}

}  // namespace mmudiff::cli
