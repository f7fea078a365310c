// SPDX-License-Identifier: GPL-2.0-only
// campaign: run libFuzzer or AFL++ over every backend for a while, store each distinct finding
// in the run directory the moment it appears, and end with a summary. Ctrl-C stops the engines,
// marks the run interrupted and still prints the summary; running again on the same --out
// resumes from its corpus and keeps counting its findings.
#include <signal.h>
#include <optional>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fuzz/target_options.h"
#include "mmu/plants.h"
#include "oracles/table_hash.h"
#include "reports/report.h"
#include "reports/run_dir.h"
#include "tools/mmudiff/arch_option.h"
#include "tools/mmudiff/backend_option.h"
#include "tools/mmudiff/campaign_coverage.h"
#include "tools/mmudiff/campaign_findings.h"
#include "tools/mmudiff/campaign_lock.h"
#include "tools/mmudiff/campaign_supervisor.h"
#include "tools/mmudiff/campaign_tally.h"
#include "tools/mmudiff/campaign_workers.h"
#include "tools/mmudiff/commands.h"

namespace mmudiff::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct CampaignArgs {
  // AFL++'s persistent loop runs the plain worker about 3.7 times as fast as libFuzzer's fork
  // mode, reaching the same edges and every plant (docs/fuzzing.md, "Which engine, measured").
  std::string engine = "afl";
  int time_s = 60;
  int jobs = 0;  // 0: every core
  std::vector<std::string> backends;
  std::string plant;
  std::string out;
  std::string fuzzer_dir;
  bool list_plants = false;
  bool stop_on_finding = false;
  bool no_seeds = false;
  double progress_every_s = 5;
  std::optional<ProfileId> profile;  // none: every profile
};

// --jobs is at most this many workers per core.
constexpr int kJobsPerCore = 2;
// A worker that dies after fuzzing this long is started again, if this much time is left, at
// most this often.
constexpr double kRestartAfterLivingS = 10;
constexpr int kRestartIfLeftS = 10;
constexpr int kMaxRestarts = 3;

volatile sig_atomic_t g_stop_signal = 0;

// Progress and summary lines: a closed stdout loses them but never stops the campaign.
template <typename... T>
void say(fmt::format_string<T...> format, T&&... args) {
  std::fputs(fmt::format(format, std::forward<T>(args)...).c_str(), stdout);
}

void on_stop_signal(int sig) {
  g_stop_signal = sig;
}

size_t count_files(const fs::path& dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) ++n;
  return n;
}

// AFL++ keeps its queue in the sync directory; the run's corpus/ is engine-neutral, so the
// queues are copied there (named by content) when the engines stop.
void collect_afl_queues(const fs::path& sync, const fs::path& corpus) {
  std::error_code ec;
  for (const auto& inst : fs::directory_iterator(sync, ec)) {
    fs::path queue = inst.path() / "queue";
    if (!fs::is_directory(queue)) continue;
    for (const auto& e : fs::directory_iterator(queue, ec)) {
      if (!e.is_regular_file()) continue;
      std::ifstream f(e.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      uint64_t h = 1469598103934665603ULL;  // FNV-1a: a name, not a security property
      for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
      fs::path to = corpus / fmt::format("afl-{:016x}", h);
      if (!fs::exists(to)) rundir::write_file_atomic(to, bytes);
    }
  }
}

int run_campaign(const CampaignArgs& a) {
  Engine engine;
  if (a.engine == "libfuzzer") {
    engine = Engine::LibFuzzer;
  } else if (a.engine == "afl") {
    engine = Engine::Afl;
  } else {
    throw std::invalid_argument(
        fmt::format("--engine: unknown engine '{}' (libfuzzer or afl)", a.engine));
  }
  if (a.out.empty()) throw std::invalid_argument("campaign: --out DIR is required");
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int jobs = a.jobs > 0 ? a.jobs : cores;
  // More engines than that only share the cores: each runs slower, none finds more.
  if (jobs > cores * kJobsPerCore)
    throw std::invalid_argument(
        fmt::format("--jobs {}: more than this machine's {} core{} can run (at most {})", jobs,
                    cores, cores == 1 ? "" : "s", cores * kJobsPerCore));
  // As given, or every backend's name: each stream resolves them among its architecture's
  // backends (an arm64 stream runs linux61, walker, legacy; an x86 one linux612-tdp, walker,
  // legacy).
  std::vector<std::string> backends = a.backends;
  // Backends of one profile only (`--backends linux612,mine`) make a campaign of that profile:
  // its streams are the only ones they run. So does a plant that only arm64-6.12 streams show.
  std::optional<ProfileId> profile = a.profile ? a.profile : sole_profile(a.backends);
  if (backends.empty())
    for (const auto& b : registered_backends())
      if (std::find(backends.begin(), backends.end(), b.name) == backends.end())
        backends.emplace_back(b.name);
  Plant plant = Plant::kNone;
  if (!a.plant.empty()) {
    const PlantInfo* p = find_plant(a.plant);
    if (!p)
      throw std::invalid_argument(
          fmt::format("unknown plant '{}' (see 'mmudiff campaign --list-plants')", a.plant));
    plant = p->id;
    if (!profile && p->profile() == ProfileId::Arm64Linux612) profile = p->profile();
  }
  HarnessOptions options = fuzz_target_options(backends, plant);  // checks plant vs backends
  FuzzBuild build = find_fuzz_build(engine, fuzz_build_dir(engine, a.fuzzer_dir));

  CampaignLayout layout{a.out, fs::path(a.out) / ".work", fs::path(a.out) / rundir::kCorpusDir};
  // Before anything is read or written in it: one campaign at a time on a run directory.
  RunDirectoryLock lock(layout.out);
  fs::create_directories(layout.corpus);
  fs::create_directories(fs::path(a.out) / rundir::kFindingsDir);
  fs::path run_file = fs::path(a.out) / rundir::kRunFile;

  // Resuming: keep the first start time and add to the executions already counted. A run.json
  // still "running" belongs to a campaign that was killed (a live one would hold the lock): it
  // never wrote its count, so that count is what its engines recorded, read before the engines'
  // state is cleared for this campaign.
  nlohmann::json run;
  uint64_t previous_execs = 0;
  uint64_t killed_execs = 0;
  uint64_t killed_runs = 0;
  bool resumed = false;
  bool after_kill = false;
  if (fs::exists(run_file)) {
    try {
      std::ifstream f(run_file);
      nlohmann::json old = nlohmann::json::parse(f);
      previous_execs = old.value("executions", uint64_t{0});
      killed_runs = old.value("killed_runs", uint64_t{0});
      run["started"] = old.at("started");
      if (old.value("status", "") == "running") {
        after_kill = true;
        Engine old_engine = old.value("engine", "") == "afl" ? Engine::Afl : Engine::LibFuzzer;
        killed_execs = recorded_executions(old_engine, layout);
        previous_execs += killed_execs;
        ++killed_runs;
      }
      resumed = true;
    } catch (const std::exception&) {
      throw std::invalid_argument(
          fmt::format("{}: not a run.json this version can resume", run_file.string()));
    }
  }
  auto wall_start = std::chrono::system_clock::now();
  run["schema"] = "mmudiff/run-1";
  run["command"] = "campaign";
  run["tool"] = rundir::tool_json();
  run["engine"] = engine_name(engine);
  run["backends"] = rundir::backends_json(backends);
  run["plant"] = plant == Plant::kNone ? nlohmann::json(nullptr) : nlohmann::json(a.plant);
  run["jobs"] = jobs;
  run["time_limit_s"] = a.time_s;
  run["hash_key"] = format_sip_key(options.hash_key);
  if (!resumed) run["started"] = rundir::utc_timestamp(wall_start);
  run["ended"] = nullptr;
  run["status"] = "running";
  run["executions"] = previous_execs;
  run["killed_runs"] = killed_runs;
  FindingStore store(a.out, options, build.asan, engine_name(engine));
  run["findings"] = store.findings().size();
  rundir::write_json_atomic(run_file, run);

  // With a plant, corpus/regressions (which holds each plant's reproducer) is not handed to the
  // engine: the campaign must find the bug, not be given it.
  WorkerPlanInput plan{engine,      jobs,
                       a.time_s,    backends,
                       a.plant,     plant == Plant::kNone,
                       !a.no_seeds, profile ? std::string(profile_name(*profile)) : std::string()};
  std::vector<WorkerSpec> specs = plan_workers(plan, build, layout);

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  say("campaign: {} with {} worker{} ({}), {} s, backends {}{}{}{}\n", engine_name(engine),
      specs.size(), specs.size() == 1 ? "" : "s",
      engine == Engine::LibFuzzer ? fmt::format("{} plain fork job{} + 1 ASan+UBSan",
                                                std::max(0, jobs - 1), jobs == 2 ? "" : "s")
                                  : fmt::format("{} plain + 1 ASan+UBSan", std::max(0, jobs - 1)),
      a.time_s, fmt::join(backends, ","), a.plant.empty() ? "" : ", plant ", a.plant,
      a.no_seeds ? ", no seeds" : "");
  say("profiles: {}\n", profile ? profile_name(*profile) : "arm64-6.1, arm64-6.12 and x86-ept");
  say("run directory: {}{}\n", a.out, resumed ? " (resumed)" : "");
  if (after_kill)
    say("the campaign before on this directory was killed: counted the {} executions its engines "
        "recorded\n",
        killed_execs);
  std::fflush(stdout);

  // A closed stdout (a pager quitting) must not kill the campaign and orphan its engines.
  struct sigaction ignore {
  }, old_pipe{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old_pipe);

  auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  // Declared before the workers, so it outlives them: when this process ends however it ends,
  // the supervisor kills what is left of the engines.
  EngineSupervisor supervisor;
  std::vector<RunningWorker> workers;
  // Whatever ends this function, an error included, stops the engines first.
  struct StopOnExit {
    std::vector<RunningWorker>* workers;
    ~StopOnExit() { stop_workers(workers, 2.0); }
  } stop_on_exit{&workers};
  std::vector<WorkerRecord> records;
  for (const auto& s : specs) {
    workers.push_back(start_worker(s));
    supervisor.watch(workers.back().pid);
    WorkerRecord r;
    r.name = s.name;
    r.kind = s.kind();
    r.pid = workers.back().pid;
    records.push_back(r);
  }
  auto write_run = [&] {
    run["workers"] = workers_json(records);
    rundir::write_json_atomic(run_file, run);
  };
  write_run();

  Totals totals;
  // Reads the engines' records; `record` also appends to progress.jsonl and prints a line.
  auto sample = [&](bool record) {
    for (size_t i = 0; i < workers.size(); ++i)
      if (auto p = read_progress(engine, workers[i].spec)) records[i].take(*p);
    totals = sum_records(records, count_files(layout.corpus));
    if (!record) return;
    double now = elapsed();
    nlohmann::json by_kind = nlohmann::json::object();
    std::string rates;
    for (const auto& [kind, execs] : totals.execs_by_kind) {
      double rate = now > 0 ? static_cast<double>(execs) / now : 0.0;
      by_kind[kind] = {{"execs", execs}, {"execs_per_s", std::round(rate * 10) / 10}};
      rates += fmt::format("{}{} {:.0f}/s", rates.empty() ? "" : ", ", kind, rate);
    }
    double rate = now > 0 ? static_cast<double>(totals.execs) / now : 0.0;
    rundir::append_json_line(fs::path(a.out) / rundir::kProgressFile,
                             {{"t", std::round(now * 10) / 10},
                              {"execs", previous_execs + totals.execs},
                              {"execs_per_s", std::round(rate * 10) / 10},
                              {"by_kind", by_kind},
                              {"coverage", totals.coverage},
                              {"corpus", totals.corpus},
                              {"findings", store.findings().size()}});
    say("[{:5.0f} s] execs {:>9}  {:>6.0f}/s ({})  coverage {:>5}  corpus {:>5}  findings {}\n",
        now, previous_execs + totals.execs, rate, rates, totals.coverage, totals.corpus,
        store.findings().size());
    std::fflush(stdout);
  };
  auto scan = [&] {
    for (const auto& w : workers) {
      std::vector<std::string> fresh;
      for (const auto& dir : w.spec.finding_dirs) {
        auto found = store.scan(dir, w.spec.crash_prefix, w.spec.index, elapsed());
        fresh.insert(fresh.end(), found.begin(), found.end());
      }
      if (!fresh.empty()) {
        for (const auto& sig : fresh) {
          const CampaignFinding& f = store.findings().at(sig);
          say("[{:5.0f} s] new finding {} ({} worker) -> {}\n", f.first_seen_t, sig, w.spec.name,
              f.dir.string());
        }
        run["findings"] = store.findings().size();
        write_run();
      }
    }
  };
  // AFL++ skips a seed that already shows a finding (its dry run) and never stores it: the
  // campaign replays the seeds itself while the engines start.
  if (engine == Engine::Afl && !a.no_seeds) {
    auto from_seeds = store.scan_seeds(build.seeds, workers.front().spec.index);
    for (const auto& sig : from_seeds)
      say("[{:5.0f} s] new finding {} (a seed) -> {}\n", elapsed(), sig,
          store.findings().at(sig).dir.string());
    if (!from_seeds.empty()) {
      run["findings"] = store.findings().size();
      write_run();
    }
  }
  // A worker that ends before its time is said at once, on stdout and in run.json. One that had
  // been fuzzing a while (killed by the OOM killer, an engine's own crash) is started again for
  // the time left; one that dies young would die again (a target or option the engine refuses),
  // and the campaign goes on without it.
  std::vector<double> life_started(workers.size(), 0.0);
  auto check_workers = [&] {
    bool any = false;
    for (size_t i = 0; i < workers.size(); ++i) {
      RunningWorker& w = workers[i];
      if (worker_running(&w)) {
        any = true;
        continue;
      }
      if (records[i].state != WorkerState::Running) continue;
      supervisor.forget(w.pid);
      double now = elapsed();
      // The engines stop themselves at the time limit (-max_total_time, -V); a second early
      // is their rounding, not a death.
      bool early = now < a.time_s - 2 && !g_stop_signal;
      if (!early) {
        records[i].end(WorkerState::Finished, now, 0);
        continue;
      }
      // Its last record first: what this life ran stays counted.
      if (auto p = read_progress(engine, w.spec)) records[i].take(*p);
      int remaining = a.time_s - static_cast<int>(std::ceil(now));
      bool restart = now - life_started[i] >= kRestartAfterLivingS &&
                     remaining >= kRestartIfLeftS &&
                     records[i].restarts.size() < static_cast<size_t>(kMaxRestarts);
      int dead_status = w.status;
      std::string how = describe_exit(dead_status);
      say("[{:5.0f} s] worker {} ({}) stopped early ({}) after {:.0f} s; its log ends:\n{}\n", now,
          w.spec.name, w.spec.kind(), how, now - life_started[i], log_tail(w.spec.log, 6));
      if (restart) {
        WorkerSpec again =
            next_life(engine, w.spec, static_cast<int>(records[i].restarts.size()) + 1, remaining);
        try {
          w = start_worker(again);
          supervisor.watch(w.pid);
          records[i].restart(now, dead_status, w.pid);
          life_started[i] = now;
          any = true;
          say("[{:5.0f} s] worker {} started again for the {} s left (restart {} of at most {})\n",
              now, w.spec.name, remaining, records[i].restarts.size(), kMaxRestarts);
        } catch (const std::exception& e) {
          say("[{:5.0f} s] worker {} not started again: {}\n", now, w.spec.name, e.what());
          restart = false;
        }
      }
      if (!restart) records[i].end(WorkerState::Died, now, dead_status);
      std::fflush(stdout);
      write_run();
    }
    return any;
  };

  auto deadline = start + std::chrono::seconds(a.time_s);
  auto next_progress = start;
  bool engines_died = false;
  while (!g_stop_signal && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    scan();
    bool due = Clock::now() >= next_progress;
    if (due || (a.stop_on_finding && !store.findings().empty())) {
      sample(due);
      if (due)
        next_progress += std::chrono::milliseconds(static_cast<int>(a.progress_every_s * 1000));
    }
    // Stop once something is stored and the engines have reported how much they ran.
    if (a.stop_on_finding && !store.findings().empty() && totals.execs > 0) break;
    if (!check_workers()) {
      engines_died = elapsed() < a.time_s - 5;
      break;
    }
  }
  bool interrupted = g_stop_signal != 0;
  if (interrupted) say("\ncampaign: stopping (signal {})\n", static_cast<int>(g_stop_signal));
  // The engines write their last records as they stop: count after they have.
  check_workers();
  stop_workers(&workers, 5.0);
  for (size_t i = 0; i < workers.size(); ++i) {
    supervisor.forget(workers[i].pid);
    if (records[i].state == WorkerState::Running)
      records[i].end(WorkerState::Finished, elapsed(), 0);
  }
  sample(true);
  // The time the engines ran: what the rate is over (storing the findings and AFL++'s queues,
  // which follows, can take seconds).
  double secs = elapsed();
  scan();
  if (engine == Engine::Afl) collect_afl_queues(layout.work / "afl-sync", layout.corpus);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGPIPE, &old_pipe, nullptr);

  run["ended"] = rundir::utc_timestamp(std::chrono::system_clock::now());
  run["status"] = interrupted ? "interrupted" : "finished";
  run["executions"] = previous_execs + totals.execs;
  run["findings"] = store.findings().size();
  write_run();

  if (engines_died)
    fmt::print(stderr, "mmudiff: campaign: every worker stopped before its time (see above)\n");
  std::string rates;
  for (const auto& [kind, execs] : totals.execs_by_kind)
    rates += fmt::format("; {} {:.0f}/s", kind, secs > 0 ? static_cast<double>(execs) / secs : 0.0);
  say("\ncampaign {} after {:.0f} s: {} executions ({:.0f}/s{}), coverage {}, corpus {}\n",
      interrupted ? "interrupted" : "finished", secs, totals.execs,
      secs > 0 ? static_cast<double>(totals.execs) / secs : 0.0, rates, totals.coverage,
      count_files(layout.corpus));
  for (const WorkerRecord& r : records) {
    std::string restarts;
    for (const WorkerDeath& d : r.restarts)
      restarts += fmt::format("{}died at {:.0f} s ({})", restarts.empty() ? "" : ", ", d.t, d.exit);
    say("  worker {:<6} {:<5} {:>10} executions{}{}\n", r.name, r.kind, r.progress.execs,
        r.state == WorkerState::Died ? fmt::format("  DIED after {:.0f} s ({})", r.ended_t, r.exit)
                                     : "",
        restarts.empty() ? "" : fmt::format("  restarted {}x: {}", r.restarts.size(), restarts));
  }
  if (previous_execs)
    say("  with earlier campaigns on this directory: {} executions\n",
        previous_execs + totals.execs);
  if (store.findings().empty()) {
    say("no findings\n");
  } else {
    say("{} finding signature{}:\n", store.findings().size(),
        store.findings().size() == 1 ? "" : "s");
    for (const auto& [sig, f] : store.findings())
      say("  {:<44} hits {:>4}  first at {:6.1f} s  {}\n", sig, f.hits, f.first_seen_t,
          (f.dir / rundir::kFindingReproducer).string());
    say("replay one with: mmudiff repro{}{} FILE\n", a.plant.empty() ? "" : " --plant ", a.plant);
  }
  if (store.unreproducible())
    say("{} crash file{} did not reproduce (kept in {})\n", store.unreproducible(),
        store.unreproducible() == 1 ? "" : "s", layout.work.string());
  // Measured after the summary, which a person waits for; not after Ctrl-C.
  if (!interrupted) {
    try {
      say("{}\n", write_campaign_coverage(engine, build, layout, backends));
    } catch (const std::exception& e) {
      fmt::print(stderr, "mmudiff: campaign: coverage by backend not measured: {}\n", e.what());
    }
  }
  // The report comes last: every finding is already on disk, and a report that cannot be
  // made (no gnuplot) must not hide them; `mmudiff report DIR` makes it again later.
  try {
    WrittenReport r = write_report(a.out);
    say("{}\nreport: {}\n", r.verdict, r.html.string());
  } catch (const std::exception& e) {
    fmt::print(stderr, "mmudiff: campaign: no report: {}\n", e.what());
  }
  if (engines_died) return kExitBadInput;
  // Interrupted or not, the exit status says what was found (the summary says which it was).
  return store.findings().empty() ? kExitAgree : kExitFinding;
}

}  // namespace

void add_campaign_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<CampaignArgs>();
  auto* cmd = app.add_subcommand(
      "campaign",
      "Fuzz every backend with libFuzzer or AFL++ for a while; store each distinct finding in "
      "--out as it appears and end with a summary (exit 1 if anything was found)");
  cmd->add_option("--engine", args->engine, "afl (AFL++, the default) or libfuzzer")
      ->check(CLI::IsMember({"libfuzzer", "afl"}));
  cmd->add_option("--time", args->time_s, "seconds to fuzz (default 60)")
      ->check(CLI::Range(1, 30 * 24 * 3600));
  cmd->add_option("--jobs", args->jobs,
                  "workers (default: every core); one of them runs the ASan+UBSan build")
      ->check(CLI::Range(1, 1024));
  add_backends_option(cmd, &args->backends);
  std::string plant_help = "switch on one planted bug (see --list-plants)";
  cmd->add_option("--plant", args->plant, plant_help);
  cmd->add_option_function<std::string>(
      "--profile,--arch",
      [args](const std::string& name) {
        ProfileId id;
        if (!profile_from_name(name, &id))
          throw CLI::ValidationError("--profile",
                                     "'" + name + "' is not one of " + cli::kProfileNames);
        args->profile = id;
      },
      "fuzz streams of one profile only: arm64-6.1 (also arm64-s2), arm64-6.12 or x86-ept "
      "(default: all)");
  cmd->add_option("--out", args->out, "run directory (created; resumed if it holds a campaign)");
  cmd->add_option("--fuzzer-dir", args->fuzzer_dir,
                  "the fuzz build's fuzz/ directory (default: build/fuzz/fuzz or build/afl/fuzz; "
                  "or $MMUDIFF_LIBFUZZER_DIR, $MMUDIFF_AFL_DIR)");
  cmd->add_flag("--stop-on-finding", args->stop_on_finding,
                "stop as soon as the first finding is stored");
  cmd->add_flag("--no-seeds", args->no_seeds,
                "start from no seeds (only the dictionary, and the corpus of an earlier campaign "
                "on --out): what the engine and the mutator find by themselves");
  cmd->add_flag("--list-plants", args->list_plants,
                "print the planted bugs, one a line: name, backend, profile, bug class");
  cmd->callback([args, exit_code] {
    if (args->list_plants) {
      for (const PlantInfo& p : planted_bugs())
        say("{}\t{}\t{}\t{}\n", p.name, p.backend, profile_name(p.profile()), p.bug_class);
      *exit_code = kExitAgree;
      return;
    }
    *exit_code = run_campaign(*args);
  });
}

}  // namespace mmudiff::cli
