// SPDX-License-Identifier: GPL-2.0-only
// Checking after every operation only where something changed: the windows themselves, the delta
// of a real backend's table that gives them (one 4 KiB entry after a 4 KiB wrprotect of a 1 GiB
// table, nothing after an operation that changes nothing), and, through the harness, that runs
// checking within windows report what runs checking the whole tables after every operation
// report, on random streams of both architectures and with every plant.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "mmu/plants.h"
#include "oracles/arm64_reference_model.h"
#include "oracles/harness.h"
#include "oracles/ipa_windows.h"
#include "oracles/isolated_run.h"
#include "oracles/table_delta.h"
#include "oracles/table_hash.h"
#include "tests/findings_text.h"
#include "tests/sanitizer_scale.h"

namespace mmudiff {
namespace {

using namespace mmudiff::testing;
using Range = IpaWindows::Range;

const SipKey kKey = parse_sip_key("00112233445566778899aabbccddeeff");

// ---- The windows ------------------------------------------------------------------------------

TEST(IpaWindows, RangesThatOverlapOrTouchBecomeOneAndTheOthersStayApart) {
  IpaWindows w;
  w.add(0x5000, 0x6000);
  w.add(0x1000, 0x2000);
  w.add(0x3000, 0x4000);
  w.add(0x7000, 0x7000);  // empty: nothing
  EXPECT_EQ(w.ranges(), (std::vector<Range>{{0x1000, 0x2000}, {0x3000, 0x4000}, {0x5000, 0x6000}}));
  w.add(0x2000, 0x3000);  // touches both neighbours
  EXPECT_EQ(w.ranges(), (std::vector<Range>{{0x1000, 0x4000}, {0x5000, 0x6000}}));
  w.add(0x0800, 0x5800);  // swallows the first, reaches into the second
  EXPECT_EQ(w.ranges(), (std::vector<Range>{{0x0800, 0x6000}}));
  // Half-open on both sides: an entry that ends where the window starts, or starts where it
  // ends, is outside it.
  auto entries = [&](uint64_t base, unsigned n) {
    std::vector<unsigned> seen;
    w.for_each_entry(base, 0x800, n, [&](unsigned i) { seen.push_back(i); });
    return seen;
  };
  EXPECT_EQ(entries(0x4000, 8), (std::vector<unsigned>{0, 1, 2, 3}));
  EXPECT_EQ(entries(0x0, 2), (std::vector<unsigned>{1}));
}

TEST(IpaWindows, APagesEntriesInTheWindowsAreFoundPerWindow) {
  IpaWindows w;
  w.add(0x1800, 0x3000);   // entries 1 and 2 of 0x1000 each, from a base of 0
  w.add(0x7000, 0x7001);   // entry 7
  w.add(0x9000, 0x20000);  // entries 9..15, and beyond the page
  auto entries = [](const IpaWindows& windows, uint64_t base) {
    std::vector<unsigned> seen;
    windows.for_each_entry(base, 0x1000, 16, [&](unsigned i) { seen.push_back(i); });
    return seen;
  };
  EXPECT_EQ(entries(w, 0), (std::vector<unsigned>{1, 2, 7, 9, 10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(entries(w, 0x10000),
            (std::vector<unsigned>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}));
  EXPECT_TRUE(entries(w, 0x20000).empty());
  EXPECT_EQ(entries(IpaWindows::all(), uint64_t{1} << 40).size(), 16u);
  // The same as testing each entry on its own.
  for (uint64_t base : {uint64_t{0}, uint64_t{0x800}, uint64_t{0x6800}}) {
    std::vector<unsigned> one_by_one;
    for (unsigned i = 0; i < 16; ++i)
      for (const Range& r : w.ranges())
        if (r.lo < base + (i + 1) * 0x1000 && base + i * 0x1000 < r.hi) {
          one_by_one.push_back(i);
          break;
        }
    EXPECT_EQ(entries(w, base), one_by_one) << base;
  }
}

TEST(IpaWindows, ClippingCutsRangesAtTheEdgesAndMovesTheirPhysicalAddress) {
  IpaWindows w;
  w.add(0x1000, 0x3000);
  w.add(0x5000, 0x6000);
  Translation t;
  t.mappings = {{0x0, 0x8000, 0x40000, 0x7}, {0x9000, 0x1000, 0x90000, 0x7}};
  t.annotations = {{0x2000, 0x4000, 0x200}};
  Translation c = w.clipped(t);
  EXPECT_EQ(c.mappings,
            (std::vector<Mapping>{{0x1000, 0x2000, 0x41000, 0x7}, {0x5000, 0x1000, 0x45000, 0x7}}));
  EXPECT_EQ(c.annotations,
            (std::vector<OwnerAnnotation>{{0x2000, 0x1000, 0x200}, {0x5000, 0x1000, 0x200}}));
  // The same translation split into pages clips to the same.
  Translation pages;
  for (uint64_t ipa = 0; ipa < 0x8000; ipa += 0x1000)
    pages.mappings.push_back({ipa, 0x1000, 0x40000 + ipa, 0x7});
  pages.mappings.push_back({0x9000, 0x1000, 0x90000, 0x7});
  pages.annotations = {{0x2000, 0x1000, 0x200},
                       {0x3000, 0x1000, 0x200},
                       {0x4000, 0x1000, 0x200},
                       {0x5000, 0x1000, 0x200}};
  EXPECT_EQ(w.clipped(pages), c);
}

// ---- The delta of a real table ------------------------------------------------------------------

class TableDeltaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend = create_arm64(backends_of(Arch::Arm64S2).front(), m, Plant::kNone);
    Arm64S2Config c;
    c.force_pte = ForcePte::Always;
    ASSERT_EQ(backend->init(c), 0);
  }
  void TearDown() override { backend->destroy(); }

  IpaWindows changed() {
    m.effects.clear();
    cache.update(backend->root(), m.memory);
    IpaWindows w;
    delta.update(backend->root(), m.memory, cache, &w);
    return w;
  }

  Machine m{MemoryLimits{.max_pages = 2048, .quarantine = 64}};
  std::unique_ptr<Arm64S2Backend> backend;
  TableHashCache cache{kKey};
  TableDelta delta;
  const uint64_t prot = arm64s2::prot::kR | arm64s2::prot::kW;
};

TEST_F(TableDeltaTest, AfterABigMapOnlyTheEntriesAnOperationChangedAreWindows) {
  const IpaWindows first = changed();
  ASSERT_EQ(first.ranges().size(), 1u);  // a new table: all of it
  EXPECT_EQ(first.ranges()[0].lo, 0u);
  Memcache mc(m.memory, 1024);
  ASSERT_EQ(backend->map(0x4000'0000, uint64_t{1} << 30, 0x8000'0000, prot, &mc), 0);
  EXPECT_EQ(changed().ranges(), (std::vector<Range>{{0x4000'0000, 0x8000'0000}}));

  ASSERT_EQ(backend->wrprotect(0x4000'0000 + 0x1234'5000, 0x1000), 0);
  EXPECT_EQ(changed().ranges(), (std::vector<Range>{{0x5234'5000, 0x5234'6000}}));
  uint64_t pte = 0;
  uint32_t level = 0;
  ASSERT_EQ(backend->get_leaf(0x5000'0000, &pte, &level), 0);
  EXPECT_TRUE(changed().empty());
  ASSERT_EQ(backend->unmap(0x6000'0000, 0x3000), 0);
  EXPECT_EQ(changed().ranges(), (std::vector<Range>{{0x6000'0000, 0x6000'3000}}));
  // Two separate pages, in one operation each, and then one that spans a level-3 table's edge.
  ASSERT_EQ(backend->wrprotect(0x4000'0000, 0x1000), 0);
  ASSERT_EQ(backend->wrprotect(0x7fff'f000, 0x1000), 0);
  EXPECT_EQ(changed().ranges(),
            (std::vector<Range>{{0x4000'0000, 0x4000'1000}, {0x7fff'f000, 0x8000'0000}}));
  ASSERT_EQ(backend->wrprotect(0x401f'f000, 0x2000), 0);
  EXPECT_EQ(changed().ranges(), (std::vector<Range>{{0x401f'f000, 0x4020'1000}}));
}

TEST_F(TableDeltaTest, ATableWhereABlockWasIsNewAllTheWayDown) {
  backend->destroy();
  ASSERT_EQ(backend->init(Arm64S2Config{}), 0);
  changed();
  Memcache mc(m.memory, 64);
  // A 2 MiB block in a new level-2 table: the level-1 entry that now points to it changed.
  ASSERT_EQ(backend->map(0x4000'0000, 0x20'0000, 0x8000'0000, prot, &mc), 0);
  EXPECT_EQ(changed().ranges(), (std::vector<Range>{{0x4000'0000, 0x8000'0000}}));
  // A page mapped inside the block replaces it with a level-3 table: all 2 MiB changed.
  ASSERT_EQ(backend->map(0x4010'0000, 0x1000, 0x9000'0000, prot, &mc), 0);
  EXPECT_EQ(changed().ranges(), (std::vector<Range>{{0x4000'0000, 0x4020'0000}}));
  ASSERT_EQ(backend->wrprotect(0x4010'0000, 0x1000), 0);
  EXPECT_EQ(changed().ranges(), (std::vector<Range>{{0x4010'0000, 0x4010'1000}}));
  // A new table altogether: everything.
  backend->destroy();
  ASSERT_EQ(backend->init(Arm64S2Config{}), 0);
  const IpaWindows again = changed();
  ASSERT_EQ(again.ranges().size(), 1u);
  EXPECT_EQ(again.ranges()[0].lo, 0u);
  EXPECT_GE(again.ranges()[0].hi, uint64_t{1} << 40);
}

// The model says where its translation changed, as the tables do.
TEST(ReferenceModelChanges, AreWhereTheOperationChangedALeaf) {
  ReferenceModel model;
  Op init;
  init.kind = OpKind::Init;
  model.apply(init);
  EXPECT_TRUE(model.changed().empty());  // not asked to keep track
  model.track_changes(true);
  model.apply(init);
  EXPECT_FALSE(model.changed().empty());
  Op map;
  map.kind = OpKind::Map;
  map.addr = 0x4000'0000;
  map.size = 0x3000;
  map.phys = 0x8000'0000;
  map.prot = arm64s2::prot::kR;
  map.memcache = 16;
  ASSERT_EQ(model.apply(map).ret, 0);
  EXPECT_EQ(model.changed().ranges(), (std::vector<Range>{{0x4000'0000, 0x4000'3000}}));
  Op wrprotect;
  wrprotect.kind = OpKind::Wrprotect;
  wrprotect.addr = 0x4000'1000;
  wrprotect.size = 0x1000;
  model.apply(wrprotect);  // already read-only: nothing changes
  EXPECT_TRUE(model.changed().empty());
  Op unmap;
  unmap.kind = OpKind::Unmap;
  unmap.addr = 0x4000'2000;
  unmap.size = 0x1000;
  model.apply(unmap);
  EXPECT_EQ(model.changed().ranges(), (std::vector<Range>{{0x4000'2000, 0x4000'3000}}));
  EXPECT_EQ(model.translation(&model.changed()), Translation{});
  IpaWindows first_page;
  first_page.add(0x4000'0000, 0x4000'0800);
  EXPECT_EQ(model.translation(&first_page).mappings,
            (std::vector<Mapping>{
                {0x4000'0000, 0x800, 0x8000'0000, model.translation().mappings.front().attrs}}));
}

// ---- Through the harness ----------------------------------------------------------------------

// A report with its notes as the set of what they say. A note is what the reference itself does
// (Linux's own quirks): a run checking the whole tables repeats one about an entry after every
// operation while the entry stays, a run checking within windows says it where the entry changed.
std::string findings_and_what_was_noted(StreamReport r) {
  std::set<std::string> noted;
  for (const std::string& n : r.notes) noted.insert(n.substr(n.find(": ") + 2));
  r.notes.assign(noted.begin(), noted.end());
  return describe_report(r);
}

// Every operation checked within windows (the hash cache on, the default) against every operation
// checked on the whole tables (no cache); in a child process, since some plants crash.
StreamReport expect_alike(const Stream& stream, HarnessOptions options, const std::string& what) {
  options.check_every_op = true;
  options.hash_cache = true;
  StreamReport windowed = run_isolated(stream, options).report;
  options.hash_cache = false;
  StreamReport whole = run_isolated(stream, options).report;
  EXPECT_EQ(findings_and_what_was_noted(windowed), findings_and_what_was_noted(whole))
      << what << "\n"
      << format_stream(stream);
  return windowed;
}

class WindowedRuns : public ::testing::TestWithParam<Arch> {};

TEST_P(WindowedRuns, ReportWhatRunsCheckingTheWholeTablesReport) {
  std::mt19937_64 rng(23);
  RandomStreamOptions o;
  o.arch = GetParam();
  for (size_t i = 0; i < sanitizer_scaled(200); ++i)
    expect_alike(random_stream(rng, o), HarnessOptions{}, "stream " + std::to_string(i));
}

INSTANTIATE_TEST_SUITE_P(BothArchitectures, WindowedRuns,
                         ::testing::Values(Arch::Arm64S2, Arch::X86Ept), [](const auto& info) {
                           return info.param == Arch::Arm64S2 ? "Arm64" : "X86";
                         });

// With each plant, random streams of its architecture: where the plant shows, both runs report it
// alike, at the same operation.
TEST(WindowedRunsOfPlants, ReportWhatRunsCheckingTheWholeTablesReport) {
  size_t found = 0;
  const size_t per_plant = sanitizer_scaled(6);
  for (const PlantInfo& p : planted_bugs()) {
    std::mt19937_64 rng(std::hash<std::string_view>{}(p.name));
    RandomStreamOptions o;
    o = RandomStreamOptions::of_profile(p.profile());
    HarnessOptions options;
    options.plant = p.id;
    for (size_t i = 0; i < per_plant; ++i) {
      Stream s = random_stream(rng, o);
      found += !expect_alike(s, options, std::string(p.name) + " stream " + std::to_string(i))
                    .findings.empty();
    }
  }
  // The comparison saw findings, not only clean runs: an eighth of the runs at least.
  EXPECT_GE(found * 8, per_plant * planted_bugs().size()) << found;
}

}  // namespace
}  // namespace mmudiff
