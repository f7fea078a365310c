// SPDX-License-Identifier: GPL-2.0-only
#include "fuzz/target_options.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/ops/work_budget.h"

namespace mmudiff {

std::vector<std::string> split_backend_list(const std::string& list) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos <= list.size();) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    if (comma > pos) out.push_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

HarnessOptions fuzz_target_options(const std::vector<std::string>& backends, Plant plant) {
  HarnessOptions o;
  // The names as given: each stream resolves them among its own profile's backends
  // (resolve_backends), so an x86 stream in an arm64 list's campaign still runs every x86
  // backend. Resolving once per profile refuses a name no backend has.
  o.backends = backends;
  for (unsigned i = 0; i < kProfileCount; ++i)
    resolve_backends(backends, static_cast<ProfileId>(i));
  if (const PlantInfo* p = plant_info(plant)) {
    auto carriers = resolve_backends(backends, p->profile());
    if (std::find(carriers.begin(), carriers.end(), p->backend) == carriers.end())
      throw std::invalid_argument(
          fmt::format("plant '{}' lives in backend {}, which is not among the backends fuzzed",
                      p->name, p->backend));
  }
  o.plant = plant;
  o.limits.max_pages = kFuzzMaxTablePages;
  // A fixed key: a crash file must replay to the same verdict with 'mmudiff run' and 'repro'.
  for (size_t i = 0; i < o.hash_key.size(); ++i) o.hash_key[i] = static_cast<uint8_t>(i);
  return o;
}

std::optional<ProfileId> fuzz_target_profile_from_env() {
  const char* a = std::getenv("MMUDIFF_ARCH");
  if (!a || !*a) return std::nullopt;
  ProfileId id;
  if (!profile_from_name(a, &id))
    throw std::invalid_argument(fmt::format(
        "MMUDIFF_ARCH: '{}' is not one of arm64-6.1 (or arm64-s2), arm64-6.12, x86-ept", a));
  return id;
}

HarnessOptions fuzz_target_options_from_env() {
  const char* b = std::getenv("MMUDIFF_BACKENDS");
  const char* p = std::getenv("MMUDIFF_PLANT");
  Plant plant = Plant::kNone;
  if (p && *p) {
    const PlantInfo* info = find_plant(p);
    if (!info) throw std::invalid_argument(fmt::format("MMUDIFF_PLANT: unknown plant '{}'", p));
    plant = info->id;
  }
  return fuzz_target_options(b ? split_backend_list(b) : std::vector<std::string>{}, plant);
}

}  // namespace mmudiff
