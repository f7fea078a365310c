// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/ops/binary_format.h"

#include <algorithm>

#include "mmu/format/arm64_s2.h"

namespace mmudiff {

namespace {

namespace prot = arm64s2::prot;

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

OpKind kind_from_code(uint8_t code) {
  static_assert(kOpKindCount <= kKindCodes && kOpKindCount + 4 >= kKindCodes,
                "fold the remaining unused codes, or grow kKindCodes");
  unsigned k = code % kKindCodes;
  return static_cast<OpKind>(k < kOpKindCount ? k : k - 10);
}

bool decode_op(std::span<const uint8_t> bytes, size_t* offset, Op* out) {
  Reader r(bytes, *offset);
  uint8_t kind_byte;
  if (!r.byte(&kind_byte)) return false;
  Op op;
  op.kind = kind_from_code(kind_byte);
  OpShape shape = op_shape(op.kind);
  if (op.kind != OpKind::Init && op.kind != OpKind::Destroy && !r.varint(&op.addr)) return false;
  if (shape.size && !r.varint(&op.size)) return false;
  if (shape.phys && !r.varint(&op.phys)) return false;
  if (shape.prot) {
    uint8_t b;
    if (!r.byte(&b)) return false;
    op.prot = unpack_prot(b);
  }
  if (shape.memcache) {
    uint64_t v;
    if (!r.varint(&v)) return false;
    op.memcache =
        v == 0 ? kNoMemcache : static_cast<int32_t>(std::min<uint64_t>(v - 1, kMaxMemcache));
  }
  if (shape.owner && !r.byte(&op.owner)) return false;
  if (shape.config) {
    uint8_t ia, flags;
    if (!r.byte(&ia) || !r.byte(&flags)) return false;
    op.config.ia_bits = static_cast<uint8_t>(arm64s2::kMinIaBits + ia % 17);
    op.config.fwb = flags & 1;
    op.config.nofwb = flags & 2;
    op.config.idmap = flags & 4;
    unsigned f = (flags >> 3) & 3;
    op.config.force_pte = f == 1 ? ForcePte::Always : f == 2 ? ForcePte::Device : ForcePte::Never;
  }
  *offset = r.offset();
  *out = op;
  return true;
}

Stream decode_binary(std::span<const uint8_t> bytes) {
  Stream stream;
  size_t offset = 0;
  Op op;
  while (stream.size() < kMaxStreamOps && decode_op(bytes, &offset, &op)) stream.push_back(op);
  return stream;
}

void encode_op(const Op& op, std::vector<uint8_t>* out) {
  OpShape shape = op_shape(op.kind);
  out->push_back(static_cast<uint8_t>(op.kind));
  if (op.kind != OpKind::Init && op.kind != OpKind::Destroy) put_varint(op.addr, out);
  if (shape.size) put_varint(op.size, out);
  if (shape.phys) put_varint(op.phys, out);
  if (shape.prot) out->push_back(pack_prot(op.prot));
  if (shape.memcache) put_varint(op.memcache == kNoMemcache ? 0 : uint64_t(op.memcache) + 1, out);
  if (shape.owner) out->push_back(op.owner);
  if (shape.config) {
    out->push_back(static_cast<uint8_t>(op.config.ia_bits - arm64s2::kMinIaBits));
    unsigned f = op.config.force_pte == ForcePte::Always   ? 1
                 : op.config.force_pte == ForcePte::Device ? 2
                                                           : 0;
    out->push_back(static_cast<uint8_t>(op.config.fwb | (op.config.nofwb << 1) |
                                        (op.config.idmap << 2) | (f << 3)));
  }
}

std::vector<uint8_t> encode_binary(const Stream& stream) {
  std::vector<uint8_t> out;
  for (const Op& op : stream) encode_op(op, &out);
  return out;
}

}  // namespace mmudiff
