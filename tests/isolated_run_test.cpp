// SPDX-License-Identifier: GPL-2.0-only
// Replays in a child process (oracles/isolated_run.h): a stream that completes comes back exactly
// as run_stream reports it in this process; a backend that crashes or never returns becomes one
// security finding naming the backend, the operation and the signal or the timeout.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "mmu/memory/asan.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "mmu/plants.h"
#include "oracles/isolated_run.h"
#include "oracles/stream_report_wire.h"
#include "tests/sanitizer_scale.h"

namespace {

using namespace mmudiff;

const char* const kUseFreedTable =
    "init ia=40\n"
    "map 0x40000000 4K pa=0x80000000 prot=rw mc=8\n"
    "unmap 0x40000000 1G\n";

const char* const kNeverReturns =
    "init ia=40\n"
    "map 0x40200000 4K pa=0x80200000 prot=rw mc=8\n"
    "unmap 0x40200000 4M\n";

HarnessOptions with_plant(Plant plant) {
  HarnessOptions o;
  o.plant = plant;
  o.check_every_op = true;
  return o;
}

void expect_same(const StreamReport& a, const StreamReport& b) {
  EXPECT_EQ(a.backends, b.backends);
  EXPECT_EQ(a.results, b.results);
  EXPECT_EQ(a.skipped, b.skipped);
  EXPECT_EQ(a.notes, b.notes);
  EXPECT_EQ(a.root_hashes, b.root_hashes);
  EXPECT_EQ(a.table_pages, b.table_pages);
  EXPECT_EQ(a.mappings, b.mappings);
  EXPECT_EQ(a.bound_reached, b.bound_reached);
  EXPECT_EQ(a.bound_op, b.bound_op);
  ASSERT_EQ(a.findings.size(), b.findings.size());
  for (size_t i = 0; i < a.findings.size(); ++i) {
    EXPECT_EQ(a.findings[i].signature(), b.findings[i].signature());
    EXPECT_EQ(a.findings[i].summary, b.findings[i].summary);
    EXPECT_EQ(a.findings[i].evidence, b.findings[i].evidence);
    EXPECT_EQ(a.findings[i].divergence, b.findings[i].divergence);
    EXPECT_EQ(a.findings[i].op_index, b.findings[i].op_index);
  }
}

// Findings of every kind (a plant of each class) and plain agreement come back unchanged.
TEST(IsolatedRun, ACompletedReplayReportsWhatRunStreamReports) {
  for (Plant plant : {Plant::kNone, Plant::kWalkerPaCursorDrift, Plant::kLegacyOaAbovePaSize,
                      Plant::kWalkerNoTlbiTableToBlock, Plant::kWalkerLeakTableOnUpdate}) {
    std::mt19937_64 rng(static_cast<uint64_t>(plant) + 1);
    for (int n = 0; n < 20; ++n) {
      Stream s = random_stream(rng);
      HarnessOptions o = with_plant(plant);
      IsolatedRun run = run_isolated(s, o);
      ASSERT_TRUE(run.completed) << format_stream(s);
      expect_same(run.report, run_stream(s, o));
    }
  }
}

TEST(IsolatedRun, PayloadComputedInTheChildComesBack) {
  Stream s = parse_text("map 0x40000000 2M pa=0x80000000 prot=rw mc=8\n", "inline");
  HarnessOptions o;
  std::string seen;
  o.inspect_final = [&](std::string_view backend, const Backend&, const Machine&) {
    seen += std::string(backend) + ";";
  };
  IsolationOptions iso;
  iso.child_payload = [&] { return seen; };
  IsolatedRun run = run_isolated(s, o, iso);
  EXPECT_TRUE(run.completed);
  EXPECT_EQ(run.payload.empty(), false);
  EXPECT_NE(run.payload.find("walker;"), std::string::npos) << run.payload;
  EXPECT_TRUE(seen.empty()) << "inspect_final ran in this process";
}

TEST(IsolatedRun, AnUnknownBackendIsTheCallersError) {
  HarnessOptions o;
  o.backends = {"no-such-backend"};
  EXPECT_THROW(run_isolated(Stream{}, o), std::invalid_argument);
}

TEST(IsolatedRun, ABackendThatCrashesIsASecurityFindingNamingItAndTheOperation) {
  Stream s = parse_text(kUseFreedTable, "inline");
  IsolatedRun run = run_isolated(s, with_plant(Plant::kWalkerUseFreedTable));
  EXPECT_FALSE(run.completed);
  ASSERT_EQ(run.report.findings.size(), 1u);
  const Finding& f = run.report.findings.front();
  EXPECT_EQ(f.severity, Severity::Security);
  EXPECT_EQ(f.oracle, "memory");
  // The release build faults (on x86 a non-canonical address is #GP, SIGSEGV, or #SS, SIGBUS,
  // when addressed through rbp: the code generator's choice); under ASan the sanitizer stops the
  // read of the freed page first.
  if (mmudiff::testing::kSanitized)
    EXPECT_EQ(f.rule, "sanitizer");
  else
    EXPECT_TRUE(f.rule == "SIGSEGV" || f.rule == "SIGBUS") << f.rule;
  EXPECT_EQ(f.backend, "walker");
  EXPECT_EQ(f.op_index, 2u);
  EXPECT_EQ(f.op_kind, "unmap");
  EXPECT_NE(f.summary.find("operation #2 unmap 0x40000000 1G"), std::string::npos) << f.summary;
  EXPECT_TRUE(is_crash_finding(f));
  EXPECT_EQ(run.report.stream, s);
  // Without the plant the same stream completes and agrees.
  IsolatedRun clean = run_isolated(s, with_plant(Plant::kNone));
  EXPECT_TRUE(clean.completed);
  EXPECT_TRUE(clean.report.equivalent());
}

// A finding made before the backend crashes comes back with the crash: here the refcount that
// a lost race's extra put left one short, found when the section ends, and then the SIGSEGV of
// tearing down the table page it freed too early (walker-612-lost-race-extra-put).
TEST(IsolatedRun, FindingsMadeBeforeACrashComeBackWithIt) {
  const Stream s = parse_text(
      "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never kernel=6.12\n"
      "map 0x40000000 4K pa=0x80000000 prot=r sw=0 mc=8\n"
      "schedule 3>1\n"
      "vcpu 0: map 0x40200000 4K pa=0x80200000 prot=r sw=0 mc=8 flags=shared,fault\n"
      "vcpu 1: map 0x40200000 4K pa=0x80200000 prot=r sw=0 mc=8 flags=shared,fault\n",
      "inline");
  HarnessOptions o = with_plant(Plant::kWalker612LostRaceExtraPut);
  o.backends = {"linux612", "walker"};
  IsolatedRun run = run_isolated(s, o);
  EXPECT_FALSE(run.completed);
  ASSERT_GE(run.report.findings.size(), 2u);
  const std::vector<Finding>& fs = run.report.findings;
  for (size_t i = 0; i + 1 < fs.size(); ++i) {
    EXPECT_FALSE(is_crash_finding(fs[i])) << fs[i].signature();
    EXPECT_EQ(fs[i].backend, "walker") << fs[i].signature();
    EXPECT_TRUE(fs[i].op_index == 2 || fs[i].op_index == 3) << fs[i].signature();  // the section
  }
  EXPECT_TRUE(std::any_of(fs.begin(), fs.end() - 1, [](const Finding& f) {
    return f.signature() == "functional/invariants/map/refcount/walker";
  })) << fs.front().signature();
  const Finding& crash = fs.back();
  EXPECT_TRUE(is_crash_finding(crash)) << crash.signature();
  EXPECT_EQ(crash.backend, "walker");
  EXPECT_EQ(crash.op_kind, "map");
}

TEST(IsolatedRun, AnOperationThatNeverReturnsIsAHangAfterTheTimeout) {
  Stream s = parse_text(kNeverReturns, "inline");
  IsolationOptions iso;
  iso.op_timeout_seconds = 0.5;
  auto start = std::chrono::steady_clock::now();
  IsolatedRun run = run_isolated(s, with_plant(Plant::kLegacyUnmapNeverReturns), iso);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(secs, 0.5);
  EXPECT_LT(secs, 5.0);
  EXPECT_FALSE(run.completed);
  ASSERT_EQ(run.report.findings.size(), 1u);
  const Finding& f = run.report.findings.front();
  EXPECT_EQ(f.signature(), "security/hang/unmap/timeout/legacy");
  EXPECT_EQ(f.op_index, 2u);
  EXPECT_NE(f.summary.find("did not return within 0.5 s"), std::string::npos) << f.summary;
}

TEST(IsolatedRun, OnlyCrashesAndHangsAreCrashFindings) {
  Finding f{Severity::Security, "memory", 0, "unmap", "", {}};
  EXPECT_FALSE(is_crash_finding(f));  // the memory oracle's own finding: a put of a free page
  f.rule = "SIGBUS";
  EXPECT_TRUE(is_crash_finding(f));
  f.oracle = "translation";
  EXPECT_FALSE(is_crash_finding(f));
  f.oracle = "hang";
  f.rule = "timeout";
  EXPECT_TRUE(is_crash_finding(f));
}

TEST(StreamReportWire, BytesThatAreNoReportAreRefused) {
  EXPECT_THROW(decode_stream_report("{\"backends\": 3}", Stream{}), std::runtime_error);
  EXPECT_THROW(decode_stream_report("not json", Stream{}), std::runtime_error);
}

}  // namespace

namespace {

// The child is held to the backends' memory bound by the kernel: an allocation past it ends the
// replay as a refusal naming the operation, never as a crash finding or the machine's OOM killer.
TEST(IsolatedRun, MemoryPastTheBoundIsARefusalNotACrash) {
#ifdef MMUDIFF_ASAN
  GTEST_SKIP() << "AddressSanitizer's allocator treats a failed mapping as an error of its own";
#endif
  if (mmudiff::registered_backends().empty()) GTEST_SKIP() << "no backend in this build";
  using namespace mmudiff;
  HarnessOptions o;
  o.limits.max_pages = 64;
  ASSERT_LT(o.limits.bytes_per_backend(), uint64_t{64} << 20);
  // Stands in for an oracle whose keep grows past everything the bound allows.
  o.inspect_final = [](std::string_view, const Backend&, const Machine&) {
    std::vector<char> hog(size_t{1} << 32, 1);
    volatile char sink = hog.back();
    (void)sink;
  };
  Stream s = parse_text("init ia=40\nmap 0x40000000 4K pa=0 prot=rw mc=8\n", "t");
  IsolatedRun run = run_isolated(s, o);
  EXPECT_TRUE(run.report.bound_reached);
  EXPECT_TRUE(run.report.findings.empty());
  EXPECT_EQ(run.report.bound_op, 1u);
  EXPECT_NE(run.report.refusal.find("memory bound of 17 MiB per backend"), std::string::npos)
      << run.report.refusal;
}

}  // namespace
