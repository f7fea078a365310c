// SPDX-License-Identifier: GPL-2.0-only
// The bit-vector domain over Z3 expressions: with it, the backends' descriptor functions
// (mmu/walker/descriptor_ops.h, mmu/legacy/descriptor_ops.h) compute formulas instead of
// numbers, so a proof is about their very source, not a copy of it.
#pragma once

#include <cstdint>

#include <z3++.h>

namespace mmudiff::models {

struct SymbolicBits {
  using Word = z3::expr;  // 64-bit bit-vector
  using Bool = z3::expr;  // Boolean

  z3::context* ctx;

  Word lit(uint64_t v) const { return ctx->bv_val(v, 64); }
  Bool any(const Word& w) const { return w != lit(0); }
  Word select(const Bool& c, const Word& a, const Word& b) const { return z3::ite(c, a, b); }
  Word shl(const Word& w, unsigned n) const { return z3::shl(w, lit(n)); }
};

}  // namespace mmudiff::models
