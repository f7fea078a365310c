// SPDX-License-Identifier: GPL-2.0-only
// --plant NAME: run with one planted bug switched on in the backend that carries it, to show that
// mmudiff finds that class of bug (mmu/plants.h). The help text lists every name.
#pragma once

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "mmu/plants.h"
#include "oracles/harness.h"

namespace mmudiff::cli {

inline CLI::Option* add_plant_option(CLI::App* cmd, std::string* name) {
  std::string help = "switch on one planted bug in the backend that carries it:";
  for (const PlantInfo& p : planted_bugs())
    help += fmt::format("\n  {} ({} {}: {})", p.name, profile_name(p.profile()), p.backend,
                        p.bug_class);
  return cmd->add_option("--plant", *name, help);
}

// kNone for no name. Throws std::invalid_argument (one line, exit status 2) for a name that is
// not in the catalogue, or when the backends compared leave out the one that carries the plant:
// the run would then show nothing and prove nothing. NAMES are backends as --backends takes them
// (resolved or not): they are resolved among the plant's architecture's backends, since a name
// such as "legacy" means one backend per architecture.
inline Plant resolve_plant(const std::string& name, std::string_view command,
                           const std::vector<std::string>& names) {
  if (name.empty()) return Plant::kNone;
  const PlantInfo* p = find_plant(name);
  if (!p)
    throw std::invalid_argument(fmt::format(
        "unknown plant '{}' (the planted bugs are listed by 'mmudiff {} --help')", name, command));
  std::vector<std::string> backends = resolve_backends(names, p->profile());
  if (std::find(backends.begin(), backends.end(), p->backend) == backends.end())
    throw std::invalid_argument(
        fmt::format("plant '{}' lives in backend {}, which is not among the backends compared",
                    name, p->backend));
  return p->id;
}

// The line a report starts with when a plant is on, so no output is mistaken for a real finding.
inline std::string plant_banner(Plant plant) {
  const PlantInfo* p = plant_info(plant);
  return p ? fmt::format("plant: {} in {}, {} ({})\n", p->name, p->backend,
                         profile_name(p->profile()), p->bug_class)
           : "";
}

}  // namespace mmudiff::cli
