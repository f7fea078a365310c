// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/legacy_x86/page_hash.h"

namespace mmudiff::legacy_x86 {

PageHash::PageHash() : buckets_(size_t{1} << kBucketBits, nullptr) {}

// kvm_page_table_hashfn: hash_64 of the gfn alone, so the tables of every level that start at
// one gfn share a chain and the role tells them apart.
size_t PageHash::bucket_of(uint64_t gfn) {
  return static_cast<size_t>((gfn * 0x61c8864680b583ebULL) >> (64 - kBucketBits));
}

void PageHash::insert(KvmMmuPage* sp) {
  KvmMmuPage*& head = buckets_[bucket_of(sp->gfn)];
  sp->hash_next = head;
  head = sp;
  ++size_;
}

void PageHash::remove(KvmMmuPage* sp) {
  for (KvmMmuPage** link = &buckets_[bucket_of(sp->gfn)]; *link; link = &(*link)->hash_next) {
    if (*link == sp) {
      *link = sp->hash_next;
      sp->hash_next = nullptr;
      --size_;
      return;
    }
  }
}

KvmMmuPage* PageHash::find(uint64_t gfn, const ShadowRole& role) const {
  for (KvmMmuPage* sp = buckets_[bucket_of(gfn)]; sp; sp = sp->hash_next)
    if (sp->gfn == gfn && sp->role == role) return sp;
  return nullptr;
}

}  // namespace mmudiff::legacy_x86
