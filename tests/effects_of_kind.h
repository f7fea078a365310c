// SPDX-License-Identifier: GPL-2.0-only
// The effects of one kind a backend recorded, in order: what a test asserts of its TLBIs, its
// stores or its cache maintenance without spelling out the whole trace.
#pragma once

#include <vector>

#include "mmu/memory/effects.h"

namespace mmudiff::testing {

inline std::vector<Effect> effects_of_kind(const EffectLog& log, EffectKind kind) {
  std::vector<Effect> out;
  for (const Effect& e : log.events())
    if (e.kind == kind) out.push_back(e);
  return out;
}

}  // namespace mmudiff::testing
