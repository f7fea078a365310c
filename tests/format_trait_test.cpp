// SPDX-License-Identifier: GPL-2.0-only
// The descriptor-format trait: the registry by name, the arm64-s2-4k implementation against the
// arm64s2 constants and hand-computed values, and the oracles dispatching through the trait — a
// wrapper format that counts its calls sees every oracle use it, and a format that reads
// descriptors differently changes what the oracles conclude.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>
#include <string>

#include "mmu/format/arm64_s2.h"
#include "mmu/format/arm64_s2_format.h"
#include "mmu/format/decode.h"
#include "mmu/format/format.h"
#include "oracles/harness.h"
#include "oracles/invariants.h"
#include "oracles/table_hash.h"
#include "oracles/table_snapshot.h"
#include "oracles/translation_diff.h"
#include "tests/table_builder.h"

namespace mmudiff {
namespace {

using namespace mmudiff::testing;

const SipKey kKey = parse_sip_key("000102030405060708090a0b0c0d0e0f");

// ---- Registry --------------------------------------------------------------------------------

TEST(FormatRegistry, FindsArm64Stage2By4KName) {
  const DescriptorFormat* f = find_format("arm64-s2-4k");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->name(), "arm64-s2-4k");
  EXPECT_EQ(f, &arm64_s2_4k_format());
  EXPECT_EQ(&default_format(), f);
  EXPECT_EQ(kDefaultFormatName, "arm64-s2-4k");
}

TEST(FormatRegistry, UnknownNamesAreNotFound) {
  EXPECT_EQ(find_format("x86-ept-4k"), nullptr);
  EXPECT_EQ(find_format(""), nullptr);
  EXPECT_EQ(find_format("ARM64-S2-4K"), nullptr);  // names are exact
}

TEST(FormatRegistry, NamesAreUniqueAndEveryFormatFindsItself) {
  std::set<std::string_view> names;
  ASSERT_FALSE(registered_formats().empty());
  for (const DescriptorFormat* f : registered_formats()) {
    EXPECT_TRUE(names.insert(f->name()).second) << f->name();
    EXPECT_EQ(find_format(f->name()), f);
    EXPECT_FALSE(f->description().empty());
  }
}

// FEAT_LPA2 (VTCR_EL2.DS = 1): a format of its own, where bits 9:8 of leaves and tables are
// address bits 51:50, OA[49:48] are no longer reserved, and leaves have no SH.
TEST(FormatRegistry, TheLpa2FormatReadsBits9To8AsAddressBits51To50) {
  const DescriptorFormat& f = arm64_s2_4k_lpa2_format();
  EXPECT_EQ(find_format("arm64-s2-4k-lpa2"), &f);
  EXPECT_EQ(&arm64_s2_4k_format(true), &f);
  EXPECT_EQ(&arm64_s2_4k_format(false), &arm64_s2_4k_format());
  EXPECT_EQ(f.pa_bits(), 52u);
  // A page: XN, PA[49:12] = 0x1'0000'0000'5000, bits 9:8 = 0b10, AF, S2AP RW, MemAttr 0xf.
  const uint64_t page = 0x0041'0000'0000'56ff;
  EXPECT_EQ(f.output_address(page, 3), 0x0009'0000'0000'5000u);
  EXPECT_EQ(arm64_s2_4k_format().output_address(page, 3), 0x0000'0000'0000'5000u);
  EXPECT_EQ(f.leaf_reserved_mask(3) & arm64s2::genmask(50, 48), arm64s2::bit(50));
  EXPECT_EQ(f.translation_attr_mask() & 0x300, 0u);
  const DecodedDescriptor d = f.decode(page, 3, false);
  EXPECT_EQ(d.field("SH"), nullptr);
  EXPECT_EQ(d.field("OA")->value, 0x0009'0000'0000'5000u);
  EXPECT_EQ(d.field("RES0")->value, 0u);
  // A table descriptor: its next level above 2^50, and what the masked hash clears.
  EXPECT_EQ(f.next_table_address(0x0000'4000'0000'3303, 1), 0x000c'4000'0000'3000u);
  EXPECT_EQ(f.table_address_mask(1), 0x0003'ffff'ffff'f300u);
  EXPECT_EQ(f.table_reserved_mask(1) & 0x300, 0u);
}

TEST(FormatRegistry, TableRootsNameTheirFormat) {
  EXPECT_EQ(TableRoot{}.format, &default_format());
  for (const auto& info : backends_of(Arch::Arm64S2)) {
    Machine m;
    auto backend = create_arm64(info, m, Plant::kNone);
    ASSERT_EQ(apply_op(*backend, m, init_op()).ret, 0) << info.name;
    EXPECT_EQ(backend->root().format->name(), "arm64-s2-4k") << info.name;
    backend->destroy();
  }
}

TEST(FormatRegistry, TheHarnessRefusesAnUnknownFormat) {
  HarnessOptions o;
  o.format = "riscv-gstage-sv39x4";
  Op init;
  init.kind = OpKind::Init;
  EXPECT_THROW(run_stream({init}, o), std::invalid_argument);
}

// ---- arm64-s2-4k against the constants and by hand -------------------------------------------

const DescriptorFormat& arm64() {
  return arm64_s2_4k_format();
}

TEST(Arm64Format, ShapeIsFourLevelsOf512EntriesIn4KPages) {
  EXPECT_EQ(arm64().levels(), 4u);
  EXPECT_EQ(arm64().last_level(), 3u);
  EXPECT_EQ(arm64().entries_per_table(), 512u);
  EXPECT_EQ(arm64().page_size(), 4096u);
  EXPECT_EQ(arm64().pa_bits(), 48u);
  EXPECT_EQ(arm64().max_root_pages(), 16u);
  const unsigned shifts[] = {39, 30, 21, 12};
  for (unsigned l = 0; l < 4; ++l) {
    EXPECT_EQ(arm64().index_shift(l), shifts[l]);
    EXPECT_EQ(arm64().granule_size(l), uint64_t{1} << shifts[l]);
  }
  EXPECT_EQ(arm64().root_page_span(1), uint64_t{1} << 39);  // one level-1 page: 512 GiB
}

TEST(Arm64Format, GeometryIsVtcrsForEveryIpaSize) {
  EXPECT_FALSE(arm64().valid_ia_bits(31));
  EXPECT_FALSE(arm64().valid_ia_bits(49));
  for (unsigned ia = 32; ia <= 48; ++ia) {
    ASSERT_TRUE(arm64().valid_ia_bits(ia));
    arm64s2::Geometry g = arm64s2::geometry_for(ia);
    EXPECT_EQ(arm64().geometry(ia), (TableGeometry{ia, g.start_level, g.pgd_pages})) << ia;
  }
  // By hand: 40 bits start at level 1 with two concatenated pages; 32 bits at level 2 with four.
  EXPECT_EQ(arm64().geometry(40), (TableGeometry{40, 1, 2}));
  EXPECT_EQ(arm64().geometry(32), (TableGeometry{32, 2, 4}));
  EXPECT_EQ(arm64().geometry(48), (TableGeometry{48, 0, 1}));
}

TEST(Arm64Format, ClassifiesAsTheConstantsDoOneByOneAndByPage) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> page(512);
  for (auto& d : page) {
    d = rng();
    if (rng() % 4 == 0) d &= ~uint64_t{3};  // some invalid
  }
  std::vector<DescriptorKind> kinds(512);
  for (unsigned level = 0; level < 4; ++level) {
    arm64().classify_page(page, level, kinds);
    for (unsigned i = 0; i < 512; ++i) {
      ASSERT_EQ(kinds[i], arm64s2::classify(page[i], level)) << i;
      ASSERT_EQ(arm64().classify(page[i], level), kinds[i]) << i;
    }
  }
  // By hand.
  EXPECT_EQ(arm64().classify(0x3, 0), DescriptorKind::Table);
  EXPECT_EQ(arm64().classify(0x1, 0), DescriptorKind::Reserved);  // no level-0 blocks
  EXPECT_EQ(arm64().classify(0x1, 1), DescriptorKind::Block);
  EXPECT_EQ(arm64().classify(0x3, 3), DescriptorKind::Page);
  EXPECT_EQ(arm64().classify(0x1, 3), DescriptorKind::Reserved);
  EXPECT_EQ(arm64().classify(0x4, 3), DescriptorKind::Invalid);
}

TEST(Arm64Format, AddressFieldsAreBits47To12) {
  const uint64_t t = arm64s2::make_table(0x0000'4000'0000'3000);
  for (unsigned l = 0; l < 3; ++l) {
    EXPECT_EQ(arm64().table_address_mask(l), 0x0000'ffff'ffff'f000ULL);
    EXPECT_EQ(arm64().next_table_address(t, l), 0x0000'4000'0000'3000ULL);
  }
  uint64_t blk = leaf(2, 0x8020'0000);
  EXPECT_EQ(arm64().output_address(blk, 2), 0x8020'0000u);
  EXPECT_EQ(arm64().block_misalignment(blk, 2), 0u);
  EXPECT_EQ(arm64().block_misalignment(blk | 0x1000, 2), 0x1000u);
  EXPECT_EQ(arm64().block_misalignment(leaf(3, 0x8020'1000), 3), 0u);
  EXPECT_EQ(arm64().leaf_reserved_mask(2), arm64s2::leaf_reserved_mask(2));
  EXPECT_EQ(arm64().table_reserved_mask(1), arm64s2::table_reserved_mask());
  EXPECT_EQ(arm64().translation_attr_mask(), kTranslationAttrMask);
  EXPECT_EQ(arm64().break_before_make_mask(),
            arm64s2::kOaMask | arm64s2::kMemAttrMask | arm64s2::kShMask);
}

TEST(Arm64Format, PermissionsReadS2apAndBothXnBits) {
  using arm64s2::bit;
  const uint64_t r = bit(6), w = bit(7);
  struct Row {
    uint64_t attrs;
    Permissions p;
  };
  const Row rows[] = {
      {r | w, {true, true, true, true}},                 // XN 00: executable at EL1 and EL0
      {r | bit(53), {true, false, false, true}},         // XN 01: not at EL1
      {w | bit(54), {false, true, false, false}},        // XN 10: at neither
      {bit(53) | bit(54), {false, false, true, false}},  // XN 11: not at EL0
  };
  for (const auto& row : rows) EXPECT_EQ(arm64().permissions(row.attrs), row.p) << row.attrs;
  EXPECT_EQ(arm64().leaf_attributes(leaf(3, 0x8000'1000, {.x = true}), 3, false).permissions,
            (Permissions{true, true, true, true}));
}

TEST(Arm64Format, MemoryTypesByHandWithAndWithoutFwb) {
  auto type = [](uint64_t attr, bool fwb) {
    return arm64().leaf_attributes(0x403 | (attr << 2), 3, fwb).memory_type;
  };
  EXPECT_EQ(type(0xf, false), MemoryType::NormalWriteBack);
  EXPECT_EQ(type(0x5, false), MemoryType::NormalNonCacheable);
  EXPECT_EQ(type(0xa, false), MemoryType::NormalWriteThrough);
  EXPECT_EQ(type(0x7, false), MemoryType::NormalMixed);
  EXPECT_EQ(type(0x1, false), MemoryType::Device);
  EXPECT_EQ(type(0x4, false), MemoryType::Reserved);  // inner cacheability 00
  EXPECT_EQ(type(0x6, true), MemoryType::NormalWriteBack);
  EXPECT_EQ(type(0x5, true), MemoryType::NormalNonCacheable);
  EXPECT_EQ(type(0x7, true), MemoryType::NormalFromStage1);
  EXPECT_EQ(type(0x1, true), MemoryType::Device);
  EXPECT_EQ(type(0x4, true), MemoryType::Reserved);
  EXPECT_EQ(type(0xc, true), MemoryType::Reserved);
  LeafAttributes a =
      arm64().leaf_attributes(leaf(3, 0x8000'1000, {.af = false, .sw = 5}), 3, false);
  EXPECT_FALSE(a.accessed);
  EXPECT_EQ(a.software, 5u);
  EXPECT_EQ(a.output_address, 0x8000'1000u);
}

TEST(Arm64Format, OwnerAnnotationsAreInvalidEntriesWithOnlyTheOwnerField) {
  EXPECT_EQ(arm64().owner_annotation(arm64s2::make_owner_annotation(1)), 1u);
  EXPECT_EQ(arm64().owner_annotation(0), 0u);
  EXPECT_EQ(arm64().owner_annotation(arm64s2::make_owner_annotation(1) | (uint64_t{1} << 20)), 0u);
  EXPECT_EQ(arm64().max_owner_id(), 1u);
  EXPECT_EQ(arm64().owner_annotation_level(), 3u);
}

TEST(Arm64Format, DecodeIsTheArm64Decoder) {
  const uint64_t descs[] = {leaf(2, 0x8020'0000), arm64s2::make_table(0x4000'0000'3000),
                            arm64s2::make_owner_annotation(1), 0x1};
  for (uint64_t d : descs) {
    for (unsigned level = 1; level < 4; ++level) {
      DecodedDescriptor a = arm64().decode(d, level, false), b = decode_descriptor(d, level, false);
      EXPECT_EQ(a.kind, b.kind);
      ASSERT_EQ(a.fields.size(), b.fields.size());
      for (size_t i = 0; i < a.fields.size(); ++i) {
        EXPECT_EQ(a.fields[i].name, b.fields[i].name);
        EXPECT_EQ(a.fields[i].value, b.fields[i].value);
        EXPECT_EQ(a.fields[i].text, b.fields[i].text);
      }
      EXPECT_EQ(arm64().describe(d, level, true), describe_descriptor(d, level, true));
    }
  }
  EXPECT_EQ(arm64().describe_attributes(leaf(3, 0x1000) & kTranslationAttrMask),
            "MemAttr=0xf SH=3 AF=1 SW=0x0");
}

// ---- The oracles go through the trait ---------------------------------------------------------

// arm64-s2-4k under another name, counting the calls the oracles make.
class CountingFormat : public DescriptorFormat {
 public:
  mutable std::atomic<size_t> calls{0};
  const DescriptorFormat& base = arm64_s2_4k_format();

  std::string_view name() const override { return "counting-arm64"; }
  std::string_view description() const override { return "test"; }
  unsigned page_shift() const override { return ++calls, base.page_shift(); }
  unsigned levels() const override { return ++calls, base.levels(); }
  unsigned entries_per_table() const override { return ++calls, base.entries_per_table(); }
  unsigned index_shift(unsigned l) const override { return ++calls, base.index_shift(l); }
  unsigned min_ia_bits() const override { return base.min_ia_bits(); }
  unsigned max_ia_bits() const override { return base.max_ia_bits(); }
  unsigned pa_bits() const override { return base.pa_bits(); }
  unsigned max_root_pages() const override { return base.max_root_pages(); }
  TableGeometry geometry(unsigned ia) const override { return base.geometry(ia); }
  DescriptorKind classify(uint64_t d, unsigned l) const override {
    return ++calls, base.classify(d, l);
  }
  void classify_page(std::span<const uint64_t> e, unsigned l,
                     std::span<DescriptorKind> k) const override {
    ++calls;
    base.classify_page(e, l, k);
  }
  uint64_t table_address_mask(unsigned l) const override {
    return ++calls, base.table_address_mask(l);
  }
  uint64_t next_table_address(uint64_t d, unsigned l) const override {
    return ++calls, base.next_table_address(d, l);
  }
  uint64_t output_address(uint64_t d, unsigned l) const override {
    return ++calls, base.output_address(d, l);
  }
  uint64_t block_misalignment(uint64_t d, unsigned l) const override {
    return ++calls, base.block_misalignment(d, l);
  }
  uint64_t leaf_reserved_mask(unsigned l) const override {
    return ++calls, base.leaf_reserved_mask(l);
  }
  uint64_t table_reserved_mask(unsigned l) const override {
    return ++calls, base.table_reserved_mask(l);
  }
  uint64_t translation_attr_mask() const override { return base.translation_attr_mask(); }
  uint64_t break_before_make_mask() const override { return base.break_before_make_mask(); }
  LeafAttributes leaf_attributes(uint64_t d, unsigned l, bool fwb) const override {
    return ++calls, base.leaf_attributes(d, l, fwb);
  }
  Permissions permissions(uint64_t a) const override { return ++calls, base.permissions(a); }
  std::string describe_attributes(uint64_t a) const override {
    return ++calls, base.describe_attributes(a);
  }
  unsigned owner_annotation(uint64_t d) const override { return ++calls, base.owner_annotation(d); }
  unsigned max_owner_id() const override { return base.max_owner_id(); }
  unsigned owner_annotation_level() const override { return base.owner_annotation_level(); }
  DecodedDescriptor decode(uint64_t r, unsigned l, bool fwb) const override {
    return ++calls, base.decode(r, l, fwb);
  }
  std::string describe(uint64_t r, unsigned l, bool fwb) const override {
    return ++calls, base.describe(r, l, fwb);
  }
};

// A backend that only has a table root: what take_snapshot() reads.
struct RootOnly : Backend {
  explicit RootOnly(TableRoot root) : r(root) {}
  TableRoot r;
  std::string_view name() const override { return "root-only"; }
  void destroy() override {}
  TableRoot root() const override { return r; }
};

void populate(TableBuilder& b) {
  b.page(0x1000, 0x8000'1000);
  b.page(0x2000, 0x8000'2000, {.w = false, .x = true});
  b.page(0x3000, 0x9000'0000, {.device = true});
  b.set(0x4000, 3, arm64s2::make_owner_annotation(1));
  b.block(0x20'0000, 2, 0x8020'0000);
  b.block(k1G, 1, 0x40'0000'0000, {.r = false});
  b.page(0x0000'8040'1234'5000, 0xa000'5000);
}

TEST(OraclesThroughTheTrait, AWrappedFormatGivesTheSameResultsAndIsCalled) {
  TableBuilder b;
  populate(b);
  b.page(0x5000, 0x9000'5000, {.x = true, .device = true});  // device-exec: an invariant fires
  CountingFormat counting;
  TableRoot wrapped = b.root();
  wrapped.format = &counting;

  HashedTable h1 = hash_table(b.root(), b.memory(), kKey);
  size_t before = counting.calls;
  HashedTable h2 = hash_table(wrapped, b.memory(), kKey);
  EXPECT_GT(counting.calls, before) << "the hash tree did not use the table's format";
  EXPECT_EQ(h1.root_hash, h2.root_hash);
  EXPECT_EQ(h1.pages, h2.pages);

  before = counting.calls;
  auto v1 = check_invariants(b.root(), b.memory());
  auto v2 = check_invariants(wrapped, b.memory());
  EXPECT_GT(counting.calls, before) << "the invariants did not use the table's format";
  ASSERT_EQ(v1.size(), 1u);
  ASSERT_EQ(v2.size(), 1u);
  EXPECT_EQ(v1[0].rule, "device-exec");
  EXPECT_EQ(v1[0].what, v2[0].what);

  RootOnly plain(b.root()), counted(wrapped);
  before = counting.calls;
  TableSnapshot s1 = take_snapshot(plain, b.memory()), s2 = take_snapshot(counted, b.memory());
  EXPECT_GT(counting.calls, before) << "the snapshot did not use the table's format";
  EXPECT_EQ(s1.entries, s2.entries);
  EXPECT_FALSE(first_difference(s1, s2).has_value());

  before = counting.calls;
  Translation t1, t2;
  t1.mappings = {{0, 4096, 0x8000'0000, leaf(3, 0) & kTranslationAttrMask}};
  t2.mappings = {{0, 4096, 0x8000'0000, (leaf(3, 0, {.x = true})) & kTranslationAttrMask}};
  auto d1 = compare_translations(t2, t1);
  auto d2 = compare_translations(t2, t1, counting);
  EXPECT_GT(counting.calls, before) << "the translation diff did not use the format";
  ASSERT_TRUE(d1 && d2);
  EXPECT_EQ(d1->what, d2->what);
  EXPECT_EQ(d1->severity, Severity::Security);
}

// arm64-s2-4k except that it reads bit 1 of nothing as a table: every level-0..2 entry with bits
// [1:0] = 11 is a leaf to it. The oracles must follow it, not the arm64s2 constants.
class NoTablesFormat : public CountingFormat {
 public:
  DescriptorKind classify(uint64_t d, unsigned l) const override {
    DescriptorKind k = base.classify(d, l);
    return k == DescriptorKind::Table ? DescriptorKind::Block : k;
  }
  void classify_page(std::span<const uint64_t> e, unsigned l,
                     std::span<DescriptorKind> k) const override {
    for (size_t i = 0; i < e.size(); ++i) k[i] = classify(e[i], l);
  }
};

TEST(OraclesThroughTheTrait, AFormatThatReadsDescriptorsDifferentlyChangesTheirConclusions) {
  TableBuilder a, b({.pad_pages = 3});
  populate(a);
  populate(b);
  NoTablesFormat flat;
  TableRoot ra = a.root(), rb = b.root();
  ra.format = rb.format = &flat;
  // Read as arm64 the tables are equal wherever their pages live; read without tables the
  // start-level entries are leaves whose "OA" is the table page's address, which differs.
  EXPECT_EQ(hash_table(a.root(), a.memory(), kKey).root_hash,
            hash_table(b.root(), b.memory(), kKey).root_hash);
  EXPECT_NE(hash_table(ra, a.memory(), kKey).root_hash, hash_table(rb, b.memory(), kKey).root_hash);
  EXPECT_EQ(hash_table(ra, a.memory(), kKey).pages, 1u);  // only the start-level page
  TableSnapshot sa = take_snapshot(RootOnly(ra), a.memory());
  EXPECT_EQ(sa.entries.size(), 2u);  // the two start-level entries, nothing below them
  EXPECT_EQ(take_snapshot(RootOnly(a.root()), a.memory()).entries.size(), 13u);
  // The invariants see level-0 "blocks" whose OA (the table page's address) is not aligned to
  // 512 GiB, instead of walking the tables.
  auto v = check_invariants(ra, a.memory());
  bool misaligned = false;
  for (const auto& x : v) misaligned = misaligned || x.rule == "block-alignment";
  EXPECT_TRUE(misaligned);
  EXPECT_TRUE(check_invariants(a.root(), a.memory()).empty());
}

// ---- Structured divergence evidence ------------------------------------------------------------

TEST(DivergenceEvidence, TheHarnessDecodesBothSidesOfTheFirstDivergingDescriptor) {
  HarnessOptions o;
  o.backends = {"legacy", "walker"};  // legacy is the reference; walker carries the plant
  o.plant = Plant::kWalkerReservedBit;
  o.hash_key = kKey;
  Op init;
  init.kind = OpKind::Init;
  Op map;
  map.kind = OpKind::Map;
  map.addr = 0x20'0000;
  map.size = 0x20'0000;
  map.phys = 0x8020'0000;
  map.prot = arm64s2::prot::kR | arm64s2::prot::kW;
  map.memcache = kDefaultMemcache;
  StreamReport r = run_stream({init, map}, o);
  const Finding* diverged = nullptr;
  for (const auto& f : r.findings)
    if (!f.divergence.empty()) diverged = &f;
  ASSERT_NE(diverged, nullptr);
  EXPECT_EQ(diverged->oracle, "masked-hash");  // same translation, another descriptor
  ASSERT_EQ(diverged->divergence.size(), 2u);
  const DescriptorSide& ref = diverged->divergence[0];
  const DescriptorSide& bad = diverged->divergence[1];
  EXPECT_EQ(ref.backend, "legacy");
  EXPECT_EQ(bad.backend, "walker");
  for (const DescriptorSide* s : {&ref, &bad}) {
    EXPECT_EQ(s->ipa_start, 0x20'0000u);
    EXPECT_EQ(s->ipa_end, 0x40'0000u);
    EXPECT_EQ(s->level, 2u);
    EXPECT_EQ(s->kind, "block");
    ASSERT_EQ(s->fields.size(), 10u);  // valid, type, OA, MemAttr, S2AP, SH, AF, XN, SW, RES0
  }
  EXPECT_EQ(bad.raw ^ ref.raw, uint64_t{1} << 11);  // the planted RES0 bit
  auto field = [](const DescriptorSide& s, const std::string& name) {
    for (const auto& [n, v] : s.fields)
      if (n == name) return v;
    return std::string("<missing>");
  };
  EXPECT_EQ(field(ref, "OA"), "0x80200000");
  EXPECT_EQ(field(ref, "S2AP"), "0x3 (RW)");
  EXPECT_EQ(field(ref, "RES0"), "0x0 (clear)");
  EXPECT_EQ(field(bad, "RES0"), "0x800 (reserved bits set)");
  // The text evidence is still there for the terminal.
  ASSERT_EQ(diverged->evidence.size(), 2u);
  EXPECT_NE(diverged->evidence[1].find("RES0=0x800"), std::string::npos);
}

}  // namespace
}  // namespace mmudiff
