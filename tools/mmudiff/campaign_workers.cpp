// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/campaign_workers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
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

// The seeds a campaign of PROFILE starts from. arm64-6.12 takes its own (the races, splits and
// walk flags only 6.12 has) and arm64-6.1's, each init of those put in 6.12 (the same operations,
// which 6.12 runs its way; every other seed on a CPU with FEAT_TLBIRANGE, every third with
// FEAT_LPA2), written under WORK; every other profile takes the seeds as they are.
fs::path seeds_for(const std::string& profile, const fs::path& seeds, const fs::path& work) {
  ProfileId id;
  if (!profile_from_name(profile, &id) || id != ProfileId::Arm64Linux612) return seeds;
  const fs::path out = work / "seeds-arm64-6.12";
  fs::remove_all(out);
  fs::create_directories(out);
  if (!fs::is_directory(seeds)) return out;
  unsigned moved_seeds = 0;
  for (const auto& entry : fs::directory_iterator(seeds)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream f(entry.path(), std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                                     std::istreambuf_iterator<char>());
    Stream stream = decode_binary(bytes);
    const ProfileId seed_profile = stream_profile(stream);
    // A seed of 6.12's own goes in as it is; 6.1's are moved into 6.12.
    if (seed_profile != ProfileId::Arm64Linux61 && seed_profile != id) continue;
    if (seed_profile == ProfileId::Arm64Linux61) {
      // Every other seed runs on a CPU with range TLBIs (FEAT_TLBIRANGE), every third on one
      // with FEAT_LPA2: questions only 6.12 asks.
      const bool tlb_range = moved_seeds % 2 == 1;
      const bool lpa2 = moved_seeds % 3 == 2;
      ++moved_seeds;
      for (Op& op : stream)
        if (op.kind == OpKind::Init) {
          op.config.arm64.kernel = Arm64Kernel::Linux612;
          op.config.arm64.tlb_range = tlb_range;
          op.config.arm64.lpa2 = lpa2;
        }
    }
    if (stream.empty() || stream.front().kind != OpKind::Init)
      stream.insert(stream.begin(), init_op(profile_default_config(id)));
    const std::vector<uint8_t> moved = encode_binary(stream);
    std::ofstream(out / entry.path().filename(), std::ios::binary)
        .write(reinterpret_cast<const char*>(moved.data()),
               static_cast<std::streamsize>(moved.size()));
  }
  return out;
}

std::map<std::string, std::string> filter_env(Engine engine, bool asan) {
  std::map<std::string, std::string> env;
  if (asan) {
    // Memory errors abort (so the engine keeps the input); leaks in the backends are findings.
    // AFL++ refuses to start a target whose ASAN_OPTIONS lack symbolize=0 (symbolizing every
    // crash is slow); the campaign's own replay (campaign_findings.h) symbolizes the stack.
    env["ASAN_OPTIONS"] =
        fmt::format("abort_on_error=1:detect_leaks=1:symbolize={}:allocator_may_return_null=1",
                    engine == Engine::Afl ? 0 : 1);
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
    auto env = filter_env(in.engine, asan);
    env["MMUDIFF_BACKENDS"] = backends;
    env["MMUDIFF_PLANT"] = in.plant;
    env["MMUDIFF_ARCH"] = in.arch;
    return env;
  };
  // --jobs 1: the ASan+UBSan build alone; more: one of them, the rest plain.
  int plain_jobs = in.jobs - 1;

  const fs::path seeds = in.with_seeds ? seeds_for(in.arch, build.seeds, layout.work) : fs::path();
  if (in.engine == Engine::LibFuzzer) {
    auto libfuzzer = [&](bool asan, int fork_jobs) {
      WorkerSpec w;
      w.index = static_cast<int>(workers.size());
      w.asan = asan;
      w.name = asan ? "asan" : "plain";
      fs::path dir = layout.work / w.name;
      fs::create_directories(dir / "artifacts");
      w.finding_dirs = {dir / "artifacts"};
      w.log = dir / "engine.log";
      w.argv = {(asan ? build.asan : build.plain).string(),
                fmt::format("-fork={}", fork_jobs),
                "-ignore_crashes=1",
                "-ignore_timeouts=1",
                "-ignore_ooms=1",
                fmt::format("-max_total_time={}", in.time_s),
                fmt::format("-artifact_prefix={}/", w.finding_dirs.front().string()),
                fmt::format("-dict={}", build.dict.string()),
                "-max_len=4096",
                fmt::format("-timeout={}", kInputTimeoutSeconds),
                "-rss_limit_mb=4096",
                layout.corpus.string()};
      if (in.with_seeds) w.argv.push_back(seeds.string());
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
  if (in.with_seeds) copy_inputs(seeds, input);
  if (in.with_seeds && in.with_regressions) copy_inputs(build.regressions, input);
  copy_inputs(layout.corpus, input);
  // AFL++ refuses to start without an input; without seeds it gets the least it can work from:
  // one init of the default configuration (of the campaign's architecture), an empty table.
  if (fs::is_empty(input)) {
    ProfileId profile = ProfileId::Arm64Linux61;  // for an empty name
    profile_from_name(in.arch, &profile);
    Op init = init_op(profile_default_config(profile));
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
    w.finding_dirs = {sync / name / "crashes", sync / name / "hangs"};
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
    // AFL++ pins each instance to a core no other AFL++ instance holds, and refuses to start when
    // there is none ("No more free CPU cores"): beside another campaign, or bench/plant.sh, every
    // worker died at once.
    w.env["AFL_NO_AFFINITY"] = "1";
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

WorkerSpec next_life(Engine e, const WorkerSpec& dead, int life, int remaining_s) {
  WorkerSpec w = dead;
  if (e == Engine::LibFuzzer) {
    w.log = dead.log.parent_path() / fmt::format("engine.{}.log", life);
    for (std::string& arg : w.argv)
      if (arg.rfind("-max_total_time=", 0) == 0)
        arg = fmt::format("-max_total_time={}", remaining_s);
    return w;
  }
  std::string instance = fmt::format("{}_r{}", dead.name, life);
  fs::path sync = dead.stats_file.parent_path().parent_path();
  w.log = dead.log.parent_path() / (instance + ".log");
  w.stats_file = sync / instance / "fuzzer_stats";
  // The dead lives' crashes/ and hangs/ stay watched: the campaign may not have read them yet.
  w.finding_dirs.push_back(sync / instance / "crashes");
  w.finding_dirs.push_back(sync / instance / "hangs");
  for (size_t i = 0; i + 1 < w.argv.size(); ++i) {
    if ((w.argv[i] == "-M" || w.argv[i] == "-S") &&
        w.argv[i + 1] == dead.stats_file.parent_path().filename())
      w.argv[i + 1] = instance;
    else if (w.argv[i] == "-V")
      w.argv[i + 1] = std::to_string(remaining_s);
  }
  return w;
}

RunningWorker start_worker(const WorkerSpec& spec) {
  // Everything the child needs is made before the fork: after it, only system calls.
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
  // The program as execvpe would find it, resolved here: execvpe may allocate.
  std::string program = args.front();
  if (program.find('/') == std::string::npos) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin:/bin");
    for (std::string d; std::getline(dirs, d, ':');) {
      fs::path candidate = fs::path(d.empty() ? "." : d) / program;
      if (::access(candidate.c_str(), X_OK) == 0) {
        program = candidate.string();
        break;
      }
    }
  }
  // Close-on-exec: the child writes errno into it if exec fails, and it closes unread if not.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0)
    throw std::runtime_error(
        fmt::format("cannot start {}: {}", spec.argv.front(), std::strerror(errno)));
  pid_t parent = ::getpid();
  RunningWorker w;
  w.spec = spec;
  w.pid = ::fork();
  if (w.pid < 0) {
    int e = errno;
    ::close(report[0]);
    ::close(report[1]);
    throw std::runtime_error(
        fmt::format("cannot start {}: {}", spec.argv.front(), std::strerror(e)));
  }
  if (w.pid == 0) {
    ::close(report[0]);
    ::setpgid(0, 0);
    // Dies with the campaign; if the campaign died before this line, the signal is never sent.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGPIPE}) ::signal(sig, SIG_DFL);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(spec.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || ::dup2(in, STDIN_FILENO) < 0 || ::dup2(out, STDOUT_FILENO) < 0 ||
        ::dup2(out, STDERR_FILENO) < 0) {
      int e = errno;
      (void)!::write(report[1], &e, sizeof e);
      ::_exit(127);
    }
    ::execve(program.c_str(), argv.data(), envp.data());
    int e = errno;
    (void)!::write(report[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(report[1]);
  ::setpgid(w.pid, w.pid);  // as the child did: no moment where its group is not its own
  int child_errno = 0;
  ssize_t n;
  while ((n = ::read(report[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int status = 0;
    ::waitpid(w.pid, &status, 0);
    throw std::runtime_error(
        fmt::format("cannot start {}: {}", spec.argv.front(), std::strerror(child_errno)));
  }
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
std::optional<WorkerProgress> parse_libfuzzer_status(const std::string& line) {
  if (line.empty() || line[0] != '#' || line.find(": cov: ") == std::string::npos)
    return std::nullopt;
  unsigned long long execs = 0, cov = 0;
  if (std::sscanf(line.c_str(), "#%llu: cov: %llu", &execs, &cov) != 2) return std::nullopt;
  WorkerProgress p;
  p.execs = execs;
  p.coverage = cov;
  size_t corp = line.find(" corp: ");
  if (corp != std::string::npos) p.corpus = std::strtoull(line.c_str() + corp + 7, nullptr, 10);
  return p;
}

// The whole log, not its tail: a job that finds many new functions prints a NEW_FUNC line for
// each (hundreds of KiB under ASan) before its status line, so a campaign stopped in that print
// leaves a log whose last status line is far from its end.
std::optional<WorkerProgress> read_libfuzzer_log(const fs::path& log) {
  std::ifstream in(log, std::ios::binary);
  std::optional<WorkerProgress> last;
  std::string line;
  while (std::getline(in, line))
    if (auto p = parse_libfuzzer_status(line)) last = p;
  return last;
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
    } else if (key == "corpus_count") {
      p.corpus = std::strtoull(value, nullptr, 10);
    } else if (key == "edges_found") {
      p.coverage = std::strtoull(value, nullptr, 10);
    }
  }
  if (!any) return std::nullopt;
  return p;
}

// AFL++ names what it queues "id:000042,src:000003,time:1234,execs:5678,op:havoc,...": between
// its once-a-minute fuzzer_stats, the largest execs: is the latest count it recorded. Imported
// inputs ("sync:") carry the other instance's count and are skipped.
std::optional<WorkerProgress> parse_afl_queue(const fs::path& queue) {
  std::error_code ec;
  WorkerProgress p;
  bool any = false;
  for (const auto& e : fs::directory_iterator(queue, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("id:", 0) != 0) continue;
    ++p.corpus;
    if (name.find(",sync:") != std::string::npos) continue;
    size_t at = name.find(",execs:");
    if (at == std::string::npos) continue;
    p.execs = std::max<uint64_t>(p.execs, std::strtoull(name.c_str() + at + 7, nullptr, 10));
    any = true;
  }
  if (!any && p.corpus == 0) return std::nullopt;
  return p;
}

std::optional<WorkerProgress> read_afl(const fs::path& instance) {
  auto stats = parse_afl_stats(instance / "fuzzer_stats");
  auto queue = parse_afl_queue(instance / "queue");
  if (!stats) return queue;
  if (queue) {
    stats->execs = std::max(stats->execs, queue->execs);
    stats->corpus = std::max(stats->corpus, queue->corpus);
  }
  return stats;
}

}  // namespace

std::optional<WorkerProgress> read_progress(Engine e, const WorkerSpec& spec) {
  if (e == Engine::LibFuzzer) return read_libfuzzer_log(spec.log);
  return read_afl(spec.stats_file.parent_path());
}

uint64_t recorded_executions(Engine e, const CampaignLayout& layout) {
  uint64_t total = 0;
  std::error_code ec;
  if (e == Engine::LibFuzzer) {
    // Every life's log: engine.log, and engine.N.log of a worker started again.
    for (const auto& d : fs::directory_iterator(layout.work, ec)) {
      std::error_code not_dir;
      for (const auto& f : fs::directory_iterator(d.path(), not_dir)) {
        std::string name = f.path().filename().string();
        if (name.rfind("engine.", 0) == 0 && f.path().extension() == ".log")
          if (auto p = read_libfuzzer_log(f.path())) total += p->execs;
      }
    }
  } else {
    for (const auto& d : fs::directory_iterator(layout.work / "afl-sync", ec))
      if (auto p = read_afl(d.path())) total += p->execs;
  }
  return total;
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
