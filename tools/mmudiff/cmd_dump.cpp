// SPDX-License-Identifier: GPL-2.0-only
// dump: the final table one backend builds for a stream, every descriptor decoded.
#include <fmt/format.h>

#include "mmu/format/decode.h"
#include "oracles/harness.h"
#include "oracles/table_snapshot.h"
#include "oracles/unlinked_tables.h"
#include "tools/mmudiff/commands.h"
#include "tools/mmudiff/stream_io.h"

namespace mmudiff::cli {

namespace {

struct DumpArgs {
  std::string file;
  std::string backend = "walker";
  bool raw_addresses = false;
};

std::string format_table(const TableSnapshot& snap, const Machine& machine) {
  const TableRoot& r = snap.root;
  if (!r.live()) return "no table (destroyed or never initialised)\n";
  std::string out = fmt::format(
      "table: {} ia_bits={} start_level={} pgd={:#x} ({} page{}), {} used descriptors, "
      "{} table pages live\n",
      r.format->name(), r.ia_bits, r.start_level, r.pgd_pa, r.pgd_pages,
      r.pgd_pages == 1 ? "" : "s", snap.entries.size(), machine.memory.live_pages());
  for (const auto& e : snap.entries) {
    uint64_t end = e.ipa + r.format->granule_size(e.level) - 1;
    out += fmt::format("{:>{}}[{:#014x}-{:#014x}] {}\n", "", e.level * 2, e.ipa, end,
                       r.format->describe(e.raw, e.level, r.fwb));
  }
  return out;
}

// The entries of each table create_unlinked built that is still live (arm64-6.12), at offsets
// within the granule it maps.
std::string format_unlinked(const Backend& backend, const Machine& machine) {
  const auto* arm64 = dynamic_cast<const Arm64S2Backend*>(&backend);
  if (!arm64 || !backend.root().live()) return "";
  std::string out;
  const std::vector<UnlinkedTable> live = arm64->unlinked_tables();
  for (size_t k = 0; k < live.size(); ++k) {
    const TableSnapshot snap =
        take_snapshot(unlinked_root(live[k], backend.root()), machine.memory);
    const TableRoot& r = snap.root;
    out += fmt::format("unlinked table #{}: level {} at {:#x}, {} used descriptors\n", k,
                       live[k].level, r.pgd_pa, snap.entries.size());
    for (const auto& e : snap.entries)
      out += fmt::format("{:>{}}[+{:#012x}] {}\n", "", e.level * 2, e.ipa,
                         r.format->describe(e.raw, e.level, r.fwb));
  }
  return out;
}

}  // namespace

void add_dump_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<DumpArgs>();
  auto* cmd = app.add_subcommand(
      "dump", "Run a stream on one backend and print its final table, every descriptor decoded");
  cmd->add_option("FILE", args->file, ".mmu text or binary stream")->required();
  cmd->add_option("--backend", args->backend, "which backend (default: walker)");
  cmd->callback([args, exit_code] {
    Stream stream = load_stream(args->file);
    HarnessOptions options;
    options.backends = {args->backend};
    std::string table;
    options.inspect_final = [&](std::string_view, const Backend& b, const Machine& m) {
      table = format_table(take_snapshot(b, m.memory), m) + format_unlinked(b, m);
    };
    StreamReport report = run_stream(stream, options);
    fmt::print("{}: {} operations on {}\n{}", args->file, stream.size(), args->backend, table);
    for (const auto& f : report.findings) fmt::print("finding [{}] {}\n", f.signature(), f.summary);
    *exit_code = report.bound_reached      ? kExitBadInput
                 : report.findings.empty() ? kExitAgree
                                           : kExitFinding;
  });
}

}  // namespace mmudiff::cli
