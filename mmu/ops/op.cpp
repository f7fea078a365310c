// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/ops/op.h"

#include <array>

namespace mmudiff {

static constexpr std::array<std::string_view, kOpKindCount> kNames = {
    "init",  "destroy",  "map",         "unmap", "wrprotect", "mkyoung",
    "mkold", "is_young", "relax_perms", "flush", "set_owner", "get_leaf"};

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

OpShape op_shape(OpKind kind) {
  switch (kind) {
    case OpKind::Init:
      return {false, false, false, false, false, true};
    case OpKind::Destroy:
      return {false, false, false, false, false, false};
    case OpKind::Map:
      return {true, true, true, true, false, false};
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
  }
  return {};
}

Op canonical(Op op) {
  OpShape s = op_shape(op.kind);
  Op out;
  out.kind = op.kind;
  if (op.kind != OpKind::Init && op.kind != OpKind::Destroy) out.addr = op.addr;
  if (s.size) out.size = op.size;
  if (s.phys) out.phys = op.phys;
  if (s.prot) out.prot = op.prot;
  if (s.memcache) out.memcache = op.memcache;
  if (s.owner) out.owner = op.owner;
  if (s.config) out.config = op.config;
  return out;
}

}  // namespace mmudiff
