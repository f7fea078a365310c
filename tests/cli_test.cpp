// SPDX-License-Identifier: GPL-2.0-only
// The command line's contract, end to end through the real binary: exit codes, one-line errors
// naming file and line, lossless encode/decode, and dump output.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "mmu/backend.h"
#include "tests/cli_runner.h"
#include "tests/temp_dir.h"

namespace {

using Result = mmudiff::testing::CliResult;
using mmudiff::testing::run_cli;

namespace fs = std::filesystem;

class CliTest : public mmudiff::testing::ScratchTest {};

TEST_F(CliTest, RunOfAgreeingStreamExitsZeroAndPrintsEveryOracle) {
  std::string f = write("ok.mmu",
                        "init ia=40\n"
                        "map 0x40000000 2M pa=0x80000000 prot=rw\n"
                        "map 0x80000000 4K pa=0x1000 prot=r\n"
                        "get_leaf 0x40000000\n"
                        "unmap 0x40000000 4K\n");
  Result r = run_cli("run " + f);
  EXPECT_EQ(r.status, 0) << r.out;
  for (const char* oracle : {"return-codes", "masked-hash", "translation", "invariants", "effects",
                             "memory", "warnings"})
    EXPECT_NE(r.out.find(oracle), std::string::npos) << oracle << "\n" << r.out;
  EXPECT_NE(r.out.find("verdict: EQUIVALENT"), std::string::npos) << r.out;
}

TEST_F(CliTest, MalformedStreamGivesFileAndLineAndExitTwo) {
  std::string f = write("bad.mmu", "init ia=40\n# fine\nmap 0x1000 4K pa=zz\n");
  Result r = run_cli("run " + f);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find(f + ":3: pa 'zz' is not a number"), std::string::npos) << r.out;
}

TEST_F(CliTest, MissingFileIsBadInput) {
  Result r = run_cli("run " + (dir_ / "nope.mmu").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("nope.mmu: cannot open"), std::string::npos) << r.out;
}

TEST_F(CliTest, UnknownBackendIsBadUsage) {
  std::string f = write("ok.mmu", "init\n");
  Result r = run_cli("run --backends walker,nosuch " + f);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("unknown backend 'nosuch'"), std::string::npos) << r.out;
}

TEST_F(CliTest, UnknownFlagIsBadUsage) {
  Result r = run_cli("run --no-such-flag x.mmu");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--no-such-flag"), std::string::npos) << r.out;
}

TEST_F(CliTest, HelpExitsZeroAndNamesEverySubcommand) {
  Result r = run_cli("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* sub : {"run", "dump", "encode", "decode", "backends"})
    EXPECT_NE(r.out.find(sub), std::string::npos) << sub;
}

TEST_F(CliTest, EncodeThenDecodeGivesTheSameOperations) {
  std::string text =
      "init ia=36 fwb=1 nofwb=0 idmap=0 force_pte=device\n"
      "map 0x200000 2M pa=0x200000 prot=rwx sw=3 mc=none\n"
      "set_owner 0x1000 8K owner=1 mc=5\n"
      "relax_perms 0x200000 prot=w sw=0\n"
      "mkold 0x200000\n"
      "destroy\n";
  std::string f = write("s.mmu", text);
  std::string bin = (dir_ / "s.bin").string();
  std::string back = (dir_ / "back.mmu").string();
  ASSERT_EQ(run_cli("encode " + f + " -o " + bin).status, 0);
  ASSERT_EQ(run_cli("decode " + bin + " -o " + back).status, 0);
  std::ifstream in(back);
  std::string decoded((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The decoder adds one comment line saying where the stream came from.
  ASSERT_EQ(decoded.substr(0, 2), "# ");
  EXPECT_EQ(decoded.substr(decoded.find('\n') + 1), text);
}

TEST_F(CliTest, BinaryStreamsRunLikeTheirText) {
  std::string f = write("s.mmu", "init ia=40\nmap 0 1G pa=0x40000000 prot=r\nis_young 0x1000\n");
  std::string bin = (dir_ / "s.bin").string();
  ASSERT_EQ(run_cli("encode " + f + " -o " + bin).status, 0);
  const std::string key = " --hash-key 00112233445566778899aabbccddeeff ";
  Result text = run_cli("run -q" + key + f);
  Result binary = run_cli("run -q" + key + bin);
  EXPECT_EQ(text.status, 0) << text.out;
  EXPECT_EQ(text.status, binary.status);
  // Everything but the line naming the file is the same.
  auto body = [](const std::string& out, const std::string& file) {
    size_t at = out.find(file + ":");
    return out.substr(0, at) + out.substr(out.find('\n', at));
  };
  EXPECT_EQ(body(text.out, f), body(binary.out, bin));
  EXPECT_NE(text.out.find("verdict: EQUIVALENT"), std::string::npos) << text.out;
}

TEST_F(CliTest, DumpDecodesTheFinalTable) {
  if (mmudiff::registered_backends().empty()) GTEST_SKIP() << "no backend in this build";
  std::string backend(mmudiff::registered_backends().front().name);
  std::string f = write("d.mmu", "init ia=40\nmap 0x40000000 2M pa=0x80000000 prot=rw\n");
  Result r = run_cli("dump --backend " + backend + " " + f);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("start_level=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("L2 block"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("OA=0x80000000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("S2AP=RW"), std::string::npos) << r.out;
}

TEST_F(CliTest, OversizedStreamIsRefusedByTheMemoryBound) {
  if (mmudiff::registered_backends().empty()) GTEST_SKIP() << "no backend in this build";
  // Ten pages 1 GiB apart need a level-2 and a level-3 table each: over a 16-page bound.
  std::string text = "init ia=40\n";
  for (int i = 0; i < 10; ++i) text += "map " + std::to_string(i) + "G 4K pa=0 prot=r mc=8\n";
  std::string f = write("big.mmu", text);
  Result r = run_cli("run --max-table-pages 16 " + f);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("needs more than the memory bound of 16 table pages"), std::string::npos)
      << r.out;
}

}  // namespace
