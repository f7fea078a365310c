// SPDX-License-Identifier: GPL-2.0-only
// The two backends' descriptor functions behind one shape, so a proof is written once and run
// on each. Each adapter only composes a backend's own functions the way its operations do (map:
// attributes from prot, then the leaf; an update: the change, then applying it); the logic
// being proved stays in mmu/walker/descriptor_ops.h and mmu/legacy/descriptor_ops.h.
#pragma once

#include "mmu/legacy/descriptor_ops.h"
#include "mmu/plants.h"
#include "mmu/walker/descriptor_ops.h"
#include "models/symbolic_bits.h"

namespace mmudiff::models {

using Word = z3::expr;

// What map writes for one prot at one level: refused for executable device memory.
struct MapLeaf {
  z3::expr allowed;
  Word descriptor;
};

struct RelaxResult {
  z3::expr refused;  // -EINVAL: nothing changes
  Word descriptor;
};

struct WalkerDescriptors {
  static constexpr const char* kName = "walker";
  using B = SymbolicBits;

  static z3::expr accepts_pa(const B& b, const Word& pa, bool lpa2 = false) {
    return walker::phys_in_pa_range(b, pa, lpa2);
  }
  // normal_nc: the kernel generation has KVM_PGTABLE_PROT_NORMAL_NC (Linux 6.12).
  static MapLeaf map_leaf(const B& b, const Word& pa, const Word& prot, unsigned level, bool fwb,
                          Plant plant, bool lpa2 = false, bool normal_nc = false) {
    const walker::LeafAttrs<B> a = walker::build_leaf_attrs(b, prot, fwb, lpa2, normal_nc);
    return {a.allowed, walker::build_leaf_pte(b, pa, a.attr, level, plant, lpa2)};
  }
  static Word table(const B& b, const Word& pa, bool lpa2 = false) {
    return walker::build_table_pte(b, pa, lpa2);
  }
  static Word owner(const B& b, const Word& id) { return walker::build_owner_pte(b, id); }
  static Word wrprotect(const B& b, const Word& old, Plant plant) {
    return walker::apply_attr_change(b, old, walker::wrprotect_change(b, plant));
  }
  static Word mkyoung(const B& b, const Word& old, Plant) {
    return walker::apply_attr_change(b, old, walker::mkyoung_change(b));
  }
  static Word mkold(const B& b, const Word& old, Plant) {
    return walker::apply_attr_change(b, old, walker::mkold_change(b));
  }
  static RelaxResult relax_perms(const B& b, const Word& old, const Word& prot, Plant plant) {
    return {walker::relax_perms_refuses(b, prot),
            walker::apply_attr_change(b, old, walker::relax_perms_change(b, prot, plant))};
  }
};

struct LegacyDescriptors {
  static constexpr const char* kName = "legacy";
  using B = SymbolicBits;

  static legacy::AddressLayout layout(bool lpa2) {
    return lpa2 ? legacy::AddressLayout::Lpa2 : legacy::AddressLayout::Pa48;
  }
  static z3::expr accepts_pa(const B& b, const Word& pa, bool lpa2 = false) {
    return legacy::pa_below_pa_size(b, pa, layout(lpa2));
  }
  static MapLeaf map_leaf(const B& b, const Word& pa, const Word& prot, unsigned level, bool fwb,
                          Plant plant, bool lpa2 = false, bool normal_nc = false) {
    const legacy::EncodedAttributes<B> a =
        legacy::encode_attributes(b, prot, fwb, layout(lpa2), plant, normal_nc);
    return {!a.refused, legacy::encode_leaf(b, pa, a.attrs, level, layout(lpa2))};
  }
  static Word table(const B& b, const Word& pa, bool lpa2 = false) {
    return legacy::encode_table(b, pa, layout(lpa2));
  }
  static Word owner(const B& b, const Word& id) { return legacy::encode_owner(b, id); }
  static Word wrprotect(const B& b, const Word& old, Plant plant) {
    return legacy::apply_leaf_update(b, old, legacy::wrprotect_update(b, plant));
  }
  static Word mkyoung(const B& b, const Word& old, Plant) {
    return legacy::apply_leaf_update(b, old, legacy::mkyoung_update(b));
  }
  static Word mkold(const B& b, const Word& old, Plant) {
    return legacy::apply_leaf_update(b, old, legacy::mkold_update(b));
  }
  static RelaxResult relax_perms(const B& b, const Word& old, const Word& prot, Plant) {
    return {legacy::relax_refuses(b, prot),
            legacy::apply_leaf_update(b, old, legacy::relax_update(b, prot))};
  }
};

}  // namespace mmudiff::models
