// SPDX-License-Identifier: GPL-2.0-only
// The C++ face of the linux612-tdp backend. Each Linux612TdpBackend owns one l612_vm (the
// kernel's struct kvm, vCPU, memslot and TDP root, kept on the C side) and is its host: the
// kernel code's table pages, address conversion, SPTE stores, TLB flushes and warnings come back
// here, through l612_host_ops, and become its Machine's SimMemory calls and EffectLog entries.
#include "mmu/linux612_tdp/linux612_tdp_backend.h"

#include "mmu/format/x86_ept_format.h"

#include <cerrno>
#include <new>
#include <utility>

#include <fmt/format.h>

#include "mmu/format/x86_ept.h"
#include "mmu/linux612_tdp/linux612_adapter.h"

namespace mmudiff {

namespace {

std::string_view basename(const char* path) {
  std::string_view p(path);
  auto slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

// The SDM level of a kvm_flush_remote_tlbs_range(gfn, nr): the TDP MMU flushes one page of one
// size at a time (kvm_flush_remote_tlbs_gfn), so nr is 512^(level-1); any other count is 0. The
// range itself is recorded exactly.
unsigned flush_level(uint64_t nr_pages) {
  for (unsigned level = x86ept::kPageLevel; level <= x86ept::kMaxLevels; ++level)
    if (nr_pages == x86ept::level_size(level) / x86ept::kPageSize) return level;
  return 0;
}

bool valid_config(const x86::EptConfig& c) {
  auto level_ok = [](unsigned l) { return l >= x86ept::kPageLevel && l <= x86ept::kMaxLeafLevel; };
  return c.maxphyaddr >= x86ept::kMinMaxPhyAddr && c.maxphyaddr <= x86ept::kMaxMaxPhyAddr &&
         (c.levels == x86ept::kMinLevels || c.levels == x86ept::kMaxLevels) &&
         level_ok(c.max_level) && level_ok(c.host_level) && c.slot_base % x86ept::kPageSize == 0 &&
         c.slot_size % x86ept::kPageSize == 0;
}

}  // namespace

struct Linux612TdpBackend::Host {
  static Linux612TdpBackend& self(void* host) { return *static_cast<Linux612TdpBackend*>(host); }
  static SimMemory& memory(void* host) { return self(host).machine_.memory; }
  static EffectLog& effects(void* host) { return self(host).machine_.effects; }

  static constexpr l612_host_ops kOps = {
      .alloc_page = [](void* h) -> void* { return memory(h).zalloc_page(); },
      .free_page = [](void* h, void* va) { memory(h).put_page(va); },
      .virt_to_phys = [](void* h, const void* va) { return memory(h).virt_to_phys(va); },
      .phys_to_virt = [](void* h, uint64_t pa) { return memory(h).phys_to_virt(pa); },
      .store =
          [](void* h, void* entry, uint64_t old_value, uint64_t new_value) {
            effects(h).store(memory(h).entry_pa(entry), old_value, new_value);
          },
      .tlbi_vmid = [](void* h) { effects(h).tlbi_vmid(); },
      .tlbi_range =
          [](void* h, uint64_t gfn, uint64_t nr_pages) {
            effects(h).tlb_flush_range(gfn << x86ept::kPageShift, nr_pages << x86ept::kPageShift,
                                       flush_level(nr_pages));
          },
      .warn =
          [](void* h, const char* file, int line, const char* what) {
            self(h).warnings_.push_back(fmt::format("{} at {}:{}", what, basename(file), line));
          },
  };
};

Linux612TdpBackend::Linux612TdpBackend(Machine& machine, Plant /*plant*/) : machine_(machine) {}

Linux612TdpBackend::~Linux612TdpBackend() {
  destroy();
}

int Linux612TdpBackend::init(const x86::EptConfig& config) {
  destroy();
  if (!valid_config(config)) return -EINVAL;
  config_ = config;
  l612_config c{};
  c.maxphyaddr = config.maxphyaddr;
  c.levels = config.levels;
  c.ad = config.ad;
  c.execonly = config.execonly;
  c.nx_huge_pages = config.nx_huge_pages;
  c.max_level = config.max_level;
  c.host_level = config.host_level;
  c.slot_base_gfn = config.slot_base >> x86ept::kPageShift;
  c.slot_npages = config.slot_size >> x86ept::kPageShift;
  c.host_mmio_pfn = config.host_mmio_pfn;
  vm_ = l612_vm_create(&Host::kOps, this, &c);
  if (!vm_) return -ENOMEM;
  int ret = l612_init(vm_);
  if (ret != 0) destroy();
  return ret;
}

void Linux612TdpBackend::destroy() {
  if (!vm_) return;
  l612_destroy(vm_);
  l612_vm_free(vm_);
  vm_ = nullptr;
}

int Linux612TdpBackend::fault(const x86::TdpFault& f) {
  if (!vm_) return -EINVAL;
  struct l612_fault lf {};
  lf.gfn = f.gfn;
  lf.pfn = f.pfn;
  lf.max_level = f.max_level;
  lf.write = f.write;
  lf.exec = f.exec;
  lf.prefetch = f.prefetch;
  lf.map_writable = f.map_writable;
  lf.dirty_logging = f.dirty_logging;
  return l612_fault(vm_, &lf);
}

bool Linux612TdpBackend::zap_leafs(uint64_t start_gfn, uint64_t end_gfn) {
  return vm_ && l612_zap_leafs(vm_, start_gfn, end_gfn);
}

void Linux612TdpBackend::zap_all() {
  if (vm_) l612_zap_all(vm_);
}

bool Linux612TdpBackend::wrprot_slot(uint64_t base_gfn, uint64_t npages, unsigned min_level) {
  return vm_ && l612_wrprot_slot(vm_, base_gfn, npages, static_cast<int>(min_level));
}

bool Linux612TdpBackend::clear_dirty_slot(uint64_t base_gfn, uint64_t npages) {
  return vm_ && l612_clear_dirty_slot(vm_, base_gfn, npages);
}

void Linux612TdpBackend::clear_dirty_masked(uint64_t base_gfn, uint64_t npages, uint64_t gfn,
                                            uint64_t mask, bool wrprot) {
  if (vm_) l612_clear_dirty_masked(vm_, base_gfn, npages, gfn, mask, wrprot);
}

bool Linux612TdpBackend::age_gfn_range(uint64_t start_gfn, uint64_t end_gfn) {
  return vm_ && l612_age_gfn_range(vm_, start_gfn, end_gfn);
}

bool Linux612TdpBackend::test_age_gfn(uint64_t gfn) {
  return vm_ && l612_test_age_gfn(vm_, gfn);
}

void Linux612TdpBackend::split_huge_pages(uint64_t base_gfn, uint64_t npages, uint64_t start_gfn,
                                          uint64_t end_gfn, unsigned target_level) {
  if (vm_)
    l612_split_huge_pages(vm_, base_gfn, npages, start_gfn, end_gfn,
                          static_cast<int>(target_level));
}

void Linux612TdpBackend::zap_collapsible(uint64_t base_gfn, uint64_t npages) {
  if (vm_) l612_zap_collapsible(vm_, base_gfn, npages);
}

bool Linux612TdpBackend::write_protect_gfn(uint64_t base_gfn, uint64_t npages, uint64_t gfn,
                                           unsigned min_level) {
  return vm_ && l612_write_protect_gfn(vm_, base_gfn, npages, gfn, static_cast<int>(min_level));
}

TableRoot Linux612TdpBackend::root() const {
  if (!vm_ || !l612_live(vm_)) return {};
  TableRoot r;
  r.ia_bits = x86ept::gpa_bits(config_.levels);
  r.start_level = 0;
  r.pgd_pa = l612_root_pa(vm_);
  r.pgd_pages = 1;
  r.fwb = false;
  r.format = &linux612_tdp_table_format(config_);
  return r;
}

std::vector<std::string> Linux612TdpBackend::take_warnings() {
  return std::exchange(warnings_, {});
}

Linux612TdpStats Linux612TdpBackend::stats() const {
  Linux612TdpStats s;
  if (!vm_) return s;
  l612_stats ls;
  l612_get_stats(vm_, &ls);
  s.pfn_dirty = ls.pfn_dirty;
  s.pfn_accessed = ls.pfn_accessed;
  s.page_dirty = ls.page_dirty;
  for (int i = 0; i < 3; ++i) s.leaf_pages[i] = ls.leaf_pages[i];
  s.table_pages = ls.table_pages;
  s.nx_lpage_splits = ls.nx_lpage_splits;
  s.mmio_sptes = ls.mmio_sptes;
  return s;
}

const DescriptorFormat& linux612_tdp_table_format(const x86::EptConfig& config) {
  return x86_ept_format({config.maxphyaddr, config.levels, config.ad, config.execonly});
}

std::unique_ptr<x86::TdpApi> make_linux612_tdp_backend(Machine& machine, Plant plant) {
  return std::make_unique<Linux612TdpBackend>(machine, plant);
}

}  // namespace mmudiff
