// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/kvm_arm64_shim/kernel_host.h"

#include <string_view>

#include <fmt/format.h>

#include "mmu/format/arm64_s2.h"

namespace mmudiff {

namespace {

Barrier barrier_of(arm64k_barrier b) {
  switch (b) {
    case ARM64K_BARRIER_ISH:
      return Barrier::Ish;
    case ARM64K_BARRIER_ISHST:
      return Barrier::IshSt;
    case ARM64K_BARRIER_NSH:
      return Barrier::Nsh;
    case ARM64K_BARRIER_SY:
      return Barrier::Sy;
  }
  return Barrier::Sy;
}

std::string_view basename(const char* path) {
  std::string_view p(path);
  auto slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

}  // namespace

const arm64k_host_ops Arm64KernelHost::kOps = {
    // The memcache argument is the Memcache* that map/set_owner passed to the kernel; the hyp
    // stage-1 code (never reached from here) passes NULL and means "allocate".
    .zalloc_page = [](void* h, void* mc) -> void* {
      return mc ? static_cast<Memcache*>(mc)->pop() : self(h).memory().zalloc_page();
    },
    .zalloc_pages_exact = [](void* h, size_t size) -> void* {
      self(h).pgd_bytes_ = size;
      return self(h).memory().zalloc_pages_exact(size);
    },
    .free_pages_exact = [](void* h, void* va,
                           size_t size) { self(h).memory().free_pages_exact(va, size); },
    .get_page = [](void* h, void* va) { self(h).memory().get_page(va); },
    .put_page = [](void* h, void* va) { self(h).memory().put_page(va); },
    .page_count = [](void* h, void* va) { return self(h).memory().page_count(va); },
    .phys_to_virt = [](void* h, uint64_t pa) { return self(h).memory().phys_to_virt(pa); },
    .virt_to_phys = [](void* h, void* va) { return self(h).memory().virt_to_phys(va); },
    // Cache maintenance gets phys_to_virt() of a guest PA: convert it back, never touch it.
    .dcache_clean_inval_poc =
        [](void* h, void* va, size_t size) {
          self(h).effects().dcache_clean_inval(self(h).memory().virt_to_phys(va), size);
        },
    .icache_inval_pou =
        [](void* h, void* va, size_t size) {
          self(h).effects().icache_inval(self(h).memory().virt_to_phys(va), size);
        },
    .store =
        [](void* h, void* entry, uint64_t old_value, uint64_t new_value) {
          self(h).effects().store(self(h).memory().entry_pa(entry), old_value, new_value);
        },
    .tlbi_ipa = [](void* h, uint64_t ipa,
                   int level) { self(h).effects().tlbi_ipa(ipa, static_cast<unsigned>(level)); },
    .tlbi_range = [](void* h, uint64_t ipa,
                     uint64_t size) { self(h).effects().tlb_flush_range(ipa, size, 0); },
    .tlbi_vmid = [](void* h) { self(h).effects().tlbi_vmid(); },
    // EffectLog has no stage-1 kind; hyp_unmap is unreachable through Backend anyway.
    .tlbi_hyp_va = [](void* h, uint64_t va,
                      unsigned level) { self(h).effects().tlbi_ipa(va, level); },
    .barrier_dsb = [](void* h, arm64k_barrier b) { self(h).effects().dsb(barrier_of(b)); },
    .barrier_isb = [](void* h) { self(h).effects().isb(); },
    .warn =
        [](void* h, const char* file, int line, const char* condition) {
          self(h).warn(fmt::format("WARN_ON({}) at {}:{}", condition, basename(file), line));
        },
    // A descriptor access of a concurrent run to a page already freed: a table freed before
    // every walker that could reach it had left (a grace period cut short).
    .check_access = [](void* h, const void* addr,
                       const char* what) { self(h).memory().check_use(addr, what); },
};

arm64k_config arm64k_config_of(const Arm64S2Config& config) {
  arm64k_config c{};
  c.ia_bits = config.ia_bits;
  c.fwb = config.fwb;
  c.nofwb = config.nofwb;
  c.idmap = config.idmap;
  switch (config.force_pte) {
    case ForcePte::Never:
      c.force_pte = ARM64K_FORCE_PTE_NEVER;
      break;
    case ForcePte::Always:
      c.force_pte = ARM64K_FORCE_PTE_ALWAYS;
      break;
    case ForcePte::Device:
      c.force_pte = ARM64K_FORCE_PTE_DEVICE;
      break;
  }
  // Only 6.12 asks; a 6.1 configuration never has it (canonical()).
  c.tlb_range = config.tlb_range;
  c.lpa2 = config.lpa2;
  return c;
}

TableRoot kernel_table_root(Arm64KernelHost& host, unsigned ia_bits, unsigned start_level,
                            void* pgd, bool fwb) {
  TableRoot root;
  root.ia_bits = ia_bits;
  root.start_level = start_level;
  root.pgd_pa = host.machine().memory.virt_to_phys(pgd);
  root.pgd_pages = static_cast<unsigned>(host.pgd_bytes() / arm64s2::kPageSize);
  root.fwb = fwb;
  return root;
}

}  // namespace mmudiff
