// SPDX-License-Identifier: GPL-2.0-only
// The last step of a campaign: how much of each backend's code its corpus reaches
// (reports/backend_coverage.h), measured by the libFuzzer build replaying corpus/ and the seeds
// with -print_coverage=1 (without a planted bug: the coverage of the real code), written to the run
// directory's coverage.json. An AFL++ campaign uses the libFuzzer build as well when there is one:
// AFL++'s driver cannot list coverage by function.
#pragma once

#include <string>
#include <vector>

#include "tools/mmudiff/campaign_workers.h"

namespace mmudiff::cli {

// Returns one line for the summary: what coverage.json says, or why there is none.
std::string write_campaign_coverage(Engine engine, const FuzzBuild& build,
                                    const CampaignLayout& layout,
                                    const std::vector<std::string>& backends);

}  // namespace mmudiff::cli
