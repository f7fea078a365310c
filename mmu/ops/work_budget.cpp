// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/ops/work_budget.h"

#include <algorithm>

#include <fmt/format.h>

#include "mmu/format/arm64_s2.h"
#include "mmu/ops/text_format.h"

namespace mmudiff {

namespace {

using namespace arm64s2;

bool pages_only(const Op& op, const Config& config) {
  if (op.kind == OpKind::SetOwner) return true;
  if (config.arm64.force_pte == ForcePte::Always) return true;
  return config.arm64.force_pte == ForcePte::Device && (op.prot & prot::kDevice);
}

}  // namespace

uint64_t op_leaf_cost(const Op& op, const Config& config, uint64_t cap) {
  if (op.kind != OpKind::Map && op.kind != OpKind::SetOwner) return 0;
  uint64_t limit = bit(config.arm64.ia_bits);
  uint64_t start = op.addr & ~(kPageSize - 1);
  // The kernel's end is PAGE_ALIGN(addr + size), computed modulo 2^64, and a range past the IPA
  // limit fails with -ERANGE before touching anything.
  uint64_t end = (op.addr + op.size + kPageSize - 1) & ~(kPageSize - 1);
  if (end <= start || end > limit) return 0;
  if (pages_only(op, config)) return std::min<uint64_t>((end - start) / kPageSize, cap);
  unsigned first_block_level =
      std::max(kMinBlockLevel, geometry_for(config.arm64.ia_bits).start_level);
  uint64_t leaves = 0;
  uint64_t ipa = start;
  uint64_t pa = op.phys & ~(kPageSize - 1);
  while (ipa < end && leaves < cap) {
    uint64_t step = kPageSize;
    for (unsigned level = first_block_level; level < kLastLevel; ++level) {
      uint64_t g = granule_size(level);
      if (ipa % g == 0 && pa % g == 0 && end - ipa >= g) {
        step = g;
        break;
      }
    }
    // A run of pages up to the next 2 MiB boundary costs one leaf each: count it at once.
    if (step == kPageSize) {
      uint64_t g2 = granule_size(kLastLevel - 1);
      uint64_t run = std::max<uint64_t>(std::min(end - ipa, g2 - ipa % g2) / kPageSize, 1);
      leaves += run;
      ipa += run * kPageSize;
      pa += run * kPageSize;
      continue;
    }
    ++leaves;
    ipa += step;
    pa += step;
  }
  return std::min(leaves, cap);
}

uint64_t stream_leaf_cost(const Stream& stream, uint64_t cap) {
  Config config;
  uint64_t total = 0;
  for (const Op& op : stream) {
    if (op.kind == OpKind::Init) config = op.config;
    if (!valid_ia_bits(config.arm64.ia_bits)) continue;
    total += op_leaf_cost(op, config, cap - std::min(total, cap));
    if (total >= cap) return cap;
  }
  return total;
}

std::optional<BudgetExcess> work_budget_excess(const Stream& stream) {
  if (stream.size() > kMaxStreamOps)
    return BudgetExcess{kMaxStreamOps, fmt::format("{} operations, over the budget of {}",
                                                   stream.size(), kMaxStreamOps)};
  Config config;
  uint64_t total = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    const Op& op = stream[i];
    if (op.kind == OpKind::Init) config = op.config;
    if (!valid_ia_bits(config.arm64.ia_bits)) continue;
    total += op_leaf_cost(op, config, kLeafBudget + 1);
    if (total > kLeafBudget)
      return BudgetExcess{
          i, fmt::format("operation #{} {} takes the stream over the work budget of {} leaves", i,
                         format_op(op), kLeafBudget)};
  }
  return std::nullopt;
}

bool fit_work_budget(Stream* stream) {
  if (stream->size() > kMaxStreamOps) return false;
  // The most expensive operation gives way first: its size shrinks to what the budget leaves.
  // Each round settles one operation, so as many rounds as operations are enough.
  for (size_t round = 0; round <= stream->size() && !within_work_budget(*stream); ++round) {
    Config config;
    size_t worst = stream->size();
    uint64_t worst_cost = 1, total = 0;
    for (size_t i = 0; i < stream->size(); ++i) {
      const Op& op = (*stream)[i];
      if (op.kind == OpKind::Init) config = op.config;
      uint64_t c = op_leaf_cost(op, config, kLeafBudget + 1);
      total += c;
      if (c > worst_cost) {
        worst_cost = c;
        worst = i;
      }
    }
    if (worst == stream->size()) break;  // every operation costs a leaf at most
    uint64_t others = total - worst_cost;
    uint64_t room = others < kLeafBudget ? kLeafBudget - others : 1;
    Op& op = (*stream)[worst];
    // An unaligned start costs one page more than the size says.
    op.size = std::min(op.size, std::max<uint64_t>(room - 1, 1) * kPageSize);
  }
  // Too many operations of a leaf or two: the ones past the budget install nothing (size 0 walks
  // nothing), the ones before it keep their meaning.
  Config config;
  uint64_t total = 0;
  for (Op& op : *stream) {
    if (op.kind == OpKind::Init) config = op.config;
    if (!valid_ia_bits(config.arm64.ia_bits)) continue;
    uint64_t c = op_leaf_cost(op, config, kLeafBudget + 1);
    if (total + c > kLeafBudget) {
      op.size = 0;
      c = 0;
    }
    total += c;
  }
  return within_work_budget(*stream);
}

}  // namespace mmudiff
