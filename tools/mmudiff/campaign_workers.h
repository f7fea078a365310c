// SPDX-License-Identifier: GPL-2.0-only
// The fuzzing engines a campaign runs, as child processes: what binaries a build provides, the
// command line and environment of each worker, starting and stopping them, and reading their
// progress (libFuzzer's status lines, AFL++'s fuzzer_stats files).
//
// libFuzzer: one plain worker in fork mode with jobs-1 parallel jobs, and one ASan+UBSan worker
// in fork mode with one job; both merge new inputs into the run's corpus/ and write crash files
// into their own artifact directory. AFL++: a main instance (-M) and secondaries (-S) sharing one
// sync directory, one secondary running the ASan+UBSan build. With --jobs 1 the only worker is the
// ASan+UBSan one: memory errors are findings in every campaign.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mmudiff::cli {

enum class Engine { LibFuzzer, Afl };
const char* engine_name(Engine e);

// What one fuzz build directory (build/fuzz/fuzz or build/afl/fuzz) holds for a campaign.
struct FuzzBuild {
  std::filesystem::path dir;
  std::filesystem::path plain;        // stream_fuzzer
  std::filesystem::path asan;         // stream_fuzzer_asan
  std::filesystem::path mutator;      // AFL++: libmmudiff_afl_mutator.so
  std::filesystem::path seeds;        // seeds/: corpus/seeds encoded
  std::filesystem::path regressions;  // regressions/: corpus/regressions encoded
  std::filesystem::path dict;         // mmudiff.dict
};

// The directory a campaign looks in: `override_dir` if given, else $MMUDIFF_LIBFUZZER_DIR or
// $MMUDIFF_AFL_DIR, else an installed mmudiff's libexec/mmudiff/ENGINE, else the build tree's fuzz
// or afl preset (baked in at configure time).
std::filesystem::path fuzz_build_dir(Engine e, const std::string& override_dir);
// Throws std::invalid_argument with one line naming what is missing and the preset that builds it.
FuzzBuild find_fuzz_build(Engine e, const std::filesystem::path& dir);

struct WorkerSpec {
  int index = 0;
  bool asan = false;
  std::string name;  // "plain", "asan", "main", "s1", ...
  // What the campaign sums its counts by: "plain" or "asan" (the ASan+UBSan build).
  const char* kind() const { return asan ? "asan" : "plain"; }
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // added to this process's environment
  std::filesystem::path log;               // stdout and stderr
  // Where the inputs it stopped on appear: libFuzzer's artifacts (crash-, leak-, timeout-, ...);
  // AFL++'s crashes/ and hangs/ (a backend that never returns is a finding too).
  std::vector<std::filesystem::path> finding_dirs;
  std::string crash_prefix;          // libFuzzer: "" (any of crash-, leak-, ...); AFL: "id:"
  std::filesystem::path stats_file;  // AFL++: fuzzer_stats (its queue/ beside it)
};

struct CampaignLayout {
  std::filesystem::path out;     // the run directory
  std::filesystem::path work;    // out/.work: engine state, logs, artifacts
  std::filesystem::path corpus;  // out/corpus
};

struct WorkerPlanInput {
  Engine engine;
  int jobs;
  int time_s;
  std::vector<std::string> backends;  // empty: all
  std::string plant;                  // empty: none
  bool with_regressions;              // seed with corpus/regressions too
  // false: no seeds at all (--no-seeds), only the dictionary and what earlier campaigns on this
  // run directory left in corpus/, to measure what the engine and mutator find by themselves.
  bool with_seeds = true;
  std::string arch;  // MMUDIFF_ARCH, a profile's name: empty, every profile
};

// Builds the worker command lines; creates the directories they need (AFL++'s input directory
// is assembled from the seeds and the run's corpus).
std::vector<WorkerSpec> plan_workers(const WorkerPlanInput& in, const FuzzBuild& build,
                                     const CampaignLayout& layout);

// The spec of a dead worker's next life (`life` 1, 2, ...), to run for the `remaining_s` seconds
// the campaign has left. It keeps its index, kind and name (the campaign counts it as one worker)
// and the directories its earlier lives stored findings in; it writes a log of its own
// (libFuzzer: engine.LIFE.log beside engine.log) and, under AFL++, is an instance of its own
// (NAME_rLIFE in the sync directory: AFL++ will not take over a dead instance's directory
// without resuming it, and a fresh one keeps each life's fuzzer_stats apart).
WorkerSpec next_life(Engine e, const WorkerSpec& dead, int life, int remaining_s);

struct RunningWorker {
  WorkerSpec spec;
  pid_t pid = -1;  // also its process group
  bool exited = false;
  int status = 0;
};

// Starts the worker in its own process group (a Ctrl-C at the terminal reaches the campaign
// only, which then stops the engines in order), with SIGKILL as its parent-death signal (the
// engine dies with the campaign; its own children are the supervisor's, campaign_supervisor.h).
// Throws std::runtime_error, naming the program and why, if it cannot be executed.
RunningWorker start_worker(const WorkerSpec& spec);
// Reaps the worker if it has exited; true while it runs.
bool worker_running(RunningWorker* w);
// SIGINT to the worker's group, then SIGKILL after `grace_s` if it is still there.
void stop_workers(std::vector<RunningWorker>* workers, double grace_s);

// What an engine's own records say it did. libFuzzer (fork mode): its last status line
// "#EXECS: cov: COV ft: .. corp: CORPUS ...", written as each job ends. AFL++: fuzzer_stats
// (execs_done, corpus_count, edges_found), which AFL++ rewrites only once a minute and when it
// exits, and between those the names of the inputs it queued ("id:..,execs:N,..": it had run N
// when it found that one), the larger of the two.
struct WorkerProgress {
  uint64_t execs = 0;
  uint64_t coverage = 0;
  uint64_t corpus = 0;
};
// The latest record of a worker, if it has written one.
std::optional<WorkerProgress> read_progress(Engine e, const WorkerSpec& spec);
// The executions every worker of the campaign that last ran in `layout` recorded, summed: what a
// campaign that was killed (and so never wrote its count into run.json) ran. Read before
// plan_workers, which clears the engines' state for the next campaign.
uint64_t recorded_executions(Engine e, const CampaignLayout& layout);

// The last lines of a worker's log, for an error message when it dies early.
std::string log_tail(const std::filesystem::path& log, size_t lines);

}  // namespace mmudiff::cli
