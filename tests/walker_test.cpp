// SPDX-License-Identifier: GPL-2.0-only
// The walker backend's own tests: the generic walk (order, visit kinds, cursor, errors, ranges),
// its geometry, and random-operation soaks. The soak's length comes from MMUDIFF_WALKER_SOAK_OPS
// (default 20000) so that the same test makes the long acceptance run:
//   MMUDIFF_WALKER_SOAK_OPS=1000000 walker_test --gtest_filter='WalkerSoak.*'
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/ops/random_stream.h"
#include "mmu/walker/page_table.h"
#include "mmu/walker/stage2.h"
#include "mmu/walker/walk.h"
#include "mmu/walker/walker_backend.h"
#include "tests/env_knob.h"
#include "tests/table_reader.h"

namespace mmudiff {

void PrintTo(const Effect& e, std::ostream* os) {
  *os << describe_effect(e);
}

namespace walker {
void PrintTo(Visit v, std::ostream* os) {
  *os << (v == Visit::Leaf ? "Leaf" : v == Visit::TablePre ? "TablePre" : "TablePost");
}
}  // namespace walker

namespace {

using walker::Pte;
using walker::Visit;
using walker::VisitedEntry;

constexpr uint64_t K4 = 0x1000;
constexpr uint64_t M2 = 0x20'0000;
constexpr uint64_t G1 = 0x4000'0000;
constexpr uint64_t G512 = uint64_t{1} << 39;
constexpr uint64_t kRW = arm64s2::prot::kR | arm64s2::prot::kW;

using testing::env_u64;

// ---- the generic walk -------------------------------------------------------------------------

struct Seen {
  Visit visit;
  uint64_t addr;
  unsigned level;
  bool operator==(const Seen&) const = default;
};
void PrintTo(const Seen& s, std::ostream* os) {
  *os << "{";
  walker::PrintTo(s.visit, os);
  *os << " " << std::hex << s.addr << std::dec << " L" << s.level << "}";
}

class Walk : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(walker::stage2_init(pgt_, config(40)), 0); }
  void TearDown() override {
    walker::stage2_destroy(pgt_);
    EXPECT_EQ(machine_.memory.live_pages(), 0u);
    EXPECT_TRUE(machine_.memory.faults().empty());
  }

  static Arm64S2Config config(uint8_t ia_bits) {
    Arm64S2Config c;
    c.ia_bits = ia_bits;
    return c;
  }

  void map(uint64_t addr, uint64_t size, uint64_t phys) {
    Memcache mc(machine_.memory, 16);
    ASSERT_EQ(walker::stage2_map(pgt_, addr, size, phys, kRW, &mc), 0);
  }

  // Walks and records every visit; the visitor fails with `fail_with` at visit number `fail_at`.
  int record(uint64_t addr, uint64_t size, walker::VisitSet visits, size_t fail_at = ~size_t{0},
             int fail_with = 0) {
    seen_.clear();
    return walker::walk(pgt_, addr, size, visits, [&](const VisitedEntry& e) {
      seen_.push_back({e.visit, e.addr, e.level});
      return seen_.size() - 1 == fail_at ? fail_with : 0;
    });
  }

  static constexpr walker::VisitSet kAll = Visit::Leaf | Visit::TablePre | Visit::TablePost;

  Machine machine_;
  walker::MmOps mm_{machine_.memory, machine_.effects};
  walker::Stage2Mmu mmu_{machine_.memory, machine_.effects};
  walker::Stage2PageTable pgt_{mm_, mmu_};
  std::vector<Seen> seen_;
};

TEST_F(Walk, VisitsTablesBeforeAndAfterTheirChildrenInAddressOrder) {
  map(M2 + K4, K4, 0x5000);  // level-2 table under L1[0], level-3 table under L2[1]
  ASSERT_EQ(record(0, M2 + 2 * K4, kAll), 0);
  EXPECT_EQ(seen_, (std::vector<Seen>{{Visit::TablePre, 0, 1},
                                      {Visit::Leaf, 0, 2},
                                      {Visit::TablePre, M2, 2},
                                      {Visit::Leaf, M2, 3},
                                      {Visit::Leaf, M2 + K4, 3},
                                      {Visit::TablePost, M2, 2},
                                      {Visit::TablePost, 0, 1}}));
}

TEST_F(Walk, MakesOnlyTheKindsOfVisitItIsAskedFor) {
  map(M2 + K4, K4, 0x5000);
  ASSERT_EQ(record(0, M2 + 2 * K4, Visit::Leaf), 0);
  EXPECT_EQ(seen_, (std::vector<Seen>{
                       {Visit::Leaf, 0, 2}, {Visit::Leaf, M2, 3}, {Visit::Leaf, M2 + K4, 3}}));
  ASSERT_EQ(record(0, M2 + 2 * K4, Visit::TablePost), 0);
  EXPECT_EQ(seen_, (std::vector<Seen>{{Visit::TablePost, M2, 2}, {Visit::TablePost, 0, 1}}));
  ASSERT_EQ(record(0, M2 + 2 * K4, Visit::TablePre), 0);
  EXPECT_EQ(seen_, (std::vector<Seen>{{Visit::TablePre, 0, 1}, {Visit::TablePre, M2, 2}}));
}

TEST_F(Walk, ShowsTheCursorRatherThanTheEntryStartWhenARangeBeginsInsideAnEntry) {
  map(M2, M2, M2);  // a block at L2[1]
  ASSERT_EQ(record(M2 + 0x1800, 1, kAll), 0);
  EXPECT_EQ(seen_, (std::vector<Seen>{{Visit::TablePre, M2 + K4, 1},
                                      {Visit::Leaf, M2 + K4, 2},
                                      {Visit::TablePost, M2 + K4, 1}}));
  // After a leaf the cursor moves to the next entry's start, whatever it was before.
  ASSERT_EQ(record(M2 + 0x1800, M2, Visit::Leaf), 0);
  EXPECT_EQ(seen_, (std::vector<Seen>{{Visit::Leaf, M2 + K4, 2}, {Visit::Leaf, 2 * M2, 2}}));
}

TEST_F(Walk, StopsAtTheFirstVisitorErrorAndReturnsIt) {
  map(M2 + K4, K4, 0x5000);
  EXPECT_EQ(record(0, M2 + 2 * K4, kAll, 3, -EIO), -EIO);
  EXPECT_EQ(seen_.size(), 4u) << "nothing after the failing visit, not even TablePost";
  // A TablePre error stops the walk before it descends.
  EXPECT_EQ(record(0, M2 + 2 * K4, kAll, 0, -EBUSY), -EBUSY);
  EXPECT_EQ(seen_.size(), 1u);
}

TEST_F(Walk, CrossesFromOneConcatenatedPgdPageToTheNext) {
  // 40 bits: two level-1 pages of 512 GiB each, walked as one.
  std::vector<Pte*> entries;
  ASSERT_EQ(walker::walk(pgt_, G512 - G1, 2 * G1, Visit::Leaf,
                         [&](const VisitedEntry& e) {
                           entries.push_back(e.ptep);
                           return 0;
                         }),
            0);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0], pgt_.pgd + 511);
  EXPECT_EQ(entries[1], pgt_.pgd + 512);
}

TEST_F(Walk, DescendsIntoATableThatALeafVisitorInstalled) {
  Memcache mc(machine_.memory, 1);
  ASSERT_EQ(walker::walk(pgt_, G1, 2 * M2, Visit::Leaf,
                         [&](const VisitedEntry& e) {
                           seen_.push_back({e.visit, e.addr, e.level});
                           if (e.level == 1) {
                             Pte* child = mm_.zalloc_page(&mc);
                             mmu_.write_pte(e.ptep,
                                            walker::make_table_pte(mm_.virt_to_phys(child), false));
                             mm_.get_page(e.ptep);
                           }
                           return 0;
                         }),
            0);
  EXPECT_EQ(seen_, (std::vector<Seen>{
                       {Visit::Leaf, G1, 1}, {Visit::Leaf, G1, 2}, {Visit::Leaf, G1 + M2, 2}}));
}

TEST_F(Walk, RefusesRangesBeyondTheIpaSizeBeforeVisitingAnything) {
  const uint64_t limit = uint64_t{1} << 40;
  EXPECT_EQ(record(limit - K4, 2 * K4, kAll), -ERANGE);
  EXPECT_EQ(record(limit + K4, 0, kAll), -ERANGE);
  EXPECT_TRUE(seen_.empty());
  EXPECT_EQ(record(limit - K4, K4, kAll), 0);
  EXPECT_EQ(seen_.size(), 1u);
  EXPECT_EQ(record(limit, 0, kAll), 0);
  EXPECT_TRUE(seen_.empty());
}

TEST_F(Walk, TreatsARangeWhoseEndWrapsAsEmpty) {
  EXPECT_EQ(record(0x10000, ~uint64_t{0} - 0x7fff, kAll), 0);
  EXPECT_TRUE(seen_.empty());
  EXPECT_EQ(record(0x10000, 0, kAll), 0);
  EXPECT_TRUE(seen_.empty());
}

TEST_F(Walk, FailsWithEinvalWhenTheTableDoesNotExist) {
  walker::stage2_destroy(pgt_);
  EXPECT_EQ(record(0, K4, kAll), -EINVAL);
  EXPECT_TRUE(seen_.empty());
}

TEST(WalkerGeometry, PgdPagesAgreeWithTheSharedFormatGeometry) {
  for (unsigned ia = arm64s2::kMinIaBits; ia <= arm64s2::kMaxIaBits; ++ia) {
    const arm64s2::Geometry g = arm64s2::geometry_for(ia);
    EXPECT_EQ(walker::pgd_pages(ia, g.start_level), g.pgd_pages) << ia;
  }
}

// ---- random-operation soaks -------------------------------------------------------------------

// Every reachable table page holds 1 + its non-zero entries, and every live page is reachable.
void check_refcounts(const Backend& backend, const SimMemory& memory, const std::string& where) {
  const std::vector<testing::TablePage> pages = testing::table_pages(memory, backend.root());
  for (const testing::TablePage& page : pages) {
    ASSERT_NE(page.entries, nullptr)
        << where << ": table page " << std::hex << page.pa << " is not live";
    ASSERT_EQ(memory.page_count(page.entries), 1 + static_cast<int>(page.non_zero_entries()))
        << where << ": table page " << std::hex << page.pa << std::dec << " at level "
        << page.level;
  }
  ASSERT_EQ(memory.live_pages(), pages.size()) << where << ": live pages no table reaches";
}

// Streams packed into a few GiB, with few distinct protections and physical addresses, so that
// operations keep landing on each other: permission-only remaps (-EAGAIN), break-before-make,
// blocks over tables, blocks broken by pages, owner annotations under maps. random_stream spreads
// wider; the soaks alternate between the two.
class DenseStreams {
 public:
  explicit DenseStreams(std::mt19937_64& rng) : rng_(rng) {}

  Stream next(size_t ops) {
    Stream s;
    Op init;
    init.kind = OpKind::Init;
    init.config = random_config(rng_);
    s.push_back(init);
    while (s.size() < ops) s.push_back(op(init.config.arm64));
    return s;
  }

 private:
  uint64_t pick(uint64_t n) { return n ? rng_() % n : 0; }

  uint64_t addr() {
    static constexpr uint64_t kGranules[] = {K4, M2, G1};
    const uint64_t g = kGranules[pick(3)];
    return pick(4 * G1 / g) * g + (pick(4) == 0 ? pick(8) * K4 : 0);
  }
  uint64_t size() {
    static constexpr uint64_t kSizes[] = {K4,      2 * K4, 8 * K4,  M2,     M2 + K4, 2 * M2,
                                          M2 - K4, G1,     G1 + M2, 2 * G1, 0,       K4 + 1};
    return kSizes[pick(std::size(kSizes))];
  }
  uint64_t phys(uint64_t a, const Arm64S2Config& c) {
    if (c.idmap || pick(2)) return a;
    switch (pick(6)) {
      case 0:
        return (uint64_t{1} << 48) + pick(2) * M2;  // not a valid PA
      case 1:
        return (uint64_t{1} << 48) - K4 * (1 + pick(2));
      default:
        return a + pick(4) * G1;
    }
  }
  uint64_t prot() {
    using namespace arm64s2::prot;
    static constexpr uint64_t kProts[] = {
        kR, kR | kW, kR | kW | kX, kR | kX, kR | kDevice, kR | kW | kDevice, 0};
    uint64_t p = kProts[pick(std::size(kProts))];
    if (pick(16) == 0) p |= pick(16) << 55;
    return p;
  }

  Op op(const Arm64S2Config& c) {
    static constexpr OpKind kKinds[] = {
        OpKind::Map,     OpKind::Map,      OpKind::Map,       OpKind::Map,        OpKind::Unmap,
        OpKind::Unmap,   OpKind::SetOwner, OpKind::Wrprotect, OpKind::RelaxPerms, OpKind::Mkold,
        OpKind::Mkyoung, OpKind::IsYoung,  OpKind::Flush,     OpKind::GetLeaf};
    Op op;
    op.kind = kKinds[pick(std::size(kKinds))];
    op.addr = addr();
    const OpShape shape = op_shape(op.kind);
    if (shape.size) op.size = size();
    if (shape.phys) op.phys = phys(op.addr, c);
    if (shape.prot) op.prot = op.kind == OpKind::RelaxPerms && pick(8) ? prot() & 7 : prot();
    if (shape.memcache) {
      const uint64_t m = pick(16);
      op.memcache = m == 0   ? kNoMemcache
                    : m == 1 ? static_cast<int32_t>(pick(3))
                             : kDefaultMemcache;
    }
    if (shape.owner) op.owner = static_cast<uint8_t>(pick(8) ? pick(2) : 2);
    return op;
  }

  std::mt19937_64& rng_;
};

struct SoakTally {
  size_t ops = 0;
  size_t streams = 0;
  size_t invariant_checks = 0;
  size_t peak_pages = 0;
  std::map<std::string, std::map<int, size_t>> returns;  // op kind -> return code -> count

  void print(std::ostream& os) const {
    os << ops << " ops in " << streams << " streams, " << invariant_checks
       << " refcount walks, peak " << peak_pages << " live table pages\n";
    for (const auto& [kind, codes] : returns) {
      os << "  " << kind << ":";
      for (const auto& [code, n] : codes) os << " " << code << "x" << n;
      os << "\n";
    }
  }
};

// Full refcount walks cost time in proportion to the table, so big tables are checked less often.
bool due_for_check(size_t op_index, size_t live_pages) {
  if (live_pages <= 64) return true;
  if (live_pages <= 1024) return op_index % 8 == 0;
  return op_index % 64 == 0;
}

TEST(WalkerSoak, RandomOperationsOnRandomConfigurationsNeverLeakMiscountOrFault) {
  const size_t target = env_u64("MMUDIFF_WALKER_SOAK_OPS", 20000);
  std::mt19937_64 rng(env_u64("MMUDIFF_WALKER_SOAK_SEED", 0x77a1c3e5));
  Machine machine;
  std::unique_ptr<Arm64S2Backend> backend = make_walker_backend(machine, Plant::kNone);
  SoakTally tally;
  RandomStreamOptions options;
  options.max_ops = 128;
  DenseStreams dense(rng);

  while (tally.ops < target) {
    const Stream stream = tally.streams % 2 ? dense.next(128) : random_stream(rng, options);
    const std::string where = "stream " + std::to_string(tally.streams);
    for (size_t i = 0; i < stream.size(); ++i) {
      const OpResult r = apply_op(*backend, machine, stream[i]);
      ++tally.ops;
      ++tally.returns[std::string(op_kind_name(stream[i].kind))][r.ret];
      machine.effects.clear();
      ASSERT_FALSE(machine.memory.bound_reached()) << where << " op " << i;
      if (due_for_check(i, machine.memory.live_pages())) {
        ++tally.invariant_checks;
        ASSERT_NO_FATAL_FAILURE(
            check_refcounts(*backend, machine.memory, where + " op " + std::to_string(i)));
      }
    }
    ASSERT_NO_FATAL_FAILURE(check_refcounts(*backend, machine.memory, where + " end"));
    tally.peak_pages = std::max(tally.peak_pages, machine.memory.peak_pages());
    backend->destroy();
    ASSERT_EQ(machine.memory.live_pages(), 0u) << where;
    ASSERT_EQ(machine.memory.check_freed_pages(), 0u) << where;
    for (const MemoryFault& f : machine.memory.faults()) {
      ADD_FAILURE() << where << ": " << memory_fault_name(f.kind) << ": " << f.detail;
    }
    ASSERT_TRUE(machine.memory.faults().empty());
    // The only WARN_ON a caller can reach is an identity-mapped table asked to map elsewhere.
    for (const std::string& w : backend->take_warnings()) {
      ASSERT_NE(w.find("identity"), std::string::npos) << where << ": " << w;
    }
    ++tally.streams;
  }
  tally.print(std::cout);
}

// Where the real kernel code is built in, the walker must match it exactly: every return value,
// every effect in order (table pages are allocated and freed in the same order, so even the
// descriptor addresses agree) and every table page bit for bit.
TEST(WalkerSoak, MatchesLinux61ExactlyOnRandomStreams) {
  const BackendInfo* linux61 = find_backend("linux61");
  if (!linux61) GTEST_SKIP() << "the linux61 backend is not in this build";
  const size_t target = env_u64("MMUDIFF_WALKER_DIFF_OPS", 20000);
  std::mt19937_64 rng(env_u64("MMUDIFF_WALKER_SOAK_SEED", 0x5eed1e55));
  Machine walker_machine, kernel_machine;
  std::unique_ptr<Arm64S2Backend> ours = make_walker_backend(walker_machine, Plant::kNone);
  auto theirs = create_arm64(*linux61, kernel_machine, Plant::kNone);
  RandomStreamOptions options;
  options.max_ops = 128;
  DenseStreams dense(rng);
  size_t ops = 0, streams = 0;

  while (ops < target) {
    const Stream stream = streams % 2 ? dense.next(128) : random_stream(rng, options);
    for (size_t i = 0; i < stream.size(); ++i, ++ops) {
      const std::string where = "stream " + std::to_string(streams) + " op " + std::to_string(i) +
                                " (" + std::string(op_kind_name(stream[i].kind)) + ")";
      ASSERT_EQ(apply_op(*ours, walker_machine, stream[i]),
                apply_op(*theirs, kernel_machine, stream[i]))
          << where;
      ASSERT_EQ(walker_machine.effects.events(), kernel_machine.effects.events()) << where;
      walker_machine.effects.clear();
      kernel_machine.effects.clear();
      ASSERT_EQ(walker_machine.memory.live_page_list(), kernel_machine.memory.live_page_list())
          << where;
    }
    for (uint64_t pa : walker_machine.memory.live_page_list()) {
      const uint64_t* a = walker_machine.memory.table_page(pa);
      const uint64_t* b = kernel_machine.memory.table_page(pa);
      ASSERT_TRUE(std::equal(a, a + arm64s2::kEntriesPerTable, b)) << "page " << std::hex << pa;
      ASSERT_EQ(walker_machine.memory.page_count(a), kernel_machine.memory.page_count(b));
    }
    ours->destroy();
    theirs->destroy();
    ASSERT_EQ(ours->take_warnings().size(), theirs->take_warnings().size());
    ++streams;
  }
  std::cout << ops << " ops in " << streams << " streams matched linux61 exactly\n";
}

}  // namespace
}  // namespace mmudiff
