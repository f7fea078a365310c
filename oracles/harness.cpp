// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/harness.h"

#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/format/decode.h"
#include "mmu/ops/text_format.h"
#include "oracles/arch_walk.h"
#include "oracles/effects_check.h"
#include "oracles/invariants.h"
#include "oracles/reference_model.h"
#include "oracles/translation_diff.h"

namespace mmudiff {

const std::vector<OracleInfo>& oracle_list() {
  static const std::vector<OracleInfo> oracles = {
      {"return-codes", "every operation returned the same on every backend"},
      {"reference-model", "results and translations match the abstract model of the operations"},
      {"masked-hash", "equal SipHash trees, table addresses masked"},
      {"translation", "every table translates every IPA as the reference does"},
      {"invariants",
       "no reserved bit, aligned blocks, no executable device memory, refcounts right"},
      {"effects", "break-before-make kept, no stale TLB entry left behind"},
      {"memory", "no leak, no refcount misuse, no write to a freed page"},
      {"warnings", "no backend warned"},
  };
  return oracles;
}

namespace {

struct Lane {
  std::string name;
  std::unique_ptr<Machine> machine;
  std::unique_ptr<Backend> backend;
  EffectsChecker effects;
  size_t faults_seen = 0;
};

std::string describe_result(const Op& op, const OpResult& r) {
  switch (op.kind) {
    case OpKind::Mkyoung:
    case OpKind::Mkold:
      return fmt::format("old descriptor {:#018x}", r.value);
    case OpKind::IsYoung:
      return r.ret ? "young" : "old";
    case OpKind::GetLeaf:
      return r.ret ? fmt::format("ret {}", r.ret)
                   : fmt::format("ret 0, level {}, descriptor {:#018x}", r.level, r.value);
    default:
      return fmt::format("ret {}", r.ret);
  }
}

Severity memory_fault_severity(MemoryFaultKind kind) {
  // A page used after it was freed can end up mapping anything; a leak only costs memory.
  return kind == MemoryFaultKind::LeakedPage ? Severity::Functional : Severity::Security;
}

class Run {
 public:
  Run(const Stream& stream, const HarnessOptions& options)
      : options_(options), model_(options.limits.max_pages) {
    report_.stream = stream;
    report_.backends = resolve_backends(options.backends);
    for (const auto& name : report_.backends) {
      Lane lane;
      lane.name = name;
      lane.machine = std::make_unique<Machine>(options.limits);
      lane.backend = find_backend(name)->create(*lane.machine, options.plant);
      lanes_.push_back(std::move(lane));
    }
    report_.results.resize(lanes_.size());
  }

  StreamReport finish() {
    const Stream& stream = report_.stream;
    // A stream that does not start with init runs on a table of the default configuration.
    if (stream.empty() || stream.front().kind != OpKind::Init) {
      for (auto& lane : lanes_) {
        lane.backend->init(Config{});
        lane.effects.reset(lane.backend->root());
        lane.machine->effects.clear();
      }
      Op init;
      init.kind = OpKind::Init;
      model_.apply(init);
    }
    bool stopped = false;
    for (size_t i = 0; i < stream.size() && !stopped; ++i) stopped = !step(i);
    size_t last = stream.empty() ? 0 : stream.size() - 1;
    if (!stopped && !report_.bound_reached) compare_tables(last);
    teardown(last);
    return std::move(report_);
  }

 private:
  std::string kind_at(size_t i) const {
    return i < report_.stream.size() ? std::string(op_kind_name(report_.stream[i].kind)) : "end";
  }

  void add(Severity s, const char* oracle, size_t i, std::string summary,
           std::vector<std::string> evidence = {}) {
    report_.findings.push_back({s, oracle, i, kind_at(i), std::move(summary), std::move(evidence)});
  }

  bool step(size_t i) {
    const Op& op = report_.stream[i];
    bool skip = op.kind != OpKind::Init && !lanes_.front().backend->root().live();
    if (op.kind == OpKind::Init) config_ = op.config;
    report_.skipped.push_back(skip);
    for (size_t b = 0; b < lanes_.size(); ++b) {
      Lane& lane = lanes_[b];
      // Re-init destroys first; do it here so the destroy's leaks are checked on their own.
      if (op.kind == OpKind::Init && lane.backend->root().live()) {
        lane.backend->destroy();
        lane.machine->memory.report_leaks();
      }
      OpResult r;
      if (!skip) r = apply_op(*lane.backend, *lane.machine, op);
      if (op.kind == OpKind::Destroy && !skip) lane.machine->memory.report_leaks();
      report_.results[b].push_back(r);
    }
    OpResult expected;
    if (!skip) expected = model_.apply(op);
    for (auto& lane : lanes_) {
      if (lane.machine->memory.bound_reached()) {
        report_.bound_reached = true;
        report_.bound_op = i;
        return false;
      }
    }
    bool ok = check_results(i);
    ok = ok && check_model_result(i, expected);
    ok = check_warnings(i) && ok;
    ok = check_memory(i) && ok;
    ok = check_effects(i, op) && ok;
    if (ok && options_.check_every_op && lanes_.front().backend->root().live())
      ok = compare_tables(i);
    return ok;
  }

  // The backends agree with each other; do they agree with the model of the operations?
  bool check_model_result(size_t i, const OpResult& expected) {
    if (report_.results.front()[i] == expected) return true;
    const Op& op = report_.stream[i];
    add(Severity::Functional, "reference-model", i,
        fmt::format("every backend returned the same for {}, but the model expects otherwise",
                    format_op(op)),
        {fmt::format("backends: {}", describe_result(op, report_.results.front()[i])),
         fmt::format("model: {}", describe_result(op, expected))});
    return false;
  }

  bool check_results(size_t i) {
    const Op& op = report_.stream[i];
    bool agree = true;
    for (size_t b = 1; b < lanes_.size(); ++b)
      agree = agree && report_.results[b][i] == report_.results[0][i];
    if (agree) return true;
    std::vector<std::string> evidence;
    for (size_t b = 0; b < lanes_.size(); ++b)
      evidence.push_back(
          fmt::format("{}: {}", lanes_[b].name, describe_result(op, report_.results[b][i])));
    add(Severity::Functional, "return-codes", i,
        fmt::format("backends disagree on the result of {}", format_op(op)), std::move(evidence));
    return false;
  }

  // A caller breaking a documented precondition makes the kernel warn (and fail the operation):
  // map on an identity-mapped table (pKVM's host stage-2) with addr != phys. The return codes still
  // have to agree; the warning itself is expected.
  bool warning_expected(size_t i) const {
    if (i >= report_.stream.size()) return false;
    const Op& op = report_.stream[i];
    return op.kind == OpKind::Map && config_.idmap && op.addr != op.phys;
  }

  bool check_warnings(size_t i) {
    bool ok = true;
    bool expected = warning_expected(i);
    for (auto& lane : lanes_) {
      for (auto& w : lane.backend->take_warnings()) {
        if (expected) continue;
        ok = false;
        add(Severity::Functional, "warnings", i, fmt::format("{} warned: {}", lane.name, w));
      }
    }
    return ok;
  }

  bool check_memory(size_t i) {
    bool ok = true;
    for (auto& lane : lanes_) {
      const auto& faults = lane.machine->memory.faults();
      for (; lane.faults_seen < faults.size(); ++lane.faults_seen) {
        const MemoryFault& mf = faults[lane.faults_seen];
        ok = false;
        add(memory_fault_severity(mf.kind), "memory", i,
            fmt::format("{}: {}", lane.name, memory_fault_name(mf.kind)), {mf.detail});
      }
    }
    return ok;
  }

  bool check_effects(size_t i, const Op& op) {
    bool ok = true;
    std::vector<LaneObjection> per_lane;
    for (auto& lane : lanes_) {
      const auto& events = lane.machine->effects.events();
      if (op.kind == OpKind::Init) {
        lane.effects.reset(lane.backend->root());
      } else if (op.kind == OpKind::Destroy) {
        lane.effects.clear();
      } else {
        for (auto& v : lane.effects.check(events, op.kind))
          per_lane.push_back(
              {lane.name, Severity::HardwareEffects, fmt::format("{}: {}", v.rule, v.what)});
      }
      lane.machine->effects.clear();
    }
    return report_shared_or_not(i, "effects", per_lane) && ok;
  }

  struct LaneObjection {
    std::string lane;
    Severity severity;
    std::string what;  // without the lane's name, so objections compare across lanes
  };

  // An objection every backend raises alike, the reference included, is how Linux 6.1 itself
  // behaves: a note. One that some backends raise and others do not is a finding.
  bool report_shared_or_not(size_t i, const char* oracle,
                            const std::vector<LaneObjection>& objections) {
    bool ok = true;
    bool has_reference = lanes_.size() > 1 && lanes_.front().name == "linux61";
    std::vector<bool> done(objections.size());
    for (size_t k = 0; k < objections.size(); ++k) {
      if (done[k]) continue;
      size_t lanes_with_it = 0;
      for (size_t j = k; j < objections.size(); ++j) {
        if (objections[j].what == objections[k].what) {
          ++lanes_with_it;
          if (j != k) done[j] = true;
        }
      }
      if (has_reference && lanes_with_it == lanes_.size()) {
        report_.notes.push_back(
            fmt::format("operation #{}: every backend, linux61 included: {}: {}", i, oracle,
                        objections[k].what));
        continue;
      }
      ok = false;
      add(objections[k].severity, oracle, i,
          fmt::format("{}: {}", objections[k].lane, objections[k].what));
      for (size_t j = k + 1; j < objections.size(); ++j)
        if (objections[j].what == objections[k].what)
          add(objections[j].severity, oracle, i,
              fmt::format("{}: {}", objections[j].lane, objections[j].what));
    }
    return ok;
  }

  bool compare_tables(size_t i) {
    bool ok = true;
    std::vector<HashedTable> hashes;
    std::vector<ArchWalk> walks;
    for (auto& lane : lanes_) {
      hashes.push_back(hash_table(lane.backend->root(), lane.machine->memory, options_.hash_key));
      walks.push_back(arch_walk(lane.backend->root(), lane.machine->memory));
    }
    report_.root_hashes.clear();
    for (const auto& h : hashes) report_.root_hashes.push_back(h.root_hash);
    report_.table_pages = hashes.front().pages;
    report_.mappings = walks.front().translation.mappings.size();

    std::vector<LaneObjection> anomalies, invariants;
    for (size_t b = 0; b < lanes_.size(); ++b) {
      for (const auto& a : walks[b].anomalies)
        anomalies.push_back({lanes_[b].name, Severity::Security, a});
      for (const auto& v : check_invariants(lanes_[b].backend->root(), lanes_[b].machine->memory))
        invariants.push_back({lanes_[b].name, v.severity, fmt::format("{}: {}", v.rule, v.what)});
    }
    ok = report_shared_or_not(i, "translation", anomalies) && ok;
    ok = report_shared_or_not(i, "invariants", invariants) && ok;
    // What each table translates to, against what the operations alone say it must.
    if (model_.live()) {
      Translation expected = model_.translation();
      std::vector<LaneObjection> model_diffs;
      for (size_t b = 0; b < lanes_.size(); ++b)
        if (auto d = compare_translations(walks[b].translation, expected))
          model_diffs.push_back({lanes_[b].name, d->severity, d->what});
      if (!model_diffs.empty()) {
        ok = false;
        for (const auto& d : model_diffs)
          add(d.severity, "reference-model", i, fmt::format("{}: {}", d.lane, d.what));
      }
    }
    // The first backend is the reference: linux61, the real kernel code, when it is built.
    for (size_t b = 1; b < lanes_.size(); ++b) {
      auto diff = first_divergence(hashes[0], lanes_[0].machine->memory, hashes[b],
                                   lanes_[b].machine->memory);
      if (!diff) continue;
      ok = false;
      bool fwb = lanes_[0].backend->root().fwb;
      std::vector<std::string> evidence = {
          fmt::format("{:<8} IPA {:#x}: {}", lanes_[0].name, diff->ipa,
                      describe_descriptor(diff->a, diff->level, fwb)),
          fmt::format("{:<8} IPA {:#x}: {}", lanes_[b].name, diff->ipa,
                      describe_descriptor(diff->b, diff->level, fwb))};
      auto tdiff = compare_translations(walks[b].translation, walks[0].translation);
      if (tdiff) {
        add(tdiff->severity, "translation", i,
            fmt::format("{} differs from {}: {}", lanes_[b].name, lanes_[0].name, tdiff->what),
            evidence);
      } else {
        add(Severity::StructuralOnly, "masked-hash", i,
            fmt::format("{} and {} translate alike but their tables differ (root hashes {:#018x} "
                        "and {:#018x})",
                        lanes_[0].name, lanes_[b].name, hashes[0].root_hash, hashes[b].root_hash),
            evidence);
      }
    }
    return ok;
  }

  void teardown(size_t last) {
    if (options_.inspect_final)
      for (auto& lane : lanes_) options_.inspect_final(lane.name, *lane.backend, *lane.machine);
    for (auto& lane : lanes_) {
      if (lane.backend->root().live()) lane.backend->destroy();
      lane.machine->memory.report_leaks();
      lane.machine->memory.check_freed_pages();
    }
    if (!report_.bound_reached) {
      check_warnings(last);
      check_memory(last);
    }
  }

  const HarnessOptions& options_;
  StreamReport report_;
  std::vector<Lane> lanes_;
  ReferenceModel model_;
  Config config_;  // of the live table
};

}  // namespace

const Finding* StreamReport::worst() const {
  const Finding* w = nullptr;
  for (const auto& f : findings)
    if (!w || f.severity < w->severity) w = &f;
  return w;
}

std::vector<std::string> resolve_backends(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  bool all = names.empty();
  for (const auto& n : names) all = all || n == "all";
  if (all) {
    for (const auto& b : registered_backends()) out.emplace_back(b.name);
    if (out.empty()) throw std::invalid_argument("this build has no backend");
    return out;
  }
  for (const auto& n : names) {
    if (!find_backend(n)) {
      std::string known;
      for (const auto& b : registered_backends())
        known += (known.empty() ? "" : ", ") + std::string(b.name);
      throw std::invalid_argument(
          fmt::format("unknown backend '{}' (this build has: {})", n, known));
    }
    out.push_back(n);
  }
  return out;
}

StreamReport run_stream(const Stream& stream, const HarnessOptions& options) {
  return Run(stream, options).finish();
}

}  // namespace mmudiff
