// SPDX-License-Identifier: GPL-2.0-only
// The work budget every stream mmudiff runs is held to -- from a file (`run`, `repro`,
// `minimize`, `dump`), a corpus (`report`, a campaign's replays), a generator (`soak`) or a
// fuzzer -- checked before anything runs, in one place (run_stream refuses a stream over it).
//
// A stream's cost is dominated by leaves: a 1 GiB map with force_pte is 262144 page descriptors
// in every backend, in the reference model and in every oracle's walk, where the same map
// without it is one block; on x86, an eager split of a 1 GiB leaf down to 4 KiB is as many. Every
// other operation only visits what maps installed, and a stream has at most kMaxStreamOps
// operations, so bounding the leaves installed bounds the work: at most kMaxStreamOps x kLeafBudget
// leaf visits per backend (a few seconds, measured in docs/oracles.md), and with it the memory the
// oracles keep. Bugs show on a handful of leaves around a boundary, not on a million of them. The
// mutator keeps its streams under the budget.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "mmu/ops/op.h"
#include "mmu/ops/x86_leaf_estimate.h"

namespace mmudiff {

// Leaves a stream may install in total: two full level-3 tables' worth plus room.
inline constexpr uint64_t kLeafBudget = 1536;
// The table-page bound the fuzz targets give each backend (HarnessOptions::limits.max_pages).
// Within the leaf budget a stream needs a few hundred at most (16 concatenated start pages,
// two tables for each of at most kMaxFuzzOps far-apart maps); a stream that needs more is refused
// by the harness, not reported.
inline constexpr size_t kFuzzMaxTablePages = 512;

// Upper estimate of the leaves a stream installs, operation by operation, tracking init's
// configuration. arm64: map and set_owner, following Linux 6.1's block choice (largest granule at
// level >= 1 that fits the remaining range with IPA and PA aligned; pages only under force_pte and
// for set_owner); Linux 6.12's split installs at most 512 leaves per page it takes from its cache,
// and takes a page only for a block it meets, so it costs 512 x min(its cache, the pages the
// blocks that maps and earlier splits may have left in its range could take: 513 for a 1 GiB
// block, 1 for a 2 MiB one); its create_unlinked 512 per page it can take (its cache, at most
// the one page of a table of blocks or pages, or with force_pte every table down to pages: 513
// for level 1); its test_clear_young installs nothing (it visits leaves others paid for, and a
// map's walk flags or NORMAL_NC change no leaf count). x86: a fault installs one leaf; a split
// turns each huge leaf that faults and earlier splits can have left in its range into 512 per
// level it goes down.
class LeafCounter {
 public:
  // The leaves `op` installs, at most `cap`; what it leaves behind is remembered for the next.
  uint64_t add(const Op& op, uint64_t cap);

 private:
  uint64_t arm64_split_cost(const Op& op, uint64_t cap);

  Config config_;
  // An init of the stream said the CPU has FEAT_TLBIRANGE: unmap may then flush its range in
  // chunks of kMaxTlbiRangePages pages, each a recorded effect (a failed init keeps the last
  // table's CPU, so this stays once set).
  bool range_tlbis_ = false;
  X86LeafEstimate x86_;
  // arm64: the IPAs where a map may have left a 1 GiB block (level 1) or a 2 MiB block (level 2),
  // and the 1 GiB ranges a split may have left full of 2 MiB blocks. Never forgotten (an upper
  // estimate); init starts over.
  std::set<uint64_t> block1_, block2_, blocks2_in_1g_;
};

// The sum over the stream; stops counting at `cap`.
uint64_t stream_leaf_cost(const Stream& stream, uint64_t cap = kLeafBudget + 1);

inline bool within_work_budget(const Stream& stream) {
  return stream.size() <= kMaxStreamOps && stream_leaf_cost(stream) <= kLeafBudget;
}

struct BudgetExcess {
  size_t op;        // the operation that takes the stream over the budget
  std::string why;  // one line, naming it
};
// Nothing within the budget.
std::optional<BudgetExcess> work_budget_excess(const Stream& stream);

// Shrinks the costliest operations until the stream fits the budget: the sizes of map and
// set_owner; an x86 split's depth (to 2 MiB instead of 4 KiB), then its range; an arm64 split's
// cache. False if it could not
// (it always can below kMaxStreamOps: a 4K map or a fault costs one leaf).
bool fit_work_budget(Stream* stream);

}  // namespace mmudiff
