// SPDX-License-Identifier: GPL-2.0-only
// Creating the root, zapping everything, and tearing the table down.
#include <cerrno>
#include <initializer_list>

#include "mmu/walker_x86/tdp_ops.h"
#include "mmu/walker_x86/tdp_table.h"

namespace mmudiff::walker_x86 {

namespace {

bool valid_config(const x86::EptConfig& c) {
  auto level_ok = [](unsigned l) { return l >= ept::kPageLevel && l <= ept::kMaxLeafLevel; };
  return c.maxphyaddr >= ept::kMinMaxPhyAddr && c.maxphyaddr <= ept::kMaxMaxPhyAddr &&
         (c.levels == ept::kMinLevels || c.levels == ept::kMaxLevels) && level_ok(c.max_level) &&
         level_ok(c.host_level) && c.slot_base % ept::kPageSize == 0 &&
         c.slot_size % ept::kPageSize == 0;
}

}  // namespace

// The vCPU's root comes from the page cache like any table, so init tops it up as a fault would.
int TdpTable::init(const x86::EptConfig& config) {
  destroy();
  if (!valid_config(config)) return -EINVAL;
  config_ = config;
  int ret = topup_cache();
  if (ret == 0) {
    root_ = cache_alloc();
    // Loading the root publishes it: its fill reaches the log.
    record_unlinked(root_);
  }
  leave();
  return ret;
}

// kvm_destroy_vm: zap all, then the invalidated root is zapped again (nothing is left) and its
// page goes after every table the zap freed.
void TdpTable::destroy() {
  if (!live()) return;
  tdp_zap_root(*this, false);
  tdp_zap_root(*this, true);
  rcu_queue_.push_back(root_);
  leave();
  root_ = nullptr;
}

// tdp_mmu_zap_root: passes of growing granularity, 4K, 2M, 1G, then the root's entries, each
// zapping the present entries at its level and below it nothing (the finer passes did).
void tdp_zap_root(TdpTable& t, bool shared) {
  for (unsigned zap_level : {1u, 2u, 3u, unsigned{t.config().levels}}) {
    t.walk(0, t.max_gfn() + 1, zap_level, [&](const walker::VisitedEntry& e) {
      if (!spte_present(walker::kIntegerBits, *e.ptep) || e.level > zap_level) return 0;
      t.set_spte(e.ptep, ept::kNonPresent, TdpTable::entry_gfn(e), e.level, shared);
      return 0;
    });
  }
}

}  // namespace mmudiff::walker_x86
