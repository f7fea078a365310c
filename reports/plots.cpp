// SPDX-License-Identifier: GPL-2.0-only
#include "reports/plots.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

extern char** environ;

namespace mmudiff {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

// A private directory for the script and the SVGs, removed on every way out.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "mmudiff-plots-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
      throw std::runtime_error(fmt::format("{}: cannot create: {}", pattern, std::strerror(errno)));
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The errno name of a kernel return code: -22 -> "-EINVAL", 0 -> "0", 1 -> "1".
std::string return_code_label(int code) {
  if (code >= 0) return std::to_string(code);
  const char* name = ::strerrorname_np(-code);
  return name ? fmt::format("-{}", name) : std::to_string(code);
}

// Inline SVGs share one id space: give each plot's ids (and the references to them) a prefix.
std::string inline_svg(std::string svg, const std::string& prefix) {
  size_t start = svg.find("<svg");
  if (start == std::string::npos) throw std::runtime_error("gnuplot wrote no <svg> element");
  svg.erase(0, start);
  const std::pair<std::string, std::string> rewrites[] = {
      {"id='", "id='" + prefix},       {"id=\"", "id=\"" + prefix},
      {"href='#", "href='#" + prefix}, {"href=\"#", "href=\"#" + prefix},
      {"url(#", "url(#" + prefix},
  };
  for (const auto& [from, to] : rewrites) {
    for (size_t pos = svg.find(from); pos != std::string::npos;
         pos = svg.find(from, pos + to.size()))
      svg.replace(pos, from.size(), to);
  }
  return svg;
}

class Script {
 public:
  explicit Script(fs::path dir) : dir_(std::move(dir)) {}

  // Starts a plot of WIDTHxHEIGHT pixels into ID.svg.
  void begin(const std::string& id, const std::string& caption, int width, int height) {
    text_ += fmt::format(
        "reset\nset terminal svg size {},{} noenhanced font 'sans,11' background rgb 'white'\n"
        "set output '{}'\nset border lw 1 lc rgb '#555555'\nset grid ytics lc rgb '#dddddd'\n"
        "set style fill solid 0.85 border -1\n",
        width, height, (dir_ / (id + ".svg")).string());
    plots_.push_back({id, caption, ""});
  }
  void line(const std::string& s) { text_ += s + "\n"; }
  void datablock(const std::string& name, const std::string& rows) {
    text_ += fmt::format("${} << EOD\n{}EOD\n", name, rows);
  }
  const std::string& text() const { return text_; }
  std::vector<Plot>& plots() { return plots_; }

 private:
  fs::path dir_;
  std::string text_;
  std::vector<Plot> plots_;
};

void progress_plots(const json& progress, Script* s) {
  std::string rows;
  for (const auto& p : progress["series"])
    rows += fmt::format("{} {} {} {} {}\n", p["t"].get<double>(), p["execs"].get<uint64_t>(),
                        p["execs_per_s"].get<double>(), p["coverage"].get<uint64_t>(),
                        p["corpus"].get<uint64_t>());
  const char* style = progress["series"].size() > 40 ? "lines" : "linespoints pt 7 ps 0.5";
  s->begin("executions", "Executions over time (left axis) and executions per second (right).", 580,
           320);
  s->datablock("progress", rows);
  s->line(
      "set title 'Executions over time'\nset xlabel 'seconds'\nset ylabel 'executions'\n"
      "set y2label 'executions/s'\nset y2tics\nset ytics nomirror\nset key top left\n"
      "set yrange [0:*]\nset y2range [0:*]");
  s->line(
      fmt::format("plot $progress using 1:2 with {0} lw 2 lc rgb '#1f77b4' title 'executions', "
                  "'' using 1:3 axes x1y2 with {0} lw 1 lc rgb '#ff7f0e' title 'executions/s'",
                  style));
  s->begin("coverage", "Coverage of the backends' code (left axis) and corpus size (right).", 580,
           320);
  s->line(
      "set title 'Coverage over time'\nset xlabel 'seconds'\nset ylabel 'coverage features'\n"
      "set y2label 'corpus streams'\nset y2tics\nset ytics nomirror\nset key bottom right\n"
      "set yrange [0:*]\nset y2range [0:*]");
  s->line(
      fmt::format("plot $progress using 1:4 with {0} lw 2 lc rgb '#2ca02c' title 'coverage', "
                  "'' using 1:5 axes x1y2 with {0} lw 1 lc rgb '#9467bd' title 'corpus'",
                  style));
}

void operation_plots(const json& exercised, Script* s) {
  std::string rows;
  for (const auto& [kind, n] : exercised["ops_by_kind"].items())
    rows += fmt::format("{} {}\n", kind, n.get<uint64_t>());
  s->begin("operations", "Operations run, by kind (operations on no live table not counted).", 580,
           320);
  s->datablock("ops", rows);
  s->line(
      "set title 'Operation mix'\nset ylabel 'operations'\nset boxwidth 0.7\n"
      "set xtics rotate by -35 left nomirror\nset yrange [0:*]");
  s->line("plot $ops using 0:2:xtic(1) with boxes lc rgb '#1f77b4' notitle");

  // Return codes: one stacked bar per kind that ran, one colour per code.
  std::set<int> codes;
  for (const auto& [kind, mix] : exercised["return_codes"].items())
    for (const auto& [code, n] : mix.items()) codes.insert(std::stoi(code));
  if (codes.empty()) return;
  std::string header = "kind";
  for (int c : codes) header += " " + return_code_label(c);
  std::string code_rows = header + "\n";
  for (const auto& [kind, mix] : exercised["return_codes"].items()) {
    if (mix.empty()) continue;
    code_rows += kind;
    for (int c : codes) code_rows += fmt::format(" {}", mix.value(std::to_string(c), uint64_t{0}));
    code_rows += "\n";
  }
  s->begin("return-codes",
           "Return codes by operation kind (is_young returns 1 for young, 0 for old).", 580, 320);
  s->datablock("codes", code_rows);
  s->line(
      "set title 'Return codes'\nset ylabel 'operations'\nset style data histograms\n"
      "set style histogram rowstacked\nset boxwidth 0.7\nset key outside right top\n"
      "set xtics rotate by -35 left nomirror\nset yrange [0:*]");
  s->line(fmt::format("plot for [i=2:{}] $codes using i:xtic(1) title columnheader(i)",
                      codes.size() + 1));
}

void table_plots(const json& exercised, Script* s) {
  std::string rows = "level tables blocks pages annotations\n";
  for (const auto& l : exercised["levels"])
    rows += fmt::format("L{} {} {} {} {}\n", l["level"].get<unsigned>(),
                        l["tables"].get<uint64_t>(), l["blocks"].get<uint64_t>(),
                        l["pages"].get<uint64_t>(), l["annotations"].get<uint64_t>());
  s->begin("levels",
           fmt::format("Descriptors in the final tables of {}, by level, summed over every "
                       "replayed stream.",
                       exercised["tables_of"].get<std::string>()),
           580, 320);
  s->datablock("levels", rows);
  uint64_t most = 0;
  for (const auto& l : exercised["levels"])
    for (const char* k : {"tables", "blocks", "pages", "annotations"})
      most = std::max(most, l[k].get<uint64_t>());
  // Pages outnumber blocks by hundreds: on a linear axis the blocks would not show.
  const char* scale = most > 100 ? "set logscale y\nset yrange [0.8:*]\n" : "set yrange [0:*]\n";
  s->line(scale);
  s->line(
      "set title 'Levels exercised'\nset ylabel 'descriptors'\nset style data histograms\n"
      "set style histogram clustered gap 1\nset boxwidth 0.9\nset key top left");
  s->line("plot for [i=2:5] $levels using i:xtic(1) title columnheader(i)");

  std::string sizes;
  for (const auto& z : exercised["leaf_sizes"])
    sizes += fmt::format("{} {}\n", z["label"].get<std::string>(), z["count"].get<uint64_t>());
  s->begin("leaf-sizes", "Leaf mappings in the final tables, by size (blocks and pages).", 420,
           320);
  s->datablock("sizes", sizes);
  s->line(scale);
  s->line("set title 'Block sizes exercised'\nset ylabel 'leaves'\nset boxwidth 0.6");
  s->line("plot $sizes using 0:2:xtic(1) with boxes lc rgb '#2ca02c' notitle");
}

void run_gnuplot(const std::string& gnuplot, const fs::path& script, const fs::path& errors) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, errors.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string script_arg = script.string();
  char* argv[] = {const_cast<char*>(gnuplot.c_str()), script_arg.data(), nullptr};
  pid_t pid;
  int rc = ::posix_spawn(&pid, gnuplot.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw PlotterMissing(fmt::format("{}: cannot run: {}", gnuplot, std::strerror(rc)));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string text = slurp(errors);
    std::string first;
    std::stringstream lines(text);
    for (std::string l; std::getline(lines, l);)
      if (l.find_first_not_of(" \t^") != std::string::npos) first = l;  // the message is last
    throw std::runtime_error(
        fmt::format("gnuplot failed: {}", first.empty() ? "no message" : first));
  }
}

}  // namespace

std::vector<Plot> render_plots(const json& report) {
  std::string gnuplot = find_in_path("gnuplot");
  if (gnuplot.empty())
    throw PlotterMissing(
        "gnuplot not found in PATH: the HTML report's plots need it (apt-get install gnuplot-nox)");
  ScratchDir scratch;
  Script script(scratch.path());
  if (!report["progress"].is_null()) progress_plots(report["progress"], &script);
  operation_plots(report["exercised"], &script);
  table_plots(report["exercised"], &script);
  fs::path script_file = scratch.path() / "plots.gp";
  std::ofstream(script_file) << script.text();
  run_gnuplot(gnuplot, script_file, scratch.path() / "gnuplot.err");
  std::vector<Plot> plots = std::move(script.plots());
  for (auto& p : plots) {
    fs::path svg = scratch.path() / (p.id + ".svg");
    if (!fs::exists(svg))
      throw std::runtime_error(fmt::format("gnuplot wrote no {}", svg.string()));
    p.svg = inline_svg(slurp(svg), "plot-" + p.id + "-");
  }
  return plots;
}

}  // namespace mmudiff
