// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/harness.h"

#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/format/format.h"
#include "mmu/ops/text_format.h"
#include "oracles/arch_walk.h"
#include "oracles/deciding_entry.h"
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
  std::unique_ptr<TableHashCache> hashes;  // only when checking after every operation
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
      : options_(options),
        format_(resolve_format(options.format)),
        model_(options.limits.max_pages) {
    report_.stream = stream;
    report_.backends = resolve_backends(options.backends);
    for (const auto& name : report_.backends) {
      Lane lane;
      lane.name = name;
      lane.machine = std::make_unique<Machine>(options.limits);
      lane.backend = find_backend(name)->create(*lane.machine, options.plant);
      if (options.check_every_op && options.hash_cache)
        lane.hashes = std::make_unique<TableHashCache>(options.hash_key);
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
    if (!stopped && !report_.bound_reached) compare_tables(last, /*final_check=*/true);
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
      if (options_.on_apply) options_.on_apply(i, b);
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
      ok = compare_tables(i, /*final_check=*/false);
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

  // The table every lane's backend has now, in the run's format.
  TableRoot root_of(const Lane& lane) const {
    TableRoot root = lane.backend->root();
    if (root.live() && root.format != &format_)
      throw std::invalid_argument(fmt::format("backend {} builds {} tables, the run checks {}",
                                              lane.name, root.format->name(), format_.name()));
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
          fmt::format("{}: unrecorded-store: {}", lane.name, unrecorded_page(full, *lane.hashes)));
    }
    lane.hashes->clear();
    return full;
  }

  // The deepest table page whose cached hash disagrees with the full one: its own entries
  // changed without a store the EffectLog saw.
  std::string unrecorded_page(const HashedTable& full, const TableHashCache& cache) const {
    uint64_t worst = 0;
    bool found = false;
    const uint64_t low = format_.page_size() - 1;
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

  bool compare_tables(size_t i, bool final_check) {
    bool ok = true;
    std::vector<HashedTable> hashes;
    std::vector<ArchWalk> walks;
    for (auto& lane : lanes_) {
      hashes.push_back(hash_lane(lane, i, final_check));
      walks.push_back(arch_walk(root_of(lane), lane.machine->memory));
    }
    // A divergence is never concluded from cached hashes alone: they are checked in full first.
    bool differ = false;
    for (const auto& h : hashes) differ = differ || h.root_hash != hashes.front().root_hash;
    if (differ && !final_check && lanes_.front().hashes) {
      hashes.clear();
      for (auto& lane : lanes_) hashes.push_back(hash_lane(lane, i, /*final_check=*/true));
    }
    report_.root_hashes.clear();
    for (const auto& h : hashes) report_.root_hashes.push_back(h.root_hash);
    report_.table_pages = hashes.front().pages;
    report_.mappings = walks.front().translation.mappings.size();

    std::vector<LaneObjection> anomalies, invariants;
    for (size_t b = 0; b < lanes_.size(); ++b) {
      for (const auto& a : walks[b].anomalies)
        anomalies.push_back({lanes_[b].name, Severity::Security, a});
      for (const auto& v : check_invariants(root_of(lanes_[b]), lanes_[b].machine->memory))
        invariants.push_back({lanes_[b].name, v.severity, fmt::format("{}: {}", v.rule, v.what)});
    }
    ok = report_shared_or_not(i, "translation", anomalies) && ok;
    ok = report_shared_or_not(i, "invariants", invariants) && ok;
    // What each table translates to, against what the operations alone say it must.
    if (model_.live()) {
      Translation expected = model_.translation();
      std::vector<LaneObjection> model_diffs;
      std::vector<uint64_t> diff_ipas;
      for (size_t b = 0; b < lanes_.size(); ++b)
        if (auto d = compare_translations(walks[b].translation, expected, format_)) {
          model_diffs.push_back({lanes_[b].name, d->severity, d->what});
          diff_ipas.push_back(d->ipa);
        }
      if (!model_diffs.empty()) ok = false;
      for (size_t k = 0; k < model_diffs.size(); ++k) {
        const auto& d = model_diffs[k];
        add(d.severity, "reference-model", i, fmt::format("{}: {}", d.lane, d.what));
        report_.findings.back().divergence = sides_at(diff_ipas[k]);
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
                      format_.describe(diff->a, diff->level, fwb)),
          fmt::format("{:<8} IPA {:#x}: {}", lanes_[b].name, diff->ipa,
                      format_.describe(diff->b, diff->level, fwb))};
      auto tdiff = compare_translations(walks[b].translation, walks[0].translation, format_);
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
      report_.findings.back().divergence = {
          descriptor_side(format_, lanes_[0].name, *diff, diff->a, fwb),
          descriptor_side(format_, lanes_[b].name, *diff, diff->b, fwb)};
    }
    return ok;
  }

  // Every backend's entry deciding how IPA translates, reference first, for a finding about it.
  std::vector<DescriptorSide> sides_at(uint64_t ipa) const {
    std::vector<DescriptorSide> sides;
    for (const auto& lane : lanes_) {
      auto entry = deciding_entry(root_of(lane), lane.machine->memory, ipa);
      if (entry)
        sides.push_back(
            descriptor_side(format_, lane.name, *entry, entry->a, lane.backend->root().fwb));
    }
    return sides;
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

  static const DescriptorFormat& resolve_format(const std::string& name) {
    const DescriptorFormat* f = find_format(name);
    if (!f) throw std::invalid_argument(fmt::format("unknown descriptor format '{}'", name));
    if (!has_arch_walker(*f))
      throw std::invalid_argument(fmt::format("format '{}' has no architectural walker", name));
    return *f;
  }

  const HarnessOptions& options_;
  const DescriptorFormat& format_;
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
