// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/report_text.h"

#include <fmt/format.h>

#include "mmu/ops/sections.h"
#include "mmu/ops/text_format.h"

namespace mmudiff::cli {

namespace {

std::string result_text(const Op& op, const OpResult& r) {
  switch (op.kind) {
    case OpKind::Mkyoung:
    case OpKind::Mkold:
      return fmt::format("-> {:#x}", r.value);
    case OpKind::IsYoung:
      return r.ret ? "-> young" : "-> old";
    case OpKind::Arm64TestClearYoung:
      return r.ret == 1 ? "-> young" : r.ret == 0 ? "-> old" : fmt::format("-> {}", r.ret);
    case OpKind::GetLeaf:
      return r.ret ? fmt::format("-> {}", r.ret) : fmt::format("-> L{} {:#x}", r.level, r.value);
    default:
      return fmt::format("-> {}", r.ret);
  }
}

}  // namespace

std::string format_stream_report(const std::string& source, const StreamReport& report,
                                 bool show_ops, bool completed) {
  // Which semantics the verdict is about: the profile the stream's init put it in.
  std::string out =
      fmt::format("{}: {} operations through {} (profile {})\n", source, report.stream.size(),
                  fmt::join(report.backends, ", "), profile_name(stream_profile(report.stream)));
  size_t executed = report.results.empty() ? 0 : report.results.front().size();
  if (show_ops) {
    for (size_t i = 0; i < executed; ++i) {
      const Op& op = report.stream[i];
      std::string res;
      bool same = true;
      for (size_t b = 1; b < report.results.size(); ++b)
        same = same && report.results[b][i] == report.results[0][i];
      if (report.skipped[i]) {
        res = "(skipped: no table)";
      } else if (same) {
        res = result_text(op, report.results[0][i]);
      } else {
        for (size_t b = 0; b < report.results.size(); ++b)
          res += fmt::format("{}{} {}", b ? ", " : "", report.backends[b],
                             result_text(op, report.results[b][i]));
      }
      out += fmt::format("  #{:<3} {:<64} {}\n", i, format_op(op), res);
    }
  }
  if (report.bound_reached) {
    out += fmt::format("  refused: {}\n", report.refusal);
    return out;
  }
  static const std::vector<OracleInfo> kNotConsulted;
  if (!completed) out += "  the replay stopped before its end: no oracle compared the tables\n";
  const ProfileId profile = stream_profile(report.stream);
  for (const auto& oracle : completed ? oracle_list() : kNotConsulted) {
    if (std::string_view why = why_oracle_not_run(oracle.name, profile); !why.empty()) {
      out += fmt::format("  {:<13} not run: {}\n", oracle.name, why);
      continue;
    }
    if (std::string_view(oracle.name) == "interleaving" && !has_sections(report.stream)) {
      out += fmt::format("  {:<13} not run: the stream has no concurrent section\n", oracle.name);
      continue;
    }
    size_t n = 0;
    for (const auto& f : report.findings) n += f.oracle == oracle.name;
    bool roots_differ = false;
    for (uint64_t h : report.root_hashes) roots_differ = roots_differ || h != report.root_hashes[0];
    if (std::string_view(oracle.name) == "masked-hash" && n == 0 && roots_differ) {
      // The tables differ in what they translate: a translation finding, not a structural one.
      std::string roots;
      for (size_t b = 0; b < report.root_hashes.size(); ++b)
        roots +=
            fmt::format("{}{} {:#018x}", b ? ", " : "", report.backends[b], report.root_hashes[b]);
      out += fmt::format("  {:<13} differs: roots {} (reported under translation)\n", oracle.name,
                         roots);
    } else if (n == 0) {
      std::string what = oracle.ok;
      if (std::string_view(oracle.name) == "masked-hash" && !report.root_hashes.empty())
        what = fmt::format("root {:#018x} on every backend ({} table pages)",
                           report.root_hashes.front(), report.table_pages);
      if (std::string_view(oracle.name) == "translation")
        what = fmt::format("{} ({} mapped ranges)", oracle.ok, report.mappings);
      out += fmt::format("  {:<13} ok: {}\n", oracle.name, what);
    } else {
      out += fmt::format("  {:<13} FAIL: {} finding(s)\n", oracle.name, n);
    }
  }
  for (const auto& n : report.notes) out += fmt::format("  note: {}\n", n);
  if (report.findings.empty()) {
    out += "verdict: EQUIVALENT\n";
    return out;
  }
  const Finding& w = *report.worst();
  out += fmt::format("verdict: DIVERGED ({}, {}) at operation #{}: {}\n", severity_name(w.severity),
                     w.oracle, w.op_index,
                     w.op_index < report.stream.size() ? format_op(report.stream[w.op_index]) : "");
  for (const auto& f : report.findings) {
    out += fmt::format("  [{}] {}\n", f.signature(), f.summary);
    for (const auto& e : f.evidence) out += fmt::format("      {}\n", e);
    // A finding about one IPA (the reference model's) shows each backend's entry deciding it.
    if (f.evidence.empty()) {
      for (const auto& side : f.divergence) {
        std::string fields;
        for (const auto& [name, value] : side.fields) fields += fmt::format(" {}={}", name, value);
        out += fmt::format("      {:<8} IPA {:#x}: L{} {:<8} {:#018x}{}\n", side.backend,
                           side.ipa_start, side.level, side.kind, side.raw, fields);
      }
    }
  }
  return out;
}

}  // namespace mmudiff::cli
