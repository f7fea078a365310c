// SPDX-License-Identifier: GPL-2.0-only
// mmudiff: differential testing of stage-2 page-table backends.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include <fmt/format.h>

#include "tools/mmudiff/commands.h"
#include "tools/mmudiff/stream_io.h"

namespace {

// EXIT_CODE, unless what was printed on standard output never got there (a full disk): a report
// that was lost must not end as if it had been read.
int finish(int exit_code) {
  if (std::fflush(stdout) != 0) {
    fmt::print(stderr, "mmudiff: standard output: write error: {}\n", std::strerror(errno));
    return mmudiff::cli::kExitBadInput;
  }
  if (std::ferror(stdout)) {
    fmt::print(stderr, "mmudiff: standard output: write error (some output was lost)\n");
    return mmudiff::cli::kExitBadInput;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mmudiff::cli;
  CLI::App app{
      fmt::format(
          "mmudiff runs the same stage-2 page-table operations through independent backends (the "
          "real\nLinux 6.1 arm64 pgtable.c, a generic walker, a shadow-MMU-style implementation) "
          "and checks\nthat they build identical tables, return identical codes and cause the "
          "same TLB and cache\nmaintenance.\n\n"
          "Operation streams are .mmu text (one operation a line; see corpus/seeds/) or the "
          "compact\nbinary form the fuzzers use, {} MiB at most. Exit status: 0 all agree, 1 "
          "divergence or finding,\n2 bad input or an output that could not be written.",
          kMaxInputBytes >> 20),
      "mmudiff"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mmudiff 0.1.0");
  int exit_code = kExitAgree;
  add_run_command(app, &exit_code);
  add_dump_command(app, &exit_code);
  add_repro_commands(app, &exit_code);
  add_soak_command(app, &exit_code);
  add_prove_command(app, &exit_code);
  add_report_command(app, &exit_code);
  add_campaign_command(app, &exit_code);
  add_semdiff_command(app, &exit_code);
  add_convert_commands(app, &exit_code);
  add_backends_command(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return finish(app.exit(e));  // --help, --version
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return finish(app.exit(e));
    fmt::print(stderr, "mmudiff: {}\nRun 'mmudiff --help' for usage.\n", e.what());
    return finish(kExitBadInput);
  } catch (const std::exception& e) {
    // The last line of defence: each command names the file it could not read or write, and
    // this only turns what slipped past (std::bad_alloc, a filesystem_error) into one line and
    // exit status 2 instead of an abort. A failed write to standard output (fmt throws
    // "cannot write to file") is said to be one.
    if (std::ferror(stdout))
      fmt::print(stderr, "mmudiff: standard output: {}\n", e.what());
    else
      fmt::print(stderr, "mmudiff: {}\n", e.what());
    return kExitBadInput;
  }
  return finish(exit_code);
}
