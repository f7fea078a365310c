// SPDX-License-Identifier: GPL-2.0-only
#include "reports/report_html.h"

#include <map>

#include <fmt/format.h>

#include "reports/report_json.h"

namespace mmudiff {

using nlohmann::json;

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

constexpr const char* kStyle = R"css(
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
       margin: 0; background: #f6f8fa; }
main { max-width: 1280px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.verdict { font-size: 20px; font-weight: 600; padding: 14px 18px; border-radius: 8px; color: #fff; }
.verdict.ok { background: var(--ok); } .verdict.bad { background: var(--bad); }
.verdict.warn { background: var(--warn); }
.sub { color: var(--muted); margin: 6px 0 0; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #eaeef2; font-weight: 600; }
table.facts { width: auto; } table.facts th { width: 12em; }
code, pre, .mono { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
pre { margin: 0; white-space: pre-wrap; word-break: break-all; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12px; max-width: 600px; padding: 4px 2px 0; }
.cls { font-weight: 600; white-space: nowrap; }
.cls.security { color: var(--bad); } .cls.functional { color: #bc4c00; }
.cls.hardware-effects { color: var(--warn); } .cls.structural-only { color: var(--muted); }
.sides { display: grid; gap: 6px; }
table#findings { table-layout: fixed; }
table#findings td { overflow-wrap: anywhere; }
.side { border: 1px solid var(--line); border-radius: 4px; padding: 4px 6px; background: #fbfcfd; }
.side h4 { margin: 0 0 2px; font-size: 12px; }
.result.proved { color: var(--ok); font-weight: 600; } .result.failed { color: var(--bad); font-weight: 600; }
.result.unknown { color: var(--warn); font-weight: 600; }
.note { color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
)css";

std::string e(const json& v) {
  return html_escape(v.is_string() ? v.get<std::string>() : v.dump());
}

std::string fact_row(const std::string& name, const std::string& html_value) {
  return fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", html_escape(name), html_value);
}

std::string duration_text(double seconds) {
  if (seconds < 120) return fmt::format("{:.1f} s", seconds);
  if (seconds < 7200) return fmt::format("{:.1f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

std::string verdict_section(const json& report) {
  const json& v = report["verdict"];
  std::string status = report["run"]["status"];
  const char* tone = !v["equivalent"].get<bool>() || v.value("proofs_failed", 0) > 0 ? "bad"
                     : status != "finished"                                          ? "warn"
                                                                                     : "ok";
  const json& x = report["exercised"];
  return fmt::format(
      "<h1>mmudiff equivalence report</h1>\n"
      "<div id=\"verdict\" class=\"verdict {}\">{}</div>\n"
      "<p class=\"sub\">{} of {} backends ({}), {} operations replayed from {} streams for the "
      "plots below.</p>\n",
      tone, e(v["line"]), e(report["run"]["command"]), report["run"]["backends"].size(),
      html_escape([&] {
        std::string names;
        for (const auto& b : report["run"]["backends"])
          names += (names.empty() ? "" : ", ") + b["name"].get<std::string>();
        return names;
      }()),
      group_thousands(x["operations"].get<uint64_t>()),
      group_thousands(x["sequences"].get<uint64_t>()));
}

std::string run_section(const json& report) {
  const json& run = report["run"];
  std::string rows;
  rows += fact_row("command", "<code>mmudiff " + e(run["command"]) + "</code>");
  rows += fact_row("status", e(run["status"]));
  if (run.contains("engine")) rows += fact_row("engine", e(run["engine"]));
  rows += fact_row("started", e(run["started"]));
  if (run.contains("ended") && !run["ended"].is_null()) rows += fact_row("ended", e(run["ended"]));
  if (!report["progress"].is_null())
    rows += fact_row("duration", duration_text(report["progress"]["duration_s"].get<double>()));
  if (run.contains("jobs")) rows += fact_row("jobs", e(run["jobs"]));
  if (run.contains("time_limit_s") && !run["time_limit_s"].is_null())
    rows += fact_row("time limit", duration_text(run["time_limit_s"].get<double>()));
  if (run.contains("executions"))
    rows += fact_row("executions", group_thousands(run["executions"].get<uint64_t>()));
  if (!report["progress"].is_null() && report["progress"].contains("by_kind")) {
    std::string rates;
    for (const auto& [kind, k] : report["progress"]["by_kind"].items())
      rates += fmt::format("{}{} {:.0f}/s", rates.empty() ? "" : " · ", html_escape(kind),
                           k["execs_per_s"].get<double>());
    rows += fact_row("executions per second", rates);
  }
  if (run.contains("workers") && !run["workers"].empty()) {
    // Each engine process: AFL++'s main and secondaries apart, and any that died or restarted.
    std::string workers;
    for (const auto& w : run["workers"]) {
      std::string fate;
      if (w["status"] == "died") fate = fmt::format(", <b>died</b> ({})", e(w["exit"]));
      if (w.contains("restarts")) fate += fmt::format(", restarted {}×", w["restarts"].size());
      workers += fmt::format("<code>{}</code> ({}): {} executions{}<br>", e(w["name"]),
                             e(w["kind"]), group_thousands(w["executions"].get<uint64_t>()), fate);
    }
    rows += fact_row("workers", workers);
  }
  rows += fact_row("planted bug",
                   run["plant"].is_null() ? "none" : "<code>" + e(run["plant"]) + "</code>");
  rows += fact_row("SipHash key", "<code>" + e(run["hash_key"]) + "</code>");
  const json& tool = run["tool"];
  rows += fact_row("tool", fmt::format("mmudiff {} · {} · {}", e(tool["version"]),
                                       e(tool["compiler"]), e(tool["build_type"])));
  if (run.contains("inputs") && !run["inputs"].empty()) {
    std::string inputs;
    for (const auto& i : run["inputs"]) inputs += "<code>" + e(i) + "</code><br>";
    rows += fact_row("inputs", inputs);
  }
  std::string backends;
  for (const auto& b : run["backends"])
    backends +=
        fmt::format("<tr><td><code>{}</code></td><td>{}</td><td class=\"mono\">{}</td></tr>\n",
                    e(b["name"]), e(b["description"]), e(b["identity"]));
  return fmt::format(
      "<h2>Run</h2>\n<table class=\"facts\" id=\"run\">\n{}</table>\n"
      "<h2>Backends</h2>\n<table id=\"backends\">\n<tr><th>name</th><th>what it is</th>"
      "<th>identity</th></tr>\n{}</table>\n",
      rows, backends);
}

std::string plots_section(const json& report, const std::vector<Plot>& plots) {
  std::string out = "<h2>What was exercised</h2>\n";
  if (report["progress"].is_null())
    out +=
        "<p class=\"note\">No progress samples: this run directory was not written by a "
        "campaign, so there is no executions or coverage over time.</p>\n";
  const json& x = report["exercised"];
  out += fmt::format(
      "<p>Replayed {} streams (corpus: {}, finding inputs: {}) through {} in "
      "{:.0f} ms: {} operations, {} on no live table; {} streams over the memory bound; {} with "
      "findings{}.</p>\n",
      group_thousands(x["sequences"].get<uint64_t>()), x["sources"]["corpus"].get<uint64_t>(),
      x["sources"]["findings"].get<uint64_t>(), html_escape([&] {
        std::string names;
        for (const auto& b : x["backends"])
          names += (names.empty() ? "" : ", ") + b.get<std::string>();
        return names;
      }()),
      x["time_ms"].get<double>(), group_thousands(x["operations"].get<uint64_t>()),
      group_thousands(x["skipped"].get<uint64_t>()), group_thousands(x["refused"].get<uint64_t>()),
      group_thousands(x["with_findings"].get<uint64_t>()),
      x.value("crashed", uint64_t{0}) ? fmt::format(", {} of them crashed or hung a backend",
                                                    group_thousands(x["crashed"].get<uint64_t>()))
                                      : std::string());
  out += "<div class=\"plots\" id=\"plots\">\n";
  for (const auto& p : plots)
    out += fmt::format(
        "<figure class=\"plot\" id=\"plot-{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
        html_escape(p.id), p.svg, html_escape(p.caption));
  out += "</div>\n";
  return out;
}

// The first divergence, one column per backend: the oracles' "divergence" records (every field
// of each side's descriptor decoded) where the finding is about tables differing; otherwise each
// evidence line that starts with a backend's name goes to that backend's column, and the rest
// spans all of them.
std::string sides_html(const json& finding, const std::vector<std::string>& backends) {
  if (finding.contains("divergence") && finding["divergence"].is_array() &&
      !finding["divergence"].empty()) {
    std::string cols;
    for (const auto& side : finding["divergence"]) {
      std::string body =
          fmt::format("IPA {}-{}\nL{} {} {}\n", e(side["ipa_start"]), e(side["ipa_end"]),
                      side["level"].get<unsigned>(), e(side["kind"]), e(side["raw"]));
      for (const auto& f : side["fields"])
        body += fmt::format("{:<8} {}\n", e(f["name"]), e(f["value"]));
      cols += fmt::format("<div class=\"side\"><h4>{}</h4><pre>{}</pre></div>", e(side["backend"]),
                          body);
    }
    return fmt::format(
        "<div class=\"sides\" style=\"grid-template-columns: repeat({}, 1fr)\">{}</div>",
        finding["divergence"].size(), cols);
  }
  std::map<std::string, std::string> by_backend;
  std::string shared;
  for (const auto& line : finding["evidence"]) {
    std::string text = line;
    bool placed = false;
    for (const auto& b : backends) {
      if (text.size() > b.size() && text.compare(0, b.size(), b) == 0 &&
          (text[b.size()] == ':' || text[b.size()] == ' ')) {
        size_t rest = text.find_first_not_of(": ", b.size());
        by_backend[b] += html_escape(rest == std::string::npos ? "" : text.substr(rest)) + "\n";
        placed = true;
        break;
      }
    }
    if (!placed) shared += html_escape(text) + "\n";
  }
  std::string out;
  if (!shared.empty()) out += "<pre>" + shared + "</pre>";
  if (!by_backend.empty()) {
    out += fmt::format("<div class=\"sides\" style=\"grid-template-columns: repeat({}, 1fr)\">",
                       by_backend.size());
    for (const auto& b : backends)
      if (by_backend.count(b))
        out += fmt::format("<div class=\"side\"><h4>{}</h4><pre>{}</pre></div>", html_escape(b),
                           by_backend[b]);
    out += "</div>";
  }
  return out.empty() ? "<span class=\"note\">no evidence recorded</span>" : out;
}

std::string findings_section(const json& report) {
  std::vector<std::string> backends;
  for (const auto& b : report["run"]["backends"]) backends.push_back(b["name"]);
  std::string rows;
  for (const auto& item : report["findings"]) {
    const json& f = item["finding"];
    std::string files;
    if (!item["reproducer"].is_null())
      files += fmt::format("<a href=\"{0}\"><code>{0}</code></a><br>", e(item["reproducer"]));
    if (!item["input"].is_null())
      files += fmt::format("<a href=\"{0}\"><code>{0}</code></a>", e(item["input"]));
    std::string seen;
    if (f.contains("hits")) {
      uint64_t hits = f["hits"];
      seen += fmt::format("{} hit{}", hits, hits == 1 ? "" : "s");
    }
    if (f.contains("first_seen_t"))
      seen += fmt::format("{}first at {}", seen.empty() ? "" : "<br>",
                          duration_text(f["first_seen_t"].get<double>()));
    if (f.contains("engine")) seen += "<br>" + e(f["engine"]);
    if (f.contains("source")) seen += "<br><code>" + e(f["source"]) + "</code>";
    // The parts of a longer signature, named (finding.json files from before them have neither).
    std::string oracle = "oracle " + e(f["oracle"]);
    for (const char* part : {"rule", "backend"})
      if (f.contains(part) && !f[part].get<std::string>().empty())
        oracle += fmt::format("<br>{} {}", part, e(f[part]));
    rows += fmt::format(
        "<tr><td class=\"cls {0}\">{0}</td><td><code>{1}</code><br>{2}</td>"
        "<td>#{3} {4}</td><td>{5}</td><td>{6}</td><td>{7}</td><td>{8}</td></tr>\n",
        e(f["class"]), e(f["signature"]), oracle, f["op_index"].get<uint64_t>(), e(f["op_kind"]),
        e(f["summary"]), sides_html(f, backends), files, seen);
  }
  std::string incomplete;
  for (const auto& d : report["incomplete_findings"])
    incomplete += fmt::format("<li><code>{}</code></li>", e(d));
  std::string out = fmt::format("<h2>Findings ({})</h2>\n", report["findings"].size());
  out +=
      "<table id=\"findings\">\n<colgroup><col style=\"width: 8%\"><col style=\"width: 13%\">"
      "<col style=\"width: 7%\"><col style=\"width: 15%\"><col style=\"width: 36%\">"
      "<col style=\"width: 11%\"><col style=\"width: "
      "10%\"></colgroup>\n<tr><th>class</th><th>signature</th><th>operation</th>"
      "<th>summary</th><th>first divergence, side by "
      "side</th><th>reproducer</th><th>seen</th>"
      "</tr>\n" +
      rows;
  if (report["findings"].empty())
    out +=
        "<tr><td colspan=\"7\" class=\"note\">no findings: every oracle agreed on every "
        "stream</td></tr>\n";
  out += "</table>\n";
  if (!incomplete.empty())
    out +=
        "<p>Finding directories without <code>finding.json</code> (the run stopped while "
        "writing them):</p><ul>" +
        incomplete + "</ul>\n";
  return out;
}

// What the report could not read: said where the findings are, so a short list never passes for
// a complete one.
std::string skipped_section(const json& report) {
  if (report["skipped"].empty()) return "";
  std::string items;
  for (const auto& s : report["skipped"])
    items += fmt::format("<li><code>{}</code>: {}</li>", e(s["path"]), e(s["reason"]));
  return "<h2>Not read</h2>\n<p id=\"skipped\">The report skipped these; the verdict still "
         "counts every finding <code>run.json</code> records.</p><ul>" +
         items + "</ul>\n";
}

std::string coverage_section(const json& report) {
  const json& c = report["coverage"];
  if (c.is_null()) return "";
  auto percent = [](uint64_t part, uint64_t whole) {
    return whole ? fmt::format("{:.1f} %",
                               100.0 * static_cast<double>(part) / static_cast<double>(whole))
                 : std::string("-");
  };
  std::string rows;
  for (const auto& [name, code] : c["backends"].items()) {
    uint64_t edges = code["edges"], covered = code["edges_covered"];
    uint64_t functions = code["functions"], reached = code["functions_covered"];
    rows += fmt::format(
        "<tr><td><code>{}</code></td><td>{} of {}</td><td>{}</td><td>{} of {}</td></tr>\n",
        html_escape(name), group_thousands(covered), group_thousands(edges),
        percent(covered, edges), reached, functions);
  }
  return fmt::format(
      "<h2>Coverage of each backend's code</h2>\n<p>The corpus and seeds ({} inputs) replayed "
      "by <code>{}</code> with <code>-print_coverage=1</code>; edges are the fuzzers' "
      "instrumentation points.</p>\n<table id=\"coverage\">\n<tr><th>backend</th><th>edges "
      "reached</th><th>share</th><th>functions entered</th></tr>\n{}</table>\n",
      group_thousands(c["inputs"].get<uint64_t>()), e(c["target"]), rows);
}

std::string proofs_section(const json& report) {
  const json& proofs = report["proofs"];
  if (proofs.is_null())
    return "<h2>Proofs</h2>\n<p class=\"note\" id=\"proofs\">No proofs.json in this run "
           "directory (<code>mmudiff prove --json RUN_DIR/proofs.json</code> adds one).</p>\n";
  std::string rows;
  for (const auto& p : proofs["proofs"]) {
    std::string cex = "";
    if (!p["counterexample"].is_null()) {
      const json& c = p["counterexample"];
      std::string inputs;
      for (const auto& [k, v] : c["inputs"].items())
        inputs += fmt::format("{}={} ", html_escape(k), e(v));
      cex = fmt::format("<pre>{}\n{} {}</pre>", inputs, e(c["descriptor"]), e(c["decoded"]));
    }
    rows += fmt::format(
        "<tr><td><code>{0}</code></td><td>{1}</td><td>{2}</td><td class=\"result {3}\">{3}</td>"
        "<td>{4:.1f} ms</td><td>{5}</td></tr>\n",
        e(p["name"]), e(p["backend"]), e(p["property"]), e(p["result"]), p["time_ms"].get<double>(),
        cex);
  }
  const json& s = proofs["summary"];
  return fmt::format(
      "<h2>Proofs ({} proved, {} failed, {} unknown; format {}{})</h2>\n"
      "<table id=\"proofs\">\n<tr><th>name</th><th>backend</th><th>property</th><th>result</th>"
      "<th>time</th><th>counterexample</th></tr>\n{}</table>\n",
      s["proved"].get<uint64_t>(), s["failed"].get<uint64_t>(), s["unknown"].get<uint64_t>(),
      e(proofs["format"]), proofs["plant"].is_null() ? "" : ", planted bug " + e(proofs["plant"]),
      rows);
}

// mmudiff semdiff --out RUN_DIR: each class of difference between two kernels with its example.
std::string semdiff_section(const json& report) {
  const json& d = report.value("semdiff", json(nullptr));
  if (d.is_null()) return "";
  std::string rows;
  for (const auto& c : d["classes"]) {
    std::string where =
        fmt::format("the difference at operation {}", c["example_op"].get<uint64_t>());
    if (!c["detail"].get<std::string>().empty()) where += ": " + e(c["detail"]);
    rows += fmt::format(
        "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td><pre>{}</pre><p>{}</p></td></tr>\n",
        e(c["category"]), e(c["operation"]), e(c["a"]), e(c["b"]), c["streams"].get<uint64_t>(),
        c["occurrences"].get<uint64_t>(), e(c["example"]), where);
  }
  return fmt::format(
      "<h2>What changed between kernels: {0} &rarr; {1} ({2} classes)</h2>\n"
      "<p id=\"semdiff-summary\">The same {3} random streams ({4} operations, seed {5}) through "
      "both, each class with the smallest example found, operations counted from 0 "
      "(<code>mmudiff semdiff</code>, docs/semdiff.md).</p>\n"
      "<table id=\"semdiff\">\n<tr><th>category</th><th>operation</th><th>{0}</th><th>{1}</th>"
      "<th>streams</th><th>operations</th><th>example</th></tr>\n{6}</table>\n",
      e(d["a"]), e(d["b"]), d["classes"].size(), d["streams"].get<uint64_t>(),
      d["operations"].get<uint64_t>(), d["seed"].get<uint64_t>(), rows);
}

}  // namespace

std::string render_report_html(const json& report, const std::vector<Plot>& plots) {
  std::string body = verdict_section(report) + run_section(report) + plots_section(report, plots) +
                     coverage_section(report) + findings_section(report) + skipped_section(report) +
                     proofs_section(report) + semdiff_section(report);
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      // Nothing may be fetched: the file must read the same offline, attached to a mail.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>mmudiff report: {}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n{}"
      "<footer>Generated {} by mmudiff {} from the run directory alone; regenerate with "
      "<code>mmudiff report RUN_DIR</code>. Machine-readable: <code>report.json</code> "
      "(schema mmudiff/report-1).</footer>\n</main>\n"
      // Lets a headless browser see that the page was parsed and ran to its end.
      "<script>document.body.dataset.rendered = 'complete';</script>\n"
      "</body>\n</html>\n",
      e(report["verdict"]["line"]), kStyle, body, e(report["generated"]),
      e(report["tool"]["version"]));
}

}  // namespace mmudiff
