// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/campaign_workers.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "mmu/ops/binary_format.h"
#include "oracles/isolated_run.h"
#include "tools/mmudiff/install_paths.h"

extern char** environ;

namespace mmudiff::cli {

namespace {

// An input within the fuzz work budget runs in milliseconds, even under ASan: one that takes
// seconds is a hang (the engines then keep it as a timeout finding), found as fast as the
// isolated replay's operation timeout finds one.
constexpr int kInputTimeoutSeconds = static_cast<int>(kDefaultOpTimeoutSeconds);

}  // namespace

namespace fs = std::filesystem;

const char* engine_name(Engine e) {
  return e == Engine::LibFuzzer ? "libfuzzer" : "afl";
}

fs::path fuzz_build_dir(Engine e, const std::string& override_dir) {
  if (!override_dir.empty()) return override_dir;
  const char* env =
      std::getenv(e == Engine::LibFuzzer ? "MMUDIFF_LIBFUZZER_DIR" : "MMUDIFF_AFL_DIR");
  if (env && *env) return env;
  if (auto installed = installed_fuzz_dir(engine_name(e))) return *installed;
  return e == Engine::LibFuzzer ? MMUDIFF_LIBFUZZER_BUILD_DIR : MMUDIFF_AFL_BUILD_DIR;
}

FuzzBuild find_fuzz_build(Engine e, const fs::path& dir) {
  FuzzBuild b;
  b.dir = dir;
  b.plain = dir / "stream_fuzzer";
  b.asan = dir / "stream_fuzzer_asan";
  b.seeds = dir / "seeds";
  b.regressions = dir / "regressions";
  b.dict = dir / "mmudiff.dict";
  if (e == Engine::Afl) b.mutator = dir / "libmmudiff_afl_mutator.so";
  const char* preset = e == Engine::LibFuzzer ? "fuzz" : "afl";
  for (const fs::path& p : {b.plain, b.asan, b.seeds, b.dict}) {
    if (!fs::exists(p))
      throw std::invalid_argument(fmt::format(
          "no {} fuzz build: {} is missing (build it with 'cmake --preset {} && cmake --build "
          "--preset {}', or point --fuzzer-dir at one)",
          engine_name(e), p.string(), preset, preset));
  }
  if (e == Engine::Afl && !fs::exists(b.mutator))
    throw std::invalid_argument(fmt::format(
        "no AFL++ custom mutator: {} is missing (build it with 'cmake --preset afl && cmake "
        "--build --preset afl')",
        b.mutator.string()));
  return b;
}

namespace {

void copy_inputs(const fs::path& from, const fs::path& to) {
  if (!fs::is_directory(from)) return;
  for (const auto& entry : fs::directory_iterator(from)) {
    if (!entry.is_regular_file()) continue;
    std::error_code ec;
    fs::copy_file(entry.path(), to / entry.path().filename(), fs::copy_options::skip_existing, ec);
  }
}

std::map<std::string, std::string> filter_env(bool asan) {
  std::map<std::string, std::string> env;
  if (asan) {
    // Memory errors abort (so the engine keeps the input); leaks in the backends are findings.
    env["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=1:symbolize=1:allocator_may_return_null=1";
    env["UBSAN_OPTIONS"] = "halt_on_error=1:abort_on_error=1:print_stacktrace=1";
  }
  return env;
}

}  // namespace

std::vector<WorkerSpec> plan_workers(const WorkerPlanInput& in, const FuzzBuild& build,
                                     const CampaignLayout& layout) {
  std::vector<WorkerSpec> workers;
  std::string backends;
  for (const auto& b : in.backends) backends += (backends.empty() ? "" : ",") + b;
  auto target_env = [&](bool asan) {
    auto env = filter_env(asan);
    env["MMUDIFF_BACKENDS"] = backends;
    env["MMUDIFF_PLANT"] = in.plant;
    return env;
  };
  // --jobs 1: the ASan+UBSan build alone; more: one of them, the rest plain.
  int plain_jobs = in.jobs - 1;

  if (in.engine == Engine::LibFuzzer) {
    auto libfuzzer = [&](bool asan, int fork_jobs) {
      WorkerSpec w;
      w.index = static_cast<int>(workers.size());
      w.asan = asan;
      w.name = asan ? "asan" : "plain";
      fs::path dir = layout.work / w.name;
      fs::create_directories(dir / "artifacts");
      w.crash_dir = dir / "artifacts";
      w.log = dir / "engine.log";
      w.argv = {(asan ? build.asan : build.plain).string(),
                fmt::format("-fork={}", fork_jobs),
                "-ignore_crashes=1",
                "-ignore_timeouts=1",
                "-ignore_ooms=1",
                fmt::format("-max_total_time={}", in.time_s),
                fmt::format("-artifact_prefix={}/", w.crash_dir.string()),
                fmt::format("-dict={}", build.dict.string()),
                "-max_len=4096",
                fmt::format("-timeout={}", kInputTimeoutSeconds),
                "-rss_limit_mb=4096",
                layout.corpus.string()};
      if (in.with_seeds) w.argv.push_back(build.seeds.string());
      if (in.with_seeds && in.with_regressions && fs::is_directory(build.regressions))
        w.argv.push_back(build.regressions.string());
      w.env = target_env(asan);
      workers.push_back(std::move(w));
    };
    if (plain_jobs > 0) libfuzzer(false, plain_jobs);
    libfuzzer(true, 1);
    return workers;
  }

  // AFL++: every instance starts from one input directory: seeds plus what earlier campaigns on
  // this run directory found. The sync directory is the engines' state for this campaign only.
  fs::path input = layout.work / "afl-in";
  fs::path sync = layout.work / "afl-sync";
  fs::remove_all(input);
  fs::remove_all(sync);
  fs::create_directories(input);
  if (in.with_seeds) copy_inputs(build.seeds, input);
  if (in.with_seeds && in.with_regressions) copy_inputs(build.regressions, input);
  copy_inputs(layout.corpus, input);
  // AFL++ refuses to start without an input; without seeds it gets the least it can work from:
  // one init of the default configuration, an empty table.
  if (fs::is_empty(input)) {
    Op init;
    init.kind = OpKind::Init;
    std::vector<uint8_t> bytes = encode_binary({init});
    std::ofstream(input / "empty-table", std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
  auto afl = [&](bool asan, const std::string& role, const std::string& name) {
    WorkerSpec w;
    w.index = static_cast<int>(workers.size());
    w.asan = asan;
    w.name = name;
    w.log = layout.work / (name + ".log");
    w.crash_dir = sync / name / "crashes";
    w.crash_prefix = "id:";
    w.stats_file = sync / name / "fuzzer_stats";
    w.argv = {"afl-fuzz",
              "-i",
              input.string(),
              "-o",
              sync.string(),
              role,
              name,
              "-x",
              build.dict.string(),
              "-t",
              std::to_string(kInputTimeoutSeconds * 1000),
              "-m",
              "none",
              "-V",
              std::to_string(in.time_s),
              "--",
              (asan ? build.asan : build.plain).string()};
    w.env = target_env(asan);
    w.env["AFL_CUSTOM_MUTATOR_LIBRARY"] = build.mutator.string();
    w.env["AFL_NO_UI"] = "1";
    w.env["AFL_SKIP_CPUFREQ"] = "1";
    w.env["AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES"] = "1";
    w.env["AFL_SKIP_CRASHES"] = "1";  // a seed that already shows a finding is skipped, not fatal
    w.env["AFL_FAST_CAL"] = "1";
    workers.push_back(std::move(w));
  };
  if (plain_jobs > 0) {
    afl(false, "-M", "main");
    afl(true, "-S", "asan");
    for (int i = 1; i < plain_jobs; ++i) afl(false, "-S", fmt::format("s{}", i));
  } else {
    afl(true, "-M", "main");
  }
  return workers;
}

RunningWorker start_worker(const WorkerSpec& spec) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : spec.env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, spec.log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  RunningWorker w;
  w.spec = spec;
  int rc = posix_spawnp(&w.pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw std::runtime_error(
        fmt::format("cannot start {}: {}", spec.argv.front(), std::strerror(rc)));
  return w;
}

bool worker_running(RunningWorker* w) {
  if (w->exited) return false;
  int status = 0;
  pid_t r = ::waitpid(w->pid, &status, WNOHANG);
  if (r == w->pid) {
    w->exited = true;
    w->status = status;
    // Whatever the engine left behind in its group (fork-mode jobs) goes with it.
    ::kill(-w->pid, SIGKILL);
    return false;
  }
  return true;
}

void stop_workers(std::vector<RunningWorker>* workers, double grace_s) {
  for (auto& w : *workers)
    if (worker_running(&w)) ::kill(-w.pid, SIGINT);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
  for (;;) {
    bool any = false;
    for (auto& w : *workers) any = worker_running(&w) || any;
    if (!any) return;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& w : *workers) {
    if (!worker_running(&w)) continue;
    ::kill(-w.pid, SIGKILL);
    int status = 0;
    ::waitpid(w.pid, &status, 0);
    w.exited = true;
    w.status = status;
  }
}

namespace {

std::string read_tail(const fs::path& path, size_t bytes) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  f.seekg(0, std::ios::end);
  auto size = static_cast<size_t>(f.tellg());
  size_t from = size > bytes ? size - bytes : 0;
  f.seekg(static_cast<std::streamoff>(from));
  std::string s(size - from, '\0');
  f.read(s.data(), static_cast<std::streamsize>(s.size()));
  return s;
}

// "#1234: cov: 700 ft: 2000 corp: 300 exec/s 150 oom/timeout/crash: 0/0/3 time: 12s job: 5"
std::optional<WorkerProgress> parse_libfuzzer(const std::string& text) {
  size_t pos = text.size();
  while (pos > 0) {
    size_t start = text.rfind('\n', pos - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string line = text.substr(start, pos - start);
    pos = start == 0 ? 0 : start - 1;
    if (line.empty() || line[0] != '#' || line.find(": cov: ") == std::string::npos) continue;
    WorkerProgress p;
    unsigned long long execs = 0, cov = 0;
    double rate = 0;
    if (std::sscanf(line.c_str(), "#%llu: cov: %llu", &execs, &cov) != 2) continue;
    size_t e = line.find("exec/s ");
    if (e != std::string::npos) rate = std::atof(line.c_str() + e + 7);
    p.execs = execs;
    p.coverage = cov;
    p.execs_per_s = rate;
    return p;
  }
  return std::nullopt;
}

std::optional<WorkerProgress> parse_afl_stats(const fs::path& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  WorkerProgress p;
  bool any = false;
  std::string line;
  while (std::getline(f, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && key.back() == ' ') key.pop_back();
    const char* value = line.c_str() + colon + 1;
    if (key == "execs_done") {
      p.execs = std::strtoull(value, nullptr, 10);
      any = true;
    } else if (key == "execs_per_sec") {
      p.execs_per_s = std::atof(value);
    } else if (key == "edges_found") {
      p.coverage = std::strtoull(value, nullptr, 10);
    }
  }
  if (!any) return std::nullopt;
  return p;
}

}  // namespace

std::optional<WorkerProgress> read_progress(Engine e, const WorkerSpec& spec) {
  if (e == Engine::LibFuzzer) return parse_libfuzzer(read_tail(spec.log, 64 * 1024));
  return parse_afl_stats(spec.stats_file);
}

std::string log_tail(const fs::path& log, size_t lines) {
  std::string text = read_tail(log, 16 * 1024);
  size_t pos = text.size();
  for (size_t n = 0; n <= lines && pos > 0; ++n) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    pos = nl;
  }
  return text.substr(pos == 0 ? 0 : pos + 1);
}

}  // namespace mmudiff::cli
