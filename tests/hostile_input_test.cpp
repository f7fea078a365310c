// SPDX-License-Identifier: GPL-2.0-only
// What a careless or hostile user gives the command line (issue 15): a directory where a file
// belongs, an --out that cannot be written, /dev/zero as a stream, a full disk on standard
// output, a 10 MB word, negative and overflowing numbers, a backend named twice. Each ends in one
// line naming what is wrong and exit status 2, quickly and in little memory: never an abort,
// never a number silently wrapped, never a file left behind.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "reports/run_dir.h"
#include "tests/cli_runner.h"
#include "tests/temp_dir.h"
#include "tools/mmudiff/stream_io.h"

namespace {

namespace fs = std::filesystem;
using mmudiff::testing::CliResult;
using mmudiff::testing::run_cli;
using mmudiff::testing::run_cli_measured;
using mmudiff::testing::run_cli_stderr;

constexpr const char* kStream = "init ia=40\nmap 0x40000000 4K pa=0x1000 prot=r\n";

size_t lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Status 2 and exactly one line on stderr that says WHAT.
void expect_one_line_error(const CliResult& r, const std::string& what, const std::string& cmd) {
  EXPECT_EQ(r.status, 2) << cmd << "\n" << r.out;
  EXPECT_EQ(lines(r.out), 1u) << cmd << "\n" << r.out;
  EXPECT_NE(r.out.find(what), std::string::npos) << cmd << "\n" << r.out;
}

class HostileInput : public mmudiff::testing::ScratchTest {};

TEST_F(HostileInput, DirectoryAsInputFileIsOneLineNamingIt) {
  std::string dir = (dir_ / "in.mmu").string();
  fs::create_directory(dir);
  std::string out = (dir_ / "out").string();
  for (const std::string& cmd : {"run -q " + dir, "dump " + dir, "encode " + dir, "decode " + dir,
                                 "repro " + dir, "minimize " + dir + " -o " + out}) {
    expect_one_line_error(run_cli_stderr(cmd), dir + ": is a directory", cmd);
  }
}

TEST_F(HostileInput, OutThatCannotBeWrittenIsRefusedBeforeAnyStreamRuns) {
  std::string input = write("s.mmu", kStream);
  std::string loop = (dir_ / "loop").string();
  fs::create_symlink("loop", loop);
  std::string file = write("file", "not a directory");
  const std::pair<std::string, std::string> outs[] = {
      {loop, "Too many levels of symbolic links"},
      {file, "exists and is not a directory"},
      {"/proc/mmudiff-out", "cannot create"},
      {"/proc/self", "cannot write in it"},
  };
  for (const auto& [out, why] : outs) {
    for (const std::string& cmd :
         {"run --out " + out + " " + input, "repro --out " + out + " " + input,
          "soak -n 3 --max-ops 4 --out " + out}) {
      CliResult r = run_cli(cmd);
      // Nothing ran: the refusal is all there is to see (run prints its hash key first
      // otherwise, soak its summary).
      expect_one_line_error(r, out + ": " + why, cmd);
    }
  }
}

TEST_F(HostileInput, SoakWithoutFindingsLeavesNoEmptyOutDirectory) {
  std::string out = (dir_ / "findings").string();
  CliResult r = run_cli("soak -n 2 --max-ops 4 --backends walker --out " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_FALSE(fs::exists(out)) << r.out;
}

TEST_F(HostileInput, InputsLargerThanTheLimitAreRefusedWithoutReadingThemWhole) {
  mmudiff::testing::CliCost zero = run_cli_measured("run /dev/zero");
  EXPECT_EQ(zero.status, 2);
  EXPECT_LT(zero.seconds, 5.0);
  CliResult r = run_cli_stderr("run /dev/zero");
  expect_one_line_error(
      r, fmt::format("/dev/zero: larger than {} bytes", mmudiff::cli::kMaxInputBytes), "run");
  // A regular file one byte over the limit, sparse: refused by its size, for every command.
  std::string big = (dir_ / "big.bin").string();
  { std::ofstream(big).put('\0'); }
  fs::resize_file(big, mmudiff::cli::kMaxInputBytes + 1);
  for (const std::string& cmd : {"run " + big, "decode " + big, "repro " + big})
    expect_one_line_error(run_cli_stderr(cmd), big + ": larger than", cmd);
  // One at the limit is read (and then decodes as a stream of zero bytes).
  fs::resize_file(big, mmudiff::cli::kMaxInputBytes);
  EXPECT_EQ(run_cli("decode " + big + " -o " + (dir_ / "big.mmu").string()).status, 0);
}

TEST_F(HostileInput, FullStandardOutputIsAnErrorNotSuccess) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  std::string text = write("s.mmu", kStream);
  std::string bin = (dir_ / "s.bin").string();
  ASSERT_EQ(run_cli("encode " + text + " -o " + bin).status, 0);
  // Short output sits in the stdio buffer until exit; long output fails while it is printed.
  std::string many = "init ia=40\n";
  for (int i = 0; i < 300; ++i) many += fmt::format("map {:#x} 4K pa=0 prot=r\n", i * 4096);
  std::string long_stream = write("long.mmu", many);
  for (const std::string& cmd : {"decode " + bin, "encode " + text, "run " + text,
                                 "run --backends walker " + long_stream, std::string("backends")}) {
    CliResult r = run_cli_stderr(cmd, "/dev/full");
    EXPECT_EQ(r.status, 2) << cmd << "\n" << r.out;
    EXPECT_EQ(lines(r.out), 1u) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("mmudiff: standard output: "), std::string::npos) << cmd << "\n" << r.out;
  }
}

TEST_F(HostileInput, FailedOutputLeavesNoTemporaryFile) {
  std::string input = write("s.mmu", kStream);
  std::string dir = (dir_ / "out").string();
  fs::create_directory(dir);
  for (const std::string& cmd :
       {"minimize " + input + " -o " + dir, "encode " + input + " -o " + dir}) {
    expect_one_line_error(run_cli_stderr(cmd), dir + ": is a directory", cmd);
    EXPECT_FALSE(fs::exists(dir + ".tmp")) << cmd;
  }
  // Beneath the command line's own checks: the atomic writer removes its temporary file when
  // the rename fails.
  EXPECT_THROW(mmudiff::rundir::write_file_atomic(dir, "x"), std::runtime_error);
  EXPECT_FALSE(fs::exists(dir + ".tmp"));
}

TEST_F(HostileInput, ErrorsQuoteABoundedExcerptOfAHugeWord) {
  std::string token(10'000'000, 'a');
  std::string f = write("token.mmu", "map " + token + " 4K\n");
  CliResult r = run_cli_stderr("run -q " + f);
  expect_one_line_error(r, f + ":1: address 'aaaa", "run token");
  EXPECT_LT(r.out.size(), 400u) << r.out.substr(0, 400);
  EXPECT_NE(r.out.find("... (10000000 bytes)"), std::string::npos) << r.out.substr(0, 400);
}

TEST_F(HostileInput, ParserMemoryStaysProportionalToTheInput) {
  // 10 MB of two-byte words on one line. Parsed as a vector of words, this took 155 MB.
  std::string words = "map";
  for (int i = 0; i < 5'000'000; ++i) words += " x";
  std::string f = write("words.mmu", words + "\n");
  std::string small = write("small.mmu", "map x\n");
  mmudiff::testing::CliCost base = run_cli_measured("run -q " + small);
  mmudiff::testing::CliCost cost = run_cli_measured("run -q " + f);
  EXPECT_EQ(base.status, 2);
  EXPECT_EQ(cost.status, 2);
  // The file's bytes are held once (in a buffer that may have grown to 16 MiB); nothing per word.
  EXPECT_LT(cost.max_rss_kb - base.max_rss_kb, 40 * 1024)
      << base.max_rss_kb << " KiB for one word, " << cost.max_rss_kb << " KiB for 5M";
  CliResult r = run_cli_stderr("run -q " + f);
  expect_one_line_error(r, f + ":1: unexpected value 'x'", "run words");
}

TEST_F(HostileInput, NumericOptionsAreStrict) {
  // Should soak take the number, the unknown backend stops it at once with another message: a
  // soak of 2^64-1 streams would otherwise run until the test times out.
  const std::string stop = " --backends nosuch";
  const std::pair<std::string, std::string> refused[] = {
      {"soak -n -1" + stop, "'-1' is not a non-negative whole number"},
      {"soak -n 0" + stop, "--streams"},
      {"soak -n ' 5'" + stop, "' 5' is not a non-negative whole number"},
      {"soak --seed -5" + stop, "'-5' is not a non-negative whole number"},
      {"soak --seed 99999999999999999999" + stop, "does not fit in 64 bits"},
      {"soak --seed 1.5" + stop, "'1.5' is not a non-negative whole number"},
      {"soak --max-ops -1" + stop, "'-1' is not a non-negative whole number"},
      {"soak --max-ops 18446744073709551617" + stop, "does not fit in 64 bits"},
      {"prove --timeout-ms -1", "'-1' is not a non-negative whole number"},
      {"prove --timeout-ms 4294967297", "--timeout-ms"},
      {"run --op-timeout nan x.mmu", "'nan' is not a finite decimal number"},
      {"run --op-timeout inf x.mmu", "'inf' is not a finite decimal number"},
      {"repro --op-timeout 0x10 x.mmu", "'0x10' is not a finite decimal number"},
      {"run --max-table-pages -1 x.mmu", "'-1' is not a non-negative whole number"},
      // Far beyond what this machine's memory holds for three backends (at most half of it).
      {"run --max-table-pages 4194304 x.mmu", "not in range 16 to"},
      {"run --max-table-pages 15 x.mmu", "not in range 16 to"},
  };
  for (const auto& [cmd, why] : refused) {
    CliResult r = run_cli_stderr(cmd);
    EXPECT_EQ(r.status, 2) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find(why), std::string::npos) << cmd << "\n" << r.out;
  }
  // A leading zero is decimal, not octal; hex is written 0x.
  const std::string soak_out = (dir_ / "soak").string();
  CliResult r = run_cli("soak -n 1 --max-ops 2 --backends walker --seed 010 --out " + soak_out);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("seed 10\n"), std::string::npos) << r.out;
  r = run_cli("soak -n 1 --max-ops 2 --backends walker --seed 0x10 --out " + soak_out);
  EXPECT_NE(r.out.find("seed 16\n"), std::string::npos) << r.out;
}

TEST_F(HostileInput, StreamNumbersThatOverflowAreRefusedNotWrapped) {
  const std::pair<std::string, std::string> lines_refused[] = {
      {"map 0x1ffffffffffffffffff 4K", "address '0x1ffffffffffffffffff' does not fit in 64 bits"},
      {"map 18446744073709551616 4K", "address '18446744073709551616' does not fit in 64 bits"},
      {"map 0 0x40000000000000K", "size '0x40000000000000K' does not fit in 64 bits"},
      {"map 0 4K pa=-1", "pa '-1' is not a number"},
      {"map 0 4K mc=4097", "mc 4097 is out of range 0..4096"},
      {"map 0 4K mc=18446744073709551617", "mc '18446744073709551617' does not fit in 64 bits"},
      {"init ia=296", "ia 296 is out of range 32..48"},
      {"set_owner 0 4K owner=256", "owner 256 is out of range 0..255"},
  };
  for (const auto& [line, why] : lines_refused) {
    std::string f = write("n.mmu", line + "\n");
    expect_one_line_error(run_cli_stderr("run -q " + f), f + ":1: " + why, line);
  }
}

TEST_F(HostileInput, ABackendNamedTwiceIsRefused) {
  std::string f = write("s.mmu", kStream);
  for (const std::string& cmd :
       {"run --backends walker,walker " + f, "repro --backends walker,legacy,walker " + f,
        "soak -n 1 --backends walker --backends walker --out " + (dir_ / "s").string(),
        "campaign --time 1 --backends walker,walker --out " + (dir_ / "c").string()}) {
    CliResult r = run_cli_stderr(cmd);
    EXPECT_EQ(r.status, 2) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("backend 'walker' is named twice"), std::string::npos) << cmd << "\n"
                                                                                << r.out;
  }
  EXPECT_FALSE(fs::exists(dir_ / "c"));
}

}  // namespace
