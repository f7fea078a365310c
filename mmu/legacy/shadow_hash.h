// SPDX-License-Identifier: GPL-2.0-only
// The hash table from (base IPA, level) to shadow page, as x86 KVM's mmu_page_hash: how the
// legacy backend finds the table translating an address without walking down from the root.
// Chains are intrusive (ShadowPage::hash_next), so the table never allocates per page.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mmu/legacy/shadow_page.h"

namespace mmudiff::legacy {

class ShadowHash {
 public:
  ShadowHash();

  void insert(ShadowPage* page);
  void remove(ShadowPage* page);
  ShadowPage* find(uint64_t base_ipa, unsigned level) const;
  size_t size() const { return size_; }

  // Every page, in no particular order. The visitor must not insert or remove.
  template <class Visit>
  void for_each(Visit&& visit) const {
    for (ShadowPage* head : buckets_)
      for (ShadowPage* p = head; p; p = p->hash_next) visit(*p);
  }

 private:
  static constexpr unsigned kBucketBits = 12;
  static size_t bucket_of(uint64_t base_ipa, unsigned level);

  std::vector<ShadowPage*> buckets_;
  size_t size_ = 0;
};

}  // namespace mmudiff::legacy
