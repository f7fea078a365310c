// SPDX-License-Identifier: GPL-2.0-only
// The SDM's EPT walk on tables built by hand: one GPA at a time (the HPA, the leaf's level, the
// effective permissions as the AND over the walk, memory type and IPAT; EPT violations and each
// kind of misconfiguration with its level) and the whole table (merged mappings, KVM's software
// content of non-present entries, misconfigurations), checked against the x86-ept format's
// reading of the same entries.
#include <gtest/gtest.h>

#include <random>

#include <fmt/format.h>

#include "mmu/format/x86_ept.h"
#include "mmu/format/x86_ept_format.h"
#include "mmu/memory/sim_memory.h"
#include "oracles/x86_ept_walk.h"

namespace mmudiff {
namespace {

namespace e = x86ept;

constexpr uint64_t kWb = uint64_t{e::kMemTypeWb} << e::kMemTypeShift;
constexpr uint64_t kR = e::kRead, kW = e::kWrite, kX = e::kExec;
constexpr uint64_t k2M = uint64_t{1} << 21, k1G = uint64_t{1} << 30;

// EPT tables in a SimMemory of their own, below 2^36; new tables hold KVM's non-present value.
class EptTable {
 public:
  explicit EptTable(unsigned levels = 4)
      : levels_(levels), memory_(MemoryLimits{.max_pages = 256, .phys_base = kLowTablePhysBase}) {
    root_ = alloc();
  }

  uint64_t root() const { return root_; }
  const SimMemory& memory() const { return memory_; }
  unsigned levels() const { return levels_; }

  uint64_t alloc() {
    auto* t = static_cast<uint64_t*>(memory_.zalloc_page());
    for (unsigned i = 0; i < 512; ++i) t[i] = e::kNonPresent;
    return memory_.virt_to_phys(t);
  }
  uint64_t* slot(uint64_t table_pa, uint64_t gpa, unsigned level) {
    return static_cast<uint64_t*>(memory_.phys_to_virt(table_pa)) + e::table_index(gpa, level);
  }

  // Writes entry at `level` for gpa, creating tables above it with table_rwx; returns where.
  uint64_t* put(uint64_t gpa, unsigned level, uint64_t entry, uint64_t table_rwx = kR | kW | kX) {
    uint64_t table = root_;
    for (unsigned l = levels_; l > level; --l) {
      uint64_t* s = slot(table, gpa, l);
      if (!(*s & e::kRwxMask)) *s = alloc() | table_rwx | e::kMmuPresent | e::kSuppressVe;
      table = *s & e::kAddrMask;
    }
    uint64_t* s = slot(table, gpa, level);
    *s = entry;
    return s;
  }
  // Sets RWX of the table entry at `level` on gpa's path.
  void table_rwx(uint64_t gpa, unsigned level, uint64_t rwx) {
    uint64_t table = root_;
    for (unsigned l = levels_; l > level; --l) table = *slot(table, gpa, l) & e::kAddrMask;
    uint64_t* s = slot(table, gpa, level);
    *s = (*s & ~e::kRwxMask) | rwx;
  }

  EptTranslation translate(uint64_t gpa, const EptWalkConfig& c) const {
    return ept_translate(memory_, root_, gpa, c);
  }

 private:
  unsigned levels_;
  SimMemory memory_;
  uint64_t root_;
};

uint64_t leaf(uint64_t hpa, uint64_t rwx, unsigned level, uint64_t mt = kWb) {
  return hpa | rwx | mt | e::kIgnorePat | (level > 1 ? e::kLargePage : 0) | e::kMmuPresent |
         e::kSuppressVe;
}

EptWalkConfig config(unsigned maxphyaddr = 46, unsigned levels = 4, bool execonly = true) {
  return {maxphyaddr, levels, execonly, true};
}

TEST(EptTranslate, A4KPageThroughFourLevels) {
  EptTable t;
  uint64_t* entry = t.put(0x1234'5000, 1, leaf(0xab'cdef'0000, kR | kW | kX, 1));
  EptTranslation r = t.translate(0x1234'5123, config());
  ASSERT_EQ(r.fault, EptFault::None) << r.detail;
  EXPECT_EQ(r.hpa, 0xab'cdef'0123u);
  EXPECT_EQ(r.level, 1u);
  EXPECT_EQ(r.page_size, 4096u);
  EXPECT_TRUE(r.read && r.write && r.exec);
  EXPECT_EQ(r.memory_type, 6u);
  EXPECT_TRUE(r.ipat);
  EXPECT_EQ(r.entry, *entry);
  EXPECT_EQ(r.entry_pa, t.memory().virt_to_phys(entry));
  EXPECT_TRUE(r.detail.empty());
}

TEST(EptTranslate, PermissionsAreTheAndOverEveryLevel) {
  EptTable t;
  t.put(0x4000'0000, 1, leaf(0x9000, kR | kW | kX, 1, 0));
  t.table_rwx(0x4000'0000, 3, kR | kX);  // the PDPTE takes write away
  EptTranslation r = t.translate(0x4000'0000, config());
  ASSERT_EQ(r.fault, EptFault::None);
  EXPECT_TRUE(r.read);
  EXPECT_FALSE(r.write);
  EXPECT_TRUE(r.exec);
  EXPECT_EQ(r.memory_type, 0u);
  EXPECT_EQ(ept_translate(t.memory(), t.root(), 0x4000'0000, EptAccess::Read, config()).fault,
            EptFault::None);
  EptTranslation w = ept_translate(t.memory(), t.root(), 0x4000'0000, EptAccess::Write, config());
  EXPECT_EQ(w.fault, EptFault::Violation);
  EXPECT_EQ(w.detail, "write of GPA 0x40000000 not permitted (effective R-X)");
  // An execute-only PML4E (execute-only supported) leaves only execution.
  t.table_rwx(0x4000'0000, 4, kX);
  r = t.translate(0x4000'0000, config());
  ASSERT_EQ(r.fault, EptFault::None) << r.detail;
  EXPECT_FALSE(r.read);
  EXPECT_FALSE(r.write);
  EXPECT_TRUE(r.exec);
  EXPECT_EQ(ept_translate(t.memory(), t.root(), 0x4000'0000, EptAccess::Read, config()).fault,
            EptFault::Violation);
  // A/D bits are no permission: a leaf without A translates as well.
  EXPECT_EQ(ept_translate(t.memory(), t.root(), 0x4000'0000, EptAccess::Fetch, config()).fault,
            EptFault::None);
}

TEST(EptTranslate, TwoMegAndOneGigLeaves) {
  EptTable t;
  t.put(0x4020'0000, 2, leaf(0x8'0060'0000, kR | kW, 2));
  t.put(0x8000'0000, 3, leaf(0x40'0000'0000, kR, 3));
  EptTranslation two = t.translate(0x4020'0000 + 0x1'2345, config());
  ASSERT_EQ(two.fault, EptFault::None) << two.detail;
  EXPECT_EQ(two.level, 2u);
  EXPECT_EQ(two.page_size, k2M);
  EXPECT_EQ(two.hpa, 0x8'0061'2345u);
  EXPECT_FALSE(two.exec);
  EptTranslation one = t.translate(0x8000'0000 + 0x2345'6789, config());
  ASSERT_EQ(one.fault, EptFault::None) << one.detail;
  EXPECT_EQ(one.level, 3u);
  EXPECT_EQ(one.page_size, k1G);
  EXPECT_EQ(one.hpa, 0x40'2345'6789u);
  // Without 1 GiB pages, a PDPTE with bit 7 is a misconfiguration.
  EptWalkConfig no_1g = config();
  no_1g.gb_pages = false;
  EptTranslation m = t.translate(0x8000'0000, no_1g);
  EXPECT_EQ(m.fault, EptFault::Misconfiguration);
  EXPECT_EQ(m.reason, EptMisconfigReason::LargePageNotAllowed);
  EXPECT_EQ(m.level, 3u);
  EXPECT_EQ(t.translate(0x4020'0000, no_1g).fault, EptFault::None);
  // Without 2 MiB pages, the same of a PDE with bit 7.
  EptWalkConfig no_2m = config();
  no_2m.mb2_pages = false;
  EptTranslation m2 = t.translate(0x4020'0000, no_2m);
  EXPECT_EQ(m2.reason, EptMisconfigReason::LargePageNotAllowed);
  EXPECT_EQ(m2.level, 2u);
}

TEST(EptTranslate, NotPresentIsAViolationAtItsLevel) {
  EptTable t;
  t.put(0x1000, 1, leaf(0x2000, kR, 1));
  EptTranslation r = t.translate(k1G, config());  // the PDPTE for 1 GiB is non-present
  EXPECT_EQ(r.fault, EptFault::Violation);
  EXPECT_EQ(r.level, 3u);
  EXPECT_EQ(r.entry, e::kNonPresent);
  EXPECT_EQ(r.detail, "level 3 entry 0x8000000000000000 is not present");
  EptTranslation pte = t.translate(0x2000, config());
  EXPECT_EQ(pte.fault, EptFault::Violation);
  EXPECT_EQ(pte.level, 1u);
  // An access-tracked SPTE (RWX cleared) is not present either, whatever else it holds.
  t.put(0x3000, 1, (leaf(0x5000, kR | kX, 1) & ~e::kRwxMask) | (uint64_t{5} << 54));
  EXPECT_EQ(t.translate(0x3000, config()).fault, EptFault::Violation);
}

TEST(EptTranslate, EachMisconfigurationWithItsLevel) {
  struct Case {
    unsigned level;
    uint64_t entry;
    EptWalkConfig c;
    EptMisconfigReason reason;
  };
  const Case cases[] = {
      {1, leaf(0x5000, kW, 1), config(), EptMisconfigReason::WriteWithoutRead},
      {1, leaf(0x5000, kW | kX, 1), config(), EptMisconfigReason::WriteWithoutRead},
      {1, leaf(0x5000, kX, 1), config(46, 4, false), EptMisconfigReason::ExecuteOnlyUnsupported},
      {1, leaf(e::bit(46), kR, 1), config(46), EptMisconfigReason::ReservedBit},
      {1, leaf(e::bit(35) | e::bit(36), kR, 1), config(36), EptMisconfigReason::ReservedBit},
      {2, leaf(0x20'1000, kR, 2), config(), EptMisconfigReason::ReservedBit},  // misaligned
      {2, leaf(0x30'0000, kR, 2), config(), EptMisconfigReason::ReservedBit},  // bit 20
      {3, leaf(0x4020'0000, kR, 3), config(), EptMisconfigReason::ReservedBit},
      {3, leaf(0x6000'0000, kR, 3), config(), EptMisconfigReason::ReservedBit},  // bit 29
      {1, leaf(0x5000, kR, 1, 7 << 3), config(), EptMisconfigReason::ReservedMemoryType},
      {2, leaf(0x20'0000, kR, 2, 2 << 3), config(), EptMisconfigReason::ReservedMemoryType},
      {3, leaf(0x4000'0000, kR, 3, 3 << 3), config(), EptMisconfigReason::ReservedMemoryType},
  };
  for (const Case& k : cases) {
    EptTable t;
    t.put(0x4000'0000, k.level, k.entry);
    EptTranslation r = t.translate(0x4000'0000, k.c);
    EXPECT_EQ(r.fault, EptFault::Misconfiguration) << std::hex << k.entry;
    EXPECT_EQ(r.reason, k.reason) << std::hex << k.entry << " " << r.detail;
    EXPECT_EQ(r.level, k.level);
    EXPECT_EQ(r.entry, k.entry);
  }
  // With 52 bits, bit 51 is an address bit.
  EptTable wide;
  wide.put(0, 1, leaf(e::bit(51), kR, 1));
  EXPECT_EQ(wide.translate(0, config(52)).hpa, e::bit(51));
  // Table entries: bit 7 in a PML4E, a memory type in a PDE that references a table.
  EptTable t;
  t.put(0, 1, leaf(0x5000, kR, 1));
  uint64_t* pml4e = static_cast<uint64_t*>(t.memory().phys_to_virt(t.root()));
  const uint64_t good = *pml4e;
  *pml4e = good | e::kLargePage;
  EptTranslation r = t.translate(0, config());
  EXPECT_EQ(r.reason, EptMisconfigReason::LargePageNotAllowed);
  EXPECT_EQ(r.level, 4u);
  *pml4e = good | kWb;
  EXPECT_EQ(t.translate(0, config()).reason, EptMisconfigReason::ReservedBit);
  *pml4e = (good & ~e::kRwxMask) | kW;
  r = t.translate(0, config());
  EXPECT_EQ(r.reason, EptMisconfigReason::WriteWithoutRead);
  EXPECT_EQ(r.detail, fmt::format("level 4 entry {:#018x}: write without read", *pml4e));
}

TEST(EptTranslate, ATablePointerToNoTableAndAGpaBeyondTheTable) {
  EptTable t;
  t.put(0, 3, 0x2000 | kR | kW | kX);  // a PDPTE pointing at a page that is no table
  EptTranslation r = t.translate(0x1000, config());
  EXPECT_EQ(r.fault, EptFault::Unreadable);
  EXPECT_EQ(r.level, 2u);
  EXPECT_THROW(t.translate(uint64_t{1} << 48, config()), std::invalid_argument);
  EXPECT_THROW(t.translate(0, config(35)), std::invalid_argument);
}

TEST(EptTranslate, FiveLevels) {
  EptTable t(5);
  const uint64_t gpa = (uint64_t{0x1a} << 48) | 0x7'6543'2000;
  t.put(gpa, 1, leaf(0xfe'dcba'9000, kR | kX, 1));
  EptTranslation r = t.translate(gpa | 0xabc, config(46, 5));
  ASSERT_EQ(r.fault, EptFault::None) << r.detail;
  EXPECT_EQ(r.hpa, 0xfe'dcba'9abcu);
  EXPECT_THROW(t.translate(uint64_t{1} << 57, config(46, 5)), std::invalid_argument);
  // The same GPA without its bits above 47 lands on another PML5E: not present.
  EptTranslation other = t.translate(gpa & ((uint64_t{1} << 48) - 1), config(46, 5));
  EXPECT_EQ(other.fault, EptFault::Violation);
  EXPECT_EQ(other.level, 5u);
}

TEST(EptWalkTable, MappingsMergedAnnotationsAndMisconfigurations) {
  EptTable t;
  // Two adjacent 4K pages that continue linearly: one mapping.
  t.put(0x10'0000, 1, leaf(0x7770'0000, kR | kW, 1) | e::kAccessed);
  t.put(0x10'1000, 1, leaf(0x7770'1000, kR | kW, 1) | e::kAccessed);
  // A 2 MiB leaf under a PDPTE without W.
  t.put(0x4000'0000, 2, leaf(0x1'0000'0000, kR | kW | kX, 2));
  t.table_rwx(0x4000'0000, 3, kR | kX);
  // KVM's software content in non-present entries: an access-tracked SPTE and an MMIO SPTE.
  const uint64_t tracked =
      (leaf(0x5000, kR | kX, 1) & ~e::kRwxMask) | e::kAdDisabled | (uint64_t{5} << 54);
  t.put(0x20'0000 - 0x1000, 1, tracked);
  const uint64_t mmio = e::kMmioValue | 0xfee0'0000 | (uint64_t{0x2a} << 3);
  t.put(0xfee0'0000, 1, mmio);
  // A misconfiguration: write without read.
  const uint64_t wo = leaf(0x6000, kW, 1);
  t.put(0x30'0000, 1, wo);

  EptTableWalk w = ept_walk_table(t.memory(), t.root(), config());
  ASSERT_EQ(w.translation.mappings.size(), 2u);
  const Mapping& small = w.translation.mappings[0];
  EXPECT_EQ(small.ipa, 0x10'0000u);
  EXPECT_EQ(small.size, 0x2000u);
  EXPECT_EQ(small.pa, 0x7770'0000u);
  EXPECT_EQ(small.attrs, kR | kW | kWb | e::kIgnorePat | e::kAccessed | e::kSuppressVe);
  const Mapping& big = w.translation.mappings[1];
  EXPECT_EQ(big.ipa, 0x4000'0000u);
  EXPECT_EQ(big.size, k2M);
  EXPECT_EQ(big.pa, 0x1'0000'0000u);
  EXPECT_EQ(big.attrs & e::kRwxMask, kR | kX);  // effective, not the leaf's RWX
  // kNonPresent entries (bit 63 alone) are no annotation; the access-tracked one is. The MMIO
  // SPTE is a misconfiguration to the SDM.
  ASSERT_EQ(w.translation.annotations.size(), 1u);
  EXPECT_EQ(w.translation.annotations[0], (OwnerAnnotation{0x1f'f000, 0x1000, tracked}));
  ASSERT_EQ(w.misconfigurations.size(), 2u);
  EXPECT_EQ(w.misconfigurations[0], (EptMisconfiguredEntry{0x30'0000, 0x1000, 1, wo,
                                                           EptMisconfigReason::WriteWithoutRead}));
  EXPECT_EQ(w.misconfigurations[1], (EptMisconfiguredEntry{0xfee0'0000, 0x1000, 1, mmio,
                                                           EptMisconfigReason::WriteWithoutRead}));
  EXPECT_TRUE(w.unreadable.empty());

  // As arch_walk gives it: the W+X entry is an annotation, the write-only one an anomaly.
  TableRoot root;
  root.ia_bits = 48;
  root.start_level = 0;
  root.pgd_pa = t.root();
  root.pgd_pages = 1;
  root.format = &x86_ept_format({46, 4, true, true});
  ArchWalk a = ept_arch_walk(root, t.memory(), config());
  EXPECT_EQ(a.translation.mappings, w.translation.mappings);
  ASSERT_EQ(a.translation.annotations.size(), 2u);
  EXPECT_EQ(a.translation.annotations[0], w.translation.annotations[0]);
  EXPECT_EQ(a.translation.annotations[1], (OwnerAnnotation{0xfee0'0000, 0x1000, mmio}));
  // The configuration read from the format's name: the same walk.
  ArchWalk by_name = ept_arch_walk(root, t.memory());
  EXPECT_EQ(by_name.translation, a.translation);
  EXPECT_EQ(by_name.anomalies, a.anomalies);
  root.format = &x86_ept_format({36, 4, true, true});  // the leaves at 0x7770'0000 still fit
  EXPECT_EQ(ept_arch_walk(root, t.memory()).translation.mappings.size(), 2u);
  root.format = &x86_ept_format({46, 4, true, false});
  EXPECT_EQ(ept_arch_walk(root, t.memory()).translation, a.translation);
  root.format = &default_format();
  EXPECT_THROW(ept_arch_walk(root, t.memory()), std::invalid_argument);
  ASSERT_EQ(a.anomalies.size(), 1u);
  EXPECT_EQ(a.anomalies[0], fmt::format("GPA 0x300000: level 1 entry {:#018x} is an EPT "
                                        "misconfiguration: write without read",
                                        wo));
}

TEST(EptWalkTable, AgreesWithTranslateAndWithTheFormatOnRandomEntries) {
  std::mt19937_64 rng(57);
  for (bool execonly : {false, true}) {
    for (unsigned level : {1u, 2u, 3u}) {
      EptTable t;
      const EptWalkConfig c = config(40, 4, execonly);
      const DescriptorFormat& f = x86_ept_format({40, 4, true, execonly});
      // One table page of random entries at this level, made likely to be present leaves with
      // few reserved bits; table entries among them point at no table.
      uint64_t* first = t.put(0, level, 0);
      std::vector<uint64_t> entries(512);
      for (unsigned i = 0; i < 512; ++i) {
        uint64_t d = rng();
        if (i % 2) d &= 0x8000'00ff'ffff'f0ffULL;
        if (i % 3) d = (d & ~uint64_t{0x38}) | kWb;
        if (i % 4 && level > 1) d &= ~(e::level_size(level) - 1) | 0xfff;
        if (i % 5 == 0) d &= ~uint64_t{0xf8};  // bits 7:3 clear: a table above level 1
        entries[i] = d;
        first[i] = d;
      }
      EptTableWalk w = ept_walk_table(t.memory(), t.root(), c);
      size_t leaves = 0, reserved = 0, mmio = 0, tables = 0;
      for (unsigned i = 0; i < 512; ++i) {
        const uint64_t d = entries[i];
        const DescriptorKind k = f.classify(d, trait_level(level, 4));
        const bool leaf_kind = k == DescriptorKind::Page || k == DescriptorKind::Block;
        leaves += leaf_kind;
        reserved += k == DescriptorKind::Reserved;
        tables += k == DescriptorKind::Table;
        mmio += k == DescriptorKind::Invalid && (d & e::kRwxMask);
        EptTranslation r = t.translate(uint64_t{i} << e::level_shift(level), c);
        EXPECT_EQ(r.fault == EptFault::None, leaf_kind) << std::hex << d;
        EXPECT_EQ(r.fault == EptFault::Violation, !(d & e::kRwxMask)) << std::hex << d;
        EXPECT_EQ(r.fault == EptFault::Unreadable, k == DescriptorKind::Table) << std::hex << d;
        if (r.fault == EptFault::None) {
          EXPECT_EQ(r.hpa, d & e::addr_mask(40));
          EXPECT_EQ(r.level, level);
        }
      }
      EXPECT_EQ(w.misconfigurations.size(), reserved + mmio);
      EXPECT_EQ(w.unreadable.size(), tables);
      uint64_t mapped = 0;
      for (const Mapping& m : w.translation.mappings) mapped += m.size;
      EXPECT_EQ(mapped, leaves * e::level_size(level));
      EXPECT_GT(leaves, 30u) << level;
      EXPECT_GT(reserved, 30u) << level;
      if (level > 1) {
        EXPECT_GT(tables, 10u) << level;
      }
    }
  }
}

}  // namespace
}  // namespace mmudiff
