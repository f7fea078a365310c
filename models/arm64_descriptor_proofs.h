// SPDX-License-Identifier: GPL-2.0-only
// The proofs about the backends' descriptor functions, each written once as a template over a
// backend adapter (backend_descriptors.h) and instantiated for walker and legacy -- and, in the
// tests, for deliberately broken adapters, to show that each proof can fail.
//
// Configurations: the backends support a 48-bit PA (arm64s2::kPaBits), and with FEAT_LPA2 a
// 52-bit one (the *.lpa2-* proofs), and take FWB as a flag; every proof covers both FWB settings
// and every level the descriptor kind exists at for some IPA size (leaves: 1-3, tables: 0-2).
// Levels, FWB and the plant are concrete; every other input (prot, PA, owner id, the old descriptor
// of an update) is a free 64-bit value.
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>

#include "mmu/format/arm64_s2.h"
#include "models/backend_descriptors.h"
#include "models/proof_run.h"
#include "models/proofs.h"

namespace mmudiff::models {

// Every descriptor proof for walker and legacy.
std::vector<ProofSpec> descriptor_proofs();

namespace proofs {

namespace s2 = arm64s2;

inline constexpr unsigned kLeafLevels[] = {1, 2, 3};
inline constexpr unsigned kTableLevels[] = {0, 1, 2};
inline constexpr bool kFwbSettings[] = {false, true};

// The backends' configuration: 48-bit PA; the IPA size only decides which levels exist, and 48
// bits has them all.
inline S2Config config_for(bool fwb) {
  return S2Config{48, s2::kPaBits, fwb};
}

inline z3::expr prot_has(ProofRun& r, const z3::expr& prot, uint64_t bit) {
  return (prot & r.bits.lit(bit)) != r.bits.lit(0);
}

// Map's leaf for a free prot and a page-aligned PA the backend accepts (map aligns phys down to
// a page before building, and builds a level's block only for a PA aligned to the block:
// block_mapping_supported, mapping_level), at every leaf level with and without FWB, each in a
// solver scope of its own; CLAIMS(leaf, prot, pa, level, fwb) says what must hold of it. Stops
// at the first configuration where a claim fails. LPA2: a table with FEAT_LPA2.
template <class B, class Claims>
void prove_each_map_leaf(ProofRun& r, bool lpa2, Claims claims) {
  for (bool fwb : kFwbSettings) {
    for (unsigned level : kLeafLevels) {
      Solver::Scope scope(r.solver);
      z3::expr prot = r.solver.word("prot");
      z3::expr pa = r.solver.word("pa");
      r.solver.assume(B::accepts_pa(r.bits, pa, lpa2));
      r.solver.assume((pa & r.bits.lit(s2::granule_size(level) - 1)) == r.bits.lit(0));
      MapLeaf m = B::map_leaf(r.bits, pa, prot, level, fwb, r.plant, lpa2);
      if (!r.verify(claims(m, prot, pa, level, fwb), m.descriptor, level, fwb,
                    {{"prot", prot}, {"pa", pa}}))
        return;
    }
  }
}

template <class B>
void prove_map_no_reserved_bits(ProofRun& r) {
  prove_each_map_leaf<B>(
      r, false,
      [&](const MapLeaf& m, const z3::expr&, const z3::expr&, unsigned level,
          bool fwb) -> std::vector<ProofRun::Named> {
        const S2Config c = config_for(fwb);
        return {{"a leaf encoding at this level",
                 z3::implies(m.allowed, r.model.is_leaf(m.descriptor, level))},
                {"no RES0 or KVM-forbidden bit",
                 z3::implies(m.allowed, !r.model.leaf_sets_forbidden_bit(m.descriptor, level, c))},
                {"a MemAttr KVM writes, not a reserved one",
                 z3::implies(m.allowed, !r.model.mem_attr_reserved(m.descriptor, fwb))}};
      });
}

template <class B>
void prove_map_round_trip(ProofRun& r) {
  prove_each_map_leaf<B>(
      r, false,
      [&](const MapLeaf& m, const z3::expr& prot, const z3::expr& pa, unsigned,
          bool fwb) -> std::vector<ProofRun::Named> {
        const z3::expr& d = m.descriptor;
        const Arm64S2Model& md = r.model;
        const z3::expr device = prot_has(r, prot, s2::prot::kDevice);
        const z3::expr mem_attr = z3::ite(device, r.bits.lit(s2::mem_attr_device(fwb)),
                                          r.bits.lit(s2::mem_attr_normal(fwb)));
        auto decodes = [&](const z3::expr& e) { return z3::implies(m.allowed, e); };
        return {{"OA decodes to the PA", decodes(md.output_address(d) == pa)},
                {"S2AP[0] (read) is prot's R",
                 decodes(md.readable(d) == prot_has(r, prot, s2::prot::kR))},
                {"S2AP[1] (write) is prot's W",
                 decodes(md.writable(d) == prot_has(r, prot, s2::prot::kW))},
                {"executable exactly when prot has X",
                 decodes(md.executable(d) == prot_has(r, prot, s2::prot::kX))},
                {"MemAttr is KVM's normal or device encoding for prot and FWB",
                 decodes(md.mem_attr(d) == mem_attr)},
                {"device prot reads as device memory, normal as normal write-back",
                 decodes(z3::ite(device, md.device(d, fwb), md.normal_write_back(d, fwb)))},
                {"AF set", decodes(md.accessed(d))},
                {"inner shareable", decodes(md.shareability(d) == r.bits.lit(3))}};
      });
}

template <class B>
void prove_map_device_never_executable(ProofRun& r) {
  prove_each_map_leaf<B>(
      r, false,
      [&](const MapLeaf& m, const z3::expr& prot, const z3::expr&, unsigned,
          bool fwb) -> std::vector<ProofRun::Named> {
        const z3::expr exec_device =
            prot_has(r, prot, s2::prot::kDevice) && prot_has(r, prot, s2::prot::kX);
        return {{"map refuses prot asking for executable device memory",
                 z3::implies(exec_device, !m.allowed)},
                {"every device leaf map writes has XN",
                 z3::implies(m.allowed, r.model.device_not_executable(m.descriptor, fwb))}};
      });
}

template <class B>
void prove_map_software_bits(ProofRun& r) {
  prove_each_map_leaf<B>(
      r, false,
      [&](const MapLeaf& m, const z3::expr& prot, const z3::expr&, unsigned,
          bool) -> std::vector<ProofRun::Named> {
        const z3::expr prot_sw = z3::lshr(prot & r.bits.lit(s2::prot::kSwMask), r.bits.lit(55));
        return {{"software bits [58:55] are exactly prot's software bits",
                 z3::implies(m.allowed, r.model.software(m.descriptor) == prot_sw)}};
      });
}

// Linux 6.12's KVM_PGTABLE_PROT_NORMAL_NC: refused with X or with DEVICE; otherwise a leaf of
// normal non-cacheable memory (a MemAttr that is neither reserved nor cacheable) that differs from
// the plain normal one in MemAttr alone. A prot without the bit maps exactly what 6.1 maps, and
// 6.1 ignores the bit.
template <class B>
void prove_map_normal_nc(ProofRun& r) {
  for (bool fwb : kFwbSettings) {
    for (unsigned level : kLeafLevels) {
      Solver::Scope scope(r.solver);
      z3::expr prot = r.solver.word("prot");
      z3::expr pa = r.solver.word("pa");
      r.solver.assume(B::accepts_pa(r.bits, pa));
      r.solver.assume((pa & r.bits.lit(s2::granule_size(level) - 1)) == r.bits.lit(0));
      auto leaf = [&](const z3::expr& p, bool normal_nc) {
        return B::map_leaf(r.bits, pa, p, level, fwb, r.plant, /*lpa2=*/false, normal_nc);
      };
      const z3::expr plain_prot = prot & r.bits.lit(~s2::prot::kNormalNc);
      const MapLeaf m = leaf(prot, true), plain = leaf(plain_prot, true);
      const MapLeaf m61 = leaf(prot, false), plain61 = leaf(plain_prot, false);
      const Arm64S2Model& md = r.model;
      const z3::expr nc = prot_has(r, prot, s2::prot::kNormalNc);
      const z3::expr device = prot_has(r, prot, s2::prot::kDevice);
      const z3::expr exec = prot_has(r, prot, s2::prot::kX);
      const z3::expr attr_mask = r.bits.lit(s2::kMemAttrMask);
      if (!r.verify(
              {{"map refuses NORMAL_NC with X or with DEVICE",
                z3::implies(nc && (exec || device), !m.allowed)},
               {"a NORMAL_NC leaf is normal non-cacheable memory, not a reserved MemAttr",
                z3::implies(m.allowed && nc, md.normal_non_cacheable(m.descriptor, fwb) &&
                                                 !md.mem_attr_reserved(m.descriptor, fwb))},
               {"a NORMAL_NC leaf differs from the plain normal leaf in MemAttr alone",
                z3::implies(m.allowed && nc, plain.allowed && (m.descriptor & ~attr_mask) ==
                                                                  (plain.descriptor & ~attr_mask))},
               {"without NORMAL_NC the leaf is the one 6.1 writes",
                z3::implies(!nc, m.allowed == m61.allowed && m.descriptor == m61.descriptor)},
               {"6.1 ignores the NORMAL_NC bit",
                m61.allowed == plain61.allowed && m61.descriptor == plain61.descriptor}},
              m.descriptor, level, fwb, {{"prot", prot}, {"pa", pa}}))
        return;
    }
  }
}

template <class B, bool kLpa2>
void prove_pa_range(ProofRun& r) {
  Solver::Scope scope(r.solver);
  z3::expr pa = r.solver.word("pa");
  const unsigned pa_bits = kLpa2 ? s2::kPaBitsLpa2 : config_for(false).pa_bits;
  z3::expr limit = r.bits.lit(s2::bit(pa_bits));
  MapLeaf m =
      B::map_leaf(r.bits, pa, r.bits.lit(s2::prot::kR), s2::kLastLevel, false, r.plant, kLpa2);
  r.verify({{kLpa2 ? "a PA is accepted exactly when it is below 2^52"
                   : "a PA is accepted exactly when it is below 2^48",
             B::accepts_pa(r.bits, pa, kLpa2) == z3::ult(pa, limit)}},
           m.descriptor, s2::kLastLevel, false, {{"pa", pa}});
}

// With FEAT_LPA2 the next table's address is 52 bits, [51:50] in bits [9:8].
template <class B, bool kLpa2>
void prove_table(ProofRun& r) {
  const unsigned pa_bits = kLpa2 ? s2::kPaBitsLpa2 : s2::kPaBits;
  const uint64_t lpa2_bits = s2::genmask(49, 12) | s2::genmask(9, 8) | s2::kTypeBit | s2::kValid;
  for (unsigned level : kTableLevels) {
    Solver::Scope scope(r.solver);
    z3::expr pa = r.solver.word("table_pa");
    r.solver.assume(z3::ult(pa, r.bits.lit(s2::bit(pa_bits))));
    r.solver.assume((pa & r.bits.lit(s2::kPageSize - 1)) == r.bits.lit(0));
    z3::expr d = B::table(r.bits, pa, kLpa2);
    const S2Config c = config_for(false);
    const z3::expr only_address_and_type = kLpa2 ? (d & r.bits.lit(~lpa2_bits)) == r.bits.lit(0)
                                                 : !r.model.table_sets_forbidden_bit(d, c);
    const z3::expr points =
        (kLpa2 ? r.model.output_address_ds(d) : r.model.output_address(d)) == pa;
    if (!r.verify({{"a table encoding", r.model.is_table(d, level)},
                   {"no bit besides the address and the type", only_address_and_type},
                   {kLpa2 ? "points at the table page (bits [51:50] from [9:8])"
                          : "points at the table page",
                    points}},
                  d, level, false, {{"table_pa", pa}}))
      return;
  }
}

// ---- FEAT_LPA2 (VTCR_EL2.DS = 1), Linux 6.12's tables on such a CPU -------------------------
// The bits a leaf with DS = 1 keeps clear whatever its inputs: bit 11, bit 50 (RES0 at stage 2),
// DBM, contiguous, XN[0] and bits 59-63, and a block's OA bits below its size.
inline uint64_t lpa2_leaf_clear_bits(unsigned level) {
  uint64_t m =
      s2::kBit11 | s2::bit(50) | s2::kDbm | s2::kContiguous | s2::bit(53) | s2::genmask(63, 59);
  if (level < s2::kLastLevel) m |= s2::genmask(s2::granule_shift(level) - 1, s2::kPageShift);
  return m;
}

template <class B>
void prove_lpa2_map_round_trip(ProofRun& r) {
  prove_each_map_leaf<B>(
      r, true,
      [&](const MapLeaf& m, const z3::expr&, const z3::expr& pa, unsigned level,
          bool) -> std::vector<ProofRun::Named> {
        const z3::expr& d = m.descriptor;
        auto decodes = [&](const z3::expr& e) { return z3::implies(m.allowed, e); };
        return {{"a leaf encoding at this level", decodes(r.model.is_leaf(d, level))},
                {"the 52-bit OA (bits [49:12] and [9:8]) decodes to the PA",
                 decodes(r.model.output_address_ds(d) == pa)},
                {"no RES0 or KVM-forbidden bit",
                 decodes((d & r.bits.lit(lpa2_leaf_clear_bits(level))) == r.bits.lit(0))},
                {"AF set", decodes(r.model.accessed(d))}};
      });
}

template <class B>
void prove_owner_never_valid(ProofRun& r) {
  for (unsigned level : {0u, 1u, 2u, 3u}) {
    Solver::Scope scope(r.solver);
    z3::expr id = r.solver.word("owner");
    r.solver.assume(z3::ult(id, r.bits.lit(256)));  // the owner id is a uint8_t
    z3::expr d = B::owner(r.bits, id);
    if (!r.verify({{"not a valid descriptor", !r.model.valid(d)},
                   {"nothing but the owner id in bits [9:2]", r.model.owner_annotation(d)},
                   {"decodes to its owner id", r.model.owner_id(d) == id}},
                  d, level, false, {{"owner", id}}))
      return;
  }
}

// The old descriptor of an update: anything the backend treats as a valid leaf.
inline void assume_valid_leaf(ProofRun& r, const z3::expr& old, unsigned level) {
  r.solver.assume(r.model.valid(old) && !r.model.is_table(old, level));
}

template <class B>
void prove_relax_only_adds(ProofRun& r) {
  const uint64_t perms = s2::kS2apR | s2::kS2apW | s2::kXn;
  for (unsigned level : kLeafLevels) {
    Solver::Scope scope(r.solver);
    z3::expr old = r.solver.word("old");
    z3::expr prot = r.solver.word("prot");
    assume_valid_leaf(r, old, level);
    RelaxResult x = B::relax_perms(r.bits, old, prot, r.plant);
    r.solver.assume(!x.refused);
    const z3::expr& d = x.descriptor;
    const Arm64S2Model& md = r.model;
    if (!r.verify(
            {{"every bit but S2AP and XN[1] unchanged",
              (d & r.bits.lit(~perms)) == (old & r.bits.lit(~perms))},
             {"read kept", z3::implies(md.readable(old), md.readable(d))},
             {"write kept", z3::implies(md.writable(old), md.writable(d))},
             {"execute kept", z3::implies(md.executable(old), md.executable(d))},
             {"R granted when asked", z3::implies(prot_has(r, prot, s2::prot::kR), md.readable(d))},
             {"W granted when asked", z3::implies(prot_has(r, prot, s2::prot::kW), md.writable(d))},
             {"XN[1] cleared when X asked",
              z3::implies(prot_has(r, prot, s2::prot::kX), !md.bit(d, 54))}},
            d, level, false, {{"old", old}, {"prot", prot}}))
      return;
  }
}

// An update that must be exactly old with some bits cleared and some set.
template <class Update>
void prove_exact_update(ProofRun& r, Update update, uint64_t clear, uint64_t set,
                        const char* what) {
  for (unsigned level : kLeafLevels) {
    Solver::Scope scope(r.solver);
    z3::expr old = r.solver.word("old");
    assume_valid_leaf(r, old, level);
    z3::expr d = update(old);
    if (!r.verify({{what, d == ((old & r.bits.lit(~clear)) | r.bits.lit(set))}}, d, level, false,
                  {{"old", old}}))
      return;
  }
}

template <class B>
void prove_wrprotect(ProofRun& r) {
  prove_exact_update(
      r, [&](const z3::expr& old) { return B::wrprotect(r.bits, old, r.plant); }, s2::kS2apW, 0,
      "the result is the old descriptor with S2AP[1] (write) cleared, nothing else");
}

template <class B>
void prove_mkold(ProofRun& r) {
  prove_exact_update(
      r, [&](const z3::expr& old) { return B::mkold(r.bits, old, r.plant); }, s2::kAf, 0,
      "the result is the old descriptor with AF cleared, nothing else");
}

template <class B>
void prove_mkyoung(ProofRun& r) {
  prove_exact_update(
      r, [&](const z3::expr& old) { return B::mkyoung(r.bits, old, r.plant); }, 0, s2::kAf,
      "the result is the old descriptor with AF set, nothing else");
}

template <class B>
void add_backend_proofs(std::vector<ProofSpec>& out) {
  const std::string b = B::kName;
  auto add = [&](const char* name, const char* property, void (*body)(ProofRun&)) {
    out.push_back({fmt::format("{}.{}", b, name), b, property, body});
  };
  add("map.no-reserved-bits",
      "map's leaves are block/page encodings with no RES0 or KVM-forbidden bit and a MemAttr "
      "KVM uses, at levels 1-3, with and without FWB",
      prove_map_no_reserved_bits<B>);
  add("map.round-trip",
      "map's leaves decode back to their inputs: OA, S2AP from R/W, XN from X, MemAttr from "
      "device and FWB, AF set, inner shareable",
      prove_map_round_trip<B>);
  add("map.device-never-executable",
      "map refuses executable device memory and every device leaf it writes has XN",
      prove_map_device_never_executable<B>);
  add("map.normal-nc",
      "Linux 6.12's NORMAL_NC: refused with X or DEVICE, else a normal non-cacheable leaf that "
      "differs from the normal one in MemAttr alone; without the bit (and in 6.1) nothing changes",
      prove_map_normal_nc<B>);
  add("map.software-bits-from-prot",
      "a leaf's software bits [58:55] come from prot and from nothing else",
      prove_map_software_bits<B>);
  add("map.pa-range", "map accepts a PA exactly when it is below 2^48, the PA size",
      prove_pa_range<B, false>);
  add("map.lpa2-round-trip",
      "with FEAT_LPA2, map's leaves hold the 52-bit PA in bits [49:12] and [9:8] (no SH), no "
      "RES0 or forbidden bit, AF set, at levels 1-3, with and without FWB",
      prove_lpa2_map_round_trip<B>);
  add("map.lpa2-pa-range", "with FEAT_LPA2, map accepts a PA exactly when it is below 2^52",
      prove_pa_range<B, true>);
  add("table.lpa2-well-formed",
      "with FEAT_LPA2, table descriptors hold the next table's 52-bit address in bits [49:12] "
      "and [9:8] and nothing but the type besides",
      prove_table<B, true>);
  add("table.well-formed",
      "table descriptors are table encodings at levels 0-2 with only the address and type bits, "
      "pointing at their page",
      prove_table<B, false>);
  add("owner.never-valid",
      "owner annotations (ids 0-255) are never valid descriptors, hold only the id, and decode "
      "to it",
      prove_owner_never_valid<B>);
  add("relax-perms.only-adds",
      "relax_perms only adds permissions: R, W and X are kept, granted when asked, and no other "
      "bit changes",
      prove_relax_only_adds<B>);
  add("wrprotect.only-clears-write", "wrprotect clears S2AP[1] (write) and changes nothing else",
      prove_wrprotect<B>);
  add("mkold.only-clears-af", "mkold clears AF and changes nothing else", prove_mkold<B>);
  add("mkyoung.only-sets-af", "mkyoung sets AF and changes nothing else", prove_mkyoung<B>);
}

}  // namespace proofs

}  // namespace mmudiff::models
