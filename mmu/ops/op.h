// SPDX-License-Identifier: GPL-2.0-only
// One operation on a stage-2 table, as a value. A stream of these is what every backend consumes,
// what the fuzzers produce, and what .mmu files hold.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace mmudiff {

// When a map must use page mappings only: kvm_pgtable's force_pte_cb. pKVM's host stage-2 forces
// pages for everything that is not normal memory, which "device" models.
enum class ForcePte : uint8_t { Never, Always, Device };

struct Config {
  uint8_t ia_bits = 40;  // 32..48
  bool fwb = false;      // the CPU has FEAT_S2FWB (ARM64_HAS_STAGE2_FWB)
  bool nofwb = false;    // KVM_PGTABLE_S2_NOFWB
  bool idmap = false;    // KVM_PGTABLE_S2_IDMAP
  ForcePte force_pte = ForcePte::Never;

  bool has_fwb() const { return fwb && !nofwb; }
  bool operator==(const Config&) const = default;
};

enum class OpKind : uint8_t {
  Init,        // kvm_pgtable_stage2_init: destroys the current table first, if there is one
  Destroy,     // kvm_pgtable_stage2_destroy
  Map,         // kvm_pgtable_stage2_map(addr, size, phys, prot, memcache)
  Unmap,       // kvm_pgtable_stage2_unmap(addr, size)
  Wrprotect,   // kvm_pgtable_stage2_wrprotect(addr, size)
  Mkyoung,     // kvm_pgtable_stage2_mkyoung(addr) -> old descriptor
  Mkold,       // kvm_pgtable_stage2_mkold(addr) -> old descriptor
  IsYoung,     // kvm_pgtable_stage2_is_young(addr) -> bool
  RelaxPerms,  // kvm_pgtable_stage2_relax_perms(addr, prot)
  Flush,       // kvm_pgtable_stage2_flush(addr, size)
  SetOwner,    // kvm_pgtable_stage2_set_owner(addr, size, memcache, owner)
  GetLeaf,     // kvm_pgtable_get_leaf(addr) -> descriptor and level
};
inline constexpr unsigned kOpKindCount = 12;

// Memcache pages handed to an operation; kNoMemcache passes NULL, as a caller without one does.
inline constexpr int32_t kNoMemcache = -1;
inline constexpr int32_t kMaxMemcache = 4096;
inline constexpr int32_t kDefaultMemcache = 64;

struct Op {
  OpKind kind = OpKind::GetLeaf;
  uint64_t addr = 0;
  uint64_t size = 0;
  uint64_t phys = 0;
  uint64_t prot = 0;  // kvm_pgtable_prot bits (arm64s2::prot)
  int32_t memcache = kNoMemcache;
  uint8_t owner = 0;
  Config config;  // Init only

  bool operator==(const Op&) const = default;
};

using Stream = std::vector<Op>;
inline constexpr size_t kMaxStreamOps = 1024;

struct OpResult {
  int ret = 0;         // the kernel's return code (is_young: 1 or 0)
  uint64_t value = 0;  // mkyoung/mkold/get_leaf: the descriptor
  uint32_t level = 0;  // get_leaf: the level it was found at

  bool operator==(const OpResult&) const = default;
};

std::string_view op_kind_name(OpKind kind);
bool op_kind_from_name(std::string_view name, OpKind* kind);

// Which operand fields an operation uses: the text and binary forms carry only these.
struct OpShape {
  bool size, phys, prot, memcache, owner, config;
};
OpShape op_shape(OpKind kind);

// Canonical form: fields an operation does not use are zero, so == compares what matters.
Op canonical(Op op);

}  // namespace mmudiff
