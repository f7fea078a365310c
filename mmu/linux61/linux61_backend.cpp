// SPDX-License-Identifier: GPL-2.0-only
// The C++ face of the linux61 backend, and of every 6.1-generation tree (mmu/kernel_trees): each
// Linux61Backend calls one kernel object through its table of entry points and owns one l61_vm (the
// kernel's struct kvm_pgtable, kvm_s2_mmu and kvm_arch, kept on the C side) and its host: the
// kernel code's page allocation, refcounts, address conversion, cache maintenance, TLBI, barriers,
// descriptor stores and WARN_ONs all come back, through arm64k_host_ops, to its Arm64KernelHost
// (mmu/kvm_arm64_shim/kernel_host.h), which turns them into its Machine's SimMemory calls and
// EffectLog entries.
#include "mmu/linux61/linux61_backend.h"

#include <cerrno>
#include <new>
#include <vector>

#include "mmu/format/arm64_s2.h"
#include "mmu/kvm_arm64_shim/kernel_host.h"
#include "mmu/linux61/linux61_adapter.h"

namespace mmudiff {

// The files compiled are what was tested; another revision of the package with the same files
// is the same code.
namespace {

class Linux61Backend final : public Arm64S2Backend {
 public:
  Linux61Backend(Machine& machine, std::string_view name, const l61_entry_points& api)
      : name_(name), api_(api), host_(machine) {
    vm_ = api_.vm_create(&Arm64KernelHost::kOps, &host_);
    if (!vm_) throw std::bad_alloc();
  }
  ~Linux61Backend() override {
    api_.stage2_destroy(vm_);
    api_.vm_free(vm_);
  }
  Linux61Backend(const Linux61Backend&) = delete;
  Linux61Backend& operator=(const Linux61Backend&) = delete;

  std::string_view name() const override { return name_; }

  int init(const Arm64S2Config& config) override {
    destroy();
    // What kvm_arm_setup_stage2() checks before it calls kvm_get_vtcr(): the IPA size is at least
    // ARM64_MIN_PARANGE_BITS and at most what the CPU (48-bit PARange) supports.
    if (!arm64s2::valid_ia_bits(config.ia_bits)) return -EINVAL;
    const arm64k_config c = arm64k_config_of(config);
    host_.forget_pgd_bytes();
    int ret = api_.stage2_init(vm_, &c);
    if (ret == 0)
      root_ = kernel_table_root(host_, api_.ia_bits(vm_), api_.start_level(vm_), api_.pgd(vm_),
                                config.has_fwb());
    return ret;
  }

  void destroy() override {
    api_.stage2_destroy(vm_);
    root_ = {};
  }

  int map(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot, Memcache* mc) override {
    return api_.stage2_map(vm_, addr, size, phys, prot, mc);
  }
  int unmap(uint64_t addr, uint64_t size) override { return api_.stage2_unmap(vm_, addr, size); }
  int wrprotect(uint64_t addr, uint64_t size) override {
    return api_.stage2_wrprotect(vm_, addr, size);
  }
  uint64_t mkyoung(uint64_t addr) override { return api_.stage2_mkyoung(vm_, addr); }
  uint64_t mkold(uint64_t addr) override { return api_.stage2_mkold(vm_, addr); }
  bool is_young(uint64_t addr) override { return api_.stage2_is_young(vm_, addr); }
  int relax_perms(uint64_t addr, uint64_t prot) override {
    return api_.stage2_relax_perms(vm_, addr, prot);
  }
  int flush(uint64_t addr, uint64_t size) override { return api_.stage2_flush(vm_, addr, size); }
  int set_owner(uint64_t addr, uint64_t size, Memcache* mc, uint8_t owner) override {
    return api_.stage2_set_owner(vm_, addr, size, mc, owner);
  }
  int get_leaf(uint64_t addr, uint64_t* pte, uint32_t* level) override {
    return api_.get_leaf(vm_, addr, pte, level);
  }

  TableRoot root() const override { return api_.live(vm_) ? root_ : TableRoot{}; }

  std::vector<std::string> take_warnings() override { return host_.take_warnings(); }

 private:
  std::string_view name_;
  const l61_entry_points& api_;
  Arm64KernelHost host_;
  l61_vm* vm_ = nullptr;
  TableRoot root_;
};

}  // namespace

std::unique_ptr<Arm64S2Backend> make_linux61_backend(Machine& machine, Plant /*plant*/) {
  // The reference has no planted bugs: it is the kernel's code, unmodified.
  return std::make_unique<Linux61Backend>(machine, "linux61", *l61_api());
}

std::unique_ptr<Arm64S2Backend> make_kernel61_backend(Machine& machine, std::string_view name,
                                                      const l61_entry_points& api) {
  return std::make_unique<Linux61Backend>(machine, name, api);
}

}  // namespace mmudiff
