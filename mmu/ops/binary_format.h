// SPDX-License-Identifier: GPL-2.0-only
// The compact form of an operation stream, for fuzzers. Every byte string decodes to a valid,
// bounded stream (running out of bytes simply ends it), and encode() followed by decode() gives
// back exactly the operations encoded.
//
// Layout, per operation: one kind byte, then the kind's operands in this order, each present only
// if the kind uses it. The kind is the byte modulo kKindCodes (16), leaving room for new kinds
// without renumbering; in arm64-6.1 streams the unused codes 12-15 fold onto map, unmap,
// wrprotect and mkyoung (code - 10), as they always have. In arm64-6.12 streams (and only there)
// code 12 is split (Linux 6.12's kvm_pgtable_stage2_split: addr, size, memcache, where "none"
// reads as an empty cache), code 13 is test_clear_young (addr, size, then one byte whose bit 0
// is mkold, the other bits ignored), 14 is create_unlinked (phys, prot, level b % 3, memcache
// with "none" an empty cache, force_pte in owner bit 0) and 15 is free_unlinked (addr: which live
// unlinked table). A map in an arm64-6.12 stream carries one byte more after its operands: bit 0
// KVM_PGTABLE_PROT_NORMAL_NC, bit 1 KVM_PGTABLE_WALK_SHARED, bit 2 KVM_PGTABLE_WALK_HANDLE_FAULT
// (the other bits ignored); a 6.1 map has no such byte. In arm64-6.12 streams the kind byte of
// an operation that may run on a vCPU (map, relax_perms, mkyoung, get_leaf) puts it in a
// concurrent section (mmu/ops/sections.h) when bit 4 is set: bits 5-6 are its vCPU, bit 7 opens
// a new section, whose schedule follows the kind byte (a count byte modulo 17, then per
// preemption AFTER as LEB128 and the vCPU byte modulo 4); decoding makes the sections well
// formed (normalize_sections). Encoding writes the kind's own number (0-15) and those bits.
//   addr, size, phys  unsigned LEB128 (at most 10 bytes; bits past 64 are dropped)
//   prot              one byte: bit 0 X, 1 W, 2 R, 3 device, 4-7 software bits 0-3
//   memcache          LEB128: 0 = none, n = n-1 pages (clamped to kMaxMemcache)
//   owner             one byte
//   config            two bytes: ia = 32 + b0 % 17; b1 bit 0 fwb, 1 nofwb, 2 idmap,
//                     bits 3-4 force_pte (never, always, device; 3 reads as never);
//                     arm64-6.12 only: b1 bit 7 tlb_range, b0 bit 7 lpa2 (FEAT_LPA2) and then
//                     ia = 32 + (b0 & 0x7f) % 17;
//                     b1 bit 5 set in a stream's first init: an x86 configuration instead,
//                     maxphyaddr = 36 + b0 % 17, b1 bit 0 levels 5, 1 ad, 2 execonly,
//                     3 nx_huge_pages; a byte of max_level (bits 0-1) and host_level
//                     (bits 2-3), each 1 + n % 3; LEB128 slot_base, slot_size (bits below 4K
//                     dropped), host_base (bits below 1G dropped), host_mmio_pfn
// x86 operations are codes 2-12 after init and destroy (Fault onwards); their operands:
//   fault flags one byte (mmu/x86/fault_flags.h); clear_dirty_masked's mask LEB128;
//   level one byte, 1 + b % 3 (split: 1 + b % 2); clear_dirty_masked's wrprot in owner bit 0
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "mmu/ops/op.h"

namespace mmudiff {

inline constexpr unsigned kKindCodes = 16;
// The kind a kind byte decodes to in a stream of ARCH.
OpKind kind_from_code(uint8_t code, Arch arch = Arch::Arm64S2);
// The same for a stream of PROFILE: only arm64-6.12 has split and test_clear_young.
OpKind kind_from_code(uint8_t code, ProfileId profile);

Stream decode_binary(std::span<const uint8_t> bytes);
std::vector<uint8_t> encode_binary(const Stream& stream);
// PROFILE: the stream's, which decides whether a map carries its 6.12 byte.
void encode_op(const Op& op, std::vector<uint8_t>* out,
               ProfileId profile = ProfileId::Arm64Linux61);

// Reads one operation of a stream of PROFILE at *offset; false (and *offset unchanged) when the
// bytes run out. An init at offset 0 may name another profile (flags bit 5: x86; bit 6: arm64
// Linux 6.12); later inits keep the stream's. Bit 7 of an arm64-6.12 init's flags: the CPU has
// FEAT_TLBIRANGE; bit 7 of its IA byte: FEAT_LPA2 (both ignored in arm64-6.1 streams).
bool decode_op(std::span<const uint8_t> bytes, size_t* offset, Op* op,
               ProfileId profile = ProfileId::Arm64Linux61);

}  // namespace mmudiff
