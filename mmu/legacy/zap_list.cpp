// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/legacy/zap_list.h"

#include "mmu/legacy/descriptors.h"

namespace mmudiff::legacy {

void ZapList::prepare(ShadowPage& table) {
  // The subtree's leaves are exactly the reverse maps in its IPA span.
  rmap_.remove_range(table.base_ipa, table.base_ipa + table_span(table.level()));
  detach(table);
}

void ZapList::detach(ShadowPage& table) {
  unsigned level = table.level();
  if (level < kLastLevel) {
    for (unsigned i = 0; i < kEntriesPerTable; ++i) {
      // Children are found the legacy way, by (base, level), not by following the descriptor.
      if (is_table(table.entries[i], level))
        if (ShadowPage* child = hash_.find(table.entry_ipa(i), level + 1)) detach(*child);
    }
  }
  hash_.remove(&table);
  table.parent = nullptr;
  pages_.push_back(&table);
}

void ZapList::commit() {
  for (ShadowPage* page : pages_) {
    // One reference per non-zero entry and one for the page itself: the last put frees it.
    for (unsigned i = 0; i < page->present; ++i) memory_.put_page(page->entries);
    memory_.put_page(page->entries);
    delete page;
  }
  pages_.clear();
}

}  // namespace mmudiff::legacy
