// SPDX-License-Identifier: GPL-2.0-only
#include <optional>

#include "mmu/backend.h"

namespace mmudiff {

OpResult apply_op(Backend& backend, Machine& machine, const Op& op) {
  OpResult r;
  std::optional<Memcache> mc;
  if (op_shape(op.kind).memcache && op.memcache != kNoMemcache)
    mc.emplace(machine.memory, op.memcache);
  Memcache* mcp = mc ? &*mc : nullptr;
  switch (op.kind) {
    case OpKind::Init:
      if (backend.root().live()) backend.destroy();
      r.ret = backend.init(op.config);
      break;
    case OpKind::Destroy:
      backend.destroy();
      break;
    case OpKind::Map:
      r.ret = backend.map(op.addr, op.size, op.phys, op.prot, mcp);
      break;
    case OpKind::Unmap:
      r.ret = backend.unmap(op.addr, op.size);
      break;
    case OpKind::Wrprotect:
      r.ret = backend.wrprotect(op.addr, op.size);
      break;
    case OpKind::Mkyoung:
      r.value = backend.mkyoung(op.addr);
      break;
    case OpKind::Mkold:
      r.value = backend.mkold(op.addr);
      break;
    case OpKind::IsYoung:
      r.ret = backend.is_young(op.addr) ? 1 : 0;
      break;
    case OpKind::RelaxPerms:
      r.ret = backend.relax_perms(op.addr, op.prot);
      break;
    case OpKind::Flush:
      r.ret = backend.flush(op.addr, op.size);
      break;
    case OpKind::SetOwner:
      r.ret = backend.set_owner(op.addr, op.size, mcp, op.owner);
      break;
    case OpKind::GetLeaf: {
      uint64_t pte = 0;
      uint32_t level = 0;
      r.ret = backend.get_leaf(op.addr, &pte, &level);
      // The kernel leaves its out-parameters untouched on error: only a success has a value.
      if (r.ret == 0) {
        r.value = pte;
        r.level = level;
      }
      break;
    }
  }
  return r;
}

}  // namespace mmudiff
