// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/backend.h"

#ifdef MMUDIFF_HAVE_WALKER
#include "mmu/walker/walker_backend.h"
#endif
#ifdef MMUDIFF_HAVE_LEGACY
#include "mmu/legacy/legacy_backend.h"
#endif
#ifdef MMUDIFF_HAVE_LINUX61
#include "mmu/linux61/linux61_backend.h"
#endif

namespace mmudiff {

const std::vector<BackendInfo>& registered_backends() {
  static const std::vector<BackendInfo> backends = {
#ifdef MMUDIFF_HAVE_LINUX61
      {"linux61", "Linux 6.1 arch/arm64/kvm/hyp/pgtable.c, compiled unmodified in user space",
       make_linux61_backend, /*reference=*/true},
#endif
#ifdef MMUDIFF_HAVE_WALKER
      {"walker", "generic table walker with visitors, in the style of kvm_pgtable",
       make_walker_backend},
#endif
#ifdef MMUDIFF_HAVE_LEGACY
      {"legacy", "shadow-MMU style: shadow pages, hash table, reverse maps, zap lists",
       make_legacy_backend},
#endif
  };
  return backends;
}

const BackendInfo* find_backend(std::string_view name) {
  for (const auto& b : registered_backends())
    if (b.name == name) return &b;
  return nullptr;
}

}  // namespace mmudiff
