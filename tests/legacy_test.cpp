// SPDX-License-Identifier: GPL-2.0-only
// Tests of the legacy backend: its self-check after every operation of random streams, the
// behaviour of its hash table, reverse maps and zap lists, and a differential run against the
// real kernel code (linux61) comparing return values, hardware effects and final tables.
#include <gtest/gtest.h>

#include "tests/sanitizer_scale.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/legacy/legacy_backend.h"
#include "mmu/ops/random_stream.h"
#include "tests/env_knob.h"
#include "tests/table_reader.h"

namespace mmudiff {
namespace {

using namespace arm64s2;
using legacy::LegacyBackend;

constexpr uint64_t kRW = prot::kR | prot::kW;
constexpr uint64_t kG = uint64_t{1} << 30;  // 1 GiB
constexpr uint64_t kM = uint64_t{1} << 20;

// How many random streams the bulk tests run; MMUDIFF_LEGACY_STREAMS overrides it.
size_t stream_count(size_t fallback) {
  return mmudiff::testing::env_u64("MMUDIFF_LEGACY_STREAMS",
                                   mmudiff::testing::sanitizer_scaled(fallback));
}

Op make_op(OpKind kind, uint64_t addr = 0, uint64_t size = 0, uint64_t phys = 0,
           uint64_t prot_bits = 0, int32_t memcache = kDefaultMemcache) {
  Op op;
  op.kind = kind;
  op.addr = addr;
  op.size = size;
  op.phys = phys;
  op.prot = prot_bits;
  op.memcache = memcache;
  return op;
}

std::string describe(const Op& op) {
  return fmt::format("{} addr={:#x} size={:#x} phys={:#x} prot={:#x} mc={} owner={} ia={}",
                     op_kind_name(op.kind), op.addr, op.size, op.phys, op.prot, op.memcache,
                     op.owner, op.config.arm64.ia_bits);
}

// ---------------------------------------------------------------------------------------------
// Table addresses differ between backends, so effects and tables are compared in terms of where
// an entry translates (level, IPA), which both agree on. The identity of every table page is
// learnt from the stores that install it, so even pages freed during an operation are named.

struct EntryPlace {
  unsigned level;
  uint64_t ipa;
};

class TablePages {
 public:
  void reset(const TableRoot& root) {
    pages_.clear();
    last_ = pages_.end();
    for (unsigned i = 0; i < root.pgd_pages; ++i)
      pages_[root.pgd_pa + i * kPageSize] = {root.start_level,
                                             i * granule_size(root.start_level) * kEntriesPerTable};
  }

  std::optional<EntryPlace> place_of(uint64_t entry_pa) {
    uint64_t page = entry_pa & ~(kPageSize - 1);
    // Stores come in runs on one page: look the page up once per run.
    if (last_ == pages_.end() || last_->first != page) last_ = pages_.find(page);
    if (last_ == pages_.end()) return std::nullopt;
    unsigned index = static_cast<unsigned>((entry_pa & (kPageSize - 1)) / 8);
    return EntryPlace{last_->second.level,
                      last_->second.ipa + index * granule_size(last_->second.level)};
  }

  // A table descriptor stored into a known entry names the page it points at.
  void learn(const Effect& e, const std::optional<EntryPlace>& place) {
    if (e.kind != EffectKind::Store || !place) return;
    if (classify(e.new_value, place->level) == DescriptorKind::Table) {
      pages_[output_address(e.new_value)] = {place->level + 1, place->ipa};
      last_ = pages_.end();
    }
  }

 private:
  std::unordered_map<uint64_t, EntryPlace> pages_;
  std::unordered_map<uint64_t, EntryPlace>::iterator last_ = pages_.end();
};

uint64_t mask_table_address(uint64_t desc, unsigned level) {
  return classify(desc, level) == DescriptorKind::Table ? desc & ~table_address_mask() : desc;
}

// An effect with every table address replaced by what it stands for: a store names the entry by
// (level, IPA) in `level` and `addr`, with table descriptors masked.
struct CanonicalEffect {
  Effect effect;
  bool placed = true;  // false: a store into a page no installed table descriptor named

  bool operator==(const CanonicalEffect&) const = default;
  std::string describe() const {
    const Effect& e = effect;
    if (e.kind != EffectKind::Store) return describe_effect(e);
    if (!placed) return fmt::format("store to unknown table page {:#x}", e.addr);
    return fmt::format("store L{} IPA {:#x}: {:#018x} -> {:#018x}", e.level, e.addr, e.old_value,
                       e.new_value);
  }
};

std::vector<CanonicalEffect> canonical_effects(const std::vector<Effect>& effects,
                                               TablePages& pages) {
  std::vector<CanonicalEffect> out;
  out.reserve(effects.size());
  for (const Effect& e : effects) {
    CanonicalEffect c{e};
    std::optional<EntryPlace> place;
    if (e.kind == EffectKind::Store) {
      place = pages.place_of(e.addr);
      c.placed = place.has_value();
      if (place) {
        c.effect.addr = place->ipa;
        c.effect.level = static_cast<uint8_t>(place->level);
        c.effect.old_value = mask_table_address(e.old_value, place->level);
        c.effect.new_value = mask_table_address(e.new_value, place->level);
      }
    }
    out.push_back(c);
    pages.learn(e, place);
  }
  return out;
}

// A table page (with its refcount) or a non-zero entry, named by level and IPA.
struct TableItem {
  bool page;
  unsigned level;
  uint64_t ipa;
  uint64_t value;  // refcount of a page, masked descriptor of an entry

  bool operator==(const TableItem&) const = default;
  std::string describe() const {
    if (page) return fmt::format("L{} table at IPA {:#x}, refcount {}", level, ipa, value);
    return fmt::format("L{} IPA {:#x}: {:#018x}", level, ipa, value);
  }
};

// Every table page and every non-zero entry reached from the root, in address order.
std::vector<TableItem> dump_tables(const Machine& machine, const TableRoot& root) {
  // The first item says how big the table is and how many pages are live in all.
  std::vector<TableItem> out{{true, root.start_level, root.pgd_pages, machine.memory.live_pages()}};
  mmudiff::testing::walk_tables(
      machine.memory, root,
      [&](const mmudiff::testing::TablePage& page) {
        out.push_back(
            {true, page.level, page.ipa,
             page.entries ? static_cast<uint64_t>(machine.memory.page_count(page.entries)) : 0});
      },
      [&](const mmudiff::testing::TableEntry& e) {
        out.push_back({false, e.level, e.ipa, mask_table_address(e.desc, e.level)});
      });
  return out;
}

template <class Item>
std::string first_difference(const std::vector<Item>& a, const std::vector<Item>& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return fmt::format("at #{} of {} vs {}:\n  reference: {}\n  legacy:    {}", i, a.size(), b.size(),
                     i < a.size() ? a[i].describe() : "(end)",
                     i < b.size() ? b[i].describe() : "(end)");
}

std::vector<std::string> fault_list(const SimMemory& memory) {
  std::vector<std::string> out;
  for (const MemoryFault& f : memory.faults())
    out.push_back(fmt::format("{}: {}", memory_fault_name(f.kind), f.detail));
  return out;
}

LegacyBackend& as_legacy(Backend& backend) {
  return dynamic_cast<LegacyBackend&>(backend);
}

// ---------------------------------------------------------------------------------------------
// The self-check after every operation.

TEST(LegacySelfCheck, HoldsAfterEveryOperationOfRandomStreams) {
  std::mt19937_64 rng(0x1e9acc);
  size_t streams = stream_count(500);
  for (size_t s = 0; s < streams; ++s) {
    Stream stream = random_stream(rng);
    Machine machine;
    auto backend = make_legacy_backend(machine, Plant::kNone);
    for (size_t i = 0; i < stream.size(); ++i) {
      apply_op(*backend, machine, stream[i]);
      std::vector<std::string> problems = as_legacy(*backend).self_check();
      for (const std::string& p : fault_list(machine.memory)) problems.push_back(p);
      ASSERT_TRUE(problems.empty())
          << "stream " << s << " op " << i << " " << describe(stream[i]) << "\n"
          << problems.front();
    }
    backend->destroy();
    EXPECT_EQ(machine.memory.live_pages(), 0u) << "stream " << s;
    EXPECT_EQ(machine.memory.check_freed_pages(), 0u) << "stream " << s;
    EXPECT_TRUE(as_legacy(*backend).mmu().hash().size() == 0 &&
                as_legacy(*backend).mmu().rmap().size() == 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Hash table, reverse maps and zap lists on hand-made cases.

class LegacyStructures : public ::testing::Test {
 protected:
  void SetUp() override {
    Arm64S2Config config;
    config.ia_bits = 40;  // start level 1, two root pages
    ASSERT_EQ(backend_->init(config), 0);
    machine_.effects.clear();
  }
  void TearDown() override {
    std::vector<std::string> problems = legacy().self_check();
    EXPECT_TRUE(problems.empty()) << problems.front();
    backend_->destroy();
    EXPECT_EQ(machine_.memory.live_pages(), 0u);
    EXPECT_TRUE(machine_.memory.faults().empty());
  }

  int run(const Op& op) { return apply_op(*backend_, machine_, op).ret; }
  LegacyBackend& legacy() { return as_legacy(*backend_); }
  const legacy::ShadowMmu& mmu() { return legacy().mmu(); }
  std::vector<Effect> take_effects() {
    std::vector<Effect> e = machine_.effects.events();
    machine_.effects.clear();
    return e;
  }

  Machine machine_;
  std::unique_ptr<Arm64S2Backend> backend_ = make_legacy_backend(machine_, Plant::kNone);
};

TEST_F(LegacyStructures, TablesAreFoundByBaseAndLevel) {
  ASSERT_EQ(run(make_op(OpKind::Map, 3 * kG + 5 * 2 * kM + 0x3000, kPageSize, 0x1000, kRW)), 0);
  EXPECT_EQ(mmu().hash().size(), 2u + 2u);  // two roots, one level-2 and one level-3 table
  EXPECT_NE(mmu().find_table(3 * kG, 2), nullptr);
  EXPECT_NE(mmu().find_table(3 * kG + 10 * kM, 3), nullptr);
  EXPECT_EQ(mmu().find_table(3 * kG + 12 * kM, 3), nullptr);
  const legacy::ShadowPage& leaf_table = mmu().deepest_table(3 * kG + 10 * kM + 0x3000);
  EXPECT_EQ(leaf_table.level(), 3u);
  EXPECT_EQ(leaf_table.parent, mmu().find_table(3 * kG, 2));
  EXPECT_EQ(leaf_table.parent_index, 5u);
  EXPECT_EQ(leaf_table.present, 1u);
}

TEST_F(LegacyStructures, BlockHasOneReverseMapEntryAndWrprotectChangesItWhole) {
  ASSERT_EQ(run(make_op(OpKind::Map, kG, 2 * kM, 0x8000'0000, kRW)), 0);
  ASSERT_EQ(mmu().rmap().size(), 1u);
  const legacy::LeafRef* leaf = mmu().rmap().find(kG);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(leaf->level(), 2u);
  take_effects();

  // A page-sized write-protect in the middle of the block takes the whole block's W away.
  ASSERT_EQ(run(make_op(OpKind::Wrprotect, kG + kM, kPageSize)), 0);
  std::vector<Effect> effects = take_effects();
  ASSERT_EQ(effects.size(), 1u);
  EXPECT_EQ(effects[0].kind, EffectKind::Store);
  EXPECT_EQ(effects[0].old_value & ~effects[0].new_value, kS2apW);
  EXPECT_EQ(mmu().rmap().find(kG), leaf);  // rewritten in place: the same reverse map
}

TEST_F(LegacyStructures, ReverseMapsVisitLeavesInAddressOrder) {
  // A block, then pages on either side of it, mapped out of order.
  ASSERT_EQ(run(make_op(OpKind::Map, kG + 2 * kM, 2 * kM, 0x4020'0000, kRW)), 0);
  ASSERT_EQ(run(make_op(OpKind::Map, kG + 4 * kM, kPageSize, 0x9000, kRW)), 0);
  ASSERT_EQ(run(make_op(OpKind::Map, kG + 2 * kM - kPageSize, kPageSize, 0x5000, kRW)), 0);
  ASSERT_EQ(mmu().rmap().size(), 3u);
  take_effects();
  ASSERT_EQ(run(make_op(OpKind::Wrprotect, kG, 8 * kM)), 0);
  std::vector<uint64_t> oas;
  for (const Effect& e : take_effects()) oas.push_back(output_address(e.new_value));
  EXPECT_EQ(oas, (std::vector<uint64_t>{0x5000, 0x4020'0000, 0x9000}));
}

TEST_F(LegacyStructures, PageInsideBlockBreaksItAndInstallsAnEmptyTable) {
  ASSERT_EQ(run(make_op(OpKind::Map, kG, 2 * kM, 0x8000'0000, kRW)), 0);
  take_effects();
  ASSERT_EQ(run(make_op(OpKind::Map, kG + 0x5000, kPageSize, 0x1234'5000, kRW)), 0);
  // The rest of the block is gone: only the new page is mapped.
  ASSERT_EQ(mmu().rmap().size(), 1u);
  EXPECT_NE(mmu().rmap().find(kG + 0x5000), nullptr);
  EXPECT_EQ(mmu().find_table(kG, 3)->present, 1u);
  std::vector<Effect> effects = take_effects();
  ASSERT_GE(effects.size(), 3u);
  EXPECT_EQ(effects[0].kind, EffectKind::Store);  // block -> 0
  EXPECT_EQ(effects[0].new_value, 0u);
  EXPECT_EQ(effects[1], (Effect{EffectKind::TlbiIpa, 2, Barrier::None, kG + 0x5000}));
}

TEST_F(LegacyStructures, PageInsideBlockNeedsAMemcache) {
  ASSERT_EQ(run(make_op(OpKind::Map, kG, 2 * kM, 0x8000'0000, kRW)), 0);
  take_effects();
  EXPECT_EQ(run(make_op(OpKind::Map, kG, kPageSize, 0x1000, kRW, kNoMemcache)), -ENOMEM);
  EXPECT_EQ(run(make_op(OpKind::Map, kG, kPageSize, 0x1000, kRW, 0)), -ENOMEM);
  EXPECT_EQ(mmu().rmap().size(), 1u);  // the block is untouched
}

TEST_F(LegacyStructures, BlockOverTableZapsTheSubtreeWithOneVmidFlush) {
  for (uint64_t off = 0; off < 2 * kM; off += 256 * 1024)
    ASSERT_EQ(run(make_op(OpKind::Map, kG + off, kPageSize, 0x10'0000 + off, kRW)), 0);
  size_t pages_before = machine_.memory.live_pages();
  ASSERT_NE(mmu().find_table(kG, 3), nullptr);
  take_effects();
  ASSERT_EQ(run(make_op(OpKind::Map, kG, 2 * kM, 0x4000'0000, kRW)), 0);
  EXPECT_EQ(mmu().find_table(kG, 3), nullptr);
  EXPECT_EQ(mmu().rmap().size(), 1u);
  EXPECT_EQ(machine_.memory.live_pages(), pages_before - 1);
  size_t vmid = 0, ipa = 0;
  for (const Effect& e : take_effects()) {
    vmid += e.kind == EffectKind::TlbiVmid;
    ipa += e.kind == EffectKind::TlbiIpa;
  }
  EXPECT_EQ(vmid, 1u);
  EXPECT_EQ(ipa, 0u);
}

TEST_F(LegacyStructures, UnmapFreesEmptyTablesInnermostFirst) {
  ASSERT_EQ(run(make_op(OpKind::Map, 5 * kG + 0x7000, kPageSize, 0x7000, kRW)), 0);
  take_effects();
  ASSERT_EQ(run(make_op(OpKind::Unmap, 5 * kG + 0x6000, 0x3000)), 0);
  std::vector<Effect> effects = take_effects();
  std::vector<std::pair<EffectKind, unsigned>> shape;
  for (const Effect& e : effects)
    shape.push_back({e.kind, e.kind == EffectKind::TlbiIpa ? e.level : 0});
  using K = EffectKind;
  // The page (TLBI at level 3, then the clean: normal memory, no FWB), then the level-3 table's
  // entry in the level-2 table, then the level-2 table's entry in the root (TLBIs at level 0).
  EXPECT_EQ(shape, (std::vector<std::pair<K, unsigned>>{{K::Store, 0},
                                                        {K::TlbiIpa, 3},
                                                        {K::DcacheCleanInval, 0},
                                                        {K::Store, 0},
                                                        {K::TlbiIpa, 0},
                                                        {K::Store, 0},
                                                        {K::TlbiIpa, 0}}));
  EXPECT_EQ(effects[4].addr, 5 * kG + 0x6000);  // where the walk entered that table
  EXPECT_EQ(mmu().hash().size(), 2u);
  EXPECT_EQ(machine_.memory.live_pages(), 2u);
}

TEST_F(LegacyStructures, SetOwnerKeepsAnnotationsOutOfTheReverseMaps) {
  Op op = make_op(OpKind::SetOwner, 2 * kG, 3 * kPageSize);
  op.owner = 1;
  ASSERT_EQ(run(op), 0);
  EXPECT_EQ(mmu().rmap().size(), 0u);
  EXPECT_EQ(mmu().find_table(2 * kG, 3)->present, 3u);
  op.owner = 0;
  ASSERT_EQ(run(op), 0);
  EXPECT_EQ(mmu().find_table(2 * kG, 3)->present, 0u);  // emptied, but still there
}

TEST_F(LegacyStructures, SelfCheckNoticesATableChangedBehindItsBack) {
  ASSERT_EQ(run(make_op(OpKind::Map, kG + 0x3000, kPageSize, 0x3000, kRW)), 0);
  const legacy::ShadowPage& table = mmu().deepest_table(kG + 0x3000);
  auto* entries = static_cast<uint64_t*>(machine_.memory.phys_to_virt(table.table_pa));
  uint64_t saved = entries[3];
  entries[3] = 0;  // the leaf vanishes without the reverse maps or the count knowing
  EXPECT_GE(legacy().self_check().size(), 2u);
  entries[3] = saved;
  entries[4] = saved;  // a leaf appears: uncounted, unmapped in reverse, at the wrong OA
  EXPECT_GE(legacy().self_check().size(), 2u);
  entries[4] = 0;
  EXPECT_TRUE(legacy().self_check().empty());
}

// ---------------------------------------------------------------------------------------------
// Differential: the real kernel code is right.

// Runs one stream through linux61 and legacy side by side and fails at the first divergence:
// return values, hardware effects (table addresses replaced by what the tables translate), tables
// with their refcounts, WARN_ONs, and memory faults.
void expect_same_as_linux61(const BackendInfo& reference, const Stream& stream,
                            const std::string& label) {
  Machine ref_machine, legacy_machine;
  auto ref = create_arm64(reference, ref_machine, Plant::kNone);
  auto leg = make_legacy_backend(legacy_machine, Plant::kNone);
  TablePages ref_pages, legacy_pages;
  for (size_t i = 0; i < stream.size(); ++i) {
    const Op& op = stream[i];
    auto where = [&] { return fmt::format("{} op {}: {}", label, i, describe(op)); };
    ref_machine.effects.clear();
    legacy_machine.effects.clear();
    OpResult want = apply_op(*ref, ref_machine, op);
    OpResult got = apply_op(*leg, legacy_machine, op);
    ASSERT_EQ(want, got) << where() << "\n ret " << want.ret << " vs " << got.ret << ", value "
                         << want.value << " vs " << got.value << ", level " << want.level << " vs "
                         << got.level;
    if (op.kind == OpKind::Init) {
      ref_pages.reset(ref->root());
      legacy_pages.reset(leg->root());
    }
    std::vector<CanonicalEffect> want_effects =
        canonical_effects(ref_machine.effects.events(), ref_pages);
    std::vector<CanonicalEffect> got_effects =
        canonical_effects(legacy_machine.effects.events(), legacy_pages);
    ASSERT_TRUE(want_effects == got_effects) << where() << "\n"
                                             << first_difference(want_effects, got_effects);
    // Tables change only through stores (refcounts along with them), init and destroy: compare
    // them then, and at the end of the stream.
    bool stored = std::any_of(want_effects.begin(), want_effects.end(),
                              [](const auto& c) { return c.effect.kind == EffectKind::Store; });
    if (stored || op.kind == OpKind::Init || op.kind == OpKind::Destroy || i + 1 == stream.size()) {
      std::vector<TableItem> want_tables = dump_tables(ref_machine, ref->root());
      std::vector<TableItem> got_tables = dump_tables(legacy_machine, leg->root());
      ASSERT_TRUE(want_tables == got_tables) << where() << "\n"
                                             << first_difference(want_tables, got_tables);
    }
    ASSERT_EQ(ref->take_warnings().size(), leg->take_warnings().size()) << where();
    std::vector<std::string> faults = fault_list(legacy_machine.memory);
    ASSERT_TRUE(faults.empty()) << where() << "\n" << faults[0];
    ASSERT_EQ(fault_list(ref_machine.memory).size(), 0u) << where();
  }
}

const BackendInfo* linux61() {
  return find_backend("linux61");
}

// MMUDIFF_LEGACY_SEED picks other streams for long runs.
uint64_t seed(uint64_t fallback) {
  return mmudiff::testing::env_u64("MMUDIFF_LEGACY_SEED", fallback);
}

TEST(LegacyDifferential, MatchesLinux61OnRandomStreams) {
  if (!linux61()) GTEST_SKIP() << "linux61 is not in this build";
  std::mt19937_64 rng(seed(0xd1ff));
  size_t streams = stream_count(2000);
  size_t ops = 0;
  for (size_t s = 0; s < streams; ++s) {
    Stream stream = random_stream(rng);
    ops += stream.size();
    ASSERT_NO_FATAL_FAILURE(
        expect_same_as_linux61(*linux61(), stream, fmt::format("stream {}", s)));
  }
  std::printf("%zu streams, %zu operations, no divergence\n", streams, ops);
}

// Long streams on one table build big, deep tables before they are torn down.
TEST(LegacyDifferential, MatchesLinux61OnLongStreams) {
  if (!linux61()) GTEST_SKIP() << "linux61 is not in this build";
  std::mt19937_64 rng(seed(0x1049) + 1);
  RandomStreamOptions options;
  options.min_ops = 256;
  options.max_ops = 512;
  options.allow_destroy = false;
  for (size_t s = 0; s < stream_count(2000) / 40; ++s) {
    Stream stream = random_stream(rng, options);
    ASSERT_NO_FATAL_FAILURE(
        expect_same_as_linux61(*linux61(), stream, fmt::format("stream {}", s)));
  }
}

// Before the first init and after destroy, the kernel's struct kvm_pgtable keeps whatever it had
// (nothing, or the last configuration): range checks use that IPA size, and the walk then finds no
// PGD (-EINVAL); mkyoung still issues its barrier, flush with FWB still returns early.
TEST(LegacyDifferential, MatchesLinux61WithoutATable) {
  if (!linux61()) GTEST_SKIP() << "linux61 is not in this build";
  std::mt19937_64 rng(seed(0x0dead) + 2);
  for (size_t s = 0; s < stream_count(2000) / 10; ++s) {
    Config config = random_config(rng);
    Stream stream;
    for (int i = 0; i < 8; ++i) stream.push_back(random_op(rng, config, false));
    Stream live = random_stream(rng);
    stream.insert(stream.end(), live.begin(), live.end());
    stream.push_back(make_op(OpKind::Destroy));
    for (int i = 0; i < 16; ++i) stream.push_back(random_op(rng, config, false));
    ASSERT_NO_FATAL_FAILURE(
        expect_same_as_linux61(*linux61(), stream, fmt::format("stream {}", s)));
  }
}

}  // namespace
}  // namespace mmudiff
