// SPDX-License-Identifier: GPL-2.0-only
// The structure-aware mutator the fuzz engines call: what it returns always decodes, fits the
// buffer and the work budget; and it aims new operations at addresses the stream already uses,
// which independent random addresses almost never hit.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fuzz/mutator.h"
#include "fuzz/section_mutations.h"
#include "mmu/ops/binary_format.h"
#include "mmu/ops/sections.h"
#include "mmu/ops/text_format.h"
#include "mmu/ops/work_budget.h"

namespace mmudiff {
namespace {

// A map at an address the random generator does not draw: 16 GiB + 18 MiB + 212 KiB, far above
// the first 4 GiB it draws from and on no block boundary.
constexpr uint64_t kOddMap = 0x40123'5000;

Stream one_map() {
  return parse_text(
      "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never\n"
      "map 0x401235000 8K pa=0x80000000 prot=r mc=8\n",
      "one_map");
}

TEST(Mutator, OutputDecodesFitsTheBufferAndTheBudget) {
  std::vector<uint8_t> buf = encode_binary(one_map());
  size_t size = buf.size();
  constexpr size_t kMax = 512;
  buf.resize(kMax);
  for (unsigned seed = 0; seed < 3000; ++seed) {
    size = mutate_bytes(buf.data(), size, kMax, seed);
    ASSERT_GT(size, 0u);
    ASSERT_LE(size, kMax);
    Stream s = decode_binary(std::span<const uint8_t>(buf.data(), size));
    ASSERT_FALSE(s.empty()) << "seed " << seed;
    ASSERT_LE(s.size(), kMaxFuzzOps);
    ASSERT_TRUE(within_work_budget(s)) << "seed " << seed << "\n" << format_stream(s);
    // Re-encoding what was decoded gives the same bytes: nothing the engine stores is lossy.
    std::vector<uint8_t> again = encode_binary(s);
    ASSERT_EQ(again, std::vector<uint8_t>(buf.begin(), buf.begin() + static_cast<long>(size)));
  }
}

TEST(Mutator, CrossoverFitsAndKeepsAPrefixOfTheFirst) {
  Stream a = one_map();
  Stream b = parse_text("unmap 0x0 4K\nget_leaf 0x1000\n", "b");
  std::vector<uint8_t> ea = encode_binary(a), eb = encode_binary(b);
  std::vector<uint8_t> out(256);
  for (unsigned seed = 0; seed < 200; ++seed) {
    size_t n = cross_bytes(ea, eb, out.data(), out.size(), seed);
    Stream s = decode_binary(std::span<const uint8_t>(out.data(), n));
    ASSERT_FALSE(s.empty());
    // Whatever of `a` came first is `a`'s beginning, in order.
    for (size_t i = 0; i < s.size() && i < a.size() && s[i].kind == a[i].kind; ++i)
      EXPECT_EQ(s[i], a[i]);
  }
}

// Counts, over many single mutations of the one-map stream, the new or changed operations of
// `kind` that start at or next to the map (its start or end, a page either side).
int aimed_at_the_map(OpKind kind) {
  int hits = 0;
  for (unsigned seed = 0; seed < 4000; ++seed) {
    Stream s = one_map();
    std::mt19937_64 rng(seed);
    mutate_stream(&s, rng);
    for (const Op& op : s) {
      if (op.kind != kind) continue;
      for (uint64_t near : {kOddMap, kOddMap + 0x1000, kOddMap - 0x1000, kOddMap + 0x2000})
        hits += op.addr == near;
    }
  }
  return hits;
}

TEST(Mutator, AimsNewOperationsAtAddressesTheStreamUses) {
  // Permission changes and unmaps of the mapped range: what finds bugs at a range's edges.
  EXPECT_GE(aimed_at_the_map(OpKind::RelaxPerms), 10);
  EXPECT_GE(aimed_at_the_map(OpKind::Unmap), 10);
  EXPECT_GE(aimed_at_the_map(OpKind::Wrprotect), 10);
}

TEST(Mutator, StretchesRangesToReachTheirNeighbours) {
  // From a map below the odd one, some mutation makes a range that ends exactly where the odd
  // map starts or ends (covering it, or stopping right before it).
  Stream base = parse_text(
      "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never\n"
      "map 0x400000000 4K pa=0x80000000 prot=rw mc=8\n"
      "map 0x401235000 8K pa=0x80200000 prot=rw mc=8\n",
      "two_maps");
  int reached = 0;
  for (unsigned seed = 0; seed < 4000; ++seed) {
    Stream s = base;
    std::mt19937_64 rng(seed);
    mutate_stream(&s, rng);
    for (const Op& op : s)
      if (op.addr == 0x400000000 &&
          (op.addr + op.size == kOddMap || op.addr + op.size == kOddMap + 0x2000))
        ++reached;
  }
  EXPECT_GE(reached, 3);
}

TEST(Mutator, ChangesTheLevelOfX86Operations) {
  // A fault at 4K and a split to 4K: the level is what decides a huge page over a table, or a
  // split that stops at 2M, and no other mutation reaches it in place.
  Stream base = parse_text(
      "init arch=x86-ept max_level=3 host_level=3\n"
      "fault 0x40200000 level=1 access=rw\n"
      "split 0x40000000 1G level=1\n",
      "x86");
  int fault_deeper = 0, split_shallower = 0;
  for (unsigned seed = 0; seed < 3000; ++seed) {
    Stream s = base;
    std::mt19937_64 rng(seed);
    mutate_stream(&s, rng);
    for (const Op& op : s) {
      if (op.kind == OpKind::Fault && op.addr == 0x40200000 && op.level > 1) ++fault_deeper;
      if (op.kind == OpKind::Split && op.addr == 0x40000000) {
        EXPECT_GE(op.level, 1u);
        EXPECT_LE(op.level, 2u) << "a split goes to 4K or 2M";
        split_shallower += op.level == 2;
      }
    }
  }
  EXPECT_GE(fault_deeper, 10);
  EXPECT_GE(split_shallower, 10);
}

// Issue 19: arm64-6.12 streams race, and the mutator moves them toward races: schedules change,
// sections appear where there were none, and two vCPUs end up at one address.
Stream serial_612() {
  return parse_text(
      "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never kernel=6.12\n"
      "map 0x40000000 4K pa=0x80000000 prot=r mc=8\n"
      "relax_perms 0x40000000 prot=w\n"
      "map 0x40200000 4K pa=0x80200000 prot=rw mc=8 flags=shared,fault\n"
      "mkyoung 0x40200000\n",
      "serial_612");
}

Stream racing_612() {
  return parse_text(
      "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never kernel=6.12\n"
      "map 0x40000000 4K pa=0x80000000 prot=r mc=8\n"
      "schedule 3>1\n"
      "vcpu 0: relax_perms 0x40000000 prot=w\n"
      "vcpu 1: relax_perms 0x40000000 prot=x\n",
      "racing_612");
}

// A section's shape as normalize_sections leaves it, and every vCPU's operation a shared walk.
void expect_well_formed(const Stream& s, unsigned seed) {
  Stream normal = s;
  normalize_sections(normal);
  ASSERT_EQ(normal, s) << "seed " << seed << "\n" << format_stream(s);
  for (const Section& sec : concurrent_sections(s)) {
    ASSERT_LE(sec.end - sec.begin, kMaxSectionOps);
    ASSERT_TRUE(s[sec.begin].opens_section);
    for (size_t i = sec.begin; i < sec.end; ++i) {
      ASSERT_TRUE(runs_on_vcpu(s[i].kind, ProfileId::Arm64Linux612)) << format_stream(s);
      ASSERT_LT(s[i].vcpu, kMaxSectionVcpus);
      if (s[i].kind == OpKind::Map) {
        EXPECT_TRUE(is_fault_leaf_size(s[i].size)) << format_stream(s);
        EXPECT_EQ(s[i].addr % s[i].size, 0u) << format_stream(s);
        EXPECT_EQ(s[i].walk_flags, walk_flag::kShared | walk_flag::kHandleFault);
      }
    }
  }
}

// Whether two operations of one section, on different vCPUs, start at the same address.
bool two_vcpus_at_one_address(const Stream& s) {
  for (const Section& sec : concurrent_sections(s))
    for (size_t i = sec.begin; i < sec.end; ++i)
      for (size_t j = i + 1; j < sec.end; ++j)
        if (s[i].vcpu != s[j].vcpu && s[i].addr == s[j].addr) return true;
  return false;
}

TEST(Mutator, MutatesTheSectionsAndSchedulesOf612Streams) {
  std::set<std::string> schedules;
  int with_sections = 0, raced = 0, changed_schedule = 0, mixed_sizes = 0, swapped = 0;
  const Stream racing = racing_612();
  for (unsigned seed = 0; seed < 2000; ++seed) {
    // From a stream with no section: the mutator opens some.
    {
      std::vector<uint8_t> buf = encode_binary(serial_612());
      size_t size = buf.size();
      buf.resize(1024);
      size = mutate_bytes(buf.data(), size, buf.size(), seed);
      const Stream s = decode_binary(std::span<const uint8_t>(buf.data(), size));
      ASSERT_EQ(encode_binary(s), std::vector<uint8_t>(buf.begin(), buf.begin() + long(size)))
          << format_stream(s);
      expect_well_formed(s, seed);
      with_sections += has_sections(s);
      raced += two_vcpus_at_one_address(s);
    }
    // From a racing one: its schedule changes, and faults of different sizes meet.
    Stream s = racing;
    std::mt19937_64 rng(seed);
    if (!mutate_sections(&s, rng, kMaxFuzzOps)) continue;
    expect_well_formed(s, seed);
    // What the engine stores decodes to the same sections and schedules, and stores again alike.
    const std::vector<uint8_t> bytes = encode_binary(s);
    const Stream decoded = decode_binary(bytes);
    ASSERT_EQ(encode_binary(decoded), bytes) << "seed " << seed;
    ASSERT_EQ(concurrent_sections(decoded).size(), concurrent_sections(s).size());
    for (const Section& sec : concurrent_sections(s))
      schedules.insert(sched::schedule_text(s[sec.begin].schedule));
    const auto sections = concurrent_sections(s);
    if (!sections.empty() && s[sections[0].begin].schedule != racing[2].schedule)
      ++changed_schedule;
    std::set<uint64_t> fault_sizes;
    for (const Op& op : s)
      if (op.vcpu != kSerial && op.kind == OpKind::Map) fault_sizes.insert(op.size);
    mixed_sizes += fault_sizes.size() > 1;
    // The two vCPUs traded their operations under the same schedule: the one preempted first
    // is now the other.
    swapped += s.size() == racing.size() && s[2].vcpu == 1 && s[3].vcpu == 0 &&
               s[2].schedule == racing[2].schedule && s[2].prot == racing[2].prot;
  }
  EXPECT_GE(with_sections, 50);
  EXPECT_GE(raced, 10);
  EXPECT_GE(changed_schedule, 100);
  EXPECT_GE(schedules.size(), 20u);
  EXPECT_GE(mixed_sizes, 5);
  EXPECT_GE(swapped, 20);
}

TEST(Mutator, NeverPutsOperationsOfOtherProfilesOnVcpus) {
  const Stream bases[] = {parse_text("init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never\n"
                                     "map 0x40000000 4K pa=0x80000000 prot=r mc=8\n"
                                     "relax_perms 0x40000000 prot=w\n"
                                     "mkyoung 0x40000000\n",
                                     "arm64-6.1"),
                          parse_text("init arch=x86-ept max_level=3 host_level=3\n"
                                     "fault 0x40200000 level=1 access=rw\n",
                                     "x86")};
  for (const Stream& base : bases) {
    Stream untouched = base;
    std::mt19937_64 rng0(1);
    EXPECT_FALSE(mutate_sections(&untouched, rng0, kMaxFuzzOps));
    EXPECT_EQ(untouched, base);
    std::vector<uint8_t> buf = encode_binary(base);
    size_t size = buf.size();
    buf.resize(1024);
    for (unsigned seed = 0; seed < 2000; ++seed) {
      size = mutate_bytes(buf.data(), size, buf.size(), seed);
      const Stream s = decode_binary(std::span<const uint8_t>(buf.data(), size));
      if (stream_profile(s) == ProfileId::Arm64Linux612) continue;  // a tweaked init's
      for (const Op& op : s) ASSERT_EQ(op.vcpu, kSerial) << "seed " << seed << format_stream(s);
    }
  }
}

// A crossover can splice a 6.1 or x86 stream's tail, init and all, behind a 6.12 stream's head.
// Section mutations there once drew operations forever, waiting for one that runs on a vCPU of
// a 6.1 table, and stalled the campaign's fuzz workers. Now they race only under a 6.12 init.
TEST(Mutator, RacesOnlyUnderA612InitOfAStreamThatChangesProfilePartWay) {
  for (const char* tail : {"init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never\n"
                           "map 0x40000000 4K pa=0x80000000 prot=r mc=8\n",
                           "init arch=x86-ept max_level=3 host_level=3\n"
                           "fault 0x40200000 level=1 access=rw\n"}) {
    // Spliced as a crossover does it: the text form would read the tail's init as 6.12's.
    Stream base = parse_text(
        "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never kernel=6.12\n"
        "map 0x40000000 4K pa=0x80000000 prot=r mc=8\n",
        "head");
    const Stream foreign = parse_text(tail, "tail");
    base.insert(base.end(), foreign.begin(), foreign.end());
    int inserted = 0;
    for (unsigned seed = 0; seed < 2000; ++seed) {
      Stream s = base;
      std::mt19937_64 rng(seed);
      mutate_sections(&s, rng, kMaxFuzzOps);
      size_t first_foreign_init = 0;
      for (size_t i = 1; i < s.size() && !first_foreign_init; ++i)
        if (s[i].kind == OpKind::Init && profile_id(s[i].config) != ProfileId::Arm64Linux612)
          first_foreign_init = i;
      ASSERT_NE(first_foreign_init, 0u) << format_stream(s);
      for (size_t i = first_foreign_init; i < s.size(); ++i)
        ASSERT_EQ(s[i].vcpu, kSerial) << "seed " << seed << "\n" << format_stream(s);
      inserted += s.size() > base.size();
    }
    EXPECT_GE(inserted, 100) << "sections still go where the table is 6.12's";
  }
}

}  // namespace
}  // namespace mmudiff
