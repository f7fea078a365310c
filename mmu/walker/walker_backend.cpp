// SPDX-License-Identifier: GPL-2.0-only
// Adapts the walker's stage-2 operations to the Backend interface.
#include "mmu/walker/walker_backend.h"

#include <utility>

#include "mmu/format/arm64_s2_format.h"
#include "mmu/walker/stage2.h"

namespace mmudiff {

namespace {

using walker::Stage2PageTable;

class WalkerBackend final : public Arm64S2Backend {
 public:
  WalkerBackend(Machine& machine, Plant plant)
      : mm_(machine.memory, machine.effects),
        mmu_(machine.memory, machine.effects),
        pgt_(mm_, mmu_) {
    pgt_.plant = plant;
  }

  std::string_view name() const override { return "walker"; }

  int init(const Arm64S2Config& config) override {
    destroy();
    return walker::stage2_init(pgt_, config);
  }
  void destroy() override { walker::stage2_destroy(pgt_); }

  int map(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot, Memcache* mc) override {
    return walker::stage2_map(pgt_, addr, size, phys, prot, mc);
  }
  int map_with_walk_flags(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot, Memcache* mc,
                          uint8_t walk_flags) override {
    return walker::stage2_map(pgt_, addr, size, phys, prot, mc, walk_flags);
  }
  int unmap(uint64_t addr, uint64_t size) override {
    return walker::stage2_unmap(pgt_, addr, size);
  }
  int wrprotect(uint64_t addr, uint64_t size) override {
    return walker::stage2_wrprotect(pgt_, addr, size);
  }
  uint64_t mkyoung(uint64_t addr) override { return walker::stage2_mkyoung(pgt_, addr); }
  uint64_t mkold(uint64_t addr) override { return walker::stage2_mkold(pgt_, addr); }
  bool is_young(uint64_t addr) override { return walker::stage2_is_young(pgt_, addr); }
  int test_clear_young(uint64_t addr, uint64_t size, bool mkold) override {
    return walker::stage2_test_clear_young(pgt_, addr, size, mkold);
  }
  int relax_perms(uint64_t addr, uint64_t prot) override {
    return walker::stage2_relax_perms(pgt_, addr, prot);
  }
  int flush(uint64_t addr, uint64_t size) override {
    return walker::stage2_flush(pgt_, addr, size);
  }
  int set_owner(uint64_t addr, uint64_t size, Memcache* mc, uint8_t owner) override {
    return walker::stage2_set_owner(pgt_, addr, size, mc, owner);
  }
  int split(uint64_t addr, uint64_t size, Memcache* mc) override {
    return walker::stage2_split(pgt_, addr, size, *mc);
  }
  int create_unlinked(uint64_t phys, unsigned level, uint64_t prot, Memcache* mc,
                      bool force_pte) override {
    return walker::stage2_create_unlinked(pgt_, phys, level, prot, *mc, force_pte);
  }
  void free_unlinked(size_t index) override { walker::stage2_free_unlinked(pgt_, index); }
  std::vector<UnlinkedTable> unlinked_tables() const override {
    std::vector<UnlinkedTable> out;
    for (const auto& u : pgt_.unlinked) out.push_back({mm_.virt_to_phys(u.table), u.level});
    return out;
  }
  int get_leaf(uint64_t addr, uint64_t* pte, uint32_t* level) override {
    const walker::LeafLookup found = walker::get_leaf(pgt_, addr);
    if (found.ret == 0) {
      if (pte) *pte = found.pte;
      if (level) *level = found.level;
    }
    return found.ret;
  }

  TableRoot root() const override {
    if (!pgt_.pgd) return {};
    return TableRoot{pgt_.ia_bits,     pgt_.start_level, mm_.virt_to_phys(pgt_.pgd),
                     pgt_.pgd_pages(), pgt_.has_fwb(),   &arm64_s2_4k_format(pgt_.lpa2())};
  }

  std::vector<std::string> take_warnings() override { return pgt_.warnings.take(); }

 private:
  walker::MmOps mm_;
  walker::Stage2Mmu mmu_;
  Stage2PageTable pgt_;
};

}  // namespace

std::unique_ptr<Arm64S2Backend> make_walker_backend(Machine& machine, Plant plant) {
  return std::make_unique<WalkerBackend>(machine, plant);
}

}  // namespace mmudiff
