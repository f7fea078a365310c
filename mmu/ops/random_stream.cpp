// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/ops/random_stream.h"

#include <algorithm>
#include <iterator>

#include "mmu/format/arm64_s2.h"
#include "mmu/format/x86_ept.h"
#include "mmu/ops/sections.h"
#include "mmu/ops/work_budget.h"
#include "mmu/x86/fault_flags.h"

namespace mmudiff {

namespace {

using namespace arm64s2;

uint64_t pick(std::mt19937_64& rng, uint64_t n) {
  return n ? rng() % n : 0;
}
bool chance(std::mt19937_64& rng, unsigned percent) {
  return pick(rng, 100) < percent;
}

// Addresses cluster in a few 1 GiB windows so that operations overlap each other, with block
// and table boundaries, the IPA limit and unaligned values mixed in.
uint64_t random_addr(std::mt19937_64& rng, const Config& config) {
  uint64_t limit = bit(config.arm64.ia_bits);
  switch (pick(rng, 10)) {
    case 0:
      return pick(rng, limit);  // anywhere
    case 1:
      return limit - granule_size(1 + pick(rng, 3)) * (1 + pick(rng, 2));  // the top
    case 2:
      return limit + pick(rng, 4) * kPageSize;  // just past it
    case 3:
      return pick(rng, 4) * granule_size(1) + pick(rng, kPageSize);  // unaligned
    default: {
      uint64_t window = pick(rng, 4) * granule_size(1);
      uint64_t level = 1 + pick(rng, 3);
      return window + pick(rng, 8) * granule_size(level) +
             (chance(rng, 30) ? pick(rng, 8) * kPageSize : 0);
    }
  }
}

uint64_t random_size(std::mt19937_64& rng) {
  switch (pick(rng, 12)) {
    case 0:
      return 0;
    case 1:
      return pick(rng, 3 * kPageSize) + 1;  // unaligned, small
    case 2:
      return granule_size(1) * (1 + pick(rng, 2));  // 1-2 GiB
    case 3:
      return granule_size(2) + kPageSize;  // 2M + 4K
    case 4:
      return granule_size(2) - kPageSize;  // 2M - 4K
    case 5:
      return pick(rng, 2) ? ~uint64_t{0} : bit(48);  // wraps or covers all
    case 6:
    case 7:
      return granule_size(2) * (1 + pick(rng, 4));
    default:
      return kPageSize * (1 + pick(rng, 16));
  }
}

// PA_BITS: the table's PA size. With FEAT_LPA2 (52 bits) a fifth of the PAs get bits 51:48
// set, the ones that go into a descriptor differently; a 48-bit table draws as it always has.
uint64_t random_phys(std::mt19937_64& rng, uint64_t addr, unsigned pa_bits) {
  uint64_t pa;
  switch (pick(rng, 10)) {
    case 0:
      return bit(pa_bits) + pick(rng, 4) * granule_size(2);  // not a valid PA
    case 1:
      return bit(pa_bits) - granule_size(1 + pick(rng, 3));  // the last valid PAs
    case 2:
      pa = pick(rng, bit(pa_bits));  // unaligned anywhere
      break;
    case 3:
    case 4:
      return addr;  // identity
    default:
      pa = (pick(rng, 64) * granule_size(1 + pick(rng, 3))) & (bit(pa_bits) - 1);
      break;
  }
  if (pa_bits > kPaBits && chance(rng, 20)) pa |= pick(rng, 16) << kPaBits;
  return pa;
}

uint64_t random_prot(std::mt19937_64& rng, bool allow_sw) {
  uint64_t p = pick(rng, 16);  // X W R DEVICE
  if (allow_sw && chance(rng, 10)) p |= pick(rng, 16) << 55;
  return p;
}

int32_t random_memcache(std::mt19937_64& rng) {
  switch (pick(rng, 10)) {
    case 0:
      return kNoMemcache;
    case 1:
      return static_cast<int32_t>(pick(rng, 3));
    default:
      return kDefaultMemcache;
  }
}

// A split's cache: often too small (0 or 1 page), sometimes enough for a few 2 MiB blocks, now
// and then enough to split a 1 GiB block down to pages (513), which the work budget lets stand
// only where no 1 GiB block can be (mmu/ops/work_budget.h).
int32_t random_split_memcache(std::mt19937_64& rng) {
  switch (pick(rng, 20)) {
    case 0:
    case 1:
    case 2:
    case 3:
      return 0;
    case 4:
    case 5:
    case 6:
    case 7:
    case 8:
      return 1;
    case 9:
      return static_cast<int32_t>(513 + pick(rng, 64));
    default:
      return static_cast<int32_t>(2 + pick(rng, 7));
  }
}

// A table in place of a 2 MiB block most often, of a 1 GiB block (or 512 of them) less; its PA
// aligned to what it maps but now and then not (-EINVAL); pages only now and then, whose level-1
// table needs 513 pages (the work budget leaves only a few: -ENOMEM, the partial table freed).
Op random_create_unlinked(std::mt19937_64& rng, unsigned pa_bits) {
  Op op;
  op.kind = OpKind::CreateUnlinked;
  const unsigned r = static_cast<unsigned>(pick(rng, 10));
  op.level = static_cast<uint8_t>(r < 6 ? 2 : r < 9 ? 1 : 0);
  op.phys = random_phys(rng, 0, pa_bits);
  if (chance(rng, 90)) op.phys &= ~(granule_size(op.level) - 1);
  op.prot = random_prot(rng, true);
  op.owner = chance(rng, 25);
  op.memcache = random_split_memcache(rng);
  return op;
}

// A 6.12 map's walk flags: often the fault path's (SHARED | HANDLE_FAULT, as user_mem_abort),
// now and then one of them alone; and now and then normal non-cacheable memory.
void random_612_map_extras(std::mt19937_64& rng, Op* op) {
  switch (pick(rng, 8)) {
    case 0:
    case 1:
    case 2:
      op->walk_flags = walk_flag::kShared | walk_flag::kHandleFault;
      break;
    case 3:
      op->walk_flags = walk_flag::kShared;
      break;
    case 4:
      op->walk_flags = walk_flag::kHandleFault;
      break;
    default:
      op->walk_flags = 0;
  }
  // Non-cacheable memory is neither executable nor device (else -EINVAL, now and then drawn too).
  if (chance(rng, 15)) {
    op->prot |= prot::kNormalNc;
    if (!chance(rng, 10)) op->prot &= ~(prot::kX | prot::kDevice);
  }
}

}  // namespace

namespace x86gen {

// x86 faults land mostly inside the memslot, around its edges and huge-page boundaries, and
// now and then outside it (MMIO); ranges cover a few huge pages.
uint64_t random_gpa(std::mt19937_64& rng, const x86::EptConfig& c) {
  const uint64_t m2 = x86ept::level_size(2), g1 = x86ept::level_size(3);
  switch (pick(rng, 10)) {
    case 0:
      return c.slot_base + c.slot_size + pick(rng, 4) * x86ept::kPageSize;  // past the slot
    case 1:
      return c.slot_base + c.slot_size - (1 + pick(rng, 4)) * x86ept::kPageSize;  // its top
    case 2: {
      // Anywhere a guest can fault: below MAXPHYADDR and within the root's reach.
      unsigned bits = std::min<unsigned>(c.maxphyaddr, x86ept::gpa_bits(c.levels));
      return pick(rng, uint64_t{1} << bits) & ~(x86ept::kPageSize - 1);
    }
    default:
      return c.slot_base + (pick(rng, 3) * g1 + pick(rng, 8) * m2 + pick(rng, 3) * 0x1000) %
                               std::max<uint64_t>(c.slot_size, x86ept::kPageSize);
  }
}

uint64_t random_range(std::mt19937_64& rng) {
  switch (pick(rng, 6)) {
    case 0:
      return x86ept::kPageSize * (1 + pick(rng, 8));
    case 1:
      return x86ept::level_size(3);
    case 2:
      return uint64_t{4} << 30;
    default:
      return x86ept::level_size(2) * (1 + pick(rng, 4));
  }
}

x86::EptConfig random_config(std::mt19937_64& rng) {
  x86::EptConfig c;
  static constexpr uint8_t kInteresting[] = {36, 39, 40, 42, 46, 48, 52};
  c.maxphyaddr = chance(rng, 80) ? kInteresting[pick(rng, sizeof kInteresting)]
                                 : static_cast<uint8_t>(36 + pick(rng, 17));
  c.levels = chance(rng, 20) ? 5 : 4;
  c.ad = chance(rng, 70);
  c.execonly = chance(rng, 70);
  c.nx_huge_pages = chance(rng, 30);
  c.max_level = static_cast<uint8_t>(chance(rng, 70) ? 3 : 1 + pick(rng, 2));
  c.host_level = static_cast<uint8_t>(chance(rng, 70) ? 3 : 1 + pick(rng, 2));
  if (chance(rng, 30)) {
    // A memslot whose edges are not huge-page aligned: lpage_info disallows the partial ones.
    c.slot_base = x86ept::level_size(3) + pick(rng, 512) * x86ept::kPageSize;
    c.slot_size = x86ept::level_size(3) + pick(rng, 1024) * x86ept::kPageSize;
  }
  c.host_base = pick(rng, 8) * x86ept::level_size(3);
  if (chance(rng, 10)) c.host_mmio_pfn = uint64_t{1} << (c.maxphyaddr - 13);
  return c;
}

Op random_op(std::mt19937_64& rng, const x86::EptConfig& c, bool allow_destroy) {
  Op op;
  static constexpr OpKind kWeighted[] = {
      OpKind::Fault,     OpKind::Fault,      OpKind::Fault,      OpKind::Fault,
      OpKind::Fault,     OpKind::Fault,      OpKind::ZapLeafs,   OpKind::ZapLeafs,
      OpKind::ZapAll,    OpKind::WrprotSlot, OpKind::ClearDirty, OpKind::ClearDirtyMasked,
      OpKind::Age,       OpKind::TestAge,    OpKind::Split,      OpKind::RecoverHuge,
      OpKind::WrprotGfn, OpKind::Destroy,    OpKind::Init};
  do {
    op.kind = kWeighted[pick(rng, sizeof kWeighted / sizeof kWeighted[0])];
  } while (!allow_destroy && (op.kind == OpKind::Destroy || op.kind == OpKind::Init));
  OpShape shape = op_shape(op.kind);
  if (op.kind == OpKind::Init) {
    op.config.arch = Arch::X86Ept;
    op.config.x86 = random_config(rng);
    return op;
  }
  if (shape.addr) op.addr = random_gpa(rng, c);
  if (shape.size) op.size = random_range(rng);
  if (op.kind == OpKind::Fault) {
    op.prot = pick(rng, 4);  // write, exec
    if (chance(rng, 10)) op.prot |= x86::kFaultPrefetch;
    if (chance(rng, 10)) op.prot |= x86::kFaultHostReadOnly;
    if (chance(rng, 10)) op.prot |= x86::kFaultDirtyLogging;
    op.level = static_cast<uint8_t>(chance(rng, 70) ? 3 : 1 + pick(rng, 2));
  } else if (op.kind == OpKind::ClearDirtyMasked) {
    op.addr &= ~(64 * x86ept::kPageSize - 1);
    op.prot = chance(rng, 50) ? ~uint64_t{0} : rng() | 1;
    op.owner = static_cast<uint8_t>(pick(rng, 2));
  } else if (shape.level) {
    op.level = static_cast<uint8_t>(1 + pick(rng, op.kind == OpKind::Split ? 2 : 3));
  }
  return op;
}

}  // namespace x86gen

Config random_config(std::mt19937_64& rng, Arch arch) {
  Config config;
  config.arch = arch;
  if (arch == Arch::X86Ept) {
    config.x86 = x86gen::random_config(rng);
    return config;
  }
  Arm64S2Config& c = config.arm64;
  static constexpr uint8_t kInteresting[] = {32, 33, 36, 39, 40, 42, 43, 44, 48};
  c.ia_bits = chance(rng, 70) ? kInteresting[pick(rng, sizeof kInteresting)]
                              : static_cast<uint8_t>(kMinIaBits + pick(rng, 17));
  c.fwb = chance(rng, 50);
  c.nofwb = chance(rng, 20);
  c.idmap = chance(rng, 10);
  c.force_pte = static_cast<ForcePte>(chance(rng, 70) ? 0 : 1 + pick(rng, 2));
  return config;
}

Op random_op(std::mt19937_64& rng, const Config& config, bool allow_destroy) {
  if (config.arch == Arch::X86Ept) return x86gen::random_op(rng, config.x86, allow_destroy);
  Op op;
  static constexpr OpKind kWeighted[] = {
      OpKind::Map,      OpKind::Map,     OpKind::Map,        OpKind::Map,
      OpKind::Unmap,    OpKind::Unmap,   OpKind::Wrprotect,  OpKind::Mkyoung,
      OpKind::Mkold,    OpKind::IsYoung, OpKind::RelaxPerms, OpKind::Flush,
      OpKind::SetOwner, OpKind::GetLeaf, OpKind::Destroy,    OpKind::Init};
  // Linux 6.12 adds split, unlinked tables and range aging; a 6.1 stream draws exactly as it did
  // before they
  // existed.
  static constexpr OpKind kWeighted612[] = {OpKind::Map,
                                            OpKind::Map,
                                            OpKind::Map,
                                            OpKind::Map,
                                            OpKind::Unmap,
                                            OpKind::Unmap,
                                            OpKind::Wrprotect,
                                            OpKind::Mkyoung,
                                            OpKind::Mkold,
                                            OpKind::IsYoung,
                                            OpKind::RelaxPerms,
                                            OpKind::Flush,
                                            OpKind::SetOwner,
                                            OpKind::GetLeaf,
                                            OpKind::Destroy,
                                            OpKind::Init,
                                            OpKind::Arm64Split,
                                            OpKind::Arm64Split,
                                            OpKind::CreateUnlinked,
                                            OpKind::FreeUnlinked,
                                            OpKind::Arm64TestClearYoung};
  const bool linux612 = config.arm64.kernel == Arm64Kernel::Linux612;
  do {
    op.kind = linux612 ? kWeighted612[pick(rng, std::size(kWeighted612))]
                       : kWeighted[pick(rng, std::size(kWeighted))];
  } while (!allow_destroy && (op.kind == OpKind::Destroy || op.kind == OpKind::Init));
  OpShape shape = op_shape(op.kind);
  if (op.kind == OpKind::Init) {
    op.config = random_config(rng, Arch::Arm64S2);
    op.config.arm64.kernel = config.arm64.kernel;        // a stream keeps its profile
    op.config.arm64.tlb_range = config.arm64.tlb_range;  // and its CPU
    op.config.arm64.lpa2 = config.arm64.lpa2;
    return op;
  }
  if (op.kind == OpKind::Destroy) return op;
  if (op.kind == OpKind::CreateUnlinked) return random_create_unlinked(rng, config.arm64.pa_bits());
  if (op.kind == OpKind::FreeUnlinked) {
    op.addr = pick(rng, 4);  // which of the live ones
    return op;
  }
  op.addr = random_addr(rng, config);
  if (shape.size) op.size = random_size(rng);
  if (shape.phys)
    op.phys = config.arm64.idmap && chance(rng, 90)
                  ? op.addr
                  : random_phys(rng, op.addr, config.arm64.pa_bits());
  if (shape.prot) op.prot = random_prot(rng, op.kind == OpKind::Map || chance(rng, 10));
  if (shape.memcache)
    op.memcache = op.kind == OpKind::Arm64Split ? random_split_memcache(rng) : random_memcache(rng);
  if (shape.owner) op.owner = static_cast<uint8_t>(chance(rng, 90) ? pick(rng, 2) : pick(rng, 256));
  if (shape.mkold) op.mkold = chance(rng, 50);
  if (linux612 && op.kind == OpKind::Map) random_612_map_extras(rng, &op);
  return op;
}

Op random_wild_op(std::mt19937_64& rng, Arch arch) {
  return random_wild_op(rng, arch_profile(arch));
}

Op random_wild_op(std::mt19937_64& rng, ProfileId profile) {
  const Arch arch = profile_arch(profile);
  // A value of a random bit width 0..64, so small numbers are as likely as huge ones.
  auto wide = [&rng]() -> uint64_t {
    unsigned width = static_cast<unsigned>(pick(rng, 65));
    return width == 0 ? 0 : rng() >> (64 - width);
  };
  Op op;
  do {
    op.kind = static_cast<OpKind>(pick(rng, kOpKindCount));
  } while (!op_in_profile(op.kind, profile));
  op.addr = wide();
  op.size = wide();
  op.phys = wide();
  op.prot = rng() & prot::kAll;
  if (arch == Arch::X86Ept) {
    op.prot = op.kind == OpKind::ClearDirtyMasked ? wide() | 1 : rng() & x86::kFaultFlagsMask;
    op.level = static_cast<uint8_t>(1 + pick(rng, op.kind == OpKind::Split ? 2 : 3));
    op.owner = static_cast<uint8_t>(op.kind == OpKind::ClearDirtyMasked ? pick(rng, 2) : 0);
    op.config.arch = arch;
    op.config.x86 = x86gen::random_config(rng);
    op.config.x86.slot_base = wide() & ~(x86ept::kPageSize - 1);
    op.config.x86.slot_size = wide() & ~(x86ept::kPageSize - 1);
    op.config.x86.host_base = wide() & ~(x86ept::level_size(3) - 1);
    op.config.x86.host_mmio_pfn = wide();
    return canonical(op);
  }
  op.memcache = chance(rng, 10) && !always_has_cache(op.kind)
                    ? kNoMemcache
                    : static_cast<int32_t>(pick(rng, kMaxMemcache + 1));
  op.owner = static_cast<uint8_t>(pick(rng, 256));
  if (op.kind == OpKind::CreateUnlinked) {
    op.level = static_cast<uint8_t>(pick(rng, 3));
    op.owner &= 1;  // force_pte
  }
  if (profile == ProfileId::Arm64Linux612) {
    op.walk_flags = static_cast<uint8_t>(pick(rng, walk_flag::kAll + 1));
    op.mkold = chance(rng, 50);
    if (op.kind == OpKind::Map && chance(rng, 50)) op.prot |= prot::kNormalNc;
  }
  op.config.arm64.ia_bits =
      static_cast<uint8_t>(kMinIaBits + pick(rng, kMaxIaBits - kMinIaBits + 1));
  op.config.arm64.fwb = chance(rng, 50);
  op.config.arm64.nofwb = chance(rng, 50);
  op.config.arm64.idmap = chance(rng, 50);
  op.config.arm64.force_pte = static_cast<ForcePte>(pick(rng, 3));
  if (profile == ProfileId::Arm64Linux612) {
    op.config.arm64.kernel = Arm64Kernel::Linux612;
    op.config.arm64.lpa2 = chance(rng, 33);
  }
  return canonical(op);
}

void append_section(std::mt19937_64& rng, const Config& config, unsigned vcpus, size_t room,
                    Stream* stream) {
  const ProfileId profile = profile_id(config);
  // The operations below are drawn until one runs on a vCPU: on another profile none ever does.
  if (!runs_on_vcpu(OpKind::Map, profile) || room < 2) return;
  const size_t count = 2 + pick(rng, std::min(room, kMaxSectionOps) - 1);
  uint64_t hot = 0;
  for (size_t k = 0; k < count; ++k) {
    Op op;
    do op = random_op(rng, config, /*allow_destroy=*/false);
    while (!runs_on_vcpu(op.kind, profile));
    if (k == 0)
      hot = op.addr & ~uint64_t{0xfff};
    else if (chance(rng, 75))
      op.addr = hot + pick(rng, 4) * 0x1000 + (op.addr & 0xfff);
    if (op.kind == OpKind::Map) {
      // Mostly pages, as most faults are; now and then a block.
      const unsigned r = static_cast<unsigned>(pick(rng, 100));
      op.size = kFaultLeafSizes[r < 75 ? 0 : r < 95 ? 1 : 2];
      make_fault_map(op, config);
    }
    // Every vCPU gets an operation before any gets a second.
    op.vcpu = static_cast<uint8_t>(k < vcpus ? k : pick(rng, vcpus));
    if (k == 0) {
      op.opens_section = true;
      const size_t preemptions = pick(rng, 5);
      for (size_t p = 0; p < preemptions; ++p)
        op.schedule.push_back(
            {static_cast<uint32_t>(pick(rng, 12)), static_cast<uint8_t>(pick(rng, vcpus))});
    }
    stream->push_back(op);
  }
}

Stream random_stream(std::mt19937_64& rng, const RandomStreamOptions& options) {
  Stream s;
  Op init;
  init.kind = OpKind::Init;
  init.config.arch = options.arch;
  if (options.random_config) init.config = random_config(rng, options.arch);
  init.config.arm64.kernel = options.kernel;
  // Half of the 6.12 streams run on a CPU with FEAT_TLBIRANGE. Drawn only there, so the streams
  // of the other profiles are what they were.
  if (options.random_config && options.kernel == Arm64Kernel::Linux612 &&
      options.arch == Arch::Arm64S2) {
    init.config.arm64.tlb_range = chance(rng, 50);
    // A third of them on a CPU and host with FEAT_LPA2 (52-bit PAs).
    init.config.arm64.lpa2 = chance(rng, 33);
  }
  s.push_back(init);
  // The length is drawn from [min_ops, max_ops], clamped to what a stream may hold.
  size_t lo = std::min(options.min_ops, kMaxStreamOps);
  size_t hi = std::min(std::max(options.max_ops, lo), kMaxStreamOps);
  size_t n = lo + pick(rng, hi - lo + 1);
  Config current = init.config;
  const bool concurrent = options.vcpus >= 2 && options.arch == Arch::Arm64S2 &&
                          options.kernel == Arm64Kernel::Linux612;
  while (s.size() < n) {
    if (concurrent && n - s.size() >= 2 && chance(rng, 20)) {
      append_section(rng, current, std::min<unsigned>(options.vcpus, kMaxSectionVcpus),
                     n - s.size(), &s);
      continue;
    }
    Op op = random_op(rng, current, options.allow_destroy);
    if (op.kind == OpKind::Init) current = op.config;
    s.push_back(op);
    // A destroyed table takes no more operations until the next init, if there is room for one.
    if (op.kind == OpKind::Destroy && s.size() < n) {
      Op again;
      again.kind = OpKind::Init;
      again.config = random_config(rng, options.arch);
      again.config.arm64.kernel = options.kernel;
      again.config.arm64.tlb_range = current.arm64.tlb_range;
      again.config.arm64.lpa2 = current.arm64.lpa2;
      current = again.config;
      s.push_back(again);
    }
  }
  // Every command refuses a stream over the work budget: draw only what runs.
  fit_work_budget(&s);
  normalize_sections(s);
  return s;
}

}  // namespace mmudiff
