// SPDX-License-Identifier: GPL-2.0-only
// Will Deacon's dual-table check, as a tree: every table page is hashed with SipHash-2-4 over its
// entries, table-descriptor address fields masked (table pages live at different addresses in
// different backends), followed by its children's hashes. Equal roots mean equal tables up to
// where their pages live; unequal roots lead straight down to the first diverging page.
//
// TableHashCache makes the check incremental: it keeps every page's subtree hash with the page's
// write generation (SimMemory), so a check rehashes only the pages written since the last one and
// their ancestors, whose hashes cover their children's.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mmu/backend.h"

namespace mmudiff {

using SipKey = std::array<uint8_t, 16>;

// SipHash-2-4 (libsodium's crypto_shorthash_siphash24).
uint64_t siphash24(const SipKey& key, const void* data, size_t len);

class TableHashCache;

// A table page as a place in the tree: the same page linked at two levels is two subtrees.
inline constexpr uint64_t page_key(uint64_t pa, unsigned level) {
  return pa | level;  // pages are aligned: the low bits are free
}

struct HashedTable {
  TableRoot root;
  uint64_t root_hash = 0;
  // page_key(pa, level) -> that subtree's hash, for every table page reached (hash_table only).
  std::unordered_map<uint64_t, uint64_t> subtree_hashes;
  // From TableHashCache::update: the subtree hashes are the cache's, valid until its next update.
  const TableHashCache* cache = nullptr;
  size_t pages = 0;         // table pages in the tree
  size_t bytes_hashed = 0;  // bytes SipHash read to compute this (a cache reads fewer)

  std::optional<uint64_t> subtree_hash(uint64_t pa, unsigned level) const;
};

HashedTable hash_table(const TableRoot& root, const SimMemory& memory, const SipKey& key);

// One per backend lane (one SimMemory). update() gives what hash_table() gives for the same
// table — root hash, page count, subtree hashes — reading only pages whose generation changed
// since the last update, and their ancestors. It trusts generations only when the memory's
// stores are tracked (SimMemory::tracks_stores); otherwise every update is a full hash.
class TableHashCache {
 public:
  explicit TableHashCache(const SipKey& key) : key_(key) {}

  HashedTable update(const TableRoot& root, const SimMemory& memory);
  void clear();

  std::optional<uint64_t> subtree_hash(uint64_t pa, unsigned level) const;
  size_t entries() const { return entries_.size(); }
  // Pages rehashed by the last update: what the cache saved is pages - this.
  size_t rehashed() const { return rehashed_; }
  // Whether the last update rehashed the page at that level: something in its subtree changed
  // (or it is new to the cache). A page it did not rehash is as the update before left it.
  bool rehashed(uint64_t pa, unsigned level) const {
    const uint64_t key = page_key(pa, level);
    return (rehashed_filter_ & filter_bit(key)) &&
           std::binary_search(rehashed_keys_.begin(), rehashed_keys_.end(), key);
  }

 private:
  struct Entry {
    uint64_t generation = 0;  // the page's generation when it was hashed
    uint64_t hash = 0;        // 0 for a page that was not table memory (a dangling link)
    bool live = false;        // table memory when hashed
    bool stale = true;
    // Links, one element per table descriptor (a page linked twice is listed twice), so a page
    // no descriptor points to any more is dropped along with everything only it pointed to.
    std::vector<uint64_t> children;
    std::vector<uint64_t> child_hashes;  // children[i]'s hash when this page was hashed
    std::vector<uint64_t> parents;
    // Children marked stale since this page was hashed: a rehash visits only these, and takes
    // the others' hashes from child_hashes.
    std::vector<uint64_t> stale_children;
  };

  bool same_table(const TableRoot& root, const SimMemory& memory) const;
  void mark_stale(uint64_t key);
  uint64_t visit(uint64_t key);
  void unlink(uint64_t parent, uint64_t child);

  SipKey key_;
  const SimMemory* memory_ = nullptr;
  const DescriptorFormat* format_ = nullptr;
  TableRoot root_;
  uint64_t synced_clock_ = 0;
  std::unordered_map<uint64_t, Entry> entries_;
  size_t live_pages_ = 0;
  size_t rehashed_ = 0;
  size_t bytes_hashed_ = 0;
  std::vector<uint64_t> changed_;  // scratch
  // Sorted at the end of update(). A handful of pages after a small operation: a vector, whose
  // clear() does not sweep the buckets a first full hash of a large table left behind.
  std::vector<uint64_t> rehashed_keys_;
  // One bit per key, by its page number: asked for each of a full table page's 512 links, most
  // answers are no and the filter gives them without the search.
  uint64_t rehashed_filter_ = 0;
  static uint64_t filter_bit(uint64_t key) { return uint64_t{1} << ((key >> 12 ^ key) & 63); }
};

struct DivergingEntry {
  uint64_t ipa;
  unsigned level;
  uint64_t a;  // raw descriptors on each side
  uint64_t b;
};

// Walks only into subtrees whose hashes differ; nullopt when the roots are equal.
std::optional<DivergingEntry> first_divergence(const HashedTable& a, const SimMemory& ma,
                                               const HashedTable& b, const SimMemory& mb);

SipKey parse_sip_key(const std::string& hex);  // 32 hex digits; throws std::invalid_argument
std::string format_sip_key(const SipKey& key);
SipKey random_sip_key();

}  // namespace mmudiff
