// SPDX-License-Identifier: GPL-2.0-only
// mmudiff/proofs-1 (reports/schema/proofs-1.schema.json): the Z3 proofs of models/ as a run
// directory keeps them in proofs.json. `mmudiff prove --json` writes it; `mmudiff report` runs
// the proofs itself when a run directory has none, so every report states what was proved as
// well as what was tested.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mmu/format/format.h"
#include "mmu/plants.h"
#include "models/proofs.h"

namespace mmudiff {

// One proof: name, backend, property, result ("proved", "failed", "unknown"), time, and the
// counterexample of a failed one.
nlohmann::json proof_result_json(const models::ProofResult& result);

// The whole document for RESULTS of the catalogue run on FORMAT with PLANT_NAME ("" for none).
nlohmann::json proofs_json(const std::string& format, const std::string& plant_name,
                           const std::vector<models::ProofResult>& results, double total_ms);

// Runs the catalogue's proofs for each of FORMATS (models::proofs_for_format: a run's report
// carries the proofs of the architectures it tested) with the planted bug PLANT_NAME ("" for
// none, else a name find_plant knows) and returns one document; its "format" names them all,
// "arm64-s2-4k, x86-ept". TIMEOUT_MS bounds each Z3 query.
nlohmann::json run_proofs_json(const std::string& plant_name, unsigned timeout_ms = 20000,
                               const std::vector<std::string>& formats = {
                                   std::string(kDefaultFormatName)});

}  // namespace mmudiff
