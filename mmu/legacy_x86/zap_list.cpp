// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/legacy_x86/zap_list.h"

namespace mmudiff::legacy_x86 {

ZapList::~ZapList() {
  commit();
  for (KvmMmuPage* sp : lost_) delete sp;
}

void ZapList::prepare(KvmMmuPage& sp) {
  hash_.remove(&sp);
  sp.unlinked = true;
  sp.parent = nullptr;
  // Planted: the 4K tables of a zapped subtree leave every lookup but are never freed.
  if (plant_ == Plant::kLegacyX86LeakShadowPageOnZap && sp.level() == x86ept::kPageLevel) {
    lost_.push_back(&sp);
    return;
  }
  pages_.push_back(&sp);
}

void ZapList::commit() {
  for (KvmMmuPage* sp : pages_) {
    memory_.put_page(sp->spt);
    delete sp;
  }
  pages_.clear();
}

}  // namespace mmudiff::legacy_x86
