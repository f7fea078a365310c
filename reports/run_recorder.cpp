// SPDX-License-Identifier: GPL-2.0-only
#include "reports/run_recorder.h"

#include <set>

#include <fmt/format.h>

#include "mmu/ops/binary_format.h"
#include "mmu/ops/text_format.h"
#include "mmu/plants.h"
#include "reports/run_dir.h"

namespace mmudiff {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// FNV-1a: a stable name for a corpus file, so the same stream given twice is stored once.
uint64_t fnv1a(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ULL;
  return h;
}

// A run directory that cannot be written is a usage error (a bad --out): one line, exit 2.
template <typename F>
void as_input_error(F&& write) {
  try {
    write();
  } catch (const InputError&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw InputError(e.what());
  }
}

}  // namespace

RunRecorder::RunRecorder(fs::path dir, std::string command, const HarnessOptions& options,
                         std::vector<std::string> inputs)
    : dir_(std::move(dir)), start_(std::chrono::steady_clock::now()) {
  if (fs::exists(dir_ / rundir::kRunFile))
    throw InputError(fmt::format("{}: already a run directory (it has a {}); choose another --out",
                                 dir_.string(), rundir::kRunFile));
  std::error_code ec;
  fs::create_directories(dir_ / rundir::kCorpusDir, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create: {}", dir_.string(), ec.message()));
  const PlantInfo* plant = plant_info(options.plant);
  run_ = {{"schema", "mmudiff/run-1"},
          {"command", command},
          {"tool", rundir::tool_json()},
          {"engine", "replay"},
          {"backends", rundir::backends_json(resolve_backends(options.backends))},
          {"plant", plant ? json(std::string(plant->name)) : json(nullptr)},
          {"jobs", 1},
          {"time_limit_s", nullptr},
          {"hash_key", format_sip_key(options.hash_key)},
          {"started", rundir::utc_timestamp(std::chrono::system_clock::now())},
          {"ended", nullptr},
          {"status", "running"},
          {"executions", 0},
          {"findings", 0},
          {"inputs", inputs}};
  write_run_json("running");
}

void RunRecorder::write_run_json(const char* status) {
  run_["status"] = status;
  run_["executions"] = executions_;
  run_["findings"] = findings_.size();
  as_input_error([&] { rundir::write_json_atomic(dir_ / rundir::kRunFile, run_); });
}

void RunRecorder::add(const std::string& source, const Stream& stream, const StreamReport& report) {
  as_input_error([&] { record(source, stream, report); });
  write_run_json("running");
}

void RunRecorder::record(const std::string& source, const Stream& stream,
                         const StreamReport& report) {
  ++executions_;
  std::vector<uint8_t> bytes = encode_binary(stream);
  rundir::write_file_atomic(
      dir_ / rundir::kCorpusDir / fmt::format("{:016x}.bin", fnv1a(bytes)),
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::set<std::string> seen_here;  // a stream counts once per signature
  for (const Finding& f : report.findings) {
    std::string sig = f.signature();
    if (!seen_here.insert(sig).second) continue;
    auto it = findings_.find(sig);
    if (it == findings_.end()) {
      json extra = {{"first_seen_t", t},
                    {"hits", 1},
                    {"engine", "replay"},
                    {"worker", 0},
                    {"source", source}};
      rundir::write_finding(dir_, f, stream, extra);
      findings_[sig] = rundir::finding_json(f);
      for (const auto& [k, v] : extra.items()) findings_[sig][k] = v;
    } else {
      json& entry = it->second;
      entry["hits"] = entry["hits"].get<uint64_t>() + 1;
      fs::path file =
          dir_ / rundir::kFindingsDir / rundir::finding_dir_name(f) / rundir::kFindingFile;
      rundir::write_json_atomic(file, entry);
    }
  }
}

void RunRecorder::finish() {
  run_["ended"] = rundir::utc_timestamp(std::chrono::system_clock::now());
  write_run_json("finished");
}

}  // namespace mmudiff
