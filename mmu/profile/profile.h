// SPDX-License-Identifier: GPL-2.0-only
// An architecture as the generic core sees it: the descriptor format a configuration's tables are
// in, the address spaces a configuration gives, the sizes a leaf can map, and which operand
// values are simpler than others. The mutator, minimiser, harness and reports ask the stream's
// profile for these instead of naming one format's constants, so a new architecture is a new
// profile (with its format, architectural walk, operations and backends), not a new branch in
// each of them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "mmu/format/format.h"
#include "mmu/ops/op.h"

namespace mmudiff {

// An oracle whose rules do not speak of an architecture's streams, and why.
struct OracleLeftOut {
  std::string_view oracle;
  std::string_view why;
};

struct Profile {
  ProfileId id;
  Arch arch;
  std::string_view name;  // profile_name(id): as --arch and MMUDIFF_ARCH spell it
  // Whose behaviour the operations have: the kernel code the backends are compared against.
  std::string_view semantics;
  // Its operations, besides init and destroy, which every profile has (op_arch()).
  std::span<const OpKind> operations;
  // The name proofs and reports give this architecture's formats: one format, or a family.
  std::string_view format_family;
  // The format a table of `config` is in.
  const DescriptorFormat& (*format)(const Config& config);
  // Bits of input (IPA, GPA) and output (PA, HPA) address a table of `config` has.
  unsigned (*input_bits)(const Config& config);
  unsigned (*output_bits)(const Config& config);
  // What one leaf can map, largest first.
  std::span<const uint64_t> leaf_sizes;
  // Values of `op`'s prot operand that are simpler than its own (fewer bits), for the minimiser.
  std::vector<uint64_t> (*simpler_prots)(const Op& op);
  std::span<const OracleLeftOut> oracles_not_run;
};

const Profile& profile(ProfileId id);
// The architecture's first profile (arm64: Linux 6.1): for what all its profiles share, the
// format and geometry.
const Profile& profile(Arch arch);
inline const Profile& profile_of(const Config& config) {
  return profile(profile_id(config));
}

}  // namespace mmudiff
