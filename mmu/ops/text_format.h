// SPDX-License-Identifier: GPL-2.0-only
// The readable form of an operation stream (.mmu): one operation a line, '#' starts a comment
// that runs to the end of the line, blank lines are ignored. A line is the operation's name, its
// positional values (ADDR, then SIZE where the operation takes one), then key=value operands in
// any order, each at most once; words are separated by spaces or tabs.
//
// Numbers are decimal or 0x hex, optionally followed by K, M, G or T (powers of 1024): 4K, 2M,
// 0x40000000, 1G. They must fit in 64 bits.
//
//   init [ia=32..48] [fwb=0|1] [nofwb=0|1] [idmap=0|1] [force_pte=never|always|device]
//       defaults: ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never. Flags also take no/yes,
//       false/true. fwb says the CPU has FEAT_S2FWB; nofwb and idmap are the stage-2 flags
//       KVM_PGTABLE_S2_NOFWB and KVM_PGTABLE_S2_IDMAP. Replaces any live table.
//   destroy
//   map ADDR SIZE [pa=PA] [prot=rwxd] [sw=0..15] [mc=0..4096|none]
//       prot letters: r read, w write, x execute, d device; '-' alone (or as filler, "r-x")
//       means none. sw sets the four software bits (prot bits 55-58). mc is the number of
//       memcache pages the operation gets (default 64); none passes no memcache at all.
//   unmap ADDR SIZE          wrprotect ADDR SIZE          flush ADDR SIZE
//   mkyoung ADDR             mkold ADDR                   is_young ADDR          get_leaf ADDR
//   relax_perms ADDR [prot=rwxd] [sw=0..15]
//   set_owner ADDR SIZE [owner=0..255] [mc=0..4096|none]
//   split ADDR SIZE [mc=0..4096]
//       arm64-6.12 streams only (init kernel=6.12): kvm_pgtable_stage2_split with a split cache of
//       mc pages (default 64; never none). In an x86 stream, split is x86's (level=1..2).
//   create_unlinked pa=PA [level=0..2] [prot=rwxd] [sw=0..15] [force_pte=0|1] [mc=0..4096]
//   free_unlinked N
//       arm64-6.12 streams only: kvm_pgtable_stage2_create_unlinked (level 2 and 64 pages by
//       default; never none), and _free_unlinked of the live unlinked table N modulo how many.
//   test_clear_young ADDR SIZE [mkold=0|1]
//       arm64-6.12 streams only: kvm_pgtable_stage2_test_clear_young over the range; 1 when a
//       leaf it visited was young (mkold=1 makes them old).
//   In arm64-6.12 streams a map also takes prot letter n (KVM_PGTABLE_PROT_NORMAL_NC) and
//   flags=shared,fault (KVM_PGTABLE_WALK_SHARED, _HANDLE_FAULT; either alone; printed only when
//   not 0).
//   schedule [AFTER>VCPU ...]
//   vcpu N: OPERATION
//       arm64-6.12 streams only: a concurrent section (mmu/ops/sections.h). Consecutive
//       operations prefixed "vcpu N:" (N 0-3) run at once on their vCPUs, interleaved by the
//       deterministic scheduler; a schedule line opens a section and gives its schedule
//       (mmu/sched/schedule.h: "1>1 3>0" lets vCPU 0 make one scheduling point, vCPU 1 three,
//       then vCPU 0 goes on; a bare "schedule" has none). On a vCPU: map (one 4K, 2M or 1G leaf,
//       aligned, flags=shared,fault: a fault's), relax_perms, mkyoung, get_leaf; at most 8
//       operations a section.
//
// Omitted operands are 0 (pa, prot, sw, owner) or the default above. A stream holds at most
// kMaxStreamOps operations. Control characters (other than tab and CR) are refused anywhere,
// and bytes outside ASCII are refused outside comments: they mean a binary stream was given as
// text. A leading UTF-8 byte-order mark is skipped. Example:
//
//   # a 2 MiB block, an owner annotation, then the block made old
//   init ia=40 fwb=0 nofwb=0 idmap=0 force_pte=never
//   map 0x40000000 2M pa=0x80000000 prot=rwx sw=0 mc=64
//   set_owner 0x1000 4K owner=1 mc=none
//   mkold 0x40000000
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "mmu/ops/op.h"

namespace mmudiff {

// A malformed input. what() is one line naming the file and the line or offset.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws InputError("FILE:LINE: what is wrong"), for the first wrong line.
Stream parse_text(std::string_view text, std::string_view filename);

// A number as .mmu writes it before any K/M/G/T suffix: decimal or 0x hex digits, the whole of
// TEXT, no sign or space. std::errc{} with *VALUE set; std::errc::invalid_argument for anything
// else; std::errc::result_out_of_range for more than 64 bits (never wrapped or clamped).
std::errc parse_plain_number(std::string_view text, uint64_t* value);

std::string format_op(const Op& op);
std::string format_stream(const Stream& stream);

// "rwx", "r-d", "-": the letters of the prot bits r, w, x, d(evice); software bits are separate.
std::string format_prot_letters(uint64_t prot);
// Sizes as 4K, 2M, 1G where exact, otherwise hex.
std::string format_size(uint64_t size);

}  // namespace mmudiff
