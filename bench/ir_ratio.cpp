// SPDX-License-Identifier: GPL-2.0-only
// The oracle-overhead ratio in instructions, which callgrind counts the same on every run (wall
// time on a shared 2-core machine moves by a tenth between runs). bench/ir_ratio.sh runs this
// twice under callgrind, collecting only inside one_stream(): once with the backends alone, once
// with the whole harness, over the same streams.
//
//   ir_ratio backends|harness [DIR | --segments N]
// DIR: a corpus of binary streams (a campaign's corpus/), each replayed as the fuzz target would
// (over-budget ones left out); without it, mmudiff_bench's streams (bench/streams64.h); with
// --segments N, the same streams joined N at a time (bench::segmented_streams), run without the
// work budget. Prints the number of streams and of operations on stderr.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>
#include <vector>

#include "bench/backends_only.h"
#include "bench/streams64.h"
#include "mmu/ops/binary_format.h"
#include "mmu/ops/work_budget.h"
#include "oracles/harness.h"

namespace {

using namespace mmudiff;

__attribute__((noinline)) void one_stream(const Stream& s, bool harness,
                                          const HarnessOptions& options) {
  if (harness)
    run_stream(s, options);
  else
    bench::run_backends_only(s);
}

std::vector<Stream> corpus(const char* dir) {
  std::vector<Stream> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    try {
      Stream s = decode_binary(bytes);
      if (!s.empty() && within_work_budget(s)) out.push_back(std::move(s));
    } catch (const std::exception&) {
      // Not a stream: a corpus may hold other files.
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 ||
      (std::string_view(argv[1]) != "backends" && std::string_view(argv[1]) != "harness")) {
    std::fprintf(stderr, "usage: ir_ratio backends|harness [CORPUS_DIR | --segments N]\n");
    return 2;
  }
  const bool harness = std::string_view(argv[1]) == "harness";
  HarnessOptions options;
  std::vector<Stream> streams;
  if (argc > 3 && std::string_view(argv[2]) == "--segments") {
    streams = bench::segmented_streams(std::strtoul(argv[3], nullptr, 10));
    options.work_budget = false;
  } else {
    streams = argc > 2 ? corpus(argv[2]) : bench::streams64();
  }
  size_t ops = 0;
  for (const Stream& s : streams) ops += s.size();
  std::fprintf(stderr, "%zu streams, %zu operations\n", streams.size(), ops);
  for (const Stream& s : streams) one_stream(s, harness, options);
  return 0;
}
