// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/ops/binary_format.h"

#include <algorithm>

#include "mmu/format/arm64_s2.h"
#include "mmu/format/x86_ept.h"
#include "mmu/ops/sections.h"
#include "mmu/x86/fault_flags.h"

namespace mmudiff {

namespace {

namespace prot = arm64s2::prot;

// Bit 5 of an init's flags byte: the configuration that follows is x86's.
constexpr uint8_t kX86ConfigFlag = 1 << 5;
// Bit 6 of an arm64 init's flags byte: the table follows Linux 6.12's stage-2 code.
constexpr uint8_t kLinux612Flag = 1 << 6;
// Bit 7 of an arm64 init's flags byte: the CPU has FEAT_TLBIRANGE. Honoured only in arm64-6.12
// streams (6.1 never asks), so every arm64-6.1 input decodes as it did before the bit had a
// meaning.
constexpr uint8_t kTlbRangeFlag = 1 << 7;
// Bit 7 of an arm64-6.12 init's IA byte: the CPU has FEAT_LPA2 (the flags byte is full). The IA
// is then taken from the other seven bits; in 6.1 streams the whole byte is the IA, as before.
constexpr uint8_t kLpa2IaFlag = 1 << 7;

// The kind byte of an operation that may run on a vCPU (mmu/ops/sections.h), in an arm64-6.12
// stream: bit 4 puts it on vCPU bits 5-6; bit 7 opens a section, and its schedule follows the
// kind byte. In any other operation or stream these bits are ignored, as they always were.
constexpr uint8_t kOnVcpuBit = 1 << 4;
constexpr unsigned kVcpuShift = 5;
constexpr uint8_t kOpensSectionBit = 1 << 7;

// The byte after a 6.12 map's operands: NORMAL_NC (a prot bit the prot byte has no room for) and
// the walk flags.
constexpr uint8_t kMapNormalNc = 1 << 0;
constexpr uint8_t kMapWalkShared = 1 << 1;
constexpr uint8_t kMapWalkHandleFault = 1 << 2;

uint8_t pack_map_extras(const Op& op) {
  return static_cast<uint8_t>(
      ((op.prot & prot::kNormalNc) ? kMapNormalNc : 0) |
      ((op.walk_flags & walk_flag::kShared) ? kMapWalkShared : 0) |
      ((op.walk_flags & walk_flag::kHandleFault) ? kMapWalkHandleFault : 0));
}

void unpack_map_extras(uint8_t b, Op* op) {
  if (b & kMapNormalNc) op->prot |= prot::kNormalNc;
  op->walk_flags = static_cast<uint8_t>(((b & kMapWalkShared) ? walk_flag::kShared : 0) |
                                        ((b & kMapWalkHandleFault) ? walk_flag::kHandleFault : 0));
}

class Reader {
 public:
  Reader(std::span<const uint8_t> bytes, size_t offset) : bytes_(bytes), pos_(offset) {}

  bool byte(uint8_t* out) {
    if (pos_ >= bytes_.size()) return false;
    *out = bytes_[pos_++];
    return true;
  }

  bool varint(uint64_t* out) {
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; ++i) {
      uint8_t b;
      if (!byte(&b)) return false;
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) break;
    }
    *out = v;
    return true;
  }

  size_t offset() const { return pos_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_;
};

void put_varint(uint64_t v, std::vector<uint8_t>* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<uint8_t>(v));
}

uint8_t pack_prot(uint64_t p) {
  return static_cast<uint8_t>((p & 0xf) | (((p & prot::kSwMask) >> 55) << 4));
}

uint64_t unpack_prot(uint8_t b) {
  return (b & 0xf) | (static_cast<uint64_t>(b >> 4) << 55);
}

}  // namespace

// arm64: init, destroy and its ten operations are codes 0-11, and in arm64-6.12 streams only,
// split is code 12, test_clear_young 13, create_unlinked 14 and free_unlinked 15; x86: init,
// destroy, then its eleven operations from Fault on are codes 2-12. In arm64-6.1 and x86 streams
// codes past those fold back onto the first operations after destroy, so the decoding of every
// arm64-6.1 byte string is what it was before split existed.
constexpr unsigned kArm64Codes = static_cast<unsigned>(OpKind::Fault);  // 12
constexpr unsigned kArm64SplitCode = kArm64Codes;                       // 12, 6.12 only
constexpr unsigned kArm64TestClearYoungCode = kArm64Codes + 1;          // 13, 6.12 only
constexpr unsigned kCreateUnlinkedCode = kArm64Codes + 2;               // 14, 6.12 only
constexpr unsigned kFreeUnlinkedCode = kArm64Codes + 3;                 // 15, 6.12 only
constexpr unsigned kX86First = static_cast<unsigned>(OpKind::Fault);
constexpr unsigned kX86Codes = 2 + static_cast<unsigned>(OpKind::WrprotGfn) + 1 - kX86First;  // 13
static_assert(kFreeUnlinkedCode < kKindCodes && kX86Codes <= kKindCodes);

OpKind kind_from_code(uint8_t code, ProfileId profile) {
  unsigned k = code % kKindCodes;
  const Arch arch = profile_arch(profile);
  if (profile == ProfileId::Arm64Linux612) {
    // Every code has a kind of its own: nothing folds.
    if (k == kArm64SplitCode) return OpKind::Arm64Split;
    if (k == kArm64TestClearYoungCode) return OpKind::Arm64TestClearYoung;
    if (k == kCreateUnlinkedCode) return OpKind::CreateUnlinked;
    if (k == kFreeUnlinkedCode) return OpKind::FreeUnlinked;
    return static_cast<OpKind>(k);
  }
  unsigned codes = arch == Arch::X86Ept ? kX86Codes : kArm64Codes;
  if (k >= codes) k = 2 + (k - codes);
  if (k < 2 || arch == Arch::Arm64S2) return static_cast<OpKind>(k);
  return static_cast<OpKind>(kX86First + k - 2);
}

OpKind kind_from_code(uint8_t code, Arch arch) {
  return kind_from_code(code, arch_profile(arch));
}

namespace {

uint8_t code_of(OpKind kind) {
  if (kind == OpKind::Arm64Split) return kArm64SplitCode;
  if (kind == OpKind::Arm64TestClearYoung) return kArm64TestClearYoungCode;
  if (kind == OpKind::CreateUnlinked) return kCreateUnlinkedCode;
  if (kind == OpKind::FreeUnlinked) return kFreeUnlinkedCode;
  unsigned k = static_cast<unsigned>(kind);
  return static_cast<uint8_t>(k >= kX86First ? k - kX86First + 2 : k);
}

uint8_t level_from_byte(OpKind kind, uint8_t b) {
  // create_unlinked: the level of the entry the table would replace, 0..2 (level 3 has no table
  // below it: the kernel WARNs).
  if (kind == OpKind::CreateUnlinked) return static_cast<uint8_t>(b % 3);
  return static_cast<uint8_t>(1 + b % (kind == OpKind::Split ? 2 : 3));
}

bool decode_x86_config(Reader& r, uint8_t b0, uint8_t flags, x86::EptConfig* c) {
  uint8_t levels;
  if (!r.byte(&levels)) return false;
  c->maxphyaddr = static_cast<uint8_t>(x86ept::kMinMaxPhyAddr + b0 % 17);
  c->levels = flags & 1 ? 5 : 4;
  c->ad = flags & 2;
  c->execonly = flags & 4;
  c->nx_huge_pages = flags & 8;
  c->max_level = static_cast<uint8_t>(1 + (levels & 3) % 3);
  c->host_level = static_cast<uint8_t>(1 + ((levels >> 2) & 3) % 3);
  if (!r.varint(&c->slot_base) || !r.varint(&c->slot_size) || !r.varint(&c->host_base) ||
      !r.varint(&c->host_mmio_pfn))
    return false;
  c->host_base &= ~(x86ept::level_size(3) - 1);  // whole GiBs
  c->slot_base &= ~(x86ept::kPageSize - 1);      // a memslot is whole pages
  c->slot_size &= ~(x86ept::kPageSize - 1);
  return true;
}

void encode_x86_config(const x86::EptConfig& c, std::vector<uint8_t>* out) {
  out->push_back(static_cast<uint8_t>(c.maxphyaddr - x86ept::kMinMaxPhyAddr));
  out->push_back(static_cast<uint8_t>(kX86ConfigFlag | (c.levels == 5) | (c.ad << 1) |
                                      (c.execonly << 2) | (c.nx_huge_pages << 3)));
  out->push_back(static_cast<uint8_t>((c.max_level - 1) | ((c.host_level - 1) << 2)));
  put_varint(c.slot_base, out);
  put_varint(c.slot_size, out);
  put_varint(c.host_base, out);
  put_varint(c.host_mmio_pfn, out);
}

// A section's schedule: a count byte (modulo kMaxSectionPreemptions + 1), then per preemption
// AFTER as LEB128 (at most 2^32 - 1) and the vCPU byte (modulo kMaxSectionVcpus).
bool read_schedule(Reader& r, sched::Schedule* schedule) {
  uint8_t count;
  if (!r.byte(&count)) return false;
  schedule->resize(count % (kMaxSectionPreemptions + 1));
  for (sched::Preemption& p : *schedule) {
    uint64_t after;
    uint8_t to;
    if (!r.varint(&after) || !r.byte(&to)) return false;
    p.after = static_cast<uint32_t>(std::min<uint64_t>(after, UINT32_MAX));
    p.to = static_cast<uint8_t>(to % kMaxSectionVcpus);
  }
  return true;
}

void write_schedule(const sched::Schedule& schedule, std::vector<uint8_t>* out) {
  out->push_back(static_cast<uint8_t>(schedule.size()));
  for (const sched::Preemption& p : schedule) {
    put_varint(p.after, out);
    out->push_back(p.to);
  }
}

}  // namespace

bool decode_op(std::span<const uint8_t> bytes, size_t* offset, Op* out, ProfileId profile) {
  const Arch arch = profile_arch(profile);
  Reader r(bytes, *offset);
  uint8_t kind_byte;
  if (!r.byte(&kind_byte)) return false;
  Op op;
  op.kind = kind_from_code(kind_byte, profile);
  if ((kind_byte & kOnVcpuBit) && runs_on_vcpu(op.kind, profile)) {
    op.vcpu = static_cast<uint8_t>((kind_byte >> kVcpuShift) & 3);
    op.opens_section = kind_byte & kOpensSectionBit;
    if (op.opens_section && !read_schedule(r, &op.schedule)) return false;
  }
  OpShape shape = op_shape(op.kind);
  if (shape.addr && !r.varint(&op.addr)) return false;
  if (shape.size && !r.varint(&op.size)) return false;
  if (shape.phys && !r.varint(&op.phys)) return false;
  if (shape.prot && op.kind == OpKind::ClearDirtyMasked) {
    if (!r.varint(&op.prot)) return false;
  } else if (shape.prot) {
    uint8_t b;
    if (!r.byte(&b)) return false;
    op.prot = op.kind == OpKind::Fault ? b & x86::kFaultFlagsMask : unpack_prot(b);
  }
  if (shape.level) {
    uint8_t b;
    if (!r.byte(&b)) return false;
    op.level = level_from_byte(op.kind, b);
  }
  if (shape.memcache) {
    uint64_t v;
    if (!r.varint(&v)) return false;
    op.memcache =
        v == 0 ? kNoMemcache : static_cast<int32_t>(std::min<uint64_t>(v - 1, kMaxMemcache));
    // A split or create_unlinked always has its cache: "none" reads as an empty one.
    if (always_has_cache(op.kind) && op.memcache == kNoMemcache) op.memcache = 0;
  }
  if (shape.owner && !r.byte(&op.owner)) return false;
  // create_unlinked's owner field is its force_pte flag.
  if (op.kind == OpKind::CreateUnlinked) op.owner &= 1;
  if (shape.mkold) {
    uint8_t b;
    if (!r.byte(&b)) return false;
    op.mkold = b & 1;
  }
  if (op.kind == OpKind::Map && profile == ProfileId::Arm64Linux612) {
    uint8_t b;
    if (!r.byte(&b)) return false;
    unpack_map_extras(b, &op);
  }
  // clear_dirty_masked's owner field is its wrprot flag.
  if (op.kind == OpKind::ClearDirtyMasked) op.owner &= 1;
  if (shape.config) {
    uint8_t ia, flags;
    if (!r.byte(&ia) || !r.byte(&flags)) return false;
    // The stream's architecture is its first init's; later inits keep it.
    bool x86 = arch == Arch::X86Ept || (*offset == 0 && (flags & kX86ConfigFlag));
    if (x86) {
      op.config.arch = Arch::X86Ept;
      if (!decode_x86_config(r, ia, flags, &op.config.x86)) return false;
      *offset = r.offset();
      *out = op;
      return true;
    }
    op.config.arm64.fwb = flags & 1;
    op.config.arm64.nofwb = flags & 2;
    op.config.arm64.idmap = flags & 4;
    unsigned f = (flags >> 3) & 3;
    op.config.arm64.force_pte = f == 1   ? ForcePte::Always
                                : f == 2 ? ForcePte::Device
                                         : ForcePte::Never;
    const bool linux612 =
        *offset == 0 ? (flags & kLinux612Flag) != 0 : profile == ProfileId::Arm64Linux612;
    op.config.arm64.kernel = linux612 ? Arm64Kernel::Linux612 : Arm64Kernel::Linux61;
    op.config.arm64.tlb_range = linux612 && (flags & kTlbRangeFlag);
    op.config.arm64.lpa2 = linux612 && (ia & kLpa2IaFlag);
    if (linux612) ia &= static_cast<uint8_t>(~kLpa2IaFlag);
    op.config.arm64.ia_bits = static_cast<uint8_t>(arm64s2::kMinIaBits + ia % 17);
  }
  *offset = r.offset();
  *out = op;
  return true;
}

Stream decode_binary(std::span<const uint8_t> bytes) {
  Stream stream;
  size_t offset = 0;
  Op op;
  ProfileId profile = ProfileId::Arm64Linux61;
  while (stream.size() < kMaxStreamOps && decode_op(bytes, &offset, &op, profile)) {
    stream.push_back(op);
    if (op.kind == OpKind::Init) profile = profile_id(op.config);
  }
  normalize_sections(stream);
  return stream;
}

void encode_op(const Op& op, std::vector<uint8_t>* out, ProfileId profile) {
  OpShape shape = op_shape(op.kind);
  if (op.vcpu != kSerial && runs_on_vcpu(op.kind, profile)) {
    out->push_back(static_cast<uint8_t>(code_of(op.kind) | kOnVcpuBit |
                                        ((op.vcpu & 3) << kVcpuShift) |
                                        (op.opens_section ? kOpensSectionBit : 0)));
    if (op.opens_section) write_schedule(op.schedule, out);
  } else {
    out->push_back(code_of(op.kind));
  }
  if (shape.addr) put_varint(op.addr, out);
  if (shape.size) put_varint(op.size, out);
  if (shape.phys) put_varint(op.phys, out);
  if (op.kind == OpKind::ClearDirtyMasked)
    put_varint(op.prot, out);
  else if (op.kind == OpKind::Fault)
    out->push_back(static_cast<uint8_t>(op.prot & x86::kFaultFlagsMask));
  else if (shape.prot)
    out->push_back(pack_prot(op.prot));
  if (shape.level)
    out->push_back(
        static_cast<uint8_t>(op.kind == OpKind::CreateUnlinked ? op.level : op.level - 1));
  if (shape.memcache) put_varint(op.memcache == kNoMemcache ? 0 : uint64_t(op.memcache) + 1, out);
  if (shape.owner) out->push_back(op.owner);
  if (shape.mkold) out->push_back(op.mkold ? 1 : 0);
  if (op.kind == OpKind::Map && profile == ProfileId::Arm64Linux612)
    out->push_back(pack_map_extras(op));
  if (shape.config && op.config.arch == Arch::X86Ept) {
    encode_x86_config(op.config.x86, out);
  } else if (shape.config) {
    const bool linux612 = op.config.arm64.kernel == Arm64Kernel::Linux612;
    out->push_back(static_cast<uint8_t>((op.config.arm64.ia_bits - arm64s2::kMinIaBits) |
                                        (linux612 && op.config.arm64.lpa2 ? kLpa2IaFlag : 0)));
    unsigned f = op.config.arm64.force_pte == ForcePte::Always   ? 1
                 : op.config.arm64.force_pte == ForcePte::Device ? 2
                                                                 : 0;
    out->push_back(static_cast<uint8_t>(
        op.config.arm64.fwb | (op.config.arm64.nofwb << 1) | (op.config.arm64.idmap << 2) |
        (f << 3) | (linux612 ? kLinux612Flag : 0) |
        (linux612 && op.config.arm64.tlb_range ? kTlbRangeFlag : 0)));
  }
}

std::vector<uint8_t> encode_binary(const Stream& stream) {
  std::vector<uint8_t> out;
  ProfileId profile = ProfileId::Arm64Linux61;
  for (const Op& op : stream) {
    encode_op(op, &out, profile);
    if (op.kind == OpKind::Init && &op == &stream.front()) profile = profile_id(op.config);
  }
  return out;
}

}  // namespace mmudiff
