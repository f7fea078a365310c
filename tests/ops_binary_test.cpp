// SPDX-License-Identifier: GPL-2.0-only
// The compact binary form the fuzzers use: the byte layout documented in binary_format.h, the
// lossless round trip with operation values and with the text form (property-tested over
// thousands of streams), and the promise that any byte string at all decodes, without crashing,
// to a bounded stream that re-encodes to itself.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "mmu/format/arm64_s2.h"
#include "mmu/ops/binary_format.h"
#include "mmu/ops/op.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "mmu/x86/fault_flags.h"

namespace mmudiff {
namespace {

namespace prot = arm64s2::prot;
using Bytes = std::vector<uint8_t>;

Bytes encode_one(const Op& op) {
  Bytes out;
  encode_op(op, &out);
  return out;
}

Stream decode(const Bytes& bytes) {
  return decode_binary(bytes);
}

// Everything a decoded operation is promised to be: a known kind, canonical, in the domain the
// text form can print.
void expect_in_domain(const Op& op) {
  EXPECT_LT(static_cast<unsigned>(op.kind), kOpKindCount);
  EXPECT_EQ(op, canonical(op));
  if (op_arch(op.kind) == Arch::X86Ept) {
    if (op.kind == OpKind::Fault) {
      EXPECT_EQ(op.prot & ~x86::kFaultFlagsMask, 0u);
    }
    if (op_shape(op.kind).level) {
      EXPECT_TRUE(op.level >= 1 && op.level <= 3);
    }
  } else if (op.kind != OpKind::Init) {
    // NORMAL_NC only in a 6.12 map (its byte after the operands).
    EXPECT_EQ(op.prot & ~(prot::kAll | (op.kind == OpKind::Map ? prot::kNormalNc : 0)), 0u);
  }
  EXPECT_EQ(op.walk_flags & ~walk_flag::kAll, 0u);
  EXPECT_TRUE(op.memcache == kNoMemcache || (op.memcache >= 0 && op.memcache <= kMaxMemcache));
  EXPECT_TRUE(arm64s2::valid_ia_bits(op.config.arm64.ia_bits));
  EXPECT_LE(static_cast<unsigned>(op.config.arm64.force_pte), 2u);
}

// ---------------------------------------------------------------------------------------------
// The layout, byte by byte.

TEST(BinaryLayout, MapIsKindThenLeb128AddrSizePhysThenProtByteThenMemcachePlusOne) {
  Op map{.kind = OpKind::Map,
         .addr = 0x4000'0000,
         .size = 2u << 20,
         .phys = 0x8000'0000,
         .prot = prot::kR | prot::kW | prot::kX | (uint64_t{0xa} << 55),
         .memcache = 64,
         .config = {}};
  EXPECT_EQ(encode_one(map), (Bytes{0x02,                          // kind
                                    0x80, 0x80, 0x80, 0x80, 0x04,  // 2^30
                                    0x80, 0x80, 0x80, 0x01,        // 2^21
                                    0x80, 0x80, 0x80, 0x80, 0x08,  // 2^31
                                    0xa7,                          // sw 0xa, rwx
                                    0x41}));                       // 64 + 1
}

TEST(BinaryLayout, InitIsKindThenIaMinus32ThenFlags) {
  Op init{.kind = OpKind::Init, .config = {}};
  init.config.arm64 = {
      .ia_bits = 40, .fwb = true, .nofwb = false, .idmap = true, .force_pte = ForcePte::Device};
  EXPECT_EQ(encode_one(init), (Bytes{0x00, 0x08, 0x15}));  // fwb | idmap << 2 | device << 3
  init.config.arm64 = {
      .ia_bits = 48, .fwb = false, .nofwb = true, .idmap = false, .force_pte = ForcePte::Always};
  EXPECT_EQ(encode_one(init), (Bytes{0x00, 0x10, 0x0a}));
  EXPECT_EQ(encode_one(Op{.kind = OpKind::Init, .config = {}}), (Bytes{0x00, 0x08, 0x00}));
}

TEST(BinaryLayout, SetOwnerPutsTheMemcacheBeforeTheOwnerByte) {
  Op op{.kind = OpKind::SetOwner,
        .addr = 0x1000,
        .size = 0x1000,
        .memcache = kNoMemcache,
        .owner = 1,
        .config = {}};
  EXPECT_EQ(encode_one(op), (Bytes{0x0a, 0x80, 0x20, 0x80, 0x20, 0x00, 0x01}));
}

TEST(BinaryLayout, SmallOperationsAreOneOrTwoBytes) {
  EXPECT_EQ(encode_one(Op{.kind = OpKind::Destroy, .config = {}}), (Bytes{0x01}));
  EXPECT_EQ(encode_one(Op{.kind = OpKind::Mkold, .addr = 0, .config = {}}), (Bytes{0x06, 0x00}));
  EXPECT_EQ(encode_one(Op{.kind = OpKind::GetLeaf, .addr = 0x7f, .config = {}}),
            (Bytes{0x0b, 0x7f}));
  EXPECT_EQ(encode_one(Op{.kind = OpKind::IsYoung, .addr = 0x80, .config = {}}),
            (Bytes{0x07, 0x80, 0x01}));
  EXPECT_EQ(encode_one(Op{.kind = OpKind::RelaxPerms, .addr = 1, .prot = prot::kW, .config = {}}),
            (Bytes{0x08, 0x01, 0x02}));
  EXPECT_EQ(encode_one(Op{.kind = OpKind::Flush, .addr = 1, .size = 2, .config = {}}),
            (Bytes{0x09, 1, 2}));
}

TEST(BinaryLayout, TheLargestAddressTakesTenBytes) {
  Bytes b = encode_one(Op{.kind = OpKind::Mkyoung, .addr = ~uint64_t{0}, .config = {}});
  EXPECT_EQ(b, (Bytes{0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

TEST(BinaryLayout, FieldsAnOperationDoesNotUseAreNotEncoded) {
  Op op{.kind = OpKind::Unmap,
        .addr = 5,
        .size = 6,
        .phys = 7,
        .prot = 7,
        .memcache = 9,
        .owner = 3,
        .config = {}};
  EXPECT_EQ(encode_one(op), (Bytes{0x03, 5, 6}));
}

// ---------------------------------------------------------------------------------------------
// Decoding arbitrary bytes.

TEST(BinaryDecode, KindIsTheFirstByteModuloSixteenWithUnusedCodesFolded) {
  EXPECT_EQ(decode({16, 0x08, 0x00})[0].kind, OpKind::Init);
  EXPECT_EQ(decode({17})[0].kind, OpKind::Destroy);
  EXPECT_EQ(decode({0x1b, 0})[0].kind, OpKind::GetLeaf);  // 27 % 16 = 11
  // Codes 12-15 are reserved for new kinds; until then they read as kinds 2-5.
  EXPECT_EQ(decode({12, 0, 0, 0, 0, 0})[0].kind, OpKind::Map);
  EXPECT_EQ(decode({13, 0, 0})[0].kind, OpKind::Unmap);
  EXPECT_EQ(decode({14, 0, 0})[0].kind, OpKind::Wrprotect);
  EXPECT_EQ(decode({255, 0})[0].kind, OpKind::Mkyoung);  // 255 % 16 = 15
  EXPECT_EQ(encode_binary(decode({255, 0})), (Bytes{5, 0})) << "re-encodes as the kind itself";
}

TEST(BinaryDecode, IaIsThirtyTwoPlusTheByteModuloSeventeen) {
  EXPECT_EQ(decode({0, 0, 0})[0].config.arm64.ia_bits, 32);
  EXPECT_EQ(decode({0, 16, 0})[0].config.arm64.ia_bits, 48);
  EXPECT_EQ(decode({0, 17, 0})[0].config.arm64.ia_bits, 32);
  EXPECT_EQ(decode({0, 255, 0})[0].config.arm64.ia_bits, 32);  // 255 = 15 * 17
  EXPECT_EQ(decode({0, 254, 0})[0].config.arm64.ia_bits, 48);
}

TEST(BinaryDecode, ConfigFlagBitsAndForcePteThreeReadsAsNever) {
  Arm64S2Config c = decode({0, 8, 0x07})[0].config.arm64;
  EXPECT_TRUE(c.fwb && c.nofwb && c.idmap);
  EXPECT_EQ(c.force_pte, ForcePte::Never);
  EXPECT_EQ(decode({0, 8, 0x08})[0].config.arm64.force_pte, ForcePte::Always);
  EXPECT_EQ(decode({0, 8, 0x10})[0].config.arm64.force_pte, ForcePte::Device);
  EXPECT_EQ(decode({0, 8, 0x18})[0].config.arm64.force_pte, ForcePte::Never);
  EXPECT_EQ(decode({0, 8, 0x80})[0].config, Config{}) << "bit 7 is ignored";
}

// Bit 6 of the first init puts the stream in profile arm64-6.12, and later inits stay in it
// whatever their own bit 6 says.
TEST(BinaryDecode, Bit6OfTheFirstInitMakesTheStreamLinux612) {
  Stream s = decode({0, 8, 0x40, 0, 8, 0x00});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(stream_profile(s), ProfileId::Arm64Linux612);
  EXPECT_EQ(s[1].config.arm64.kernel, Arm64Kernel::Linux612);
  Stream t = decode({0, 8, 0x00, 0, 8, 0x40});
  EXPECT_EQ(t[1].config.arm64.kernel, Arm64Kernel::Linux61);
  EXPECT_EQ(encode_binary(s)[2], 0x40);
  EXPECT_EQ(decode_binary(encode_binary(s)), s);
}

// Bit 7 of an arm64 init's flags: FEAT_TLBIRANGE, honoured in arm64-6.12 streams only.
TEST(BinaryDecode, Bit7IsTlbRangeIn612StreamsOnly) {
  Stream s = decode({0, 8, 0xc1, 0, 8, 0x80, 0, 8, 0x00});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_TRUE(s[0].config.arm64.tlb_range);
  EXPECT_TRUE(s[0].config.arm64.fwb);
  EXPECT_TRUE(s[1].config.arm64.tlb_range);  // a later init says it again
  EXPECT_FALSE(s[2].config.arm64.tlb_range);
  EXPECT_EQ(encode_binary(s)[2], 0xc1);
  EXPECT_EQ(encode_binary(s)[5], 0xc0);
  EXPECT_EQ(decode_binary(encode_binary(s)), s);
  // In a 6.1 stream the bit means nothing, first init or later.
  Stream t = decode({0, 8, 0x81, 0, 8, 0x80});
  ASSERT_EQ(t.size(), 2u);
  EXPECT_FALSE(t[0].config.arm64.tlb_range);
  EXPECT_FALSE(t[1].config.arm64.tlb_range);
  EXPECT_EQ(t[0].config.arm64.kernel, Arm64Kernel::Linux61);
}

// Every arm64-6.1 input decodes as it did before bit 7 had a meaning: the same operations as
// with bit 7 cleared in every init's flags byte, and a 6.1 config never has tlb_range.
TEST(BinaryDecode, Arm64Linux61InputsDecodeAsBeforeBit7) {
  std::mt19937_64 rng(7);
  for (int n = 0; n < 2000; ++n) {
    Stream s = random_stream(rng, RandomStreamOptions{});
    std::vector<uint8_t> bytes = encode_binary(s);
    // Set bit 7 in the flags byte of every init, as an old input may have had it.
    std::vector<uint8_t> with_bit7 = bytes;
    size_t offset = 0;
    Op op;
    while (decode_op(with_bit7, &offset, &op, ProfileId::Arm64Linux61)) {
      if (op.kind == OpKind::Init) with_bit7[offset - 1] |= 0x80;
    }
    Stream decoded = decode_binary(with_bit7);
    ASSERT_EQ(decoded, s) << n;
    for (const Op& o : decoded) ASSERT_FALSE(o.config.arm64.tlb_range);
  }
}

// Bit 7 of an arm64-6.12 init's IA byte: FEAT_LPA2, the IA then from the other seven bits.
TEST(BinaryDecode, Bit7OfTheIaByteIsLpa2In612StreamsOnly) {
  Stream s = decode({0, 0x88, 0x40, 0, 0x08, 0xc0});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_TRUE(s[0].config.arm64.lpa2);
  EXPECT_EQ(s[0].config.arm64.ia_bits, 40);
  EXPECT_EQ(s[0].config.arm64.pa_bits(), 52u);
  EXPECT_FALSE(s[1].config.arm64.lpa2);  // a later init says it again, or not
  EXPECT_TRUE(s[1].config.arm64.tlb_range);
  EXPECT_EQ(s[1].config.arm64.ia_bits, 40);
  EXPECT_EQ(encode_binary(s)[1], 0x88);
  EXPECT_EQ(encode_binary(s)[4], 0x08);
  EXPECT_EQ(decode_binary(encode_binary(s)), s);
  // In a 6.1 stream the whole byte is the IA, as it always was: 32 + 0x88 % 17 = 32.
  Stream t = decode({0, 0x88, 0x00, 0, 0x88, 0x00});
  ASSERT_EQ(t.size(), 2u);
  for (const Op& op : t) {
    EXPECT_FALSE(op.config.arm64.lpa2);
    EXPECT_EQ(op.config.arm64.ia_bits, 32);
  }
}

// Every arm64-6.1 input decodes as it did before bit 7 of the IA byte meant LPA2 in 6.12 streams:
// the IA is still 32 + the whole byte % 17, and a 6.1 config never has lpa2.
TEST(BinaryDecode, Arm64Linux61InputsDecodeAsBeforeTheLpa2Bit) {
  std::mt19937_64 rng(11);
  for (int n = 0; n < 2000; ++n) {
    Stream s = random_stream(rng, RandomStreamOptions{});
    std::vector<uint8_t> bytes = encode_binary(s);
    Stream expected = s;
    size_t offset = 0, i = 0;
    Op op;
    while (decode_op(bytes, &offset, &op, ProfileId::Arm64Linux61)) {
      if (op.kind == OpKind::Init) {
        // The IA byte is the one before the flags byte, the init's last.
        uint8_t& ia = bytes[offset - 2];
        ia |= 0x80;
        expected[i].config.arm64.ia_bits = static_cast<uint8_t>(32 + ia % 17);
      }
      ++i;
    }
    Stream decoded = decode_binary(bytes);
    ASSERT_EQ(decoded, expected) << n;
    for (const Op& o : decoded) ASSERT_FALSE(o.config.arm64.lpa2);
  }
}

TEST(BinaryDecode, Bit5OfTheFirstInitMakesTheStreamX86) {
  // maxphyaddr 36 + 10, 5 levels, A/D, execute-only; max_level 2, host_level 3; slot at 1G, 2G
  // long; host memory from 1G + 5 (the 5 dropped); no host MMIO; then a fault (code 2) at
  // 0x1000 with write, level 1 + 2.
  Stream s = decode({0,    10,   0x20 | 0x07, 0x01 | 0x08, 0x80, 0x80, 0x80, 0x80, 0x04,
                     0x80, 0x80, 0x80,        0x80,        0x08, 0x85, 0x80, 0x80, 0x80,
                     0x04, 0x00, 2,           0x80,        0x20, 0x01, 0x02});
  ASSERT_EQ(s.size(), 2u);
  const x86::EptConfig& c = s[0].config.x86;
  EXPECT_EQ(s[0].config.arch, Arch::X86Ept);
  EXPECT_EQ(c.maxphyaddr, 46);
  EXPECT_EQ(c.levels, 5);
  EXPECT_TRUE(c.ad && c.execonly && !c.nx_huge_pages);
  EXPECT_EQ(c.max_level, 2);
  EXPECT_EQ(c.host_level, 3);
  EXPECT_EQ(c.slot_base, uint64_t{1} << 30);
  EXPECT_EQ(c.slot_size, uint64_t{2} << 30);
  EXPECT_EQ(c.host_base, uint64_t{1} << 30);
  EXPECT_EQ(s[1].kind, OpKind::Fault);
  EXPECT_EQ(s[1].addr, 0x1000u);
  EXPECT_EQ(s[1].prot, x86::kFaultWrite);
  EXPECT_EQ(s[1].level, 3);
  EXPECT_EQ(encode_binary(s), encode_binary(decode(encode_binary(s))));
  // In an arm64 stream code 2 is map; in an x86 one it is fault.
  EXPECT_EQ(kind_from_code(2, Arch::Arm64S2), OpKind::Map);
  EXPECT_EQ(kind_from_code(2, Arch::X86Ept), OpKind::Fault);
  EXPECT_EQ(kind_from_code(12, Arch::X86Ept), OpKind::WrprotGfn);
  EXPECT_EQ(kind_from_code(13, Arch::X86Ept), OpKind::Fault) << "folds past the last";
}

// Split took code 12 in arm64-6.12 streams only: an arm64-6.1 byte string decodes exactly as it did
// before split existed (code 12 folds onto map, 13 onto unmap, 15 onto mkyoung), and the same
// bytes after a 6.12 init are a split.
TEST(BinaryDecode, Arm64_61DecodingIsUnchangedBySplit) {
  // init ia=40 (b0 8) flags 0; code 12 addr 0x1000 size 0x2000 phys 0x3000 prot rw- mc 2;
  // code 13 addr 0x1000 size 0x1000; code 15 addr 0x5000; code 28 (12 + 16) likewise a map.
  const Bytes bytes = {0,    8,    0,    12, 0x80, 0x20, 0x80, 0x40, 0x80, 0x60, 0x06, 3, 13, 0x80,
                       0x20, 0x80, 0x20, 15, 0x80, 0xa0, 0x01, 28,   0,    0,    0,    0, 0};
  Stream s = decode(bytes);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0], init_op());
  EXPECT_EQ(s[1], (Op{.kind = OpKind::Map,
                      .addr = 0x1000,
                      .size = 0x2000,
                      .phys = 0x3000,
                      .prot = prot::kR | prot::kW,
                      .memcache = 2,
                      .config = {}}));
  EXPECT_EQ(s[2], (Op{.kind = OpKind::Unmap, .addr = 0x1000, .size = 0x1000, .config = {}}));
  EXPECT_EQ(s[3], (Op{.kind = OpKind::Mkyoung, .addr = 0x5000, .config = {}}));
  EXPECT_EQ(s[4], (Op{.kind = OpKind::Map, .memcache = kNoMemcache, .config = {}}));
  EXPECT_EQ(format_stream(s),
            "init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never\n"
            "map 0x1000 8K pa=0x3000 prot=rw sw=0 mc=2\n"
            "unmap 0x1000 4K\n"
            "mkyoung 0x5000\n"
            "map 0x0 0x0 pa=0x0 prot=- sw=0 mc=none\n");
  for (unsigned code = 0; code < 256; ++code)
    EXPECT_NE(kind_from_code(static_cast<uint8_t>(code), ProfileId::Arm64Linux61),
              OpKind::Arm64Split);
  // The same codes in a 6.12 stream (flags bit 6): 12 is split (addr, size, memcache), 13
  // test_clear_young (addr, size, mkold byte), 32 + 2 a map with its 6.12 byte (14 and 15 are the
  // unlinked tables', UnlinkedTablesTakeCodes14And15In612StreamsOnly; bit 4 would put the map on
  // a vCPU, tests/concurrent_streams_test.cpp).
  Bytes b612 = {0,    8,    0x40, 12,   0x80, 0x20, 0x80, 0x40, 3, 13, 0x80,
                0x20, 0x80, 0x40, 0xff, 34,   0,    0,    0,    0, 0,  0x07};
  Stream t = decode(b612);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].config.arm64.kernel, Arm64Kernel::Linux612);
  EXPECT_EQ(t[1], (Op{.kind = OpKind::Arm64Split,
                      .addr = 0x1000,
                      .size = 0x2000,
                      .memcache = 2,
                      .config = {}}));
  EXPECT_EQ(t[2], (Op{.kind = OpKind::Arm64TestClearYoung,
                      .addr = 0x1000,
                      .size = 0x2000,
                      .mkold = true,
                      .config = {}}));
  EXPECT_EQ(t[3], (Op{.kind = OpKind::Map,
                      .prot = prot::kNormalNc,
                      .memcache = kNoMemcache,
                      .walk_flags = walk_flag::kShared | walk_flag::kHandleFault,
                      .config = {}}));
  EXPECT_EQ(decode(encode_binary(t)), t);
  for (unsigned code = 0; code < 256; ++code) {
    const OpKind k = kind_from_code(static_cast<uint8_t>(code), ProfileId::Arm64Linux61);
    EXPECT_NE(k, OpKind::Arm64TestClearYoung);
    EXPECT_EQ(kind_from_code(static_cast<uint8_t>(code), ProfileId::Arm64Linux612),
              code % 16 == 12   ? OpKind::Arm64Split
              : code % 16 == 13 ? OpKind::Arm64TestClearYoung
              : code % 16 == 14 ? OpKind::CreateUnlinked
              : code % 16 == 15 ? OpKind::FreeUnlinked
                                : k)
        << "code " << code;
  }
  // A split's memcache "none" (0) reads as an empty cache.
  EXPECT_EQ(decode({0, 8, 0x40, 12, 0, 0, 0})[1].memcache, 0);
}

// Codes 14 and 15 are create_unlinked and free_unlinked in arm64-6.12 streams only: arm64-6.1
// streams fold them onto wrprotect and mkyoung as ever, x86 streams decode them as before.
TEST(BinaryDecode, UnlinkedTablesTakeCodes14And15In612StreamsOnly) {
  for (unsigned code = 0; code < 256; ++code) {
    const OpKind k61 = kind_from_code(static_cast<uint8_t>(code), ProfileId::Arm64Linux61);
    const OpKind kx86 = kind_from_code(static_cast<uint8_t>(code), ProfileId::X86Ept);
    for (OpKind k : {k61, kx86})
      EXPECT_TRUE(k != OpKind::CreateUnlinked && k != OpKind::FreeUnlinked) << code;
  }
  EXPECT_EQ(kind_from_code(14, ProfileId::Arm64Linux61), OpKind::Wrprotect);
  EXPECT_EQ(kind_from_code(15, ProfileId::Arm64Linux61), OpKind::Mkyoung);
  EXPECT_EQ(kind_from_code(14 + 16, ProfileId::Arm64Linux61), OpKind::Wrprotect);
  EXPECT_EQ(kind_from_code(14, ProfileId::X86Ept), OpKind::ZapLeafs);
  EXPECT_EQ(kind_from_code(15, ProfileId::X86Ept), OpKind::ZapAll);
  EXPECT_EQ(kind_from_code(13, ProfileId::Arm64Linux612), OpKind::Arm64TestClearYoung);
  // init 6.12; code 14: phys 0x200000, prot rw-, level byte 4 (-> 1), mc 3 (-> 2 pages),
  // force_pte byte 3 (-> 1); code 15: addr 2; code 30 (14 + 16) with mc 0 (none -> empty).
  const Bytes bytes = {0, 8, 0x40, 14, 0x80, 0x80, 0x80, 0x01, 0x06, 4,
                       3, 3, 15,   2,  30,   0,    0,    2,    0,    0};
  Stream s = decode(bytes);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[1], (Op{.kind = OpKind::CreateUnlinked,
                      .phys = 0x20'0000,
                      .prot = prot::kR | prot::kW,
                      .level = 1,
                      .memcache = 2,
                      .owner = 1,
                      .config = {}}));
  EXPECT_EQ(s[2], (Op{.kind = OpKind::FreeUnlinked, .addr = 2, .config = {}}));
  EXPECT_EQ(s[3], (Op{.kind = OpKind::CreateUnlinked, .level = 2, .memcache = 0, .config = {}}));
  EXPECT_EQ(format_op(s[1]), "create_unlinked pa=0x200000 level=1 prot=rw sw=0 force_pte=1 mc=2");
  EXPECT_EQ(format_op(s[2]), "free_unlinked 2");
  EXPECT_EQ(decode(encode_binary(s)), s);
  // The same bytes in an arm64-6.1 stream: a wrprotect and a mkyoung, as before.
  Bytes b61 = bytes;
  b61[2] = 0;
  Stream t = decode(b61);
  ASSERT_GE(t.size(), 2u);
  EXPECT_EQ(t[1].kind, OpKind::Wrprotect);
}

TEST(BinaryRoundTrip, Arm64_612StreamsWithSplitDecodeBackToThemselves) {
  std::mt19937_64 rng(0x612);
  size_t splits = 0, unlinked = 0, agings = 0, flagged_maps = 0, nc_maps = 0;
  for (int i = 0; i < 1000; ++i) {
    Stream s{init_op(profile_default_config(ProfileId::Arm64Linux612))};
    for (int j = 0; j < 16; ++j) s.push_back(random_wild_op(rng, ProfileId::Arm64Linux612));
    for (const Op& op : s) {
      splits += op.kind == OpKind::Arm64Split;
      unlinked += op.kind == OpKind::CreateUnlinked;
      agings += op.kind == OpKind::Arm64TestClearYoung;
      flagged_maps += op.kind == OpKind::Map && op.walk_flags;
      nc_maps += op.kind == OpKind::Map && (op.prot & prot::kNormalNc);
    }
    ASSERT_EQ(decode(encode_binary(s)), s) << format_stream(s);
    ASSERT_EQ(parse_text(format_stream(s), "r.mmu"), s) << format_stream(s);
  }
  EXPECT_GT(splits, 100u);
  EXPECT_GT(unlinked, 100u);
  EXPECT_GT(agings, 100u);
  EXPECT_GT(flagged_maps, 100u);
  EXPECT_GT(nc_maps, 100u);
}

// A 6.12 map's byte after its operands: bit 0 NORMAL_NC, bit 1 SHARED, bit 2 HANDLE_FAULT; the
// other bits are ignored. A 6.1 map has no such byte.
TEST(BinaryLayout, A612MapCarriesNormalNcAndItsWalkFlagsInOneMoreByte) {
  Op map{.kind = OpKind::Map,
         .addr = 0x1000,
         .size = 0x1000,
         .prot = prot::kR | prot::kNormalNc,
         .memcache = 0,
         .walk_flags = walk_flag::kHandleFault,
         .config = {}};
  Bytes out;
  encode_op(map, &out, ProfileId::Arm64Linux612);
  EXPECT_EQ(out, (Bytes{2, 0x80, 0x20, 0x80, 0x20, 0, 0x04, 1, 0x05}));
  const Bytes init612 = {0, 8, 0x40};
  Bytes bytes = init612;
  bytes.insert(bytes.end(), out.begin(), out.end());
  EXPECT_EQ(decode(bytes).at(1), map);
  bytes.back() = 0xf8;  // only ignored bits
  const Op plain = decode(bytes).at(1);
  EXPECT_EQ(plain.walk_flags, 0u);
  EXPECT_EQ(plain.prot, prot::kR);
  // test_clear_young: addr, size, then mkold in bit 0 of one byte.
  Bytes aging;
  encode_op(Op{.kind = OpKind::Arm64TestClearYoung,
               .addr = 0,
               .size = 0x1000,
               .mkold = true,
               .config = {}},
            &aging, ProfileId::Arm64Linux612);
  EXPECT_EQ(aging, (Bytes{13, 0, 0x80, 0x20, 1}));
}

TEST(BinaryDecode, MemcacheZeroIsNoneAndLargeValuesAreClamped) {
  // map addr 0, size 0, phys 0, prot 0, memcache.
  EXPECT_EQ(decode({2, 0, 0, 0, 0, 0})[0].memcache, kNoMemcache);
  EXPECT_EQ(decode({2, 0, 0, 0, 0, 1})[0].memcache, 0);
  EXPECT_EQ(decode({2, 0, 0, 0, 0, 0x81, 0x20})[0].memcache, kMaxMemcache);  // 4097 - 1
  EXPECT_EQ(decode({2, 0, 0, 0, 0, 0x82, 0x20})[0].memcache, kMaxMemcache);  // clamped
  EXPECT_EQ(decode({2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})[0]
                .memcache,
            kMaxMemcache);
}

TEST(BinaryDecode, ProtByteCarriesRwxdAndTheFourSoftwareBits) {
  EXPECT_EQ(decode({8, 0, 0xff})[0].prot, prot::kAll);
  EXPECT_EQ(decode({8, 0, 0x10})[0].prot, uint64_t{1} << 55);
  EXPECT_EQ(decode({8, 0, 0x0c})[0].prot, prot::kR | prot::kDevice);
}

TEST(BinaryDecode, AVarintStopsAfterTenBytesAndDropsBitsPastSixtyFour) {
  // Ten continuation bytes: the tenth ends the number whatever its top bit says, and only its
  // lowest bit lands (in bit 63); the next byte starts a new operation (17 % 16 = destroy).
  Stream s = decode({5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 17});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].addr, ~uint64_t{0});
  EXPECT_EQ(s[1].kind, OpKind::Destroy);
  Stream t = decode({5, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7e});
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].addr, 0u) << "0x7e << 63 keeps only bit 0 of 0x7e, which is 0";
  // Such over-long encodings re-encode shorter but to the same operation.
  EXPECT_EQ(decode(encode_binary(s)), s);
  EXPECT_EQ(encode_binary(t), (Bytes{5, 0}));
}

TEST(BinaryDecode, BytesThatRunOutMidOperationEndTheStream) {
  EXPECT_TRUE(decode({}).empty());
  EXPECT_TRUE(decode({2}).empty());
  EXPECT_TRUE(decode({2, 0x80}).empty()) << "unterminated varint";
  EXPECT_TRUE(decode({0, 8}).empty()) << "init without its flags byte";
  EXPECT_TRUE(decode({10, 0, 0, 0}).empty()) << "set_owner without its owner byte";
  Stream s = decode({1, 6, 0x00, 2, 0, 0});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].kind, OpKind::Destroy);
  EXPECT_EQ(s[1].kind, OpKind::Mkold);
}

TEST(BinaryDecode, DecodeOpLeavesTheOffsetAloneWhenItFails) {
  Bytes b = {6, 0x81, 0x01, 2, 0x80};
  size_t offset = 0;
  Op op;
  ASSERT_TRUE(decode_op(b, &offset, &op));
  EXPECT_EQ(op.kind, OpKind::Mkold);
  EXPECT_EQ(op.addr, 0x81u);
  EXPECT_EQ(offset, 3u);
  Op untouched{.kind = OpKind::Flush, .addr = 99, .config = {}};
  EXPECT_FALSE(decode_op(b, &offset, &untouched));
  EXPECT_EQ(offset, 3u);
  EXPECT_EQ(untouched, (Op{.kind = OpKind::Flush, .addr = 99, .config = {}}));
  offset = b.size();
  EXPECT_FALSE(decode_op(b, &offset, &op));
}

TEST(BinaryDecode, StreamsAreCutAtTheMaximumNumberOfOperations) {
  Bytes many(kMaxStreamOps * 3, 1);  // destroy, destroy, ...
  Stream s = decode(many);
  EXPECT_EQ(s.size(), kMaxStreamOps);
}

// ---------------------------------------------------------------------------------------------
// Properties.

TEST(BinaryRoundTrip, ThousandsOfRandomStreamsDecodeBackToThemselves) {
  std::mt19937_64 rng(0xb1a5);
  for (int i = 0; i < 3000; ++i) {
    Stream s = random_stream(rng);
    Bytes bytes = encode_binary(s);
    ASSERT_EQ(decode(bytes), s) << "iteration " << i << ":\n" << format_stream(s);
    ASSERT_EQ(encode_binary(decode(bytes)), bytes);
  }
}

TEST(BinaryRoundTrip, FullyRandomOperationsOfEveryKindDecodeBackToThemselves) {
  std::mt19937_64 rng(0x5eed);
  for (int i = 0; i < 3000; ++i) {
    Stream s;
    size_t n = 1 + rng() % 32;
    for (size_t j = 0; j < n; ++j) s.push_back(random_wild_op(rng));
    Bytes bytes = encode_binary(s);
    ASSERT_EQ(decode(bytes), s) << format_stream(s);
  }
}

TEST(BinaryRoundTrip, TextToBinaryToTextIsLossless) {
  std::mt19937_64 rng(0x7e47);
  for (int i = 0; i < 1000; ++i) {
    Stream s = random_stream(rng);
    if (i % 2) {
      s.clear();
      for (int j = 0; j < 16; ++j) s.push_back(random_wild_op(rng));
    }
    std::string text = format_stream(s);
    Stream via_binary = decode(encode_binary(parse_text(text, "r.mmu")));
    ASSERT_EQ(format_stream(via_binary), text);
  }
}

TEST(BinaryRoundTrip, AnyByteStringDecodesToABoundedStreamThatReencodesToItself) {
  std::mt19937_64 rng(0xfa22);
  size_t total_ops = 0;
  bool hit_limit = false;
  for (int i = 0; i < 4000; ++i) {
    // Lengths up to 256 bytes, and up to 8 KiB now and then (enough to hit the operation limit);
    // half the strings drawn from a small alphabet so that short varints, zero bytes and kind
    // bytes are common, the rest uniform.
    size_t len = rng() % (i % 40 == 0 ? 8192 : 256);
    Bytes bytes(len);
    bool small = rng() % 2;
    for (auto& b : bytes) b = static_cast<uint8_t>(small ? rng() % 24 : rng());
    Stream s = decode(bytes);
    total_ops += s.size();
    hit_limit = hit_limit || s.size() == kMaxStreamOps;
    ASSERT_LE(s.size(), kMaxStreamOps);
    for (const Op& op : s) expect_in_domain(op);
    Bytes again = encode_binary(s);
    ASSERT_EQ(decode(again), s);
    ASSERT_EQ(encode_binary(decode(again)), again) << "the re-encoding is a fixed point";
    if (i % 4 == 0) {
      ASSERT_EQ(parse_text(format_stream(s), "fuzz.mmu"), s) << "and the text form carries it";
    }
  }
  EXPECT_GT(total_ops, 10000u);
  EXPECT_TRUE(hit_limit) << "some byte strings were long enough to be cut at the limit";
}

TEST(BinaryRoundTrip, TruncationAtEveryOffsetDecodesToTheOperationsThatFit) {
  std::mt19937_64 rng(0x77);
  for (int i = 0; i < 100; ++i) {
    Stream s = random_stream(rng);
    for (int j = 0; j < 8; ++j) s.push_back(random_wild_op(rng));
    // Where each operation's encoding ends.
    std::vector<size_t> ends;
    Bytes bytes;
    for (const Op& op : s) {
      encode_op(op, &bytes);
      ends.push_back(bytes.size());
    }
    ASSERT_EQ(bytes, encode_binary(s));
    for (size_t cut = 0; cut <= bytes.size(); ++cut) {
      Stream prefix = decode_binary(std::span(bytes).first(cut));
      size_t whole = 0;
      while (whole < ends.size() && ends[whole] <= cut) ++whole;
      ASSERT_EQ(prefix.size(), whole) << "cut at " << cut;
      ASSERT_TRUE(std::equal(prefix.begin(), prefix.end(), s.begin()));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The seeds survive the binary form too.

TEST(BinarySeeds, EverySeedEncodesAndDecodesToItself) {
  auto dir = std::filesystem::path(MMUDIFF_SOURCE_DIR) / "corpus" / "seeds";
  size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".mmu") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Stream s = parse_text(text, entry.path().string());
    EXPECT_EQ(decode(encode_binary(s)), s) << entry.path();
    ++seen;
  }
  EXPECT_GE(seen, 6u);
}

}  // namespace
}  // namespace mmudiff
