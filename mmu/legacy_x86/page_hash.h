// SPDX-License-Identifier: GPL-2.0-only
// The hash table from (gfn, role) to shadow page, as x86 KVM's mmu_page_hash: how the backend
// finds the table below an SPTE, or every table of a level, without following table pointers.
// Chains are intrusive (KvmMmuPage::hash_next).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mmu/legacy_x86/shadow_page.h"

namespace mmudiff::legacy_x86 {

class PageHash {
 public:
  PageHash();

  void insert(KvmMmuPage* sp);
  void remove(KvmMmuPage* sp);
  KvmMmuPage* find(uint64_t gfn, const ShadowRole& role) const;
  size_t size() const { return size_; }

  // Every page, in no particular order. The visitor must not insert or remove.
  template <class Visit>
  void for_each(Visit&& visit) const {
    for (KvmMmuPage* head : buckets_)
      for (KvmMmuPage* sp = head; sp; sp = sp->hash_next) visit(*sp);
  }

 private:
  static constexpr unsigned kBucketBits = 12;  // KVM_MMU_HASH_SHIFT
  static size_t bucket_of(uint64_t gfn);

  std::vector<KvmMmuPage*> buckets_;
  size_t size_ = 0;
};

}  // namespace mmudiff::legacy_x86
