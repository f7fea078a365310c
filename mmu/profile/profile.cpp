// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/profile/profile.h"

#include <algorithm>
#include <array>

#include "mmu/format/arm64_s2.h"
#include "mmu/format/arm64_s2_format.h"
#include "mmu/format/x86_ept.h"
#include "mmu/format/x86_ept_format.h"
#include "mmu/x86/fault_flags.h"

namespace mmudiff {
namespace {

// Both formats' leaves: 1 GiB, 2 MiB and 4 KiB (arm64's 4K granule at levels 1-3; x86's
// PG_LEVEL_1G, 2M and 4K).
constexpr std::array<uint64_t, 3> kArm64LeafSizes = {
    arm64s2::granule_size(1), arm64s2::granule_size(2), arm64s2::granule_size(3)};
constexpr std::array<uint64_t, 3> kX86LeafSizes = {x86ept::level_size(3), x86ept::level_size(2),
                                                   x86ept::level_size(1)};

constexpr OracleLeftOut kNoZeroCheck = {
    "zero-check", "x86 KVM's check of its SPTEs against shadow_zero_check; arm64 has none"};
constexpr std::array<OracleLeftOut, 2> kArm64NotRun = {
    {kNoZeroCheck,
     {"interleaving",
      "Linux 6.1's stage-2 faults hold the MMU lock for write: no shared walks, no concurrent "
      "sections"}}};
constexpr std::array<OracleLeftOut, 1> kArm64Linux612NotRun = {{kNoZeroCheck}};
constexpr std::array<OracleLeftOut, 2> kX86NotRun = {
    {{"reference-model",
      "the abstract model knows kvm_pgtable's operations only; no x86-ept "
      "model yet"},
     {"interleaving",
      "the TDP MMU's shared walks are not run concurrently yet: x86 streams have no concurrent "
      "sections"}}};

std::vector<uint64_t> fewer_bits(uint64_t prot, std::initializer_list<uint64_t> masks) {
  std::vector<uint64_t> out;
  for (uint64_t m : masks)
    if (prot & m) out.push_back(prot & ~m);
  return out;
}

constexpr std::array kArm64Ops = {
    OpKind::Map,     OpKind::Unmap,      OpKind::Wrprotect, OpKind::Mkyoung,  OpKind::Mkold,
    OpKind::IsYoung, OpKind::RelaxPerms, OpKind::Flush,     OpKind::SetOwner, OpKind::GetLeaf};
// Linux 6.12 adds kvm_pgtable_stage2_split, the caller's unlinked tables and test_clear_young
// over a range.
constexpr std::array kArm64Linux612Ops = {OpKind::Map,          OpKind::Unmap,
                                          OpKind::Wrprotect,    OpKind::Mkyoung,
                                          OpKind::Mkold,        OpKind::IsYoung,
                                          OpKind::RelaxPerms,   OpKind::Flush,
                                          OpKind::SetOwner,     OpKind::GetLeaf,
                                          OpKind::Arm64Split,   OpKind::CreateUnlinked,
                                          OpKind::FreeUnlinked, OpKind::Arm64TestClearYoung};
constexpr std::array kX86Ops = {OpKind::Fault,       OpKind::ZapLeafs,   OpKind::ZapAll,
                                OpKind::WrprotSlot,  OpKind::ClearDirty, OpKind::ClearDirtyMasked,
                                OpKind::Age,         OpKind::TestAge,    OpKind::Split,
                                OpKind::RecoverHuge, OpKind::WrprotGfn};

const Profile kArm64 = {
    .id = ProfileId::Arm64Linux61,
    .arch = Arch::Arm64S2,
    .name = "arm64-6.1",
    .semantics = "Linux 6.1 kvm_pgtable stage 2 (arch/arm64/kvm/hyp/pgtable.c)",
    .operations = kArm64Ops,
    .format_family = kDefaultFormatName,
    // A 6.12 table with FEAT_LPA2 is in the LPA2 format (a 6.1 configuration never has it).
    .format = [](const Config& c) -> const DescriptorFormat& {
      return arm64_s2_4k_format(c.arm64.lpa2);
    },
    .input_bits = [](const Config& c) -> unsigned { return c.arm64.ia_bits; },
    // The PA range KVM's stage 2 is built for: kvm_get_parange_max(), 48 bits, 52 with LPA2.
    .output_bits = [](const Config& c) -> unsigned { return c.arm64.pa_bits(); },
    .leaf_sizes = kArm64LeafSizes,
    // Software bits all at once, then the permissions and the device attribute one at a time.
    .simpler_prots =
        [](const Op& op) {
          namespace prot = arm64s2::prot;
          return fewer_bits(op.prot, {prot::kSwMask, prot::kX, prot::kW, prot::kDevice});
        },
    .oracles_not_run = kArm64NotRun,
};

// The same table format and operations; the operations behave as Linux 6.12's do.
const Profile kArm64Linux612 = [] {
  Profile p = kArm64;
  p.id = ProfileId::Arm64Linux612;
  p.name = "arm64-6.12";
  p.semantics = "Linux 6.12 kvm_pgtable stage 2 (arch/arm64/kvm/hyp/pgtable.c)";
  p.operations = kArm64Linux612Ops;
  p.oracles_not_run = kArm64Linux612NotRun;
  return p;
}();

const Profile kX86Ept = {
    .id = ProfileId::X86Ept,
    .arch = Arch::X86Ept,
    .name = "x86-ept",
    .semantics = "Linux 6.12 TDP MMU on EPT (arch/x86/kvm/mmu/tdp_mmu.c, spte.c)",
    .operations = kX86Ops,
    .format_family = kX86EptFamily,
    .format = [](const Config& c) -> const DescriptorFormat& {
      return x86_ept_format({c.x86.maxphyaddr, c.x86.levels, c.x86.ad, c.x86.execonly});
    },
    // A guest's physical addresses are MAXPHYADDR wide, and the table reaches 48 bits with 4
    // levels (a fault above that is refused: no guest of this VM takes one). The host's are
    // MAXPHYADDR wide.
    .input_bits = [](const Config& c) -> unsigned {
      return std::min<unsigned>(c.x86.maxphyaddr, x86ept::gpa_bits(c.x86.levels));
    },
    .output_bits = [](const Config& c) -> unsigned { return c.x86.maxphyaddr; },
    .leaf_sizes = kX86LeafSizes,
    // A fault's flags one at a time; a dirty mask down to its lowest page.
    .simpler_prots =
        [](const Op& op) {
          std::vector<uint64_t> out;
          if (op.kind == OpKind::ClearDirtyMasked && (op.prot & (op.prot - 1)))
            out.push_back(op.prot & -op.prot);
          for (uint64_t b = 1; b <= x86::kFaultFlagsMask; b <<= 1)
            if (op.prot & b) out.push_back(op.prot & ~b);
          return out;
        },
    .oracles_not_run = kX86NotRun,
};

}  // namespace

const Profile& profile(Arch arch) {
  return arch == Arch::X86Ept ? kX86Ept : kArm64;
}

const Profile& profile(ProfileId id) {
  switch (id) {
    case ProfileId::Arm64Linux61:
      break;
    case ProfileId::Arm64Linux612:
      return kArm64Linux612;
    case ProfileId::X86Ept:
      return kX86Ept;
  }
  return kArm64;
}

}  // namespace mmudiff
