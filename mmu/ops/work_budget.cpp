// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/ops/work_budget.h"

#include <algorithm>

#include <fmt/format.h>

#include "mmu/format/arm64_s2.h"
#include "mmu/ops/text_format.h"

namespace mmudiff {

namespace {

using namespace arm64s2;

constexpr uint64_t align_down(uint64_t v, uint64_t granule) {
  return v & ~(granule - 1);
}
// Only for addresses within an IPA space: no wrap.
constexpr uint64_t align_up(uint64_t v, uint64_t granule) {
  return align_down(v + granule - 1, granule);
}

bool pages_only(const Op& op, const Config& config) {
  if (op.kind == OpKind::SetOwner) return true;
  if (config.arm64.force_pte == ForcePte::Always) return true;
  return config.arm64.force_pte == ForcePte::Device && (op.prot & prot::kDevice);
}

// The page-aligned range an arm64 walk of op covers; false when it walks nothing.
bool arm64_walked(const Op& op, const Config& config, uint64_t* start, uint64_t* end) {
  if (!valid_ia_bits(config.arm64.ia_bits)) return false;
  uint64_t limit = bit(config.arm64.ia_bits);
  *start = op.addr & ~(kPageSize - 1);
  // The kernel's end is PAGE_ALIGN(addr + size), computed modulo 2^64, and a range past the IPA
  // limit fails with -ERANGE before touching anything.
  *end = (op.addr + op.size + kPageSize - 1) & ~(kPageSize - 1);
  return *end > *start && *end <= limit;
}

// blocks1/blocks2: where the map installs 1 GiB and 2 MiB blocks (as far as it counted).
uint64_t arm64_leaf_cost(const Op& op, const Config& config, uint64_t cap,
                         std::set<uint64_t>* blocks1, std::set<uint64_t>* blocks2) {
  if (op.kind != OpKind::Map && op.kind != OpKind::SetOwner) return 0;
  uint64_t start, end;
  if (!arm64_walked(op, config, &start, &end)) return 0;
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
    (step == granule_size(1) ? blocks1 : blocks2)->insert(ipa);
    ipa += step;
    pa += step;
  }
  return std::min(leaves, cap);
}

// The operation that makes `stream` cost more than the budget, or stream.size().
size_t first_over_budget(const Stream& stream) {
  LeafCounter counter;
  uint64_t total = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    total += counter.add(stream[i], kLeafBudget + 1);
    if (total > kLeafBudget) return i;
  }
  return stream.size();
}

// No range at all: an x86 range from an unaligned address is rounded out to whole pages.
void empty_range(Op& op) {
  op.size = 0;
  if (op.kind == OpKind::Split) op.addr &= ~(kPageSize - 1);
}

// Makes the costliest operation `op` cheaper, `room` leaves being what the others leave it.
void shrink(Op& op, uint64_t room) {
  if (op.kind == OpKind::Arm64Split || op.kind == OpKind::CreateUnlinked) {
    // Each page of the cache makes at most 512 leaves: keep the pages the room pays for.
    op.memcache = static_cast<int32_t>(std::min<uint64_t>(
        static_cast<uint64_t>(std::max(op.memcache, 0)), room / arm64s2::kEntriesPerTable));
  } else if (op.kind == OpKind::Split && op.level < 2) {
    op.level = 2;  // 2 MiB pieces: 512 leaves for a 1 GiB leaf instead of 262144
  } else if (op.kind == OpKind::Split) {
    empty_range(op);
  } else if (op.kind == OpKind::Unmap) {
    // Its cost is its range TLBIs (LeafCounter::add), each of up to kMaxTlbiRangePages pages.
    op.size = std::min(op.size, std::max<uint64_t>(room - 1, 1) * kMaxTlbiRangePages * kPageSize);
  } else {
    // An unaligned start costs one page more than the size says.
    op.size = std::min(op.size, std::max<uint64_t>(room - 1, 1) * kPageSize);
  }
}

uint64_t create_unlinked_cost(const Op& op, const Config& config, uint64_t cap) {
  if (config.arm64.kernel != Arm64Kernel::Linux612 || op.memcache <= 0 || op.level > 2 ||
      (op.phys & (granule_size(op.level) - 1)))
    return 0;
  // One page of blocks or pages, or with force_pte a page per table down to pages (513 for a
  // level-1 table, 262657 for a level-0 one): as many as the cache has, 512 leaves each.
  uint64_t pages = 1;
  for (unsigned l = op.level + 1, tables = 1; op.owner && l < kLastLevel; ++l) {
    tables *= kEntriesPerTable;
    pages += tables;
  }
  pages = std::min(pages, static_cast<uint64_t>(op.memcache));
  return std::min(pages * kEntriesPerTable, cap);
}

}  // namespace

uint64_t LeafCounter::add(const Op& op, uint64_t cap) {
  if (op.kind == OpKind::Init) {
    config_ = op.config;
    block1_.clear();
    block2_.clear();
    blocks2_in_1g_.clear();
  }
  if (config_.arch == Arch::X86Ept) return x86_.add(op, config_.x86, cap);
  if (op.kind == OpKind::Init && config_.arm64.kernel == Arm64Kernel::Linux612)
    range_tlbis_ = range_tlbis_ || config_.arm64.tlb_range;
  // 6.12's deferred flush of unmap: one range TLBI per kMaxTlbiRangePages pages of the size the
  // caller gave, whatever the walk found (counted as leaves, and with or without FWB).
  if (op.kind == OpKind::Unmap && range_tlbis_) {
    const uint64_t pages = op.size >> kPageShift;
    return std::min(pages / kMaxTlbiRangePages + (pages % kMaxTlbiRangePages != 0), cap);
  }
  if (op.kind == OpKind::Arm64Split) return arm64_split_cost(op, cap);
  if (op.kind == OpKind::CreateUnlinked) return create_unlinked_cost(op, config_, cap);
  return arm64_leaf_cost(op, config_, cap, &block1_, &block2_);
}

uint64_t LeafCounter::arm64_split_cost(const Op& op, uint64_t cap) {
  uint64_t start, end;
  if (config_.arm64.kernel != Arm64Kernel::Linux612 || op.memcache <= 0 ||
      !arm64_walked(op, config_, &start, &end))
    return 0;
  const uint64_t g1 = granule_size(1), g2 = granule_size(2);
  // The 2 MiB entries of [lo, hi).
  auto entries2 = [&](uint64_t lo, uint64_t hi) {
    return (align_up(hi, g2) - align_down(lo, g2)) / g2;
  };
  // The pages the blocks that may be in the range could take, and what they leave behind.
  uint64_t pages = 0;
  for (auto it = block1_.lower_bound(align_down(start, g1)); it != block1_.end() && *it < end;
       ++it) {
    pages += arm64s2::kEntriesPerTable + 1;
    blocks2_in_1g_.insert(*it);
  }
  for (auto it = blocks2_in_1g_.lower_bound(align_down(start, g1));
       it != blocks2_in_1g_.end() && *it < end; ++it)
    pages += entries2(std::max(start, *it), std::min(end, *it + g1));
  for (auto it = block2_.lower_bound(align_down(start, g2)); it != block2_.end() && *it < end; ++it)
    ++pages;
  pages = std::min(pages, static_cast<uint64_t>(op.memcache));
  return std::min(pages * arm64s2::kEntriesPerTable, cap);
}

uint64_t stream_leaf_cost(const Stream& stream, uint64_t cap) {
  LeafCounter counter;
  uint64_t total = 0;
  for (const Op& op : stream) {
    total += counter.add(op, cap - std::min(total, cap));
    if (total >= cap) return cap;
  }
  return total;
}

std::optional<BudgetExcess> work_budget_excess(const Stream& stream) {
  if (stream.size() > kMaxStreamOps)
    return BudgetExcess{kMaxStreamOps, fmt::format("{} operations, over the budget of {}",
                                                   stream.size(), kMaxStreamOps)};
  size_t i = first_over_budget(stream);
  if (i == stream.size()) return std::nullopt;
  return BudgetExcess{
      i, fmt::format("operation #{} {} takes the stream over the work budget of {} leaves", i,
                     format_op(stream[i]), kLeafBudget)};
}

bool fit_work_budget(Stream* stream) {
  if (stream->size() > kMaxStreamOps) return false;
  // The most expensive operation gives way first, to what the budget leaves it. Each round
  // settles one operation (a split may take two: its depth, then its range), so twice as many
  // rounds as operations are enough.
  for (size_t round = 0; round <= 2 * stream->size() && !within_work_budget(*stream); ++round) {
    LeafCounter counter;
    size_t worst = stream->size();
    uint64_t worst_cost = 1, total = 0;
    for (size_t i = 0; i < stream->size(); ++i) {
      uint64_t c = counter.add((*stream)[i], kLeafBudget + 1);
      total += c;
      if (c > worst_cost) {
        worst_cost = c;
        worst = i;
      }
    }
    if (worst == stream->size()) break;  // every operation costs a leaf at most
    uint64_t others = total - worst_cost;
    shrink((*stream)[worst], others < kLeafBudget ? kLeafBudget - others : 1);
  }
  // Too many operations of a leaf or two: the ones past the budget install nothing (size 0 walks
  // nothing), the ones before it keep their meaning. Each is counted as it will run.
  LeafCounter counter;
  uint64_t total = 0;
  for (Op& op : *stream) {
    LeafCounter as_is = counter;
    uint64_t c = as_is.add(op, kLeafBudget + 1);
    if (total + c > kLeafBudget) {
      empty_range(op);
      c = counter.add(op, kLeafBudget + 1);
    } else {
      counter = std::move(as_is);
    }
    total += c;
  }
  return within_work_budget(*stream);
}

}  // namespace mmudiff
