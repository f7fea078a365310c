// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/format/format.h"

namespace mmudiff {

const char* kind_name(DescriptorKind kind) {
  switch (kind) {
    case DescriptorKind::Invalid:
      return "invalid";
    case DescriptorKind::Table:
      return "table";
    case DescriptorKind::Block:
      return "block";
    case DescriptorKind::Page:
      return "page";
    case DescriptorKind::Reserved:
      return "reserved";
  }
  return "?";
}

const char* memory_type_name(MemoryType type) {
  switch (type) {
    case MemoryType::Device:
      return "device";
    case MemoryType::NormalNonCacheable:
      return "normal non-cacheable";
    case MemoryType::NormalWriteThrough:
      return "normal write-through";
    case MemoryType::NormalWriteBack:
      return "normal write-back";
    case MemoryType::NormalMixed:
      return "normal, inner and outer cacheability differ";
    case MemoryType::NormalFromStage1:
      return "normal, type from stage 1";
    case MemoryType::Reserved:
      return "reserved";
  }
  return "?";
}

void DescriptorFormat::classify_page(std::span<const uint64_t> entries, unsigned level,
                                     std::span<DescriptorKind> kinds) const {
  for (size_t i = 0; i < entries.size() && i < kinds.size(); ++i)
    kinds[i] = classify(entries[i], level);
}

}  // namespace mmudiff
