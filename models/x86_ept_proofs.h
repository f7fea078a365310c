// SPDX-License-Identifier: GPL-2.0-only
// Proofs about an EPT SPTE constructor, each a template over an adapter, so one proof serves
// every x86 backend (and, in the tests, deliberately broken constructors): the SPTEs it builds
// are never rejected by KVM's shadow_zero_check (is_rsvd_spte against the TDP MMU's check,
// x86_ept_model.h) and never an EPT misconfiguration by the SDM's rules -- for every MAXPHYADDR
// 36..52, execute-only on and off, A/D on and off, 4 and 5 levels, every huge-page level KVM can
// be configured with, every level, and every input in the constructor's domain below. A failure
// carries a counterexample decoded by the x86-ept format.
//
// An adapter:
//   struct A {
//     static constexpr const char* kName = "walker";
//     // make_spte(): a leaf SPTE for the request.
//     static z3::expr leaf(const SymbolicBits&, const EptLeafRequest&, const EptSpteConfig&);
//     // make_nonleaf_spte(): a table entry at `level` (2..levels) pointing at table_pa.
//     static z3::expr nonleaf(const SymbolicBits&, const z3::expr& table_pa, unsigned level,
//                             const EptSpteConfig&);
//     // Optional: the requests the constructor can be asked (the TDP MMU's calls); without it,
//     // every request in EptLeafRequest's domain.
//     static z3::expr leaf_domain(const SymbolicBits&, const EptLeafRequest&, const
//     EptSpteConfig&);
//     // Optional: make_huge_page_split_spte(), child `index` of `huge` (a leaf built by leaf()
//     // for q one level up); prove_ept_split_sptes needs it.
//     static z3::expr split(const SymbolicBits&, const z3::expr& huge, unsigned child_level,
//                           unsigned index, const EptLeafRequest& q, const EptSpteConfig&);
//   };
// The plant the proofs run with travels in EptSpteConfig, as the backends' own configurations
// carry it.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mmu/format/x86_ept.h"
#include "mmu/format/x86_ept_format.h"
#include "mmu/plants.h"
#include "models/proofs.h"
#include "models/solver.h"
#include "models/symbolic_bits.h"
#include "models/x86_ept_model.h"

namespace mmudiff::models {

// KVM's pte_access bits (mmu.h / spte.h): ACC_EXEC_MASK, ACC_WRITE_MASK, ACC_USER_MASK.
inline constexpr uint64_t kAccExec = 1;
inline constexpr uint64_t kAccWrite = 2;
inline constexpr uint64_t kAccUser = 4;

// The configuration an SPTE is built in: the CPU (MAXPHYADDR, execute-only, the largest huge page
// EPT supports) and KVM (levels, enable_ept_ad_bits).
struct EptSpteConfig {
  unsigned maxphyaddr = 46;
  unsigned levels = 4;
  bool ad = true;
  bool execonly = true;
  int huge_page_level = kPgLevel1G;
  Plant plant = Plant::kNone;

  X86EptParams params() const { return {maxphyaddr, levels, ad, execonly}; }
  SdmEptRules sdm() const {
    return {maxphyaddr, execonly, huge_page_level >= kPgLevel1G, huge_page_level >= kPgLevel2M};
  }
  std::string describe() const {
    return fmt::format("{} huge_page_level={}", describe_x86_ept_params(params()), huge_page_level);
  }
};

// What make_spte() is asked for. The domain the proofs assume:
//   pfn           below 2^(MAXPHYADDR - 12), aligned to the level's page size;
//   access        ACC_* bits with ACC_USER set: the TDP MMU maps every gfn readable (ACC_ALL,
//                 minus X for NX huge pages, minus W for a read-only host mapping). An
//                 execute-only request is the nested-EPT case, which the TDP MMU's check --
//                 built with execute-only false -- would refuse;
//   memory_type   an MTRR type get_mt_mask() can return: UC 0, WC 1, WT 4, WP 5, WB 6;
//   ipat, host_writable, prefetch: any.
struct EptLeafRequest {
  unsigned level;  // 1..huge_page_level
  z3::expr pfn;
  z3::expr access;
  z3::expr memory_type;
  z3::expr ipat;           // Bool
  z3::expr host_writable;  // Bool
  z3::expr prefetch;       // Bool
  z3::expr old_spte;       // what the SPTE held before: any value
};

namespace x86proofs {

inline constexpr unsigned kLevelChoices[] = {4, 5};
inline constexpr bool kFlags[] = {false, true};
inline constexpr int kHugePageLevels[] = {kPgLevel4K, kPgLevel2M, kPgLevel1G};

template <class F>
void for_each_config(Plant plant, F f) {
  for (unsigned maxphyaddr = x86ept::kMinMaxPhyAddr; maxphyaddr <= x86ept::kMaxMaxPhyAddr;
       ++maxphyaddr)
    for (unsigned levels : kLevelChoices)
      for (bool ad : kFlags)
        for (bool execonly : kFlags)
          for (int hpl : kHugePageLevels)
            if (!f(EptSpteConfig{maxphyaddr, levels, ad, execonly, hpl, plant})) return;
}

using Named = std::pair<std::string, z3::expr>;

// Proves every claim at once; on a counterexample, names each claim it breaks and why.
// False when the proof is over (failed or unknown).
inline bool check(Solver& s, ProofResult& r, const EptSpteConfig& c, unsigned level,
                  const z3::expr& spte, const std::vector<Named>& claims,
                  const std::vector<Named>& inputs) {
  z3::expr all = s.ctx().bool_val(true);
  for (const Named& n : claims) all = all && n.second;
  Outcome o = s.prove_one_shot(all);
  if (o.answer == Answer::Proved) return true;
  r.answer = o.answer;
  if (o.answer == Answer::Unknown) {
    r.unknown_reason = fmt::format("{} level {}: {}", c.describe(), level, o.reason);
    return false;
  }
  Counterexample x;
  x.level = level;
  x.inputs = {{"maxphyaddr", c.maxphyaddr},
              {"levels", c.levels},
              {"ad", c.ad},
              {"execonly", c.execonly},
              {"huge_page_level", static_cast<uint64_t>(c.huge_page_level)},
              {"level", level}};
  for (const Named& n : inputs) x.inputs.push_back({n.first, s.value(n.second)});
  x.descriptor = s.value(spte);
  x.decoded =
      x86_ept_format(c.params()).describe(x.descriptor, trait_level(level, c.levels), false);
  std::string broken;
  for (const Named& n : claims)
    if (!s.holds(n.second)) broken += (broken.empty() ? "" : "; ") + n.first;
  const ConcreteRsvdCheck kvm = kvm_tdp_shadow_zero_check(c.maxphyaddr, c.huge_page_level);
  const std::string sdm = sdm_misconfig_reason(x.descriptor, level, c.sdm());
  x.violated =
      fmt::format("{} [{}; KVM rsvd bits {:#x}{}; SDM: {}]", broken, c.describe(),
                  get_rsvd_bits(kEptIntegerBits, kvm, x.descriptor, static_cast<int>(level)),
                  is_bad_mt_xwr(kEptIntegerBits, kvm, x.descriptor) ? ", bad MT/XWR" : "",
                  sdm.empty() ? "no misconfiguration" : sdm);
  r.counterexample = std::move(x);
  return false;
}

inline z3::expr kvm_accepts(const SymbolicBits& b, const z3::expr& spte, unsigned level,
                            const EptSpteConfig& c) {
  return !is_rsvd_spte(b, tdp_shadow_zero_check(b, c.maxphyaddr, c.huge_page_level), spte,
                       static_cast<int>(level));
}

inline z3::expr sdm_accepts(const SymbolicBits& b, const z3::expr& spte, unsigned level,
                            const EptSpteConfig& c) {
  return !sdm_misconfig(b, spte, level, c.sdm()).any();
}

template <class Body>
ProofResult timed(std::string name, std::string backend, std::string property, Body body) {
  ProofResult r;
  r.name = std::move(name);
  r.backend = std::move(backend);
  r.property = std::move(property);
  r.answer = Answer::Proved;
  const auto start = std::chrono::steady_clock::now();
  body(r);
  r.time_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return r;
}

// A fresh leaf request at `level` under c, its domain assumed (the adapter's, when it has one).
template <class A>
EptLeafRequest assume_leaf_request(Solver& s, const SymbolicBits& b, const EptSpteConfig& c,
                                   unsigned l) {
  EptLeafRequest q{l,
                   s.word("pfn"),
                   s.word("access"),
                   s.word("memory_type"),
                   s.ctx().bool_const("ipat"),
                   s.ctx().bool_const("host_writable"),
                   s.ctx().bool_const("prefetch"),
                   s.word("old_spte")};
  const uint64_t pages = x86ept::level_size(l) >> x86ept::kPageShift;
  s.assume(z3::ult(q.pfn, b.lit(uint64_t{1} << (c.maxphyaddr - x86ept::kPageShift))));
  s.assume((q.pfn & b.lit(pages - 1)) == b.lit(0));
  s.assume((q.access & b.lit(~uint64_t{7})) == b.lit(0));
  s.assume((q.access & b.lit(kAccUser)) != b.lit(0));
  const z3::expr& mt = q.memory_type;
  s.assume(mt == b.lit(0) || mt == b.lit(1) || mt == b.lit(4) || mt == b.lit(5) || mt == b.lit(6));
  if constexpr (requires { A::leaf_domain(b, q, c); }) s.assume(A::leaf_domain(b, q, c));
  return q;
}

inline std::vector<Named> leaf_inputs(const EptLeafRequest& q) {
  return {{"pfn", q.pfn},
          {"access", q.access},
          {"memory_type", q.memory_type},
          {"ipat", q.ipat},
          {"host_writable", q.host_writable},
          {"prefetch", q.prefetch},
          {"old_spte", q.old_spte}};
}

}  // namespace x86proofs

template <class A>
ProofResult prove_ept_leaf_sptes(Solver& s, Plant plant = Plant::kNone) {
  using namespace x86proofs;
  return timed(
      fmt::format("{}.ept.leaf-spte-valid", A::kName), A::kName,
      "make_spte's leaves pass KVM's shadow_zero_check, are no EPT misconfiguration, have PS "
      "exactly above 4 KiB, map the pfn with the memory type asked, and grant no more than asked "
      "(R when present, W only with a writable host mapping, X only if asked), for MAXPHYADDR "
      "36-52, 4/5 levels, A/D and execute-only on/off, every huge-page level, level, access and "
      "memory type",
      [&](ProofResult& r) {
        const SymbolicBits b{&s.ctx()};
        for_each_config(plant, [&](const EptSpteConfig& c) {
          for (int level = kPgLevel4K; level <= c.huge_page_level; ++level) {
            Solver::Scope scope(s);
            const unsigned l = static_cast<unsigned>(level);
            const EptLeafRequest q = assume_leaf_request<A>(s, b, c, l);
            const z3::expr spte = A::leaf(b, q, c);
            auto has = [&](const z3::expr& w, uint64_t mask) {
              return (w & b.lit(mask)) != b.lit(0);
            };
            const z3::expr present = has(spte, x86ept::kRwxMask);
            const z3::expr mt_field = b.shl(q.memory_type, x86ept::kMemTypeShift) |
                                      b.select(q.ipat, b.lit(x86ept::kIgnorePat), b.lit(0));
            if (!check(s, r, c, l, spte,
                       {{"PS (bit 7) set exactly above level 1",
                         has(spte, x86ept::kLargePage) == s.ctx().bool_val(l > 1)},
                        {"shadow_zero_check accepts it", kvm_accepts(b, spte, l, c)},
                        {"no EPT misconfiguration (SDM)", sdm_accepts(b, spte, l, c)},
                        {"maps the pfn",
                         (spte & b.lit(x86ept::kAddrMask)) == b.shl(q.pfn, x86ept::kPageShift)},
                        {"MMU-present, and present unless access-tracked (prefetched, A/D off)",
                         has(spte, x86ept::kMmuPresent) &&
                             (present || (q.prefetch && s.ctx().bool_val(!c.ad)))},
                        {"readable when present", z3::implies(present, has(spte, x86ept::kRead))},
                        {"writable only if asked and the host mapping is writable",
                         z3::implies(has(spte, x86ept::kWrite),
                                     has(q.access, kAccWrite) && q.host_writable)},
                        {"executable only if asked",
                         z3::implies(has(spte, x86ept::kExec), has(q.access, kAccExec))},
                        {"memory type and IPAT as asked",
                         (spte & b.lit(x86ept::kMemTypeMask | x86ept::kIgnorePat)) == mt_field}},
                       leaf_inputs(q)))
              return false;
          }
          return true;
        });
      });
}

template <class A>
ProofResult prove_ept_nonleaf_sptes(Solver& s, Plant plant = Plant::kNone) {
  using namespace x86proofs;
  return timed(
      fmt::format("{}.ept.nonleaf-spte-valid", A::kName), A::kName,
      "make_nonleaf_spte's entries are present, PS clear, point at their table, pass KVM's "
      "shadow_zero_check and are no EPT misconfiguration, at every table level of 4/5-level "
      "EPT, for MAXPHYADDR 36-52, A/D and execute-only on/off, every huge-page level",
      [&](ProofResult& r) {
        const SymbolicBits b{&s.ctx()};
        for_each_config(plant, [&](const EptSpteConfig& c) {
          for (unsigned l = 2; l <= c.levels; ++l) {
            Solver::Scope scope(s);
            const z3::expr pa = s.word("table_pa");
            s.assume(z3::ult(pa, b.lit(uint64_t{1} << c.maxphyaddr)));
            s.assume((pa & b.lit(x86ept::kPageSize - 1)) == b.lit(0));
            const z3::expr spte = A::nonleaf(b, pa, l, c);
            if (!check(
                    s, r, c, l, spte,
                    {{"present (bits 2:0 not 000b) and MMU-present",
                      (spte & b.lit(x86ept::kRwxMask)) != b.lit(0) &&
                          (spte & b.lit(x86ept::kMmuPresent)) != b.lit(0)},
                     {"PS (bit 7) clear", (spte & b.lit(x86ept::kLargePage)) == b.lit(0)},
                     {"points at the table", (spte & b.lit(x86ept::addr_mask(c.maxphyaddr))) == pa},
                     {"shadow_zero_check accepts it", kvm_accepts(b, spte, l, c)},
                     {"no EPT misconfiguration (SDM)", sdm_accepts(b, spte, l, c)}},
                    {{"table_pa", pa}}))
              return false;
          }
          return true;
        });
      });
}

// A child's index only moves its address (index * the child's page size is ORed into an
// aligned parent): the first child sets no offset bit and the last sets all nine, so the two
// stand for all 512.
inline constexpr unsigned kSplitIndices[] = {0, 511};

// Eager splitting (make_huge_page_split_spte): each child of a huge leaf the backend built is a
// valid SPTE for its part of the range and keeps everything the parent said about the mapping.
template <class A>
ProofResult prove_ept_split_sptes(Solver& s, Plant plant = Plant::kNone) {
  using namespace x86proofs;
  return timed(
      fmt::format("{}.ept.split-spte-valid", A::kName), A::kName,
      "make_huge_page_split_spte's children of make_spte's huge leaves pass KVM's "
      "shadow_zero_check, are no EPT misconfiguration, map their part of the huge page and keep "
      "its A/D, R/W, host- and MMU-writable, memory type and IPAT, executable where it was, for "
      "MAXPHYADDR 36-52, 4/5 levels, A/D and execute-only on/off, every huge level",
      [&](ProofResult& r) {
        const SymbolicBits b{&s.ctx()};
        for_each_config(plant, [&](const EptSpteConfig& c) {
          for (int level = kPgLevel2M; level <= c.huge_page_level; ++level) {
            const unsigned l = static_cast<unsigned>(level);
            const unsigned child_level = l - 1;
            for (unsigned index : kSplitIndices) {
              Solver::Scope scope(s);
              const EptLeafRequest q = assume_leaf_request<A>(s, b, c, l);
              const z3::expr huge = A::leaf(b, q, c);
              const z3::expr child = A::split(b, huge, child_level, index, q, c);
              auto same = [&](uint64_t mask) { return ((child ^ huge) & b.lit(mask)) == b.lit(0); };
              auto has = [&](const z3::expr& w, uint64_t mask) {
                return (w & b.lit(mask)) != b.lit(0);
              };
              const uint64_t offset = (uint64_t{index} * x86ept::level_size(child_level));
              std::vector<Named> inputs = leaf_inputs(q);
              inputs.push_back({"huge_spte", huge});
              inputs.push_back({"index", b.lit(index)});
              if (!check(s, r, c, child_level, child,
                         {{"PS (bit 7) set exactly above level 1",
                           has(child, x86ept::kLargePage) == s.ctx().bool_val(child_level > 1)},
                          {"shadow_zero_check accepts it", kvm_accepts(b, child, child_level, c)},
                          {"no EPT misconfiguration (SDM)", sdm_accepts(b, child, child_level, c)},
                          {"maps its part of the huge page",
                           (child & b.lit(x86ept::kAddrMask)) ==
                               ((huge & b.lit(x86ept::kAddrMask)) | b.lit(offset))},
                          {"keeps the accessed and dirty bits",
                           same(x86ept::kAccessed | x86ept::kDirty)},
                          {"keeps host-writable and MMU-writable",
                           same(x86ept::kHostWritable | x86ept::kMmuWritable)},
                          {"keeps R, W, MMU-present and the A/D state",
                           same(x86ept::kRead | x86ept::kWrite | x86ept::kMmuPresent |
                                x86ept::kAdStateMask)},
                          {"keeps the memory type and IPAT",
                           same(x86ept::kMemTypeMask | x86ept::kIgnorePat)},
                          {"executable where the huge page was",
                           z3::implies(has(huge, x86ept::kExec), has(child, x86ept::kExec))}},
                         inputs))
                return false;
            }
          }
          return true;
        });
      });
}

// The model against itself: on every present entry, KVM's shadow_zero_check (with the
// execute-only setting and huge-page level of the CPU) rejects exactly what the SDM calls a
// misconfiguration, for every ZeroCheckInput and level 1..5. (On non-present entries KVM is
// stricter: it looks at all their bits.)
inline ProofResult prove_zero_check_is_sdm(Solver& s) {
  using namespace x86proofs;
  return timed(
      "model.ept.zero-check-is-sdm", "model",
      "on present entries, __reset_rsvds_bits_mask_ept's check rejects exactly the SDM's EPT "
      "misconfigurations, for MAXPHYADDR 36-52, execute-only on/off, huge-page levels 1-3, "
      "levels 1-5",
      [&](ProofResult& r) {
        const SymbolicBits b{&s.ctx()};
        for (const ZeroCheckInput& in : zero_check_inputs()) {
          const auto kvm =
              reset_rsvds_bits_mask_ept(b, b.lit(reserved_hpa_bits(in.maxphyaddr)),
                                        s.ctx().bool_val(in.execonly), in.huge_page_level);
          const EptSpteConfig c{in.maxphyaddr, 5, true, in.execonly, in.huge_page_level};
          for (unsigned l = 1; l <= 5; ++l) {
            Solver::Scope scope(s);
            const z3::expr spte = s.word("spte");
            s.assume((spte & b.lit(x86ept::kRwxMask)) != b.lit(0));
            const z3::expr same = is_rsvd_spte(b, kvm, spte, static_cast<int>(l)) ==
                                  sdm_misconfig(b, spte, l, c.sdm()).any();
            if (!check(s, r, c, l, spte, {{"KVM rejects it exactly when the SDM does", same}},
                       {{"spte", spte}}))
              return;
          }
        }
      });
}

}  // namespace mmudiff::models
