// SPDX-License-Identifier: GPL-2.0-only
// semdiff (reports/kernel_diff.h): two kernels' differences found, sorted into the classes the
// 6.12 changes are known by (../shared/KERNELS.md, and Linux612Differs in linux612_test.cpp), each
// example shrunk and still showing its class; no class at all between backends that agree.
#include "reports/kernel_diff.h"

#include <gtest/gtest.h>

#include <random>

#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "mmu/plants.h"
#include "reports/json_schema.h"
#include "tests/cli_runner.h"
#include "tests/files.h"
#include "tests/sanitizer_scale.h"
#include "tests/temp_dir.h"

namespace mmudiff {
namespace {

const BackendInfo* backend(std::string_view name) {
  return find_backend(name, Arch::Arm64S2);
}

bool shows(const std::vector<KernelDifference>& ds, std::string_view category, std::string_view op,
           std::string_view a, std::string_view b) {
  for (const auto& d : ds)
    if (d.category == category && d.operation == op && d.a == a && d.b == b) return true;
  return false;
}

class KernelDiff612 : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = backend("linux61");
    b_ = backend("linux612");
    if (!a_ || !b_) GTEST_SKIP() << "linux61 or linux612 is not built";
  }
  const BackendInfo* a_ = nullptr;
  const BackendInfo* b_ = nullptr;
};

TEST_F(KernelDiff612, NamesTheBreakBeforeMakeLockAndTheNewReturnCodes) {
  const Stream s = parse_text(
      "init ia=40\n"
      "map 0x40000000 4K pa=0x40000000 prot=rw\n"  // a new entry: 0 -> new against 0 -> locked ->
                                                   // new
      "relax_perms 0xc0000000 prot=w\n"            // nothing mapped: 0 against -EAGAIN
      "mkyoung 0xc0000000\n",                      // nothing mapped: no barrier in 6.12
      "test");
  const auto ds = kernel_differences(*a_, *b_, s);
  EXPECT_TRUE(shows(ds, "stores", "map", "0 -> table/page", "0 -> locked -> table/page"));
  EXPECT_TRUE(shows(ds, "return code", "relax_perms", "0", "-EAGAIN"));
  EXPECT_TRUE(shows(ds, "maintenance", "mkyoung", "dsb ishst once", "none"));
  for (const auto& d : ds) EXPECT_NE(d.category, "table") << d.a << " | " << d.b;
}

TEST_F(KernelDiff612, AMapOverAnExistingLeafStopsIn61AndGoesOnIn612) {
  const Stream s = parse_text(
      "init ia=40\n"
      "map 0x40000000 4K pa=0x40000000 prot=rw\n"
      "map 0x40000000 8K pa=0x40000000 prot=r\n",
      "test");
  const auto ds = kernel_differences(*a_, *b_, s);
  EXPECT_TRUE(shows(ds, "return code", "map", "-EAGAIN", "0"));
  // 6.1 left the second page unmapped; 6.12 mapped it: the tables differ there, and the
  // comparison stops at that operation.
  ASSERT_FALSE(ds.empty());
  EXPECT_EQ(ds.back().category, "table");
  EXPECT_EQ(ds.back().op_index, 2u);
  EXPECT_NE(ds.back().detail.find("0x40001000"), std::string::npos) << ds.back().detail;
}

// Beside a kernel, the backends of its profile run under that profile (the one they share) and
// show nothing: walker and legacy beside linux61, and beside linux612 once they implement 6.12.
TEST(KernelDiff, AKernelAgainstItselfOrTheBackendsThatAgreeWithItShowsNothing) {
  size_t compared = 0;
  for (const char* kernel : {"linux61", "linux612"}) {
    const BackendInfo* k = backend(kernel);
    if (!k) continue;
    std::mt19937_64 rng(11);
    for (int i = 0; i < 150; ++i) {
      const Stream s = random_stream(rng);
      for (const char* other : {kernel, "walker", "legacy"}) {
        const BackendInfo* b = backend(other);
        if (!b || (b->profiles & k->profiles) == 0) continue;
        ++compared;
        const auto ds = kernel_differences(*k, *b, s);
        ASSERT_TRUE(ds.empty()) << kernel << " and " << other << ": " << ds.front().category << " "
                                << ds.front().operation << ": " << ds.front().a << " | "
                                << ds.front().b << "\n"
                                << format_stream(s);
      }
    }
  }
  if (compared == 0) GTEST_SKIP() << "no kernel is built";
}

TEST_F(KernelDiff612, ClassesAreCountedShrunkAndStillShowThemselves) {
  KernelDiffOptions options;
  options.seconds = 0;
  options.max_streams = 60;
  options.seed = 3;
  const KernelDiffReport r = kernel_diff(*a_, *b_, options);
  EXPECT_EQ(r.streams, 60u);
  ASSERT_FALSE(r.classes.empty());
  for (size_t i = 0; i < r.classes.size(); ++i) {
    const KernelDiffClass& c = r.classes[i];
    if (i > 0) {
      EXPECT_GE(r.classes[i - 1].streams, c.streams);  // most streams first
    }
    EXPECT_GE(c.occurrences, c.streams);
    ASSERT_LT(c.first.op_index, c.example.size());
    EXPECT_EQ(c.example.front().kind, OpKind::Init);
    // The shrunk example still shows its class, at the operation it names.
    const auto ds = kernel_differences(*a_, *b_, c.example);
    bool found = false;
    for (const auto& d : ds)
      found = found || (d.key() == c.first.key() && d.op_index == c.first.op_index);
    EXPECT_TRUE(found) << c.first.category << " " << c.first.operation << "\n"
                       << format_stream(c.example);
  }
  // The most common class, the 6.12 lock in a map, needs no more than an init and the map.
  EXPECT_LE(r.classes.front().example.size(), 3u);
  const nlohmann::json j = kernel_diff_json(r);
  EXPECT_TRUE(schema::builtin_schemas().validate(j, schema::kSemdiff).empty())
      << schema::builtin_schemas().validate(j, schema::kSemdiff).front();
  EXPECT_EQ(j["classes"].size(), r.classes.size());
  // The text names both kernels and every class.
  const std::string text = kernel_diff_text(r);
  EXPECT_NE(text.find("semdiff linux61 -> linux612: 60 streams"), std::string::npos) << text;
  EXPECT_NE(text.find("<- here"), std::string::npos);
}

// The backend that carries PLANT, with it planted, as a backend of its own.
template <Plant kPlant>
BackendInfo planted() {
  BackendInfo info = *backend(plant_info(kPlant)->backend);
  info.name = "planted";
  info.create = [](Machine& m, Plant) {
    return backend(plant_info(kPlant)->backend)->create(m, kPlant);
  };
  return info;
}

// "Kernels" that crash or hang (planted<>): the walker reading a table page it has just freed (a
// fault; under ASan the sanitizer's report), and the legacy backend's unmap that never returns.
const char* const kCrashingStream =
    "init ia=40\n"
    "map 0x40000000 4K pa=0x80000000 prot=rw mc=8\n"
    "unmap 0x40000000 1G\n";

// The release build faults (SIGSEGV, or SIGBUS where the compiler reaches the poison through
// rbp); under ASan the sanitizer stops the read of the freed page first.
bool is_fault(const std::string& fate) {
  if (mmudiff::testing::kSanitized) return fate == "sanitizer";
  return fate == "SIGSEGV" || fate == "SIGBUS";
}

// Maintenance done as often but over other addresses is a difference too: which way it differs
// (fewer, more, elsewhere) is the class, not how many pages.
TEST(KernelDiff, MaintenanceOverFewerAddressesIsADifference) {
  const Stream cmo = parse_text(
      "init ia=40\n"
      "map 0x40000000 2M pa=0x80000000 prot=rw mc=8\n",
      "test");
  const auto ds =
      kernel_differences(*backend("legacy"), planted<Plant::kLegacyCmoWrongSize>(), cmo, {});
  EXPECT_TRUE(shows(ds, "maintenance", "map", "dc civac over its addresses", "dc civac over fewer"))
      << ds.size();
  const auto reversed =
      kernel_differences(planted<Plant::kLegacyCmoWrongSize>(), *backend("legacy"), cmo, {});
  EXPECT_TRUE(
      shows(reversed, "maintenance", "map", "dc civac over its addresses", "dc civac over more"));
  EXPECT_TRUE(kernel_differences(*backend("legacy"), *backend("walker"), cmo, {}).empty());

  if (!backend("linux612")) GTEST_SKIP() << "linux612 is not built";
  const Stream range = parse_text(
      "init ia=40 fwb=1 kernel=6.12 tlb_range=1\n"
      "map 0x40000000 8K pa=0x80000000 prot=rw sw=0 mc=8\n"
      "unmap 0x40000000 8K\n",
      "test");
  EXPECT_TRUE(shows(kernel_differences(*backend("linux612"),
                                       planted<Plant::kWalker612RangeTlbiShort>(), range, {}),
                    "maintenance", "unmap", "tlbi range over its addresses",
                    "tlbi range over fewer"));
}

TEST(KernelDiffIsolation, AKernelThatCrashesIsACrashDifferenceAtItsOperation) {
  const BackendInfo crashing = planted<Plant::kWalkerUseFreedTable>();
  const Stream s = parse_text(kCrashingStream, "test");
  const auto ds = isolated_kernel_differences(*backend("walker"), crashing, s, 5.0);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].category, "crash");
  EXPECT_EQ(ds[0].operation, "unmap");
  EXPECT_EQ(ds[0].a, "returned");
  EXPECT_TRUE(is_fault(ds[0].b)) << ds[0].b;
  EXPECT_EQ(ds[0].op_index, 2u);
  // The crashing side first: the other never ran the operation.
  const auto reversed = isolated_kernel_differences(crashing, *backend("walker"), s, 5.0);
  ASSERT_EQ(reversed.size(), 1u);
  EXPECT_TRUE(is_fault(reversed[0].a)) << reversed[0].a;
  EXPECT_EQ(reversed[0].b, "not run");
  // Nothing crashes without the plant: in a child, the differences are what this process finds.
  EXPECT_TRUE(isolated_kernel_differences(*backend("walker"), *backend("legacy"), s, 5.0).empty());
}

TEST(KernelDiffIsolation, AnOperationThatNeverReturnsIsAHangAfterTheTimeout) {
  const BackendInfo hanging = planted<Plant::kLegacyUnmapNeverReturns>();
  const Stream s = parse_text(
      "init ia=40\n"
      "map 0x40200000 4K pa=0x80200000 prot=rw mc=8\n"
      "unmap 0x40200000 4M\n",
      "test");
  const auto ds = isolated_kernel_differences(*backend("legacy"), hanging, s, 0.5);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].category, "crash");
  EXPECT_EQ(ds[0].b, "hang");
  EXPECT_EQ(ds[0].op_index, 2u);
  EXPECT_NE(ds[0].detail.find("did not return within 0.5 s"), std::string::npos) << ds[0].detail;
}

// A crash ends its stream, not the run: the run takes all its streams, the crash is a class
// counted over them with a shrunk example that still crashes, beside the other classes.
TEST(KernelDiffIsolation, ARunGoesOnPastCrashesAndShrinksThem) {
  const BackendInfo crashing = planted<Plant::kWalkerUseFreedTable>();
  KernelDiffOptions options;
  options.seconds = 0;
  options.max_streams = 80;
  options.seed = 4;
  const KernelDiffReport r = kernel_diff(*backend("walker"), crashing, options);
  EXPECT_EQ(r.streams, 80u);
  const KernelDiffClass* crash = nullptr;
  for (const KernelDiffClass& c : r.classes)
    if (c.first.category == "crash") crash = &c;
  ASSERT_NE(crash, nullptr) << kernel_diff_text(r);
  EXPECT_EQ(crash->first.operation, "unmap");
  EXPECT_TRUE(is_fault(crash->first.b)) << crash->first.b;
  EXPECT_GE(crash->streams, 1u);
  EXPECT_LT(crash->streams, 80u) << "every stream crashed: the run did not go on past one";
  ASSERT_LT(crash->first.op_index, crash->example.size());
  EXPECT_LE(crash->example.size(), 4u) << format_stream(crash->example);
  const auto again = isolated_kernel_differences(*backend("walker"), crashing, crash->example, 5.0);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].key(), crash->first.key());
}

TEST(SemdiffCli, ExitsOneOnDifferencesZeroOnNoneTwoOnBadUsage) {
  if (!backend("linux612")) GTEST_SKIP() << "linux612 is not built";
  testing::TempDir dir;
  const auto json_path = (dir.path() / "semdiff.json").string();
  auto r = testing::run_cli("semdiff linux61 linux612 --streams 20 --seed 5 --json " + json_path);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("0 -> locked -> table/page"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(testing::slurp(json_path));
  EXPECT_EQ(j["a"], "linux61");
  EXPECT_EQ(j["streams"], 20);

  r = testing::run_cli("semdiff walker linux61 --streams 20");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("0 classes of difference"), std::string::npos) << r.out;

  r = testing::run_cli("semdiff linux61 nosuch --streams 1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("no backend 'nosuch'"), std::string::npos) << r.out;
  r = testing::run_cli("semdiff linux61 linux612-tdp --streams 1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("different architectures"), std::string::npos) << r.out;
  r = testing::run_cli("semdiff linux61 linux612 --time 0");
  EXPECT_EQ(r.status, 2);
}

}  // namespace
}  // namespace mmudiff
