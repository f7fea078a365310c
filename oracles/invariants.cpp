// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/invariants.h"

#include <unordered_set>

#include <fmt/format.h>

#include "mmu/format/arm64_s2.h"
#include "mmu/format/decode.h"

namespace mmudiff {

using namespace arm64s2;

namespace {

// Device memory, by the Arm ARM's stage-2 MemAttr encodings: without FEAT_S2FWB MemAttr[3:2] = 00
// is Device (MemAttr[1:0] the type: nGnRnE, nGnRE, nGRE, GRE); with FWB, MemAttr[2] = 0 is.
// KVM writes only nGnRE, but every Device type forbids execution alike.
bool is_device(uint64_t desc, bool fwb) {
  uint64_t attr = (desc & kMemAttrMask) >> kMemAttrShift;
  return fwb ? !(attr & 0x4) : (attr & 0xc) == 0;
}

// Executable at some exception level: XN[1:0] = 10 is the only encoding that forbids execution at
// both EL1 and EL0 (00 allows both; with FEAT_XNX, 01 allows EL0 and 11 allows EL1).
bool is_executable(uint64_t desc) {
  return (desc & kXnMask) != kXn;
}

class Checker {
 public:
  Checker(const SimMemory& memory, bool fwb, std::vector<InvariantViolation>* out)
      : memory_(memory), fwb_(fwb), out_(out) {}

  void page(uint64_t pa, unsigned level, uint64_t base) {
    if (!seen_.insert(pa).second) {
      add(Severity::Security, "aliasing",
          fmt::format("table page {:#x} is linked twice (again at level {} for IPA {:#x})", pa,
                      level, base));
      return;
    }
    const uint64_t* t = memory_.table_page(pa);
    if (!t) return;  // the table-links oracle reports dangling links
    int nonzero = 0;
    for (unsigned i = 0; i < kEntriesPerTable; ++i) {
      uint64_t d = t[i];
      if (d == 0) continue;
      ++nonzero;
      entry(d, level, base + i * granule_size(level));
    }
    int count = memory_.page_count(t);
    if (count != 1 + nonzero)
      add(Severity::Functional, "refcount",
          fmt::format(
              "level {} table page {:#x} (IPA {:#x}) has refcount {} but {} non-zero entries",
              level, pa, base, count, nonzero));
  }

 private:
  void entry(uint64_t d, unsigned level, uint64_t ipa) {
    switch (classify(d, level)) {
      case DescriptorKind::Invalid: {
        uint64_t owner = (d & kOwnerMask) >> kOwnerShift;
        if ((d & ~kOwnerMask) || owner > kMaxOwnerId)
          add(Severity::Functional, "owner",
              fmt::format("IPA {:#x} level {}: invalid descriptor {:#018x} is not an owner "
                          "annotation (id <= {})",
                          ipa, level, d, kMaxOwnerId));
        else if (level != kLastLevel)
          add(Severity::Functional, "owner",
              fmt::format("IPA {:#x} level {}: owner annotation {:#018x} above level {}; set_owner "
                          "annotates single pages only",
                          ipa, level, d, kLastLevel));
        return;
      }
      case DescriptorKind::Reserved:
        add(Severity::Security, "reserved-bits",
            fmt::format("IPA {:#x}: {:#018x} is a reserved encoding at level {}", ipa, d, level));
        return;
      case DescriptorKind::Table:
        if (d & table_reserved_mask())
          add(Severity::Security, "reserved-bits",
              fmt::format("IPA {:#x} level {}: table descriptor {:#018x} has bits {:#x} besides "
                          "address and type",
                          ipa, level, d, d & table_reserved_mask()));
        page(output_address(d), level + 1, ipa);
        return;
      case DescriptorKind::Block:
      case DescriptorKind::Page:
        leaf(d, level, ipa);
        return;
    }
  }

  void leaf(uint64_t d, unsigned level, uint64_t ipa) {
    uint64_t misaligned =
        level < kLastLevel ? d & genmask(granule_shift(level) - 1, kPageShift) : 0;
    uint64_t reserved = d & leaf_reserved_mask(level) & ~misaligned;
    if (reserved)
      add(Severity::Security, "reserved-bits",
          fmt::format("IPA {:#x}: bits {:#x} set in {}", ipa, reserved,
                      describe_descriptor(d, level, fwb_)));
    if (misaligned)
      add(Severity::Security, "block-alignment",
          fmt::format("IPA {:#x}: level {} block OA {:#x} is not aligned to {:#x}", ipa, level,
                      output_address(d), granule_size(level)));
    if (is_device(d, fwb_) && is_executable(d))
      add(Severity::Security, "device-exec",
          fmt::format("IPA {:#x}: device memory is executable: {}", ipa,
                      describe_descriptor(d, level, fwb_)));
  }

  void add(Severity s, const char* rule, std::string what) {
    out_->push_back({s, rule, std::move(what)});
  }

  const SimMemory& memory_;
  bool fwb_;
  std::vector<InvariantViolation>* out_;
  std::unordered_set<uint64_t> seen_;
};

}  // namespace

std::vector<InvariantViolation> check_invariants(const TableRoot& root, const SimMemory& memory) {
  std::vector<InvariantViolation> out;
  if (!root.live()) return out;
  Checker c(memory, root.fwb, &out);
  uint64_t per_page = granule_size(root.start_level) * kEntriesPerTable;
  for (unsigned p = 0; p < root.pgd_pages; ++p)
    c.page(root.pgd_pa + p * kPageSize, root.start_level, p * per_page);
  return out;
}

}  // namespace mmudiff
