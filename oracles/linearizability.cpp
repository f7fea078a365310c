// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/linearizability.h"

#include <cerrno>

namespace mmudiff {

namespace {

class Search {
 public:
  Search(const Stream& stream, const Section& section, const std::vector<OpResult>& results,
         const std::vector<ModelTable>& end_tables,
         const std::function<bool(const ReferenceModel&)>& ends_as_observed)
      : end_tables_(end_tables),
        stream_(stream),
        section_(section),
        results_(results),
        ends_as_observed_(ends_as_observed),
        next_(section.vcpus, section.begin) {
    for (unsigned v = 0; v < section.vcpus; ++v) advance(v);
  }

  LinearizabilityVerdict run(const ReferenceModel& before) {
    LinearizabilityVerdict verdict;
    std::vector<size_t> order;
    if (search(before, order, verdict)) return verdict;
    verdict.decided = verdict.steps < kMaxModelSteps;
    return verdict;
  }

 private:
  // next_[v]: the index of vCPU v's next operation, or section_.end when it has none left.
  void advance(unsigned v) {
    while (next_[v] < section_.end && stream_[next_[v]].vcpu != v) ++next_[v];
  }

  // Whether the operation may have taken no part in the order, given what it returned.
  static bool may_have_lost(const Op& op, const OpResult& observed, const OpResult& serial) {
    if (observed.ret == -EAGAIN) return true;
    // mkyoung returns the descriptor it read, whether or not its store then lost a race.
    if (op.kind == OpKind::Mkyoung && observed == serial) return true;
    // A lockless get_leaf may read an entry another vCPU holds locked for its break-before-make:
    // a state inside that vCPU's operation, which no serial order shows.
    // Nor does one that found no valid leaf: it may have read a table another vCPU had just
    // installed, before that vCPU stored the leaf below it.
    return op.kind == OpKind::GetLeaf && observed.ret == 0 && !(observed.value & kValidBit);
  }

  static constexpr uint64_t kValidBit = 1;

  bool search(const ReferenceModel& model, std::vector<size_t>& order,
              LinearizabilityVerdict& verdict) {
    bool any = false;
    for (unsigned v = 0; v < section_.vcpus; ++v) {
      if (next_[v] >= section_.end) continue;
      any = true;
      if (verdict.steps >= kMaxModelSteps) return false;
      const size_t i = next_[v];
      const Op& op = stream_[i];
      const OpResult& observed = results_[i - section_.begin];
      ReferenceModel after = model;
      ++verdict.steps;
      OpResult serial = after.apply(op);
      // A map that needed its memcache for tables another vCPU's walk had already installed
      // (and kept, though it then lost its race) did not need it here.
      if (!(serial == observed) && op.kind == OpKind::Map && !end_tables_.empty()) {
        after = model;
        after.adopt_tables(end_tables_);
        ++verdict.steps;
        serial = after.apply(op);
      }
      ++next_[v];
      advance(v);
      bool found = false;
      if (serial == observed) {
        order.push_back(i);
        found = search(after, order, verdict);
        if (!found) order.pop_back();
      }
      if (!found && may_have_lost(op, observed, serial)) found = search(model, order, verdict);
      next_[v] = i;
      if (found) return true;
    }
    if (any) return false;
    if (!ends_as_observed_(model)) return false;
    verdict.found = Linearization{order, model};
    // What follows finds the tables the section left, whoever installed them.
    verdict.found->model.adopt_tables(end_tables_);
    return true;
  }

  const std::vector<ModelTable>& end_tables_;
  const Stream& stream_;
  const Section& section_;
  const std::vector<OpResult>& results_;
  const std::function<bool(const ReferenceModel&)>& ends_as_observed_;
  std::vector<size_t> next_;
};

}  // namespace

LinearizabilityVerdict linearize(
    const ReferenceModel& before, const Stream& stream, const Section& section,
    const std::vector<OpResult>& results, const std::vector<ModelTable>& end_tables,
    const std::function<bool(const ReferenceModel&)>& ends_as_observed) {
  return Search(stream, section, results, end_tables, ends_as_observed).run(before);
}

}  // namespace mmudiff
