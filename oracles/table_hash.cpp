// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/table_hash.h"

#include <sodium.h>

#include <algorithm>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

namespace mmudiff {

static_assert(crypto_shorthash_siphash24_KEYBYTES == 16);
static_assert(crypto_shorthash_siphash24_BYTES == 8);

uint64_t siphash24(const SipKey& key, const void* data, size_t len) {
  uint8_t out[8];
  crypto_shorthash_siphash24(out, static_cast<const unsigned char*>(data), len, key.data());
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | out[i];  // SipHash's output is little-endian
  return v;
}

namespace {

// Entries per table page the hash tree handles: 512 for arm64 (4 KiB granule), x86 EPT and
// RISC-V G-stage alike.
constexpr unsigned kMaxEntries = 512;

// One page's hash: its entries in order, each table descriptor with its address field masked
// and followed by the hash of the subtree it points to (child(next-level table address)). A page
// with fewer than half its entries in use (not the format's empty entry) is hashed as the index
// and entry of each one in use instead: the same information, and a fuzzed table's pages mostly
// hold a few entries, whose 4 KiB SipHash read was a fifth of the fuzz loop. A first word says
// which form follows. The full hash and the cache both hash pages here, so they agree by
// construction.
template <class ChildHash>
uint64_t hash_page(const DescriptorFormat& f, const SipKey& key, const uint64_t* entries,
                   unsigned level, ChildHash&& child, size_t* bytes) {
  const unsigned n = f.entries_per_table();
  if (n > kMaxEntries) throw std::logic_error("format has more entries per table than supported");
  const uint64_t empty = f.empty_entry();
  std::array<uint16_t, kMaxEntries> in_use;
  unsigned used = 0;
  for (unsigned i = 0; i < n; ++i) {
    in_use[used] = static_cast<uint16_t>(i);
    used += entries[i] != empty;
  }
  const bool sparse = 2 * used < n;
  const bool tables_here = level < f.last_level();
  const uint64_t keep = ~f.table_address_mask(level);
  std::array<uint64_t, kMaxEntries * 2 + 1> buf;
  size_t k = 0;
  buf[k++] = sparse;
  auto put = [&](uint64_t e, DescriptorKind kind) {
    if (tables_here && kind == DescriptorKind::Table) {
      buf[k++] = e & keep;
      buf[k++] = child(f.next_table_address(e, level));
    } else {
      buf[k++] = e;
    }
  };
  if (sparse) {
    // Classified one by one, only where in use.
    for (unsigned j = 0; j < used; ++j) {
      const unsigned i = in_use[j];
      buf[k++] = i;
      put(entries[i], tables_here ? f.classify(entries[i], level) : DescriptorKind::Invalid);
    }
  } else {
    std::array<DescriptorKind, kMaxEntries> kinds;
    f.classify_page({entries, n}, level, {kinds.data(), n});
    for (unsigned i = 0; i < n; ++i) put(entries[i], kinds[i]);
  }
  *bytes += k * sizeof(uint64_t);
  return siphash24(key, buf.data(), k * sizeof(uint64_t));
}

// The root hash covers the IPA size (44..48-bit tables share one start-level page) and every
// start-level page's hash.
uint64_t hash_root(const SipKey& key, const TableRoot& root, const std::vector<uint64_t>& pages) {
  std::vector<uint64_t> top;
  top.reserve(pages.size() + 1);
  top.push_back(root.ia_bits);
  top.insert(top.end(), pages.begin(), pages.end());
  return siphash24(key, top.data(), top.size() * sizeof(uint64_t));
}

class Hasher {
 public:
  Hasher(const SimMemory& memory, const SipKey& key, HashedTable* out)
      : memory_(memory), key_(key), format_(*out->root.format), out_(out) {}

  // A page's hash covers its masked entries, then the hashes of the tables it points to.
  uint64_t page(uint64_t pa, unsigned level) {
    const uint64_t* entries = memory_.table_page(pa);
    if (!entries) return 0;  // a dangling link: the translation oracle reports it
    // A page linked more than once (the invariants report it) is hashed once per level: without
    // this, a page aliased at every level would be hashed 512^3 times.
    uint64_t key = page_key(pa, level);
    if (auto memo = out_->subtree_hashes.find(key); memo != out_->subtree_hashes.end())
      return memo->second;
    uint64_t h = hash_page(
        format_, key_, entries, level, [&](uint64_t child) { return page(child, level + 1); },
        &out_->bytes_hashed);
    out_->subtree_hashes[key] = h;
    ++out_->pages;
    return h;
  }

 private:
  const SimMemory& memory_;
  const SipKey& key_;
  const DescriptorFormat& format_;
  HashedTable* out_;
};

}  // namespace

std::optional<uint64_t> HashedTable::subtree_hash(uint64_t pa, unsigned level) const {
  if (cache) return cache->subtree_hash(pa, level);
  auto it = subtree_hashes.find(page_key(pa, level));
  if (it == subtree_hashes.end()) return std::nullopt;
  return it->second;
}

HashedTable hash_table(const TableRoot& root, const SimMemory& memory, const SipKey& key) {
  HashedTable t;
  t.root = root;
  if (!root.live()) return t;
  Hasher h(memory, key, &t);
  std::vector<uint64_t> top;
  for (unsigned p = 0; p < root.pgd_pages; ++p)
    top.push_back(h.page(root.pgd_pa + p * root.format->page_size(), root.start_level));
  t.root_hash = hash_root(key, root, top);
  return t;
}

// ---- The cache ----------------------------------------------------------------------------

void TableHashCache::clear() {
  entries_.clear();
  memory_ = nullptr;
  format_ = nullptr;
  root_ = TableRoot{};
  live_pages_ = 0;
}

bool TableHashCache::same_table(const TableRoot& root, const SimMemory& memory) const {
  return memory_ == &memory && format_ == root.format && root_.ia_bits == root.ia_bits &&
         root_.start_level == root.start_level && root_.pgd_pa == root.pgd_pa &&
         root_.pgd_pages == root.pgd_pages;
}

std::optional<uint64_t> TableHashCache::subtree_hash(uint64_t pa, unsigned level) const {
  auto it = entries_.find(page_key(pa, level));
  if (it == entries_.end() || !it->second.live) return std::nullopt;
  return it->second.hash;
}

// A changed page invalidates its own hash and, since a hash covers its children's, every
// ancestor's up to the root.
void TableHashCache::mark_stale(uint64_t key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.stale) return;
  it->second.stale = true;
  for (uint64_t parent : it->second.parents) {
    if (auto p = entries_.find(parent); p != entries_.end())
      p->second.stale_children.push_back(key);
    mark_stale(parent);
  }
}

// Drops one link parent -> child; a child nothing links to any more (and that is not a
// start-level page, which has no parent) leaves the cache, unlinking its own children.
void TableHashCache::unlink(uint64_t parent, uint64_t child) {
  auto it = entries_.find(child);
  if (it == entries_.end()) return;
  auto& parents = it->second.parents;
  if (auto p = std::find(parents.begin(), parents.end(), parent); p != parents.end())
    parents.erase(p);
  if (!parents.empty()) return;
  std::vector<uint64_t> children = std::move(it->second.children);
  if (it->second.live) --live_pages_;
  entries_.erase(it);
  for (uint64_t c : children) unlink(child, c);
}

uint64_t TableHashCache::visit(uint64_t key) {
  uint64_t pa = key & ~(format_->page_size() - 1);
  unsigned level = static_cast<unsigned>(key & (format_->page_size() - 1));
  // References to unordered_map elements survive rehashing; this one survives the recursion
  // below because unlink() only drops pages at deeper levels than any page on the stack.
  Entry& e = entries_[key];
  if (!e.stale && e.generation == memory_->generation(pa)) return e.hash;
  e.generation = memory_->generation(pa);
  std::vector<uint64_t> old_children = std::move(e.children);
  std::vector<uint64_t> old_hashes = std::move(e.child_hashes);
  std::vector<uint64_t> stale_children = std::move(e.stale_children);
  // As many links as before, most likely: no regrowing one entry at a time.
  e.children.clear();
  e.children.reserve(old_children.size());
  e.child_hashes.clear();
  e.child_hashes.reserve(old_children.size());
  e.stale_children.clear();
  uint64_t stale_filter = 0;
  for (uint64_t c : stale_children) stale_filter |= filter_bit(c);
  const uint64_t* entries = memory_->table_page(pa);
  bool was_live = e.live;
  e.live = entries != nullptr;
  rehashed_keys_.push_back(key);
  rehashed_filter_ |= filter_bit(key);
  if (e.live) {
    ++rehashed_;
    e.hash = hash_page(
        *format_, key_, entries, level,
        [&](uint64_t child_pa) {
          const uint64_t child = page_key(child_pa, level + 1);
          const size_t j = e.children.size();
          // The same child in the same place, not marked stale: its hash is the one it had.
          const bool same = j < old_children.size() && old_children[j] == child &&
                            !((stale_filter & filter_bit(child)) &&
                              std::find(stale_children.begin(), stale_children.end(), child) !=
                                  stale_children.end());
          const uint64_t h = same ? old_hashes[j] : visit(child);
          e.children.push_back(child);
          e.child_hashes.push_back(h);
          return h;
        },
        &bytes_hashed_);
  } else {
    e.hash = 0;  // a dangling link hashes as 0, as in hash_table; its generation still tells
                 // when the page becomes table memory
  }
  live_pages_ += e.live;
  live_pages_ -= was_live;
  e.stale = false;
  // A page rehashed for a change below it links the same children as before: nothing to redo.
  // Otherwise the new links are in place before the old ones go, so a child kept across the
  // change stays cached. (A child visited above has no parent yet, but only a page of this
  // level could unlink it, and none is visited below this one.)
  if (e.children != old_children) {
    for (uint64_t c : e.children) entries_[c].parents.push_back(key);
    for (uint64_t c : old_children) unlink(key, c);
  }
  return e.hash;
}

HashedTable TableHashCache::update(const TableRoot& root, const SimMemory& memory) {
  rehashed_ = 0;
  rehashed_keys_.clear();
  rehashed_filter_ = 0;
  bytes_hashed_ = 0;
  if (!root.live() || !memory.tracks_stores()) {
    clear();
    HashedTable full = hash_table(root, memory, key_);
    rehashed_ = full.pages;
    return full;
  }
  if (!same_table(root, memory)) {
    clear();
    memory_ = &memory;
    format_ = root.format;
    root_ = root;
  } else {
    changed_.clear();
    if (memory.changed_since(synced_clock_, &changed_)) {
      for (uint64_t pa : changed_)
        for (unsigned level = 0; level < format_->levels(); ++level)
          mark_stale(page_key(pa, level));
    } else {
      // The journal no longer reaches back to the last update: compare every generation.
      for (auto& [k, e] : entries_)
        if (e.generation != memory.generation(k & ~(format_->page_size() - 1))) mark_stale(k);
    }
  }
  synced_clock_ = memory.change_clock();

  HashedTable t;
  t.root = root;
  t.cache = this;
  std::vector<uint64_t> top;
  for (unsigned p = 0; p < root.pgd_pages; ++p)
    top.push_back(visit(page_key(root.pgd_pa + p * format_->page_size(), root.start_level)));
  t.root_hash = hash_root(key_, root, top);
  std::sort(rehashed_keys_.begin(), rehashed_keys_.end());
  t.pages = live_pages_;
  t.bytes_hashed = bytes_hashed_;
  return t;
}

// ---- The structural diff ------------------------------------------------------------------

namespace {

// Whether the subtrees at pa_a and pa_b hashed alike; a page with no hash (not table memory) never
// matches.
bool same_subtree(const HashedTable& a, uint64_t pa_a, const HashedTable& b, uint64_t pa_b,
                  unsigned level) {
  auto ha = a.subtree_hash(pa_a, level), hb = b.subtree_hash(pa_b, level);
  return ha && hb && *ha == *hb;
}

std::optional<DivergingEntry> diverge_page(const HashedTable& a, const SimMemory& ma, uint64_t pa_a,
                                           const HashedTable& b, const SimMemory& mb, uint64_t pa_b,
                                           unsigned level, uint64_t base) {
  const DescriptorFormat& f = *a.root.format;
  const uint64_t* ea = ma.table_page(pa_a);
  const uint64_t* eb = mb.table_page(pa_b);
  if (!ea || !eb) return DivergingEntry{base, level, ea ? ea[0] : 0, eb ? eb[0] : 0};
  const uint64_t keep = ~f.table_address_mask(level);
  const bool tables_here = level < f.last_level();
  for (unsigned i = 0; i < f.entries_per_table(); ++i) {
    uint64_t ipa = base + i * f.granule_size(level);
    bool ta = tables_here && f.classify(ea[i], level) == DescriptorKind::Table;
    bool tb = tables_here && f.classify(eb[i], level) == DescriptorKind::Table;
    uint64_t ma_ = ta ? ea[i] & keep : ea[i];
    uint64_t mb_ = tb ? eb[i] & keep : eb[i];
    if (ma_ != mb_) return DivergingEntry{ipa, level, ea[i], eb[i]};
    if (!ta) continue;
    uint64_t ca = f.next_table_address(ea[i], level), cb = f.next_table_address(eb[i], level);
    if (same_subtree(a, ca, b, cb, level + 1)) continue;
    // A table pointer to something that is not a table page diverges here, at the pointer.
    if (!ma.table_page(ca) || !mb.table_page(cb)) {
      if (!ma.table_page(ca) && !mb.table_page(cb)) continue;  // dangling alike: hashed alike
      return DivergingEntry{ipa, level, ea[i], eb[i]};
    }
    if (auto d = diverge_page(a, ma, ca, b, mb, cb, level + 1, ipa)) return d;
  }
  return std::nullopt;
}

}  // namespace

std::optional<DivergingEntry> first_divergence(const HashedTable& a, const SimMemory& ma,
                                               const HashedTable& b, const SimMemory& mb) {
  // Destroyed tables are alike whatever configuration they had.
  if (!a.root.live() && !b.root.live()) return std::nullopt;
  if (a.root_hash == b.root_hash && a.root.live() == b.root.live() &&
      a.root.ia_bits == b.root.ia_bits && a.root.format == b.root.format)
    return std::nullopt;
  // Tables of different geometry or format (or one destroyed) diverge at the root itself. The
  // IPA size is compared here because 44..48-bit tables share one start-level page: only the
  // root hash, which covers ia_bits, tells them apart.
  const DivergingEntry at_root{0, a.root.start_level, 0, 0};
  if (!a.root.live() || !b.root.live() || a.root.ia_bits != b.root.ia_bits ||
      a.root.pgd_pages != b.root.pgd_pages || a.root.start_level != b.root.start_level ||
      a.root.format != b.root.format)
    return at_root;
  const DescriptorFormat& f = *a.root.format;
  uint64_t per_page = f.root_page_span(a.root.start_level);
  for (unsigned p = 0; p < a.root.pgd_pages; ++p) {
    uint64_t pa = a.root.pgd_pa + p * f.page_size(), pb = b.root.pgd_pa + p * f.page_size();
    if (same_subtree(a, pa, b, pb, a.root.start_level)) continue;
    if (!ma.table_page(pa) && !mb.table_page(pb)) continue;  // neither is table memory
    if (auto d = diverge_page(a, ma, pa, b, mb, pb, a.root.start_level, p * per_page)) return d;
  }
  // Unequal roots must never read as equal tables: if no entry differs, say so at the root.
  return at_root;
}

SipKey parse_sip_key(const std::string& hex) {
  SipKey k{};
  if (hex.size() != 32) throw std::invalid_argument("a SipHash key is 32 hex digits");
  for (size_t i = 0; i < 16; ++i) {
    auto nib = [&](char c) -> uint8_t {
      if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
      if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
      if (c >= 'A' && c <= 'F') return static_cast<uint8_t>(c - 'A' + 10);
      throw std::invalid_argument(fmt::format("SipHash key has a non-hex digit '{}'", c));
    };
    k[i] = static_cast<uint8_t>(nib(hex[2 * i]) << 4 | nib(hex[2 * i + 1]));
  }
  return k;
}

std::string format_sip_key(const SipKey& key) {
  std::string s;
  for (uint8_t b : key) s += fmt::format("{:02x}", b);
  return s;
}

SipKey random_sip_key() {
  SipKey k;
  std::random_device rd;
  for (auto& b : k) b = static_cast<uint8_t>(rd());
  return k;
}

}  // namespace mmudiff
