// SPDX-License-Identifier: GPL-2.0-only
// The .mmu text form: what it accepts, how it prints, the lossless round trip with the operation
// values (property-tested over thousands of streams), the exact "FILE:LINE: message" of every
// class of malformed input, and the bundled seed streams.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <random>
#include <string>

#include "mmu/format/arm64_s2.h"
#include "mmu/ops/op.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "tests/files.h"

namespace mmudiff {
namespace {

namespace prot = arm64s2::prot;
using mmudiff::testing::slurp;

Op parse_one(const std::string& line) {
  Stream s = parse_text(line, "t.mmu");
  EXPECT_EQ(s.size(), 1u) << line;
  return s.empty() ? Op{} : s[0];
}

// The exact message parse_text throws, or "" when it parses.
std::string error_of(std::string_view text, std::string_view file = "t.mmu") {
  try {
    parse_text(text, file);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const std::string kMapUsage =
    "map ADDR SIZE [pa=PA] [prot=rwxdn] [sw=0..15] [mc=0..4096|none] [flags=shared,fault (6.12)]";

// ---------------------------------------------------------------------------------------------
// What the parser accepts.

TEST(TextParse, MapWithEveryOperand) {
  Op op = parse_one("map 0x40000000 2M pa=0x80000000 prot=rwxd sw=5 mc=3");
  EXPECT_EQ(op.kind, OpKind::Map);
  EXPECT_EQ(op.addr, 0x4000'0000u);
  EXPECT_EQ(op.size, 0x20'0000u);
  EXPECT_EQ(op.phys, 0x8000'0000u);
  EXPECT_EQ(op.prot, prot::kR | prot::kW | prot::kX | prot::kDevice | (uint64_t{5} << 55));
  EXPECT_EQ(op.memcache, 3);
}

TEST(TextParse, MapDefaultsToPaZeroNoPermissionsAndTheDefaultMemcache) {
  Op op = parse_one("map 0x1000 4K");
  EXPECT_EQ(op.phys, 0u);
  EXPECT_EQ(op.prot, 0u);
  EXPECT_EQ(op.memcache, kDefaultMemcache);
  EXPECT_EQ(parse_one("map 0 4K mc=none").memcache, kNoMemcache);
  EXPECT_EQ(parse_one("map 0 4K mc=0").memcache, 0);
  EXPECT_EQ(parse_one("map 0 4K mc=4096").memcache, kMaxMemcache);
}

TEST(TextParse, InitDefaultsAreIa40WithoutFlags) {
  Op op = parse_one("init");
  EXPECT_EQ(op.kind, OpKind::Init);
  EXPECT_EQ(op.config, Config{});
  EXPECT_EQ(op.config.arm64.ia_bits, 40);
}

TEST(TextParse, InitTakesEveryConfigKeyAndFlagSpelling) {
  Op op = parse_one("init ia=32 fwb=yes nofwb=true idmap=1 force_pte=device");
  EXPECT_EQ(op.config.arm64.ia_bits, 32);
  EXPECT_TRUE(op.config.arm64.fwb);
  EXPECT_TRUE(op.config.arm64.nofwb);
  EXPECT_TRUE(op.config.arm64.idmap);
  EXPECT_EQ(op.config.arm64.force_pte, ForcePte::Device);
  EXPECT_FALSE(op.config.arm64.has_fwb()) << "NOFWB overrides the CPU's FWB";
  Op off = parse_one("init ia=48 fwb=no nofwb=false idmap=0 force_pte=always");
  EXPECT_EQ(off.config.arm64.ia_bits, 48);
  EXPECT_FALSE(off.config.arm64.fwb || off.config.arm64.nofwb || off.config.arm64.idmap);
  EXPECT_EQ(off.config.arm64.force_pte, ForcePte::Always);
  EXPECT_EQ(parse_one("init force_pte=never").config.arm64.force_pte, ForcePte::Never);
}

// kernel= puts the stream in a profile; later inits keep it without saying so, and one that
// names another kernel is an error, as another architecture is. A 6.1 init prints as it always
// did, so every existing stream file reads and writes alike.
TEST(TextParse, KernelNamesTheProfileAndAStreamKeepsIt) {
  Stream s = parse_text("init kernel=6.12\nmap 0 4K\ninit ia=36\n", "t.mmu");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(stream_profile(s), ProfileId::Arm64Linux612);
  EXPECT_EQ(s[2].config.arm64.kernel, Arm64Kernel::Linux612);
  EXPECT_EQ(format_op(s[0]), "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never kernel=6.12");
  EXPECT_EQ(parse_text(format_stream(s), "t.mmu"), s);
  EXPECT_EQ(format_op(parse_one("init kernel=6.1")),
            "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never");
  EXPECT_EQ(error_of("init\ninit kernel=6.12"),
            "t.mmu:2: init kernel=6.12 in a stream for Linux 6.1: a stream keeps one kernel");
  EXPECT_EQ(error_of("init kernel=5.10"), "t.mmu:1: kernel must be 6.1 or 6.12, not '5.10'");
}

// KEY is a flag only a 6.12 init takes: in a 6.1 stream, set or not, it is REFUSED at its line;
// in a 6.12 stream it is 0 or 1.
void expect_a_612_only_flag(const std::string& key, const std::string& refused) {
  EXPECT_EQ(error_of("init " + key + "=1"), "t.mmu:1: " + refused);
  EXPECT_EQ(error_of("init kernel=6.1 " + key + "=0"), "t.mmu:1: " + refused);
  EXPECT_EQ(error_of("init\nmap 0 4K\ninit " + key + "=1"), "t.mmu:3: " + refused);
  EXPECT_EQ(error_of("init kernel=6.12 " + key + "=2"),
            "t.mmu:1: " + key + " must be 0 or 1, not '2'");
}

// tlb_range: the CPU has FEAT_TLBIRANGE. Each 6.12 init says it (printed only when set, so 6.12
// streams without it print as before); 6.1 never asks, so naming it there is an error.
TEST(TextParse, TlbRangeIsAFlagOfA612Init) {
  Stream s =
      parse_text("init kernel=6.12 tlb_range=1 fwb=1\nunmap 0 4K\ninit tlb_range=0\n", "t.mmu");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_TRUE(s[0].config.arm64.tlb_range);
  EXPECT_TRUE(s[0].config.arm64.unmap_defers_tlbi());
  EXPECT_FALSE(s[2].config.arm64.tlb_range);
  EXPECT_EQ(format_op(s[0]),
            "init ia=40 fwb=1 nofwb=0 idmap=0 force_pte=never kernel=6.12 tlb_range=1");
  EXPECT_EQ(format_op(s[2]), "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never kernel=6.12");
  EXPECT_EQ(parse_text(format_stream(s), "t.mmu"), s);
  // The key may come before kernel=.
  EXPECT_TRUE(parse_one("init tlb_range=1 kernel=6.12").config.arm64.tlb_range);
  expect_a_612_only_flag("tlb_range",
                         "tlb_range in a stream for Linux 6.1: only kernel=6.12 asks whether the "
                         "CPU has range TLBIs");
}

// lpa2: the CPU and host have FEAT_LPA2. Each 6.12 init says it (printed only when set, so the
// streams without it print as before); 6.1 never asks, so naming it there is an error.
TEST(TextParse, Lpa2IsAFlagOfA612Init) {
  Stream s = parse_text(
      "init kernel=6.12 lpa2=1 tlb_range=1\nmap 0 4K pa=0xf000000001000\n"
      "init lpa2=0\n",
      "t.mmu");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_TRUE(s[0].config.arm64.lpa2);
  EXPECT_EQ(s[1].phys, 0xf'0000'0000'1000u);
  EXPECT_FALSE(s[2].config.arm64.lpa2);
  EXPECT_EQ(format_op(s[0]),
            "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never kernel=6.12 tlb_range=1 lpa2=1");
  EXPECT_EQ(format_op(s[2]), "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never kernel=6.12");
  EXPECT_EQ(parse_text(format_stream(s), "t.mmu"), s);
  EXPECT_TRUE(parse_one("init lpa2=1 kernel=6.12").config.arm64.lpa2);
  expect_a_612_only_flag(
      "lpa2",
      "lpa2 in a stream for Linux 6.1: only kernel=6.12 asks whether the CPU has FEAT_LPA2");
}

TEST(TextParse, EveryOperationByName) {
  EXPECT_EQ(parse_one("destroy").kind, OpKind::Destroy);
  EXPECT_EQ(parse_one("unmap 0x1000 4K").kind, OpKind::Unmap);
  EXPECT_EQ(parse_one("wrprotect 0x1000 4K").kind, OpKind::Wrprotect);
  EXPECT_EQ(parse_one("mkyoung 0x1000").kind, OpKind::Mkyoung);
  EXPECT_EQ(parse_one("mkold 0x1000").kind, OpKind::Mkold);
  EXPECT_EQ(parse_one("is_young 0x1000").kind, OpKind::IsYoung);
  EXPECT_EQ(parse_one("relax_perms 0x1000 prot=rw").kind, OpKind::RelaxPerms);
  EXPECT_EQ(parse_one("flush 0x1000 4K").kind, OpKind::Flush);
  EXPECT_EQ(parse_one("set_owner 0x1000 4K owner=1").kind, OpKind::SetOwner);
  EXPECT_EQ(parse_one("get_leaf 0x1000").kind, OpKind::GetLeaf);
}

// arm64's split (Linux 6.12) is spelt as x86's: the stream's profile says which it is, and an
// arm64-6.1 stream has none.
TEST(TextParse, SplitIsArm64sInA612StreamAndX86sInAnX86One) {
  Stream s = parse_text("init kernel=6.12\nsplit 0x40000000 2M mc=3\nsplit 0 4K", "t.mmu");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1], (Op{.kind = OpKind::Arm64Split,
                      .addr = 0x40000000,
                      .size = 2 << 20,
                      .memcache = 3,
                      .config = {}}));
  EXPECT_EQ(s[2].memcache, kDefaultMemcache);
  EXPECT_EQ(format_op(s[1]), "split 0x40000000 2M mc=3");
  EXPECT_EQ(parse_text(format_stream(s), "again.mmu"), s);
  EXPECT_EQ(parse_text("init arch=x86-ept\nsplit 0 2M level=2", "t.mmu")[1].kind, OpKind::Split);
}

TEST(TextParse, SplitInAnArm64_61StreamIsAnErrorNamingFileAndLine) {
  EXPECT_EQ(error_of("init\nmap 0 4K\nsplit 0x1000 4K mc=1", "s.mmu"),
            "s.mmu:3: split is an operation of arm64-6.12 (kvm_pgtable_stage2_split), and this "
            "stream is for arm64-6.1: start it with 'init kernel=6.12'");
  EXPECT_EQ(
      error_of("split 0 4K", "s.mmu").rfind("s.mmu:1: split is an operation of arm64-6.12", 0), 0u);
  EXPECT_EQ(error_of("init kernel=6.12\nsplit 0 4K mc=none", "s.mmu"),
            "s.mmu:2: split always has its split_page_cache: mc=0..4096, not none");
}

// Linux 6.12's unlinked tables: create_unlinked pa=PA level=0..2 prot force_pte mc, and
// free_unlinked N; in a 6.1 stream each is a one-line error naming file and line.
TEST(TextParse, UnlinkedTablesAreOperationsOf612Streams) {
  Stream s = parse_text(
      "init kernel=6.12\ncreate_unlinked pa=0x40000000 level=1 prot=rw force_pte=1 mc=513\n"
      "create_unlinked pa=0x200000\nfree_unlinked 1",
      "u.mmu");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[1], (Op{.kind = OpKind::CreateUnlinked,
                      .phys = 0x4000'0000,
                      .prot = prot::kR | prot::kW,
                      .level = 1,
                      .memcache = 513,
                      .owner = 1,
                      .config = {}}));
  // Level 2 (a table of pages) and 64 pages by default.
  EXPECT_EQ(format_op(s[2]), "create_unlinked pa=0x200000 level=2 prot=- sw=0 force_pte=0 mc=64");
  EXPECT_EQ(s[3], (Op{.kind = OpKind::FreeUnlinked, .addr = 1, .config = {}}));
  EXPECT_EQ(parse_text(format_stream(s), "u.mmu"), s);
  EXPECT_EQ(error_of("init\ncreate_unlinked pa=0 level=2", "u.mmu"),
            "u.mmu:2: create_unlinked is an operation of arm64-6.12 "
            "(kvm_pgtable_stage2_create_unlinked), and this stream is for arm64-6.1: start it with "
            "'init kernel=6.12'");
  EXPECT_EQ(error_of("free_unlinked 0", "u.mmu")
                .rfind("u.mmu:1: free_unlinked is an operation of "
                       "arm64-6.12",
                       0),
            0u);
  EXPECT_EQ(error_of("init kernel=6.12\ncreate_unlinked pa=0 level=3", "u.mmu")
                .rfind("u.mmu:2: level 3 is out of range 0..2", 0),
            0u);
  EXPECT_EQ(error_of("init kernel=6.12\ncreate_unlinked pa=0 mc=none", "u.mmu"),
            "u.mmu:2: create_unlinked always has its cache: mc=0..4096, not none");
  EXPECT_NE(error_of("init kernel=6.12\ncreate_unlinked pa=0 owner=1", "u.mmu"), "");
}

// Linux 6.12's test_clear_young over a range: mkold=0|1 (0 when not given), always printed.
TEST(TextParse, TestClearYoungTakesARangeAndMkold) {
  Stream s = parse_text(
      "init kernel=6.12\ntest_clear_young 0x40000000 2M mkold=1\ntest_clear_young 0 4K", "t.mmu");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1], (Op{.kind = OpKind::Arm64TestClearYoung,
                      .addr = 0x40000000,
                      .size = 2 << 20,
                      .mkold = true,
                      .config = {}}));
  EXPECT_FALSE(s[2].mkold);
  EXPECT_EQ(format_op(s[1]), "test_clear_young 0x40000000 2M mkold=1");
  EXPECT_EQ(format_op(s[2]), "test_clear_young 0x0 4K mkold=0");
  EXPECT_EQ(parse_text(format_stream(s), "again.mmu"), s);
  EXPECT_EQ(error_of("init\ntest_clear_young 0 4K mkold=1", "y.mmu"),
            "y.mmu:2: test_clear_young is an operation of arm64-6.12 "
            "(kvm_pgtable_stage2_test_clear_young), and this stream is for arm64-6.1: start it "
            "with 'init kernel=6.12'");
}

// A 6.12 map's walk flags (flags=shared,fault, either alone, or 0) and NORMAL_NC (prot letter n):
// printed only when there are some, so a map without them prints as it always did; a 6.1 stream
// refuses both with a line naming file and line.
TEST(TextParse, A612MapTakesWalkFlagsAndNormalNc) {
  Stream s = parse_text(
      "init kernel=6.12\nmap 0 4K prot=rwn flags=fault,shared\nmap 0 4K flags=shared\n"
      "map 0 4K prot=r flags=0",
      "t.mmu");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[1].walk_flags, walk_flag::kShared | walk_flag::kHandleFault);
  EXPECT_EQ(s[1].prot, prot::kR | prot::kW | prot::kNormalNc);
  EXPECT_EQ(s[2].walk_flags, walk_flag::kShared);
  EXPECT_EQ(s[3].walk_flags, 0u);
  EXPECT_EQ(format_op(s[1]), "map 0x0 4K pa=0x0 prot=rwn sw=0 mc=64 flags=shared,fault");
  EXPECT_EQ(format_op(s[2]), "map 0x0 4K pa=0x0 prot=- sw=0 mc=64 flags=shared");
  EXPECT_EQ(format_op(s[3]), "map 0x0 4K pa=0x0 prot=r sw=0 mc=64");
  EXPECT_EQ(parse_text(format_stream(s), "again.mmu"), s);
  EXPECT_EQ(error_of("init\nmap 0 4K flags=shared", "f.mmu"),
            "f.mmu:2: flags= in a stream for arm64-6.1: only kernel=6.12's kvm_pgtable_stage2_map "
            "takes walk flags");
  EXPECT_EQ(error_of("map 0 4K prot=rn", "f.mmu"),
            "f.mmu:1: prot 'n' (KVM_PGTABLE_PROT_NORMAL_NC) in a stream for arm64-6.1: only "
            "kernel=6.12 has it");
  EXPECT_EQ(error_of("init kernel=6.12\nrelax_perms 0 prot=rn"),
            "t.mmu:2: prot 'n' (KVM_PGTABLE_PROT_NORMAL_NC) is a map's alone, not relax_perms's");
  EXPECT_EQ(error_of("init kernel=6.12\nmap 0 4K flags=shared,shared"),
            "t.mmu:2: flags repeats 'shared'");
  EXPECT_EQ(error_of("init kernel=6.12\nmap 0 4K flags=exclusive"),
            "t.mmu:2: flags has 'exclusive'; the walk flags are shared and fault");
}

TEST(TextParse, SetOwnerTakesOwnerAndMemcache) {
  Op op = parse_one("set_owner 0x2000 8K owner=255 mc=none");
  EXPECT_EQ(op.addr, 0x2000u);
  EXPECT_EQ(op.size, 0x2000u);
  EXPECT_EQ(op.owner, 255);
  EXPECT_EQ(op.memcache, kNoMemcache);
  EXPECT_EQ(parse_one("set_owner 0 4K").memcache, kDefaultMemcache);
}

TEST(TextParse, RelaxPermsTakesProtAndSoftwareBitsInEitherOrder) {
  EXPECT_EQ(parse_one("relax_perms 0 prot=x sw=15").prot, prot::kX | prot::kSwMask);
  EXPECT_EQ(parse_one("relax_perms 0 sw=15 prot=x").prot, prot::kX | prot::kSwMask);
  EXPECT_EQ(parse_one("relax_perms 0").prot, 0u);
}

TEST(TextParse, ProtLettersInAnyOrderWithDashesAsFiller) {
  EXPECT_EQ(parse_one("map 0 4K prot=-").prot, 0u);
  EXPECT_EQ(parse_one("map 0 4K prot=---").prot, 0u);
  EXPECT_EQ(parse_one("map 0 4K prot=r-x").prot, prot::kR | prot::kX);
  EXPECT_EQ(parse_one("map 0 4K prot=dxwr").prot, prot::kAll & 0xf);
  EXPECT_EQ(parse_one("map 0 4K prot=w").prot, prot::kW);
}

TEST(TextParse, NumbersAreDecimalOrHexWithBinarySizeSuffixes) {
  EXPECT_EQ(parse_one("unmap 4096 1").addr, 4096u);
  EXPECT_EQ(parse_one("unmap 0x1000 1").addr, 0x1000u);
  EXPECT_EQ(parse_one("unmap 0XABCdef 1").addr, 0xabcdefu);
  EXPECT_EQ(parse_one("unmap 0 4K").size, 4096u);
  EXPECT_EQ(parse_one("unmap 0 4k").size, 4096u);
  EXPECT_EQ(parse_one("unmap 0 2M").size, 2u << 20);
  EXPECT_EQ(parse_one("unmap 0 2m").size, 2u << 20);
  EXPECT_EQ(parse_one("unmap 0 1G").size, 1u << 30);
  EXPECT_EQ(parse_one("unmap 0 3g").size, uint64_t{3} << 30);
  EXPECT_EQ(parse_one("unmap 0 256T").size, uint64_t{256} << 40);
  EXPECT_EQ(parse_one("unmap 0 1t").size, uint64_t{1} << 40);
  EXPECT_EQ(parse_one("unmap 0 0x10K").size, 0x10u << 10);
  EXPECT_EQ(parse_one("unmap 0 0xfg").size, uint64_t{15} << 30) << "g is the suffix, not a digit";
  EXPECT_EQ(parse_one("unmap 0 0").size, 0u);
  EXPECT_EQ(parse_one("unmap 0xffffffffffffffff 18446744073709551615").addr, ~uint64_t{0});
  EXPECT_EQ(parse_one("unmap 0 16777215T").size, uint64_t{16777215} << 40);
}

TEST(TextParse, CommentsBlankLinesTabsAndCrlfAreIgnored) {
  Stream s = parse_text(
      "# a comment line\r\n"
      "\r\n"
      "   \t  \n"
      "init ia=36   # trailing comment with map 0 4K in it\r\n"
      "\tmap\t0x1000  4K\tprot=r\r\n"
      "#destroy\n"
      "get_leaf 0x1000#no space needed",
      "t.mmu");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].config.arm64.ia_bits, 36);
  EXPECT_EQ(s[1].kind, OpKind::Map);
  EXPECT_EQ(s[1].prot, prot::kR);
  EXPECT_EQ(s[2].kind, OpKind::GetLeaf);
}

TEST(TextParse, NonAsciiTextInCommentsIsAllowed) {
  Stream s = parse_text(
      "# caf\xc3\xa9 \xe2\x86\x92 2 MiB\nmap 0 2M # bl\xc3\xb6"
      "ck\n",
      "t.mmu");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].size, 2u << 20);
}

TEST(TextParse, ALeadingUtf8ByteOrderMarkIsSkipped) {
  Stream s = parse_text("\xef\xbb\xbfinit ia=44\n", "bom.mmu");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].config.arm64.ia_bits, 44);
  EXPECT_EQ(error_of("init\n\xef\xbb\xbf"
                     "destroy\n"),
            "t.mmu:2: non-ASCII byte 0xef at column 1; is this a binary stream? ('mmudiff decode' "
            "turns one into text)")
      << "only at the very start";
}

TEST(TextParse, EmptyTextIsAnEmptyStream) {
  EXPECT_TRUE(parse_text("", "t.mmu").empty());
  EXPECT_TRUE(parse_text("# only comments\n\n", "t.mmu").empty());
}

TEST(TextParse, ExactlyTheMaximumNumberOfOperationsIsAccepted) {
  std::string text;
  for (size_t i = 0; i < kMaxStreamOps; ++i) text += "destroy\n";
  EXPECT_EQ(parse_text(text, "t.mmu").size(), kMaxStreamOps);
}

// ---------------------------------------------------------------------------------------------
// Printing.

TEST(TextFormat, EveryOperationPrintsInItsCanonicalForm) {
  Op init{.kind = OpKind::Init, .config = {}};
  init.config.arm64 = {
      .ia_bits = 33, .fwb = true, .nofwb = false, .idmap = true, .force_pte = ForcePte::Device};
  EXPECT_EQ(format_op(init), "init ia=33 fwb=1 nofwb=0 idmap=1 force_pte=device");
  EXPECT_EQ(format_op(Op{.kind = OpKind::Destroy, .config = {}}), "destroy");
  Op map{.kind = OpKind::Map,
         .addr = 0x4000'0000,
         .size = 2u << 20,
         .phys = 0x8000'0000,
         .prot = prot::kR | prot::kW | (uint64_t{3} << 55),
         .memcache = 64,
         .config = {}};
  EXPECT_EQ(format_op(map), "map 0x40000000 2M pa=0x80000000 prot=rw sw=3 mc=64");
  map.memcache = kNoMemcache;
  map.prot = 0;
  EXPECT_EQ(format_op(map), "map 0x40000000 2M pa=0x80000000 prot=- sw=0 mc=none");
  EXPECT_EQ(format_op(Op{.kind = OpKind::Unmap, .addr = 0x1000, .size = 0x1001, .config = {}}),
            "unmap 0x1000 0x1001");
  EXPECT_EQ(format_op(Op{.kind = OpKind::Wrprotect, .addr = 0, .size = 1u << 30, .config = {}}),
            "wrprotect 0x0 1G");
  EXPECT_EQ(format_op(Op{.kind = OpKind::Flush, .addr = 0x20'0000, .size = 0, .config = {}}),
            "flush 0x200000 0x0");
  EXPECT_EQ(format_op(Op{.kind = OpKind::Mkyoung, .addr = 0x5000, .config = {}}), "mkyoung 0x5000");
  EXPECT_EQ(format_op(Op{.kind = OpKind::Mkold, .addr = 0x5000, .config = {}}), "mkold 0x5000");
  EXPECT_EQ(format_op(Op{.kind = OpKind::IsYoung, .addr = 0x5000, .config = {}}),
            "is_young 0x5000");
  EXPECT_EQ(format_op(Op{.kind = OpKind::GetLeaf, .addr = 0x5000, .config = {}}),
            "get_leaf 0x5000");
  EXPECT_EQ(
      format_op(Op{.kind = OpKind::RelaxPerms, .addr = 0x5000, .prot = prot::kX, .config = {}}),
      "relax_perms 0x5000 prot=x sw=0");
  EXPECT_EQ(format_op(Op{.kind = OpKind::SetOwner,
                         .addr = 0x5000,
                         .size = 4096,
                         .memcache = 2,
                         .owner = 1,
                         .config = {}}),
            "set_owner 0x5000 4K owner=1 mc=2");
}

TEST(TextFormat, FieldsAnOperationDoesNotUseAreNotPrinted) {
  Op op{.kind = OpKind::Mkold,
        .addr = 0x1000,
        .size = 77,
        .phys = 88,
        .prot = 7,
        .memcache = 9,
        .owner = 1,
        .config = {}};
  EXPECT_EQ(format_op(op), "mkold 0x1000");
}

TEST(TextFormat, StreamIsOneOperationPerLine) {
  Stream s = {Op{.kind = OpKind::Init, .config = {}},
              Op{.kind = OpKind::Mkold, .addr = 0x1000, .config = {}},
              Op{.kind = OpKind::Destroy, .config = {}}};
  EXPECT_EQ(format_stream(s),
            "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never\nmkold 0x1000\ndestroy\n");
  EXPECT_EQ(format_stream({}), "");
}

TEST(TextFormat, SizesUseTheLargestExactSuffixBelow4096Units) {
  EXPECT_EQ(format_size(0), "0x0");
  EXPECT_EQ(format_size(1), "0x1");
  EXPECT_EQ(format_size(4096), "4K");
  EXPECT_EQ(format_size(6144), "6K");
  EXPECT_EQ(format_size(1u << 20), "1M");
  EXPECT_EQ(format_size((2u << 20) + 4096), "2052K");
  EXPECT_EQ(format_size(1u << 30), "1G");
  EXPECT_EQ(format_size(uint64_t{1} << 40), "1T");
  EXPECT_EQ(format_size(uint64_t{4095} << 40), "4095T");
  EXPECT_EQ(format_size(uint64_t{4096} << 40), "0x10000000000000");
  EXPECT_EQ(format_size(~uint64_t{0}), "0xffffffffffffffff");
  EXPECT_EQ(format_size(4095 * 1024), "4095K");
  EXPECT_EQ(format_size(4097 * 1024), "0x400400");
}

TEST(TextFormat, ProtLettersAreRwxdOrDash) {
  EXPECT_EQ(format_prot_letters(0), "-");
  EXPECT_EQ(format_prot_letters(prot::kX | prot::kR), "rx");
  EXPECT_EQ(format_prot_letters(0xf), "rwxd");
  EXPECT_EQ(format_prot_letters(prot::kSwMask), "-") << "software bits print as sw=";
}

// ---------------------------------------------------------------------------------------------
// The round trip, property-tested.

TEST(TextRoundTrip, ThousandsOfRandomStreamsParseBackToThemselves) {
  std::mt19937_64 rng(0x6d6d7564);
  size_t ops = 0;
  for (int i = 0; i < 3000; ++i) {
    Stream s = random_stream(rng);
    ops += s.size();
    std::string text = format_stream(s);
    Stream back = parse_text(text, "random.mmu");
    ASSERT_EQ(back, s) << "iteration " << i << ":\n" << text;
    ASSERT_EQ(format_stream(back), text);
  }
  EXPECT_GT(ops, 3000u * 10);
}

TEST(TextRoundTrip, FullyRandomOperationsOfEveryKindParseBackToThemselves) {
  std::mt19937_64 rng(42);
  unsigned kinds_seen[kOpKindCount] = {};
  for (int i = 0; i < 600; ++i) {
    // A third of the streams are x86's, a third arm64-6.12's: they start with an init of their
    // profile, so their operations parse.
    const ProfileId profile = ProfileId(i % kProfileCount);
    Stream s;
    if (profile != ProfileId::Arm64Linux61) s.push_back(init_op(profile_default_config(profile)));
    size_t n = 1 + rng() % 64;
    for (size_t j = 0; j < n; ++j) {
      s.push_back(random_wild_op(rng, profile));
      ++kinds_seen[static_cast<unsigned>(s.back().kind)];
    }
    std::string text = format_stream(s);
    ASSERT_EQ(parse_text(text, "wild.mmu"), s) << text;
  }
  for (unsigned k = 0; k < kOpKindCount; ++k) EXPECT_GT(kinds_seen[k], 0u) << "kind " << k;
}

TEST(TextRoundTrip, ExtremeValuesSurvive) {
  Op map{.kind = OpKind::Map,
         .addr = ~uint64_t{0},
         .size = ~uint64_t{0},
         .phys = ~uint64_t{0},
         .prot = prot::kAll,
         .memcache = kMaxMemcache,
         .config = {}};
  Op zero{
      .kind = OpKind::Map, .addr = 0, .size = 0, .phys = 0, .prot = 0, .memcache = 0, .config = {}};
  Op owner{.kind = OpKind::SetOwner,
           .addr = 1,
           .size = 1,
           .memcache = kNoMemcache,
           .owner = 255,
           .config = {}};
  Op init{.kind = OpKind::Init, .config = {}};
  init.config.arm64.ia_bits = 48;
  init.config.arm64.force_pte = ForcePte::Always;
  Stream s = {init, map, zero, owner};
  EXPECT_EQ(parse_text(format_stream(s), "x.mmu"), s);
}

TEST(TextRoundTrip, RandomStreamsAreCanonicalAndFitTheStreamLimit) {
  std::mt19937_64 rng(7);
  RandomStreamOptions big{.min_ops = kMaxStreamOps, .max_ops = kMaxStreamOps * 4};
  for (int i = 0; i < 20; ++i) {
    Stream s = random_stream(rng, big);
    ASSERT_EQ(s.size(), kMaxStreamOps);
    EXPECT_EQ(s.front().kind, OpKind::Init);
    for (const Op& op : s) ASSERT_EQ(op, canonical(op));
    EXPECT_NO_THROW(parse_text(format_stream(s), "big.mmu"));
  }
  RandomStreamOptions inverted{.min_ops = 10, .max_ops = 2};
  EXPECT_EQ(random_stream(rng, inverted).size(), 10u);
}

TEST(TextRoundTrip, RandomStreamsNeverRunAnOperationOnADestroyedTable) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 500; ++i) {
    Stream s = random_stream(rng);
    for (size_t j = 0; j + 1 < s.size(); ++j)
      if (s[j].kind == OpKind::Destroy) {
        ASSERT_EQ(s[j + 1].kind, OpKind::Init);
      }
  }
}

TEST(TextRoundTrip, RandomStreamsAreDeterministicForASeed) {
  std::mt19937_64 a(123), b(123);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(random_stream(a), random_stream(b));
}

// ---------------------------------------------------------------------------------------------
// Malformed input: every class, the exact error line.

TEST(TextErrors, UnknownOperation) {
  EXPECT_EQ(error_of("mapp 0 4K"),
            "t.mmu:1: unknown operation 'mapp'; the operations are init, destroy, map, unmap, "
            "wrprotect, mkyoung, mkold, is_young, relax_perms, flush, set_owner, get_leaf");
  EXPECT_EQ(error_of("MAP 0 4K"),
            "t.mmu:1: unknown operation 'MAP'; the operations are init, destroy, map, unmap, "
            "wrprotect, mkyoung, mkold, is_young, relax_perms, flush, set_owner, get_leaf");
}

TEST(TextErrors, MissingPositionalValue) {
  EXPECT_EQ(error_of("map 0x1000"), "t.mmu:1: map is missing SIZE: " + kMapUsage);
  EXPECT_EQ(error_of("map"), "t.mmu:1: map is missing ADDR: " + kMapUsage);
  EXPECT_EQ(error_of("unmap"), "t.mmu:1: unmap is missing ADDR: unmap ADDR SIZE");
  EXPECT_EQ(error_of("get_leaf"), "t.mmu:1: get_leaf is missing ADDR: get_leaf ADDR");
  EXPECT_EQ(error_of("set_owner 0x1000 owner=1"),
            "t.mmu:1: set_owner is missing SIZE: set_owner ADDR SIZE [owner=0..255] "
            "[mc=0..4096|none]");
  EXPECT_EQ(error_of("relax_perms prot=r"),
            "t.mmu:1: relax_perms is missing ADDR: relax_perms ADDR [prot=rwxd] [sw=0..15]");
}

TEST(TextErrors, ExtraPositionalValue) {
  EXPECT_EQ(error_of("mkold 0x1000 4K"), "t.mmu:1: unexpected value '4K': mkold ADDR");
  EXPECT_EQ(error_of("destroy now"), "t.mmu:1: unexpected value 'now': destroy");
  EXPECT_EQ(error_of("init 40"),
            "t.mmu:1: unexpected value '40': init [ia=32..48] [fwb=0|1] [nofwb=0|1] [idmap=0|1] "
            "[force_pte=never|always|device] [kernel=6.1|6.12] [tlb_range=0|1] [lpa2=0|1]");
  EXPECT_EQ(error_of("map 0 4K 0x80000000"),
            "t.mmu:1: unexpected value '0x80000000': " + kMapUsage);
}

TEST(TextErrors, KeyBeforePositional) {
  EXPECT_EQ(error_of("map pa=0 0x1000 4K"),
            "t.mmu:1: '0x1000' comes after the key=value operand 'pa=0'; positional values come "
            "first: " +
                kMapUsage);
  EXPECT_EQ(error_of("map 0x1000 pa=0 4K"),
            "t.mmu:1: '4K' comes after the key=value operand 'pa=0'; positional values come "
            "first: " +
                kMapUsage);
}

TEST(TextErrors, BadNumber) {
  const std::string hint =
      " is not a number (decimal or 0x hex, optionally with a K, M, G or T "
      "suffix)";
  EXPECT_EQ(error_of("map 0x1000 4Q"), "t.mmu:1: size '4Q'" + hint);
  EXPECT_EQ(error_of("map zero 4K"), "t.mmu:1: address 'zero'" + hint);
  EXPECT_EQ(error_of("map 0x 4K"), "t.mmu:1: address '0x'" + hint);
  EXPECT_EQ(error_of("map -1 4K"), "t.mmu:1: address '-1'" + hint);
  EXPECT_EQ(error_of("map +1 4K"), "t.mmu:1: address '+1'" + hint);
  EXPECT_EQ(error_of("map 0 K"), "t.mmu:1: size 'K'" + hint);
  EXPECT_EQ(error_of("map 0 4KK"), "t.mmu:1: size '4KK'" + hint);
  EXPECT_EQ(error_of("map 0 4K pa=0xfz"), "t.mmu:1: pa '0xfz'" + hint);
  EXPECT_EQ(error_of("map 0 4K mc=-1"), "t.mmu:1: mc '-1'" + hint);
  EXPECT_EQ(error_of("init ia=forty"), "t.mmu:1: ia 'forty'" + hint);
  EXPECT_EQ(error_of("set_owner 0 4K owner=one"), "t.mmu:1: owner 'one'" + hint);
  EXPECT_EQ(error_of("map 0 4K sw=x"), "t.mmu:1: sw 'x'" + hint);
}

TEST(TextErrors, NumberOverflow) {
  EXPECT_EQ(error_of("unmap 0x10000000000000000 4K"),
            "t.mmu:1: address '0x10000000000000000' does not fit in 64 bits");
  EXPECT_EQ(error_of("unmap 18446744073709551616 4K"),
            "t.mmu:1: address '18446744073709551616' does not fit in 64 bits");
  EXPECT_EQ(error_of("unmap 0 16777216T"), "t.mmu:1: size '16777216T' does not fit in 64 bits");
  EXPECT_EQ(error_of("unmap 0 0x40000000000000K"),
            "t.mmu:1: size '0x40000000000000K' does not fit in 64 bits");
  EXPECT_EQ(error_of("init ia=99999999999999999999"),
            "t.mmu:1: ia '99999999999999999999' does not fit in 64 bits");
}

TEST(TextErrors, OutOfRangeIaMemcacheOwnerAndSoftwareBits) {
  EXPECT_EQ(error_of("init ia=31"), "t.mmu:1: ia 31 is out of range 32..48");
  EXPECT_EQ(error_of("init ia=49"), "t.mmu:1: ia 49 is out of range 32..48");
  EXPECT_EQ(error_of("init ia=0x100"), "t.mmu:1: ia 0x100 is out of range 32..48");
  EXPECT_EQ(error_of("map 0 4K mc=4097"), "t.mmu:1: mc 4097 is out of range 0..4096");
  EXPECT_EQ(error_of("set_owner 0 4K mc=5K"), "t.mmu:1: mc 5K is out of range 0..4096");
  EXPECT_EQ(error_of("set_owner 0 4K owner=256"), "t.mmu:1: owner 256 is out of range 0..255");
  EXPECT_EQ(error_of("map 0 4K sw=16"), "t.mmu:1: sw 16 is out of range 0..15");
  EXPECT_EQ(error_of("relax_perms 0 sw=0x10"), "t.mmu:1: sw 0x10 is out of range 0..15");
}

TEST(TextErrors, BadFlagAndForcePteValues) {
  EXPECT_EQ(error_of("init fwb=2"), "t.mmu:1: fwb must be 0 or 1, not '2'");
  EXPECT_EQ(error_of("init nofwb=on"), "t.mmu:1: nofwb must be 0 or 1, not 'on'");
  EXPECT_EQ(error_of("init idmap=Y"), "t.mmu:1: idmap must be 0 or 1, not 'Y'");
  EXPECT_EQ(error_of("init force_pte=sometimes"),
            "t.mmu:1: force_pte must be never, always or device, not 'sometimes'");
}

TEST(TextErrors, BadProtLetter) {
  EXPECT_EQ(error_of("map 0 4K prot=rwz"),
            "t.mmu:1: prot 'rwz' has 'z'; use the letters r, w, x, d, n or -");
  EXPECT_EQ(error_of("map 0 4K prot=RW"),
            "t.mmu:1: prot 'RW' has 'R'; use the letters r, w, x, d, n or -");
  EXPECT_EQ(error_of("relax_perms 0 prot=0x7"),
            "t.mmu:1: prot '0x7' has '0'; use the letters r, w, x, d, n or -");
  EXPECT_EQ(error_of("map 0 4K prot=rwr"), "t.mmu:1: prot 'rwr' repeats 'r'");
}

TEST(TextErrors, RepeatedKey) {
  EXPECT_EQ(error_of("map 0 4K pa=0 pa=0x1000"), "t.mmu:1: 'pa' is given twice");
  EXPECT_EQ(error_of("init ia=40 fwb=1 ia=40"), "t.mmu:1: 'ia' is given twice");
  EXPECT_EQ(error_of("map 0 4K prot=r prot=w"), "t.mmu:1: 'prot' is given twice");
}

TEST(TextErrors, UnknownKeyListsTheOperandsTheOperationTakes) {
  EXPECT_EQ(error_of("unmap 0 4K pa=0"), "t.mmu:1: unmap has no operand 'pa': unmap ADDR SIZE");
  EXPECT_EQ(error_of("map 0 4K owner=1"), "t.mmu:1: map has no operand 'owner': " + kMapUsage);
  EXPECT_EQ(error_of("set_owner 0 4K prot=r"),
            "t.mmu:1: set_owner has no operand 'prot': set_owner ADDR SIZE [owner=0..255] "
            "[mc=0..4096|none]");
  EXPECT_EQ(
      error_of("init ia=40 size=4K"),
      "t.mmu:1: init has no operand 'size': init [ia=32..48] [fwb=0|1] [nofwb=0|1] "
      "[idmap=0|1] [force_pte=never|always|device] [kernel=6.1|6.12] [tlb_range=0|1] [lpa2=0|1]");
  EXPECT_EQ(error_of("destroy all=1"), "t.mmu:1: destroy has no operand 'all': destroy");
  EXPECT_EQ(error_of("map 0 4K PA=0"), "t.mmu:1: map has no operand 'PA': " + kMapUsage);
}

TEST(TextErrors, EmptyValueOrEmptyKey) {
  EXPECT_EQ(error_of("map 0 4K prot="), "t.mmu:1: 'prot' has no value after '='");
  EXPECT_EQ(error_of("init ia="), "t.mmu:1: 'ia' has no value after '='");
  EXPECT_EQ(error_of("map 0 4K =5"), "t.mmu:1: '=5' has no key before '='");
  EXPECT_EQ(error_of("map 0 4K ="), "t.mmu:1: '=' has no key before '='");
}

TEST(TextErrors, ControlCharactersAndBinaryData) {
  const std::string hint = "; is this a binary stream? ('mmudiff decode' turns one into text)";
  EXPECT_EQ(error_of(std::string("map 0 4K\x01", 9)),
            "t.mmu:1: control character 0x01 at column 9" + hint);
  EXPECT_EQ(error_of(std::string("init\nmap 0\0 4K\n", 15)),
            "t.mmu:2: control character 0x00 at column 6" + hint);
  EXPECT_EQ(error_of("destroy\x7f"), "t.mmu:1: control character 0x7f at column 8" + hint);
  EXPECT_EQ(error_of("# a comment with a bell \a\n"),
            "t.mmu:1: control character 0x07 at column 25" + hint)
      << "control characters are refused in comments too";
  EXPECT_EQ(error_of("map 0 4K\xff"), "t.mmu:1: non-ASCII byte 0xff at column 9" + hint);
  EXPECT_EQ(error_of("\x82\x10\x80\x80"), "t.mmu:1: non-ASCII byte 0x82 at column 1" + hint);
  // A real binary stream: the encoding of "map 0x1000 4K pa=0 prot=rw mc=64".
  EXPECT_EQ(error_of(std::string("\x02\x80\x20\x80\x20\x00\x06\x41", 8)),
            "t.mmu:1: control character 0x02 at column 1" + hint);
}

TEST(TextErrors, TooManyOperations) {
  std::string text = "# header\n";
  for (size_t i = 0; i <= kMaxStreamOps; ++i) text += "mkold 0x1000\n";
  EXPECT_EQ(error_of(text), "t.mmu:1026: more than 1024 operations; split the stream");
}

TEST(TextErrors, LineNumbersCountEveryLineAndTheFileNameIsKeptAsGiven) {
  EXPECT_EQ(error_of("init\n# comment\n\nmap 0 4K\r\nunmap 0\n", "corpus/seeds/x.mmu"),
            "corpus/seeds/x.mmu:5: unmap is missing SIZE: unmap ADDR SIZE");
  EXPECT_EQ(error_of("init\nbogus\nalso bogus\n"),
            "t.mmu:2: unknown operation 'bogus'; the operations are init, destroy, map, unmap, "
            "wrprotect, mkyoung, mkold, is_young, relax_perms, flush, set_owner, get_leaf")
      << "the first bad line is the one reported";
  EXPECT_EQ(error_of("init\nmap 0 4K prot=q"),
            "t.mmu:2: prot 'q' has 'q'; use the letters r, w, x, d, n or -")
      << "a last line without a newline still counts";
}

TEST(TextErrors, MutatedTextEitherParsesOrNamesTheFirstBadLine) {
  // Random edits of valid streams: whatever comes out is a stream that prints back to itself,
  // or one InputError line "mut.mmu:N: ..." whose N is a line of the input.
  std::mt19937_64 rng(0xed17);
  const std::string alphabet = "0123456789abcdefxKMGT =#-\t\nrwdmapinitsunoe_\x01\xff";
  size_t errors = 0, parsed = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string text = format_stream(random_stream(rng, {.min_ops = 1, .max_ops = 8}));
    for (int e = 0, edits = 1 + static_cast<int>(rng() % 2); e < edits; ++e) {
      size_t at = rng() % (text.size() + 1);
      switch (rng() % 3) {
        case 0:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 1:
          if (at < text.size()) text.erase(at, 1);
          break;
        default:
          if (at < text.size()) text[at] = alphabet[rng() % alphabet.size()];
          break;
      }
    }
    size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    try {
      Stream s = parse_text(text, "mut.mmu");
      ++parsed;
      ASSERT_EQ(parse_text(format_stream(s), "again.mmu"), s) << text;
    } catch (const InputError& err) {
      ++errors;
      std::string what = err.what();
      ASSERT_EQ(what.rfind("mut.mmu:", 0), 0u) << what;
      size_t line = std::stoul(what.substr(8));
      ASSERT_GE(line, 1u);
      ASSERT_LE(line, lines) << what;
      ASSERT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
  EXPECT_GT(errors, 100u);
  EXPECT_GT(parsed, 50u);
}

TEST(TextErrors, InputErrorIsARuntimeErrorWithOneLine) {
  try {
    parse_text("bogus", "f.mmu");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos);
    EXPECT_EQ(what.rfind("f.mmu:1: ", 0), 0u);
  }
}

// ---------------------------------------------------------------------------------------------
// The seed corpus.

std::vector<std::filesystem::path> seed_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::path(MMUDIFF_SOURCE_DIR) / "corpus" / "seeds"))
    if (entry.path().extension() == ".mmu") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Hand-written seeds plus the z3-*.mmu boundary seeds `mmudiff prove --emit-seeds` generates: a
// handful for each profile (arm64-6.12 has few of its own: its campaigns also take arm64-6.1's,
// moved into 6.12), each saying what it is for.
TEST(Seeds, EachProfileHasAHandfulAndEachOpensWithACommentSayingWhatItExercises) {
  auto files = seed_files();
  size_t per_profile[kProfileCount] = {};
  for (const auto& f : files) {
    std::string text = slurp(f);
    ++per_profile[static_cast<size_t>(stream_profile(parse_text(text, f.string())))];
    ASSERT_FALSE(text.empty()) << f;
    EXPECT_EQ(text.rfind("# ", 0), 0u) << f << " must open with a '# ' comment";
    EXPECT_GT(text.find('\n'), 12u) << f << ": the comment should say something";
  }
  for (ProfileId id : {ProfileId::Arm64Linux61, ProfileId::Arm64Linux612, ProfileId::X86Ept}) {
    const size_t n = per_profile[static_cast<size_t>(id)];
    EXPECT_GE(n, id == ProfileId::Arm64Linux612 ? 1u : 3u) << profile_name(id);
    EXPECT_LE(n, 16u) << profile_name(id);
  }
}

TEST(Seeds, EveryOneParsesStartsWithInitAndRoundTrips) {
  for (const auto& f : seed_files()) {
    SCOPED_TRACE(f.string());
    Stream s;
    ASSERT_NO_THROW(s = parse_text(slurp(f), f.string()));
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(s.front().kind, OpKind::Init);
    EXPECT_EQ(parse_text(format_stream(s), "again.mmu"), s);
  }
}

TEST(Seeds, TogetherTheyUseEveryOperation) {
  bool used[kOpKindCount] = {};
  for (const auto& f : seed_files())
    for (const Op& op : parse_text(slurp(f), f.string()))
      used[static_cast<unsigned>(op.kind)] = true;
  for (unsigned k = 0; k < kOpKindCount; ++k)
    EXPECT_TRUE(used[k]) << op_kind_name(static_cast<OpKind>(k)) << " is in no seed";
}

}  // namespace
}  // namespace mmudiff
