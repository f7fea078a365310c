// SPDX-License-Identifier: GPL-2.0-only
// Will Deacon's dual-table check, as a tree: every table page is hashed with SipHash-2-4 over its
// entries, table-descriptor address fields masked (table pages live at different addresses in
// different backends), followed by its children's hashes. Equal roots mean equal tables up to
// where their pages live; unequal roots lead straight down to the first diverging page.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "mmu/backend.h"

namespace mmudiff {

using SipKey = std::array<uint8_t, 16>;

// SipHash-2-4 (libsodium's crypto_shorthash_siphash24).
uint64_t siphash24(const SipKey& key, const void* data, size_t len);

struct HashedTable {
  TableRoot root;
  uint64_t root_hash = 0;
  std::unordered_map<uint64_t, uint64_t> page_hash;  // table page pa -> its subtree's hash
  size_t pages = 0;
  size_t bytes_hashed = 0;
};

HashedTable hash_table(const TableRoot& root, const SimMemory& memory, const SipKey& key);

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
