// SPDX-License-Identifier: GPL-2.0-only
#include "reports/proofs_json.h"

#include <chrono>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mmu/format/format.h"
#include "models/solver.h"

namespace mmudiff {

nlohmann::json proof_result_json(const models::ProofResult& r) {
  nlohmann::json j = {{"name", r.name},         {"backend", r.backend},
                      {"property", r.property}, {"result", models::answer_name(r.answer)},
                      {"time_ms", r.time_ms},   {"counterexample", nullptr}};
  if (r.counterexample) {
    nlohmann::json inputs = nlohmann::json::object();
    for (const auto& [name, value] : r.counterexample->inputs)
      inputs[name] = models::counterexample_input_is_number(name)
                         ? nlohmann::json(value)
                         : nlohmann::json(fmt::format("{:#x}", value));
    j["counterexample"] = {{"inputs", inputs},
                           {"descriptor", fmt::format("{:#018x}", r.counterexample->descriptor)},
                           {"decoded", r.counterexample->decoded}};
  }
  return j;
}

nlohmann::json proofs_json(const std::string& format, const std::string& plant_name,
                           const std::vector<models::ProofResult>& results, double total_ms) {
  unsigned proved = 0, failed = 0, unknown = 0;
  nlohmann::json proofs = nlohmann::json::array();
  for (const auto& r : results) {
    proved += r.answer == models::Answer::Proved;
    failed += r.answer == models::Answer::Counterexample;
    unknown += r.answer == models::Answer::Unknown;
    proofs.push_back(proof_result_json(r));
  }
  return {{"schema", "mmudiff/proofs-1"},
          {"format", format},
          {"plant", plant_name.empty() ? nlohmann::json(nullptr) : nlohmann::json(plant_name)},
          {"proofs", proofs},
          {"summary",
           {{"proved", proved}, {"failed", failed}, {"unknown", unknown}, {"time_ms", total_ms}}}};
}

nlohmann::json run_proofs_json(const std::string& plant_name, unsigned timeout_ms,
                               const std::vector<std::string>& formats) {
  Plant plant = Plant::kNone;
  if (!plant_name.empty()) {
    const PlantInfo* info = find_plant(plant_name);
    if (!info) throw std::invalid_argument(fmt::format("unknown planted bug '{}'", plant_name));
    plant = info->id;
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<const models::ProofSpec*> specs;
  for (const std::string& format : formats)
    for (const models::ProofSpec* spec : models::proofs_for_format(format)) specs.push_back(spec);
  std::vector<models::ProofResult> results = models::run_proofs(specs, timeout_ms, plant);
  const double total_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return proofs_json(fmt::format("{}", fmt::join(formats, ", ")), plant_name, results, total_ms);
}

}  // namespace mmudiff
