// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/table_hash.h"

#include <sodium.h>

#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/format/arm64_s2.h"

namespace mmudiff {

using namespace arm64s2;

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

class Hasher {
 public:
  Hasher(const SimMemory& memory, const SipKey& key, HashedTable* out)
      : memory_(memory), key_(key), out_(out) {}

  // A page's hash covers its masked entries, then the hashes of the tables it points to.
  uint64_t page(uint64_t pa, unsigned level) {
    const uint64_t* entries = memory_.table_page(pa);
    if (!entries) return 0;  // a dangling link: the translation oracle reports it
    // A page linked more than once (the invariants report it) is hashed once per level: without
    // this, a page aliased at every level would be hashed 512^3 times.
    auto [memo, fresh] = memo_.try_emplace(pa * kLevels + level, 0);
    if (!fresh) return memo->second;
    std::array<uint64_t, kEntriesPerTable * 2> buf;
    size_t n = 0;
    for (unsigned i = 0; i < kEntriesPerTable; ++i) {
      uint64_t e = entries[i];
      if (level < kLastLevel && classify(e, level) == DescriptorKind::Table) {
        buf[n++] = e & ~table_address_mask();
        buf[n++] = page(output_address(e), level + 1);
      } else {
        buf[n++] = e;
      }
    }
    uint64_t h = siphash24(key_, buf.data(), n * sizeof(uint64_t));
    out_->page_hash[pa] = h;
    ++out_->pages;
    out_->bytes_hashed += n * sizeof(uint64_t);
    memo_[pa * kLevels + level] = h;  // not memo->second: the recursion may have rehashed memo_
    return h;
  }

 private:
  const SimMemory& memory_;
  const SipKey& key_;
  HashedTable* out_;
  std::unordered_map<uint64_t, uint64_t> memo_;  // pa * kLevels + level -> hash
};

}  // namespace

HashedTable hash_table(const TableRoot& root, const SimMemory& memory, const SipKey& key) {
  HashedTable t;
  t.root = root;
  if (!root.live()) return t;
  Hasher h(memory, key, &t);
  std::array<uint64_t, kMaxPgdPages + 1> top{};
  top[0] = root.ia_bits;
  for (unsigned p = 0; p < root.pgd_pages; ++p)
    top[p + 1] = h.page(root.pgd_pa + p * kPageSize, root.start_level);
  t.root_hash = siphash24(key, top.data(), (root.pgd_pages + 1) * sizeof(uint64_t));
  return t;
}

namespace {

// Whether the subtrees at pa_a and pa_b hashed alike; a page with no hash (not table memory) never
// matches.
bool same_subtree(const HashedTable& a, uint64_t pa_a, const HashedTable& b, uint64_t pa_b) {
  auto ha = a.page_hash.find(pa_a), hb = b.page_hash.find(pa_b);
  return ha != a.page_hash.end() && hb != b.page_hash.end() && ha->second == hb->second;
}

std::optional<DivergingEntry> diverge_page(const HashedTable& a, const SimMemory& ma, uint64_t pa_a,
                                           const HashedTable& b, const SimMemory& mb, uint64_t pa_b,
                                           unsigned level, uint64_t base) {
  const uint64_t* ea = ma.table_page(pa_a);
  const uint64_t* eb = mb.table_page(pa_b);
  if (!ea || !eb) return DivergingEntry{base, level, ea ? ea[0] : 0, eb ? eb[0] : 0};
  for (unsigned i = 0; i < kEntriesPerTable; ++i) {
    uint64_t ipa = base + i * granule_size(level);
    bool ta = level < kLastLevel && classify(ea[i], level) == DescriptorKind::Table;
    bool tb = level < kLastLevel && classify(eb[i], level) == DescriptorKind::Table;
    uint64_t ma_ = ta ? ea[i] & ~table_address_mask() : ea[i];
    uint64_t mb_ = tb ? eb[i] & ~table_address_mask() : eb[i];
    if (ma_ != mb_) return DivergingEntry{ipa, level, ea[i], eb[i]};
    if (!ta) continue;
    uint64_t ca = output_address(ea[i]), cb = output_address(eb[i]);
    if (same_subtree(a, ca, b, cb)) continue;
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
      a.root.ia_bits == b.root.ia_bits)
    return std::nullopt;
  // Tables of different geometry (or one destroyed) diverge at the root itself. The IPA size is
  // compared here because 44..48-bit tables share one start-level page: only the root hash, which
  // covers ia_bits, tells them apart.
  const DivergingEntry at_root{0, a.root.start_level, 0, 0};
  if (!a.root.live() || !b.root.live() || a.root.ia_bits != b.root.ia_bits ||
      a.root.pgd_pages != b.root.pgd_pages || a.root.start_level != b.root.start_level)
    return at_root;
  uint64_t per_page = granule_size(a.root.start_level) * kEntriesPerTable;
  for (unsigned p = 0; p < a.root.pgd_pages; ++p) {
    uint64_t pa = a.root.pgd_pa + p * kPageSize, pb = b.root.pgd_pa + p * kPageSize;
    if (same_subtree(a, pa, b, pb)) continue;
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
