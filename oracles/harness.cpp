// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/harness.h"

#include <unordered_map>

#include <algorithm>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/format/format.h"
#include "mmu/format/x86_ept.h"
#include "mmu/format/x86_ept_format.h"
#ifdef MMUDIFF_HAVE_LINUX612_TDP
#include "mmu/linux612_tdp/linux612_spte_check.h"
#endif
#include "mmu/machine_pool.h"
#include "mmu/ops/sections.h"
#include "mmu/ops/text_format.h"
#include "mmu/ops/work_budget.h"
#include "mmu/profile/profile.h"
#include "mmu/sched/deterministic_scheduler.h"
#include "mmu/sched/threaded_run.h"
#include "oracles/arch_walk.h"
#include "oracles/arm64_reference_model.h"
#include "oracles/deciding_entry.h"
#include "oracles/effects_check.h"
#include "oracles/effects_mirror.h"
#include "oracles/invariants.h"
#include "oracles/linearizability.h"
#include "oracles/objection.h"
#include "oracles/table_delta.h"
#include "oracles/table_snapshot.h"
#include "oracles/translation_diff.h"
#include "oracles/unlinked_tables.h"

namespace mmudiff {

const std::vector<OracleInfo>& oracle_list() {
  static const std::vector<OracleInfo> oracles = {
      {"return-codes", "every operation returned the same on every backend"},
      {"reference-model", "results and translations match the abstract model of the operations"},
      {"masked-hash", "equal SipHash trees, table addresses masked"},
      {"translation", "every table translates every IPA as the reference does"},
      {"invariants",
       "no reserved bit, aligned blocks, no executable device memory, refcounts right"},
      {"effects",
       "break-before-make kept, no stale TLB or walk-cache entry, cache maintenance complete"},
      {"effects-trace", "every backend's stores, TLBIs, barriers and CMOs match the reference's"},
      {"memory", "no leak, no refcount misuse, no write to a freed page"},
      {"warnings", "no backend warned"},
      {"zero-check",
       "every present SPTE written passes the kernel's is_rsvd_spte against shadow_zero_check"},
      {"interleaving",
       "every backend's shared walks switch vCPUs at the reference's scheduling points"},
  };
  return oracles;
}

std::string_view why_oracle_not_run(std::string_view oracle, ProfileId id) {
  for (const OracleLeftOut& o : profile(id).oracles_not_run)
    if (o.oracle == oracle) return o.why;
  return {};
}

namespace {

struct Lane {
  std::string name;
  bool reference = false;  // the registration says its behaviour is the ground truth
  PooledMachine machine;   // declared before the backend, so it outlives it
  std::unique_ptr<Backend> backend;
  EffectsChecker effects;
  EffectsMirror mirror;  // instead of `effects`, while it follows the reference's (Run::mirror_)
  std::unique_ptr<TableHashCache> hashes;  // only when checking after every operation
  TableDelta delta;                        // with hashes: where the table changed since
  size_t faults_seen = 0;
};

// A field's value and, when it says more, its meaning: "0xf (normal WB)", "0x40200000".
std::string field_text(const DecodedField& f) {
  std::string value = fmt::format("{:#x}", f.value);
  return f.text.empty() || f.text == value ? value : fmt::format("{} ({})", value, f.text);
}

DescriptorSide descriptor_side(const DescriptorFormat& format, std::string backend,
                               const DivergingEntry& d, uint64_t raw, bool fwb) {
  DecodedDescriptor decoded = format.decode(raw, d.level, fwb);
  DescriptorSide side;
  side.backend = std::move(backend);
  side.ipa_start = d.ipa;
  side.ipa_end = d.ipa + format.granule_size(d.level);
  side.level = d.level;
  side.raw = raw;
  side.kind = kind_name(decoded.kind);
  for (const auto& f : decoded.fields) side.fields.emplace_back(f.name, field_text(f));
  return side;
}

const char* ret_pf_name(int ret) {
  static constexpr const char* kNames[] = {
      "RET_PF_CONTINUE", "RET_PF_RETRY", "RET_PF_EMULATE", "RET_PF_WRITE_PROTECTED",
      "RET_PF_INVALID",  "RET_PF_FIXED", "RET_PF_SPURIOUS"};
  return ret >= 0 && ret < 7 ? kNames[ret] : "?";
}

std::string describe_result(const Op& op, const OpResult& r) {
  switch (op.kind) {
    case OpKind::Fault:
      return fmt::format("{} ({})", ret_pf_name(r.ret), r.ret);
    case OpKind::ZapLeafs:
    case OpKind::WrprotSlot:
    case OpKind::ClearDirty:
      return r.ret ? "flush needed" : "no flush needed";
    case OpKind::Age:
    case OpKind::TestAge:
      return r.ret ? "young" : "old";
    case OpKind::WrprotGfn:
      return r.ret ? "write-protected" : "unchanged";
    case OpKind::Mkyoung:
    case OpKind::Mkold:
      return fmt::format("old descriptor {:#018x}", r.value);
    case OpKind::IsYoung:
      return r.ret ? "young" : "old";
    case OpKind::Arm64TestClearYoung:
      return r.ret == 1 ? "young" : r.ret == 0 ? "old" : fmt::format("ret {}", r.ret);
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

// Every init of the stream is an arm64 one with FEAT_LPA2 (a stream without init has none).
bool every_table_has_lpa2(const Stream& stream) {
  bool any = false;
  for (const Op& op : stream) {
    if (op.kind != OpKind::Init) continue;
    if (op.config.arch != Arch::Arm64S2 || !op.config.arm64.lpa2) return false;
    any = true;
  }
  return any && stream.front().kind == OpKind::Init;
}

class Run {
 public:
  // MIRROR: judge the effects on the reference lane alone, with every other lane's mirror
  // following it (EffectsMirror), where there is a reference to judge.
  Run(const Stream& stream, const HarnessOptions& options, bool mirror)
      : options_(options),
        profile_(stream_profile(stream)),
        arch_(profile_arch(profile_)),
        model_runs_(why_oracle_not_run("reference-model", profile_).empty()),
        zero_check_runs_(why_oracle_not_run("zero-check", profile_).empty()),
        format_(arch_ == Arch::Arm64S2 ? &resolve_format(options.format) : nullptr),
        model_(options.limits.max_pages) {
    report_.stream = stream;
    normalize_sections(report_.stream);
    std::vector<std::string> left_out;
    report_.backends = stream_backends(report_.stream, options.backends, &left_out);
    for (const std::string& name : left_out)
      report_.notes.push_back(fmt::format(
          "{} left out: it has no shared walks to run this stream's concurrent sections", name));
    // Checks within windows need to know where the model changed (changed_since_last_check).
    model_.track_changes(options.check_every_op && options.hash_cache);
    MemoryLimits limits = options.limits;
    // x86 SPTEs hold table addresses only below 2^MAXPHYADDR.
    if (arch_ == Arch::X86Ept) limits.phys_base = kLowTablePhysBase;
    // A stream whose every table has FEAT_LPA2 keeps its table pages above 2^50, so that its
    // table descriptors hold next-level addresses with bits 51:50 too (in bits [9:8]).
    if (arch_ == Arch::Arm64S2 && every_table_has_lpa2(stream))
      limits.phys_base = kLpa2TablePhysBase;
    sections_ = concurrent_sections(report_.stream);
    for (const auto& name : report_.backends) {
      Lane lane;
      lane.name = name;
      const BackendInfo* info = find_backend(name, profile_);
      lane.reference = info->reference;
      lane.machine = pooled_machine(limits);
      lane.backend = info->create(*lane.machine, options.plant);
      if (options.check_every_op && options.hash_cache)
        lane.hashes = std::make_unique<TableHashCache>(options.hash_key);
      lanes_.push_back(std::move(lane));
    }
    report_.results.resize(lanes_.size());
    for (size_t b = 0; b < lanes_.size(); ++b)
      if (lanes_[b].reference) {
        ref_ = b;
        break;
      }
    mirror_ = mirror && has_reference() && !options.threads;
    // The mirrors compare events, not traces.
    if (mirror_) lanes_[ref_].effects.set_tracing(false);
  }

  // A mirror stopped following the reference: this run's report says nothing, and the stream
  // needs a run that checks each lane's effects on its own.
  bool mirror_parted() const { return mirror_parted_; }

  StreamReport finish() {
    const Stream& stream = report_.stream;
    // A stream that does not start with init runs on a table of the default configuration.
    if (stream.empty() || stream.front().kind != OpKind::Init) {
      Op init = init_op(profile_default_config(profile_));
      take_config(init.config);
      for (auto& lane : lanes_) apply_op(*lane.backend, *lane.machine, init);
      reset_effects();
      for (auto& lane : lanes_) lane.machine->effects.clear();
      model_.apply(init);
    }
    bool stopped = false;
    size_t last = stream.empty() ? 0 : stream.size() - 1;
    auto section = sections_.begin();
    for (size_t i = 0; i < stream.size() && !stopped && !mirror_parted_; ++i) {
      if (section != sections_.end() && section->begin == i) {
        stopped = !step_section(*section);
        i = section++->end - 1;
      } else {
        stopped = !step(i);
      }
      if (stopped) last = i;
    }
    if (mirror_parted_) return std::move(report_);
    // The tables are compared where the stream ended, or where an operation's oracles stopped
    // it: a stronger verdict on the same operation (a wrong translation behind a trace that
    // differs) classifies the finding. Every-op checking compared them there already.
    if (!report_.bound_reached && !report_.threaded.raced_apart &&
        !(stopped && options_.check_every_op))
      compare_tables(last, /*final_check=*/true);
    count_mappings();
    teardown(last);
    return std::move(report_);
  }

 private:
  std::string kind_at(size_t i) const {
    return i < report_.stream.size() ? std::string(op_kind_name(report_.stream[i].kind)) : "end";
  }

  // A finding in the run's report; `backend` is the one that differs, when one does alone.
  Finding& add(Severity s, const char* oracle, size_t i, std::string summary,
               std::vector<std::string> evidence = {}, std::string rule = {},
               std::string backend = {}) {
    Finding f{s, oracle, i, kind_at(i), std::move(summary), std::move(evidence)};
    f.rule = std::move(rule);
    f.backend = std::move(backend);
    report_.findings.push_back(std::move(f));
    return report_.findings.back();
  }

  // Hands the findings made since the last call to HarnessOptions::on_finding. Called before
  // anything runs a backend again, from the harness's own thread.
  void pass_on_findings() {
    for (; passed_on_ < report_.findings.size(); ++passed_on_)
      if (options_.on_finding) options_.on_finding(report_.findings[passed_on_]);
  }

  bool step(size_t i) {
    const Op& op = report_.stream[i];
    bool skip = op.kind != OpKind::Init && !lanes_.front().backend->root().live();
    // The table goes: what it translated is counted now, as a check of the whole would have
    // (and in the format of its configuration).
    if (op.kind == OpKind::Init || (op.kind == OpKind::Destroy && !skip)) count_mappings();
    if (op.kind == OpKind::Init) take_config(op.config);
    report_.skipped.push_back(skip);
    // The pages of the unlinked table each lane is about to free: all of them must go.
    std::vector<std::vector<uint64_t>> freed_tree(lanes_.size());
    if (op.kind == OpKind::FreeUnlinked && !skip)
      for (size_t b = 0; b < lanes_.size(); ++b) freed_tree[b] = unlinked_pages(lanes_[b], op.addr);
    for (size_t b = 0; b < lanes_.size(); ++b) {
      Lane& lane = lanes_[b];
      // Re-init destroys first; do it here so the destroy's leaks are checked on their own.
      if (op.kind == OpKind::Init && lane.backend->root().live()) {
        lane.backend->destroy();
        lane.machine->memory.report_leaks();
      }
      OpResult r;
      pass_on_findings();
      if (options_.on_apply) options_.on_apply(i, b);
      if (!skip) r = apply_op(*lane.backend, *lane.machine, op, config_);
      if (op.kind == OpKind::Destroy && !skip) lane.machine->memory.report_leaks();
      report_.results[b].push_back(r);
    }
    OpResult expected;
    if (!skip && model_runs_) expected = model_.apply(op);
    for (auto& lane : lanes_) {
      if (lane.machine->memory.bound_reached()) {
        report_.bound_reached = true;
        report_.bound_op = i;
        report_.refusal =
            fmt::format("operation #{} {} needs more than the memory bound of {} table pages", i,
                        format_op(op), options_.limits.max_pages);
        return false;
      }
    }
    bool ok = check_results(i);
    ok = ok && (!model_runs_ || check_model_result(i, expected));
    // The per-lane oracles of one operation, in report order. effects-trace compares what the
    // effects oracle traced, so it comes after it.
    ok = judge(i, "warnings", per_lane([&](Lane& l) { return warnings_of(l, i); })) && ok;
    ok = judge(i, "memory", per_lane([&](Lane& l) { return memory_faults_of(l); })) && ok;
    if (op.kind == OpKind::FreeUnlinked && !skip)
      ok = judge(i, "memory", pages_left_by_free(freed_tree)) && ok;
    if (effects_judged()) {
      ok = judge(i, "effects", effects_objections(op)) && ok;
      if (mirror_parted_) return false;
      ok = judge(i, "effects-trace", effects_trace_differences(op)) && ok;
    }
    if (zero_check_runs_)
      ok = judge(i, "zero-check", per_lane([&](Lane& l) { return zero_check_of(l); })) && ok;
    for (auto& lane : lanes_) lane.machine->effects.clear();
    if (options_.check_every_op && lanes_.front().backend->root().live())
      ok = compare_tables(i, /*final_check=*/false) && ok;
    else if ((op.kind == OpKind::CreateUnlinked || op.kind == OpKind::FreeUnlinked) && !skip)
      ok = compare_unlinked(i) && ok;  // freed by the end of the stream, perhaps
    return ok;
  }

  // The warnings and memory oracles on every lane after section S. A warning one of the
  // section's operations may cause is expected of the section.
  bool judge_section_lanes(const Section& s) {
    const size_t last = s.end - 1;
    size_t expecting = last;
    for (size_t i = s.begin; i < s.end; ++i)
      if (warning_expected(i)) expecting = i;
    bool ok = judge(last, "warnings", per_lane([&](Lane& l) { return warnings_of(l, expecting); }));
    return judge(last, "memory", per_lane([&](Lane& l) { return memory_faults_of(l); })) && ok;
  }

  // A lane reached the memory bound in section S: the stream is refused there.
  bool section_bound_reached(const Section& s) {
    for (auto& lane : lanes_) {
      if (lane.machine->memory.bound_reached()) {
        report_.bound_reached = true;
        report_.bound_op = s.begin;
        report_.refusal = fmt::format(
            "the concurrent section at operation #{} needs more than the memory bound of {} table "
            "pages",
            s.begin, options_.limits.max_pages);
        return true;
      }
    }
    return false;
  }

  // The code of section S's vCPUs on lane B: each runs its operations in stream order, writing
  // their results into RESULTS (indexed from the section's first operation).
  std::vector<std::function<void()>> section_vcpus(const Section& s, size_t b,
                                                   std::vector<OpResult>& results) {
    std::vector<std::function<void()>> vcpus(s.vcpus);
    for (unsigned v = 0; v < s.vcpus; ++v)
      vcpus[v] = [this, &s, &results, v, b] {
        const Stream& stream = report_.stream;
        Lane& lane = lanes_[b];
        for (size_t i = s.begin; i < s.end; ++i) {
          if (stream[i].vcpu != v) continue;
          if (options_.on_apply) options_.on_apply(i, b);
          // kvm_pgtable_get_leaf takes no RCU read lock of its own: its callers hold one (the
          // MMU lock for read), so that no table it walks is freed under it.
          const bool read_lock = stream[i].kind == OpKind::GetLeaf;
          if (read_lock) sched::DeterministicScheduler::rcu_read_lock();
          results[i - s.begin] = apply_op(*lane.backend, *lane.machine, stream[i], config_);
          if (read_lock) sched::DeterministicScheduler::rcu_read_unlock();
        }
      };
    return vcpus;
  }

  // A concurrent section: each lane runs its vCPUs under the section's schedule. Every lane's
  // shared walks make the same scheduling points, so the same schedule interleaves them alike:
  // where their switches part, that point is the finding. Then the results compare as serial
  // ones do, and the model is held to some serial order of the section (oracles/
  // linearizability.h).
  bool step_section(const Section& s) {
    pass_on_findings();  // here: the vCPUs' threads must not
    if (options_.threads) return step_threaded_section(s);
    const Stream& stream = report_.stream;
    const bool skip = !lanes_.front().backend->root().live();
    for (size_t i = s.begin; i < s.end; ++i) report_.skipped.push_back(skip);
    std::vector<sched::ConcurrentRun> runs(lanes_.size());
    for (size_t b = 0; b < lanes_.size(); ++b) {
      std::vector<OpResult> results(s.end - s.begin);
      if (!skip) {
        std::vector<std::function<void()>> vcpus = section_vcpus(s, b, results);
        sched::DeterministicScheduler scheduler(stream[s.begin].schedule);
        runs[b] = scheduler.run(std::move(vcpus));
        for (const std::exception_ptr& failure : runs[b].failures)
          if (failure) std::rethrow_exception(failure);
      }
      for (const OpResult& r : results) report_.results[b].push_back(r);
    }
    if (section_bound_reached(s)) return false;
    const size_t first_finding = report_.findings.size();
    bool ok = !skip ? same_interleaving(s, runs) : true;
    for (size_t i = s.begin; i < s.end && ok; ++i) ok = check_results(i);
    // The model follows the reference lane whatever the others did: were it left behind when a
    // lane parts from the reference, every lane's table would differ from it after the section,
    // and the reference lane would be blamed for another lane's bug.
    if (!skip && model_runs_) ok = check_linearizable(s) && ok;
    const size_t last = s.end - 1;
    ok = judge_section_lanes(s) && ok;
    // The section's effects, interleaved, are judged as one shared walk's: break-before-make on
    // each entry, no stale TLB entry and no missing cache maintenance once every vCPU is done.
    ok = judge(s.begin, "effects", effects_objections(section_effects_op(s))) && ok;
    if (mirror_parted_) return false;
    ok = judge(s.begin, "effects-trace", effects_trace_differences(section_effects_op(s))) && ok;
    for (auto& lane : lanes_) lane.machine->effects.clear();
    if (options_.check_every_op && lanes_.front().backend->root().live())
      ok = compare_tables(last, /*final_check=*/false) && ok;
    // Every finding of the section says how it was interleaved, so that it can be read (and
    // replayed) as it happened.
    for (size_t f = first_finding; f < report_.findings.size(); ++f)
      for (size_t b = 0; b < lanes_.size(); ++b)
        report_.findings[f].evidence.push_back(
            fmt::format("{}: {}", lanes_[b].name, describe_run(stream[s.begin].schedule, runs[b])));
    return ok;
  }

  // The effects oracles follow the tables through the recorded stores, in order. The vCPUs of a
  // threaded section record theirs in an order that is not quite the order of their atomics, so
  // with real threads no operation of the stream is judged on its effects.
  bool effects_judged() const { return !options_.threads; }

  // A concurrent section on real threads (HarnessOptions::threads): each lane's vCPUs race as the
  // machine lets them. Lanes need neither interleave nor return alike, so each is held to the
  // model on its own: some serial order of the section gives its results and its table. Then the
  // end-state oracles: warnings, memory (a use of a freed page among them) and, with
  // check_every_op, the tables. Lanes that raced to different outcomes end the stream there.
  bool step_threaded_section(const Section& s) {
    const bool skip = !lanes_.front().backend->root().live();
    for (size_t i = s.begin; i < s.end; ++i) report_.skipped.push_back(skip);
    for (size_t b = 0; b < lanes_.size(); ++b) {
      Lane& lane = lanes_[b];
      std::vector<OpResult> results(s.end - s.begin);
      if (!skip) {
        std::vector<std::function<void()>> vcpus = section_vcpus(s, b, results);
        sched::ThreadedRun run;
        lane.machine->set_concurrent(true);
        sched::ThreadedOutcome outcome;
        try {
          outcome = run.run(std::move(vcpus));
        } catch (...) {
          lane.machine->set_concurrent(false);
          throw;
        }
        lane.machine->set_concurrent(false);
        for (const std::exception_ptr& failure : outcome.failures)
          if (failure) std::rethrow_exception(failure);
        ++report_.threaded.sections;
        report_.threaded.lost_cmpxchgs += outcome.lost_cmpxchgs;
        for (const OpResult& r : results) report_.threaded.eagain += r.ret == -EAGAIN;
      }
      for (const OpResult& r : results) report_.results[b].push_back(r);
      lane.machine->effects.clear();
    }
    if (section_bound_reached(s)) return false;
    bool ok = true;
    if (!skip && model_runs_) {
      std::optional<ReferenceModel> after;
      for (size_t b = 0; b < lanes_.size(); ++b) {
        std::optional<ReferenceModel> m = linearized_model(s, b);
        ok = m.has_value() && ok;
        if (b == ref_ && m) after = std::move(m);
      }
      if (after) model_ = std::move(*after);
    }
    const size_t last = s.end - 1;
    ok = judge_section_lanes(s) && ok;
    if (!skip && !lanes_raced_alike(s)) {
      report_.threaded.raced_apart = true;
      return false;
    }
    if (options_.check_every_op && lanes_.front().backend->root().live())
      ok = compare_tables(last, /*final_check=*/false) && ok;
    return ok;
  }

  // Whether every lane returned what the reference did in section S and holds the same table
  // (translation and table pages): then the stream can go on comparing them.
  bool lanes_raced_alike(const Section& s) const {
    const Lane& ref = lanes_[ref_];
    if (!ref.backend->root().live()) return true;
    const Translation ref_translation = arch_walk(root_of(ref), ref.machine->memory).translation;
    std::vector<ModelTable> ref_tables = tables_of(ref);
    std::sort(ref_tables.begin(), ref_tables.end());
    for (size_t b = 0; b < lanes_.size(); ++b) {
      if (b == ref_) continue;
      for (size_t i = s.begin; i < s.end; ++i)
        if (!(report_.results[b][i] == report_.results[ref_][i])) return false;
      const Lane& lane = lanes_[b];
      if (compare_translations(ref_translation,
                               arch_walk(root_of(lane), lane.machine->memory).translation,
                               *format_))
        return false;
      std::vector<ModelTable> tables = tables_of(lane);
      std::sort(tables.begin(), tables.end());
      if (tables != ref_tables) return false;
    }
    return true;
  }

  // The operation whose rules the section's effects are held to: a map's, when it has one (the
  // rules every shared walk keeps), else its first operation's.
  const Op& section_effects_op(const Section& s) const {
    for (size_t i = s.begin; i < s.end; ++i)
      if (report_.stream[i].kind == OpKind::Map) return report_.stream[i];
    return report_.stream[s.begin];
  }

  static std::string describe_run(const sched::Schedule& schedule,
                                  const sched::ConcurrentRun& run) {
    std::string switches;
    for (const sched::Switch& sw : run.switches)
      switches += fmt::format("{}{}: vCPU {} -> {} at {}", switches.empty() ? "" : ", ", sw.point,
                              sw.from, sw.to, sw.what);
    return fmt::format("schedule '{}', {} scheduling points, switches: {}",
                       sched::schedule_text(schedule), run.points,
                       switches.empty() ? "none" : switches);
  }

  // The lanes' interleavings: the same switches at the same points.
  bool same_interleaving(const Section& s, const std::vector<sched::ConcurrentRun>& runs) {
    const sched::ConcurrentRun& ref = runs[ref_];
    auto same = [](const sched::Switch& a, const sched::Switch& b) {
      return a.point == b.point && a.from == b.from && a.to == b.to && a.what == b.what;
    };
    bool ok = true;
    for (size_t b = 0; b < lanes_.size(); ++b) {
      if (b == ref_) continue;
      const sched::ConcurrentRun& mine = runs[b];
      size_t k = 0;
      while (k < ref.switches.size() && k < mine.switches.size() &&
             same(ref.switches[k], mine.switches[k]))
        ++k;
      if (k == ref.switches.size() && k == mine.switches.size() && ref.points == mine.points)
        continue;
      auto at = [](const sched::ConcurrentRun& r, size_t n) {
        if (n >= r.switches.size())
          return fmt::format("no switch (the vCPUs ended after {} points)", r.points);
        const sched::Switch& sw = r.switches[n];
        return fmt::format("at point {}, {}: vCPU {} -> {}", sw.point, sw.what, sw.from, sw.to);
      };
      add(Severity::Functional, "interleaving", s.begin,
          fmt::format("the same schedule interleaves {} and {} differently from switch #{}: "
                      "their shared walks part there",
                      lanes_[ref_].name, lanes_[b].name, k),
          {fmt::format("{}: {}", lanes_[ref_].name, at(ref, k)),
           fmt::format("{}: {}", lanes_[b].name, at(mine, k))},
          "scheduling-points", lanes_[b].name);
      ok = false;
    }
    return ok;
  }

  // The model holds the reference lane's results and table to some serial order of the section.
  bool check_linearizable(const Section& s) {
    std::optional<ReferenceModel> m = linearized_model(s, ref_);
    if (m) model_ = std::move(*m);
    return m.has_value();
  }

  // The model after some serial order of section S that gives lane B's results and table, or
  // nothing, and then a finding (naming the lane unless it is the reference).
  std::optional<ReferenceModel> linearized_model(const Section& s, size_t b) {
    const Lane& lane = lanes_[b];
    std::vector<OpResult> results(report_.results[b].begin() + std::ptrdiff_t(s.begin),
                                  report_.results[b].begin() + std::ptrdiff_t(s.end));
    std::optional<Translation> observed;
    std::vector<ModelTable> end_tables;
    std::vector<ObservedLeaf> end_leaves;
    if (lane.backend->root().live()) {
      observed = arch_walk(root_of(lane), lane.machine->memory).translation;
      for (const SnapshotEntry& e : take_snapshot(*lane.backend, lane.machine->memory).entries) {
        const DescriptorKind kind = format_->classify(e.raw, e.level);
        if (kind == DescriptorKind::Table)
          end_tables.push_back({unsigned(e.level) + 1, e.ipa});
        else if (kind == DescriptorKind::Block || kind == DescriptorKind::Page)
          end_leaves.push_back({e.level, e.ipa, e.raw});
      }
    }
    const LinearizabilityVerdict verdict = linearize(
        model_, report_.stream, s, results, end_tables, end_leaves, [&](const ReferenceModel& m) {
          if (!observed || !m.live()) return !observed && !m.live();
          return !compare_translations(*observed, m.translation(), *format_);
        });
    if (verdict.found) return verdict.found->model;
    std::vector<std::string> evidence;
    for (size_t i = s.begin; i < s.end; ++i)
      evidence.push_back(fmt::format("#{} {}: {}", i, format_op(report_.stream[i]),
                                     describe_result(report_.stream[i], results[i - s.begin])));
    add(Severity::Functional, "reference-model", s.begin,
        verdict.decided
            ? fmt::format("no serial order of the concurrent section's {} operations gives what "
                          "every backend returned and the table they left ({} model steps)",
                          s.end - s.begin, verdict.steps)
            : fmt::format("the concurrent section's {} operations were not linearized within {} "
                          "model steps",
                          s.end - s.begin, kMaxModelSteps),
        std::move(evidence), "linearizability", b == ref_ ? std::string() : lane.name);
    return std::nullopt;
  }

  // The table pages a lane's table has, as the model names them: the level of the page and
  // the first address it translates.
  std::vector<ModelTable> tables_of(const Lane& lane) const {
    std::vector<ModelTable> out;
    for (const SnapshotEntry& e : take_snapshot(*lane.backend, lane.machine->memory).entries)
      if (format_->classify(e.raw, e.level) == DescriptorKind::Table)
        out.push_back({unsigned(e.level) + 1, e.ipa});
    return out;
  }

  // report_.mappings, when the last check read the tables only within windows.
  void count_mappings() {
    if (mappings_counted_ || !lanes_[ref_].backend->root().live()) return;
    report_.mappings =
        arch_walk(root_of(lanes_[ref_]), lanes_[ref_].machine->memory).translation.mappings.size();
    mappings_counted_ = true;
  }

  // The backends agree with each other; do they agree with the model of the operations?
  bool check_model_result(size_t i, const OpResult& expected) {
    if (report_.results[ref_][i] == expected) return true;
    const Op& op = report_.stream[i];
    add(Severity::Functional, "reference-model", i,
        fmt::format("every backend returned the same for {}, but the model expects otherwise",
                    format_op(op)),
        {fmt::format("backends: {}", describe_result(op, report_.results[ref_][i])),
         fmt::format("model: {}", describe_result(op, expected))},
        "result");
    return false;
  }

  bool check_results(size_t i) {
    const Op& op = report_.stream[i];
    std::string differs;
    for (size_t b = 0; b < lanes_.size() && differs.empty(); ++b)
      if (!(report_.results[b][i] == report_.results[ref_][i])) differs = lanes_[b].name;
    if (differs.empty()) return true;
    std::vector<std::string> evidence;
    for (size_t b = 0; b < lanes_.size(); ++b)
      evidence.push_back(
          fmt::format("{}: {}", lanes_[b].name, describe_result(op, report_.results[b][i])));
    add(Severity::Functional, "return-codes", i,
        fmt::format("backends disagree on the result of {}", format_op(op)), std::move(evidence),
        "result", differs);
    return false;
  }

  // A caller breaking a documented precondition makes the kernel warn (and fail the operation):
  // map on an identity-mapped table (pKVM's host stage-2) with addr != phys. The return codes still
  // have to agree; the warning itself is expected.
  // The kernel's WARN_ONs of its callers' preconditions: an identity map asked to map elsewhere;
  // in 6.12, test_clear_young (is_young, mkold) of a page beyond the IPA space, whose walk fails
  // with -ERANGE.
  bool warning_expected(size_t i) const {
    if (i >= report_.stream.size()) return false;
    const Op& op = report_.stream[i];
    if (op.kind == OpKind::Map && config_.arm64.idmap && op.addr != op.phys) return true;
    if (profile_ != ProfileId::Arm64Linux612) return false;
    const bool aging = op.kind == OpKind::IsYoung || op.kind == OpKind::Mkold;
    if (aging) return (op.addr >> config_.arm64.ia_bits) != 0;
    if (op.kind != OpKind::Arm64TestClearYoung) return false;
    // The walk's -ERANGE: its page-aligned start or end (PAGE_ALIGN, wrapping) past the IPA size.
    const uint64_t page = arm64s2::kPageSize;
    const uint64_t start = op.addr & ~(page - 1);
    const uint64_t end = (start + op.size + page - 1) & ~(page - 1);
    const uint64_t limit = arm64s2::bit(config_.arm64.ia_bits);
    return start > limit || end > limit;
  }

  // ---- The per-lane oracles: each judges one backend on its own -----------------------------
  struct LaneObjection {
    size_t lane;
    Objection objection;
  };

  template <typename Oracle>
  std::vector<LaneObjection> per_lane(Oracle oracle) {
    std::vector<LaneObjection> out;
    for (size_t b = 0; b < lanes_.size(); ++b)
      for (auto& o : oracle(lanes_[b])) out.push_back({b, std::move(o)});
    return out;
  }

  // ---- Linux 6.12's unlinked tables ---------------------------------------------------------
  std::vector<UnlinkedTable> unlinked_of(const Lane& lane) const {
    if (arch_ != Arch::Arm64S2) return {};
    return as_arm64(*lane.backend).unlinked_tables();
  }

  // The pages of the unlinked table free_unlinked N frees in this lane (N modulo how many).
  std::vector<uint64_t> unlinked_pages(const Lane& lane, uint64_t n) const {
    const std::vector<UnlinkedTable> live = unlinked_of(lane);
    if (live.empty()) return {};
    return tree_pages(unlinked_root(live[n % live.size()], root_of(lane)), lane.machine->memory);
  }

  // kvm_pgtable_stage2_free_unlinked puts every page of the tree: one still live is leaked.
  std::vector<LaneObjection> pages_left_by_free(const std::vector<std::vector<uint64_t>>& tree) {
    std::vector<LaneObjection> out;
    for (size_t b = 0; b < lanes_.size(); ++b) {
      std::vector<std::string> left;
      for (uint64_t pa : tree[b])
        if (lanes_[b].machine->memory.is_live(pa)) left.push_back(fmt::format("{:#x}", pa));
      if (left.empty()) continue;
      out.push_back({b,
                     {Severity::Functional,
                      memory_fault_name(MemoryFaultKind::LeakedPage),
                      fmt::format("free_unlinked left {} of the {} table pages of the table it "
                                  "freed allocated",
                                  left.size(), tree[b].size()),
                      std::nullopt,
                      {fmt::format("still live: {}", fmt::join(left, ", "))}}});
    }
    return out;
  }

  // Every lane's live unlinked tables, oldest first, as the table oracles judge linked ones:
  // the architecture's walk and the invariants of each on its own, what it translates against
  // the model, and each against the reference's table of the same rank (masked hash).
  bool compare_unlinked(size_t i) {
    if (arch_ != Arch::Arm64S2) return true;
    std::vector<std::vector<UnlinkedTable>> live(lanes_.size());
    bool any = model_runs_ && !model_.unlinked().empty();
    for (size_t b = 0; b < lanes_.size(); ++b) {
      live[b] = unlinked_of(lanes_[b]);
      any = any || !live[b].empty();
    }
    if (!any) return true;
    bool ok = true;
    std::vector<std::vector<ArchWalk>> walks(lanes_.size());
    std::vector<std::vector<HashedTable>> hashes(lanes_.size());
    std::vector<LaneObjection> anomalies, invariants;
    for (size_t b = 0; b < lanes_.size(); ++b) {
      const Lane& lane = lanes_[b];
      for (size_t k = 0; k < live[b].size(); ++k) {
        const TableRoot root = unlinked_root(live[b][k], root_of(lane));
        walks[b].push_back(arch_walk(root, lane.machine->memory));
        hashes[b].push_back(hash_table(root, lane.machine->memory, options_.hash_key));
        for (const auto& a : walks[b][k].anomalies)
          anomalies.push_back(
              {b,
               {Severity::Security, "architecture", fmt::format("unlinked table #{}: {}", k, a)}});
        for (auto& v : check_invariants(root, lane.machine->memory))
          invariants.push_back(
              {b,
               {v.severity, v.rule, fmt::format("{}: unlinked table #{}: {}", v.rule, k, v.what)}});
      }
    }
    ok = judge(i, "translation", anomalies) && ok;
    ok = judge(i, "invariants", invariants) && ok;
    if (model_runs_) {
      const size_t expected = model_.unlinked().size();
      for (size_t b = 0; b < lanes_.size(); ++b) {
        if (live[b].size() != expected) {
          ok = false;
          add(Severity::Functional, "reference-model", i,
              fmt::format("{}: {} unlinked tables live, the model expects {}", lanes_[b].name,
                          live[b].size(), expected),
              {}, "unlinked", lanes_[b].name);
          continue;
        }
        for (size_t k = 0; k < expected; ++k) {
          const auto d = compare_translations(walks[b][k].translation,
                                              model_.unlinked_translation(k), *format_);
          if (!d) continue;
          ok = false;
          add(d->severity, "reference-model", i,
              fmt::format("{}: unlinked table #{} (level {}): {}", lanes_[b].name, k,
                          live[b][k].level, d->what),
              {}, "unlinked", lanes_[b].name);
        }
      }
    }
    const Lane& ref = lanes_[ref_];
    for (size_t b = 0; b < lanes_.size(); ++b) {
      if (b == ref_) continue;
      const Lane& lane = lanes_[b];
      std::vector<unsigned> ref_levels, levels;
      for (const auto& t : live[ref_]) ref_levels.push_back(t.level);
      for (const auto& t : live[b]) levels.push_back(t.level);
      if (levels != ref_levels) {
        ok = false;
        add(Severity::Functional, "masked-hash", i,
            fmt::format("{} holds unlinked tables of levels [{}], {} of levels [{}]", lane.name,
                        fmt::join(levels, ", "), ref.name, fmt::join(ref_levels, ", ")),
            {}, "unlinked", lane.name);
        continue;
      }
      for (size_t k = 0; k < levels.size(); ++k) {
        const auto diff = first_divergence(hashes[ref_][k], ref.machine->memory, hashes[b][k],
                                           lane.machine->memory);
        if (!diff) continue;
        ok = false;
        const bool fwb = ref.backend->root().fwb;
        std::vector<std::string> evidence = {
            fmt::format("{:<8} offset {:#x}: {}", ref.name, diff->ipa,
                        format_->describe(diff->a, diff->level, fwb)),
            fmt::format("{:<8} offset {:#x}: {}", lane.name, diff->ipa,
                        format_->describe(diff->b, diff->level, fwb))};
        const auto tdiff =
            compare_translations(walks[b][k].translation, walks[ref_][k].translation, *format_);
        if (tdiff)
          add(tdiff->severity, "translation", i,
              fmt::format("{}'s unlinked table #{} differs from {}'s: {}", lane.name, k, ref.name,
                          tdiff->what),
              evidence, "unlinked", lane.name);
        else
          add(Severity::StructuralOnly, "masked-hash", i,
              fmt::format("{}'s unlinked table #{} translates as {}'s but is built otherwise",
                          lane.name, k, ref.name),
              evidence, "unlinked", lane.name);
      }
    }
    return ok;
  }

  std::vector<Objection> warnings_of(Lane& lane, size_t i) {
    std::vector<Objection> out;
    bool expected = warning_expected(i);
    for (auto& w : lane.backend->take_warnings())
      if (!expected) out.push_back({Severity::Functional, "warn", fmt::format("warned: {}", w)});
    return out;
  }

  std::vector<Objection> memory_faults_of(Lane& lane) {
    std::vector<Objection> out;
    const auto& faults = lane.machine->memory.faults();
    for (; lane.faults_seen < faults.size(); ++lane.faults_seen) {
      const MemoryFault& mf = faults[lane.faults_seen];
      out.push_back({memory_fault_severity(mf.kind),
                     memory_fault_name(mf.kind),
                     memory_fault_name(mf.kind),
                     std::nullopt,
                     {mf.detail}});
    }
    return out;
  }

  // The WARN_ONCE of make_spte(), seed 001: every present SPTE a backend stored during the
  // operation, in a table page still linked at its end, checked with the kernel's own
  // is_rsvd_spte() against the shadow_zero_check the kernel computes for this configuration.
  std::vector<Objection> zero_check_of(Lane& lane) {
    std::vector<Objection> out;
#ifdef MMUDIFF_HAVE_LINUX612_TDP
    TableRoot root = lane.backend->root();
    if (!root.live()) return out;
    // Most operations (test_age, a spurious fault, a zap of nothing) store no present SPTE: they
    // cost the fuzz loop no table walk.
    const auto& events = lane.machine->effects.events();
    if (std::none_of(events.begin(), events.end(), [](const Effect& e) {
          return e.kind == EffectKind::Store && (e.new_value & x86ept::kMmuPresent);
        }))
      return out;
    const x86::EptConfig& c = config_.x86;
    const linux612::EptZeroCheck check =
        linux612::ept_shadow_zero_check(c.maxphyaddr, /*execonly=*/false, c.levels, c.max_level);
    std::unordered_map<uint64_t, unsigned> level_of;  // table page -> x86 level
    const DescriptorFormat& f = *root.format;
    std::vector<std::pair<uint64_t, unsigned>> pages = {{root.pgd_pa, 0}};
    while (!pages.empty()) {
      auto [pa, t] = pages.back();
      pages.pop_back();
      const uint64_t* table = lane.machine->memory.table_page(pa);
      if (!table || !level_of.emplace(pa, f.levels() - t).second) continue;
      for (unsigned e = 0; e < f.entries_per_table(); ++e)
        if (f.classify(table[e], t) == DescriptorKind::Table)
          pages.push_back({f.next_table_address(table[e], t), t + 1});
    }
    for (const Effect& e : lane.machine->effects.events()) {
      if (e.kind != EffectKind::Store || !(e.new_value & x86ept::kMmuPresent)) continue;
      auto page = level_of.find(e.addr & ~(x86ept::kPageSize - 1));
      if (page == level_of.end() || !linux612::is_rsvd_spte(check, e.new_value, page->second))
        continue;
      out.push_back({Severity::Security, "reserved-spte",
                     fmt::format("SPTE {:#018x} stored at {:#x} (level {}) has a bit "
                                 "shadow_zero_check reserves: the kernel's is_rsvd_spte() "
                                 "rejects it",
                                 e.new_value, e.addr, page->second)});
    }
#else
    (void)lane;
#endif
    return out;
  }

  bool has_reference() const {
    return lanes_.size() > 1 && lanes_[ref_].reference;
  }

  // New tables: the effects checkers start from their roots, the mirrors from both roots.
  void reset_effects() {
    const TableRoot ref_root = lanes_[ref_].backend->root();
    for (auto& lane : lanes_) {
      if (mirror_ && &lane != &lanes_[ref_])
        mirror_parted_ = !lane.mirror.reset(ref_root, lane.backend->root()) || mirror_parted_;
      else
        lane.effects.reset(lane.backend->root(), arch_,
                           arch_ == Arch::Arm64S2 &&
                               config_.arm64.kernel == Arm64Kernel::Linux612 &&
                               config_.arm64.unmap_defers_tlbi());
    }
  }

  std::vector<Objection> effects_of(Lane& lane, const Op& op) {
    if (op.kind == OpKind::Destroy) {
      lane.effects.clear();
      lane.mirror.clear();
      return {};
    }
    return lane.effects.check(lane.machine->effects.events(), op, lane.machine->effects.frees());
  }

  // Every lane's effects objections. With a reference, a lane whose effects are the reference's
  // (its mirror follows the reference, or its trace is the reference's) is held to the
  // reference's verdict: EffectsChecker would object to it as to the reference, up to where its
  // table pages are, which some objections name and which would set them apart.
  std::vector<LaneObjection> effects_objections(const Op& op) {
    std::vector<LaneObjection> out;
    if (op.kind == OpKind::Init) {
      reset_effects();
      return out;
    }
    Lane& ref = lanes_[ref_];
    const std::vector<Objection> by_reference = effects_of(ref, op);
    for (size_t b = 0; b < lanes_.size(); ++b) {
      Lane& lane = lanes_[b];
      if (b == ref_) {
        for (const auto& o : by_reference) out.push_back({b, o});
        continue;
      }
      if (mirror_) {
        if (op.kind == OpKind::Destroy) {
          lane.mirror.clear();
        } else if (!lane.mirror.follow(ref.machine->effects.events(), ref.effects,
                                       lane.machine->effects.events(), ref.machine->effects.frees(),
                                       lane.machine->effects.frees())) {
          mirror_parted_ = true;
          return out;
        }
        for (const auto& o : by_reference) out.push_back({b, o});
        continue;
      }
      std::vector<Objection> own = effects_of(lane, op);
      const bool alike = has_reference() && op.kind != OpKind::Destroy &&
                         lane.effects.trace() == ref.effects.trace() &&
                         lane.effects.free_trace() == ref.effects.free_trace();
      for (auto& o : alike ? by_reference : own) out.push_back({b, o});
    }
    return out;
  }

  // Each backend's effects of the operation against the reference's, in order. Init and destroy
  // are not traced: what they do to the hardware is outside the table's life. A mirror that
  // followed the reference has found them equal already.
  std::vector<LaneObjection> effects_trace_differences(const Op& op) {
    std::vector<LaneObjection> out;
    if (op.kind == OpKind::Init || op.kind == OpKind::Destroy || !lanes_[ref_].reference || mirror_)
      return out;
    const auto& ref = lanes_[ref_].effects.trace();
    for (size_t b = 0; b < lanes_.size(); ++b) {
      if (b == ref_) continue;
      const auto& mine = lanes_[b].effects.trace();
      size_t k = 0;
      while (k < ref.size() && k < mine.size() && ref[k] == mine[k]) ++k;
      if (k == ref.size() && k == mine.size()) continue;
      auto at = [](const std::vector<TraceEntry>& t, size_t n) {
        return n < t.size() ? t[n].describe() : std::string("(nothing)");
      };
      Objection o{Severity::HardwareEffects, "effects-trace",
                  fmt::format("effect #{} differs from {}'s: {} instead of {}", k,
                              lanes_[ref_].name, at(mine, k), at(ref, k))};
      // Both traces side by side from the first differing effect.
      for (size_t n = k; n < std::max(ref.size(), mine.size()) && n < k + 12; ++n)
        o.evidence.push_back(fmt::format("#{:<3} {:<8} {:<64} {:<8} {}", n, lanes_[ref_].name,
                                         at(ref, n), lanes_[b].name, at(mine, n)));
      out.push_back({b, std::move(o)});
    }
    return out;
  }

  // Objections of one oracle, every lane's. One the reference raises is how the reference itself
  // behaves (Linux 6.1's own quirks): a note, whichever others share it; a backend that does not
  // behave alike differs from it, and the comparing oracles (effects-trace, masked-hash) say so.
  // One that only other backends raise is a finding, blamed on each backend that raised it.
  bool judge(size_t i, const char* oracle, const std::vector<LaneObjection>& objections) {
    bool ok = true;
    bool has_reference = lanes_.size() > 1 && lanes_[ref_].reference;
    std::vector<bool> done(objections.size());
    for (size_t k = 0; k < objections.size(); ++k) {
      if (done[k]) continue;
      const Objection& o = objections[k].objection;
      std::vector<size_t> alike;
      std::string who;
      bool by_reference = false;
      for (size_t j = k; j < objections.size(); ++j)
        if (!done[j] && objections[j].objection.same_as(o)) {
          alike.push_back(j);
          by_reference = by_reference || objections[j].lane == ref_;
          const std::string& name = lanes_[objections[j].lane].name;
          if (who.find(name) == std::string::npos) who += (who.empty() ? "" : ", ") + name;
          done[j] = true;
        }
      if (has_reference && by_reference) {
        report_.notes.push_back(fmt::format("operation #{}: {}{}: {}: {}", i, who,
                                            who == lanes_[ref_].name ? " only" : "", oracle,
                                            o.what));
        continue;
      }
      ok = false;
      for (size_t j : alike) {
        const Objection& x = objections[j].objection;
        const std::string& name = lanes_[objections[j].lane].name;
        add(x.severity, oracle, i, fmt::format("{}: {}", name, x.what), x.evidence, x.rule, name);
      }
    }
    return ok;
  }

  // The table every lane's backend has now, in the run's format.
  TableRoot root_of(const Lane& lane) const {
    TableRoot root = lane.backend->root();
    if (root.live() && format_ && root.format != format_)
      throw std::invalid_argument(fmt::format("backend {} builds {} tables, the run checks {}",
                                              lane.name, root.format->name(), format_->name()));
    return root;
  }

  // The masked hash of a lane's table: from its cache between operations; in full at the end
  // (and before any divergence is reported), where a cache that disagrees has missed a write the
  // backend did not record.
  HashedTable hash_lane(Lane& lane, size_t i, bool final_check) {
    TableRoot root = root_of(lane);
    if (!lane.hashes) return hash_table(root, lane.machine->memory, options_.hash_key);
    HashedTable cached = lane.hashes->update(root, lane.machine->memory);
    if (!final_check) return cached;
    HashedTable full = hash_table(root, lane.machine->memory, options_.hash_key);
    if (full.root_hash != cached.root_hash) {
      add(Severity::HardwareEffects, "effects", i,
          fmt::format("{}: unrecorded-store: {}", lane.name, unrecorded_page(full, *lane.hashes)),
          {}, "unrecorded-store", lane.name);
    }
    lane.hashes->clear();
    return full;
  }

  // The deepest table page whose cached hash disagrees with the full one: its own entries
  // changed without a store the EffectLog saw.
  std::string unrecorded_page(const HashedTable& full, const TableHashCache& cache) const {
    uint64_t worst = 0;
    bool found = false;
    const uint64_t low = format_->page_size() - 1;
    for (const auto& [key, h] : full.subtree_hashes) {
      auto c = cache.subtree_hash(key & ~low, static_cast<unsigned>(key & low));
      if (c && *c == h) continue;
      bool deeper = (key & low) > (worst & low) || ((key & low) == (worst & low) && key < worst);
      if (!found || deeper) worst = key;
      found = true;
    }
    if (!found) return "the table changed without a recorded store";
    return fmt::format("level {} table page {:#x} changed without a recorded store", worst & low,
                       worst & ~low);
  }

  // A lane whose table is the reference's up to where its pages are (equal masked hashes, the
  // same root): what its entries say is what the reference's say, so the reference's walk and
  // content invariants are its verdict; aliasing and refcounts, which the masked hash does not
  // see, are its own.
  bool shares_reference_table(size_t b, const std::vector<HashedTable>& hashes) const {
    if (b == ref_ || !has_reference() || hashes[b].root_hash != hashes[ref_].root_hash)
      return false;
    const TableRoot& mine = hashes[b].root;
    const TableRoot& ref = hashes[ref_].root;
    return mine.live() && ref.live() && mine.same_shape(ref);
  }

  // Between operations (every lane's hash cached and all equal), where any table or the model
  // changed since the last check: everywhere else, what that check found still holds. nullopt
  // for a check of the whole tables, after which the next one starts from the whole tables too.
  std::optional<IpaWindows> changed_since_last_check(bool whole) {
    bool cached = true;
    for (const auto& lane : lanes_) cached = cached && lane.hashes;
    if (whole || !cached) {
      for (auto& lane : lanes_) lane.delta.clear();
      return std::nullopt;
    }
    IpaWindows changed = model_.changed();
    for (auto& lane : lanes_)
      lane.delta.update(root_of(lane), lane.machine->memory, *lane.hashes, &changed);
    return changed;
  }

  bool compare_tables(size_t i, bool final_check) {
    bool ok = true;
    std::vector<HashedTable> hashes;
    for (auto& lane : lanes_) hashes.push_back(hash_lane(lane, i, final_check));
    // A divergence is never concluded from cached hashes alone: they are checked in full first.
    bool differ = false;
    for (const auto& h : hashes) differ = differ || h.root_hash != hashes.front().root_hash;
    if (differ && !final_check && lanes_.front().hashes) {
      hashes.clear();
      for (auto& lane : lanes_) hashes.push_back(hash_lane(lane, i, /*final_check=*/true));
    }
    const std::optional<IpaWindows> windows = changed_since_last_check(final_check || differ);
    const IpaWindows* within = windows ? &*windows : nullptr;
    // walks[walk_of[b]] is lane b's architectural walk: the reference's for a lane that shares
    // its table.
    std::vector<ArchWalk> walks;
    std::vector<size_t> walk_of(lanes_.size());
    std::vector<bool> shares(lanes_.size());
    walk_of[ref_] = 0;
    walks.push_back(arch_walk(root_of(lanes_[ref_]), lanes_[ref_].machine->memory, within));
    for (size_t b = 0; b < lanes_.size(); ++b) {
      if (b == ref_) continue;
      shares[b] = shares_reference_table(b, hashes);
      walk_of[b] = shares[b] ? walk_of[ref_] : walks.size();
      if (!shares[b])
        walks.push_back(arch_walk(root_of(lanes_[b]), lanes_[b].machine->memory, within));
    }
    report_.root_hashes.clear();
    for (const auto& h : hashes) report_.root_hashes.push_back(h.root_hash);
    report_.table_pages = hashes[ref_].pages;
    // A walk within windows cannot count the table's ranges: the stream's end counts them.
    if (!within) report_.mappings = walks[walk_of[ref_]].translation.mappings.size();
    mappings_counted_ = !within;

    std::vector<LaneObjection> anomalies, invariants, model_diffs;
    std::vector<Objection> ref_invariants =
        check_invariants(root_of(lanes_[ref_]), lanes_[ref_].machine->memory, false, within);
    for (size_t b = 0; b < lanes_.size(); ++b) {
      for (const auto& a : walks[walk_of[b]].anomalies)
        anomalies.push_back({b, {Severity::Security, "architecture", a}});
      std::vector<Objection> own;
      if (b == ref_) {
        own = ref_invariants;
      } else if (shares[b]) {
        for (const auto& v : ref_invariants)
          if (v.rule != "aliasing" && v.rule != "refcount") own.push_back(v);
        for (auto& v : check_invariants(root_of(lanes_[b]), lanes_[b].machine->memory,
                                        /*only_page_rules=*/true, within))
          own.push_back(std::move(v));
      } else {
        own = check_invariants(root_of(lanes_[b]), lanes_[b].machine->memory, false, within);
      }
      for (auto& v : own)
        invariants.push_back({b, {v.severity, v.rule, fmt::format("{}: {}", v.rule, v.what)}});
    }
    ok = judge(i, "translation", anomalies) && ok;
    ok = judge(i, "invariants", invariants) && ok;
    // What each table translates to, against what the operations alone say it must. The model
    // judges the reference too: a difference every backend shares is still a finding.
    if (model_.live()) {
      Translation expected = model_.translation(within);
      std::vector<std::optional<TranslationDifference>> by_walk(walks.size());
      for (size_t w = 0; w < walks.size(); ++w)
        by_walk[w] = compare_translations(walks[w].translation, expected, *format_);
      for (size_t b = 0; b < lanes_.size(); ++b)
        if (const auto& d = by_walk[walk_of[b]])
          model_diffs.push_back({b, {d->severity, "translation", d->what, d->ipa}});
      for (const auto& [b, o] : model_diffs) {
        ok = false;
        add(o.severity, "reference-model", i, fmt::format("{}: {}", lanes_[b].name, o.what), {},
            o.rule, lanes_[b].name)
            .divergence = sides_at(*o.ipa);
      }
    }
    // Each backend's table against the reference's: linux61, the real kernel code, when built.
    const Lane& ref = lanes_[ref_];
    for (size_t b = 0; b < lanes_.size(); ++b) {
      if (b == ref_) continue;
      auto diff =
          first_divergence(hashes[ref_], ref.machine->memory, hashes[b], lanes_[b].machine->memory);
      if (!diff) continue;
      ok = false;
      bool fwb = ref.backend->root().fwb;
      std::vector<std::string> evidence = {
          fmt::format("{:<8} IPA {:#x}: {}", ref.name, diff->ipa,
                      format_->describe(diff->a, diff->level, fwb)),
          fmt::format("{:<8} IPA {:#x}: {}", lanes_[b].name, diff->ipa,
                      format_->describe(diff->b, diff->level, fwb))};
      auto tdiff = compare_translations(walks[walk_of[b]].translation,
                                        walks[walk_of[ref_]].translation, *format_);
      Finding& f =
          tdiff ? add(tdiff->severity, "translation", i,
                      fmt::format("{} differs from {}: {}", lanes_[b].name, ref.name, tdiff->what),
                      evidence, "translation", lanes_[b].name)
                : add(Severity::StructuralOnly, "masked-hash", i,
                      fmt::format("{} and {} translate alike but their tables differ (root "
                                  "hashes {:#018x} and {:#018x})",
                                  ref.name, lanes_[b].name, hashes[ref_].root_hash,
                                  hashes[b].root_hash),
                      evidence, "shape", lanes_[b].name);
      f.divergence = {descriptor_side(*format_, ref.name, *diff, diff->a, fwb),
                      descriptor_side(*format_, lanes_[b].name, *diff, diff->b, fwb)};
    }
    return compare_unlinked(i) && ok;
  }

  // Every backend's entry deciding how IPA translates, reference first, for a finding about it.
  std::vector<DescriptorSide> sides_at(uint64_t ipa) const {
    std::vector<DescriptorSide> sides;
    for (const auto& lane : lanes_) {
      auto entry = deciding_entry(root_of(lane), lane.machine->memory, ipa);
      if (entry)
        sides.push_back(
            descriptor_side(*format_, lane.name, *entry, entry->a, lane.backend->root().fwb));
    }
    return sides;
  }

  void teardown(size_t last) {
    if (options_.inspect_final)
      for (auto& lane : lanes_) options_.inspect_final(lane.name, *lane.backend, *lane.machine);
    for (size_t b = 0; b < lanes_.size(); ++b) {
      Lane& lane = lanes_[b];
      // A backend that crashes in its destroy (a table page freed early walks its poison) is
      // the one blamed, not the last to apply an operation.
      pass_on_findings();
      if (options_.on_apply) options_.on_apply(last, b);
      if (lane.backend->root().live()) lane.backend->destroy();
      lane.machine->memory.report_leaks();
      lane.machine->memory.check_freed_pages();
    }
    if (!report_.bound_reached) {
      judge(last, "warnings", per_lane([&](Lane& l) { return warnings_of(l, last); }));
      judge(last, "memory", per_lane([&](Lane& l) { return memory_faults_of(l); }));
    }
  }

  // Each x86 table is in the format of its configuration: the run reads them all in it, and a
  // backend whose table is in another one is refused (root_of). arm64's is options.format, or
  // the LPA2 format for a table with FEAT_LPA2.
  void take_config(const Config& c) {
    config_ = c;
    if (arch_ != Arch::Arm64S2)
      format_ = &profile(arch_).format(c);
    else
      format_ = c.arm64.lpa2 ? &profile(arch_).format(c) : &resolve_format(options_.format);
  }

  static const DescriptorFormat& resolve_format(const std::string& name) {
    const DescriptorFormat* f = find_format(name);
    if (!f) throw std::invalid_argument(fmt::format("unknown descriptor format '{}'", name));
    if (!has_arch_walker(*f))
      throw std::invalid_argument(fmt::format("format '{}' has no architectural walker", name));
    return *f;
  }

  const HarnessOptions& options_;
  const ProfileId profile_;  // the stream's
  const Arch arch_;          // its
  // The profile's oracles (Profile::oracles_not_run): the abstract model knows arm64's
  // operations only; the zero check is x86's.
  const bool model_runs_;
  std::vector<Section> sections_;
  const bool zero_check_runs_;
  // The run's table format: options.format on arm64; on x86 the one of the live configuration.
  const DescriptorFormat* format_;
  StreamReport report_;
  std::vector<Lane> lanes_;
  ReferenceModel model_;
  Config config_;         // of the live table
  size_t ref_ = 0;        // the lane the others are compared with
  size_t passed_on_ = 0;  // findings handed to HarnessOptions::on_finding
  bool mirror_ = false;
  bool mirror_parted_ = false;
  bool mappings_counted_ = true;  // report_.mappings is the last check's
};

}  // namespace

const Finding* StreamReport::worst() const {
  const Finding* w = nullptr;
  for (const auto& f : findings)
    if (!w || f.severity < w->severity) w = &f;
  return w;
}

std::vector<std::string> stream_backends(const Stream& stream,
                                         const std::vector<std::string>& names,
                                         std::vector<std::string>* left_out) {
  const ProfileId profile = stream_profile(stream);
  std::vector<std::string> all = resolve_backends(names, profile);
  if (!has_sections(stream) || profile != ProfileId::Arm64Linux612) return all;
  // The same schedule is the same interleaving only in backends whose shared walks make the
  // kernel's scheduling points.
  std::vector<std::string> kept;
  for (std::string& name : all) {
    if (find_backend(name, profile)->shared_walks)
      kept.push_back(std::move(name));
    else if (left_out)
      left_out->push_back(std::move(name));
  }
  return kept;
}

std::vector<std::string> resolve_backends(const std::vector<std::string>& names, ProfileId id) {
  std::vector<std::string> out;
  bool all = names.empty();
  for (const auto& n : names) all = all || n == "all";
  for (const auto& n : names) {
    if (all || find_backend(n, id)) {
      if (!all) out.push_back(n);
      continue;
    }
    bool elsewhere = false;
    for (const auto& b : registered_backends()) elsewhere = elsewhere || b.name == n;
    if (elsewhere) continue;  // another profile's: a corpus may hold streams of several
    std::vector<std::string_view> names;
    for (const auto& b : registered_backends())
      if (std::find(names.begin(), names.end(), b.name) == names.end()) names.push_back(b.name);
    const std::string known = fmt::format("{}", fmt::join(names, ", "));
    throw std::invalid_argument(fmt::format("unknown backend '{}' (this build has: {})", n, known));
  }
  // A list that names none of this profile's backends (a campaign's arm64 list replaying an x86
  // seed) means all of them.
  if (out.empty())
    for (const auto& b : backends_of(id)) out.emplace_back(b.name);
  if (out.empty())
    throw std::invalid_argument(fmt::format("this build has no {} backend", profile_name(id)));
  return out;
}

namespace {

// The first operation outside what the kernel can be asked: one not of the stream's profile
// (a stream built in memory can mix them; the text and binary forms cannot), or an x86 fault at a
// guest physical address no guest can fault on: at or above 2^MAXPHYADDR, or beyond what the
// root's levels translate (KVM picks a root that covers the guest's addresses).
std::optional<BudgetExcess> out_of_domain(const Stream& stream) {
  const Arch arch = stream_arch(stream);
  const ProfileId profile = stream_profile(stream);
  x86::EptConfig vm;
  for (size_t i = 0; i < stream.size(); ++i) {
    const Op& op = stream[i];
    // An operation of another profile: another architecture's, or 6.12's split in a 6.1 stream.
    bool foreign =
        !op_in_profile(op.kind, profile) || (op.kind == OpKind::Init && op.config.arch != arch);
    if (foreign)
      return BudgetExcess{i, fmt::format("refused: operation #{} {} is not an operation of this {} "
                                         "stream",
                                         i, format_op(op), profile_name(profile))};
    if (op.kind == OpKind::Init) vm = op.config.x86;
    // KVM_MEM_MAX_NR_PAGES: no memslot is larger, so no slot operation's range is.
    constexpr uint64_t kMaxSlotBytes = ((uint64_t{1} << 31) - 1) << x86ept::kPageShift;
    const bool slot_op = op.kind == OpKind::WrprotSlot || op.kind == OpKind::ClearDirty ||
                         op.kind == OpKind::Split || op.kind == OpKind::RecoverHuge;
    if ((slot_op && op.size > kMaxSlotBytes) ||
        (op.kind == OpKind::Init && arch == Arch::X86Ept && vm.slot_size > kMaxSlotBytes))
      return BudgetExcess{i, fmt::format("refused: operation #{} {} names a memslot larger than "
                                         "KVM's 2^31 - 1 pages",
                                         i, format_op(op))};
    // kvm_arch_mmu_enable_log_dirty_pt_masked is only ever called for a dirty page: the TDP MMU
    // starts at __ffs(mask), which an empty mask leaves undefined.
    if (op.kind == OpKind::ClearDirtyMasked && op.prot == 0)
      return BudgetExcess{i, fmt::format("refused: operation #{} {} has an empty mask, which KVM "
                                         "never passes",
                                         i, format_op(op))};
    const unsigned bits = std::min<unsigned>(vm.maxphyaddr, x86ept::gpa_bits(vm.levels));
    if (op.kind == OpKind::Fault && (op.addr >> bits) != 0)
      return BudgetExcess{
          i, fmt::format("refused: operation #{} {} faults above the {}-bit guest physical address "
                         "space (MAXPHYADDR {}, {}-level root): no guest can",
                         i, format_op(op), bits, vm.maxphyaddr, vm.levels)};
  }
  return std::nullopt;
}

}  // namespace

StreamReport run_stream(const Stream& stream, const HarnessOptions& options) {
  std::optional<BudgetExcess> excess;
  if (options.work_budget) excess = work_budget_excess(stream);
  if (!excess) excess = out_of_domain(stream);
  if (excess) {
    // Nothing runs: the backends, their memory and the oracles are never set up.
    StreamReport report;
    report.stream = stream;
    report.backends = stream_backends(stream, options.backends);
    report.results.resize(report.backends.size());
    report.bound_reached = true;
    report.bound_op = excess->op;
    report.refusal = excess->why;
    return report;
  }
  // Most streams keep every lane's effects the reference's: the reference's are judged, the
  // others only followed. The few where one parts from it run again, each lane judged on its own,
  // which tells what differs (the effects-trace oracle) and what it breaks.
  if (!options.mirror_effects) return Run(stream, options, /*mirror=*/false).finish();
  {
    // Gone before the run that judges everyone starts: its backends and machines would double
    // the memory the stream takes (a replay's child has a limit for one run's).
    Run mirrored(stream, options, /*mirror=*/true);
    StreamReport report = mirrored.finish();
    if (!mirrored.mirror_parted()) return report;
  }
  return Run(stream, options, /*mirror=*/false).finish();
}

}  // namespace mmudiff
