// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/format/x86_ept_format.h"

#include <array>
#include <charconv>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/format/x86_ept.h"

namespace mmudiff {

namespace {

using namespace x86ept;

// Bits the SDM leaves to software (ignored by the processor) that KVM does not use: 55 and 62:59.
// Bit 9 of a table entry and bits 8-9 without A/D are ignored too, but have names of their own.
constexpr uint64_t kOtherIgnored = bit(55) | genmask(62, 59);
constexpr uint64_t kSoftwareHigh = genmask(62, 52);
constexpr uint64_t kMmioSelect = kRwxMask | kSuppressVe | kMmuPresent;

enum class Misconfig {
  None,
  WriteWithoutRead,
  ExecuteOnlyUnsupported,
  LeafNotAllowed,
  ReservedBits,
  ReservedMemoryType,
};

const char* misconfig_text(Misconfig m) {
  switch (m) {
    case Misconfig::None:
      return "";
    case Misconfig::WriteWithoutRead:
      return "EPT misconfiguration: writable but not readable";
    case Misconfig::ExecuteOnlyUnsupported:
      return "EPT misconfiguration: execute-only without execute-only support";
    case Misconfig::LeafNotAllowed:
      return "EPT misconfiguration: bit 7 (page size) set where no leaf may be";
    case Misconfig::ReservedBits:
      return "EPT misconfiguration: reserved bits set";
    case Misconfig::ReservedMemoryType:
      return "EPT misconfiguration: reserved memory type in a leaf";
  }
  return "?";
}

const char* level_name(unsigned x86_level) {
  static const char* const names[] = {"?", "PTE", "PDE", "PDPTE", "PML4E", "PML5E"};
  return x86_level <= kMaxLevels ? names[x86_level] : "?";
}

const char* mem_type_name(uint64_t mt) {
  static const char* const names[] = {"UC", "WC", "reserved (2)", "reserved (3)",
                                      "WT", "WP", "WB",           "reserved (7)"};
  return names[mt & 7];
}

MemoryType mem_type_of(uint64_t mt) {
  switch (mt & 7) {
    case kMemTypeUc:
      return MemoryType::Device;
    case kMemTypeWc:
      return MemoryType::NormalNonCacheable;
    case kMemTypeWt:
    case kMemTypeWp:
      return MemoryType::NormalWriteThrough;
    case kMemTypeWb:
      return MemoryType::NormalWriteBack;
    default:
      return MemoryType::Reserved;
  }
}

bool reserved_mem_type(uint64_t mt) {
  return mem_type_of(mt) == MemoryType::Reserved;
}

std::string rwx_text(uint64_t d) {
  std::string s = "---";
  if (d & kRead) s[0] = 'R';
  if (d & kWrite) s[1] = 'W';
  if (d & kExec) s[2] = 'X';
  return s;
}

const char* ad_state_text(uint64_t state) {
  static const char* const names[] = {"A/D enabled", "A/D disabled", "A/D write-protect only",
                                      "invalid A/D state (3)"};
  return names[state & 3];
}

class X86EptFormat final : public DescriptorFormat {
 public:
  explicit X86EptFormat(const X86EptParams& p)
      : p_(p),
        name_(fmt::format("{} {}", kX86EptFamily, describe_x86_ept_params(p))),
        description_(fmt::format("Intel EPT, {}-level, 4 KiB/2 MiB/1 GiB, MAXPHYADDR {}, A/D {}, "
                                 "execute-only {}",
                                 p.levels, p.maxphyaddr, p.ad ? "on" : "off",
                                 p.execonly ? "supported" : "unsupported")),
        high_reserved_(p.maxphyaddr < 52 ? genmask(51, p.maxphyaddr) : 0) {}

  std::string_view name() const override { return name_; }
  std::string_view description() const override { return description_; }

  unsigned page_shift() const override { return kPageShift; }
  unsigned levels() const override { return p_.levels; }
  unsigned entries_per_table() const override { return kEntriesPerTable; }
  unsigned index_shift(unsigned level) const override { return level_shift(x86(level)); }
  unsigned min_ia_bits() const override { return gpa_bits(p_.levels); }
  unsigned max_ia_bits() const override { return gpa_bits(p_.levels); }
  unsigned pa_bits() const override { return p_.maxphyaddr; }
  unsigned max_root_pages() const override { return 1; }
  TableGeometry geometry(unsigned ia_bits) const override { return {ia_bits, 0, 1}; }

  DescriptorKind classify(uint64_t d, unsigned level) const override {
    const unsigned l = x86(level);
    if (!(d & kRwxMask) || is_mmio(d)) return DescriptorKind::Invalid;
    if (misconfig(d, l) != Misconfig::None) return DescriptorKind::Reserved;
    if (l == kPageLevel) return DescriptorKind::Page;
    return l <= kMaxLeafLevel && (d & kLargePage) ? DescriptorKind::Block : DescriptorKind::Table;
  }
  void classify_page(std::span<const uint64_t> entries, unsigned level,
                     std::span<DescriptorKind> kinds) const override {
    for (size_t i = 0; i < entries.size() && i < kinds.size(); ++i)
      kinds[i] = classify(entries[i], level);
  }

  uint64_t table_address_mask(unsigned) const override { return addr_mask(p_.maxphyaddr); }
  uint64_t next_table_address(uint64_t d, unsigned) const override {
    return d & addr_mask(p_.maxphyaddr);
  }
  uint64_t output_address(uint64_t d, unsigned) const override { return d & kAddrMask; }
  uint64_t block_misalignment(uint64_t d, unsigned level) const override {
    const unsigned l = x86(level);
    return l > kPageLevel && l <= kMaxLeafLevel ? d & genmask(level_shift(l) - 1, kPageShift) : 0;
  }
  uint64_t leaf_reserved_mask(unsigned level) const override { return leaf_reserved(x86(level)); }
  uint64_t table_reserved_mask(unsigned) const override { return table_reserved(); }
  uint64_t translation_attr_mask() const override {
    return kRwxMask | kMemTypeMask | kIgnorePat | kAccessed | kDirty | kUserExec | kAdStateMask |
           kAccTrackSavedMask | bit(55) | kHostWritable | kMmuWritable | kSuppressVe;
  }
  uint64_t break_before_make_mask() const override { return kAddrMask | kMemTypeMask | kIgnorePat; }

  LeafAttributes leaf_attributes(uint64_t d, unsigned level, bool) const override {
    LeafAttributes a;
    a.output_address = output_address(d, level);
    a.permissions = permissions(d);
    a.memory_type = mem_type_of((d & kMemTypeMask) >> kMemTypeShift);
    a.accessed = accessed(d);
    a.dirty = p_.ad && (d & kDirty);
    a.software = (d & kSoftwareHigh) >> kAdStateShift;
    return a;
  }
  Permissions permissions(uint64_t attrs) const override {
    Permissions p;
    p.read = attrs & kRead;
    p.write = attrs & kWrite;
    p.exec_privileged = attrs & kExec;
    p.exec_unprivileged = attrs & kExec;  // no mode-based execute control: bit 2 for every mode
    return p;
  }
  std::string describe_attributes(uint64_t attrs) const override {
    const uint64_t mt = (attrs & kMemTypeMask) >> kMemTypeShift;
    return fmt::format("RWX={} MT={}({}) IPAT={} A={} D={} XU={} SVE={} SW={:#x}", rwx_text(attrs),
                       mt, mem_type_name(mt), bitv(attrs, kIgnorePat), bitv(attrs, kAccessed),
                       bitv(attrs, kDirty), bitv(attrs, kUserExec), bitv(attrs, kSuppressVe),
                       (attrs & kSoftwareHigh) >> kAdStateShift);
  }

  // EPT has no owner annotations: KVM's non-present entries carry other meanings (decode()).
  unsigned owner_annotation(uint64_t) const override { return 0; }
  unsigned max_owner_id() const override { return 0; }
  unsigned owner_annotation_level() const override { return p_.levels - 1; }
  uint64_t empty_entry() const override { return x86ept::kNonPresent; }

  DecodedDescriptor decode(uint64_t raw, unsigned level, bool) const override;
  std::string describe(uint64_t raw, unsigned level, bool) const override;

 private:
  unsigned x86(unsigned trait) const { return x86_level(trait, p_.levels); }
  static unsigned bitv(uint64_t d, uint64_t mask) { return (d & mask) ? 1 : 0; }
  static bool is_mmio(uint64_t d) { return (d & kMmioSelect) == kMmioValue; }

  // SDM tables "Format of an EPT ... Entry": a table entry reserves 7:3 (a PDPTE/PDE that
  // references a table has 6:3 reserved and 7 clear by definition), every entry the address bits
  // at and above MAXPHYADDR; a 2 MiB / 1 GiB leaf the address bits below its size.
  uint64_t table_reserved() const { return genmask(7, 3) | high_reserved_; }
  uint64_t leaf_reserved(unsigned l) const {
    if (l > kMaxLeafLevel) return table_reserved();
    return high_reserved_ | (l > kPageLevel ? genmask(level_shift(l) - 1, kPageShift) : 0);
  }

  // The misconfiguration a present entry at x86 level l is, in the SDM's order of conditions.
  Misconfig misconfig(uint64_t d, unsigned l) const {
    const uint64_t rwx = d & kRwxMask;
    if ((rwx & kWrite) && !(rwx & kRead)) return Misconfig::WriteWithoutRead;
    if (rwx == kExec && !p_.execonly) return Misconfig::ExecuteOnlyUnsupported;
    const bool large = d & kLargePage;
    if (large && l > kMaxLeafLevel) return Misconfig::LeafNotAllowed;
    const bool leaf = l == kPageLevel || large;
    if (d & (leaf ? leaf_reserved(l) : table_reserved())) return Misconfig::ReservedBits;
    if (leaf && reserved_mem_type((d & kMemTypeMask) >> kMemTypeShift))
      return Misconfig::ReservedMemoryType;
    return Misconfig::None;
  }

  // KVM's is_accessed_spte(): with A/D in use bit 8; without, a present SPTE is young (an old
  // one is access-tracked: RWX cleared, no longer present).
  bool accessed(uint64_t d) const {
    const bool ad = p_.ad && (d & kAdStateMask) != kAdDisabled;
    return ad ? (d & kAccessed) != 0 : (d & kRwxMask) != 0;
  }

  // What a non-present entry is to KVM.
  std::string invalid_state(uint64_t d) const {
    if (d == 0) return "empty";
    if (d == kNonPresent) return "non-present";
    if (d == kFrozen) return "frozen";
    if (is_mmio(d)) return "mmio";
    if (d & kMmuPresent) return "access-tracked";
    return "non-present, software bits set";
  }

  X86EptParams p_;
  std::string name_;
  std::string description_;
  uint64_t high_reserved_;
};

uint64_t mmio_generation(uint64_t d) {
  // Generation bits 7:0 are SPTE bits 10:3, bits 18:8 are SPTE bits 62:52 (spte.h).
  return ((d & kMmioGenLowMask) >> 3) | ((d & kMmioGenHighMask) >> (52 - 8));
}

DecodedDescriptor X86EptFormat::decode(uint64_t raw, unsigned level, bool) const {
  const unsigned l = x86(level);
  DecodedDescriptor d{raw, level, classify(raw, level), {}};
  auto add = [&](const char* name, uint64_t value, std::string text) {
    d.fields.push_back({name, value, std::move(text)});
  };
  auto flag = [&](const char* name, uint64_t mask, const char* on, const char* off) {
    add(name, bitv(raw, mask), (raw & mask) ? on : off);
  };
  const bool leaf = d.kind == DescriptorKind::Block || d.kind == DescriptorKind::Page ||
                    l == kPageLevel || (l <= kMaxLeafLevel && (raw & kLargePage));
  const bool mmio = d.kind == DescriptorKind::Invalid && is_mmio(raw);

  switch (d.kind) {
    case DescriptorKind::Invalid:
      add("state", 0, invalid_state(raw));
      break;
    case DescriptorKind::Reserved:
      add("state", 0, misconfig_text(misconfig(raw, l)));
      break;
    default:
      add("state", 1, fmt::format("present {}", level_name(l)));
      break;
  }
  flag("R", kRead, "readable", "not readable");
  flag("W", kWrite, "writable", "not writable");
  flag("X", kExec, "executable", "not executable");
  const uint64_t mt = (raw & kMemTypeMask) >> kMemTypeShift;
  add("MT", mt, leaf ? mem_type_name(mt) : fmt::format("{} (reserved in a table entry)", mt));
  flag("IPAT", kIgnorePat, leaf ? "ignore guest PAT" : "set (reserved in a table entry)",
       "use guest PAT");
  add("PS", bitv(raw, kLargePage),
      l == kPageLevel      ? "ignored in a PTE"
      : l > kMaxLeafLevel  ? ((raw & kLargePage) ? "set (reserved at this level)" : "clear")
      : (raw & kLargePage) ? "maps a page"
                           : "references a table");
  flag("A", kAccessed, p_.ad ? "accessed" : "set (ignored: A/D off)",
       p_.ad ? "not accessed" : "clear");
  flag("D", kDirty, p_.ad && leaf ? "dirty" : "set (ignored)", p_.ad && leaf ? "clean" : "clear");
  flag("XU", kUserExec, "set (ignored: mode-based execute off)", "clear");
  flag("MMU-present", kMmuPresent, "KVM: shadow-present", "KVM: not shadow-present");
  const uint64_t addr = raw & kAddrMask;
  add("address", addr,
      mmio   ? fmt::format("MMIO GPA {:#x}", addr)
      : leaf ? fmt::format("{:#x}", addr)
             : fmt::format("next table {:#x} (masked by the structural hash)", addr));
  const uint64_t ad_state = (raw & kAdStateMask) >> kAdStateShift;
  add("AD-state", ad_state, ad_state_text(ad_state));
  flag("saved-R", kRead << kAccTrackSavedShift, "access tracking saved R", "clear");
  flag("saved-X", kExec << kAccTrackSavedShift, "access tracking saved X", "clear");
  flag("host-writable", kHostWritable, "host mapping writable", "host mapping read-only");
  flag("MMU-writable", kMmuWritable, "KVM may make it writable", "write-protected by KVM");
  const uint64_t other = raw & kOtherIgnored;
  add("other", other, other ? "ignored bits 55/62:59 set" : "clear");
  flag("SVE", kSuppressVe, "suppress #VE", "#VE allowed");
  add("generation", mmio ? mmio_generation(raw) : 0,
      mmio ? fmt::format("memslot generation {}", mmio_generation(raw)) : "not an MMIO SPTE");
  const uint64_t reserved =
      (raw & kRwxMask) && !mmio ? raw & (leaf ? leaf_reserved(l) : table_reserved()) : 0;
  add("reserved", reserved, reserved ? "reserved bits set" : "clear");
  return d;
}

std::string X86EptFormat::describe(uint64_t raw, unsigned level, bool) const {
  const unsigned l = x86(level);
  const DescriptorKind kind = classify(raw, level);
  std::string out = fmt::format("{} {:<8} {:#018x}", level_name(l), kind_name(kind), raw);
  if (kind == DescriptorKind::Invalid) {
    const std::string state = invalid_state(raw);
    out += " " + state;
    if (state == "mmio")
      out += fmt::format(" gen={} gpa={:#x}", mmio_generation(raw), raw & kAddrMask);
    else if (state == "access-tracked")
      out += fmt::format(" addr={:#x} saved={}", raw & kAddrMask,
                         rwx_text((raw & kAccTrackSavedMask) >> kAccTrackSavedShift));
    return out;
  }
  if (kind == DescriptorKind::Reserved)
    out += fmt::format(" ({})", misconfig_text(misconfig(raw, l)));
  const bool leaf = l == kPageLevel || (l <= kMaxLeafLevel && (raw & kLargePage));
  out += fmt::format(" {}={:#x} {}", leaf ? "addr" : "next", raw & kAddrMask, rwx_text(raw));
  if (leaf) {
    const uint64_t mt = (raw & kMemTypeMask) >> kMemTypeShift;
    out += fmt::format(" MT={}", mem_type_name(mt));
    if (raw & kIgnorePat) out += " IPAT";
  }
  if (raw & kAccessed) out += " A";
  if (raw & kDirty) out += " D";
  if (raw & kUserExec) out += " XU";
  if (raw & kSuppressVe) out += " SVE";
  if (raw & kMmuPresent) out += " MMU-present";
  const uint64_t ad_state = (raw & kAdStateMask) >> kAdStateShift;
  if (ad_state) out += fmt::format(" [{}]", ad_state_text(ad_state));
  if (raw & kHostWritable) out += " host-w";
  if (raw & kMmuWritable) out += " mmu-w";
  if (raw & kAccTrackSavedMask)
    out += fmt::format(" saved={}", rwx_text((raw & kAccTrackSavedMask) >> kAccTrackSavedShift));
  if (raw & kOtherIgnored) out += fmt::format(" other={:#x}", raw & kOtherIgnored);
  const uint64_t reserved = raw & (leaf ? leaf_reserved(l) : table_reserved());
  if (reserved) out += fmt::format(" reserved={:#x}", reserved);
  return out;
}

bool parse_unsigned(std::string_view s, unsigned* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

bool valid_x86_ept_params(const X86EptParams& p) {
  return p.maxphyaddr >= kMinMaxPhyAddr && p.maxphyaddr <= kMaxMaxPhyAddr &&
         (p.levels == kMinLevels || p.levels == kMaxLevels);
}

std::string describe_x86_ept_params(const X86EptParams& p) {
  return fmt::format("maxphyaddr={} levels={} ad={} execonly={}", p.maxphyaddr, p.levels,
                     p.ad ? 1 : 0, p.execonly ? 1 : 0);
}

const DescriptorFormat& x86_ept_format(const X86EptParams& p) {
  if (!valid_x86_ept_params(p))
    throw std::invalid_argument(
        fmt::format("x86-ept: no format for {}", describe_x86_ept_params(p)));
  // Instances live for the program: the oracles keep pointers to them.
  static std::mutex lock;
  static std::map<std::array<unsigned, 4>, std::unique_ptr<X86EptFormat>> formats;
  const std::array<unsigned, 4> key = {p.maxphyaddr, p.levels, p.ad ? 1u : 0u,
                                       p.execonly ? 1u : 0u};
  std::lock_guard<std::mutex> guard(lock);
  auto& slot = formats[key];
  if (!slot) slot = std::make_unique<X86EptFormat>(p);
  return *slot;
}

std::optional<X86EptParams> parse_x86_ept_name(std::string_view name) {
  if (name.substr(0, kX86EptFamily.size()) != kX86EptFamily) return std::nullopt;
  std::string_view rest = name.substr(kX86EptFamily.size());
  X86EptParams p;
  unsigned seen = 0;
  while (!rest.empty()) {
    if (rest[0] != ' ') return std::nullopt;
    rest.remove_prefix(1);
    const size_t end = rest.find(' ');
    std::string_view word = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    const size_t eq = word.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view key = word.substr(0, eq);
    unsigned value = 0;
    if (!parse_unsigned(word.substr(eq + 1), &value)) return std::nullopt;
    if (key == "maxphyaddr") {
      p.maxphyaddr = value;
      seen |= 1;
    } else if (key == "levels") {
      p.levels = value;
      seen |= 2;
    } else if (key == "ad" && value <= 1) {
      p.ad = value;
      seen |= 4;
    } else if (key == "execonly" && value <= 1) {
      p.execonly = value;
      seen |= 8;
    } else {
      return std::nullopt;
    }
  }
  if (seen != 15 || !valid_x86_ept_params(p)) return std::nullopt;
  return p;
}

std::optional<X86EptParams> x86_ept_params(const DescriptorFormat& format) {
  return parse_x86_ept_name(format.name());
}

}  // namespace mmudiff
