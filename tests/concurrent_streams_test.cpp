// SPDX-License-Identifier: GPL-2.0-only
// Concurrent sections of a stream (mmu/ops/sections.h): the text and binary forms, what makes a
// section well formed, how the harness runs one (every lane under the section's schedule) and
// the linearizability oracle that holds its results to some serial order.
#include <algorithm>
#include <cerrno>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "mmu/format/arm64_s2.h"
#include "mmu/ops/binary_format.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/sections.h"
#include "mmu/ops/text_format.h"
#include "oracles/arm64_reference_model.h"
#include "oracles/harness.h"
#include "oracles/linearizability.h"

namespace mmudiff {
namespace {

namespace prot = arm64s2::prot;

// Two relax_perms of one read-only page, W on vCPU 0 and X on vCPU 1, then vCPU 1 reads it.
std::string race(const std::string& schedule) {
  return "init kernel=6.12\n"
         "map 0x40000000 4K pa=0x40000000 prot=r\n"
         "schedule " +
         schedule +
         "\n"
         "vcpu 0: relax_perms 0x40000000 prot=w\n"
         "vcpu 1: relax_perms 0x40000000 prot=x\n"
         "vcpu 1: get_leaf 0x40000000\n";
}

TEST(ConcurrentStreamsText, ASectionIsItsVcpusOperationsAndTheScheduleBeforeThem) {
  const Stream s = parse_text(race("3>1 9>0"), "t.mmu");
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[1].vcpu, kSerial);
  EXPECT_EQ(s[2].vcpu, 0);
  EXPECT_TRUE(s[2].opens_section);
  EXPECT_EQ(s[2].schedule, (sched::Schedule{{3, 1}, {9, 0}}));
  EXPECT_EQ(s[3].vcpu, 1);
  EXPECT_FALSE(s[3].opens_section);
  EXPECT_TRUE(s[3].schedule.empty());
  EXPECT_EQ(s[4].kind, OpKind::GetLeaf);
  const std::vector<Section> sections = concurrent_sections(s);
  ASSERT_EQ(sections.size(), 1u);
  EXPECT_EQ(sections[0].begin, 2u);
  EXPECT_EQ(sections[0].end, 5u);
  EXPECT_EQ(sections[0].vcpus, 2u);
  // Printed with its schedule line, and read back the same.
  const std::string text = format_stream(s);
  EXPECT_NE(text.find("schedule 3>1 9>0\nvcpu 0: relax_perms 0x40000000"), std::string::npos)
      << text;
  EXPECT_EQ(parse_text(text, "again.mmu"), s);
}

TEST(ConcurrentStreamsText, AScheduleLineOpensANewSectionNextToTheLast) {
  const Stream s = parse_text(
      "init kernel=6.12\n"
      "vcpu 0: mkyoung 0x1000\n"
      "vcpu 1: mkyoung 0x1000\n"
      "schedule 0>0\n"
      "vcpu 1: get_leaf 0x1000\n"
      "get_leaf 0x1000\n"
      "vcpu 0: get_leaf 0x2000\n",
      "t.mmu");
  const std::vector<Section> sections = concurrent_sections(s);
  ASSERT_EQ(sections.size(), 3u);
  EXPECT_EQ(sections[0].begin, 1u);
  EXPECT_EQ(sections[0].end, 3u);
  EXPECT_TRUE(s[1].schedule.empty());
  EXPECT_EQ(sections[1].begin, 3u);
  EXPECT_EQ(s[3].schedule, (sched::Schedule{{0, 0}}));
  EXPECT_EQ(sections[2].begin, 5u);
  // An empty schedule prints as a bare "schedule" line, so the sections stay apart.
  EXPECT_EQ(parse_text(format_stream(s), "again.mmu"), s);
}

TEST(ConcurrentStreamsText, MalformedSectionsAreOneLineErrorsNamingTheLine) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      {"vcpu 0: mkyoung 0x1000\n", "t.mmu:1: operations on vCPUs are shared walks"},
      {"init kernel=6.12\nvcpu 0: unmap 0x1000 4K\n", "t.mmu:2: unmap holds the MMU lock"},
      {"init kernel=6.12\nvcpu 4: mkyoung 0x1000\n", "t.mmu:2: vcpu 4: a section has at most 4"},
      {"init kernel=6.12\nvcpu x: mkyoung 0x1000\n", "t.mmu:2: expected 'vcpu N: OPERATION'"},
      {"init kernel=6.12\nvcpu 1:\n", "t.mmu:2: vcpu 1: which operation?"},
      {"init kernel=6.12\nvcpu 0: map 0x1000 4K flags=shared\n",
       "t.mmu:2: a map on a vCPU is a fault's"},
      {"init kernel=6.12\nvcpu 0: map 0x1000 8K flags=shared,fault\n",
       "t.mmu:2: a map on a vCPU is a fault's"},
      // Where force_pte maps pages only, a fault maps a page.
      {"init kernel=6.12 force_pte=always\nvcpu 0: map 0x200000 2M flags=shared,fault\n",
       "t.mmu:2: a map on a vCPU is a fault's"},
      {"init kernel=6.12\nschedule 1>1\nunmap 0x1000 4K\n",
       "t.mmu:3: the schedule of line 2 opens a section"},
      {"init kernel=6.12\nschedule 1>1\n", "t.mmu:2: the schedule opens a section, but no"},
      {"init kernel=6.12\nschedule 1>1\nschedule 2>0\nvcpu 0: mkyoung 0\n",
       "t.mmu:3: a second schedule after line 2's"},
      {"init kernel=6.12\nschedule 1>9\nvcpu 0: mkyoung 0\n", "t.mmu:2: schedule '1>9': column"},
      {"init kernel=6.12\nschedule 1>3 1-0\nvcpu 0: mkyoung 0\n", "t.mmu:2: schedule '1>3 1-0'"},
      {"init kernel=6.12\nschedule 1>5\nvcpu 0: mkyoung 0\n",
       "t.mmu:2: schedule '1>5': vCPU 5 in a section of at most 4"},
  };
  for (const auto& c : cases) {
    try {
      parse_text(c.text, "t.mmu");
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(c.error, 0), 0u) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
  // The ninth operation of a section is one too many.
  std::string nine = "init kernel=6.12\n";
  for (int i = 0; i < 9; ++i) nine += "vcpu 0: mkyoung 0x1000\n";
  try {
    parse_text(nine, "t.mmu");
    ADD_FAILURE() << "a section of 9 operations accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("t.mmu:10: a section holds at most 8", 0), 0u)
        << e.what();
  }
}

TEST(ConcurrentStreamsBinary, RandomConcurrentStreamsRoundTripThroughBothForms) {
  std::mt19937_64 rng(19);
  RandomStreamOptions options = RandomStreamOptions::of_profile(ProfileId::Arm64Linux612);
  size_t sections = 0, preemptions = 0;
  for (int n = 0; n < 2000; ++n) {
    options.vcpus = 2 + n % 3;
    const Stream s = random_stream(rng, options);
    Stream normalized = s;
    normalize_sections(normalized);
    ASSERT_EQ(normalized, s) << "random streams are normalized\n" << format_stream(s);
    for (const Section& sec : concurrent_sections(s)) {
      ++sections;
      preemptions += s[sec.begin].schedule.size();
      EXPECT_LE(sec.vcpus, options.vcpus);
      EXPECT_LE(sec.end - sec.begin, kMaxSectionOps);
    }
    ASSERT_EQ(decode_binary(encode_binary(s)), s) << format_stream(s);
    ASSERT_EQ(parse_text(format_stream(s), "r.mmu"), s) << format_stream(s);
  }
  EXPECT_GT(sections, 1000u);
  EXPECT_GT(preemptions, 1000u);
}

TEST(ConcurrentStreamsBinary, OnlyA612StreamsSharedWalksReadTheVcpuBits) {
  // A 6.1 stream: mkyoung (code 5) with bits 4-7 set decodes as the serial mkyoung it always was.
  Stream s61 = decode_binary(std::vector<uint8_t>{0x00, 8, 0x00, 0xf5, 0x10});
  ASSERT_EQ(s61.size(), 2u);
  EXPECT_EQ(s61[1].kind, OpKind::Mkyoung);
  EXPECT_EQ(s61[1].vcpu, kSerial);
  // The same in a 6.12 stream (init flags bit 6): vCPU 3, opening a section whose schedule is
  // one preemption, 2>1.
  Stream s612 = decode_binary(std::vector<uint8_t>{0x00, 8, 0x40, 0xf5, 1, 2, 1, 0x10});
  ASSERT_EQ(s612.size(), 2u);
  EXPECT_EQ(s612[1].vcpu, 3);
  EXPECT_TRUE(s612[1].opens_section);
  EXPECT_EQ(s612[1].schedule, (sched::Schedule{{2, 1}}));
  EXPECT_EQ(s612[1].addr, 0x10u);
  // unmap (code 3) may not run on a vCPU: the bits are ignored there.
  Stream unmap = decode_binary(std::vector<uint8_t>{0x00, 8, 0x40, 0xf3, 0x10, 0x10});
  ASSERT_EQ(unmap.size(), 2u);
  EXPECT_EQ(unmap[1].vcpu, kSerial);
}

TEST(ConcurrentStreamsSections, RemovingASectionsFirstOperationKeepsItsSchedule) {
  const Stream s = parse_text(race("3>1 9>0"), "t.mmu");
  const Stream rest = without_ops(s, 2, 3);
  ASSERT_EQ(rest.size(), 4u);
  EXPECT_EQ(rest[2].vcpu, 1);
  EXPECT_TRUE(rest[2].opens_section);
  EXPECT_EQ(rest[2].schedule, (sched::Schedule{{3, 1}, {9, 0}}));
  // Without the init the stream is arm64-6.1's, which has no sections: all serial.
  for (const Op& op : without_ops(s, 0, 1)) EXPECT_EQ(op.vcpu, kSerial);
}

HarnessOptions linux612_walker_legacy() {
  HarnessOptions options;
  options.backends = {"linux612", "walker", "legacy"};
  return options;
}

TEST(ConcurrentStreamsHarness, ARaceRunsAsItsScheduleSaysAndIsLinearizable) {
  if (!find_backend("linux612", ProfileId::Arm64Linux612)) GTEST_SKIP() << "linux612 not built";
  // Alone in turn (no preemption): both relax_perms succeed.
  const StreamReport serial = run_stream(parse_text(race(""), "t.mmu"), linux612_walker_legacy());
  EXPECT_TRUE(serial.equivalent()) << (serial.worst() ? serial.worst()->summary : "");
  const std::vector<std::string>& backends = serial.backends;
  for (const std::string& name : backends)
    EXPECT_TRUE(find_backend(name, ProfileId::Arm64Linux612)->shared_walks) << name;
  EXPECT_EQ(serial.results[0][2].ret, 0);
  EXPECT_EQ(serial.results[0][3].ret, 0);
  // vCPU 1 runs between vCPU 0's read of the leaf and its cmpxchg: vCPU 0 loses (-EAGAIN), and
  // the leaf has only vCPU 1's X, a serial order where vCPU 0 did nothing.
  const StreamReport raced = run_stream(parse_text(race("3>1"), "t.mmu"), linux612_walker_legacy());
  EXPECT_TRUE(raced.equivalent()) << (raced.worst() ? raced.worst()->summary : "");
  EXPECT_EQ(raced.results[0][2].ret, -EAGAIN);
  EXPECT_EQ(raced.results[0][3].ret, 0);
  EXPECT_FALSE(raced.results[0][4].value & arm64s2::kS2apW);
  EXPECT_FALSE(raced.results[0][4].value & arm64s2::kXn);
  // The backends without shared walks are left out, and the report says so.
  for (const char* name : {"walker", "legacy"}) {
    if (find_backend(name, ProfileId::Arm64Linux612)->shared_walks) continue;
    bool noted = false;
    for (const std::string& note : raced.notes)
      noted = noted || note.rfind(std::string(name) + " left out", 0) == 0;
    EXPECT_TRUE(noted) << name;
  }
}

// The model after init and a read-only page at 0x40000000.
ReferenceModel model_with_page() {
  ReferenceModel model;
  Config config;
  config.arm64.kernel = Arm64Kernel::Linux612;
  model.apply(init_op(config));
  Op map;
  map.kind = OpKind::Map;
  map.addr = map.phys = 0x40000000;
  map.size = 0x1000;
  map.prot = prot::kR;
  map.memcache = kDefaultMemcache;
  EXPECT_EQ(model.apply(map).ret, 0);
  return model;
}

TEST(ConcurrentStreamsLinearizability, AnOrderIsFoundOnlyWhereOneExplainsTheResultsAndTheTable) {
  const Stream s = parse_text(race(""), "t.mmu");
  const Section section = concurrent_sections(s).at(0);
  const ReferenceModel before = model_with_page();
  // What a serial run of W then X leaves, and of X alone.
  auto translation_after = [&](std::vector<size_t> ops) {
    ReferenceModel m = before;
    for (size_t i : ops) m.apply(s[i]);
    return m.translation();
  };
  const Translation both = translation_after({2, 3});
  const Translation x_only = translation_after({3});
  ASSERT_NE(both, x_only);
  auto ends_as = [](const Translation& t) {
    return [t](const ReferenceModel& m) { return m.translation() == t; };
  };
  auto leaf_after = [&](std::vector<size_t> ops) {
    ReferenceModel m = before;
    for (size_t i : ops) m.apply(s[i]);
    return m.apply(s[4]);
  };
  const OpResult leaf = leaf_after({2, 3});

  // Both succeeded and the leaf has both: found, in stream order.
  LinearizabilityVerdict v =
      linearize(before, s, section, {{0}, {0}, leaf}, before.tables(), {}, ends_as(both));
  ASSERT_TRUE(v.found);
  EXPECT_EQ(v.found->order, (std::vector<size_t>{2, 3, 4}));
  EXPECT_EQ(v.found->model.translation(), both);
  // vCPU 0 lost its race: the order leaves it out.
  v = linearize(before, s, section, {{-EAGAIN}, {0}, leaf_after({3})}, before.tables(), {},
                ends_as(x_only));
  ASSERT_TRUE(v.found);
  EXPECT_EQ(v.found->order, (std::vector<size_t>{3, 4}));
  // Both say they succeeded, but the table has only X: no serial order explains that.
  v = linearize(before, s, section, {{0}, {0}, leaf}, before.tables(), {}, ends_as(x_only));
  EXPECT_FALSE(v.found);
  EXPECT_TRUE(v.decided);
  // vCPU 0 says -EAGAIN, but the table has its W: nor that.
  v = linearize(before, s, section, {{-EAGAIN}, {0}, leaf}, before.tables(), {}, ends_as(both));
  EXPECT_FALSE(v.found);
  // The right results and translation, but the backend's table lacks tables the order's has.
  v = linearize(before, s, section, {{0}, {0}, leaf}, {}, {}, ends_as(both));
  EXPECT_FALSE(v.found);
}

// A 2M fault on vCPU 0 and a 4K fault on vCPU 1 in that 2M, and the table the kernel's race
// leaves (oracles/linearizability.h): below the 4K fault's table, pages of the 2M fault up to the
// 4K page. LEAVES: (offset into the 2M, PA) of each page the table has.
struct BlockPageRace {
  static constexpr uint64_t kBase = 0x40000000;
  static constexpr uint64_t kBlockPa = 0x80000000;
  static constexpr uint64_t kPagePa = 0x90000000;
  Stream stream = parse_text(
      "init kernel=6.12\n"
      "map 0x40400000 4K pa=0x40400000 prot=r\n"  // the tables down to level 3, elsewhere
      "schedule 5>1\n"
      "vcpu 0: map 0x40000000 2M pa=0x80000000 prot=r mc=8 flags=shared,fault\n"
      "vcpu 1: map 0x40003000 4K pa=0x90000000 prot=rw mc=8 flags=shared,fault\n",
      "race.mmu");
  Section section = concurrent_sections(stream).at(0);
  ReferenceModel before;

  BlockPageRace() {
    before.apply(stream[0]);
    before.apply(stream[1]);
  }

  static uint64_t attrs(uint64_t p) {
    uint64_t a = 0;
    EXPECT_EQ(ReferenceModel::prot_to_attrs(p, /*fwb=*/false, /*lpa2=*/false, &a, true), 0);
    return a;
  }
  static ObservedLeaf page(uint64_t offset, uint64_t pa, uint64_t p) {
    const ModelLeaf leaf{arm64s2::kLastLevel, true, pa, attrs(p), 0};
    return {arm64s2::kLastLevel, kBase + offset, ReferenceModel::descriptor(leaf, false)};
  }
  // The table pages a serial run of both leaves (the 4K fault's table among them).
  std::vector<ModelTable> tables() const {
    ReferenceModel m = before;
    m.apply(stream[section.begin]);
    m.apply(stream[section.begin + 1]);
    return m.tables();
  }
  // The translation of the serial map, with LEAVES in place of whatever the race left there.
  Translation translation(const std::vector<ObservedLeaf>& leaves, bool keep_before = true) const {
    Translation t = keep_before ? before.translation() : Translation{};
    for (const ObservedLeaf& l : leaves)
      t.mappings.push_back(
          {l.base, arm64s2::kPageSize, arm64s2::kOaMask & l.raw, l.raw & kTranslationAttrMask});
    std::sort(t.mappings.begin(), t.mappings.end(),
              [](const Mapping& a, const Mapping& b) { return a.ipa < b.ipa; });
    normalise(&t);
    return t;
  }
  LinearizabilityVerdict verdict(const std::vector<OpResult>& results,
                                 const std::vector<ObservedLeaf>& leaves,
                                 bool keep_before = true) const {
    const Translation observed = translation(leaves, keep_before);
    std::vector<ObservedLeaf> all = leaves;
    if (keep_before)
      for (const auto& [base, leaf] : before.leaves())
        all.push_back({leaf.level, base, ReferenceModel::descriptor(leaf, false)});
    return linearize(before, stream, section, results, tables(), all,
                     [&](const ReferenceModel& m) { return m.translation() == observed; });
  }
};

TEST(ConcurrentStreamsLinearizability, AFaultsPagesBelowAnotherVcpusTableAreWhatItAskedFor) {
  const BlockPageRace race;
  const uint64_t page = arm64s2::kPageSize;
  const std::vector<ObservedLeaf> raced = {
      BlockPageRace::page(0, BlockPageRace::kBlockPa, prot::kR),
      BlockPageRace::page(page, BlockPageRace::kBlockPa + page, prot::kR),
      BlockPageRace::page(2 * page, BlockPageRace::kBlockPa + 2 * page, prot::kR),
      BlockPageRace::page(3 * page, BlockPageRace::kPagePa, prot::kR | prot::kW)};
  // No serial order leaves that table: only the block's leaves, taken on, explain it, and the
  // model goes on with the pages, not the block.
  LinearizabilityVerdict v = race.verdict({{-EAGAIN}, {0}}, raced);
  ASSERT_TRUE(v.found);
  EXPECT_EQ(v.found->settled, 3u);
  EXPECT_EQ(v.found->model.translation(), race.translation(raced));
  ASSERT_TRUE(v.found->model.leaves().count(BlockPageRace::kBase));
  EXPECT_EQ(v.found->model.leaves().at(BlockPageRace::kBase).level, arm64s2::kLastLevel);

  // A page at a PA the fault did not ask for: nothing explains it.
  std::vector<ObservedLeaf> foreign = raced;
  foreign[1] = BlockPageRace::page(page, BlockPageRace::kBlockPa + 5 * page, prot::kR);
  v = race.verdict({{-EAGAIN}, {0}}, foreign);
  EXPECT_FALSE(v.found);
  EXPECT_TRUE(v.decided);
  // Nor with other permissions than it asked for.
  std::vector<ObservedLeaf> writable = raced;
  writable[2] =
      BlockPageRace::page(2 * page, BlockPageRace::kBlockPa + 2 * page, prot::kR | prot::kW);
  EXPECT_FALSE(race.verdict({{-EAGAIN}, {0}}, writable).found);
  // The page mapped before the section, gone though no operation of it reached there.
  EXPECT_FALSE(race.verdict({{-EAGAIN}, {0}}, raced, /*keep_before=*/false).found);
}

}  // namespace
}  // namespace mmudiff
