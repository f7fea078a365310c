// SPDX-License-Identifier: GPL-2.0-only
// Sanitizer reports as findings (tools/mmudiff/campaign_findings.cpp): the error kind becomes the
// signature's rule, and the first stack names the operation and the backend where it can.
#include "tools/mmudiff/campaign_findings.h"

#include <gtest/gtest.h>

#include <string>

#include "mmu/ops/binary_format.h"
#include "mmu/ops/text_format.h"
#include "mmu/plants.h"
#include "reports/json_schema.h"
#include "reports/run_dir.h"
#include "tests/files.h"
#include "tests/temp_dir.h"

namespace mmudiff::cli {
namespace {

// stream_fuzzer_asan on corpus/regressions/plant-legacy-descend-freed-subtree.mmu, paths shortened
// and the stack cut after the fuzz target: the innermost frame is a helper method of the backend
// (unmap_entry), the next one the operation.
constexpr const char* kUseAfterPoison =
    R"(==30114==ERROR: AddressSanitizer: use-after-poison on address 0x7f1b9fc3c008 at pc 0x5571d30a517c bp 0x7ffdb5178f50 sp 0x7ffdb5178f48
READ of size 8 at 0x7f1b9fc3c008 thread T0
    #0 0x5571d30a517b in mmudiff::legacy::LegacyBackend::unmap_entry(mmudiff::legacy::ShadowPage&, unsigned int, unsigned long) /src/mmu/legacy/unmap.cpp:63:18
    #1 0x5571d30a3b54 in mmudiff::legacy::LegacyBackend::unmap(unsigned long, unsigned long) /src/mmu/legacy/unmap.cpp:26:5
    #2 0x5571d3079411 in mmudiff::apply_op(mmudiff::Backend&, mmudiff::Machine&, mmudiff::Op const&) /src/mmu/apply_op.cpp:26:23
    #3 0x5571d303268f in mmudiff::(anonymous namespace)::Run::step(unsigned long) /src/oracles/harness.cpp:150:22
    #4 0x5571d303268f in mmudiff::(anonymous namespace)::Run::finish() /src/oracles/harness.cpp:120:71
    #5 0x5571d303268f in mmudiff::run_stream(std::vector<mmudiff::Op, std::allocator<mmudiff::Op> > const&, mmudiff::HarnessOptions const&) /src/oracles/harness.cpp:489:31
    #6 0x5571d302b242 in LLVMFuzzerTestOneInput /src/fuzz/stream_fuzzer.cpp:49:34

Address 0x7f1b9fc3c008 is a wild pointer inside of access range of size 0x000000000008.
SUMMARY: AddressSanitizer: use-after-poison /src/mmu/legacy/unmap.cpp:63:18 in mmudiff::legacy::LegacyBackend::unmap_entry(mmudiff::legacy::ShadowPage&, unsigned int, unsigned long)
)";

TEST(SanitizerFinding, TheKindIsTheRuleTheStackNamesOperationAndBackend) {
  Finding f;
  ASSERT_TRUE(sanitizer_finding(kUseAfterPoison, &f));
  EXPECT_EQ(f.severity, Severity::Security);
  EXPECT_EQ(f.oracle, "sanitizer");
  EXPECT_EQ(f.op_kind, "unmap");
  EXPECT_EQ(f.rule, "use-after-poison");
  EXPECT_EQ(f.backend, "legacy");
  EXPECT_EQ(f.signature(), "security/sanitizer/unmap/use-after-poison/legacy");
  EXPECT_EQ(f.evidence.back().rfind("SUMMARY: AddressSanitizer: use-after-poison", 0), 0u);
  EXPECT_TRUE(
      schema::builtin_schemas().validate(rundir::finding_json(f), schema::kFinding).empty());
}

TEST(SanitizerFinding, TheKernelsOwnCodeIsLinux61AndAStackOutsideTheBackendsIsUnknown) {
  Finding f;
  ASSERT_TRUE(sanitizer_finding(
      "==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x1\n"
      "    #0 0x1 in stage2_map_walker /b/linux61/arch/arm64/kvm/hyp/pgtable.c:900:3\n"
      "    #1 0x1 in kvm_pgtable_stage2_map /b/linux61/arch/arm64/kvm/hyp/pgtable.c:980:8\n"
      "    #2 0x1 in mmudiff::(anonymous namespace)::Linux61Backend::map(unsigned long, unsigned "
      "long, unsigned long, unsigned long, mmudiff::Memcache*) /src/mmu/linux61/x.cpp:1:1\n",
      &f));
  EXPECT_EQ(f.signature(), "security/sanitizer/map/heap-buffer-overflow/linux61");

  ASSERT_TRUE(
      sanitizer_finding("==1==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000\n"
                        "    #0 0x1 in mmudiff::hash_table(...) /src/oracles/table_hash.cpp:10:1\n",
                        &f));
  EXPECT_EQ(f.signature(), "security/sanitizer/unknown/SEGV");
}

TEST(SanitizerFinding, UbsanNamesItsCheckAndLeaksTheirAllocation) {
  Finding f;
  ASSERT_TRUE(sanitizer_finding(
      "/src/mmu/walker/map.cpp:12:30: runtime error: shift exponent 64 is too large\n"
      "    #0 0x1 in mmudiff::walker::leaf_step(unsigned int) /src/mmu/walker/map.cpp:12:30\n"
      "SUMMARY: UndefinedBehaviorSanitizer: invalid-shift-exponent /src/mmu/walker/map.cpp:12:30\n",
      &f));
  EXPECT_EQ(f.signature(), "security/sanitizer/unknown/invalid-shift-exponent/walker");

  ASSERT_TRUE(sanitizer_finding(
      "==1==ERROR: LeakSanitizer: detected memory leaks\n\n"
      "Direct leak of 64 byte(s) in 1 object(s) allocated from:\n"
      "    #0 0x1 in operator new(unsigned long)\n"
      "    #1 0x1 in mmudiff::legacy::ReverseMap::add() /src/mmu/legacy/reverse_map.cpp:5:1\n"
      "    #2 0x1 in mmudiff::legacy::LegacyBackend::set_owner(unsigned long, unsigned long, "
      "mmudiff::Memcache*, unsigned char) /src/mmu/legacy/legacy_backend.cpp:9:1\n",
      &f));
  EXPECT_EQ(f.signature(), "security/sanitizer/set_owner/leak/legacy");

  EXPECT_FALSE(sanitizer_finding("INFO: Running with entropic power schedule\n", &f));
}

// AFL++ skips a seed that already shows a finding and never stores it, so the campaign replays
// the seeds itself: the one that shows the plant is stored, the one that shows nothing is neither
// stored nor counted as an unreproducible crash.
TEST(FindingStore, SeedsThatAlreadyShowAFindingAreStoredAndTheOthersLeftAlone) {
  mmudiff::testing::TempDir dir;
  namespace fs = std::filesystem;
  fs::path seeds = dir.path() / "seeds";
  fs::create_directories(seeds);
  auto encode = [&](const fs::path& mmu, const std::string& name) {
    Stream s = parse_text(mmudiff::testing::slurp(mmu), mmu.string());
    std::vector<uint8_t> bytes = encode_binary(s);
    std::ofstream(seeds / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  };
  fs::path corpus = fs::path(MMUDIFF_SOURCE_DIR) / "corpus";
  encode(corpus / "regressions/plant-walker-pa-cursor-drift.mmu", "a-finds-it");
  encode(corpus / "seeds/aging.mmu", "b-finds-nothing");
  HarnessOptions options;
  options.plant = find_plant("walker-pa-cursor-drift")->id;
  fs::path run = dir.path() / "run";
  fs::create_directories(run);
  FindingStore store(run, options, dir.path() / "no-asan-target", "afl");
  std::vector<std::string> found = store.scan_seeds(seeds, 0);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(store.unreproducible(), 0u);
  const CampaignFinding& f = store.findings().at(found.front());
  EXPECT_TRUE(fs::exists(f.dir / "repro.mmu")) << f.dir;
  EXPECT_EQ(f.first_seen_t, 0.0);
  // Seen again (a resumed campaign), it is one more hit, not a new finding.
  EXPECT_TRUE(store.scan_seeds(seeds, 0).empty());
  EXPECT_EQ(store.findings().at(found.front()).hits, 2u);
}

}  // namespace
}  // namespace mmudiff::cli
