// SPDX-License-Identifier: GPL-2.0-only
// prove: run every Z3 proof about the backends' descriptor functions (models/), print each with
// its result and time and one summary line; exit 0 only when every proof holds. --emit-seeds
// writes the proofs' boundary inputs as .mmu seeds instead.
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mmu/format/format.h"
#include "mmu/format/x86_ept_format.h"
#include "mmu/plants.h"
#include "models/proofs.h"
#include "models/seeds.h"
#include "models/x86_descriptor_proofs.h"
#include "models/x86_zero_check_cross_check.h"
#include "reports/proofs_json.h"
#include "tools/mmudiff/commands.h"
#include "tools/mmudiff/number_option.h"
#include "tools/mmudiff/output_path.h"
#include "tools/mmudiff/stream_io.h"

namespace mmudiff::cli {

namespace {

struct ProveArgs {
  std::string format;  // "": every proof
  std::string json_path;
  std::string plant;
  std::string emit_seeds;
  unsigned timeout_ms = 20000;
};

}  // namespace

void add_prove_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ProveArgs>();
  auto* cmd = app.add_subcommand(
      "prove", "Prove the backends' descriptor functions correct for all inputs with Z3");
  cmd->add_option("--format", args->format,
                  "only the proofs of one format: arm64-s2-4k or x86-ept (default: every proof)");
  cmd->add_option("--json", args->json_path, "also write the results as JSON (mmudiff/proofs-1)");
  cmd->add_option("--plant", args->plant, "run the proofs with a planted bug switched on");
  cmd->add_option("--emit-seeds", args->emit_seeds,
                  "write the proofs' boundary inputs as .mmu seeds into DIR and exit");
  cmd->add_option("--timeout-ms", args->timeout_ms, "Z3 time limit per query")
      ->transform(strict_unsigned())
      ->check(CLI::Range(1u, 600000u));
  cmd->callback([args, exit_code] {
    if (!args->format.empty() && args->format != kDefaultFormatName &&
        args->format != kX86EptFamily) {
      fmt::print(stderr, "mmudiff: prove: no model for format '{}' (models exist for {} and {})\n",
                 args->format, kDefaultFormatName, kX86EptFamily);
      *exit_code = kExitBadInput;
      return;
    }
    Plant plant = Plant::kNone;
    if (!args->plant.empty()) {
      const PlantInfo* p = find_plant(args->plant);
      if (!p) {
        fmt::print(stderr, "mmudiff: prove: unknown plant '{}'\n", args->plant);
        *exit_code = kExitBadInput;
        return;
      }
      plant = p->id;
    }
    // Where the results go is checked before the proofs take their seconds.
    if (!args->json_path.empty()) check_output_file(args->json_path);
    if (!args->emit_seeds.empty()) prepare_output_directory(args->emit_seeds);
    if (!args->emit_seeds.empty()) {
      models::Solver solver(args->timeout_ms);
      for (const std::string& path : models::write_seeds(solver, args->emit_seeds))
        fmt::print("wrote {}\n", path);
      *exit_code = kExitAgree;
      return;
    }

    // The whole catalogue is reported under the default format's name, as it always was.
    const std::string format =
        args->format.empty() ? std::string(kDefaultFormatName) : args->format;
    fmt::print("prove {}{}\n", args->format.empty() ? "every format" : args->format,
               args->plant.empty() ? "" : fmt::format(" with plant {}", args->plant));
    const auto start = std::chrono::steady_clock::now();
    unsigned proved = 0, failed = 0, unknown = 0;
    std::vector<const models::ProofSpec*> specs;
    if (args->format.empty())
      for (const models::ProofSpec& spec : models::proof_catalogue()) specs.push_back(&spec);
    else
      specs = models::proofs_for_format(args->format);
    const bool x86 = args->format.empty() || args->format == kX86EptFamily;
    std::vector<models::ProofResult> results =
        models::run_proofs(specs, args->timeout_ms, plant, 0, [&](const models::ProofResult& r) {
          fmt::print("{:<8} {:<40} {:>9.1f} ms  {}\n", models::answer_name(r.answer), r.name,
                     r.time_ms, r.property);
          if (r.counterexample) fmt::print("{}", models::format_counterexample(*r.counterexample));
          if (r.answer == models::Answer::Unknown) fmt::print("  unknown: {}\n", r.unknown_reason);
          std::fflush(stdout);
          proved += r.answer == models::Answer::Proved;
          failed += r.answer == models::Answer::Counterexample;
          unknown += r.answer == models::Answer::Unknown;
        });
    // Without the compiled kernel there is nothing to cross-check the model with: say so rather
    // than count it as proved.
    if (x86 && !models::zero_check_kernel_available())
      fmt::print("{:<8} {:<40} {:>12}  built without the linux612-tdp backend\n", "skipped",
                 models::kZeroCheckCrossCheckName, "");
    const double total_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    fmt::print("{} proofs: {} proved, {} failed, {} unknown in {:.0f} ms\n", results.size(), proved,
               failed, unknown, total_ms);

    if (!args->json_path.empty()) {
      nlohmann::json j = proofs_json(format, args->plant, results, total_ms);
      // Whole or not at all; a failed write throws InputError naming the file.
      write_file_atomic(args->json_path, j.dump(2) + '\n');
    }
    *exit_code = failed == 0 && unknown == 0 ? kExitAgree : kExitFinding;
  });
}

}  // namespace mmudiff::cli
