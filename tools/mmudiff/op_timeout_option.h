// SPDX-License-Identifier: GPL-2.0-only
// --op-timeout SECONDS: every command that replays streams does so in a child process
// (oracles/isolated_run.h); a backend operation that has not returned after this long is a hang
// finding, and the command goes on with its next stream.
#pragma once

#include <CLI/CLI.hpp>

#include "oracles/isolated_run.h"
#include "tools/mmudiff/number_option.h"

namespace mmudiff::cli {

inline CLI::Option* add_op_timeout_option(CLI::App* cmd, double* seconds) {
  *seconds = kDefaultOpTimeoutSeconds;
  return cmd
      ->add_option("--op-timeout", *seconds,
                   "seconds one backend operation may take before it is reported as a hang "
                   "(default 5)")
      ->check(finite_decimal())
      ->check(CLI::Range(0.05, 86400.0));
}

}  // namespace mmudiff::cli
