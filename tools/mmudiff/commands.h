// SPDX-License-Identifier: GPL-2.0-only
// Each subcommand registers itself on the app and runs when CLI11 selects it. Exit codes are a
// contract scripts rely on: 0 all agree, 1 a divergence or finding, 2 bad input or usage.
#pragma once

#include <CLI/CLI.hpp>

namespace mmudiff::cli {

inline constexpr int kExitAgree = 0;
inline constexpr int kExitFinding = 1;
inline constexpr int kExitBadInput = 2;

// Each sets *exit_code when its subcommand runs.
void add_run_command(CLI::App& app, int* exit_code);
void add_convert_commands(CLI::App& app, int* exit_code);
void add_dump_command(CLI::App& app, int* exit_code);
void add_backends_command(CLI::App& app, int* exit_code);
void add_repro_commands(CLI::App& app, int* exit_code);  // repro and minimize
void add_soak_command(CLI::App& app, int* exit_code);
void add_prove_command(CLI::App& app, int* exit_code);
void add_report_command(CLI::App& app, int* exit_code);
void add_campaign_command(CLI::App& app, int* exit_code);
void add_semdiff_command(CLI::App& app, int* exit_code);

}  // namespace mmudiff::cli
