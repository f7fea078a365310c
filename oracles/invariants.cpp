// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/invariants.h"

#include <unordered_set>

#include <fmt/format.h>

namespace mmudiff {

namespace {

class Checker {
 public:
  Checker(const SimMemory& memory, const DescriptorFormat& format, bool fwb,
          std::vector<Objection>* out)
      : memory_(memory), f_(format), fwb_(fwb), out_(out) {}

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
    for (unsigned i = 0; i < f_.entries_per_table(); ++i) {
      uint64_t d = t[i];
      if (d == 0) continue;
      ++nonzero;
      entry(d, level, base + i * f_.granule_size(level));
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
    switch (f_.classify(d, level)) {
      case DescriptorKind::Invalid: {
        unsigned owner = f_.owner_annotation(d);
        if (owner == 0 || owner > f_.max_owner_id())
          add(Severity::Functional, "owner",
              fmt::format("IPA {:#x} level {}: invalid descriptor {:#018x} is not an owner "
                          "annotation (id <= {})",
                          ipa, level, d, f_.max_owner_id()));
        else if (level != f_.owner_annotation_level())
          add(Severity::Functional, "owner",
              fmt::format("IPA {:#x} level {}: owner annotation {:#018x} above level {}; set_owner "
                          "annotates single pages only",
                          ipa, level, d, f_.owner_annotation_level()));
        return;
      }
      case DescriptorKind::Reserved:
        add(Severity::Security, "reserved-bits",
            fmt::format("IPA {:#x}: {:#018x} is a reserved encoding at level {}", ipa, d, level));
        return;
      case DescriptorKind::Table:
        if (d & f_.table_reserved_mask(level))
          add(Severity::Security, "reserved-bits",
              fmt::format("IPA {:#x} level {}: table descriptor {:#018x} has bits {:#x} besides "
                          "address and type",
                          ipa, level, d, d & f_.table_reserved_mask(level)));
        page(f_.next_table_address(d, level), level + 1, ipa);
        return;
      case DescriptorKind::Block:
      case DescriptorKind::Page:
        leaf(d, level, ipa);
        return;
    }
  }

  void leaf(uint64_t d, unsigned level, uint64_t ipa) {
    uint64_t misaligned = f_.block_misalignment(d, level);
    uint64_t reserved = d & f_.leaf_reserved_mask(level) & ~misaligned;
    if (reserved)
      add(Severity::Security, "reserved-bits",
          fmt::format("IPA {:#x}: bits {:#x} set in {}", ipa, reserved,
                      f_.describe(d, level, fwb_)));
    if (misaligned)
      add(Severity::Security, "block-alignment",
          fmt::format("IPA {:#x}: level {} block OA {:#x} is not aligned to {:#x}", ipa, level,
                      f_.output_address(d, level), f_.granule_size(level)));
    // Device memory is never executable, at any privilege: every device type forbids it alike.
    LeafAttributes a = f_.leaf_attributes(d, level, fwb_);
    if (a.memory_type == MemoryType::Device && a.permissions.executable())
      add(Severity::Security, "device-exec",
          fmt::format("IPA {:#x}: device memory is executable: {}", ipa,
                      f_.describe(d, level, fwb_)));
  }

  void add(Severity s, const char* rule, std::string what) {
    out_->push_back({s, rule, std::move(what)});
  }

  const SimMemory& memory_;
  const DescriptorFormat& f_;
  bool fwb_;
  std::vector<Objection>* out_;
  std::unordered_set<uint64_t> seen_;
};

}  // namespace

std::vector<Objection> check_invariants(const TableRoot& root, const SimMemory& memory) {
  std::vector<Objection> out;
  if (!root.live()) return out;
  const DescriptorFormat& f = *root.format;
  Checker c(memory, f, root.fwb, &out);
  uint64_t per_page = f.root_page_span(root.start_level);
  for (unsigned p = 0; p < root.pgd_pages; ++p)
    c.page(root.pgd_pa + p * f.page_size(), root.start_level, p * per_page);
  return out;
}

}  // namespace mmudiff
