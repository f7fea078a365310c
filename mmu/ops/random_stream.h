// SPDX-License-Identifier: GPL-2.0-only
// Random operation streams biased toward what breaks page-table code: block and level boundaries,
// the edges of the IPA and PA space, unaligned addresses, overlapping ranges, small memcaches.
// Tests and bulk differential runs use it; the fuzzers' mutator draws on the same values.
#pragma once

#include <cstdint>
#include <random>

#include "mmu/ops/op.h"

namespace mmudiff {

struct RandomStreamOptions {
  size_t min_ops = 1;
  size_t max_ops = 64;
  bool random_config = true;                  // otherwise the default Config
  bool allow_destroy = true;                  // destroy and re-init mid-stream
  Arch arch = Arch::Arm64S2;                  // the architecture the stream is for
  Arm64Kernel kernel = Arm64Kernel::Linux61;  // and on arm64, whose semantics (its profile)
  // 2..kMaxSectionVcpus: an arm64-6.12 stream puts some of its shared walks on that many vCPUs,
  // in concurrent sections (mmu/ops/sections.h) with random schedules. 0 or 1: none.
  unsigned vcpus = 0;

  static RandomStreamOptions of_profile(ProfileId id) {
    RandomStreamOptions o;
    o.arch = profile_arch(id);
    if (id == ProfileId::Arm64Linux612) o.kernel = Arm64Kernel::Linux612;
    return o;
  }
};

// The first operation is always an init; the stream has between max(1, min_ops) and max_ops
// operations, both clamped to kMaxStreamOps, so it always fits the text and binary forms, and it
// is within the work budget (mmu/ops/work_budget.h). Every operation is canonical() and within
// the text form's domain.
Stream random_stream(std::mt19937_64& rng, const RandomStreamOptions& options = {});

// Appends a concurrent section of 2 to kMaxSectionOps shared walks (at most ROOM, at least 2) on
// VCPUS vCPUs (2..kMaxSectionVcpus) of a table of CONFIG (arm64-6.12), most of them near one
// address so that they race for the same entries, under a schedule of a few preemptions after a
// few points each: a shared walk makes a handful of points per level. The mutator inserts them
// too (fuzz/section_mutations.cpp). A table of another profile has no shared walks: nothing is
// appended.
void append_section(std::mt19937_64& rng, const Config& config, unsigned vcpus, size_t room,
                    Stream* stream);

// One operation on a table of the given configuration.
Op random_op(std::mt19937_64& rng, const Config& config, bool allow_destroy);

Config random_config(std::mt19937_64& rng, Arch arch = Arch::Arm64S2);

// Any operation the text and binary forms can carry, every field drawn uniformly over its
// whole domain (addresses and sizes of every bit width, any prot bits of arm64s2::prot::kAll,
// memcache none or 0..kMaxMemcache, any owner byte, any config): for round-trip properties and
// the fuzzers' mutator, not for meaningful tables. The result is canonical().
Op random_wild_op(std::mt19937_64& rng, Arch arch = Arch::Arm64S2);
// The same over the operations of one profile (arm64-6.12's include split); an init it draws is
// in that profile.
Op random_wild_op(std::mt19937_64& rng, ProfileId profile);

}  // namespace mmudiff
