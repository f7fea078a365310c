// SPDX-License-Identifier: GPL-2.0-only
// Build-time tool: turns .mmu text streams into the binary seeds the fuzz targets start from.
//   mmudiff_seed_encode OUT_DIR FILE.mmu...
// Each FILE.mmu becomes OUT_DIR/FILE.bin. A
// stream above the fuzz targets' work budget is shrunk to fit (the targets would refuse it whole);
// a file that does not parse stops the build with one line naming it.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

#include "mmu/ops/binary_format.h"
#include "mmu/ops/text_format.h"
#include "mmu/ops/work_budget.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2) {
    fmt::print(stderr, "usage: mmudiff_seed_encode OUT_DIR FILE.mmu...\n");
    return 2;
  }
  fs::path out_dir = argv[1];
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    fmt::print(stderr, "mmudiff_seed_encode: {}: {}\n", out_dir.string(), ec.message());
    return 2;
  }
  size_t shrunk = 0;
  for (int i = 2; i < argc; ++i) {
    fs::path in = argv[i];
    std::ifstream f(in, std::ios::binary);
    if (!f) {
      fmt::print(stderr, "mmudiff_seed_encode: {}: cannot read\n", in.string());
      return 2;
    }
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    mmudiff::Stream stream;
    try {
      stream = mmudiff::parse_text(text, in.string());
    } catch (const mmudiff::InputError& e) {
      fmt::print(stderr, "mmudiff_seed_encode: {}\n", e.what());
      return 2;
    }
    if (!mmudiff::within_work_budget(stream)) {
      mmudiff::fit_work_budget(&stream);
      ++shrunk;
    }
    std::vector<uint8_t> bytes = mmudiff::encode_binary(stream);
    fs::path out = out_dir / (in.stem().string() + ".bin");
    std::ofstream o(out, std::ios::binary | std::ios::trunc);
    o.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
    if (!o) {
      fmt::print(stderr, "mmudiff_seed_encode: {}: cannot write\n", out.string());
      return 2;
    }
  }
  fmt::print("mmudiff_seed_encode: {} seeds in {} ({} shrunk to the fuzz budget)\n", argc - 2,
             out_dir.string(), shrunk);
  return 0;
}
