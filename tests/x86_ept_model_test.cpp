// SPDX-License-Identifier: GPL-2.0-only
// The EPT models: KVM's shadow_zero_check masks against values worked out by hand from the SDM's
// entry formats, the formula against its own integer evaluation, KVM's check against the SDM's
// rules (equal on present entries, apart where KVM is stricter), and the SPTE-constructor proofs
// on a constructor written here from the SDM -- which they prove -- and on broken ones, which
// each must fail with a counterexample that shows the break.
#include <gtest/gtest.h>

#include <random>

#include "mmu/format/x86_ept.h"
#include "models/solver.h"
#include "models/x86_ept_model.h"
#include "models/x86_ept_proofs.h"

namespace mmudiff::models {
namespace {

namespace e = x86ept;

Solver& shared_solver() {
  static Solver solver;
  return solver;
}

// Bits 51..N: the address bits at and above MAXPHYADDR N, by hand.
constexpr uint64_t kHigh36 = 0x000f'fff0'0000'0000ULL;
constexpr uint64_t kHigh46 = 0x000f'c000'0000'0000ULL;
constexpr uint64_t kHigh52 = 0;

TEST(KvmZeroCheck, RsvdBitsIsTheKernelsInclusiveRange) {
  EXPECT_EQ(kvm_rsvd_bits(3, 7), 0xf8u);
  EXPECT_EQ(kvm_rsvd_bits(12, 20), 0x1f'f000u);
  EXPECT_EQ(kvm_rsvd_bits(0, 63), ~uint64_t{0});
  EXPECT_EQ(kvm_rsvd_bits(8, 7), 0u);
  EXPECT_EQ(reserved_hpa_bits(46), 0xffff'c000'0000'0000ULL);
  EXPECT_EQ(reserved_hpa_bits(52), 0xfff0'0000'0000'0000ULL);
  EXPECT_EQ(repeat_byte(0x44), 0x4444'4444'4444'4444ULL);
}

// The SDM's entry formats at MAXPHYADDR N: a PML5E/PML4E reserves 7:3, a PDPTE/PDE that
// references a table 6:3 (7 is clear by definition), a 1 GiB leaf 29:12, a 2 MiB leaf 20:12, a PTE
// nothing below N; every entry reserves 51:N.
void expect_sdm_masks(const ConcreteRsvdCheck& c, uint64_t high) {
  EXPECT_EQ(c.rsvd_bits_mask[0][4], high | 0xf8);
  EXPECT_EQ(c.rsvd_bits_mask[0][3], high | 0xf8);
  EXPECT_EQ(c.rsvd_bits_mask[0][2], high | 0x78);
  EXPECT_EQ(c.rsvd_bits_mask[0][1], high | 0x78);
  EXPECT_EQ(c.rsvd_bits_mask[0][0], high);
  EXPECT_EQ(c.rsvd_bits_mask[1][4], high | 0xf8);
  EXPECT_EQ(c.rsvd_bits_mask[1][3], high | 0xf8);
  EXPECT_EQ(c.rsvd_bits_mask[1][2], high | 0x3fff'f000);
  EXPECT_EQ(c.rsvd_bits_mask[1][1], high | 0x1f'f000);
  EXPECT_EQ(c.rsvd_bits_mask[1][0], high);
}

TEST(KvmZeroCheck, MasksAreTheSdmsReservedBitsForMaxphyaddr36_46_52) {
  expect_sdm_masks(kvm_tdp_shadow_zero_check(36, kPgLevel1G), kHigh36);
  expect_sdm_masks(kvm_tdp_shadow_zero_check(46, kPgLevel1G), kHigh46);
  expect_sdm_masks(kvm_tdp_shadow_zero_check(52, kPgLevel1G), kHigh52);
}

TEST(KvmZeroCheck, WithoutHugePagesBit7IsReservedWhereTheyWouldBe) {
  const ConcreteRsvdCheck two_m = kvm_tdp_shadow_zero_check(46, kPgLevel2M);
  EXPECT_EQ(two_m.rsvd_bits_mask[0][2], kHigh46 | 0xf8);  // PDPTE: 6:3 and 7
  EXPECT_EQ(two_m.rsvd_bits_mask[1][2], kHigh46 | 0x3fff'f000 | 0x80);
  EXPECT_EQ(two_m.rsvd_bits_mask[1][1], kHigh46 | 0x1f'f000);  // 2 MiB leaves still fine
  const ConcreteRsvdCheck four_k = kvm_tdp_shadow_zero_check(46, kPgLevel4K);
  EXPECT_EQ(four_k.rsvd_bits_mask[0][1], kHigh46 | 0xf8);
  EXPECT_EQ(four_k.rsvd_bits_mask[1][1], kHigh46 | 0x1f'f000 | 0x80);
}

TEST(KvmZeroCheck, BadMtXwrHasMemoryTypes2_3_7AndWriteWithoutRead) {
  // Byte k is memory type k, bit j of it XWR = j: types 2, 3, 7 whole; XWR 010b and 110b in every
  // type; without execute-only also XWR 100b.
  EXPECT_EQ(kvm_reset_rsvds_bits_mask_ept(reserved_hpa_bits(46), true, kPgLevel1G).bad_mt_xwr,
            0xff44'4444'ffff'4444ULL);
  EXPECT_EQ(kvm_reset_rsvds_bits_mask_ept(reserved_hpa_bits(46), false, kPgLevel1G).bad_mt_xwr,
            0xff54'5454'ffff'5454ULL);
  EXPECT_EQ(kvm_tdp_shadow_zero_check(46, kPgLevel1G).bad_mt_xwr, 0xff54'5454'ffff'5454ULL);
}

TEST(KvmZeroCheck, IsRsvdSpteOnHandBuiltSptes) {
  const ConcreteRsvdCheck c = kvm_tdp_shadow_zero_check(46, kPgLevel1G);
  const uint64_t wb_page = 0x1234'5000 | (6 << 3) | e::kRead | e::kWrite | e::kExec;
  EXPECT_FALSE(kvm_is_rsvd_spte(c, wb_page, 1));
  EXPECT_TRUE(kvm_is_rsvd_spte(c, wb_page | e::bit(46), 1));   // above MAXPHYADDR
  EXPECT_FALSE(kvm_is_rsvd_spte(c, wb_page | e::bit(52), 1));  // software bits are free
  EXPECT_TRUE(kvm_is_rsvd_spte(c, (wb_page & ~e::kRead), 1));  // W without R
  EXPECT_TRUE(kvm_is_rsvd_spte(c, e::kExec | (6 << 3), 1));    // X-only: TDP check refuses
  EXPECT_TRUE(kvm_is_rsvd_spte(c, (wb_page & ~e::kMemTypeMask) | (2 << 3), 1));
  EXPECT_TRUE(kvm_is_rsvd_spte(c, wb_page | e::kLargePage, 2));  // 0x12345000: not 2M-aligned
  EXPECT_FALSE(kvm_is_rsvd_spte(c, 0x1240'0000 | (6 << 3) | 7 | e::kLargePage, 2));
  EXPECT_FALSE(kvm_is_rsvd_spte(c, 0x4000'0000 | (6 << 3) | 7 | e::kLargePage, 3));
  EXPECT_TRUE(kvm_is_rsvd_spte(c, 0x1000 | 7 | (6 << 3), 2));  // MT in a table entry
  EXPECT_TRUE(kvm_is_rsvd_spte(c, 0x1000 | 7 | e::kLargePage, 4));
  EXPECT_FALSE(kvm_is_rsvd_spte(c, 0x1000 | 7 | e::kAccessed | e::kMmuPresent | e::kSuppressVe, 4));
}

TEST(KvmZeroCheck, TheFormulaIsItsOwnIntegerEvaluation) {
  Solver& s = shared_solver();
  const SymbolicBits b{&s.ctx()};
  std::mt19937_64 rng(16);
  for (unsigned maxphyaddr : {36u, 41u, 46u, 52u}) {
    for (int hpl : {kPgLevel4K, kPgLevel1G}) {
      for (bool execonly : {false, true}) {
        const ConcreteRsvdCheck c =
            kvm_reset_rsvds_bits_mask_ept(reserved_hpa_bits(maxphyaddr), execonly, hpl);
        const auto z = reset_rsvds_bits_mask_ept(b, b.lit(reserved_hpa_bits(maxphyaddr)),
                                                 s.ctx().bool_val(execonly), hpl);
        for (int i = 0; i < 40; ++i) {
          uint64_t v = rng();
          if (i % 2) v &= 0x000f'ffff'ffff'f0ffULL;  // fewer high bits: more accepted
          for (int level = 1; level <= 5; ++level) {
            z3::expr f = is_rsvd_spte(b, z, b.lit(v), level).simplify();
            ASSERT_TRUE(f.is_true() || f.is_false());
            ASSERT_EQ(f.is_true(), kvm_is_rsvd_spte(c, v, level))
                << std::hex << v << " level " << level;
          }
        }
      }
    }
  }
}

// Two readings of the same manual agree: with the CPU's execute-only setting and page sizes, KVM's
// check rejects a present entry exactly when the SDM calls it misconfigured.
TEST(KvmZeroCheck, EqualsTheSdmOnPresentEntriesForEveryInputAndLevel) {
  EXPECT_EQ(zero_check_inputs().size(), 17u * 2 * 3);
  ProofResult r = prove_zero_check_is_sdm(shared_solver());
  EXPECT_EQ(r.answer, Answer::Proved)
      << (r.counterexample ? format_counterexample(*r.counterexample) : r.unknown_reason);
  EXPECT_EQ(r.backend, "model");
}

TEST(KvmZeroCheck, IsStricterThanTheSdmOnNonPresentEntriesAndWithoutHugePages) {
  Solver& s = shared_solver();
  const SymbolicBits b{&s.ctx()};
  {
    Solver::Scope scope(s);
    z3::expr spte = s.word("spte");
    s.assume((spte & b.lit(7)) == b.lit(0));
    const auto kvm = tdp_shadow_zero_check(b, 46, kPgLevel1G);
    z3::expr sdm = sdm_misconfig(b, spte, 1, {46, false, true}).any();
    ASSERT_EQ(s.find(is_rsvd_spte(b, kvm, spte, 1) && !sdm).answer, Answer::Counterexample);
    const uint64_t v = s.value(spte);
    EXPECT_EQ(v & 7, 0u);
    EXPECT_TRUE(sdm_misconfig_reason(v, 1, {46, false, true}).empty());
    EXPECT_TRUE(kvm_is_rsvd_spte(kvm_tdp_shadow_zero_check(46, kPgLevel1G), v, 1));
  }
  {
    Solver::Scope scope(s);
    z3::expr spte = s.word("spte");
    const auto kvm = tdp_shadow_zero_check(b, 46, kPgLevel2M);
    z3::expr sdm = sdm_misconfig(b, spte, 3, {46, false, true}).any();
    ASSERT_EQ(s.find(is_rsvd_spte(b, kvm, spte, 3) && !sdm && (spte & b.lit(7)) != b.lit(0)).answer,
              Answer::Counterexample);
    EXPECT_TRUE(s.value(spte) & e::kLargePage);  // a 1 GiB leaf, which the CPU would take
  }
}

TEST(SdmRules, NameEachMisconfiguration) {
  const SdmEptRules r{46, false, true};
  EXPECT_EQ(sdm_misconfig_reason(0x1000 | 7, 4, r), "");
  EXPECT_EQ(sdm_misconfig_reason(0x1000 | 2, 4, r), "write without read (bits 2:0 = 010b or 110b)");
  EXPECT_EQ(sdm_misconfig_reason(0x1000 | 6, 1, r), "write without read (bits 2:0 = 010b or 110b)");
  EXPECT_EQ(sdm_misconfig_reason(0x1000 | 4 | (6 << 3), 1, r),
            "execute-only (100b) without execute-only support");
  EXPECT_EQ(sdm_misconfig_reason(0x1000 | 4 | (6 << 3), 1, {46, true, true}), "");
  EXPECT_EQ(sdm_misconfig_reason(0x1000 | 7 | e::kLargePage, 5, r),
            "bit 7 set where no page may be mapped");
  EXPECT_EQ(sdm_misconfig_reason(0x4000'0000 | 7 | e::kLargePage | (6 << 3), 3, {46, false, false}),
            "bit 7 set where no page may be mapped");
  EXPECT_EQ(sdm_misconfig_reason(e::bit(46) | 7 | (6 << 3), 1, r),
            "a reserved bit for its level and MAXPHYADDR");
  EXPECT_EQ(sdm_misconfig_reason(e::bit(46) | 7 | (6 << 3), 1, {47, false, true}), "");
  EXPECT_EQ(sdm_misconfig_reason(0x20'0000 | 0x1000 | 7 | e::kLargePage | (6 << 3), 2, r),
            "a reserved bit for its level and MAXPHYADDR");  // a 2 MiB leaf not aligned
  EXPECT_EQ(sdm_misconfig_reason(0x1000 | 7 | (7 << 3), 1, r), "leaf memory type 2, 3 or 7");
  EXPECT_EQ(sdm_misconfig_reason(0x1000 | 7 | (6 << 3), 2, r),
            "a reserved bit for its level and MAXPHYADDR");  // MT in a table entry
  // Bit 7 of a PTE, and bits 63:52, 11, 10, 9, 8 of anything, are not reserved.
  EXPECT_EQ(sdm_misconfig_reason(
                0x1000 | 7 | (6 << 3) | e::kLargePage | (0xfffULL << 52) | (0xfULL << 8), 1, r),
            "");
  // Not present: nothing else is looked at.
  EXPECT_EQ(sdm_misconfig_reason(~uint64_t{7}, 4, r), "");
}

// ---- The SPTE-constructor proofs -------------------------------------------------------------

// How a leaf is broken, if at all.
enum class Break {
  None,
  ReservedHighBit,
  WriteWithoutRead,
  ExecOnly,
  MemoryType2,
  TableMemType,
  NonPresent,
  WriteWhenReadOnly
};

// An SPTE constructor written from the SDM, in KVM's layout (spte.h): present entries carry the
// MMU-present bit and "suppress #VE"; R for every readable mapping (always with the TDP MMU), W
// only for a writable host mapping, X as asked; the memory type and IPAT in a leaf; PS above 4 KiB;
// with A/D the accessed flag unless prefetched and dirty with W; without A/D the A/D-disabled
// state, and a prefetched SPTE is access-tracked (R and X saved, RWX cleared).
template <Break K>
struct SdmConstructor {
  static constexpr const char* kName = "sdm-constructor";

  static z3::expr leaf(const SymbolicBits& b, const EptLeafRequest& q, const EptSpteConfig& c) {
    auto has = [&](uint64_t acc) { return (q.access & b.lit(acc)) != b.lit(0); };
    auto when = [&](const z3::expr& cond, uint64_t bits) {
      return b.select(cond, b.lit(bits), b.lit(0));
    };
    z3::expr writable = has(kAccWrite) && q.host_writable;
    if (K == Break::WriteWhenReadOnly) writable = has(kAccWrite);  // ignores the host mapping
    z3::expr read = has(kAccUser) || b.ctx->bool_val(!c.execonly);
    if (K == Break::WriteWithoutRead)
      read = !writable || b.ctx->bool_val(!c.execonly);                    // R lost with W
    if (K == Break::ExecOnly) read = !(has(kAccExec) && !has(kAccWrite));  // R dropped for RX
    z3::expr mt = q.memory_type;
    if (K == Break::MemoryType2) mt = b.select(mt == b.lit(1), b.lit(2), mt);  // WC written as 2
    z3::expr spte =
        b.lit(e::kMmuPresent | e::kSuppressVe) | b.shl(q.pfn, e::kPageShift) |
        when(read, e::kRead) | when(writable, e::kWrite | e::kMmuWritable) |
        when(has(kAccExec), e::kExec) | b.shl(mt, e::kMemTypeShift) | when(q.ipat, e::kIgnorePat) |
        when(q.host_writable, K == Break::ReservedHighBit ? e::bit(51) : e::kHostWritable) |
        b.lit(q.level > 1 ? e::kLargePage : 0);
    if (K == Break::NonPresent) return b.lit(e::kNonPresent);
    if (c.ad) {
      return spte | when(!q.prefetch, e::kAccessed) | when(writable && !q.prefetch, e::kDirty);
    }
    spte = spte | b.lit(e::kAdDisabled);
    const z3::expr saved = b.shl(spte & b.lit(e::kAccTrackSavedBits), e::kAccTrackSavedShift);
    return b.select(q.prefetch, (spte | saved) & b.lit(~e::kRwxMask), spte);
  }

  static z3::expr nonleaf(const SymbolicBits& b, const z3::expr& table_pa, unsigned,
                          const EptSpteConfig& c) {
    uint64_t bits = e::kMmuPresent | e::kSuppressVe | e::kRead | e::kWrite | e::kExec |
                    (c.ad ? e::kAccessed : e::kAdDisabled);
    if (K == Break::TableMemType) bits |= e::kMemTypeWb << e::kMemTypeShift;
    return (table_pa & b.lit(e::addr_mask(c.maxphyaddr))) | b.lit(bits);
  }
};

TEST(EptProofs, HoldForAConstructorWrittenFromTheSdm) {
  ProofResult leaf = prove_ept_leaf_sptes<SdmConstructor<Break::None>>(shared_solver());
  EXPECT_EQ(leaf.answer, Answer::Proved)
      << (leaf.counterexample ? format_counterexample(*leaf.counterexample) : leaf.unknown_reason);
  EXPECT_EQ(leaf.name, "sdm-constructor.ept.leaf-spte-valid");
  ProofResult table = prove_ept_nonleaf_sptes<SdmConstructor<Break::None>>(shared_solver());
  EXPECT_EQ(table.answer, Answer::Proved)
      << (table.counterexample ? format_counterexample(*table.counterexample)
                               : table.unknown_reason);
}

uint64_t input(const Counterexample& c, const std::string& name) {
  for (const auto& [n, v] : c.inputs)
    if (n == name) return v;
  ADD_FAILURE() << "no input " << name;
  return 0;
}

Counterexample failed(const ProofResult& r) {
  EXPECT_EQ(r.answer, Answer::Counterexample) << r.name;
  if (!r.counterexample) throw std::runtime_error(r.name + ": no counterexample");
  EXPECT_FALSE(r.counterexample->violated.empty());
  EXPECT_NE(format_counterexample(*r.counterexample).find("counterexample: maxphyaddr="),
            std::string::npos);
  return *r.counterexample;
}

TEST(EptProofs, AReservedBitAboveMaxphyaddrIsACounterexample) {
  const Counterexample c =
      failed(prove_ept_leaf_sptes<SdmConstructor<Break::ReservedHighBit>>(shared_solver()));
  EXPECT_LT(input(c, "maxphyaddr"), 52u);
  EXPECT_EQ(input(c, "host_writable"), 1u);
  EXPECT_TRUE(c.descriptor & e::bit(51));
  EXPECT_NE(c.violated.find("shadow_zero_check accepts it"), std::string::npos) << c.violated;
  // An access-tracked SPTE (A/D off, prefetched) is not present: only KVM looks at its bits.
  if (c.descriptor & e::kRwxMask) {
    EXPECT_NE(c.violated.find("no EPT misconfiguration (SDM)"), std::string::npos) << c.violated;
    EXPECT_NE(c.violated.find("a reserved bit for its level and MAXPHYADDR"), std::string::npos);
    EXPECT_NE(c.decoded.find("reserved=0x8"), std::string::npos) << c.decoded;
  }
}

TEST(EptProofs, WriteWithoutReadIsACounterexample) {
  const Counterexample c =
      failed(prove_ept_leaf_sptes<SdmConstructor<Break::WriteWithoutRead>>(shared_solver()));
  EXPECT_EQ(input(c, "execonly"), 1u);
  EXPECT_TRUE(input(c, "access") & kAccWrite);
  EXPECT_EQ(c.descriptor & e::kRead, 0u);
  EXPECT_TRUE(c.descriptor & e::kWrite);
  EXPECT_NE(c.violated.find("write without read"), std::string::npos) << c.violated;
  EXPECT_NE(c.decoded.find("writable but not readable"), std::string::npos) << c.decoded;
}

TEST(EptProofs, ExecuteOnlyWithoutSupportIsACounterexample) {
  const Counterexample c =
      failed(prove_ept_leaf_sptes<SdmConstructor<Break::ExecOnly>>(shared_solver()));
  EXPECT_EQ(c.descriptor & e::kRwxMask, e::kExec);
  EXPECT_EQ(input(c, "execonly"), 0u);  // the first configuration it breaks
  EXPECT_NE(c.violated.find("execute-only (100b) without execute-only support"), std::string::npos)
      << c.violated;
  // With execute-only support the SDM takes it, but the TDP MMU's check (built with execute-only
  // false) still refuses it.
  EXPECT_TRUE(kvm_is_rsvd_spte(kvm_tdp_shadow_zero_check(46, kPgLevel1G), c.descriptor,
                               static_cast<int>(c.level)));
  EXPECT_EQ(sdm_misconfig_reason(c.descriptor, c.level,
                                 {static_cast<unsigned>(input(c, "maxphyaddr")), true, true}),
            "");
}

TEST(EptProofs, MemoryType2IsACounterexample) {
  const Counterexample c =
      failed(prove_ept_leaf_sptes<SdmConstructor<Break::MemoryType2>>(shared_solver()));
  EXPECT_EQ(input(c, "memory_type"), 1u);
  EXPECT_EQ((c.descriptor & e::kMemTypeMask) >> e::kMemTypeShift, 2u);
  EXPECT_NE(c.violated.find("bad MT/XWR"), std::string::npos) << c.violated;
  if (c.descriptor & e::kRwxMask) {
    EXPECT_NE(c.violated.find("leaf memory type 2, 3 or 7"), std::string::npos) << c.violated;
    EXPECT_NE(c.decoded.find("reserved memory type"), std::string::npos) << c.decoded;
  }
}

// The proof is about more than reserved bits: an SPTE that maps nothing passes those checks, one
// that is writable over a read-only host mapping too.
TEST(EptProofs, AConstructorThatMapsNothingOrGrantsTooMuchIsACounterexample) {
  const Counterexample none =
      failed(prove_ept_leaf_sptes<SdmConstructor<Break::NonPresent>>(shared_solver()));
  EXPECT_EQ(none.descriptor, e::kNonPresent);
  EXPECT_NE(none.violated.find("SDM: no misconfiguration"), std::string::npos) << none.violated;
  const Counterexample rw =
      failed(prove_ept_leaf_sptes<SdmConstructor<Break::WriteWhenReadOnly>>(shared_solver()));
  EXPECT_EQ(input(rw, "host_writable"), 0u);
  EXPECT_TRUE(rw.descriptor & e::kWrite);
  EXPECT_EQ(rw.violated.rfind("writable only if asked and the host mapping is writable [", 0), 0u)
      << rw.violated;
}

TEST(EptProofs, AMemoryTypeInATableEntryIsACounterexample) {
  const Counterexample c =
      failed(prove_ept_nonleaf_sptes<SdmConstructor<Break::TableMemType>>(shared_solver()));
  EXPECT_EQ(c.level, 2u);
  EXPECT_EQ(input(c, "maxphyaddr"), 36u);
  EXPECT_NE(c.violated.find("a reserved bit for its level and MAXPHYADDR"), std::string::npos);
  EXPECT_EQ(c.decoded.rfind("PDE reserved", 0), 0u) << c.decoded;
}

}  // namespace
}  // namespace mmudiff::models
