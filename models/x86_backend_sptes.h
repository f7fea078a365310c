// SPDX-License-Identifier: GPL-2.0-only
// The x86 backends' SPTE constructors behind the adapter shape of x86_ept_proofs.h, so its proofs
// run on mmu/walker_x86/ept_spte.h and mmu/legacy_x86/spte_ops.h themselves over Z3 bit-vectors.
//
// Both constructors take what the TDP MMU passes make_spte(): ACC_ALL (minus X for a huge page
// under the NX huge-page mitigation), write-back with IPAT for RAM and uncached for host MMIO,
// prefetch and host-writable as plain flags. An adapter maps a symbolic request onto those: the
// plain flags become a select over every value they can take, the NX mitigation is read off the
// request's X bit, and leaf_domain() says which requests the constructor can be asked at all.
#pragma once

#include <z3++.h>

#include "mmu/format/x86_ept.h"
#include "mmu/legacy_x86/spte_ops.h"
#include "mmu/walker_x86/ept_spte.h"
#include "models/symbolic_bits.h"
#include "models/x86_ept_proofs.h"

namespace mmudiff::models {

// The operations legacy_x86's domain needs beyond SymbolicBits.
struct X86SymbolicBits : SymbolicBits {
  Bool eq(const Word& a, const Word& b) const { return a == b; }
  Word shr(const Word& w, unsigned n) const { return z3::lshr(w, lit(n)); }
};

namespace x86adapt {

inline z3::expr has(const SymbolicBits& b, const z3::expr& w, uint64_t mask) {
  return (w & b.lit(mask)) != b.lit(0);
}

// The requests the TDP MMU makes of make_spte() on EPT (kvm_tdp_mmu_map,
// tdp_mmu_map_handle_target_level with ACC_ALL; vmx_get_mt_mask without non-coherent DMA).
inline z3::expr tdp_mmu_leaf_domain(const SymbolicBits& b, const EptLeafRequest& q) {
  const uint64_t all = kAccExec | kAccWrite | kAccUser;
  z3::expr access = q.access == b.lit(all);
  if (q.level > x86ept::kPageLevel) access = access || q.access == b.lit(all & ~kAccExec);
  const z3::expr wb = q.memory_type == b.lit(x86ept::kMemTypeWb) && q.ipat;
  const z3::expr uc = q.memory_type == b.lit(x86ept::kMemTypeUc) && !q.ipat;
  return access && (wb || uc);
}

// The NX huge-page mitigation is on exactly when the request leaves X out.
inline z3::expr nx_huge_pages(const SymbolicBits& b, const EptLeafRequest& q) {
  return !has(b, q.access, kAccExec);
}

inline z3::expr host_mmio(const SymbolicBits& b, const EptLeafRequest& q) {
  return q.memory_type == b.lit(x86ept::kMemTypeUc);
}

// f(prefetch, host_writable, nx) for every value of the three plain flags, selected by the
// request's symbolic ones.
template <class F>
z3::expr over_flags(const SymbolicBits& b, const EptLeafRequest& q, F f) {
  auto by_nx = [&](bool prefetch, bool writable) {
    return b.select(nx_huge_pages(b, q), f(prefetch, writable, true), f(prefetch, writable, false));
  };
  auto by_writable = [&](bool prefetch) {
    return b.select(q.host_writable, by_nx(prefetch, true), by_nx(prefetch, false));
  };
  return b.select(q.prefetch, by_writable(true), by_writable(false));
}

}  // namespace x86adapt

struct WalkerX86Sptes {
  static constexpr const char* kName = "walker-x86";

  static walker_x86::EptMasks masks(const EptSpteConfig& c, bool nx) {
    return {c.ad, c.execonly, nx};
  }
  static z3::expr leaf_domain(const SymbolicBits& b, const EptLeafRequest& q,
                              const EptSpteConfig&) {
    return x86adapt::tdp_mmu_leaf_domain(b, q);
  }
  static z3::expr leaf(const SymbolicBits& b, const EptLeafRequest& q, const EptSpteConfig& c) {
    return x86adapt::over_flags(b, q, [&](bool prefetch, bool writable, bool nx) {
      return walker_x86::make_leaf_spte(b, masks(c, nx), q.level, q.pfn, q.old_spte, prefetch,
                                        writable, x86adapt::host_mmio(b, q));
    });
  }
  static z3::expr nonleaf(const SymbolicBits& b, const z3::expr& table_pa, unsigned,
                          const EptSpteConfig& c) {
    return walker_x86::make_table_spte(b, masks(c, false), table_pa);
  }
  static z3::expr split(const SymbolicBits& b, const z3::expr& huge, unsigned child_level,
                        unsigned index, const EptLeafRequest& q, const EptSpteConfig& c) {
    return b.select(
        x86adapt::nx_huge_pages(b, q),
        walker_x86::make_split_child_spte(b, masks(c, true), huge, child_level, index),
        walker_x86::make_split_child_spte(b, masks(c, false), huge, child_level, index));
  }
};

struct LegacyX86Sptes {
  static constexpr const char* kName = "legacy-x86";

  static legacy_x86::SpteConfig config(const EptSpteConfig& c, bool nx) {
    return {c.maxphyaddr, c.ad, c.execonly, nx, c.plant};
  }
  static z3::expr leaf_domain(const SymbolicBits& b, const EptLeafRequest& q,
                              const EptSpteConfig&) {
    return x86adapt::tdp_mmu_leaf_domain(b, q);
  }
  static z3::expr leaf(const SymbolicBits& sb, const EptLeafRequest& q, const EptSpteConfig& c) {
    const X86SymbolicBits b{sb};
    return x86adapt::over_flags(b, q, [&](bool prefetch, bool writable, bool nx) {
      auto build = [&](bool mmio) {
        const legacy_x86::LeafRequest r{q.level, prefetch, writable, mmio};
        return legacy_x86::make_leaf_spte(b, config(c, nx), r, q.pfn, q.old_spte);
      };
      return b.select(x86adapt::host_mmio(b, q), build(true), build(false));
    });
  }
  static z3::expr nonleaf(const SymbolicBits& sb, const z3::expr& table_pa, unsigned,
                          const EptSpteConfig& c) {
    const X86SymbolicBits b{sb};
    return legacy_x86::make_nonleaf_spte(b, config(c, false), table_pa);
  }
  static z3::expr split(const SymbolicBits& sb, const z3::expr& huge, unsigned child_level,
                        unsigned index, const EptLeafRequest& q, const EptSpteConfig& c) {
    const X86SymbolicBits b{sb};
    return b.select(x86adapt::nx_huge_pages(b, q),
                    legacy_x86::split_child_spte(b, config(c, true), huge, child_level, index),
                    legacy_x86::split_child_spte(b, config(c, false), huge, child_level, index));
  }
};

}  // namespace mmudiff::models
