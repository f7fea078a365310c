// SPDX-License-Identifier: GPL-2.0-only
#include "reports/kernel_diff.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <set>

#include <fmt/format.h>

#include "fuzz/minimize.h"
#include "mmu/format/decode.h"
#include "mmu/machine_pool.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "oracles/child_process.h"
#include "oracles/table_hash.h"

namespace mmudiff {

namespace {

std::string return_code(int ret) {
  if (ret >= 0) return fmt::format("{}", ret);
  const char* name = ::strerrorname_np(-ret);
  return name ? fmt::format("-{}", name) : fmt::format("{}", ret);
}

// A descriptor as a class names it: what kind of entry, not where it points.
std::string descriptor_word(uint64_t d) {
  if (d == 0) return "0";
  if (!(d & 1)) return d == 0x400 ? "locked" : "invalid";
  return (d & 2) ? "table/page" : "block";
}

// The descriptor mkyoung/mkold/get_leaf return and get_leaf's level are results too.
std::string result_words(const Op& op, const OpResult& r, const OpResult& other) {
  std::string s = return_code(r.ret);
  if (op.kind == OpKind::Mkyoung || op.kind == OpKind::Mkold || op.kind == OpKind::GetLeaf) {
    s += ", descriptor " + descriptor_word(r.value);
    if (r.value != other.value && descriptor_word(r.value) == descriptor_word(other.value))
      s += " (other bits)";
  }
  if (op.kind == OpKind::GetLeaf) s += fmt::format(" at level {}", r.level);
  return s;
}

// Each entry's life within the operation: the values it went through, in order (6.1's
// "table/page -> 0 -> table/page" against 6.12's "table/page -> locked -> table/page").
std::set<std::string> entry_lives(const std::vector<Effect>& effects) {
  std::map<uint64_t, std::string> by_entry;
  for (const Effect& e : effects) {
    if (e.kind != EffectKind::Store) continue;
    auto [it, fresh] = by_entry.try_emplace(e.addr, descriptor_word(e.old_value));
    it->second += " -> " + descriptor_word(e.new_value);
  }
  std::set<std::string> lives;
  for (auto& [entry, life] : by_entry) lives.insert(std::move(life));
  return lives;
}

// Entry lives only one kernel's stores show, paired by where they start and end: each pair (or
// a life with no partner) is one difference, "0 -> table/page" against "0 -> locked ->
// table/page". How many entries lived it is the range's, not the kernel's.
std::vector<std::pair<std::string, std::string>> store_differences(const std::vector<Effect>& a,
                                                                   const std::vector<Effect>& b) {
  const std::set<std::string> la = entry_lives(a), lb = entry_lives(b);
  auto ends = [](const std::string& life) {
    const auto first = life.find(" -> ");
    return life.substr(0, first) + life.substr(life.rfind(" -> "));
  };
  std::map<std::string, std::pair<std::string, std::string>> by_ends;
  for (const std::string& life : la)
    if (!lb.contains(life)) by_ends[ends(life)].first = life;
  for (const std::string& life : lb)
    if (!la.contains(life)) by_ends[ends(life)].second = life;
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [key, pair] : by_ends)
    out.emplace_back(pair.first.empty() ? "none" : pair.first,
                     pair.second.empty() ? "none" : pair.second);
  return out;
}

std::string maintenance_word(const Effect& e) {
  switch (e.kind) {
    case EffectKind::Store:
      break;
    case EffectKind::TlbiIpa:
      return e.size ? "tlbi range" : (e.level ? fmt::format("tlbi ipa L{}", e.level) : "tlbi ipa");
    case EffectKind::TlbiVmid:
      return "tlbi vmid";
    case EffectKind::Dsb:
      return std::string("dsb ") + barrier_name(e.barrier);
    case EffectKind::Isb:
      return "isb";
    case EffectKind::DcacheCleanInval:
      return "dc civac";
    case EffectKind::IcacheInval:
      return "ic ivau";
  }
  return "";
}

// The addresses a maintenance effect covers, as a half-open range: a cache operation its PA range,
// a range TLBI its IPA range, a TLBI by IPA the page of its IPA; none for barriers and whole-VMID
// TLBIs.
std::optional<std::pair<uint64_t, uint64_t>> covered_range(const Effect& e) {
  constexpr uint64_t kPage = 4096;
  switch (e.kind) {
    case EffectKind::DcacheCleanInval:
    case EffectKind::IcacheInval:
      return std::pair{e.addr, e.addr + e.size};
    case EffectKind::TlbiIpa: {
      const uint64_t page = e.addr & ~(kPage - 1);
      return std::pair{page, page + (e.size ? e.size : kPage)};
    }
    default:
      return std::nullopt;
  }
}

// The union of ranges, as disjoint sorted ranges.
std::vector<std::pair<uint64_t, uint64_t>> merged(std::vector<std::pair<uint64_t, uint64_t>> r) {
  std::sort(r.begin(), r.end());
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const auto& [from, to] : r) {
    if (!out.empty() && from <= out.back().second)
      out.back().second = std::max(out.back().second, to);
    else
      out.emplace_back(from, to);
  }
  return out;
}

// Whether every address of the disjoint sorted ranges INNER lies in those of OUTER.
bool covers(const std::vector<std::pair<uint64_t, uint64_t>>& outer,
            const std::vector<std::pair<uint64_t, uint64_t>>& inner) {
  return std::all_of(inner.begin(), inner.end(), [&](const auto& in) {
    return std::any_of(outer.begin(), outer.end(), [&](const auto& out) {
      return out.first <= in.first && in.second <= out.second;
    });
  });
}

// Each kind of maintenance one kernel does and the other does not, or does once where the other
// does it many times (per page against once per range); and, done as often, over other addresses
// than the other's (a clean of one page of a block, a range TLBI one page short). How many pages
// or which are the stream's, not the kernel's: the class says only less, more or elsewhere.
std::vector<std::pair<std::string, std::string>> maintenance_differences(
    const std::vector<Effect>& a, const std::vector<Effect>& b) {
  struct Seen {
    size_t na = 0, nb = 0;
    std::vector<std::pair<uint64_t, uint64_t>> ra, rb;
  };
  std::map<std::string, Seen> seen;
  for (const Effect& e : a) {
    if (e.kind == EffectKind::Store) continue;
    Seen& s = seen[maintenance_word(e)];
    ++s.na;
    if (auto r = covered_range(e)) s.ra.push_back(*r);
  }
  for (const Effect& e : b) {
    if (e.kind == EffectKind::Store) continue;
    Seen& s = seen[maintenance_word(e)];
    ++s.nb;
    if (auto r = covered_range(e)) s.rb.push_back(*r);
  }
  auto times = [](const std::string& word, size_t n) {
    return n == 0 ? std::string("none") : n == 1 ? word + " once" : word + " many times";
  };
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [word, s] : seen) {
    if (std::min<size_t>(s.na, 2) != std::min<size_t>(s.nb, 2)) {
      out.emplace_back(times(word, s.na), times(word, s.nb));
      continue;
    }
    const auto ra = merged(std::move(s.ra)), rb = merged(std::move(s.rb));
    if (ra == rb) continue;
    const bool a_covers_b = covers(ra, rb), b_covers_a = covers(rb, ra);
    out.emplace_back(word + " over its addresses", a_covers_b   ? word + " over fewer"
                                                   : b_covers_a ? word + " over more"
                                                                : word + " elsewhere");
  }
  return out;
}

// The profile B runs under beside OTHER: the first one both implement, so that two backends of a
// profile are compared on its semantics (walker beside linux61: 6.1); else B's own first
// (linux61 beside linux612: each its kernel's).
ProfileId profile_beside(const BackendInfo& b, const BackendInfo& other) {
  std::optional<ProfileId> first;
  for (unsigned i = 0; i < kProfileCount; ++i) {
    const auto id = static_cast<ProfileId>(i);
    if (!b.implements(id)) continue;
    if (other.implements(id)) return id;
    if (!first) first = id;
  }
  return first.value_or(arch_profile(b.arch));
}

// OP as a backend of profile ID takes it: an init names the profile's kernel.
Op in_profile(Op op, ProfileId id) {
  if (op.kind == OpKind::Init && op.config.arch == Arch::Arm64S2)
    op.config.arm64.kernel = profile_default_config(id).arm64.kernel;
  return op;
}

// One stream's differences as one line of a child's output.
std::string encode_differences(const std::vector<KernelDifference>& ds) {
  nlohmann::json j = nlohmann::json::array();
  for (const KernelDifference& d : ds)
    j.push_back({d.category, d.operation, d.a, d.b, d.detail, d.op_index});
  return j.dump() + "\n";
}

std::vector<KernelDifference> decode_differences(const std::string& line) {
  std::vector<KernelDifference> ds;
  for (const nlohmann::json& d : nlohmann::json::parse(line))
    ds.push_back({d.at(0).get<std::string>(), d.at(1).get<std::string>(),
                  d.at(2).get<std::string>(), d.at(3).get<std::string>(),
                  d.at(4).get<std::string>(), d.at(5).get<size_t>()});
  return ds;
}

// The lane a child marks between streams, where no kernel runs.
constexpr unsigned kBetweenStreams = 2;

// A kernel that crashed or hung on an operation of STREAM, as the progress record names it.
KernelDifference crash_difference(const Stream& stream, const ChildOutcome& child,
                                  double timeout_seconds) {
  const ChildDeath death = describe_death(child, timeout_seconds);
  const size_t op = child.op;
  const std::string fate = death.rule == "timeout" ? "hang" : death.rule;
  KernelDifference d;
  d.category = "crash";
  d.operation = op < stream.size() ? std::string(op_kind_name(stream[op].kind)) : "destroy";
  // The side that died is A only when it died first; B then never ran the operation.
  d.a = child.lane == 0 ? fate : "returned";
  d.b = child.lane == 0 ? "not run" : fate;
  d.detail = death.what;
  d.op_index = std::min(op, stream.empty() ? 0 : stream.size() - 1);
  return d;
}

// The complete lines of a child's output.
std::vector<std::string> complete_lines(const std::string& message) {
  std::vector<std::string> lines;
  size_t from = 0;
  for (size_t nl; (nl = message.find('\n', from)) != std::string::npos; from = nl + 1)
    lines.push_back(message.substr(from, nl - from));
  return lines;
}

}  // namespace

std::vector<KernelDifference> kernel_differences(
    const BackendInfo& a, const BackendInfo& b, const Stream& stream,
    const std::function<void(size_t op, unsigned side)>& on_apply) {
  auto mark = [&](size_t op, unsigned side) {
    if (on_apply) on_apply(op, side);
  };
  std::vector<KernelDifference> out;
  // Machines first, so they outlive the backends.
  PooledMachine ma = pooled_machine(MemoryLimits{}), mb = pooled_machine(MemoryLimits{});
  auto ka = a.create(*ma, Plant::kNone), kb = b.create(*mb, Plant::kNone);
  const SipKey key{};
  const ProfileId pa = profile_beside(a, b), pb = profile_beside(b, a);
  Config config;
  for (size_t i = 0; i < stream.size(); ++i) {
    const Op& op = stream[i];
    if (op.kind == OpKind::Init) config = op.config;
    const std::string name(op_kind_name(op.kind));
    const bool live_a = ka->root().live(), live_b = kb->root().live();
    ma->effects.clear();
    mb->effects.clear();
    OpResult ra, rb;
    mark(i, 0);
    if (op.kind == OpKind::Init || live_a) ra = apply_op(*ka, *ma, in_profile(op, pa), config);
    mark(i, 1);
    if (op.kind == OpKind::Init || live_b) rb = apply_op(*kb, *mb, in_profile(op, pb), config);
    if (!(ra == rb))
      out.push_back({"return code", name, result_words(op, ra, rb), result_words(op, rb, ra),
                     fmt::format("{} / {}", format_op(op),
                                 "ret " + return_code(ra.ret) + " / " + return_code(rb.ret)),
                     i});
    const auto& ea = ma->effects.events();
    const auto& eb = mb->effects.events();
    for (auto& [sa, sb] : store_differences(ea, eb)) out.push_back({"stores", name, sa, sb, "", i});
    for (auto& [fa, fb] : maintenance_differences(ea, eb))
      out.push_back({"maintenance", name, fa, fb, "", i});
    const HashedTable ha = hash_table(ka->root(), ma->memory, key);
    const HashedTable hb = hash_table(kb->root(), mb->memory, key);
    if (auto d = first_divergence(ha, ma->memory, hb, mb->memory)) {
      const bool fwb = config.arm64.fwb;
      const std::string da = describe_descriptor(d->a, d->level, fwb);
      const std::string db = describe_descriptor(d->b, d->level, fwb);
      // The class names the entry kinds (the first word of each description), the detail the
      // entry itself.
      auto kind = [](const std::string& s) {
        const auto first = s.find(' ');
        const auto second = s.find_first_not_of(' ', first);
        const auto end = s.find(' ', second);
        return s.substr(0, end);
      };
      out.push_back({"table", name, kind(da), kind(db),
                     fmt::format("IPA {:#x}: {} / {}", d->ipa, da, db), i});
      break;  // what follows follows from this
    }
  }
  mark(stream.size(), 0);
  if (ka->root().live()) ka->destroy();
  mark(stream.size(), 1);
  if (kb->root().live()) kb->destroy();
  return out;
}

std::vector<KernelDifference> isolated_kernel_differences(const BackendInfo& a,
                                                          const BackendInfo& b,
                                                          const Stream& stream,
                                                          double op_timeout_seconds) {
  SharedProgress progress;
  const ChildOutcome child = run_in_child(
      [&](int out_fd) {
        write_all(out_fd, encode_differences(kernel_differences(
                              a, b, stream,
                              [&](size_t op, unsigned side) { progress->mark(0, op, side); })));
      },
      progress, op_timeout_seconds);
  const std::vector<std::string> lines = complete_lines(child.message);
  if (child.clean() && lines.size() == 1) return decode_differences(lines[0]);
  return {crash_difference(stream, child, op_timeout_seconds)};
}

KernelDiffReport kernel_diff(const BackendInfo& a, const BackendInfo& b,
                             const KernelDiffOptions& options,
                             const std::function<void(const KernelDiffReport&)>& progress) {
  KernelDiffReport report;
  report.a = a.name;
  report.b = b.name;
  report.seed = options.seed;
  std::map<std::string, size_t> index;  // class key -> report.classes
  std::mt19937_64 rng(options.seed);
  // Streams of the profile both run (or A's, each then running it under its own): an operation
  // only one of them has is never generated.
  const RandomStreamOptions generated = RandomStreamOptions::of_profile(profile_beside(a, b));
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // Whichever limit comes first; a limit of 0 is none (the command requires one).
  auto done = [&](size_t streams) {
    return (options.max_streams != 0 && streams >= options.max_streams) ||
           (options.seconds > 0 && elapsed() >= options.seconds);
  };
  auto absorb = [&](const Stream& s, std::vector<KernelDifference> ds) {
    ++report.streams;
    report.operations += s.size();
    std::map<std::string, bool> seen_here;
    for (KernelDifference& d : ds) {
      const std::string k = d.key();
      auto [it, fresh] = index.try_emplace(k, report.classes.size());
      if (fresh) report.classes.push_back({d, 0, 0, {}});
      KernelDiffClass& c = report.classes[it->second];
      ++c.occurrences;
      if (!seen_here[k]) ++c.streams;
      seen_here[k] = true;
      // The shortest prefix that shows it is the example to shrink.
      Stream prefix(s.begin(), s.begin() + static_cast<long>(d.op_index + 1));
      if (fresh || prefix.size() < c.example.size()) {
        c.example = std::move(prefix);
        c.first = d;
      }
    }
    if (progress && report.streams % 256 == 0) progress(report);
  };

  // Each child goes on from the generator's state at its fork, one line per stream, until the
  // limits; here the same generator makes the same streams again to read its lines against.
  while (!done(report.streams)) {
    SharedProgress marks;
    const ChildOutcome child = run_in_child(
        [&](int out_fd) {
          for (size_t k = 0, streams = report.streams; !done(streams); ++k, ++streams) {
            marks->mark(k, 0, kBetweenStreams);
            const Stream s = random_stream(rng, generated);
            write_all(out_fd,
                      encode_differences(kernel_differences(
                          a, b, s, [&](size_t op, unsigned side) { marks->mark(k, op, side); })));
          }
        },
        marks, options.op_timeout_seconds);
    const std::vector<std::string> lines = complete_lines(child.message);
    for (const std::string& line : lines)
      absorb(random_stream(rng, generated), decode_differences(line));
    if (child.clean()) break;
    if (child.lane == kBetweenStreams || child.item != lines.size())
      throw std::runtime_error(fmt::format("semdiff: a child died between streams: {}",
                                           describe_death(child, options.op_timeout_seconds).what));
    const Stream s = random_stream(rng, generated);
    absorb(s, {crash_difference(s, child, options.op_timeout_seconds)});
  }

  if (options.shrink) {
    for (KernelDiffClass& c : report.classes) {
      const std::string k = c.first.key();
      auto shows_isolated = [&](const Stream& s) {
        for (const KernelDifference& d :
             isolated_kernel_differences(a, b, s, options.op_timeout_seconds))
          if (d.key() == k) return true;
        return false;
      };
      // A crash is shrunk one child per candidate; anything else in one child, unless a
      // candidate on the way crashes it.
      std::optional<Stream> shrunk;
      if (c.first.category != "crash") {
        SharedProgress marks;
        const ChildOutcome child = run_in_child(
            [&](int out_fd) {
              auto shows = [&](const Stream& s) {
                for (const KernelDifference& d : kernel_differences(
                         a, b, s, [&](size_t op, unsigned side) { marks->mark(0, op, side); }))
                  if (d.key() == k) return true;
                return false;
              };
              write_all(out_fd, format_stream(shrink(c.example, shows).stream));
            },
            marks, options.op_timeout_seconds);
        if (child.clean()) shrunk = parse_text(child.message, "a shrinking child's stream");
      }
      c.example = shrunk ? *shrunk : shrink(c.example, shows_isolated).stream;
      for (const KernelDifference& d :
           isolated_kernel_differences(a, b, c.example, options.op_timeout_seconds))
        if (d.key() == k) {
          c.first = d;
          break;
        }
    }
  }
  std::stable_sort(
      report.classes.begin(), report.classes.end(),
      [](const KernelDiffClass& x, const KernelDiffClass& y) { return x.streams > y.streams; });
  return report;
}

nlohmann::json kernel_diff_json(const KernelDiffReport& r) {
  nlohmann::json classes = nlohmann::json::array();
  for (const KernelDiffClass& c : r.classes)
    classes.push_back({{"category", c.first.category},
                       {"operation", c.first.operation},
                       {"a", c.first.a},
                       {"b", c.first.b},
                       {"detail", c.first.detail},
                       {"streams", c.streams},
                       {"occurrences", c.occurrences},
                       {"example", format_stream(c.example)},
                       {"example_op", c.first.op_index}});
  return {{"schema", "mmudiff/semdiff-1"},
          {"a", r.a},
          {"b", r.b},
          {"seed", r.seed},
          {"streams", r.streams},
          {"operations", r.operations},
          {"classes", classes}};
}

std::string kernel_diff_text(const KernelDiffReport& r) {
  std::string out = fmt::format(
      "semdiff {} -> {}: {} streams, {} operations, {} class{} of difference\n", r.a, r.b,
      r.streams, r.operations, r.classes.size(), r.classes.size() == 1 ? "" : "es");
  for (const KernelDiffClass& c : r.classes) {
    out += fmt::format("\n[{}] {}: {} {} | {} {}   ({} streams, {} operations)\n", c.first.category,
                       c.first.operation, r.a, c.first.a, r.b, c.first.b, c.streams, c.occurrences);
    if (!c.first.detail.empty()) out += fmt::format("  here: {}\n", c.first.detail);
    out +=
        fmt::format("  example ({} operations, the difference at the last):\n", c.example.size());
    for (size_t i = 0; i < c.example.size(); ++i)
      out += fmt::format("    {}{}\n", format_op(c.example[i]),
                         i == c.first.op_index ? "    <- here" : "");
  }
  return out;
}

}  // namespace mmudiff
