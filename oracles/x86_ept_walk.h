// SPDX-License-Identifier: GPL-2.0-only
// The architectural EPT walk, written from the Intel SDM (Vol. 3C, "EPT Translation Mechanism",
// "EPT Violations", "EPT Misconfigurations", "EPT and Memory Typing") and nothing else: not from
// KVM's code, and not on the format trait (mmu/format/x86_ept_format.h), so a mistake there is
// not shared by the oracle that judges the backends.
//
// Levels are the SDM's: 1 is the PT (4 KiB pages), 2 the PD (2 MiB leaves), 3 the PDPT (1 GiB
// leaves), 4 the PML4, 5 the PML5; the root is at `levels`. Mode-based execute control and the
// "EPT-violation #VE" control are off: bit 10 and bit 63 are not permissions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mmu/backend.h"
#include "oracles/arch_walk.h"
#include "oracles/translation.h"

namespace mmudiff {

// What the processor and the EPTP give the walk.
struct EptWalkConfig {
  unsigned maxphyaddr = 46;  // 36..52
  unsigned levels = 4;       // EPTP bits 5:3 + 1: 4 or 5
  bool execonly = true;      // IA32_VMX_EPT_VPID_CAP bit 0
  bool gb_pages = true;      // IA32_VMX_EPT_VPID_CAP bit 17: 1 GiB leaves in a PDPTE
  bool mb2_pages = true;     // IA32_VMX_EPT_VPID_CAP bit 16: 2 MiB leaves in a PDE
};

enum class EptFault : uint8_t {
  None,              // translated
  Violation,         // an entry on the way is not present (bits 2:0 = 000b), or the access is
                     // not permitted by the walk's effective permissions
  Misconfiguration,  // an entry on the way is misconfigured (EptMisconfigReason)
  Unreadable,        // a table pointer leads to memory that holds no table page
};

enum class EptMisconfigReason : uint8_t {
  None,
  WriteWithoutRead,        // bits 2:0 are 010b or 110b
  ExecuteOnlyUnsupported,  // bits 2:0 are 100b and the processor has no execute-only support
  LargePageNotAllowed,     // bit 7 set in a PML5E or a PML4E, or in a PDPTE / PDE of a CPU
                           // without 1 GiB / 2 MiB EPT pages (bit 7 is reserved there)
  ReservedBit,             // a reserved bit of the entry's kind, MAXPHYADDR's included
  ReservedMemoryType,      // a leaf with memory type 2, 3 or 7
};

const char* ept_fault_name(EptFault f);
const char* ept_misconfig_reason_name(EptMisconfigReason r);

enum class EptAccess : uint8_t { Read, Write, Fetch };

// One guest-physical address through the table.
struct EptTranslation {
  EptFault fault = EptFault::None;
  unsigned level = 0;     // the leaf's level, or the level of the entry the walk stopped at
  uint64_t entry = 0;     // that entry
  uint64_t entry_pa = 0;  // and where it is
  EptMisconfigReason reason = EptMisconfigReason::None;
  std::string detail;  // one line for a fault, "" when translated
  // Translated only:
  uint64_t hpa = 0;
  uint64_t page_size = 0;
  bool read = false;  // effective: the AND of bit 0 over every entry of the walk
  bool write = false;
  bool exec = false;
  unsigned memory_type = 0;  // the leaf's bits 5:3
  bool ipat = false;
};

// Throws std::invalid_argument for a gpa at or above 2^(12 + 9 * levels).
EptTranslation ept_translate(const SimMemory& memory, uint64_t root_pa, uint64_t gpa,
                             const EptWalkConfig& config);
// The same, then an EPT violation unless the effective permissions allow the access.
EptTranslation ept_translate(const SimMemory& memory, uint64_t root_pa, uint64_t gpa,
                             EptAccess access, const EptWalkConfig& config);

// The leaf bits a mapping's attrs keep besides the address: RWX (replaced by the effective
// permissions), memory type, IPAT, A, D, bit 10, bits 58:52 (software) and bit 63.
inline constexpr uint64_t kEptTranslationAttrMask =
    0x7full | (uint64_t{7} << 8) | (uint64_t{0x7f} << 52) | (uint64_t{1} << 63);

struct EptMisconfiguredEntry {
  uint64_t gpa;
  uint64_t size;
  unsigned level;
  uint64_t entry;
  EptMisconfigReason reason;
  bool operator==(const EptMisconfiguredEntry&) const = default;
};

// The whole table, every GPA of 2^(12 + 9 * levels).
struct EptTableWalk {
  // mappings: gpa -> hpa with attrs = leaf & kEptTranslationAttrMask, bits 2:0 the effective
  // permissions. annotations: non-present entries that hold more than bit 63 (software content:
  // what a hypervisor keeps in them), at their level's size.
  Translation translation;
  std::vector<EptMisconfiguredEntry> misconfigurations;  // in GPA order
  std::vector<std::string> unreadable;                   // table pointers to no table page
};

// Within windows, only the entries that reach into them are read, whole: arch_walk() clips what
// they translate to the windows.
EptTableWalk ept_walk_table(const SimMemory& memory, uint64_t root_pa, const EptWalkConfig& config,
                            const IpaWindows* within = nullptr);

// As arch_walk() gives it for arm64: misconfigured entries whose bits 2:0 are 110b go to the
// annotations (write/execute without read is the encoding hypervisors give entries they want to
// trap on, KVM's MMIO SPTEs), every other misconfiguration and every unreadable table to the
// anomalies.
ArchWalk ept_arch_walk(const TableRoot& root, const SimMemory& memory, const EptWalkConfig& config,
                       const IpaWindows* within = nullptr);
// The same with the configuration of root's x86-ept format (read from its name, not from the
// trait): MAXPHYADDR, levels and execute-only; 2 MiB and 1 GiB pages supported. Throws
// std::invalid_argument when root's format is no x86-ept format.
ArchWalk ept_arch_walk(const TableRoot& root, const SimMemory& memory,
                       const IpaWindows* within = nullptr);

}  // namespace mmudiff
