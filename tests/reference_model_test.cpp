// SPDX-License-Identifier: GPL-2.0-only
// The reference model: one hand-written case per rule of Linux 6.1's stage-2 semantics, with the
// expected results and translations written out by hand, and a differential run of random
// streams through the model and a real backend (linux61 if built, else walker), comparing every
// operation's result and, after every operation, the translation, the tables and the page count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "oracles/arm64_reference_model.h"
#include "tests/env_knob.h"
#include "tests/table_reader.h"

namespace mmudiff {

// Readable failure messages.
void PrintTo(const Mapping& m, std::ostream* os) {
  *os << std::hex << "{ipa 0x" << m.ipa << " size 0x" << m.size << " pa 0x" << m.pa << " attrs 0x"
      << m.attrs << "}";
}
void PrintTo(const OwnerAnnotation& a, std::ostream* os) {
  *os << std::hex << "{ipa 0x" << a.ipa << " size 0x" << a.size << " desc 0x" << a.descriptor
      << "}";
}
void PrintTo(const OpResult& r, std::ostream* os) {
  *os << "{ret " << r.ret << " value 0x" << std::hex << r.value << std::dec << " level " << r.level
      << "}";
}
void PrintTo(const ModelTable& t, std::ostream* os) {
  *os << "{L" << t.level << " 0x" << std::hex << t.base << "}";
}

namespace {

constexpr uint64_t K4 = 0x1000, M2 = 0x200000, G1 = 0x40000000;

// Leaf attribute bits written out by hand (not computed from the constants under test):
//   MemAttr normal 0xf -> 0x3c, FWB normal 0x6 -> 0x18, device 0x1 -> 0x4; S2AP R 0x40, W 0x80;
//   SH inner 0x300; AF 0x400; XN bit 54 = 0x0040000000000000; software bits 55-58.
constexpr uint64_t kXN = 0x0040000000000000;
constexpr uint64_t kAttrRW = 0x7fc | kXN;         // normal, rw, not executable
constexpr uint64_t kAttrR = 0x77c | kXN;          // normal, r
constexpr uint64_t kAttrRWX = 0x7fc;              // normal, rwx
constexpr uint64_t kAttrRWFwb = 0x7d8 | kXN;      // FWB normal, rw
constexpr uint64_t kAttrDevRW = 0x7c4 | kXN;      // device, rw (same with and without FWB)
constexpr uint64_t kAttrNone = 0x73c | kXN;       // normal, no access
constexpr uint64_t kSw1010 = 0x0500000000000000;  // sw=0xa: bits 56 and 58

// A page descriptor is attrs | PA | 0b11, a block attrs | PA | 0b01.
constexpr uint64_t page_desc(uint64_t pa, uint64_t attrs) {
  return pa | attrs | 3;
}
constexpr uint64_t block_desc(uint64_t pa, uint64_t attrs) {
  return pa | attrs | 1;
}

// ---------------------------------------------------------------------------------------------
// Differential: the model against a real backend.

// The backend's table as the model sees things: leaves and annotations, and which tables exist.
// Test-local and deliberately simple (KVM's own reading of its descriptors): the architectural
// walker is the oracle's business.
struct Flat {
  Translation translation;
  std::vector<ModelTable> tables;
  std::vector<std::string> problems;
};

// Appends, merging with the last range where normalise() would (runs of pages are long).
void add(std::vector<Mapping>* v, const Mapping& m) {
  if (!v->empty()) {
    Mapping& last = v->back();
    if (last.ipa + last.size == m.ipa && last.pa + last.size == m.pa && last.attrs == m.attrs) {
      last.size += m.size;
      return;
    }
  }
  v->push_back(m);
}
void add(std::vector<OwnerAnnotation>* v, const OwnerAnnotation& a) {
  if (!v->empty()) {
    OwnerAnnotation& last = v->back();
    if (last.ipa + last.size == a.ipa && last.descriptor == a.descriptor) {
      last.size += a.size;
      return;
    }
  }
  v->push_back(a);
}

Flat flatten(const Backend& backend, const SimMemory& mem) {
  using namespace arm64s2;
  Flat out;
  testing::walk_tables(
      mem, backend.root(),
      [&](const testing::TablePage& page) {
        if (!page.entries) out.problems.push_back("table page is not live");
      },
      [&](const testing::TableEntry& e) {
        switch (e.kind) {
          case DescriptorKind::Table:
            out.tables.push_back({e.level + 1, e.ipa});
            break;
          case DescriptorKind::Block:
          case DescriptorKind::Page:
            add(&out.translation.mappings,
                {e.ipa, e.size, e.desc & kOaMask, e.desc & kTranslationAttrMask});
            break;
          case DescriptorKind::Invalid:
            add(&out.translation.annotations, {e.ipa, e.size, e.desc});
            break;
          case DescriptorKind::Reserved:
            out.problems.push_back("reserved descriptor");
            break;
        }
      });
  std::sort(out.tables.begin(), out.tables.end());
  normalise(&out.translation);
  return out;
}

const BackendInfo* reference_backend() {
  if (const char* name = std::getenv("MMUDIFF_MODEL_BACKEND")) return find_backend(name);
  if (const BackendInfo* b = find_backend("linux61")) return b;
  return find_backend("walker");
}

using testing::env_u64;

std::string first_difference(const Translation& got, const Translation& want) {
  std::ostringstream os;
  for (size_t i = 0; i < std::max(got.mappings.size(), want.mappings.size()); ++i) {
    if (i < got.mappings.size() && i < want.mappings.size() && got.mappings[i] == want.mappings[i])
      continue;
    os << "mapping " << i << ": backend ";
    if (i < got.mappings.size())
      PrintTo(got.mappings[i], &os);
    else
      os << "none";
    os << ", model ";
    if (i < want.mappings.size())
      PrintTo(want.mappings[i], &os);
    else
      os << "none";
    return os.str();
  }
  for (size_t i = 0; i < std::max(got.annotations.size(), want.annotations.size()); ++i) {
    if (i < got.annotations.size() && i < want.annotations.size() &&
        got.annotations[i] == want.annotations[i])
      continue;
    os << "annotation " << i << ": backend ";
    if (i < got.annotations.size())
      PrintTo(got.annotations[i], &os);
    else
      os << "none";
    os << ", model ";
    if (i < want.annotations.size())
      PrintTo(want.annotations[i], &os);
    else
      os << "none";
    return os.str();
  }
  return "equal";
}

// A smaller arena than the default keeps a Machine cheap to set up under ASan (its shadow is
// unpoisoned whole) and makes the page bound reachable by a random stream now and then.
constexpr size_t kDifferentialMaxPages = 1024;

// Streams per differential test; MMUDIFF_MODEL_STREAMS overrides, MMUDIFF_MODEL_SEED reseeds.
constexpr size_t kDefaultStreams = 3000;

// What the differential runs reached, so a quiet run can be told from one that tested little.
struct Coverage {
  std::map<std::pair<std::string_view, int>, size_t> results;  // (operation, return code)
  size_t leaves_by_level[arm64s2::kLevels] = {};               // after each operation
  size_t annotations = 0;
  size_t max_tables = 0;

  void note(const Op& op, const OpResult& r, const ReferenceModel& m) {
    ++results[{op_kind_name(op.kind), r.ret}];
    for (const auto& [ipa, leaf] : m.leaves()) {
      if (leaf.valid) {
        ++leaves_by_level[leaf.level];
      } else {
        ++annotations;
      }
    }
    max_tables = std::max(max_tables, m.tables().size());
  }
  std::string summary() const {
    std::ostringstream os;
    for (const auto& [key, n] : results) os << " " << key.first << "=" << key.second << ":" << n;
    os << "\n  leaf-ops L1:" << leaves_by_level[1] << " L2:" << leaves_by_level[2]
       << " L3:" << leaves_by_level[3] << " annotations:" << annotations
       << " max tables:" << max_tables;
    return os.str();
  }
};

// Runs one stream through the model and the backend; returns "" or what diverged first.
std::string differential(const BackendInfo& info, const Stream& stream,
                         Coverage* coverage = nullptr, size_t max_pages = kDifferentialMaxPages) {
  Machine machine(MemoryLimits{max_pages, 64});
  auto backend = create_arm64(info, machine, Plant::kNone);
  ReferenceModel model(machine.memory.limits().max_pages);
  for (size_t i = 0; i < stream.size(); ++i) {
    const Op& op = stream[i];
    const OpResult want = model.apply(op);
    const OpResult got = apply_op(*backend, machine, op);
    if (coverage) coverage->note(op, want, model);
    machine.effects.clear();  // not this oracle's business, and it grows
    std::ostringstream where;
    where << "op " << i << " (" << format_op(op) << ")";
    if (got != want) {
      std::ostringstream os;
      os << where.str() << ": result: backend ";
      PrintTo(got, &os);
      os << ", model ";
      PrintTo(want, &os);
      return os.str();
    }
    const Flat flat = flatten(*backend, machine.memory);
    if (!flat.problems.empty()) return where.str() + ": backend table: " + flat.problems.front();
    const Translation expected = model.translation();
    if (flat.translation != expected)
      return where.str() + ": translation: " + first_difference(flat.translation, expected);
    if (flat.tables != model.tables()) {
      std::ostringstream os;
      os << where.str() << ": tables: backend " << flat.tables.size() << ", model "
         << model.tables().size();
      for (size_t k = 0; k < std::max(flat.tables.size(), model.tables().size()); ++k) {
        if (k < flat.tables.size() && k < model.tables().size() &&
            flat.tables[k] == model.tables()[k])
          continue;
        os << "; first difference at " << k;
        if (k < flat.tables.size()) {
          os << " backend ";
          PrintTo(flat.tables[k], &os);
        }
        if (k < model.tables().size()) {
          os << " model ";
          PrintTo(model.tables()[k], &os);
        }
        break;
      }
      return os.str();
    }
    if (machine.memory.live_pages() != model.live_pages()) {
      std::ostringstream os;
      os << where.str() << ": live table pages: backend " << machine.memory.live_pages()
         << ", model " << model.live_pages();
      return os.str();
    }
  }
  backend->destroy();
  return "";
}

// The model as the hand-written cases use it. Every operation is also journalled, and when the
// case ends the journal is replayed through the real backend (linux61, else walker) with every
// result, translation, table and page count compared: so each case's hand-written expectations
// hold for the real code too, not only for the model.
class Model : public ReferenceModel {
 public:
  explicit Model(size_t max_pages = MemoryLimits{}.max_pages)
      : ReferenceModel(max_pages), max_pages_(max_pages) {}
  ~Model() {
    if (const BackendInfo* info = reference_backend()) {
      EXPECT_EQ(differential(*info, journal_, nullptr, max_pages_), "")
          << "against " << info->name << ":\n"
          << format_stream(journal_);
    }
  }
  OpResult apply(const Op& op) {
    journal_.push_back(op);
    return ReferenceModel::apply(op);
  }

 private:
  size_t max_pages_;
  Stream journal_;
};

std::vector<OpResult> run(Model& m, std::string_view text) {
  std::vector<OpResult> out;
  for (const Op& op : parse_text(text, "test")) out.push_back(m.apply(op));
  return out;
}
OpResult run1(Model& m, std::string_view line) {
  return run(m, line).back();
}
int ret(Model& m, std::string_view line) {
  return run1(m, line).ret;
}

OpResult leaf(Model& m, uint64_t addr) {
  Op op;
  op.kind = OpKind::GetLeaf;
  op.addr = addr;
  return m.apply(op);
}
OpResult res(int r, uint64_t value = 0, uint32_t level = 0) {
  return OpResult{r, value, level};
}

std::vector<Mapping> maps(const Model& m) {
  return m.translation().mappings;
}
std::vector<OwnerAnnotation> notes(const Model& m) {
  return m.translation().annotations;
}

// ---------------------------------------------------------------------------------------------
// init, geometry

TEST(ReferenceModel, InitGeometry) {
  Model m;
  EXPECT_EQ(ret(m, "init ia=40"), 0);
  EXPECT_TRUE(m.live());
  EXPECT_EQ(m.start_level(), 1u);  // 3 levels, two concatenated 512 GiB pages
  EXPECT_EQ(m.live_pages(), 2u);
  EXPECT_EQ(ret(m, "init ia=48"), 0);
  EXPECT_EQ(m.start_level(), 0u);
  EXPECT_EQ(m.live_pages(), 1u);
  EXPECT_EQ(ret(m, "init ia=32"), 0);
  EXPECT_EQ(m.start_level(), 2u);  // at least two levels: four pages of 1 GiB
  EXPECT_EQ(m.live_pages(), 4u);
  EXPECT_EQ(ret(m, "init ia=34"), 0);
  EXPECT_EQ(m.live_pages(), 16u);
  EXPECT_EQ(ret(m, "init ia=35"), 0);
  EXPECT_EQ(m.start_level(), 1u);
  EXPECT_EQ(m.live_pages(), 1u);
  EXPECT_EQ(m.translation(), Translation{});

  Op bad;
  bad.kind = OpKind::Init;
  bad.config.arm64.ia_bits = 31;
  EXPECT_EQ(m.apply(bad).ret, -EINVAL);
  EXPECT_FALSE(m.live());
  EXPECT_EQ(m.live_pages(), 0u);
}

TEST(ReferenceModel, InitReplacesAndDestroyEmpties) {
  Model m;
  run(m, "init ia=40\nmap 0x1000 4K pa=0x80000000 prot=rw");
  EXPECT_EQ(maps(m).size(), 1u);
  EXPECT_EQ(ret(m, "init ia=40"), 0);
  EXPECT_EQ(maps(m).size(), 0u);
  EXPECT_EQ(m.live_pages(), 2u);
  run(m, "map 0x1000 4K pa=0x80000000 prot=rw\ndestroy");
  EXPECT_FALSE(m.live());
  EXPECT_EQ(m.translation(), Translation{});
  EXPECT_EQ(m.live_pages(), 0u);
  // No table: a walk still checks its range against the old IPA size first (kvm_pgtable keeps
  // ia_bits), then finds no table.
  EXPECT_EQ(ret(m, "unmap 0x1000 4K"), -EINVAL);
  EXPECT_EQ(ret(m, "unmap 0x20000000000 4K"), -ERANGE);
}

// ---------------------------------------------------------------------------------------------
// map: tables, memcache, block choice

TEST(ReferenceModel, PageNeedsATableForEveryLevelFromTheMemcache) {
  Model m;
  run(m, "init ia=40");
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x80000000 prot=rw mc=none"), -ENOMEM);
  EXPECT_TRUE(m.tables().empty());
  // One page is not enough: the level-2 table is made and stays; the level-3 one fails.
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x80000000 prot=rw mc=1"), -ENOMEM);
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{2, 0}}));
  EXPECT_TRUE(maps(m).empty());
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x80000000 prot=rw mc=1"), 0);
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{2, 0}, {3, 0}}));
  EXPECT_EQ(m.live_pages(), 4u);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x1000, K4, 0x80000000, kAttrRW}}));

  EXPECT_EQ(leaf(m, 0x1abc), res(0, 0x00400000800007ff, 3));
  EXPECT_EQ(leaf(m, 0x2000), res(0, 0, 3));      // same level-3 table, empty entry
  EXPECT_EQ(leaf(m, 0x200000), res(0, 0, 2));    // no level-3 table there
  EXPECT_EQ(leaf(m, 0x40000000), res(0, 0, 1));  // no level-2 table there
}

TEST(ReferenceModel, PagesAt48BitsNeedThreeTables) {
  Model m;
  run(m, "init ia=48");
  EXPECT_EQ(ret(m, "map 0 4K pa=0 prot=r mc=2"), -ENOMEM);
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{1, 0}, {2, 0}}));
  EXPECT_EQ(ret(m, "map 0 4K pa=0 prot=r mc=1"), 0);
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{1, 0}, {2, 0}, {3, 0}}));
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0, K4, 0, kAttrR}}));
  // Level 0 cannot hold a block: even a 1 GiB map needs a level-1 table there.
  EXPECT_EQ(ret(m, "map 0x8000000000 1G pa=0x40000000 prot=r mc=none"), -ENOMEM);
  EXPECT_EQ(ret(m, "map 0x8000000000 1G pa=0x40000000 prot=r mc=1"), 0);
  EXPECT_EQ(leaf(m, 0x8000000000), res(0, block_desc(0x40000000, kAttrR), 1));
}

TEST(ReferenceModel, LargestAlignedBlockWins) {
  Model m;
  run(m, "init ia=40");
  // A 1 GiB block at level 1 needs no table at all.
  EXPECT_EQ(ret(m, "map 0x40000000 1G pa=0x80000000 prot=rw mc=none"), 0);
  EXPECT_EQ(leaf(m, 0x40000000), res(0, 0x00400000800007fd, 1));
  EXPECT_TRUE(m.tables().empty());

  // 1G + 2M + 4K from 0 with PA 1G: a 1 GiB block, a 2 MiB block, a page.
  EXPECT_EQ(ret(m, "map 0x80000000 0x40201000 pa=0x100000000 prot=rw mc=2"), 0);
  EXPECT_EQ(leaf(m, 0x80000000), res(0, block_desc(0x100000000, kAttrRW), 1));
  EXPECT_EQ(leaf(m, 0xc0000000), res(0, block_desc(0x140000000, kAttrRW), 2));
  EXPECT_EQ(leaf(m, 0xc0200000), res(0, page_desc(0x140200000, kAttrRW), 3));
  EXPECT_EQ(leaf(m, 0xc0201000), res(0, 0, 3));
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x40000000, G1, 0x80000000, kAttrRW},
                                           {0x80000000, 0x40201000, 0x100000000, kAttrRW}}));
}

TEST(ReferenceModel, BlockNeedsBothIpaAndPaAligned) {
  Model m;
  run(m, "init ia=40");
  // IPA aligned to 2 MiB, PA only to 4 KiB: 512 pages, one level-3 table.
  EXPECT_EQ(ret(m, "map 0x200000 2M pa=0x80001000 prot=rw mc=2"), 0);
  EXPECT_EQ(leaf(m, 0x200000), res(0, page_desc(0x80001000, kAttrRW), 3));
  EXPECT_EQ(leaf(m, 0x3ff000), res(0, page_desc(0x80200000, kAttrRW), 3));
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{2, 0}, {3, 0x200000}}));
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x80001000, kAttrRW}}));
  // The PA cursor follows the IPA cursor: from an unaligned start, pages until the 2 MiB
  // boundary, a block, then pages again.
  EXPECT_EQ(ret(m, "map 0x1001000 4M pa=0x1001000 prot=rw mc=8"), 0);
  EXPECT_EQ(leaf(m, 0x1001000).level, 3u);
  EXPECT_EQ(leaf(m, 0x1200000), res(0, block_desc(0x1200000, kAttrRW), 2));
  EXPECT_EQ(leaf(m, 0x1400000).level, 3u);
  EXPECT_EQ(leaf(m, 0x1401000), res(0, 0, 3));
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x80001000, kAttrRW},
                                           {0x1001000, 0x400000, 0x1001000, kAttrRW}}));
}

TEST(ReferenceModel, ForcePte) {
  Model m;
  run(m, "init ia=40 force_pte=always");
  EXPECT_EQ(ret(m, "map 0x200000 2M pa=0x200000 prot=rw mc=2"), 0);
  EXPECT_EQ(leaf(m, 0x200000).level, 3u);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x200000, kAttrRW}}));

  run(m, "init ia=40 force_pte=device");
  EXPECT_EQ(ret(m, "map 0x200000 2M pa=0x200000 prot=rwd mc=2"), 0);
  EXPECT_EQ(leaf(m, 0x200000), res(0, page_desc(0x200000, kAttrDevRW), 3));
  EXPECT_EQ(ret(m, "map 0x400000 2M pa=0x400000 prot=rw mc=none"), 0);
  EXPECT_EQ(leaf(m, 0x400000), res(0, block_desc(0x400000, kAttrRW), 2));
}

TEST(ReferenceModel, InvalidPhysWritesZeroAndFreezesThePaCursor) {
  Model m;
  run(m, "init ia=40");
  // PA >= 2^48: 0, nothing mapped, but the tables on the way were made.
  EXPECT_EQ(ret(m, "map 0 8K pa=0x1000000000000 prot=rw mc=2"), 0);
  EXPECT_TRUE(maps(m).empty());
  EXPECT_EQ(leaf(m, 0), res(0, 0, 3));
  // Crossing 2^48 mid-range: the first two pages map, the third is zero.
  EXPECT_EQ(ret(m, "map 0x10000 12K pa=0xffffffffe000 prot=rw mc=2"), 0);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x10000, 2 * K4, 0xffffffffe000, kAttrRW}}));
  EXPECT_EQ(leaf(m, 0x12000), res(0, 0, 3));
  // With an invalid PA only the IPA must be aligned: a 2 MiB "block" of nothing, no table made,
  // and it clears what was there.
  run(m, "map 0x400000 2M pa=0x400000 prot=rw mc=none");
  EXPECT_EQ(maps(m).size(), 2u);
  EXPECT_EQ(ret(m, "map 0x400000 2M pa=0x1000000001000 prot=rw mc=none"), 0);
  EXPECT_EQ(maps(m).size(), 1u);
  EXPECT_EQ(leaf(m, 0x400000), res(0, 0, 2));
  // Over a table that fits, the subtree is freed and a zero entry installed.
  const size_t pages = m.live_pages();
  EXPECT_EQ(ret(m, "map 0 2M pa=0x2000000000000 prot=rw mc=none"), 0);
  EXPECT_EQ(m.live_pages(), pages - 1);
  EXPECT_TRUE(maps(m).empty());
  EXPECT_EQ(leaf(m, 0), res(0, 0, 2));
}

TEST(ReferenceModel, PaIsAlignedDownToAPage) {
  Model m;
  run(m, "init ia=40");
  EXPECT_EQ(ret(m, "map 0x1234 4K pa=0x80000abc prot=rw mc=2"), 0);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x1000, K4, 0x80000000, kAttrRW}}));
}

// ---------------------------------------------------------------------------------------------
// map over existing entries

TEST(ReferenceModel, EagainWhenOnlyPermissionsDiffer) {
  Model m;
  run(m, "init ia=40\nmap 0x1000 4K pa=0x80000000 prot=rw");
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x80000000 prot=rw"), -EAGAIN);   // identical
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x80000000 prot=r"), -EAGAIN);    // W differs
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x80000000 prot=rwx"), -EAGAIN);  // XN differs
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x1000, K4, 0x80000000, kAttrRW}}));
  // Anything else is replaced.
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x80000000 prot=rw sw=10"), 0);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x1000, K4, 0x80000000, kAttrRW | kSw1010}}));
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x90000000 prot=rw sw=10"), 0);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x1000, K4, 0x90000000, kAttrRW | kSw1010}}));
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x90000000 prot=rwd"), 0);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x1000, K4, 0x90000000, kAttrDevRW}}));
  // An old leaf (AF clear) differs in AF: replaced, young again.
  run(m, "mkold 0x1000");
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x90000000 prot=rwd"), 0);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x1000, K4, 0x90000000, kAttrDevRW}}));
}

TEST(ReferenceModel, EagainAbortsTheWalkAndKeepsWhatWasDone) {
  Model m;
  run(m, "init ia=40\nmap 0x3000 4K pa=0x80001000 prot=rw");
  // Page 0x2000 is new and is mapped; page 0x3000 would change only W: -EAGAIN; 0x4000 is never
  // reached.
  EXPECT_EQ(ret(m, "map 0x2000 12K pa=0x80000000 prot=r"), -EAGAIN);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x2000, K4, 0x80000000, kAttrR},
                                           {0x3000, K4, 0x80001000, kAttrRW}}));
  EXPECT_EQ(leaf(m, 0x4000), res(0, 0, 3));
}

TEST(ReferenceModel, SmallerMapInsideABlockInstallsAnEmptyTable) {
  Model m;
  run(m, "init ia=40\nmap 0x200000 2M pa=0x400000 prot=rw mc=1");
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{2, 0}}));
  EXPECT_EQ(ret(m, "map 0x201000 4K pa=0x900000 prot=rw mc=none"), -ENOMEM);
  EXPECT_EQ(ret(m, "map 0x201000 4K pa=0x900000 prot=rw mc=0"), -ENOMEM);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x400000, kAttrRW}}));
  EXPECT_EQ(ret(m, "map 0x201000 4K pa=0x900000 prot=rw mc=1"), 0);
  // The rest of the block is gone, not split.
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x201000, K4, 0x900000, kAttrRW}}));
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{2, 0}, {3, 0x200000}}));
  EXPECT_EQ(leaf(m, 0x200000), res(0, 0, 3));
  // Even an identical mapping inside a block breaks it when it starts off the block's alignment.
  run(m, "map 0x400000 2M pa=0x600000 prot=rw");
  EXPECT_EQ(ret(m, "map 0x401000 4K pa=0x601000 prot=rw"), 0);
  EXPECT_EQ(leaf(m, 0x400000), res(0, 0, 3));
  EXPECT_EQ(leaf(m, 0x401000), res(0, page_desc(0x601000, kAttrRW), 3));
}

TEST(ReferenceModel, BlockOverATableFreesTheSubtree) {
  Model m;
  run(m, "init ia=40\nmap 0x200000 8K pa=0x800000 prot=rw");
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{2, 0}, {3, 0x200000}}));
  EXPECT_EQ(ret(m, "map 0x200000 2M pa=0x600000 prot=r mc=none"), 0);
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{2, 0}}));
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x600000, kAttrR}}));

  // Two levels of tables under a 1 GiB block.
  run(m, "map 0x40201000 4K pa=0x1000 prot=rw\nmap 0x40400000 2M pa=0x400000 prot=rw");
  EXPECT_EQ(m.tables().size(), 3u);
  EXPECT_EQ(ret(m, "map 0x40000000 1G pa=0xc0000000 prot=rwx mc=none"), 0);
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{2, 0}}));
  EXPECT_EQ(m.live_pages(), 3u);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x600000, kAttrR},
                                           {0x40000000, G1, 0xc0000000, kAttrRWX}}));
  // A table whose own level cannot fit the rest of the range is walked into, not replaced.
  run(m, "map 0x201000 4K pa=0x1000 prot=rw");
  EXPECT_EQ(ret(m, "map 0x200000 4K pa=0x7000 prot=rw mc=none"), 0);
  EXPECT_EQ(maps(m)[0], (Mapping{0x200000, K4, 0x7000, kAttrRW}));
  EXPECT_EQ(maps(m)[1], (Mapping{0x201000, K4, 0x1000, kAttrRW}));
}

// ---------------------------------------------------------------------------------------------
// attributes

TEST(ReferenceModel, AttributeEncoding) {
  Model m;
  run(m, "init ia=40");
  run(m, "map 0 2M pa=0 prot=rw\nmap 0x200000 2M pa=0 prot=r\nmap 0x400000 2M pa=0 prot=rwx");
  run(m, "map 0x600000 2M pa=0 prot=rwd\nmap 0x800000 2M pa=0 prot=- sw=10");
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0, M2, 0, kAttrRW},
                                           {0x200000, M2, 0, kAttrR},
                                           {0x400000, M2, 0, kAttrRWX},
                                           {0x600000, M2, 0, kAttrDevRW},
                                           {0x800000, M2, 0, kAttrNone | kSw1010}}));
  // Device and executable: -EINVAL before anything is looked at, even the range.
  EXPECT_EQ(ret(m, "map 0xa00000 2M pa=0 prot=xd"), -EINVAL);
  EXPECT_EQ(ret(m, "map 0x100000000000 2M pa=0 prot=xd"), -EINVAL);
  EXPECT_EQ(maps(m).size(), 5u);

  run(m, "init ia=40 fwb=1\nmap 0 2M pa=0 prot=rw\nmap 0x200000 2M pa=0 prot=rwd");
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0, M2, 0, kAttrRWFwb}, {0x200000, M2, 0, kAttrDevRW}}));
  // KVM_PGTABLE_S2_NOFWB turns the FWB encoding off again.
  run(m, "init ia=40 fwb=1 nofwb=1\nmap 0 2M pa=0 prot=rw");
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0, M2, 0, kAttrRW}}));
}

TEST(ReferenceModel, IdmapRequiresAddrEqualsPhys) {
  Model m;
  run(m, "init ia=40 idmap=1");
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x2000 prot=rw"), -EINVAL);
  EXPECT_TRUE(m.tables().empty());
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x1000 prot=rw"), 0);
  // The raw values are compared, before any alignment.
  EXPECT_EQ(ret(m, "map 0x3001 4K pa=0x3000 prot=rw"), -EINVAL);
  EXPECT_EQ(ret(m, "map 0x3001 4K pa=0x3001 prot=rw"), 0);
  EXPECT_EQ(maps(m),
            (std::vector<Mapping>{{0x1000, K4, 0x1000, kAttrRW}, {0x3000, K4, 0x3000, kAttrRW}}));
}

// ---------------------------------------------------------------------------------------------
// relax_perms, wrprotect, mkyoung, mkold, is_young

TEST(ReferenceModel, RelaxPermsOnlyAdds) {
  Model m;
  run(m, "init ia=40\nmap 0x200000 2M pa=0x400000 prot=- mc=1");
  EXPECT_EQ(ret(m, "relax_perms 0x300000 prot=r"), 0);  // anywhere in the block: all of it
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x400000, kAttrR}}));
  EXPECT_EQ(ret(m, "relax_perms 0x200000 prot=w"), 0);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x400000, kAttrRW}}));
  EXPECT_EQ(ret(m, "relax_perms 0x200000 prot=-"), 0);  // removes nothing
  EXPECT_EQ(ret(m, "relax_perms 0x200000 prot=d"), 0);  // device is not a permission
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x400000, kAttrRW}}));
  EXPECT_EQ(ret(m, "relax_perms 0x200000 prot=x"), 0);  // clears XN
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x400000, kAttrRWX}}));
  EXPECT_EQ(ret(m, "relax_perms 0x200000 prot=r sw=1"), -EINVAL);
  EXPECT_EQ(ret(m, "relax_perms 0x800000 prot=rwx"), 0);  // nothing mapped: still 0
  EXPECT_EQ(ret(m, "relax_perms 0x10000000000 prot=r"), -ERANGE);
}

TEST(ReferenceModel, WrprotectClearsWOnWholeLeaves) {
  Model m;
  run(m, "init ia=40\nmap 0x200000 2M pa=0x400000 prot=rw\nmap 0x400000 8K pa=0x1000 prot=rwx");
  run(m, "set_owner 0x402000 4K owner=1");
  EXPECT_EQ(ret(m, "wrprotect 0x3ff000 0x2000"), 0);  // last page of the block, first page
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x400000, kAttrR},
                                           {0x400000, K4, 0x1000, 0x77c},
                                           {0x401000, K4, 0x2000, 0x7fc}}));
  EXPECT_EQ(ret(m, "wrprotect 0 1G"), 0);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x400000, kAttrR},
                                           {0x400000, 2 * K4, 0x1000, 0x77c}}));
  EXPECT_EQ(notes(m), (std::vector<OwnerAnnotation>{{0x402000, K4, 4}}));  // untouched
  EXPECT_EQ(ret(m, "wrprotect 0x10000000000 4K"), -ERANGE);
}

TEST(ReferenceModel, AccessFlag) {
  Model m;
  run(m, "init ia=40\nmap 0x200000 2M pa=0x400000 prot=rw");
  const uint64_t young = block_desc(0x400000, kAttrRW);
  const uint64_t old = young & ~uint64_t{0x400};
  EXPECT_EQ(run1(m, "is_young 0x300000"), res(1));
  EXPECT_EQ(run1(m, "mkold 0x3ff123"), res(0, young));  // returns the descriptor before
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x400000, kAttrRW & ~uint64_t{0x400}}}));
  EXPECT_EQ(run1(m, "is_young 0x200000"), res(0));
  EXPECT_EQ(run1(m, "mkold 0x200000"), res(0, old));
  EXPECT_EQ(run1(m, "mkyoung 0x200000"), res(0, old));
  EXPECT_EQ(run1(m, "mkyoung 0x200000"), res(0, young));
  EXPECT_EQ(run1(m, "is_young 0x200000"), res(1));
  // Nothing mapped, or out of range: 0.
  EXPECT_EQ(run1(m, "mkyoung 0x800000"), res(0));
  EXPECT_EQ(run1(m, "mkold 0x800000"), res(0));
  EXPECT_EQ(run1(m, "is_young 0x800000"), res(0));
  EXPECT_EQ(run1(m, "mkyoung 0x10000000000"), res(0));
  // An annotation is not a valid leaf.
  run(m, "set_owner 0x1000 4K owner=1");
  EXPECT_EQ(run1(m, "mkold 0x1000"), res(0));
  EXPECT_EQ(notes(m), (std::vector<OwnerAnnotation>{{0x1000, K4, 4}}));
}

// ---------------------------------------------------------------------------------------------
// set_owner

TEST(ReferenceModel, SetOwner) {
  Model m;
  run(m, "init ia=40");
  EXPECT_EQ(ret(m, "set_owner 0 8K owner=2"), -EINVAL);
  EXPECT_EQ(ret(m, "set_owner 0 8K owner=1 mc=none"), -ENOMEM);  // pages only: needs tables
  EXPECT_EQ(ret(m, "set_owner 0 8K owner=1"), 0);
  EXPECT_TRUE(maps(m).empty());
  EXPECT_EQ(notes(m), (std::vector<OwnerAnnotation>{{0, 2 * K4, 4}}));
  EXPECT_EQ(leaf(m, 0x1000), res(0, 4, 3));
  // Owner 0 writes zero descriptors and leaves the tables.
  EXPECT_EQ(ret(m, "set_owner 0x1000 4K owner=0 mc=none"), 0);
  EXPECT_EQ(notes(m), (std::vector<OwnerAnnotation>{{0, K4, 4}}));
  EXPECT_EQ(ret(m, "set_owner 0 4K owner=0 mc=none"), 0);
  EXPECT_TRUE(notes(m).empty());
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{2, 0}, {3, 0}}));
  // Even owner 0 makes tables where there are none.
  EXPECT_EQ(ret(m, "set_owner 0x40000000 4K owner=0 mc=none"), -ENOMEM);
  EXPECT_EQ(ret(m, "set_owner 0x40000000 4K owner=0"), 0);
  EXPECT_EQ(m.tables().size(), 4u);
  // Over a valid page: replaced by the annotation. Over a block: the block is broken (dropped).
  run(m, "map 0x5000 4K pa=0x5000 prot=rw\nmap 0x200000 2M pa=0x200000 prot=rw");
  EXPECT_EQ(ret(m, "set_owner 0x5000 4K owner=1"), 0);
  EXPECT_EQ(ret(m, "set_owner 0x3ff000 4K owner=1 mc=none"), -ENOMEM);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x200000, M2, 0x200000, kAttrRW}}));
  EXPECT_EQ(ret(m, "set_owner 0x3ff000 4K owner=1"), 0);
  EXPECT_TRUE(maps(m).empty());
  EXPECT_EQ(notes(m), (std::vector<OwnerAnnotation>{{0x5000, K4, 4}, {0x3ff000, K4, 4}}));
}

// ---------------------------------------------------------------------------------------------
// unmap

TEST(ReferenceModel, UnmapDropsWholeLeaves) {
  Model m;
  run(m, "init ia=40\nmap 0x200000 2M pa=0x400000 prot=rw\nmap 0x400000 16K pa=0x1000 prot=rw");
  // One page inside the block drops the block; a range touching two pages drops both.
  EXPECT_EQ(ret(m, "unmap 0x300000 4K"), 0);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x400000, 4 * K4, 0x1000, kAttrRW}}));
  EXPECT_EQ(ret(m, "unmap 0x401fff 2"), 0);  // start rounds down to 0x401000; end 0x402000
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0x400000, K4, 0x1000, kAttrRW},
                                           {0x402000, 2 * K4, 0x3000, kAttrRW}}));
}

TEST(ReferenceModel, UnmapFreesTablesThatBecomeEmpty) {
  Model m;
  run(m, "init ia=40\nmap 0x1000 8K pa=0x1000 prot=rw");
  EXPECT_EQ(m.live_pages(), 4u);
  EXPECT_EQ(ret(m, "unmap 0x1000 4K"), 0);  // the table still holds 0x2000
  EXPECT_EQ(m.live_pages(), 4u);
  EXPECT_EQ(ret(m, "unmap 0x2000 4K"), 0);  // level 3 empties, then level 2
  EXPECT_EQ(m.live_pages(), 2u);
  EXPECT_TRUE(m.tables().empty());

  // Tables left empty by a failed map are freed by an unmap that touches them, and only then.
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0x1000 prot=rw mc=1"), -ENOMEM);
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{2, 0}}));
  EXPECT_EQ(ret(m, "unmap 0x40000000 4K"), 0);
  EXPECT_EQ(m.tables(), (std::vector<ModelTable>{{2, 0}}));
  EXPECT_EQ(ret(m, "unmap 0x3ff000 4K"), 0);
  EXPECT_TRUE(m.tables().empty());

  // Annotations are zeroed, and their tables freed; set_owner 0 tables likewise.
  run(m, "set_owner 0x1000 4K owner=1\nset_owner 0x40000000 4K owner=0");
  EXPECT_EQ(m.tables().size(), 4u);
  EXPECT_EQ(ret(m, "unmap 0 2G"), 0);
  EXPECT_TRUE(notes(m).empty());
  EXPECT_TRUE(m.tables().empty());
}

// ---------------------------------------------------------------------------------------------
// ranges

TEST(ReferenceModel, RangeChecks) {
  Model m;
  run(m, "init ia=32");  // limit 4 GiB
  EXPECT_EQ(ret(m, "map 0xfffff000 4K pa=0 prot=r"), 0);
  EXPECT_EQ(ret(m, "map 0x100000000 0 pa=0 prot=r"), 0);  // start = end = limit: empty
  EXPECT_EQ(ret(m, "map 0x100000000 1 pa=0 prot=r"), -ERANGE);
  EXPECT_EQ(ret(m, "map 0xfffff000 8K pa=0 prot=r"), -ERANGE);  // end beyond the limit
  EXPECT_EQ(ret(m, "unmap 0x100001000 0"), -ERANGE);
  EXPECT_EQ(run1(m, "get_leaf 0x100000000").ret, -ERANGE);
  EXPECT_EQ(ret(m, "set_owner 0x100000000 4K owner=1"), -ERANGE);
  EXPECT_EQ(maps(m), (std::vector<Mapping>{{0xfffff000, K4, 0, kAttrR}}));

  // A range that runs off the top of the address space wraps: its end is below its start, so it
  // is empty and not an error.
  EXPECT_EQ(ret(m, "unmap 0xfffff000 0xfffffffffffff000"), 0);
  EXPECT_EQ(ret(m, "unmap 0xfffff000 0xffffffffffffffff"), 0);
  EXPECT_EQ(maps(m).size(), 1u);
  // ...unless the wrapped end still lies beyond the limit.
  EXPECT_EQ(ret(m, "unmap 0x1000 0xffffffff00000000"), -ERANGE);
  EXPECT_EQ(ret(m, "unmap 0 0x100000000"), 0);
  EXPECT_TRUE(maps(m).empty());
}

TEST(ReferenceModel, Flush) {
  Model m;
  run(m, "init ia=40\nmap 0 2M pa=0 prot=rw");
  EXPECT_EQ(ret(m, "flush 0 1G"), 0);
  EXPECT_EQ(ret(m, "flush 0x10000000000 4K"), -ERANGE);
  run(m, "init ia=40 fwb=1");
  EXPECT_EQ(ret(m, "flush 0x10000000000 4K"), 0);  // FWB: returns before the walk
  EXPECT_EQ(maps(m).size(), 0u);
}

TEST(ReferenceModel, NeverMappedAddresses) {
  Model m;
  run(m, "init ia=40");
  EXPECT_EQ(ret(m, "unmap 0x1000 1G"), 0);
  EXPECT_EQ(ret(m, "wrprotect 0x1000 1G"), 0);
  EXPECT_EQ(run1(m, "mkyoung 0x1000"), res(0));
  EXPECT_EQ(run1(m, "mkold 0x1000"), res(0));
  EXPECT_EQ(run1(m, "is_young 0x1000"), res(0));
  EXPECT_EQ(ret(m, "relax_perms 0x1000 prot=rwx"), 0);
  EXPECT_EQ(run1(m, "get_leaf 0x1000"), res(0, 0, 1));
  EXPECT_EQ(ret(m, "flush 0x1000 1G"), 0);
  EXPECT_EQ(m.translation(), Translation{});
  EXPECT_EQ(m.live_pages(), 2u);
}

TEST(ReferenceModel, MemoryBoundIsEnomem) {
  Model m(/*max_pages=*/3);
  run(m, "init ia=40");  // two start-level pages
  EXPECT_EQ(ret(m, "map 0x1000 4K pa=0 prot=r"), -ENOMEM);
  EXPECT_EQ(m.live_pages(), 3u);
}

TEST(ReferenceModelDifferential, RandomStreams) {
  const BackendInfo* info = reference_backend();
  if (!info) GTEST_SKIP() << "neither linux61 nor walker is built";
  const size_t streams = env_u64("MMUDIFF_MODEL_STREAMS", kDefaultStreams);
  const uint64_t seed = env_u64("MMUDIFF_MODEL_SEED", 0x5eed);
  std::mt19937_64 rng(seed);
  size_t ops = 0, failures = 0;
  Coverage coverage;
  for (size_t s = 0; s < streams; ++s) {
    const Stream stream = random_stream(rng);
    ops += stream.size();
    const std::string diff = differential(*info, stream, &coverage);
    if (diff.empty()) continue;
    ADD_FAILURE() << "stream " << s << " (seed " << seed << ") against " << info->name << ": "
                  << diff << "\n"
                  << format_stream(stream);
    if (++failures >= 3) break;
  }
  std::printf("[ model ] %zu streams, %zu operations against %.*s\n  results:%s\n", streams, ops,
              static_cast<int>(info->name.size()), info->name.data(), coverage.summary().c_str());
}

// random_stream spreads operations over whole 1 GiB windows, so operations on one address
// (mkyoung, is_young, relax_perms) rarely find a leaf, and a map rarely meets one it would only
// change the permissions of. These streams stay in an 8 MiB window across a 2 MiB and sometimes a
// 1 GiB boundary, keep PA = IPA + a fixed offset, and reuse it, so every rule meets every other.
Stream dense_stream(std::mt19937_64& rng) {
  auto pick = [&](uint64_t n) { return n ? rng() % n : 0; };
  Stream s;
  Op init;
  init.kind = OpKind::Init;
  init.config = random_config(rng);
  if (pick(2)) init.config.arm64.idmap = false;
  s.push_back(init);
  const Arm64S2Config& c = init.config.arm64;
  const uint64_t limit = uint64_t{1} << c.ia_bits;
  static constexpr uint64_t kWindow = 8 * M2 / 2;  // 8 MiB
  const uint64_t bases[] = {0, G1 - kWindow / 2, limit - kWindow, 5 * G1 + 3 * M2};
  const uint64_t base = bases[pick(4)] % limit;
  const uint64_t offsets[] = {0, G1, 64 * G1, 3 * M2};
  const uint64_t offset = offsets[pick(4)];
  auto addr = [&]() {
    uint64_t a = base + pick(kWindow / K4) * K4;
    if (pick(3) == 0) a &= ~(M2 - 1);
    return a;
  };
  const size_t n = 8 + pick(56);
  while (s.size() < n) {
    Op op;
    const uint64_t r = pick(100);
    op.kind = r < 35   ? OpKind::Map
              : r < 45 ? OpKind::Unmap
              : r < 52 ? OpKind::SetOwner
              : r < 58 ? OpKind::Wrprotect
              : r < 63 ? OpKind::Mkyoung
              : r < 68 ? OpKind::Mkold
              : r < 73 ? OpKind::IsYoung
              : r < 83 ? OpKind::RelaxPerms
              : r < 95 ? OpKind::GetLeaf
              : r < 98 ? OpKind::Flush
                       : OpKind::Init;
    if (op.kind == OpKind::Init) {
      op.config = init.config;  // a fresh table, same configuration
      s.push_back(op);
      continue;
    }
    op.addr = addr();
    static constexpr uint64_t kSizes[] = {K4, 2 * K4, 5 * K4, M2, M2 + K4, M2 - K4, 2 * M2, 0};
    op.size = pick(20) == 0 ? G1 : kSizes[pick(8)];
    switch (pick(10)) {
      case 0:
        op.phys = (uint64_t{1} << 48) - pick(4) * K4;
        break;  // runs into 2^48
      case 1:
        op.phys = op.addr + K4;
        break;  // misaligned for blocks
      default:
        op.phys = op.addr + offset;
        break;
    }
    if (c.idmap) op.phys = op.addr;
    op.prot = pick(8);  // X W R, no device+X most of the time
    if (pick(10) == 0) op.prot |= arm64s2::prot::kDevice;
    if (pick(10) == 0) op.prot |= pick(16) << 55;
    if (op.kind == OpKind::RelaxPerms && pick(4)) op.prot &= ~arm64s2::prot::kSwMask;
    static constexpr int32_t kMemcaches[] = {kNoMemcache, 0, 1, 2};
    op.memcache = pick(4) == 0 ? kMemcaches[pick(4)] : kDefaultMemcache;
    op.owner = static_cast<uint8_t>(pick(10) == 0 ? 2 : pick(2));
    s.push_back(canonical(op));
  }
  return s;
}

TEST(ReferenceModelDifferential, DenseStreams) {
  const BackendInfo* info = reference_backend();
  if (!info) GTEST_SKIP() << "neither linux61 nor walker is built";
  const size_t streams = env_u64("MMUDIFF_MODEL_STREAMS", kDefaultStreams);
  const uint64_t seed = env_u64("MMUDIFF_MODEL_SEED", 0x5eed) + 1;
  std::mt19937_64 rng(seed);
  size_t ops = 0, failures = 0;
  Coverage coverage;
  for (size_t s = 0; s < streams; ++s) {
    const Stream stream = dense_stream(rng);
    ops += stream.size();
    const std::string diff = differential(*info, stream, &coverage);
    if (diff.empty()) continue;
    ADD_FAILURE() << "dense stream " << s << " (seed " << seed << ") against " << info->name << ": "
                  << diff << "\n"
                  << format_stream(stream);
    if (++failures >= 3) break;
  }
  std::printf("[ model ] %zu dense streams, %zu operations against %.*s\n  results:%s\n", streams,
              ops, static_cast<int>(info->name.size()), info->name.data(),
              coverage.summary().c_str());
}

// The hand-written rules, replayed through the backend too: a sanity check that the cases above
// describe the real code and not only the model.
TEST(ReferenceModelDifferential, SemanticsStreams) {
  const BackendInfo* info = reference_backend();
  if (!info) GTEST_SKIP() << "neither linux61 nor walker is built";
  const char* streams[] = {
      "init ia=40\nmap 0x200000 2M pa=0x400000 prot=rw mc=1\nmap 0x201000 4K pa=0x900000 "
      "prot=rw mc=1\nget_leaf 0x200000\nunmap 0x201000 4K",
      "init ia=40\nmap 0x3000 4K pa=0x80001000 prot=rw\nmap 0x2000 12K pa=0x80000000 prot=r",
      "init ia=40\nmap 0 8K pa=0xffffffffe000 prot=rw\nmap 0 2M pa=0x2000000000000 prot=rw",
      "init ia=40\nmap 0x1000 4K pa=0x1000 prot=rw mc=1\nunmap 0x40000000 4K\nunmap 0x3ff000 4K",
      "init ia=32\nmap 0xfffff000 4K\nunmap 0xfffff000 0xffffffffffffffff\nunmap 0x1000 "
      "0xffffffff00000000",
      "init ia=48\nmap 0 4K mc=2\nmap 0 4K mc=1\nset_owner 0x1000 4K owner=1\nunmap 0 1G",
      "init ia=40 force_pte=device\nmap 0x200000 2M pa=0x200000 prot=rwd mc=2\nmap 0x400000 2M "
      "pa=0x400000 prot=rw mc=none\nmkold 0x400000\nmap 0x400000 2M pa=0x400000 prot=rw",
  };
  for (const char* text : streams) {
    const Stream stream = parse_text(text, "semantics");
    EXPECT_EQ(differential(*info, stream), "") << text;
  }
}

}  // namespace
}  // namespace mmudiff
