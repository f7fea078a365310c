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
    // Each backend with the profiles it implements.
    for (const auto& b : registered_backends()) {
      std::string profiles;
      for (unsigned i = 0; i < kProfileCount; ++i)
        if (b.implements(static_cast<ProfileId>(i)))
          profiles += (profiles.empty() ? "" : ",") + std::string(profile_name(ProfileId(i)));
      fmt::print("{:<13} {:<9} {:<20} {}{}\n", b.name, arch_name(b.arch), profiles, b.description,
                 b.reference ? " (reference)" : "");
    }
    // What each profile's streams mean, and whose code is the reference.
    for (unsigned i = 0; i < kProfileCount; ++i) {
      const Profile& p = profile(static_cast<ProfileId>(i));
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
