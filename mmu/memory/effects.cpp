// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/memory/effects.h"

#include <fmt/format.h>

namespace mmudiff {

const char* effect_kind_name(EffectKind kind) {
  switch (kind) {
    case EffectKind::Store:
      return "store";
    case EffectKind::TlbiIpa:
      return "tlbi-ipa";
    case EffectKind::TlbiVmid:
      return "tlbi-vmid";
    case EffectKind::Dsb:
      return "dsb";
    case EffectKind::Isb:
      return "isb";
    case EffectKind::DcacheCleanInval:
      return "dcache-clean-inval";
    case EffectKind::IcacheInval:
      return "icache-inval";
  }
  return "?";
}

const char* barrier_name(Barrier b) {
  switch (b) {
    case Barrier::None:
      return "";
    case Barrier::Ish:
      return "ish";
    case Barrier::IshSt:
      return "ishst";
    case Barrier::Nsh:
      return "nsh";
    case Barrier::Sy:
      return "sy";
  }
  return "?";
}

std::string describe_effect(const Effect& e) {
  switch (e.kind) {
    case EffectKind::Store:
      return fmt::format("store [{:#x}] {:#018x} -> {:#018x}", e.addr, e.old_value, e.new_value);
    case EffectKind::TlbiIpa:
      if (e.size)
        return fmt::format("tlb-flush [{:#x}, {:#x}) level {}", e.addr, e.addr + e.size, e.level);
      return fmt::format("tlbi-ipa {:#x} level {}", e.addr, e.level);
    case EffectKind::TlbiVmid:
      return "tlbi-vmid";
    case EffectKind::Dsb:
      return fmt::format("dsb {}", barrier_name(e.barrier));
    case EffectKind::Isb:
      return "isb";
    case EffectKind::DcacheCleanInval:
    case EffectKind::IcacheInval:
      return fmt::format("{} {:#x} +{:#x}", effect_kind_name(e.kind), e.addr, e.size);
  }
  return "?";
}

}  // namespace mmudiff
