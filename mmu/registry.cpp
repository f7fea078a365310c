// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/backend.h"

#include <array>
#include <bit>
#include <stdexcept>

#include <fmt/format.h>

#ifdef MMUDIFF_HAVE_WALKER
#include "mmu/walker/walker_backend.h"
#endif
#ifdef MMUDIFF_HAVE_LEGACY
#include "mmu/legacy/legacy_backend.h"
#endif
#ifdef MMUDIFF_HAVE_LINUX61
#include "mmu/linux61/linux61_backend.h"
#endif
#ifdef MMUDIFF_HAVE_LINUX612_TDP
#include "mmu/linux612_tdp/linux612_tdp_backend.h"
#endif
#ifdef MMUDIFF_HAVE_LINUX612
#include "mmu/linux612/linux612_backend.h"
#endif
#ifdef MMUDIFF_HAVE_KERNEL_TREES
#include "mmu/kernel_trees/kernel_trees.h"
#endif
#ifdef MMUDIFF_HAVE_WALKER_X86
#include "mmu/walker_x86/walker_x86_backend.h"
#endif
#ifdef MMUDIFF_HAVE_LEGACY_X86
#include "mmu/legacy_x86/legacy_x86_backend.h"
#endif

namespace mmudiff {
namespace {

constexpr ProfileSet kArm64Linux61 = profile_bit(ProfileId::Arm64Linux61);
constexpr ProfileSet kArm64Linux612 = profile_bit(ProfileId::Arm64Linux612);
constexpr ProfileSet kX86 = profile_bit(ProfileId::X86Ept);

}  // namespace

const std::vector<BackendInfo>& registered_backends() {
  static const std::vector<BackendInfo> backends = [] {
    std::vector<BackendInfo> built_in = {
#ifdef MMUDIFF_HAVE_LINUX61
        {"linux61", Arch::Arm64S2, kArm64Linux61,
         "Linux 6.1 arch/arm64/kvm/hyp/pgtable.c, compiled unmodified in user space",
         [](Machine& m, Plant p) -> std::unique_ptr<Backend> { return make_linux61_backend(m, p); },
         /*reference=*/true},
#endif
#ifdef MMUDIFF_HAVE_WALKER
        // Its 6.12 shared walks make the kernel's scheduling points (mmu/walker/marked_access.h).
        {"walker", Arch::Arm64S2, kArm64Linux61 | kArm64Linux612,
         "generic table walker with visitors, in the style of kvm_pgtable",
         [](Machine& m, Plant p) -> std::unique_ptr<Backend> { return make_walker_backend(m, p); },
         /*reference=*/false, /*shared_walks=*/true},
#endif
#ifdef MMUDIFF_HAVE_LEGACY
        {"legacy", Arch::Arm64S2, kArm64Linux61 | kArm64Linux612,
         "shadow-MMU style: shadow pages, hash table, reverse maps, zap lists",
         [](Machine& m, Plant p) -> std::unique_ptr<Backend> { return make_legacy_backend(m, p); }},
#endif
#ifdef MMUDIFF_HAVE_LINUX612_TDP
        {"linux612-tdp", Arch::X86Ept, kX86,
         "Linux 6.12 arch/x86/kvm/mmu/tdp_mmu.c, tdp_iter.c and spte.c, compiled unmodified in "
         "user space",
         [](Machine& m, Plant p) -> std::unique_ptr<Backend> {
           return make_linux612_tdp_backend(m, p);
         },
         /*reference=*/true},
#endif
#ifdef MMUDIFF_HAVE_WALKER_X86
        {"walker", Arch::X86Ept, kX86, "the same generic table walker, with TDP-MMU-style visitors",
         [](Machine& m, Plant p) -> std::unique_ptr<Backend> {
           return make_walker_x86_backend(m, p);
         }},
#endif
#ifdef MMUDIFF_HAVE_LEGACY_X86
        {"legacy", Arch::X86Ept, kX86,
         "Shadow MMU shape: kvm_mmu_page per table, (gfn, role) hash, rmaps, zap lists",
         [](Machine& m, Plant p) -> std::unique_ptr<Backend> {
           return make_legacy_x86_backend(m, p);
         }},
#endif
#ifdef MMUDIFF_HAVE_LINUX612
        {"linux612", Arch::Arm64S2, kArm64Linux612,
         "Linux 6.12 arch/arm64/kvm/hyp/pgtable.c, compiled unmodified in user space",
         [](Machine& m, Plant p) -> std::unique_ptr<Backend> {
           return make_linux612_backend(m, p);
         },
         /*reference=*/true, /*shared_walks=*/true},
#endif
    };
#ifdef MMUDIFF_HAVE_KERNEL_TREES
    // A 6.12 tree is kernel code: its accesses are scheduling points, as linux612's are.
    for (BackendInfo tree : kernel_tree_backends()) {
      tree.shared_walks = tree.implements(ProfileId::Arm64Linux612);
      built_in.push_back(tree);
    }
#endif
    return built_in;
  }();
  return backends;
}

Arm64S2Backend& as_arm64(Backend& backend) {
  auto* b = dynamic_cast<Arm64S2Backend*>(&backend);
  if (!b) throw std::logic_error(fmt::format("backend {} is not an arm64 backend", backend.name()));
  return *b;
}

std::unique_ptr<Arm64S2Backend> create_arm64(const BackendInfo& info, Machine& machine,
                                             Plant plant) {
  auto backend = info.create(machine, plant);
  as_arm64(*backend);
  return std::unique_ptr<Arm64S2Backend>(static_cast<Arm64S2Backend*>(backend.release()));
}

const std::vector<BackendInfo>& backends_of(ProfileId id) {
  static const auto by_profile = [] {
    std::array<std::vector<BackendInfo>, kProfileCount> out;
    for (const auto& b : registered_backends())
      for (unsigned p = 0; p < kProfileCount; ++p)
        if (b.implements(static_cast<ProfileId>(p))) out[p].push_back(b);
    return out;
  }();
  return by_profile[static_cast<unsigned>(id)];
}

const BackendInfo* find_backend(std::string_view name, ProfileId id) {
  for (const auto& b : registered_backends())
    if (b.name == name && b.implements(id)) return &b;
  return nullptr;
}

std::optional<ProfileId> sole_profile(const std::vector<std::string>& names) {
  std::optional<ProfileSet> set;
  for (const std::string& n : names)
    for (const BackendInfo& b : registered_backends())
      if (b.name == n) {
        if (set && *set != b.profiles) return std::nullopt;
        set = b.profiles;
      }
  if (!set || !std::has_single_bit(*set)) return std::nullopt;
  return static_cast<ProfileId>(std::countr_zero(*set));
}

const BackendInfo* find_backend(std::string_view name, Arch arch) {
  for (const auto& b : registered_backends())
    if (b.name == name && b.arch == arch) return &b;
  return nullptr;
}

}  // namespace mmudiff
