// SPDX-License-Identifier: GPL-2.0-only
#include "fuzz/minimize.h"

#include <stdexcept>

#include "mmu/ops/sections.h"
#include "mmu/profile/profile.h"
#include "oracles/isolated_run.h"

namespace mmudiff {

std::optional<FindingKind> finding_kind(const StreamReport& report) {
  const Finding* w = report.worst();
  if (!w) return std::nullopt;
  return FindingKind{w->severity, w->oracle, is_crash_finding(*w) ? w->rule : std::string()};
}

namespace {

class Shrinker {
 public:
  Shrinker(const std::function<bool(const Stream&)>& keeps,
           const std::function<void(const Stream&)>& progress)
      : keeps_(keeps), progress_(progress) {}

  bool reproduces(const Stream& s) {
    // A stream that loses its first init becomes one of another profile, whose text would not
    // hold the operations (a 6.12 map's walk flags, a section on vCPUs).
    // Nor may an operation come before it: the text reads those in the default profile.
    if (!s.empty() && profile_ &&
        (stream_profile(s) != *profile_ || (starts_with_init_ && s.front().kind != OpKind::Init)))
      return false;
    ++runs_;
    return keeps_(s);
  }
  void keep_profile(const Stream& original) {
    profile_ = stream_profile(original);
    starts_with_init_ = !original.empty() && original.front().kind == OpKind::Init;
  }

  // ddmin over operations: remove chunks, halving the chunk size until single operations.
  Stream drop_operations(Stream s) {
    size_t chunk = s.size() / 2;
    while (chunk >= 1) {
      bool shrunk = false;
      for (size_t start = 0; start < s.size();) {
        const size_t end = std::min(s.size(), start + chunk);
        Stream candidate = without_ops(s, start, end);
        if (!candidate.empty() && reproduces(candidate)) {
          s = std::move(candidate);
          shrunk = true;
          if (progress_) progress_(s);
        } else {
          start += chunk;
        }
      }
      if (!shrunk) chunk /= 2;
    }
    return s;
  }

  // Simpler operands, one field at a time: round addresses and sizes to coarser granules,
  // fewer permission bits, the default memcache and configuration.
  Stream simplify_operands(Stream s) {
    for (size_t i = 0; i < s.size(); ++i) {
      for (const Op& candidate_op : simpler(s[i])) {
        Stream candidate = s;
        candidate[i] = candidate_op;
        normalize_sections(candidate);
        if (reproduces(candidate)) {
          s = std::move(candidate);
          if (progress_) progress_(s);
        }
      }
    }
    return s;
  }

  size_t runs() const { return runs_; }

 private:
  static std::vector<Op> simpler(const Op& op) {
    std::vector<Op> out;
    auto with = [&](auto mutate) {
      Op o = op;
      mutate(o);
      if (!(o == op)) out.push_back(o);
    };
    OpShape shape = op_shape(op.kind);
    const Profile& p = profile(op_arch(op.kind).value_or(op.config.arch));
    for (uint64_t g : p.leaf_sizes) {
      with([&](Op& o) { o.addr = o.addr / g * g; });
      if (shape.phys) with([&](Op& o) { o.phys = o.phys / g * g; });
      if (shape.size) with([&](Op& o) { o.size = g; });
    }
    if (shape.phys) with([&](Op& o) { o.phys = o.addr; });
    if (shape.prot)
      for (uint64_t prot : p.simpler_prots(op)) with([&](Op& o) { o.prot = prot; });
    if (shape.level && op.level > 1) with([&](Op& o) { o.level = 1; });
    if (shape.memcache) with([&](Op& o) { o.memcache = kDefaultMemcache; });
    // A shorter schedule (one preemption fewer, or sooner), an operation out of its section
    // (serial) or on vCPU 0: the interleaving shrinks with the operations.
    if (op.opens_section) {
      for (size_t k = 0; k < op.schedule.size(); ++k)
        with([&](Op& o) { o.schedule.erase(o.schedule.begin() + static_cast<long>(k)); });
      for (size_t k = 0; k < op.schedule.size(); ++k)
        if (op.schedule[k].after > 0) with([&](Op& o) { o.schedule[k].after /= 2; });
    }
    if (op.vcpu != kSerial) {
      with([&](Op& o) { o.vcpu = kSerial; });
      if (op.vcpu != 0) with([&](Op& o) { o.vcpu = 0; });
    }
    // The default configuration of the stream's own architecture.
    if (shape.config)
      with([&](Op& o) {
        Config c{.arch = o.config.arch, .arm64 = {}, .x86 = {}};
        c.arm64.kernel = o.config.arm64.kernel;  // and of its own profile
        o.config = c;
      });
    return out;
  }

  const std::function<bool(const Stream&)>& keeps_;
  const std::function<void(const Stream&)>& progress_;
  size_t runs_ = 0;
  std::optional<ProfileId> profile_;
  bool starts_with_init_ = false;
};

}  // namespace

ShrinkResult shrink(const Stream& stream, const std::function<bool(const Stream&)>& keeps,
                    const std::function<void(const Stream&)>& progress) {
  Shrinker m(keeps, progress);
  m.keep_profile(stream);
  Stream s = m.drop_operations(stream);
  // Operand changes can make further operations unnecessary: repeat until nothing changes.
  for (int round = 0; round < 4; ++round) {
    Stream t = m.drop_operations(m.simplify_operands(s));
    if (t == s) break;
    s = std::move(t);
  }
  return {std::move(s), m.runs()};
}

MinimizeResult minimize(const Stream& stream, const HarnessOptions& options,
                        const std::function<void(const Stream&)>& progress,
                        const StreamRunner& runner) {
  const StreamRunner run = runner ? runner : StreamRunner(run_stream);
  auto kind = finding_kind(run(stream, options));
  if (!kind) throw std::invalid_argument("the stream produces no finding: nothing to minimise");
  ShrinkResult r = shrink(
      stream,
      [&](const Stream& s) {
        StreamReport report = run(s, options);
        return !report.bound_reached && finding_kind(report) == kind;
      },
      progress);
  return {std::move(r.stream), *kind, r.runs};
}

}  // namespace mmudiff
