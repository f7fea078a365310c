// SPDX-License-Identifier: GPL-2.0-only
// A run directory is everything a campaign, run, repro or prove leaves behind, and the only input
// the report renderer needs: an interrupted campaign still yields a report of what it found.
//
//   run.json          what ran: tool, backends (linux61 package and file hashes), configuration,
//                     hash key, engine, time limit, start/end, status
//   progress.jsonl    one sample a line while a campaign runs: t, execs, execs_per_s, coverage,
//                     corpus, findings
//   findings/SIG/     one directory per distinct signature: finding.json, input.bin, repro.mmu
//   corpus/           the engines' working corpus (resumed by the next campaign on this directory)
//   exercised.json    operations per kind, leaves per level and block size, replayed from the
//                     corpus
//   proofs.json       mmudiff prove --json, or run by mmudiff report when missing
//   coverage.json     edges and functions of each backend's code the campaign's corpus reaches
//   semdiff.json      mmudiff semdiff --out: what changed between two kernels (a report section)
//   report.json, report.html   written by `mmudiff report`
//
// The JSON files follow the schemas in reports/schema/ (json_schema.h names them).
//
// Every file is written whole and renamed into place (or appended a line at a time and synced),
// so a reader never sees half a file and a finding is on disk before anything else happens.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mmu/ops/op.h"
#include "oracles/verdict.h"

namespace mmudiff::rundir {

inline constexpr std::string_view kRunFile = "run.json";
inline constexpr std::string_view kProgressFile = "progress.jsonl";
inline constexpr std::string_view kFindingsDir = "findings";
inline constexpr std::string_view kFindingFile = "finding.json";
inline constexpr std::string_view kFindingInput = "input.bin";
inline constexpr std::string_view kFindingReproducer = "repro.mmu";
inline constexpr std::string_view kCorpusDir = "corpus";
inline constexpr std::string_view kExercisedFile = "exercised.json";
inline constexpr std::string_view kProofsFile = "proofs.json";
inline constexpr std::string_view kCoverageFile = "coverage.json";
inline constexpr std::string_view kSemdiffFile = "semdiff.json";
inline constexpr std::string_view kReportJson = "report.json";
inline constexpr std::string_view kReportHtml = "report.html";

// Writes to PATH.tmp, syncs it, renames it over PATH and syncs the directory. Throws
// std::runtime_error naming the path on any failure.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);
void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& value);
// Appends one compact JSON line and syncs it.
void append_json_line(const std::filesystem::path& path, const nlohmann::json& value);

// A finding as the run directory records it (class, oracle, operation, evidence, signature).
nlohmann::json finding_json(const Finding& finding);
// The directory name for a finding's signature: "security-translation-map",
// "hardware-effects-effects-unmap-tlb-stale-walker"; safe in any file system, at most 129
// characters, and distinct for distinct signatures (a signature with characters the name cannot
// keep, such as capitals, or a very long one, gets a hash of itself appended).
std::string finding_dir_name(const Finding& finding);

// Writes findings/NAME/ for a finding and the stream that shows it: input.bin (the binary
// stream), repro.mmu (the same as text, with the expected verdict), then finding.json, which is
// finding_json(finding) with EXTRA's keys added. finding.json comes last, so a directory that has
// it is complete. Returns the directory.
std::filesystem::path write_finding(const std::filesystem::path& run_dir, const Finding& finding,
                                    const Stream& stream, const nlohmann::json& extra);

// What run.json records about the binary that wrote it: version, compiler, build type.
nlohmann::json tool_json();
// run.json's backends: name, description, identity (linux61: the source package version and
// the compiled files' hashes; the others are built from this tree, so the tool version).
// Throws std::invalid_argument for a name not in this build.
nlohmann::json backends_json(const std::vector<std::string>& names);
// "2026-11-23T19:49:12Z": UTC, whole seconds, as run.json's started and ended.
std::string utc_timestamp(std::chrono::system_clock::time_point t);

}  // namespace mmudiff::rundir
