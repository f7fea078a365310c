// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/arch_walk.h"

#include "oracles/x86_ept_walk.h"

#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

namespace mmudiff {

namespace {

// From the architecture, not from the format layer: with a 4 KiB granule each level resolves 9
// bits of the IPA, level 3 resolves bits [20:12], and an entry is 8 bytes of a 4 KiB table.
constexpr unsigned kGranuleBits = 12;
constexpr unsigned kBitsPerLevel = 9;
constexpr unsigned kEntries = 1u << kBitsPerLevel;
constexpr uint64_t kOutputAddressMask = 0x0000'ffff'ffff'f000ULL;  // OA[47:12], 48-bit PA

// VMSAv8-64 descriptor formats, 4KB granule, 52-bit OA (FEAT_LPA2, VTCR_EL2.DS == 1): a block,
// page or table descriptor holds OA[49:12] (or the next-level table address [49:12]) in bits
// [49:12] and OA[51:50] in bits [9:8]; the shareability field is gone from the descriptor (it
// is VTCR_EL2.SH0's), and a level-0 block descriptor (512 GiB) is permitted.
constexpr uint64_t kDsAddressMask = 0x0003'ffff'ffff'f000ULL;  // bits [49:12]
constexpr uint64_t kDsAddressHighBits = 0x300;                 // bits [9:8]: OA[51:50]
constexpr unsigned kDsAddressHighShift = 50 - 8;
constexpr uint64_t kShareabilityBits = 0x300;

constexpr unsigned level_shift(unsigned level) {
  return kGranuleBits + kBitsPerLevel * (3 - level);
}

// VTCR_EL2.DS: which of the two layouts above the descriptors are read with.
enum class Ds : bool { Off, On };

class Walker {
 public:
  Walker(const SimMemory& memory, uint64_t ipa_limit, Ds ds, const IpaWindows* within,
         ArchWalk* out)
      : memory_(memory), limit_(ipa_limit), ds_(ds), within_(within), out_(out) {}

  void table(uint64_t table_pa, unsigned level, uint64_t base) {
    const uint64_t* t = memory_.table_page(table_pa);
    if (!t) {
      out_->anomalies.push_back(fmt::format(
          "level {} table for IPA {:#x} at {:#x} is not table memory: the walk reads garbage",
          level, base, table_pa));
      return;
    }
    const uint64_t size = uint64_t{1} << level_shift(level);
    for_each_entry(within_, base, size, kEntries,
                   [&](unsigned i) { entry(t[i], level, base + i * size); });
  }

 private:
  void entry(uint64_t d, unsigned level, uint64_t ipa) {
    uint64_t size = uint64_t{1} << level_shift(level);
    if (ipa >= limit_) {
      // Beyond VTCR's IPA size the walk never starts: whatever is stored there is unreachable.
      if (d)
        out_->anomalies.push_back(
            fmt::format("IPA {:#x}: descriptor {:#018x} lies beyond the {}-bit IPA space", ipa, d,
                        __builtin_ctzll(limit_)));
      return;
    }
    if (!(d & 1)) {
      // Invalid: a translation fault. The remaining bits are ignored by hardware and free for
      // software; a non-zero value is an annotation worth comparing.
      if (d) out_->translation.annotations.push_back({ipa, size, d});
      return;
    }
    bool bit1 = d & 2;
    if (level == 3) {
      if (!bit1) {
        out_->anomalies.push_back(fmt::format(
            "IPA {:#x}: level 3 descriptor {:#018x} has bits[1:0]=01, reserved: translation fault",
            ipa, d));
        return;
      }
      leaf(d, level, ipa, size);
      return;
    }
    if (bit1) {
      table(address(d), level + 1, ipa);
      return;
    }
    if (level == 0 && ds_ == Ds::Off) {
      // No level-0 blocks with a 4 KiB granule (without FEAT_LPA2): a translation fault.
      out_->anomalies.push_back(fmt::format(
          "IPA {:#x}: level 0 block {:#018x} is not allowed: translation fault", ipa, d));
      return;
    }
    leaf(d, level, ipa, size);
  }

  void leaf(uint64_t d, unsigned level, uint64_t ipa, uint64_t size) {
    uint64_t oa = address(d) & ~(size - 1);
    if (address(d) != oa)
      out_->anomalies.push_back(fmt::format(
          "IPA {:#x}: level {} block {:#018x} has output-address bits below its size set (RES0)",
          ipa, level, d));
    const uint64_t attrs =
        d & kTranslationAttrMask & (ds_ == Ds::On ? ~kShareabilityBits : ~uint64_t{0});
    out_->translation.mappings.push_back({ipa, size, oa, attrs});
  }

  // The output address of a leaf, or the next-level table's address of a table descriptor.
  uint64_t address(uint64_t d) const {
    if (ds_ == Ds::Off) return d & kOutputAddressMask;
    return (d & kDsAddressMask) | ((d & kDsAddressHighBits) << kDsAddressHighShift);
  }

  const SimMemory& memory_;
  uint64_t limit_;
  Ds ds_;
  const IpaWindows* within_;
  ArchWalk* out_;
};

// Arm64 stage 2, 4 KiB granule.
ArchWalk arm64_s2_walk(const TableRoot& root, const SimMemory& memory, Ds ds,
                       const IpaWindows* within) {
  ArchWalk w;
  // Concatenated start-level tables: the IPA bits above the start level's range select the page.
  uint64_t per_page = uint64_t{1} << (level_shift(root.start_level) + kBitsPerLevel);
  Walker walker(memory, uint64_t{1} << root.ia_bits, ds, within, &w);
  for (unsigned p = 0; p < root.pgd_pages; ++p)
    walker.table(root.pgd_pa + p * 4096, root.start_level, p * per_page);
  normalise(&w.translation);
  return w;
}

ArchWalk arm64_s2_4k_walk(const TableRoot& root, const SimMemory& memory,
                          const IpaWindows* within) {
  return arm64_s2_walk(root, memory, Ds::Off, within);
}

// The same granule with VTCR_EL2.DS = 1 (FEAT_LPA2).
ArchWalk arm64_s2_4k_ds_walk(const TableRoot& root, const SimMemory& memory,
                             const IpaWindows* within) {
  return arm64_s2_walk(root, memory, Ds::On, within);
}

// One architectural walk per format, each written from that architecture's manual. They are
// looked up by the format's name, never built on the format trait: a mistake in the format layer
// (which the backends share) must not be shared by the oracle that judges them.
struct ArchWalker {
  std::string_view format;
  ArchWalk (*walk)(const TableRoot&, const SimMemory&, const IpaWindows*);
};
constexpr ArchWalker kArchWalkers[] = {
    {"arm64-s2-4k", arm64_s2_4k_walk},
    {"arm64-s2-4k-lpa2", arm64_s2_4k_ds_walk},
    {"x86-ept", ept_arch_walk},  // the family: "x86-ept maxphyaddr=46 levels=4 ad=1 ..."
};

bool walks(const ArchWalker& w, std::string_view format) {
  return format == w.format || (format.starts_with(w.format) && format.size() > w.format.size() &&
                                format[w.format.size()] == ' ');
}

}  // namespace

bool has_arch_walker(const DescriptorFormat& format) {
  for (const auto& w : kArchWalkers)
    if (walks(w, format.name())) return true;
  return false;
}

ArchWalk arch_walk(const TableRoot& root, const SimMemory& memory, const IpaWindows* within) {
  if (!root.live()) return {};
  for (const auto& w : kArchWalkers)
    if (walks(w, root.format->name())) {
      ArchWalk a = w.walk(root, memory, within);
      if (within) a.translation = within->clipped(a.translation);
      return a;
    }
  throw std::logic_error(
      fmt::format("no architectural walker for the {} format", root.format->name()));
}

}  // namespace mmudiff
