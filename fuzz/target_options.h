// SPDX-License-Identifier: GPL-2.0-only
// What the fuzz targets run each input with, in one place, so that `mmudiff campaign` replays a
// crash file under exactly the options the engine saw: the backends and the plant (from the
// environment: MMUDIFF_BACKENDS=walker,legacy and MMUDIFF_PLANT=NAME), a fixed hash key and the
// fuzzing bounds of mmu/ops/work_budget.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mmu/plants.h"
#include "oracles/harness.h"

namespace mmudiff {

// Throws std::invalid_argument (one line) for an unknown backend or plant, or a plant whose
// backend is not among `backends`.
HarnessOptions fuzz_target_options(const std::vector<std::string>& backends, Plant plant);

// From MMUDIFF_BACKENDS (comma-separated; unset or empty: every backend) and MMUDIFF_PLANT
// (unset or empty: none). Throws std::invalid_argument like fuzz_target_options.
HarnessOptions fuzz_target_options_from_env();

// MMUDIFF_ARCH=arm64-6.1|arm64-6.12|x86-ept (or arm64-s2, arm64-6.1): the one profile the
// target runs streams of (the others it refuses, so the engine keeps none); unset or empty:
// every profile. Throws std::invalid_argument for another name.
std::optional<ProfileId> fuzz_target_profile_from_env();

// "a,b,,c" -> {"a", "b", "c"}
std::vector<std::string> split_backend_list(const std::string& list);

}  // namespace mmudiff
