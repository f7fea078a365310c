// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/x86_ept_walk.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/format/x86_ept_format.h"

namespace mmudiff {

namespace {

// SDM, "EPT Translation Mechanism": 4 KiB tables of 512 8-byte entries; each level translates 9
// bits of the GPA above the 12-bit page offset, the PT bits 20:12.
constexpr unsigned kEntries = 512;
constexpr uint64_t kRead = 1, kWrite = 2, kExec = 4;
constexpr uint64_t kPageSizeBit = uint64_t{1} << 7;

constexpr unsigned shift_of(unsigned level) {
  return 12 + 9 * (level - 1);
}
constexpr uint64_t ones(unsigned hi, unsigned lo) {
  return hi < lo ? 0 : (~uint64_t{0} >> (63 - hi)) & (~uint64_t{0} << lo);
}

// Bits (N-1):12 of an entry hold a physical address; 51:N are reserved (N = MAXPHYADDR).
uint64_t address_bits(const EptWalkConfig& c) {
  return ones(c.maxphyaddr - 1, 12);
}

// Whether a present entry at this level maps a page rather than referencing a table.
bool maps_page(uint64_t e, unsigned level) {
  return level == 1 || ((level == 2 || level == 3) && (e & kPageSizeBit));
}

// The SDM's "Format of an EPT ... Entry" tables, one row per kind of entry.
uint64_t reserved_bits(uint64_t e, unsigned level, const EptWalkConfig& c) {
  const uint64_t above_maxphyaddr = ones(51, c.maxphyaddr);
  if (level >= 4) return above_maxphyaddr | ones(7, 3);            // PML5E, PML4E: 7:3 reserved
  if (!maps_page(e, level)) return above_maxphyaddr | ones(6, 3);  // PDPTE/PDE -> table
  if (level == 3) return above_maxphyaddr | ones(29, 12);          // 1 GiB page
  if (level == 2) return above_maxphyaddr | ones(20, 12);          // 2 MiB page
  return above_maxphyaddr;                                         // PTE: 7 is ignored
}

// SDM "EPT Misconfigurations", for an entry whose bits 2:0 are not 000b.
EptMisconfigReason misconfiguration(uint64_t e, unsigned level, const EptWalkConfig& c) {
  const uint64_t rwx = e & 7;
  if (rwx == kWrite || rwx == (kWrite | kExec)) return EptMisconfigReason::WriteWithoutRead;
  if (rwx == kExec && !c.execonly) return EptMisconfigReason::ExecuteOnlyUnsupported;
  if ((e & kPageSizeBit) &&
      (level >= 4 || (level == 3 && !c.gb_pages) || (level == 2 && !c.mb2_pages)))
    return EptMisconfigReason::LargePageNotAllowed;
  if (e & reserved_bits(e, level, c)) return EptMisconfigReason::ReservedBit;
  if (maps_page(e, level)) {
    const uint64_t type = (e >> 3) & 7;
    if (type == 2 || type == 3 || type == 7) return EptMisconfigReason::ReservedMemoryType;
  }
  return EptMisconfigReason::None;
}

void check_config(const EptWalkConfig& c) {
  if (c.maxphyaddr < 36 || c.maxphyaddr > 52 || (c.levels != 4 && c.levels != 5))
    throw std::invalid_argument(
        fmt::format("EPT walk: MAXPHYADDR {} with {} levels", c.maxphyaddr, c.levels));
}

class TableWalker {
 public:
  TableWalker(const SimMemory& memory, const EptWalkConfig& c, const IpaWindows* within,
              EptTableWalk* out)
      : memory_(memory), c_(c), within_(within), out_(out) {}

  void table(uint64_t table_pa, unsigned level, uint64_t base, uint64_t rwx) {
    const uint64_t* t = memory_.table_page(table_pa);
    if (!t) {
      out_->unreadable.push_back(fmt::format(
          "level {} table for GPA {:#x} at {:#x} is not table memory", level, base, table_pa));
      return;
    }
    const uint64_t size = uint64_t{1} << shift_of(level);
    for_each_entry(within_, base, size, kEntries,
                   [&](unsigned i) { entry(t[i], level, base + i * size, rwx); });
  }

 private:
  void entry(uint64_t e, unsigned level, uint64_t gpa, uint64_t rwx) {
    const uint64_t size = uint64_t{1} << shift_of(level);
    if (!(e & 7)) {
      // Not present: an EPT violation on any access. Bit 63 only selects #VE over a VM exit.
      if (e & ~(uint64_t{1} << 63)) out_->translation.annotations.push_back({gpa, size, e});
      return;
    }
    EptMisconfigReason r = misconfiguration(e, level, c_);
    if (r != EptMisconfigReason::None) {
      out_->misconfigurations.push_back({gpa, size, level, e, r});
      return;
    }
    rwx &= e & 7;
    if (maps_page(e, level)) {
      const uint64_t attrs = (e & kEptTranslationAttrMask & ~uint64_t{7}) | rwx;
      out_->translation.mappings.push_back({gpa, size, e & address_bits(c_), attrs});
      return;
    }
    table(e & address_bits(c_), level - 1, gpa, rwx);
  }

  const SimMemory& memory_;
  const EptWalkConfig& c_;
  const IpaWindows* within_;
  EptTableWalk* out_;
};

}  // namespace

const char* ept_fault_name(EptFault f) {
  switch (f) {
    case EptFault::None:
      return "translated";
    case EptFault::Violation:
      return "EPT violation";
    case EptFault::Misconfiguration:
      return "EPT misconfiguration";
    case EptFault::Unreadable:
      return "table pointer to no table";
  }
  return "?";
}

const char* ept_misconfig_reason_name(EptMisconfigReason r) {
  switch (r) {
    case EptMisconfigReason::None:
      return "none";
    case EptMisconfigReason::WriteWithoutRead:
      return "write without read";
    case EptMisconfigReason::ExecuteOnlyUnsupported:
      return "execute-only without support";
    case EptMisconfigReason::LargePageNotAllowed:
      return "page-size bit where no page may be mapped";
    case EptMisconfigReason::ReservedBit:
      return "reserved bit set";
    case EptMisconfigReason::ReservedMemoryType:
      return "reserved memory type (2, 3 or 7)";
  }
  return "?";
}

EptTranslation ept_translate(const SimMemory& memory, uint64_t root_pa, uint64_t gpa,
                             const EptWalkConfig& c) {
  check_config(c);
  if (gpa >> shift_of(c.levels + 1))
    throw std::invalid_argument(
        fmt::format("GPA {:#x} is beyond what a {}-level EPT translates", gpa, c.levels));
  EptTranslation t;
  uint64_t table_pa = root_pa;
  uint64_t rwx = 7;
  for (unsigned level = c.levels; level >= 1; --level) {
    const uint64_t* table = memory.table_page(table_pa);
    t.level = level;
    if (!table) {
      t.fault = EptFault::Unreadable;
      t.detail = fmt::format("level {} table at {:#x} is not table memory", level, table_pa);
      return t;
    }
    const unsigned index = (gpa >> shift_of(level)) & (kEntries - 1);
    const uint64_t e = table[index];
    t.entry = e;
    t.entry_pa = table_pa + index * 8;
    if (!(e & 7)) {
      t.fault = EptFault::Violation;
      t.detail = fmt::format("level {} entry {:#018x} is not present", level, e);
      return t;
    }
    t.reason = misconfiguration(e, level, c);
    if (t.reason != EptMisconfigReason::None) {
      t.fault = EptFault::Misconfiguration;
      t.detail =
          fmt::format("level {} entry {:#018x}: {}", level, e, ept_misconfig_reason_name(t.reason));
      return t;
    }
    rwx &= e & 7;
    if (maps_page(e, level)) {
      t.page_size = uint64_t{1} << shift_of(level);
      t.hpa = (e & address_bits(c) & ~(t.page_size - 1)) | (gpa & (t.page_size - 1));
      t.read = rwx & kRead;
      t.write = rwx & kWrite;
      t.exec = rwx & kExec;
      t.memory_type = (e >> 3) & 7;
      t.ipat = e & (uint64_t{1} << 6);
      return t;
    }
    table_pa = e & address_bits(c);
  }
  throw std::logic_error("EPT walk ran past the PT");
}

EptTranslation ept_translate(const SimMemory& memory, uint64_t root_pa, uint64_t gpa,
                             EptAccess access, const EptWalkConfig& c) {
  EptTranslation t = ept_translate(memory, root_pa, gpa, c);
  if (t.fault != EptFault::None) return t;
  const bool allowed = access == EptAccess::Read    ? t.read
                       : access == EptAccess::Write ? t.write
                                                    : t.exec;
  if (!allowed) {
    static const char* const names[] = {"read", "write", "instruction fetch"};
    t.fault = EptFault::Violation;
    t.detail = fmt::format("{} of GPA {:#x} not permitted (effective {}{}{})",
                           names[static_cast<int>(access)], gpa, t.read ? 'R' : '-',
                           t.write ? 'W' : '-', t.exec ? 'X' : '-');
  }
  return t;
}

EptTableWalk ept_walk_table(const SimMemory& memory, uint64_t root_pa, const EptWalkConfig& config,
                            const IpaWindows* within) {
  check_config(config);
  EptTableWalk w;
  TableWalker(memory, config, within, &w).table(root_pa, config.levels, 0, 7);
  normalise(&w.translation);
  return w;
}

ArchWalk ept_arch_walk(const TableRoot& root, const SimMemory& memory, const EptWalkConfig& config,
                       const IpaWindows* within) {
  ArchWalk a;
  if (!root.live()) return a;
  EptTableWalk w = ept_walk_table(memory, root.pgd_pa, config, within);
  a.translation = std::move(w.translation);
  for (const EptMisconfiguredEntry& m : w.misconfigurations) {
    if ((m.entry & 7) == (kWrite | kExec)) {
      a.translation.annotations.push_back({m.gpa, m.size, m.entry});
      continue;
    }
    a.anomalies.push_back(
        fmt::format("GPA {:#x}: level {} entry {:#018x} is an EPT "
                    "misconfiguration: {}",
                    m.gpa, m.level, m.entry, ept_misconfig_reason_name(m.reason)));
  }
  for (std::string& u : w.unreadable) a.anomalies.push_back(std::move(u));
  // Annotations came from two passes: restore GPA order before merging.
  std::sort(a.translation.annotations.begin(), a.translation.annotations.end(),
            [](const OwnerAnnotation& x, const OwnerAnnotation& y) { return x.ipa < y.ipa; });
  normalise(&a.translation);
  return a;
}

ArchWalk ept_arch_walk(const TableRoot& root, const SimMemory& memory, const IpaWindows* within) {
  if (!root.live()) return {};
  std::optional<X86EptParams> p = x86_ept_params(*root.format);
  if (!p)
    throw std::invalid_argument(
        fmt::format("EPT walk of a table in the {} format", root.format->name()));
  return ept_arch_walk(root, memory, {p->maxphyaddr, p->levels, p->execonly, true, true}, within);
}

}  // namespace mmudiff
