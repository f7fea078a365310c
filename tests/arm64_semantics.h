// SPDX-License-Identifier: GPL-2.0-only
// What the stage-2 semantics tests share (tests/semantics_test.cpp for Linux 6.1,
// tests/semantics612_test.cpp for where 6.12 differs): descriptors and effects spelled out bit by
// bit rather than built with any backend's helpers, the table invariants every rule keeps, and a
// fixture that runs one backend on a machine of its own.
#pragma once

#include <cerrno>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/format/arm64_s2_format.h"
#include "tests/table_reader.h"

namespace mmudiff {

inline void PrintTo(const Effect& e, std::ostream* os) {
  *os << describe_effect(e);
}

namespace semantics {

using mmudiff::testing::table_pages;
using mmudiff::testing::TablePage;
using mmudiff::testing::TableReader;

constexpr uint64_t K4 = 0x1000;
constexpr uint64_t M2 = 0x20'0000;
constexpr uint64_t G1 = 0x4000'0000;
constexpr uint64_t G512 = uint64_t{1} << 39;
constexpr uint64_t kPa48 = uint64_t{1} << 48;

// kvm_pgtable_prot
constexpr uint64_t kX = 1 << 0;
constexpr uint64_t kW = 1 << 1;
constexpr uint64_t kR = 1 << 2;
constexpr uint64_t kDevice = 1 << 3;
constexpr uint64_t kRW = kR | kW;

// Leaf attributes, spelled out: XN (bit 54), AF (0x400), SH inner (0x300), S2AP W (0x80) and
// R (0x40), MemAttr in [5:2] (0xf normal -> 0x3c, 0x1 device -> 0x4, 0x6 FWB normal -> 0x18).
constexpr uint64_t kXnBit = uint64_t{1} << 54;
constexpr uint64_t kAfBit = 0x400;
constexpr uint64_t kAttrRW = kXnBit | 0x7fc;
constexpr uint64_t kAttrR = kXnBit | 0x77c;
constexpr uint64_t kAttrNone = kXnBit | 0x73c;
constexpr uint64_t kAttrRWX = 0x7fc;
constexpr uint64_t kAttrRX = 0x77c;
constexpr uint64_t kAttrRWDevice = kXnBit | 0x7c4;
constexpr uint64_t kAttrRWFwb = kXnBit | 0x7d8;
constexpr uint64_t kAttrRWDeviceFwb = kXnBit | 0x7c4;

constexpr uint64_t page(uint64_t pa, uint64_t attrs) {
  return pa | attrs | 0b11;
}
constexpr uint64_t block(uint64_t pa, uint64_t attrs) {
  return pa | attrs | 0b01;
}
constexpr uint64_t table(uint64_t pa) {
  return pa | 0b11;
}
constexpr uint64_t kOwner1 = 1 << 2;

inline Effect store(uint64_t entry_pa, uint64_t old_value, uint64_t new_value) {
  return {EffectKind::Store, 0, Barrier::None, entry_pa, 0, old_value, new_value};
}
inline Effect tlbi(uint64_t ipa, unsigned level) {
  return {EffectKind::TlbiIpa, static_cast<uint8_t>(level), Barrier::None, ipa};
}
// A range TLBI (FEAT_TLBIRANGE): every translation of [ipa, ipa + size), as recorded.
inline Effect tlbi_range(uint64_t ipa, uint64_t size) {
  return {EffectKind::TlbiIpa, 0, Barrier::None, ipa, size};
}
inline Effect tlbi_vmid() {
  return {EffectKind::TlbiVmid};
}
inline Effect dsb_ishst() {
  return {EffectKind::Dsb, 0, Barrier::IshSt};
}
inline Effect dcache(uint64_t pa, uint64_t size) {
  return {EffectKind::DcacheCleanInval, 0, Barrier::None, pa, size};
}
inline Effect icache(uint64_t pa, uint64_t size) {
  return {EffectKind::IcacheInval, 0, Barrier::None, pa, size};
}
using Effects = std::vector<Effect>;

inline Arm64S2Config config_with(uint8_t ia_bits, bool fwb = false,
                                 ForcePte force = ForcePte::Never) {
  Arm64S2Config c;
  c.ia_bits = ia_bits;
  c.fwb = fwb;
  c.force_pte = force;
  return c;
}

// Every reachable table page holds 1 + its non-zero entries, every descriptor uses only the bits
// the kernel writes, and every live page is reachable (nothing leaked while the table lives).
inline void check_table_invariants(const Backend& backend, const SimMemory& memory,
                                   const std::string& where) {
  const std::vector<TablePage> pages = table_pages(memory, backend.root());
  // With FEAT_LPA2 OA[49:48] are address bits and bits [9:8] hold OA[51:50].
  const bool lpa2 = backend.root().format == &arm64_s2_4k_lpa2_format();
  for (const TablePage& page : pages) {
    const uint64_t* t = page.entries;
    const unsigned level = page.level;
    ASSERT_NE(t, nullptr) << where << ": table page " << std::hex << page.pa << " is not live";
    for (unsigned i = 0; i < arm64s2::kEntriesPerTable; ++i) {
      const uint64_t d = t[i];
      if (d == 0) continue;
      const auto kind = arm64s2::classify(d, level);
      if (kind == arm64s2::DescriptorKind::Table) {
        ASSERT_EQ(d & arm64s2::table_reserved_mask(lpa2), 0u)
            << where << std::hex << ": table " << d;
      } else if (arm64s2::is_leaf_kind(kind)) {
        ASSERT_EQ(d & arm64s2::leaf_reserved_mask(level, lpa2), 0u)
            << where << std::hex << ": leaf " << d << " at level " << level;
      } else {
        ASSERT_EQ(kind, arm64s2::DescriptorKind::Invalid) << where << std::hex << ": " << d;
        ASSERT_EQ(d, kOwner1) << where << std::hex << ": invalid non-owner descriptor " << d;
      }
    }
    ASSERT_EQ(memory.page_count(t), 1 + static_cast<int>(page.non_zero_entries()))
        << where << ": table page " << std::hex << page.pa << " at level " << std::dec << level;
  }
  ASSERT_EQ(memory.live_pages(), pages.size()) << where << ": pages live but unreachable";
}

// One arm64 backend, named by the test's parameter, on a machine of its own. init() gives the
// table the fixture's kernel generation (Arm64S2Config::kernel), which a derived fixture sets.
class Semantics : public ::testing::TestWithParam<std::string> {
 protected:
  explicit Semantics(Arm64Kernel kernel = Arm64Kernel::Linux61) : kernel_(kernel) {}

  void SetUp() override {
    const BackendInfo* info = find_backend(GetParam());
    ASSERT_NE(info, nullptr);
    backend_ = create_arm64(*info, machine_, Plant::kNone);
  }

  void TearDown() override {
    if (backend_ && backend_->root().live()) backend_->destroy();
    EXPECT_EQ(machine_.memory.live_pages(), 0u) << "pages leaked by destroy";
    machine_.memory.check_freed_pages();
    for (const MemoryFault& f : machine_.memory.faults()) {
      ADD_FAILURE() << memory_fault_name(f.kind) << ": " << f.detail;
    }
  }

  void init(Arm64S2Config config = config_with(40)) {
    config.kernel = kernel_;
    ASSERT_EQ(backend_->init(config), 0);
    forget_effects();
  }

  // A memcache of `pages` pages, or none at all (the kernel's NULL) for kNoMemcache.
  int map(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot,
          int32_t pages = kDefaultMemcache) {
    if (pages == kNoMemcache) return backend_->map(addr, size, phys, prot, nullptr);
    Memcache mc(machine_.memory, static_cast<size_t>(pages));
    return backend_->map(addr, size, phys, prot, &mc);
  }
  int set_owner(uint64_t addr, uint64_t size, uint8_t owner, int32_t pages = kDefaultMemcache) {
    if (pages == kNoMemcache) return backend_->set_owner(addr, size, nullptr, owner);
    Memcache mc(machine_.memory, static_cast<size_t>(pages));
    return backend_->set_owner(addr, size, &mc, owner);
  }

  TableReader tables() const { return TableReader(*backend_, machine_.memory); }
  uint64_t entry_pa(uint64_t ipa, unsigned level) const {
    const std::optional<uint64_t> pa = tables().entry_pa(ipa, level);
    EXPECT_TRUE(pa.has_value()) << "no table reaches ipa " << std::hex << ipa << " at level "
                                << std::dec << level;
    return pa.value_or(0);
  }
  // The descriptor that translates ipa at level; ~0 when the tables do not reach it.
  uint64_t desc(uint64_t ipa, unsigned level) const {
    const std::optional<uint64_t> pa = tables().entry_pa(ipa, level);
    return pa ? tables().read(*pa).value_or(~uint64_t{0}) : ~uint64_t{0};
  }
  uint64_t table_page(uint64_t ipa, unsigned level) const {
    return tables().table_page_pa(ipa, level);
  }
  int count(uint64_t table_pa) const {
    return machine_.memory.page_count(machine_.memory.table_page(table_pa));
  }
  bool live(uint64_t table_pa) const { return machine_.memory.is_live(table_pa); }

  const Effects& effects() const { return machine_.effects.events(); }
  void forget_effects() { machine_.effects.clear(); }

  const Arm64Kernel kernel_;
  Machine machine_;
  std::unique_ptr<Arm64S2Backend> backend_;
};
}  // namespace semantics
}  // namespace mmudiff
