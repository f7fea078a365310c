// SPDX-License-Identifier: GPL-2.0-only
// The C++ face of the linux61 backend. Each Linux61Backend owns one l61_vm (the kernel's
// struct kvm_pgtable, kvm_s2_mmu and kvm_arch, kept on the C side) and is its host: the kernel
// code's page allocation, refcounts, address conversion, cache maintenance, TLBI, barriers,
// descriptor stores and WARN_ONs all come back here, through l61_host_ops, as calls on this
// object, which turns them into its Machine's SimMemory calls and EffectLog entries.
#include "mmu/linux61/linux61_backend.h"

#include <cerrno>
#include <new>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mmu/format/arm64_s2.h"
#include "mmu/linux61/linux61_adapter.h"

namespace mmudiff {

// The files compiled are what was tested; another revision of the package with the same files
// is the same code.
namespace {

class Linux61Backend final : public Arm64S2Backend {
 public:
  explicit Linux61Backend(Machine& machine) : machine_(machine) {
    vm_ = l61_vm_create(&kHostOps, this);
    if (!vm_) throw std::bad_alloc();
  }
  ~Linux61Backend() override {
    l61_stage2_destroy(vm_);
    l61_vm_free(vm_);
  }
  Linux61Backend(const Linux61Backend&) = delete;
  Linux61Backend& operator=(const Linux61Backend&) = delete;

  std::string_view name() const override { return "linux61"; }

  int init(const Arm64S2Config& config) override {
    destroy();
    // What kvm_arm_setup_stage2() checks before it calls kvm_get_vtcr(): the IPA size is at least
    // ARM64_MIN_PARANGE_BITS and at most what the CPU (48-bit PARange) supports.
    if (!arm64s2::valid_ia_bits(config.ia_bits)) return -EINVAL;
    l61_config c{};
    c.ia_bits = config.ia_bits;
    c.fwb = config.fwb;
    c.nofwb = config.nofwb;
    c.idmap = config.idmap;
    switch (config.force_pte) {
      case ForcePte::Never:
        c.force_pte = L61_FORCE_PTE_NEVER;
        break;
      case ForcePte::Always:
        c.force_pte = L61_FORCE_PTE_ALWAYS;
        break;
      case ForcePte::Device:
        c.force_pte = L61_FORCE_PTE_DEVICE;
        break;
    }
    pgd_bytes_ = 0;
    int ret = l61_stage2_init(vm_, &c);
    if (ret == 0) {
      root_.ia_bits = l61_ia_bits(vm_);
      root_.start_level = l61_start_level(vm_);
      root_.pgd_pa = machine_.memory.virt_to_phys(l61_pgd(vm_));
      // The kernel sized the PGD itself (kvm_pgd_pages()): believe its allocation.
      root_.pgd_pages = static_cast<unsigned>(pgd_bytes_ / arm64s2::kPageSize);
      root_.fwb = config.has_fwb();
    }
    return ret;
  }

  void destroy() override {
    l61_stage2_destroy(vm_);
    root_ = {};
  }

  int map(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot, Memcache* mc) override {
    return l61_stage2_map(vm_, addr, size, phys, prot, mc);
  }
  int unmap(uint64_t addr, uint64_t size) override { return l61_stage2_unmap(vm_, addr, size); }
  int wrprotect(uint64_t addr, uint64_t size) override {
    return l61_stage2_wrprotect(vm_, addr, size);
  }
  uint64_t mkyoung(uint64_t addr) override { return l61_stage2_mkyoung(vm_, addr); }
  uint64_t mkold(uint64_t addr) override { return l61_stage2_mkold(vm_, addr); }
  bool is_young(uint64_t addr) override { return l61_stage2_is_young(vm_, addr); }
  int relax_perms(uint64_t addr, uint64_t prot) override {
    return l61_stage2_relax_perms(vm_, addr, prot);
  }
  int flush(uint64_t addr, uint64_t size) override { return l61_stage2_flush(vm_, addr, size); }
  int set_owner(uint64_t addr, uint64_t size, Memcache* mc, uint8_t owner) override {
    return l61_stage2_set_owner(vm_, addr, size, mc, owner);
  }
  int get_leaf(uint64_t addr, uint64_t* pte, uint32_t* level) override {
    return l61_get_leaf(vm_, addr, pte, level);
  }

  TableRoot root() const override { return l61_live(vm_) ? root_ : TableRoot{}; }

  std::vector<std::string> take_warnings() override { return std::exchange(warnings_, {}); }

 private:
  static Linux61Backend& self(void* host) { return *static_cast<Linux61Backend*>(host); }
  SimMemory& memory() { return machine_.memory; }
  EffectLog& effects() { return machine_.effects; }

  static Barrier barrier_of(l61_barrier b) {
    switch (b) {
      case L61_BARRIER_ISH:
        return Barrier::Ish;
      case L61_BARRIER_ISHST:
        return Barrier::IshSt;
      case L61_BARRIER_NSH:
        return Barrier::Nsh;
      case L61_BARRIER_SY:
        return Barrier::Sy;
    }
    return Barrier::Sy;
  }

  static std::string_view basename(const char* path) {
    std::string_view p(path);
    auto slash = p.rfind('/');
    return slash == std::string_view::npos ? p : p.substr(slash + 1);
  }

  static const l61_host_ops kHostOps;

  Machine& machine_;
  l61_vm* vm_ = nullptr;
  TableRoot root_;
  size_t pgd_bytes_ = 0;
  std::vector<std::string> warnings_;
};

const l61_host_ops Linux61Backend::kHostOps = {
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
    .tlbi_vmid = [](void* h) { self(h).effects().tlbi_vmid(); },
    // EffectLog has no stage-1 kind; hyp_unmap is unreachable through Backend anyway.
    .tlbi_hyp_va = [](void* h, uint64_t va,
                      unsigned level) { self(h).effects().tlbi_ipa(va, level); },
    .barrier_dsb = [](void* h, l61_barrier b) { self(h).effects().dsb(barrier_of(b)); },
    .barrier_isb = [](void* h) { self(h).effects().isb(); },
    .warn =
        [](void* h, const char* file, int line, const char* condition) {
          self(h).warnings_.push_back(
              fmt::format("WARN_ON({}) at {}:{}", condition, basename(file), line));
        },
};

}  // namespace

std::unique_ptr<Arm64S2Backend> make_linux61_backend(Machine& machine, Plant /*plant*/) {
  // The reference has no planted bugs: it is the kernel's code, unmodified.
  return std::make_unique<Linux61Backend>(machine);
}

}  // namespace mmudiff
