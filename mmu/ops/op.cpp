// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/ops/op.h"

#include <array>

namespace mmudiff {

static constexpr std::array<std::string_view, kOpKindCount> kNames = {"init",
                                                                      "destroy",
                                                                      "map",
                                                                      "unmap",
                                                                      "wrprotect",
                                                                      "mkyoung",
                                                                      "mkold",
                                                                      "is_young",
                                                                      "relax_perms",
                                                                      "flush",
                                                                      "set_owner",
                                                                      "get_leaf",
                                                                      "fault",
                                                                      "zap_leafs",
                                                                      "zap_all",
                                                                      "wrprot_slot",
                                                                      "clear_dirty",
                                                                      "clear_dirty_masked",
                                                                      "age",
                                                                      "test_age",
                                                                      "split",
                                                                      "recover_huge",
                                                                      "wrprot_gfn",
                                                                      "split",
                                                                      "create_unlinked",
                                                                      "free_unlinked",
                                                                      "test_clear_young"};
static constexpr std::array<std::string_view, kArchCount> kArchNames = {"arm64-s2", "x86-ept"};

std::string_view op_kind_name(OpKind kind) {
  return kNames[static_cast<unsigned>(kind)];
}

bool op_kind_from_name(std::string_view name, OpKind* kind) {
  for (unsigned i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) {
      *kind = static_cast<OpKind>(i);
      return true;
    }
  }
  return false;
}

bool op_kind_from_name(std::string_view name, Arch arch, OpKind* kind) {
  // Another architecture's operation of that name is the answer only when ARCH has none.
  if (!op_kind_from_name(name, kind)) return false;
  for (unsigned i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name && op_in_arch(static_cast<OpKind>(i), arch)) {
      *kind = static_cast<OpKind>(i);
      break;
    }
  }
  return true;
}

std::string_view arch_name(Arch arch) {
  return kArchNames[static_cast<unsigned>(arch)];
}

bool arch_from_name(std::string_view name, Arch* arch) {
  for (unsigned i = 0; i < kArchNames.size(); ++i) {
    if (kArchNames[i] == name) {
      *arch = static_cast<Arch>(i);
      return true;
    }
  }
  return false;
}

namespace {

// The arm64 operations Linux 6.12 added, appended after x86's.
bool linux612_only(OpKind kind) {
  return kind == OpKind::Arm64Split || kind == OpKind::CreateUnlinked ||
         kind == OpKind::FreeUnlinked || kind == OpKind::Arm64TestClearYoung;
}

}  // namespace

std::optional<Arch> op_arch(OpKind kind) {
  if (kind == OpKind::Init || kind == OpKind::Destroy) return std::nullopt;
  return kind < OpKind::Fault || linux612_only(kind) ? Arch::Arm64S2 : Arch::X86Ept;
}

bool op_in_arch(OpKind kind, Arch arch) {
  auto a = op_arch(kind);
  return !a || *a == arch;
}

bool op_in_profile(OpKind kind, ProfileId profile) {
  if (linux612_only(kind)) return profile == ProfileId::Arm64Linux612;
  return op_in_arch(kind, profile_arch(profile));
}

Arch stream_arch(const Stream& stream) {
  for (const Op& op : stream)
    if (op.kind == OpKind::Init) return op.config.arch;
  return Arch::Arm64S2;
}

ProfileId stream_profile(const Stream& stream) {
  for (const Op& op : stream)
    if (op.kind == OpKind::Init) return profile_id(op.config);
  return ProfileId::Arm64Linux61;
}

static constexpr std::array<std::string_view, kProfileCount> kProfileNames = {
    "arm64-6.1", "arm64-6.12", "x86-ept"};

std::string_view profile_name(ProfileId id) {
  return kProfileNames[static_cast<unsigned>(id)];
}

bool profile_from_name(std::string_view name, ProfileId* id) {
  for (unsigned i = 0; i < kProfileNames.size(); ++i) {
    if (kProfileNames[i] == name) {
      *id = static_cast<ProfileId>(i);
      return true;
    }
  }
  Arch arch;
  if (!arch_from_name(name, &arch)) return false;
  *id = arch == Arch::X86Ept ? ProfileId::X86Ept : ProfileId::Arm64Linux61;
  return true;
}

static constexpr std::array<std::string_view, 2> kKernelNames = {"6.1", "6.12"};

std::string_view arm64_kernel_name(Arm64Kernel kernel) {
  return kKernelNames[static_cast<unsigned>(kernel)];
}

bool arm64_kernel_from_name(std::string_view name, Arm64Kernel* kernel) {
  for (unsigned i = 0; i < kKernelNames.size(); ++i) {
    if (kKernelNames[i] == name) {
      *kernel = static_cast<Arm64Kernel>(i);
      return true;
    }
  }
  return false;
}

OpShape op_shape(OpKind kind) {
  // {size, phys, prot, memcache, owner, config, addr, level}
  switch (kind) {
    case OpKind::Init:
      return {false, false, false, false, false, true, false};
    case OpKind::Destroy:
    case OpKind::ZapAll:
      return {false, false, false, false, false, false, false};
    case OpKind::Fault:
      return {false, false, true, false, false, false, true, true};
    case OpKind::ZapLeafs:
    case OpKind::ClearDirty:
    case OpKind::Age:
    case OpKind::RecoverHuge:
      return {true, false, false, false, false, false};
    case OpKind::WrprotSlot:
    case OpKind::Split:
      return {true, false, false, false, false, false, true, true};
    case OpKind::ClearDirtyMasked:
      return {false, false, true, false, true, false};
    case OpKind::TestAge:
      return {false, false, false, false, false, false};
    case OpKind::WrprotGfn:
      return {false, false, false, false, false, false, true, true};
    case OpKind::Map:
      return {true, true, true, true, false, false, true, false, true};
    case OpKind::Unmap:
    case OpKind::Wrprotect:
    case OpKind::Flush:
      return {true, false, false, false, false, false};
    case OpKind::Mkyoung:
    case OpKind::Mkold:
    case OpKind::IsYoung:
    case OpKind::GetLeaf:
      return {false, false, false, false, false, false};
    case OpKind::RelaxPerms:
      return {false, false, true, false, false, false};
    case OpKind::SetOwner:
      return {true, false, false, true, true, false};
    case OpKind::Arm64Split:
      return {true, false, false, true, false, false};
    case OpKind::CreateUnlinked:  // force_pte in owner
      return {false, true, true, true, true, false, false, true};
    case OpKind::FreeUnlinked:
      return {false, false, false, false, false, false};
    case OpKind::Arm64TestClearYoung:
      return {true, false, false, false, false, false, true, false, false, true};
  }
  return {};
}

bool always_has_cache(OpKind kind) {
  return kind == OpKind::Arm64Split || kind == OpKind::CreateUnlinked;
}

Op canonical(Op op) {
  OpShape s = op_shape(op.kind);
  Op out;
  out.kind = op.kind;
  if (s.addr) out.addr = op.addr;
  if (s.level) out.level = op.level;
  if (s.size) out.size = op.size;
  if (s.phys) out.phys = op.phys;
  if (s.prot) out.prot = op.prot;
  if (s.memcache) out.memcache = op.memcache;
  if (s.owner) out.owner = op.owner;
  if (s.walk_flags) out.walk_flags = op.walk_flags & walk_flag::kAll;
  if (s.mkold) out.mkold = op.mkold;
  // Which section an operation is in is the stream's to say (normalize_sections); an operation
  // alone keeps what it can: a serial one has no schedule, only an opener carries one.
  if (op.vcpu != kSerial) {
    out.vcpu = op.vcpu;
    out.opens_section = op.opens_section;
    if (op.opens_section) out.schedule = std::move(op.schedule);
  }
  if (s.config) {
    // Only the named architecture's configuration matters.
    out.config.arch = op.config.arch;
    if (op.config.arch == Arch::Arm64S2) {
      out.config.arm64 = op.config.arm64;
      // Only 6.12 asks about FEAT_TLBIRANGE and FEAT_LPA2.
      if (out.config.arm64.kernel == Arm64Kernel::Linux61) {
        out.config.arm64.tlb_range = false;
        out.config.arm64.lpa2 = false;
      }
    } else
      out.config.x86 = op.config.x86;
  }
  return out;
}

}  // namespace mmudiff
