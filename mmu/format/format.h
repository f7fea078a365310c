// SPDX-License-Identifier: GPL-2.0-only
// A translation-table descriptor format as the oracles see it: the shape of the tables (levels,
// bits per level, entries per page, geometry for an IPA size), what a descriptor is (invalid,
// table, block, page, reserved), where its addresses are, what it grants, and which bits it must
// not set. The oracles dispatch on this trait, so another format (x86 EPT, RISC-V G-stage) plugs
// in beside arm64 stage 2 without touching their callers; docs/oracles.md says how.
//
// The backends do not use this trait: they read the constants of their own format header
// (mmu/format/arm64_s2.h) and share nothing else.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mmudiff {

enum class DescriptorKind : uint8_t { Invalid, Table, Block, Page, Reserved };

const char* kind_name(DescriptorKind kind);

// What a format's configuration register gives a table of ia_bits: the level the walk starts at
// and how many pages are concatenated there.
struct TableGeometry {
  unsigned ia_bits = 0;
  unsigned start_level = 0;
  unsigned root_pages = 0;

  bool operator==(const TableGeometry&) const = default;
};

// Access a leaf grants, format-neutral. Execution is split by privilege because formats split it
// (arm64 FEAT_XNX, EPT mode-based execute control); a format without the split sets both alike.
struct Permissions {
  bool read = false;
  bool write = false;
  bool exec_privileged = false;
  bool exec_unprivileged = false;

  bool executable() const { return exec_privileged || exec_unprivileged; }
  bool operator==(const Permissions&) const = default;
};

enum class MemoryType : uint8_t {
  Device,  // any device type: never cacheable, never executable by KVM's rules
  NormalNonCacheable,
  NormalWriteThrough,
  NormalWriteBack,
  NormalMixed,       // inner and outer cacheability differ
  NormalFromStage1,  // the final type comes from the other stage (arm64 FWB 0b0111)
  Reserved,          // an encoding the architecture reserves
};

const char* memory_type_name(MemoryType type);

// A leaf's meaning, format-neutral.
struct LeafAttributes {
  uint64_t output_address = 0;  // the OA field as stored (a misaligned block keeps its low bits)
  Permissions permissions;
  MemoryType memory_type = MemoryType::Reserved;
  bool accessed = false;
  // The hardware has recorded a write through it (EPT's D bit with A/D enabled); false in a format
  // without a hardware dirty flag.
  bool dirty = false;
  uint64_t software = 0;  // the bits the format leaves to software, shifted down

  bool operator==(const LeafAttributes&) const = default;
};

struct DecodedField {
  std::string name;  // "OA", "S2AP", "owner", ...
  uint64_t value;    // the field's value, shifted down to bit 0 (OA stays an address)
  std::string text;  // what the value means: "RW", "normal WB", "inner shareable", ...
};

// Every field of one descriptor, named; every field of a kind is present even when zero, so two
// decodings of the same kind line up side by side.
struct DecodedDescriptor {
  uint64_t raw;
  unsigned level;
  DescriptorKind kind;
  std::vector<DecodedField> fields;

  // The named field, or nullptr.
  const DecodedField* field(std::string_view name) const {
    for (const auto& f : fields)
      if (f.name == name) return &f;
    return nullptr;
  }
};

// Descriptors are 64-bit words; a table page is entries_per_table() of them.
class DescriptorFormat {
 public:
  virtual ~DescriptorFormat() = default;

  // The registry key: "arm64-s2-4k".
  virtual std::string_view name() const = 0;
  virtual std::string_view description() const = 0;

  // ---- Shape -------------------------------------------------------------------------------
  virtual unsigned page_shift() const = 0;  // a table page, and the smallest leaf
  virtual unsigned levels() const = 0;      // levels are numbered 0 .. levels() - 1
  virtual unsigned entries_per_table() const = 0;
  // The IPA bit where a level's index starts: an entry at this level covers 2^index_shift bytes.
  virtual unsigned index_shift(unsigned level) const = 0;
  virtual unsigned min_ia_bits() const = 0;
  virtual unsigned max_ia_bits() const = 0;
  virtual unsigned pa_bits() const = 0;
  virtual unsigned max_root_pages() const = 0;
  // Only for min_ia_bits() <= ia_bits <= max_ia_bits().
  virtual TableGeometry geometry(unsigned ia_bits) const = 0;

  // ---- Descriptors -------------------------------------------------------------------------
  virtual DescriptorKind classify(uint64_t desc, unsigned level) const = 0;
  // classify() over a whole table page: one virtual call per page on the hash tree's hot path.
  virtual void classify_page(std::span<const uint64_t> entries, unsigned level,
                             std::span<DescriptorKind> kinds) const;
  // The bits of a table descriptor that hold the next table's address: what the masked hash
  // clears, since each backend's table pages live elsewhere.
  virtual uint64_t table_address_mask(unsigned level) const = 0;
  virtual uint64_t next_table_address(uint64_t table_desc, unsigned level) const = 0;
  // A leaf's output address field as stored.
  virtual uint64_t output_address(uint64_t leaf_desc, unsigned level) const = 0;
  // The OA bits of a block below its size: must be zero.
  virtual uint64_t block_misalignment(uint64_t leaf_desc, unsigned level) const = 0;
  // Bits that must be zero in a leaf (block OA misalignment included) and in a table descriptor
  // of this format as the hypervisor writes them.
  virtual uint64_t leaf_reserved_mask(unsigned level) const = 0;
  virtual uint64_t table_reserved_mask(unsigned level) const = 0;
  // The leaf bits a translation depends on besides the OA (Translation::attrs keeps these).
  virtual uint64_t translation_attr_mask() const = 0;
  // The leaf fields a live entry may not change without break-before-make (OA, memory type, ...).
  virtual uint64_t break_before_make_mask() const = 0;

  // fwb: the arm64 FEAT_S2FWB memory-type encoding is in use; formats without such a variant
  // ignore it. Both accept a descriptor or just its attribute bits (translation_attr_mask()).
  virtual LeafAttributes leaf_attributes(uint64_t leaf_desc, unsigned level, bool fwb) const = 0;
  virtual Permissions permissions(uint64_t attrs) const = 0;
  // "MemAttr=0xf SH=3 AF=1 SW=0x0": the attribute bits of a mapping, for messages.
  virtual std::string describe_attributes(uint64_t attrs) const = 0;

  // Owner annotations: the id an invalid descriptor carries when it is nothing but an
  // annotation (0 when it is not one: other bits set, or zero).
  virtual unsigned owner_annotation(uint64_t desc) const = 0;
  virtual unsigned max_owner_id() const = 0;
  virtual unsigned owner_annotation_level() const = 0;  // the only level annotations belong at

  // What an unused entry holds: 0 on arm64; KVM's non-present SPTE on x86. Dumps and snapshots
  // list the other entries.
  virtual uint64_t empty_entry() const { return 0; }

  // Every field named; describe(): one line for dumps and diffs.
  virtual DecodedDescriptor decode(uint64_t raw, unsigned level, bool fwb) const = 0;
  virtual std::string describe(uint64_t raw, unsigned level, bool fwb) const = 0;

  // ---- Derived -----------------------------------------------------------------------------
  unsigned last_level() const { return levels() - 1; }
  uint64_t page_size() const { return uint64_t{1} << page_shift(); }
  uint64_t granule_size(unsigned level) const { return uint64_t{1} << index_shift(level); }
  // The IPA range one page of the start level translates.
  uint64_t root_page_span(unsigned start_level) const {
    return granule_size(start_level) * entries_per_table();
  }
  bool valid_ia_bits(unsigned ia_bits) const {
    return ia_bits >= min_ia_bits() && ia_bits <= max_ia_bits();
  }
};

// The format every backend of this build writes.
inline constexpr std::string_view kDefaultFormatName = "arm64-s2-4k";

// The registry, by name: nullptr for a name no format has.
const DescriptorFormat* find_format(std::string_view name);
const std::vector<const DescriptorFormat*>& registered_formats();
const DescriptorFormat& default_format();

}  // namespace mmudiff
