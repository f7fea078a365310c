// SPDX-License-Identifier: GPL-2.0-only
// Two readings of "which EPT entries are bad", each written once over a bit-vector domain so the
// same source gives numbers (EptIntegerBits) and Z3 formulas (SymbolicBits):
//
//  (a) KVM's shadow_zero_check for EPT: struct rsvd_bits_validate as Linux 6.12 mmu.c's
//      __reset_rsvds_bits_mask_ept() fills it (rsvd_bits_mask[bit 7][level - 1] and bad_mt_xwr,
//      from the reserved physical-address bits, execute-only support and the largest huge-page
//      level), and spte.h's is_rsvd_spte() that make_spte() is WARN_ONCE'd against. The TDP MMU's
//      own check is reset_tdp_shadow_zero_bits_mask()'s: execute-only always false.
//  (b) The Intel SDM's EPT misconfiguration rules (Vol. 3C, "EPT Misconfigurations" and the
//      "Format of an EPT ... Entry" tables), written from the manual, not from (a).
//
// The integer side is what the lead compares, input by input, with the compiled kernel's
// __reset_rsvds_bits_mask_ept(): same arguments, same struct layout (RsvdBitsValidate).
//
// Levels are the SDM's and KVM's: 1 = PTE ... 5 = PML5E.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <z3++.h>

#include "models/symbolic_bits.h"

namespace mmudiff::models {

// The concrete domain: 64-bit integers.
struct EptIntegerBits {
  using Word = uint64_t;
  using Bool = bool;
  static constexpr Word lit(uint64_t v) { return v; }
  static constexpr Bool any(Word w) { return w != 0; }
  static constexpr Word select(Bool c, Word a, Word b) { return c ? a : b; }
  // w >> n for a variable n (x86's shift counts are taken modulo 64; n < 64 here).
  static constexpr Word shift_right(Word w, Word n) { return w >> (n & 63); }
};
inline constexpr EptIntegerBits kEptIntegerBits{};

// What the models need of SymbolicBits beyond its own operations.
inline z3::expr choose(const SymbolicBits&, const z3::expr& c, const z3::expr& a,
                       const z3::expr& b) {
  return z3::ite(c, a, b);
}
inline z3::expr truth(const SymbolicBits& b, bool v) {
  return b.ctx->bool_val(v);
}
inline z3::expr shift_right(const SymbolicBits&, const z3::expr& w, const z3::expr& n) {
  return z3::lshr(w, n);
}
inline bool choose(const EptIntegerBits&, bool c, bool a, bool b) {
  return c ? a : b;
}
inline bool truth(const EptIntegerBits&, bool v) {
  return v;
}
inline uint64_t shift_right(const EptIntegerBits&, uint64_t w, uint64_t n) {
  return EptIntegerBits::shift_right(w, n);
}

// KVM's huge-page levels (PG_LEVEL_*).
inline constexpr int kPgLevel4K = 1;
inline constexpr int kPgLevel2M = 2;
inline constexpr int kPgLevel1G = 3;
inline constexpr int kRootMaxLevel = 5;  // PT64_ROOT_MAX_LEVEL

// mmu.h's rsvd_bits(s, e): bits s..e set (e taken modulo 64), none when e < s.
inline constexpr uint64_t kvm_rsvd_bits(int s, int e) {
  e &= 63;
  return e < s ? 0 : ((uint64_t{2} << (e - s)) - 1) << s;
}
// include/linux/wordpart.h's REPEAT_BYTE(x): x in every byte.
inline constexpr uint64_t repeat_byte(uint64_t x) {
  return (~uint64_t{0} / 0xff) * x;
}
// mmu.c's reserved_hpa_bits(): every bit from MAXPHYADDR up.
inline constexpr uint64_t reserved_hpa_bits(unsigned maxphyaddr) {
  return kvm_rsvd_bits(static_cast<int>(maxphyaddr), 63);
}

// struct rsvd_bits_validate (asm/kvm_host.h), over a domain.
template <class D>
struct RsvdBitsValidate {
  typename D::Word rsvd_bits_mask[2][kRootMaxLevel];
  typename D::Word bad_mt_xwr;
};

// __reset_rsvds_bits_mask_ept(): rsvd_bits_mask[0] is for entries with bit 7 clear,
// rsvd_bits_mask[1] for bit 7 set, each indexed by level - 1; bad_mt_xwr has bit (MT << 3 | XWR)
// set for every bad combination of bits 5:0.
template <class D>
RsvdBitsValidate<D> reset_rsvds_bits_mask_ept(const D& d, typename D::Word pa_bits_rsvd,
                                              typename D::Bool execonly, int huge_page_level) {
  using W = typename D::Word;
  const W high_bits_rsvd = pa_bits_rsvd & d.lit(kvm_rsvd_bits(0, 51));
  const uint64_t large_1g_rsvd = huge_page_level < kPgLevel1G ? kvm_rsvd_bits(7, 7) : 0;
  const uint64_t large_2m_rsvd = huge_page_level < kPgLevel2M ? kvm_rsvd_bits(7, 7) : 0;

  RsvdBitsValidate<D> c{{{d.lit(0), d.lit(0), d.lit(0), d.lit(0), d.lit(0)},
                         {d.lit(0), d.lit(0), d.lit(0), d.lit(0), d.lit(0)}},
                        d.lit(0)};
  c.rsvd_bits_mask[0][4] = high_bits_rsvd | d.lit(kvm_rsvd_bits(3, 7));
  c.rsvd_bits_mask[0][3] = high_bits_rsvd | d.lit(kvm_rsvd_bits(3, 7));
  c.rsvd_bits_mask[0][2] = high_bits_rsvd | d.lit(kvm_rsvd_bits(3, 6) | large_1g_rsvd);
  c.rsvd_bits_mask[0][1] = high_bits_rsvd | d.lit(kvm_rsvd_bits(3, 6) | large_2m_rsvd);
  c.rsvd_bits_mask[0][0] = high_bits_rsvd;
  // Bit 7 set: a huge page, or (PML5E/PML4E) a bit the bit-7-clear mask already reserves.
  c.rsvd_bits_mask[1][4] = c.rsvd_bits_mask[0][4];
  c.rsvd_bits_mask[1][3] = c.rsvd_bits_mask[0][3];
  c.rsvd_bits_mask[1][2] = high_bits_rsvd | d.lit(kvm_rsvd_bits(12, 29) | large_1g_rsvd);
  c.rsvd_bits_mask[1][1] = high_bits_rsvd | d.lit(kvm_rsvd_bits(12, 20) | large_2m_rsvd);
  c.rsvd_bits_mask[1][0] = c.rsvd_bits_mask[0][0];

  uint64_t bad = uint64_t{0xff} << (2 * 8);  // memory type 2, any XWR
  bad |= uint64_t{0xff} << (3 * 8);          // memory type 3
  bad |= uint64_t{0xff} << (7 * 8);          // memory type 7
  bad |= repeat_byte(uint64_t{1} << 2);      // XWR = 010b, any memory type
  bad |= repeat_byte(uint64_t{1} << 6);      // XWR = 110b
  c.bad_mt_xwr = d.select(execonly, d.lit(bad), d.lit(bad | repeat_byte(uint64_t{1} << 4)));
  return c;
}

// spte.h: get_rsvd_bits(), __is_bad_mt_xwr(), is_rsvd_spte().
template <class D>
typename D::Word get_rsvd_bits(const D& d, const RsvdBitsValidate<D>& c, typename D::Word spte,
                               int level) {
  const int i = level - 1;
  return d.select(d.any(spte & d.lit(uint64_t{1} << 7)), c.rsvd_bits_mask[1][i],
                  c.rsvd_bits_mask[0][i]);
}
template <class D>
typename D::Bool is_bad_mt_xwr(const D& d, const RsvdBitsValidate<D>& c, typename D::Word spte) {
  return d.any(shift_right(d, c.bad_mt_xwr, spte & d.lit(0x3f)) & d.lit(1));
}
template <class D>
typename D::Bool is_rsvd_spte(const D& d, const RsvdBitsValidate<D>& c, typename D::Word spte,
                              int level) {
  return is_bad_mt_xwr(d, c, spte) || d.any(spte & get_rsvd_bits(d, c, spte, level));
}

// The TDP MMU's shadow_zero_check on Intel (reset_tdp_shadow_zero_bits_mask without SME/TDX's
// shadow_me_mask): the host's reserved physical bits, execute-only never allowed.
template <class D>
RsvdBitsValidate<D> tdp_shadow_zero_check(const D& d, unsigned maxphyaddr, int huge_page_level) {
  return reset_rsvds_bits_mask_ept(d, d.lit(reserved_hpa_bits(maxphyaddr)), truth(d, false),
                                   huge_page_level);
}

// ---- (b) The SDM -----------------------------------------------------------------------------

struct SdmEptRules {
  unsigned maxphyaddr = 46;
  bool execonly = true;   // IA32_VMX_EPT_VPID_CAP bit 0
  bool gb_pages = true;   // IA32_VMX_EPT_VPID_CAP bit 17: 1 GiB leaves in a PDPTE
  bool mb2_pages = true;  // IA32_VMX_EPT_VPID_CAP bit 16: 2 MiB leaves in a PDE
};

// Each condition of "EPT Misconfigurations" on its own, for an entry at level; all false for
// an entry whose bits 2:0 are 000b (not present: its other bits are not looked at).
template <class D>
struct SdmMisconfig {
  typename D::Bool write_without_read;        // bits 2:0 = 010b or 110b
  typename D::Bool execute_only_unsupported;  // 100b without execute-only support
  typename D::Bool page_size_not_allowed;     // bit 7 in a PML5E/PML4E, or where the CPU has
                                              // no pages of that size
  typename D::Bool reserved_bit;              // a reserved bit of the entry's format
  typename D::Bool reserved_memory_type;      // a leaf of memory type 2, 3 or 7

  typename D::Bool any() const {
    return write_without_read || execute_only_unsupported || page_size_not_allowed ||
           reserved_bit || reserved_memory_type;
  }
};

template <class D>
SdmMisconfig<D> sdm_misconfig(const D& d, typename D::Word e, unsigned level,
                              const SdmEptRules& r) {
  using W = typename D::Word;
  auto bits = [&](unsigned hi, unsigned lo) {
    return d.lit(hi < lo ? 0 : (~uint64_t{0} >> (63 - hi)) & (~uint64_t{0} << lo));
  };
  const W xwr = e & d.lit(7);
  const auto present = d.any(xwr);
  const auto ps = d.any(e & d.lit(uint64_t{1} << 7));
  const W above_maxphyaddr = bits(51, r.maxphyaddr);
  const W mt = e & bits(5, 3);
  const auto bad_type = mt == d.lit(2 << 3) || mt == d.lit(3 << 3) || mt == d.lit(7 << 3);

  auto leaf_reserved = [&]() -> W {
    if (level == 3) return above_maxphyaddr | bits(29, 12);  // Table "EPT PDPTE that maps 1G"
    if (level == 2) return above_maxphyaddr | bits(20, 12);  // "EPT PDE that maps a 2-MB page"
    return above_maxphyaddr;                                 // "EPT PTE": bit 7 ignored
  };
  // "... that references an EPT page directory / page table": 6:3 reserved, 7 clear.
  const W table_reserved = above_maxphyaddr | bits(6, 3);

  SdmMisconfig<D> m{truth(d, false), truth(d, false), truth(d, false), truth(d, false),
                    truth(d, false)};
  m.write_without_read = xwr == d.lit(2) || xwr == d.lit(6);
  m.execute_only_unsupported = xwr == d.lit(4) && truth(d, !r.execonly);
  if (level >= 4) {
    // PML5E, PML4E: 7:3 reserved.
    m.page_size_not_allowed = present && ps;
    m.reserved_bit = present && d.any(e & (above_maxphyaddr | bits(6, 3)));
  } else if (level == 1) {
    m.reserved_bit = present && d.any(e & leaf_reserved());
    m.reserved_memory_type = present && bad_type;
  } else {
    // Without 2 MiB / 1 GiB EPT pages, bit 7 of a PDE / PDPTE is reserved (SDM 29.3.2).
    m.page_size_not_allowed =
        present && ps && truth(d, (level == 3 && !r.gb_pages) || (level == 2 && !r.mb2_pages));
    m.reserved_bit =
        present && choose(d, ps, d.any(e & leaf_reserved()), d.any(e & table_reserved));
    m.reserved_memory_type = present && ps && bad_type;
  }
  return m;
}

// ---- Concrete conveniences --------------------------------------------------------------------

using ConcreteRsvdCheck = RsvdBitsValidate<EptIntegerBits>;

// One input of __reset_rsvds_bits_mask_ept as KVM calls it: pa_bits_rsvd is
// reserved_hpa_bits(maxphyaddr).
struct ZeroCheckInput {
  unsigned maxphyaddr;
  bool execonly;
  int huge_page_level;
};
// Every input KVM can call it with on a CPU with EPT: MAXPHYADDR 36..52, execute-only off and on,
// huge-page level 4K, 2M, 1G (102 combinations).
std::vector<ZeroCheckInput> zero_check_inputs();

// __reset_rsvds_bits_mask_ept(rsvd_check, pa_bits_rsvd, execonly, huge_page_level), evaluated.
ConcreteRsvdCheck kvm_reset_rsvds_bits_mask_ept(uint64_t pa_bits_rsvd, bool execonly,
                                                int huge_page_level);
ConcreteRsvdCheck kvm_tdp_shadow_zero_check(unsigned maxphyaddr, int huge_page_level);
bool kvm_is_rsvd_spte(const ConcreteRsvdCheck& c, uint64_t spte, int level);
// The first SDM condition e breaks at level, in words ("" when e is fine).
std::string sdm_misconfig_reason(uint64_t e, unsigned level, const SdmEptRules& r);

}  // namespace mmudiff::models
