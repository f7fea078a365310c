// SPDX-License-Identifier: GPL-2.0-only
// The C++ face of the linux612 backend. Each Linux612Backend owns one l612a_vm (the kernel's
// struct kvm_pgtable and kvm_s2_mmu, kept on the C side) and its host, an Arm64KernelHost
// (mmu/kvm_arm64_shim/kernel_host.h, shared with linux61), which turns the kernel code's
// callbacks into its Machine's SimMemory calls and EffectLog entries.
//
// The Arm64S2Backend interface is 6.1's kvm_pgtable API; on 6.12's:
// - map passes walk flags 0, a non-shared walk (KVM's callers that hold the MMU lock for write);
//   map_with_walk_flags passes the op's (user_mem_abort's SHARED|HANDLE_FAULT);
// - test_clear_young is the kernel's, over the op's range;
// - is_young is kvm_pgtable_stage2_test_clear_young(addr, PAGE_SIZE, mkold = false);
// - mkold is the same with mkold = true. 6.12 returns only "was young", while the interface
//   returns the old descriptor (6.1's mkold did): it is the one get_leaf read just before, when
//   valid, else 0; and the kernel's answer is checked against it (young = valid with AF set).
#include "mmu/linux612/linux612_backend.h"

#include <cerrno>
#include <new>
#include <vector>

#include <fmt/format.h>

#include "mmu/format/arm64_s2.h"
#include "mmu/format/arm64_s2_format.h"
#include "mmu/kvm_arm64_shim/kernel_host.h"
#include "mmu/linux612/linux612_adapter.h"

namespace mmudiff {

namespace {

class Linux612Backend final : public Arm64S2Backend {
 public:
  Linux612Backend(Machine& machine, std::string_view name, const l612a_entry_points& api)
      : name_(name), api_(api), host_(machine) {
    vm_ = api_.vm_create(&Arm64KernelHost::kOps, &host_);
    if (!vm_) throw std::bad_alloc();
  }
  ~Linux612Backend() override {
    free_all_unlinked();
    api_.stage2_destroy(vm_);
    api_.vm_free(vm_);
  }
  Linux612Backend(const Linux612Backend&) = delete;
  Linux612Backend& operator=(const Linux612Backend&) = delete;

  std::string_view name() const override { return name_; }

  int init(const Arm64S2Config& config) override {
    destroy();
    // kvm_init_stage2_mmu's check before kvm_get_vtcr(): at least ARM64_MIN_PARANGE_BITS, at
    // most what the CPU (48-bit PARange) supports.
    if (!arm64s2::valid_ia_bits(config.ia_bits)) return -EINVAL;
    const arm64k_config c = arm64k_config_of(config);
    host_.forget_pgd_bytes();
    int ret = api_.stage2_init(vm_, &c);
    if (ret == 0) {
      root_ = kernel_table_root(host_, api_.ia_bits(vm_), api_.start_level(vm_), api_.pgd(vm_),
                                config.has_fwb());
      // With system_supports_lpa2() the kernel writes VTCR_EL2.DS = 1 and its descriptors in
      // the 52-bit layout.
      root_.format = &arm64_s2_4k_format(config.lpa2);
    }
    return ret;
  }

  // The tables create_unlinked gave its caller are the caller's to free: KVM frees each it does
  // not link (kvm_pgtable_stage2_free_unlinked) before the table goes.
  void free_all_unlinked() {
    while (!unlinked_.empty()) free_unlinked(0);
  }

  void destroy() override {
    free_all_unlinked();
    api_.stage2_destroy(vm_);
    root_ = {};
  }

  int map(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot, Memcache* mc) override {
    return map_with_walk_flags(addr, size, phys, prot, mc, 0);
  }
  int map_with_walk_flags(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot, Memcache* mc,
                          uint8_t walk_flags) override {
    static_assert(walk_flag::kShared == L612A_WALK_SHARED &&
                  walk_flag::kHandleFault == L612A_WALK_HANDLE_FAULT);
    return api_.stage2_map(vm_, addr, size, phys, prot, mc, walk_flags);
  }
  int unmap(uint64_t addr, uint64_t size) override { return api_.stage2_unmap(vm_, addr, size); }
  int wrprotect(uint64_t addr, uint64_t size) override {
    return api_.stage2_wrprotect(vm_, addr, size);
  }
  uint64_t mkyoung(uint64_t addr) override { return api_.stage2_mkyoung(vm_, addr); }
  uint64_t mkold(uint64_t addr) override {
    uint64_t old = 0;
    uint32_t level = 0;
    if (api_.get_leaf(vm_, addr, &old, &level) != 0 || !(old & arm64s2::kValid)) old = 0;
    const bool young = api_.stage2_test_clear_young(vm_, addr, arm64s2::kPageSize, /*mkold=*/true);
    if (young != ((old & arm64s2::kAf) != 0))
      host_.warn(fmt::format("{}: test_clear_young({:#x}) said young={} of leaf {:#x}", name_, addr,
                             young, old));
    return old;
  }
  bool is_young(uint64_t addr) override {
    return api_.stage2_test_clear_young(vm_, addr, arm64s2::kPageSize, /*mkold=*/false);
  }
  int test_clear_young(uint64_t addr, uint64_t size, bool mkold) override {
    return api_.stage2_test_clear_young(vm_, addr, size, mkold) ? 1 : 0;
  }
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
  // The cache is the table's kvm_s2_mmu.split_page_cache holding mc's pages.
  int split(uint64_t addr, uint64_t size, Memcache* mc) override {
    int nobjs = static_cast<int>(mc->remaining());
    const int ret = api_.stage2_split(vm_, addr, size, mc, &nobjs);
    if (static_cast<size_t>(nobjs) != mc->remaining())
      host_.warn(fmt::format("{}: split left split_page_cache.nobjs {} with {} pages in the cache",
                             name_, nobjs, mc->remaining()));
    return ret;
  }

  int create_unlinked(uint64_t phys, unsigned level, uint64_t prot, Memcache* mc,
                      bool force_pte) override {
    void* table = nullptr;
    const int ret = api_.stage2_create_unlinked(vm_, phys, static_cast<int>(level), prot, mc,
                                                force_pte, &table);
    if (ret == 0) unlinked_.push_back({table, {host_.machine().memory.virt_to_phys(table), level}});
    return ret;
  }
  void free_unlinked(size_t index) override {
    const Unlinked t = unlinked_.at(index);
    unlinked_.erase(unlinked_.begin() + static_cast<std::ptrdiff_t>(index));
    api_.stage2_free_unlinked(vm_, t.table, static_cast<int>(t.where.level));
  }
  std::vector<UnlinkedTable> unlinked_tables() const override {
    std::vector<UnlinkedTable> out;
    for (const Unlinked& t : unlinked_) out.push_back(t.where);
    return out;
  }

  TableRoot root() const override { return api_.live(vm_) ? root_ : TableRoot{}; }

  std::vector<std::string> take_warnings() override { return host_.take_warnings(); }

 private:
  std::string_view name_;
  const l612a_entry_points& api_;
  Arm64KernelHost host_;
  l612a_vm* vm_ = nullptr;
  TableRoot root_;
  struct Unlinked {
    void* table;
    UnlinkedTable where;
  };
  std::vector<Unlinked> unlinked_;  // oldest first
};

}  // namespace

std::unique_ptr<Arm64S2Backend> make_linux612_backend(Machine& machine, Plant /*plant*/) {
  return std::make_unique<Linux612Backend>(machine, "linux612", *l612a_api());
}

std::unique_ptr<Arm64S2Backend> make_kernel612_backend(Machine& machine, std::string_view name,
                                                       const l612a_entry_points& api) {
  return std::make_unique<Linux612Backend>(machine, name, api);
}

}  // namespace mmudiff
