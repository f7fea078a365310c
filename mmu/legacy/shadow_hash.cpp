// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/legacy/shadow_hash.h"

namespace mmudiff::legacy {

ShadowHash::ShadowHash() : buckets_(size_t{1} << kBucketBits, nullptr) {}

// The kernel's hash_64: multiply by the golden ratio and keep the top bits. Table bases are
// multiples of 2 MiB or more, so their low bits carry nothing and must not pick the bucket.
size_t ShadowHash::bucket_of(uint64_t base_ipa, unsigned level) {
  uint64_t key = (base_ipa >> arm64s2::kPageShift) << 2 | level;
  return static_cast<size_t>((key * 0x61c8864680b583ebULL) >> (64 - kBucketBits));
}

void ShadowHash::insert(ShadowPage* page) {
  ShadowPage*& head = buckets_[bucket_of(page->base_ipa, page->level())];
  page->hash_next = head;
  head = page;
  ++size_;
}

void ShadowHash::remove(ShadowPage* page) {
  for (ShadowPage** link = &buckets_[bucket_of(page->base_ipa, page->level())]; *link;
       link = &(*link)->hash_next) {
    if (*link == page) {
      *link = page->hash_next;
      page->hash_next = nullptr;
      --size_;
      return;
    }
  }
}

ShadowPage* ShadowHash::find(uint64_t base_ipa, unsigned level) const {
  for (ShadowPage* p = buckets_[bucket_of(base_ipa, level)]; p; p = p->hash_next)
    if (p->base_ipa == base_ipa && p->level() == level) return p;
  return nullptr;
}

}  // namespace mmudiff::legacy
