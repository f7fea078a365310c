// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/linearizability.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

namespace mmudiff {

namespace {

class Search {
 public:
  Search(const Stream& stream, const Section& section, const std::vector<OpResult>& results,
         const std::vector<ModelTable>& end_tables, const std::vector<ObservedLeaf>& end_leaves,
         const std::function<bool(const ReferenceModel&)>& ends_as_observed)
      : end_tables_(end_tables),
        stream_(stream),
        section_(section),
        results_(results),
        ends_as_observed_(ends_as_observed),
        next_(section.vcpus, section.begin),
        observed_tables_(end_tables.begin(), end_tables.end()) {
    for (unsigned v = 0; v < section.vcpus; ++v) advance(v);
    for (size_t i = section.begin; i < section.end; ++i)
      if (stream[i].kind == OpKind::Map) maps_.push_back(&stream[i]);
    for (const ObservedLeaf& leaf : end_leaves)
      if (within_maps(leaf.base)) observed_.emplace(leaf.base, leaf);
  }

  // Strictly first: only when no order ends as observed may a map's own leaves make up the
  // difference.
  LinearizabilityVerdict run(const ReferenceModel& before) {
    LinearizabilityVerdict verdict;
    std::vector<size_t> order;
    if (search(before, order, verdict)) return verdict;
    before_ = &before;
    if (!maps_.empty() && verdict.steps < kMaxModelSteps) {
      widen_ = true;
      if (search(before, order, verdict)) return verdict;
    }
    verdict.decided = verdict.steps < kMaxModelSteps;
    return verdict;
  }

 private:
  // next_[v]: the index of vCPU v's next operation, or section_.end when it has none left.
  void advance(unsigned v) {
    while (next_[v] < section_.end && stream_[next_[v]].vcpu != v) ++next_[v];
  }

  // Whether the operation may have taken no part in the order, given what it returned.
  bool may_have_lost(const Op& op, const OpResult& observed, const OpResult& serial) const {
    if (observed.ret == -EAGAIN) return true;
    if (read_a_racing_leaf(op, observed)) return true;
    // A fault whose walk, reloading an entry after its table visit, finds that another vCPU's
    // block has replaced the table, skips the entry: 0, and nothing mapped.
    if (widen_ && op.kind == OpKind::Map && observed.ret == 0) return true;
    // mkyoung returns the descriptor it read, whether or not its store then lost a race; one
    // that read an entry another vCPU held locked (no valid leaf) made nothing young.
    if (op.kind == OpKind::Mkyoung && (observed == serial || !(observed.value & kValidBit)))
      return true;
    // A lockless get_leaf may read an entry another vCPU holds locked for its break-before-make:
    // a state inside that vCPU's operation, which no serial order shows.
    // Nor does one that found no valid leaf: it may have read a table another vCPU had just
    // installed, before that vCPU stored the leaf below it.
    return op.kind == OpKind::GetLeaf && observed.ret == 0 && !(observed.value & kValidBit);
  }

  static constexpr uint64_t kValidBit = 1;

  // The largest memcache of a map on another vCPU of the section, if any.
  std::optional<int32_t> cache_of_another(const Op& op) const {
    std::optional<int32_t> lent;
    for (const Op* map : maps_)
      if (map->vcpu != op.vcpu && map->memcache != kNoMemcache && map->memcache > lent.value_or(0))
        lent = map->memcache;
    return lent;
  }

  // Under the first race, a get_leaf or mkyoung may read a leaf of the racing walk's range
  // where no serial order has one (racing_leaf). It changed nothing (mkyoung: the leaf is young
  // already).
  bool read_a_racing_leaf(const Op& op, const OpResult& observed) const {
    if (!widen_ || observed.ret != 0 || !(observed.value & kValidBit)) return false;
    if (op.kind != OpKind::GetLeaf && op.kind != OpKind::Mkyoung) return false;
    for (unsigned level = 0; level < arm64s2::kLevels; ++level) {
      if (op.kind == OpKind::GetLeaf && level != observed.level) continue;
      const uint64_t base = op.addr & ~(arm64s2::granule_size(level) - 1);
      if (racing_leaf(*before_, level, base, observed.value)) return true;
    }
    return false;
  }

  // A leaf at entry (level, base) with descriptor RAW that a map of the section asked for, as it
  // asked or as the section's relax_perms there (one, or each in turn) left it: a leaf of the
  // racing walk is a leaf like any other to a relax_perms on another vCPU.
  std::optional<ModelLeaf> racing_leaf(const ReferenceModel& model, unsigned level, uint64_t base,
                                       uint64_t raw) const {
    const bool lpa2 = model.config().arm64.lpa2;
    const uint64_t end = base + arm64s2::granule_size(level);
    for (const Op* map : maps_) {
      const std::optional<ModelLeaf> asked = model.asked_leaf(*map, level, base);
      if (!asked) continue;
      if (ReferenceModel::descriptor(*asked, lpa2) == raw) return asked;
      ModelLeaf in_turn = *asked;
      for (size_t i = section_.begin; i < section_.end; ++i) {
        const Op& relax = stream_[i];
        if (relax.kind != OpKind::RelaxPerms || relax.addr < base || relax.addr >= end) continue;
        const ModelLeaf one = ReferenceModel::relaxed(*asked, relax.prot);
        if (ReferenceModel::descriptor(one, lpa2) == raw) return one;
        in_turn = ReferenceModel::relaxed(in_turn, relax.prot);
        if (ReferenceModel::descriptor(in_turn, lpa2) == raw) return in_turn;
      }
    }
    return std::nullopt;
  }

  // The first race below: a shared walk whose entry another vCPU's table replaced after it
  // stored there returns -EAGAIN once its walk descends, though its store was there for a while
  // (a get_leaf may have seen it): a fault's block, a relax_perms's permissions.
  bool took_effect_anyway(const Op& op, const OpResult& observed, const OpResult& serial) const {
    return widen_ && (op.kind == OpKind::Map || op.kind == OpKind::RelaxPerms) &&
           observed.ret == -EAGAIN && serial.ret == 0;
  }

  // Where each vCPU is and the model's state: all a search from here depends on. Orders that
  // differ only in operations that commute (or lost) meet in the same state, and one that failed
  // fails again.
  uint64_t state_key(const ReferenceModel& model) const {
    uint64_t key = model.fingerprint();
    for (size_t next : next_) key = key * 0x9e3779b97f4a7c15 + next;
    return key * 2 + widen_;
  }

  bool search(const ReferenceModel& model, std::vector<size_t>& order,
              LinearizabilityVerdict& verdict) {
    const uint64_t key = state_key(model);
    if (failed_.count(key)) return false;
    const bool found = search_from(model, order, verdict);
    if (!found && verdict.steps < kMaxModelSteps) failed_.insert(key);
    return found;
  }

  bool search_from(const ReferenceModel& model, std::vector<size_t>& order,
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
      // Or tables a map of another vCPU installed and lost with its race, and which are gone
      // by the end (a block replaced them): the map found them, whoever's cache paid.
      if (!(serial == observed) && serial.ret == -ENOMEM && op.kind == OpKind::Map) {
        if (const std::optional<int32_t> lent = cache_of_another(op)) {
          Op with_lent = op;
          with_lent.memcache = *lent;
          after = model;
          ++verdict.steps;
          serial = after.apply(with_lent);
        }
      }
      ++next_[v];
      advance(v);
      bool found = false;
      if (serial == observed || took_effect_anyway(op, observed, serial)) {
        order.push_back(i);
        found = search(after, order, verdict);
        if (!found) order.pop_back();
      }
      if (!found && may_have_lost(op, observed, serial)) found = search(model, order, verdict);
      next_[v] = i;
      if (found) return true;
    }
    if (any) return false;
    if (!widen_) {
      if (!ends_as_observed(model)) return false;
      verdict.found = Linearization{order, model};
    } else {
      ReferenceModel settled = model;
      const size_t changes = settle(&settled);
      if (!ends_as_observed(settled)) return false;
      verdict.found = Linearization{order, std::move(settled), changes};
    }
    // What follows finds the tables the section left, whoever installed them.
    verdict.found->model.adopt_tables(end_tables_);
    return true;
  }

  // The backend's translation, and where the section mapped, its very leaves: 512 pages
  // translate as their block does, but a later fault of a page over them keeps the rest.
  bool ends_as_observed(const ReferenceModel& model) const {
    if (!ends_as_observed_(model)) return false;
    // Nor a table the backend's lacks: the same empty translation with or without the tables of
    // a fault at an invalid PA, but the next map needs its cache only without them.
    for (const ModelTable& t : model.tables())
      if (!observed_tables_.count(t)) return false;
    const bool lpa2 = model.config().arm64.lpa2;
    size_t leaves = 0;
    for (const auto& [base, leaf] : model.leaves()) {
      if (!leaf.valid || !within_maps(base)) continue;
      auto seen = observed_.find(base);
      if (seen == observed_.end() || !same_leaf(leaf, seen->second, lpa2)) return false;
      ++leaves;
    }
    return leaves == observed_.size();
  }

  bool within_maps(uint64_t addr) const {
    return std::any_of(maps_.begin(), maps_.end(), [&](const Op* map) {
      return addr >= map->addr && addr - map->addr < map->size;
    });
  }

  static bool same_leaf(const ModelLeaf& leaf, const ObservedLeaf& seen, bool lpa2) {
    return leaf.level == seen.level && ReferenceModel::descriptor(leaf, lpa2) == seen.raw;
  }

  // The model made like the backend's table where the races above allow: the section's own
  // leaves the table lacks dropped, then the tables it has and the leaves the section's maps
  // asked for taken on. How many leaves that changed.
  size_t settle(ReferenceModel* model) const {
    const bool lpa2 = model->config().arm64.lpa2;
    size_t changes = 0;
    std::vector<uint64_t> lost;
    for (const auto& [base, leaf] : model->leaves()) {
      if (!within_maps(base)) continue;
      auto seen = observed_.find(base);
      if (seen != observed_.end() && same_leaf(leaf, seen->second, lpa2)) continue;
      auto had = before_->leaves().find(base);
      if (had != before_->leaves().end() && had->second == leaf) continue;  // not the section's
      lost.push_back(base);
    }
    for (uint64_t base : lost) model->drop_leaf(base);
    changes += lost.size();
    // And the tables that held them, where the backend has none: unlinked with them (a table of
    // the same place from before the section may have been removed and made again). Deepest
    // first, so that a table emptied of its last table goes too; one that holds a leaf stays.
    const std::vector<ModelTable> tables = model->tables();
    for (auto t = tables.rbegin(); t != tables.rend(); ++t)
      if (!observed_tables_.count(*t)) model->drop_table(*t);
    model->adopt_tables(end_tables_);
    for (const auto& [base, seen] : observed_) {
      auto have = model->leaves().find(base);
      if (have != model->leaves().end() && same_leaf(have->second, seen, lpa2)) continue;
      const std::optional<ModelLeaf> asked = racing_leaf(*model, seen.level, base, seen.raw);
      if (asked && model->adopt_leaf(base, *asked)) ++changes;
    }
    return changes;
  }

  const std::vector<ModelTable>& end_tables_;
  const Stream& stream_;
  const Section& section_;
  const std::vector<OpResult>& results_;
  const std::function<bool(const ReferenceModel&)>& ends_as_observed_;
  std::vector<size_t> next_;
  std::set<ModelTable> observed_tables_;
  std::vector<const Op*> maps_;                // the section's maps
  std::map<uint64_t, ObservedLeaf> observed_;  // the backend's leaves within them, by base
  const ReferenceModel* before_ = nullptr;
  bool widen_ = false;  // the second pass: the races above may make up the difference
  std::unordered_set<uint64_t> failed_;  // state_key()s a search from failed
};

}  // namespace

LinearizabilityVerdict linearize(
    const ReferenceModel& before, const Stream& stream, const Section& section,
    const std::vector<OpResult>& results, const std::vector<ModelTable>& end_tables,
    const std::vector<ObservedLeaf>& end_leaves,
    const std::function<bool(const ReferenceModel&)>& ends_as_observed) {
  return Search(stream, section, results, end_tables, end_leaves, ends_as_observed).run(before);
}

}  // namespace mmudiff
