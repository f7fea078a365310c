// SPDX-License-Identifier: GPL-2.0-only
// Runs one operation stream through several backends in lockstep and asks the oracles whether
// they agree. Deterministic: the same stream, options and hash key give the same report.
//
// Per operation: return codes, memory faults (refcount misuse, writes to freed pages), backend
// warnings (the kernel's WARN_ON), and hardware effects (break-before-make, TLB staleness).
// At the end of the stream (and after every operation when localising): the masked hash tree
// (Deacon's check), the first diverging descriptor, the architectural translation of each table
// compared with the reference, and the table invariants. Then every table is destroyed and
// leaks are checked.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mmu/backend.h"
#include "mmu/ops/op.h"
#include "oracles/table_hash.h"
#include "oracles/verdict.h"

namespace mmudiff {

struct HarnessOptions {
  std::vector<std::string> backends;  // empty: every registered backend
  MemoryLimits limits;
  bool check_every_op = false;  // compare tables after each operation to find the first divergence
  // With check_every_op: hash only the table pages written since the previous check (and their
  // ancestors). The check at the end of the stream always hashes everything, and says so if a
  // page changed without a recorded store (which the cache could not have seen).
  bool hash_cache = true;
  // Judge the effects on the reference lane alone while every other lane's follow it
  // (oracles/effects_mirror.h), and run the stream again, each lane judged on its own, only when
  // one parts from it. false: each lane judged on its own from the start (the tests compare).
  bool mirror_effects = true;
  // false only in benchmarks: they measure how the oracles' cost grows with the table and the
  // stream, past the work budget every command holds streams to (mmu/ops/work_budget.h).
  bool work_budget = true;
  // The descriptor format every backend's table must be in (mmu/format/format.h); the oracles
  // dispatch on it.
  std::string format = std::string(kDefaultFormatName);
  Plant plant = Plant::kNone;
  SipKey hash_key{};  // the masked hash's key; pick one per run and record it
  // Called for each backend with its final table, before the harness destroys it (for dumps).
  std::function<void(std::string_view backend, const Backend&, const Machine&)> inspect_final;
  // Called before backend LANE applies operation OP (oracles/isolated_run.h tracks progress).
  std::function<void(size_t op, size_t lane)> on_apply;
  // Called with each finding once the operation or section that made it has been judged, before
  // the next one runs (oracles/isolated_run.h sends them on at once: a backend that crashes
  // later must not take them with it). Every finding is in the report as well.
  std::function<void(const Finding&)> on_finding;
  // 0: concurrent sections run under their schedules (mmu/sched/deterministic_scheduler.h).
  // Otherwise each lane runs a section's vCPUs as real threads at once (mmu/sched/threaded_run.h):
  // the interleaving is the machine's, so only the end-state oracles judge the stream (docs/
  // concurrency.md, "Real threads"). arm64-6.12 only; the value is informational (the section says
  // how many vCPUs).
  unsigned threads = 0;
};

// How the threaded sections of a stream raced (HarnessOptions::threads), summed over its lanes.
struct ThreadedStats {
  size_t sections = 0;         // sections run on real threads (per lane)
  uint64_t lost_cmpxchgs = 0;  // compare-and-swaps that met another vCPU's value
  size_t eagain = 0;           // section operations that returned -EAGAIN
  // The lanes raced to different outcomes (results or tables): each was held to the model on its
  // own, and the rest of the stream, whose lanes no longer start alike, was not run.
  bool raced_apart = false;
  bool operator==(const ThreadedStats&) const = default;
};

struct StreamReport {
  std::vector<std::string> backends;
  Stream stream;
  std::vector<std::vector<OpResult>> results;  // [backend][op]
  std::vector<bool> skipped;                   // [op]: no table was live, nothing ran
  std::vector<Finding> findings;
  // What every backend, the reference included, did alike although an oracle objects: kernel API
  // behaviour worth knowing (relax_perms making device memory executable), not a divergence.
  std::vector<std::string> notes;
  std::vector<uint64_t> root_hashes;  // [backend], masked hash of the final table
  size_t table_pages = 0;             // pages hashed in the first backend's final table
  size_t mappings = 0;                // translation ranges in the first backend's final table
  // The stream is refused, not judged: it is over the work budget (mmu/ops/work_budget.h, checked
  // before anything runs), or a backend reached the memory bound at operation bound_op.
  bool bound_reached = false;
  size_t bound_op = 0;
  std::string refusal;  // why, in one line
  ThreadedStats threaded;

  bool equivalent() const { return findings.empty() && !bound_reached; }
  const Finding* worst() const;
};

// Throws std::invalid_argument for an unknown backend or format name, and for a backend whose
// table is in another format than options.format.
StreamReport run_stream(const Stream& stream, const HarnessOptions& options);

// Every backend name in options, resolved among the profile's ("all" and empty mean every
// registered backend of it). Names only another profile has are left out, and a list left empty
// by that means every backend of the profile: a corpus may hold streams of several. A name no
// profile has is an error (std::invalid_argument).
std::vector<std::string> resolve_backends(const std::vector<std::string>& names,
                                          ProfileId id = ProfileId::Arm64Linux61);

// The backends that run STREAM: resolve_backends(NAMES, the stream's profile), less, when the
// stream has concurrent sections (mmu/ops/sections.h), those without shared walks
// (BackendInfo::shared_walks), which *LEFT_OUT gets when given.
std::vector<std::string> stream_backends(const Stream& stream,
                                         const std::vector<std::string>& names,
                                         std::vector<std::string>* left_out = nullptr);

// The oracles, in report order, and what "ok" means for each.
struct OracleInfo {
  const char* name;
  const char* ok;
};
const std::vector<OracleInfo>& oracle_list();
// Why ORACLE does not judge streams of the profile (mmu/profile/profile.h says), or empty when
// it does.
std::string_view why_oracle_not_run(std::string_view oracle, ProfileId id);

}  // namespace mmudiff
