// SPDX-License-Identifier: GPL-2.0-only
#include "reports/backend_coverage.h"

#include <charconv>

#include <fmt/format.h>

#include "mmu/ops/text_format.h"

namespace mmudiff {

std::string_view backend_of_source(std::string_view path) {
  // x86 backends first: their names are those of arm64 backends, qualified by the architecture.
  if (path.find("/mmu/walker_x86/") != std::string_view::npos) return "x86-ept/walker";
  if (path.find("/mmu/legacy_x86/") != std::string_view::npos) return "x86-ept/legacy";
  if (path.find("/mmu/linux612_tdp/") != std::string_view::npos ||
      path.find("/arch/x86/kvm/") != std::string_view::npos)
    return "x86-ept/linux612-tdp";
  // The walk engine (mmu/walker/table_walk.h) serves both walkers; its edges count here.
  if (path.find("/mmu/walker/") != std::string_view::npos) return "walker";
  if (path.find("/mmu/legacy/") != std::string_view::npos) return "legacy";
  // The adapters in this tree, and the kernel files extracted into the build tree; a kernel file
  // anywhere else is a developer's own tree (mmu/kernel_trees), whose adapter is its
  // generation's and counts with that release.
  if (path.find("/mmu/linux612/") != std::string_view::npos ||
      path.find("/linux-source-6.12/arch/arm64/") != std::string_view::npos)
    return "linux612";
  if (path.find("/mmu/linux61/") != std::string_view::npos ||
      path.find("/linux-source-6.1/arch/arm64/") != std::string_view::npos)
    return "linux61";
  if (path.find("/arch/arm64/kvm/") != std::string_view::npos) return "your trees";
  return "";
}

namespace {

bool read_number(std::string_view* s, uint64_t* value) {
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), *value);
  if (ec != std::errc() || end == s->data()) return false;
  s->remove_prefix(static_cast<size_t>(end - s->data()));
  return true;
}

bool skip(std::string_view* s, std::string_view literal) {
  if (!s->starts_with(literal)) return false;
  s->remove_prefix(literal.size());
  return true;
}

}  // namespace

std::map<std::string, CodeCoverage> parse_libfuzzer_coverage(std::string_view output,
                                                             std::string_view what) {
  // "[UN]COVERED_FUNC: hits: H edges: C/T FUNCTION FILE:LINE": the function's name may hold
  // spaces ("f() const"); the location is the last word.
  std::map<std::string, CodeCoverage> by_backend;
  size_t line_no = 0;
  while (!output.empty()) {
    size_t nl = output.find('\n');
    std::string_view line = output.substr(0, nl);
    output.remove_prefix(nl == std::string_view::npos ? output.size() : nl + 1);
    ++line_no;
    std::string_view s = line;
    bool covered = skip(&s, "COVERED_FUNC: ");
    if (!covered && !skip(&s, "UNCOVERED_FUNC: ")) continue;
    uint64_t hits = 0, edges_covered = 0, edges = 0;
    size_t space = s.rfind(' ');
    size_t colon = s.rfind(':');
    if (!skip(&s, "hits: ") || !read_number(&s, &hits) || !skip(&s, " edges: ") ||
        !read_number(&s, &edges_covered) || !skip(&s, "/") || !read_number(&s, &edges) ||
        edges_covered > edges || space == std::string_view::npos || colon < space)
      throw InputError(
          fmt::format("{}:{}: not a libFuzzer coverage line: {}", what, line_no, line));
    std::string_view file = line.substr(line.rfind(' ') + 1);
    file = file.substr(0, file.rfind(':'));
    CodeCoverage& c = by_backend[std::string(backend_of_source(file))];
    ++c.functions;
    c.functions_covered += covered && hits > 0;
    c.edges += edges;
    c.edges_covered += edges_covered;
  }
  return by_backend;
}

nlohmann::json coverage_json(const std::map<std::string, CodeCoverage>& by_backend, uint64_t inputs,
                             std::string_view target) {
  auto entry = [](const CodeCoverage& c) {
    return nlohmann::json{{"functions", c.functions},
                          {"functions_covered", c.functions_covered},
                          {"edges", c.edges},
                          {"edges_covered", c.edges_covered}};
  };
  nlohmann::json backends = nlohmann::json::object();
  nlohmann::json unattributed = entry(CodeCoverage{});
  for (const auto& [name, c] : by_backend) {
    if (name.empty())
      unattributed = entry(c);
    else
      backends[name] = entry(c);
  }
  return {{"schema", "mmudiff/coverage-1"},
          {"target", target},
          {"inputs", inputs},
          {"backends", backends},
          {"unattributed", unattributed}};
}

}  // namespace mmudiff
