// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/invariants.h"

#include <unordered_set>

#include <fmt/format.h>

#include "mmu/format/x86_ept.h"
#include "mmu/format/x86_ept_format.h"

namespace mmudiff {

namespace {

class Checker {
 public:
  Checker(const SimMemory& memory, const DescriptorFormat& format, bool fwb, bool only_page_rules,
          const IpaWindows* within, std::vector<Objection>* out)
      : memory_(memory),
        f_(format),
        fwb_(fwb),
        x86_(x86_ept_params(format).has_value()),
        only_page_rules_(only_page_rules),
        within_(within),
        out_(out) {}

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
    const unsigned n = f_.entries_per_table();
    const uint64_t granule = f_.granule_size(level);
    auto in_use = [&](uint64_t d) { return d != 0 && !(x86_ && d == x86ept::kNonPresent); };
    // A page's count is over all its entries; what they say, only where it is asked.
    if (within_)
      for (unsigned i = 0; i < n; ++i) nonzero += in_use(t[i]);
    for_each_entry(within_, base, granule, n, [&](unsigned i) {
      if (!in_use(t[i])) return;
      nonzero += !within_;
      entry(t[i], level, base + i * granule);
    });
    // kvm_pgtable counts a table page's valid entries in its refcount; KVM's x86 MMU does not
    // count references to its pages at all.
    int count = memory_.page_count(t);
    if (!x86_ && count != 1 + nonzero)
      add(Severity::Functional, "refcount",
          fmt::format(
              "level {} table page {:#x} (IPA {:#x}) has refcount {} but {} non-zero entries",
              level, pa, base, count, nonzero));
  }

 private:
  void entry(uint64_t d, unsigned level, uint64_t ipa) {
    if (only_page_rules_) {
      if (f_.classify(d, level) == DescriptorKind::Table)
        page(f_.next_table_address(d, level), level + 1, ipa);
      return;
    }
    switch (f_.classify(d, level)) {
      case DescriptorKind::Invalid: {
        if (x86_) {
          x86_invalid(d, level, ipa);
          return;
        }
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
    // (KVM's rule on arm64; x86 KVM maps host MMIO uncached and executable.)
    LeafAttributes a = f_.leaf_attributes(d, level, fwb_);
    if (!x86_ && a.memory_type == MemoryType::Device && a.permissions.executable())
      add(Severity::Security, "device-exec",
          fmt::format("IPA {:#x}: device memory is executable: {}", ipa,
                      f_.describe(d, level, fwb_)));
  }

  // What a non-present x86 SPTE may hold once an operation has returned: KVM's non-present
  // value (skipped above), an MMIO SPTE, or a leaf KVM made old by access tracking. A frozen
  // SPTE is only ever seen while a thread owns the entry.
  void x86_invalid(uint64_t d, unsigned level, uint64_t ipa) {
    using namespace x86ept;
    const bool mmio = (d & kMmioMask) == kMmioValue && !(d & kMmuPresent);
    const bool access_tracked = (d & kMmuPresent) && !(d & kRwxMask);
    if (d == kFrozen)
      add(Severity::Security, "frozen-spte",
          fmt::format("IPA {:#x} level {}: SPTE left frozen ({:#018x}) after the operation", ipa,
                      level, d));
    else if (!mmio && !access_tracked)
      add(Severity::Functional, "non-present",
          fmt::format("IPA {:#x} level {}: non-present SPTE {:#018x} is neither KVM's non-present "
                      "value, an MMIO SPTE nor an access-tracked leaf",
                      ipa, level, d));
  }

  void add(Severity s, const char* rule, std::string what) {
    out_->push_back({s, rule, std::move(what)});
  }

  const SimMemory& memory_;
  const DescriptorFormat& f_;
  bool fwb_;
  bool x86_;  // KVM's x86 conventions, not kvm_pgtable's
  bool only_page_rules_;
  const IpaWindows* within_;
  std::vector<Objection>* out_;
  std::unordered_set<uint64_t> seen_;
};

}  // namespace

std::vector<Objection> check_invariants(const TableRoot& root, const SimMemory& memory,
                                        bool only_page_rules, const IpaWindows* within) {
  std::vector<Objection> out;
  if (!root.live()) return out;
  const DescriptorFormat& f = *root.format;
  Checker c(memory, f, root.fwb, only_page_rules, within, &out);
  uint64_t per_page = f.root_page_span(root.start_level);
  for (unsigned p = 0; p < root.pgd_pages; ++p)
    c.page(root.pgd_pa + p * f.page_size(), root.start_level, p * per_page);
  return out;
}

}  // namespace mmudiff
