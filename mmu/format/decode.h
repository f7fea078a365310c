// SPDX-License-Identifier: GPL-2.0-only
// Names every field of an arm64 stage-2 descriptor, for people: dumps, diffs and reproducer
// output. The arm64-s2-4k format (arm64_s2_format.h) decodes through these.
#pragma once

#include <cstdint>
#include <string>

#include "mmu/format/arm64_s2.h"

namespace mmudiff {

// DecodedField and DecodedDescriptor live in mmu/format/format.h. The fields, in this order, by
// kind:
//   invalid:  valid, owner (bits [9:2]), other (every other bit)
//   table:    valid, type, next-level table (the address bits [47:12]), RES0
//   block/page: valid, type, OA ([47:12]), MemAttr ([5:2]), S2AP ([7:6]), SH ([9:8]), AF (10),
//             XN ([54:53]), SW ([58:55]), RES0 (leaf_reserved_mask(level): bit 11, [53:48],
//             [63:59], and a block's OA bits below its granule)
//   reserved: valid, type

// fwb: whether MemAttr is read with FEAT_S2FWB's encoding. lpa2: the table is FEAT_LPA2's
// (VTCR_EL2.DS = 1): OA and next-level addresses take bits [51:50] from [9:8], leaves have no SH,
// and OA[49:48] are no longer RES0.
DecodedDescriptor decode_descriptor(uint64_t raw, unsigned level, bool fwb, bool lpa2 = false);

// One line, fields that are zero and mean nothing left out:
//   "L2 block    0x004000004020077d OA=0x40200000 MemAttr=0xf(normal WB) S2AP=RW SH=IS AF=1
//    XN=1 SW=0x0"  (XN is bit 54; a set XN[0] shows in RES0)
//   "L1 table    0x0000400000003003 next=0x400000003000"
//   "L3 invalid  0x0000000000000004 owner=1"      "L3 invalid  0x0000000000000000 empty"
std::string describe_descriptor(uint64_t raw, unsigned level, bool fwb, bool lpa2 = false);

}  // namespace mmudiff
