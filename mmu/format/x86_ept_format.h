// SPDX-License-Identifier: GPL-2.0-only
// Intel EPT as a DescriptorFormat: the trait the oracles dispatch on, for one combination of the
// CPU's and KVM's EPT parameters (MAXPHYADDR, 4 or 5 levels, A/D bits, execute-only support).
// Written over the constants of x86_ept.h; the descriptor rules come from the Intel SDM (Vol. 3C,
// "EPT Translation Mechanism" and "EPT Misconfigurations"), KVM's software bits from Linux 6.12
// spte.h.
//
// Levels. The trait numbers levels from the root: trait level 0 is the PML4 of a 4-level table
// and the PML5 of a 5-level one; trait level levels() - 1 is the PT (4 KiB pages). The SDM and
// x86_ept.h number them the other way (1 = PT ... 5 = PML5): x86 level = levels() - trait level.
// describe() names entries the SDM's way ("PTE", "PDE", "PDPTE", "PML4E", "PML5E") so a dump
// never mixes the two numberings.
//
// Kinds:
//   Invalid  no translation: bits 2:0 (RWX) are 000b -- zero, KVM's non-present value (bit 63),
//            a frozen SPTE, an access-tracked SPTE -- or one of KVM's MMIO SPTEs: RWX = 110b with
//            bit 63 and the MMU-present bit (11) clear. MMIO SPTEs are EPT misconfigurations on
//            purpose (the exit is how KVM catches emulated MMIO); decode() shows them as "mmio"
//            with their memslot generation.
//   Table    a present entry that references a table: PML5E/PML4E, or PDPTE/PDE with bit 7 clear.
//   Block    a present PDPTE (1 GiB) or PDE (2 MiB) with bit 7 set; Page: a present PTE.
//   Reserved a present entry the SDM calls an EPT misconfiguration: W without R (010b, and 110b
//            that is not an MMIO SPTE), X-only (100b) without execute-only support, a reserved bit
//            set for its level and MAXPHYADDR (bit 7 in a PML5E/PML4E included), or a leaf memory
//            type 2, 3 or 7. Mode-based execute control is off: bit 10 (XU) is ignored, and both
//            Permissions execution flags follow bit 2.
//
// Memory types map onto MemoryType as: UC -> Device (strong uncacheable; note that x86 KVM maps
// host MMIO UC *and* executable, so arm64's "device is never executable" rule does not carry
// over), WC -> NormalNonCacheable, WT -> NormalWriteThrough, WP -> NormalWriteThrough (reads are
// cached, writes go through), WB -> NormalWriteBack, 2/3/7 -> Reserved. The EPT type alone: with
// IPAT clear the guest PAT combines with it, which a table does not show.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mmu/format/format.h"

namespace mmudiff {

struct X86EptParams {
  unsigned maxphyaddr = 46;  // 36..52
  unsigned levels = 4;       // 4 or 5
  bool ad = true;            // EPTP bit 6: bits 8 and 9 are the accessed and dirty flags
  bool execonly = true;      // IA32_VMX_EPT_VPID_CAP bit 0: RWX = 100b is allowed

  bool operator==(const X86EptParams&) const = default;
};

// The family prefix of every x86 EPT format's name.
inline constexpr std::string_view kX86EptFamily = "x86-ept";

bool valid_x86_ept_params(const X86EptParams& p);
// "maxphyaddr=46 levels=4 ad=1 execonly=1": the words of the .mmu init line.
std::string describe_x86_ept_params(const X86EptParams& p);

// The format for p, one interned instance per combination (safe to call from any thread); its
// name() is "x86-ept " + describe_x86_ept_params(p). Throws std::invalid_argument for parameters
// out of range.
const DescriptorFormat& x86_ept_format(const X86EptParams& p);

// The parameters of an x86 EPT format, read back from its name; nullopt for any other format.
std::optional<X86EptParams> x86_ept_params(const DescriptorFormat& format);
std::optional<X86EptParams> parse_x86_ept_name(std::string_view name);

// The SDM's level numbering from the trait's, and back.
inline constexpr unsigned x86_level(unsigned trait_level, unsigned levels) {
  return levels - trait_level;
}
inline constexpr unsigned trait_level(unsigned x86_level, unsigned levels) {
  return levels - x86_level;
}

}  // namespace mmudiff
