// SPDX-License-Identifier: GPL-2.0-only
// One operation on a table, as a value. A stream of these is what every backend consumes, what the
// fuzzers produce, and what .mmu files hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "mmu/sched/schedule.h"
#include "mmu/x86/ept_config.h"

namespace mmudiff {

// The architectures (profiles) a stream can be written for; a stream keeps the one its first
// init names. Each has its descriptor format, its operations and its backends
// (mmu/profile/profile.h says what the core asks of each).
enum class Arch : uint8_t { Arm64S2, X86Ept };
inline constexpr unsigned kArchCount = 2;

// Whose stage-2 code an arm64 table follows: the kernel generation whose behaviour its operations
// have (docs/semantics.md has a section per generation). A stream keeps its first init's.
enum class Arm64Kernel : uint8_t { Linux61, Linux612 };

// When a map must use page mappings only: kvm_pgtable's force_pte_cb. pKVM's host stage-2 forces
// pages for everything that is not normal memory, which "device" models.
enum class ForcePte : uint8_t { Never, Always, Device };

// kvm_pgtable_stage2_init's inputs on arm64.
struct Arm64S2Config {
  uint8_t ia_bits = 40;  // 32..48
  bool fwb = false;      // the CPU has FEAT_S2FWB (ARM64_HAS_STAGE2_FWB)
  bool nofwb = false;    // KVM_PGTABLE_S2_NOFWB
  bool idmap = false;    // KVM_PGTABLE_S2_IDMAP
  ForcePte force_pte = ForcePte::Never;
  Arm64Kernel kernel = Arm64Kernel::Linux61;
  // The CPU has FEAT_TLBIRANGE (ARM64_HAS_TLB_RANGE). Only Linux 6.12 asks: a table entry's
  // break-before-make is then one range TLBI over its granule (else a whole-VMID flush), and
  // with FWB unmap defers its leaves' TLBIs into range TLBIs over the range after the walk.
  // Always false in a 6.1 configuration.
  bool tlb_range = false;
  // The CPU and the host have FEAT_LPA2 (system_supports_lpa2(), Linux 6.12 only): VTCR.DS = 1,
  // 52-bit PAs, whose bits 51:50 sit in descriptor bits 9:8 (a leaf's SH field, which DS moves
  // into VTCR). The IPA stays at most 48 bits: 5-level tables (level -1) are not modelled.
  // Always false in a 6.1 configuration.
  bool lpa2 = false;

  bool has_fwb() const { return fwb && !nofwb; }
  // 6.12's stage2_unmap_defer_tlb_flush: unmap's leaf TLBIs become range TLBIs after the walk.
  bool unmap_defers_tlbi() const { return tlb_range && has_fwb(); }
  // The PA size the table's descriptors can hold (kvm_get_parange_max()).
  unsigned pa_bits() const { return lpa2 ? 52 : 48; }
  bool operator==(const Arm64S2Config&) const = default;
};

// What init sets up: the architecture, and that architecture's configuration (the other one is
// left at its defaults, so == compares what matters).
struct Config {
  Arch arch = Arch::Arm64S2;
  Arm64S2Config arm64;
  x86::EptConfig x86;

  bool operator==(const Config&) const = default;
};

// A semantics profile: an architecture and the kernel whose behaviour its backends are held to
// (mmu/profile/profile.h). A configuration is in exactly one.
enum class ProfileId : uint8_t { Arm64Linux61, Arm64Linux612, X86Ept };
inline constexpr unsigned kProfileCount = 3;

inline ProfileId profile_id(const Config& config) {
  if (config.arch == Arch::X86Ept) return ProfileId::X86Ept;
  return config.arm64.kernel == Arm64Kernel::Linux612 ? ProfileId::Arm64Linux612
                                                      : ProfileId::Arm64Linux61;
}
inline Arch profile_arch(ProfileId id) {
  return id == ProfileId::X86Ept ? Arch::X86Ept : Arch::Arm64S2;
}
// An architecture's first profile (arm64: Linux 6.1).
inline ProfileId arch_profile(Arch arch) {
  return arch == Arch::X86Ept ? ProfileId::X86Ept : ProfileId::Arm64Linux61;
}
// The configuration init takes by default in a profile.
inline Config profile_default_config(ProfileId id) {
  Config c;
  c.arch = profile_arch(id);
  if (id == ProfileId::Arm64Linux612) c.arm64.kernel = Arm64Kernel::Linux612;
  return c;
}

// Every operation of every profile. init and destroy belong to all; the others to one, grouped
// below by profile (op_arch()). Values are stable: the binary form maps its kind byte onto the
// operations of the stream's profile.
enum class OpKind : uint8_t {
  Init,     // set up a table of op.config (destroying the current one first)
  Destroy,  // free the table
  // ---- arm64-s2: Linux's kvm_pgtable API (arch/arm64/include/asm/kvm_pgtable.h) ----------------
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
  // ---- x86-ept: the TDP MMU (arch/x86/kvm/mmu/tdp_mmu.h, mmu/x86/tdp_api.h) -------------------
  Fault,             // kvm_tdp_mmu_map(gpa, level, prot = fault flags) -> RET_PF_*; the pfn is
                     // the host's for the gpa (x86::EptConfig::host_base)
  ZapLeafs,          // kvm_tdp_mmu_zap_leafs(addr, size) -> flush needed
  ZapAll,            // kvm_tdp_mmu_zap_all
  WrprotSlot,        // kvm_tdp_mmu_wrprot_slot(slot = [addr, addr + size), level) -> flush
  ClearDirty,        // kvm_tdp_mmu_clear_dirty_slot(slot = [addr, addr + size)) -> flush
  ClearDirtyMasked,  // kvm_tdp_mmu_clear_dirty_pt_masked(memslot, gfn = addr, mask = prot,
                     //                                   wrprot = owner)
  Age,               // kvm_tdp_mmu_age_gfn_range(addr, size) -> young
  TestAge,           // kvm_tdp_mmu_test_age_gfn(addr) -> young
  Split,             // kvm_tdp_mmu_try_split_huge_pages(slot = [addr, addr + size), level)
  RecoverHuge,       // kvm_tdp_mmu_zap_collapsible_sptes(slot = [addr, addr + size))
  WrprotGfn,         // kvm_tdp_mmu_write_protect_gfn(memslot, addr, level) -> changed
  // ---- arm64-s2, Linux 6.12 only (profile arm64-6.12), appended so that no value moves ----------
  Arm64Split,  // kvm_pgtable_stage2_split(addr, size, split_page_cache of `memcache` pages);
               // spelt "split" in .mmu text, as x86's Split: the stream's profile tells them apart
  CreateUnlinked,       // kvm_pgtable_stage2_create_unlinked(phys, level, prot, cache of `memcache`
                        // pages, force_pte = owner): a detached table the backend keeps, in order
  FreeUnlinked,         // kvm_pgtable_stage2_free_unlinked of the live unlinked table number
                        // addr % (how many are live); -ENOENT, from the harness, when none is
  Arm64TestClearYoung,  // kvm_pgtable_stage2_test_clear_young(addr, size, mkold) -> any leaf young
};
inline constexpr unsigned kOpKindCount = 27;

// The kvm_pgtable_walk_flags a caller of Linux 6.12's kvm_pgtable_stage2_map may add (Op's
// walk_flags): user_mem_abort passes both. Only arm64-6.12 maps carry them.
namespace walk_flag {
inline constexpr uint8_t kShared = 1 << 0;       // KVM_PGTABLE_WALK_SHARED
inline constexpr uint8_t kHandleFault = 1 << 1;  // KVM_PGTABLE_WALK_HANDLE_FAULT
inline constexpr uint8_t kAll = kShared | kHandleFault;
}  // namespace walk_flag

// Concurrent sections (mmu/ops/sections.h): consecutive operations on vCPUs that run at once,
// interleaved by the deterministic scheduler as the section's schedule says. An operation outside
// any section is kSerial: it runs alone, as the single writer holding the MMU lock for write.
inline constexpr uint8_t kSerial = 0xff;

// Memcache pages handed to an operation; kNoMemcache passes NULL, as a caller without one does.
inline constexpr int32_t kNoMemcache = -1;
inline constexpr int32_t kMaxMemcache = 4096;
inline constexpr int32_t kDefaultMemcache = 64;

// One operation, its operands in fields whose meaning is the operation's (OpShape says which it
// uses; the comments above say how).
struct Op {
  OpKind kind = OpKind::GetLeaf;
  uint64_t addr = 0;
  uint64_t size = 0;
  uint64_t phys = 0;
  uint64_t prot = 0;  // arm64: kvm_pgtable_prot bits (arm64s2::prot); x86: x86ops flags
  uint8_t level = 0;  // x86: the level an operation takes (max, min or target level)
  int32_t memcache = kNoMemcache;
  uint8_t owner = 0;
  uint8_t walk_flags = 0;  // arm64-6.12 map: walk_flag bits
  bool mkold = false;      // test_clear_young: clear the access flag of the young leaves
  Config config;           // Init only
  // In a concurrent section: the vCPU that runs it (0..kMaxSectionVcpus-1); else kSerial.
  uint8_t vcpu = kSerial;
  // The first operation of a concurrent section carries the section's schedule.
  bool opens_section = false;
  sched::Schedule schedule{};

  bool operator==(const Op&) const = default;
};

// An init of CONFIG.
inline Op init_op(const Config& config = {}) {
  Op op;
  op.kind = OpKind::Init;
  op.config = config;
  return op;
}

using Stream = std::vector<Op>;
inline constexpr size_t kMaxStreamOps = 1024;

struct OpResult {
  int ret = 0;         // the kernel's return code (is_young: 1 or 0)
  uint64_t value = 0;  // mkyoung/mkold/get_leaf: the descriptor
  uint32_t level = 0;  // get_leaf: the level it was found at

  bool operator==(const OpResult&) const = default;
};

std::string_view op_kind_name(OpKind kind);
// The kind of that name among the operations of ARCH's streams ("split" is x86's Split in an
// x86 stream, arm64's Arm64Split otherwise); without ARCH, the first kind of that name.
bool op_kind_from_name(std::string_view name, OpKind* kind);
bool op_kind_from_name(std::string_view name, Arch arch, OpKind* kind);

// Which operand fields an operation uses: the text and binary forms carry only these.
struct OpShape {
  bool size, phys, prot, memcache, owner, config;
  bool addr = true;
  bool level = false;
  bool walk_flags = false;
  bool mkold = false;
};
OpShape op_shape(OpKind kind);
// Whether the operation's memcache is one its caller always has, perhaps empty (split's
// split_page_cache; the cache create_unlinked's callers fill): "none" is an empty one.
bool always_has_cache(OpKind kind);
// The profile an operation belongs to; init and destroy belong to every profile (nullopt).
std::optional<Arch> op_arch(OpKind kind);
bool op_in_arch(OpKind kind, Arch arch);
// Whether a stream of PROFILE may hold the operation: its architecture's, and for operations a
// later kernel added (Arm64Split, CreateUnlinked, FreeUnlinked, Arm64TestClearYoung: Linux
// 6.12), only that kernel's profile.
bool op_in_profile(OpKind kind, ProfileId profile);
std::string_view arch_name(Arch arch);
bool arch_from_name(std::string_view name, Arch* arch);
// The architecture a stream is for: its first init's, or arm64-s2 when it has none.
Arch stream_arch(const Stream& stream);
// The profile a stream is in: its first init's, or arm64-6.1 when it has none.
ProfileId stream_profile(const Stream& stream);
// "arm64-6.1", "arm64-6.12", "x86-ept".
std::string_view profile_name(ProfileId id);
// Also takes an architecture's name for its first profile ("arm64-s2": arm64-6.1).
bool profile_from_name(std::string_view name, ProfileId* id);
// "6.1", "6.12": as init's kernel= spells it.
std::string_view arm64_kernel_name(Arm64Kernel kernel);
bool arm64_kernel_from_name(std::string_view name, Arm64Kernel* kernel);

// Canonical form: fields an operation does not use are zero, so == compares what matters.
Op canonical(Op op);

}  // namespace mmudiff
