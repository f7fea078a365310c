// SPDX-License-Identifier: GPL-2.0-only
#include <cerrno>
#include <optional>
#include <stdexcept>

#include "mmu/backend.h"
#include "mmu/format/x86_ept.h"
#include "mmu/x86/fault_flags.h"
#include "mmu/x86/tdp_api.h"

namespace mmudiff {

namespace {

OpResult apply_arm64(Arm64S2Backend& backend, Machine& machine, const Op& op) {
  OpResult r;
  std::optional<Memcache> mc;
  if (op_shape(op.kind).memcache && op.memcache != kNoMemcache)
    mc.emplace(machine.memory, op.memcache);
  Memcache* mcp = mc ? &*mc : nullptr;
  switch (op.kind) {
    case OpKind::Init:
      if (backend.root().live()) backend.destroy();
      r.ret = backend.init(op.config.arm64);
      break;
    case OpKind::Destroy:
      backend.destroy();
      break;
    case OpKind::Map:
      r.ret = op.walk_flags ? backend.map_with_walk_flags(op.addr, op.size, op.phys, op.prot, mcp,
                                                          op.walk_flags)
                            : backend.map(op.addr, op.size, op.phys, op.prot, mcp);
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
    case OpKind::Arm64Split: {
      // The split cache always exists; "none" is an empty one.
      Memcache empty(machine.memory, 0);
      r.ret = backend.split(op.addr, op.size, mcp ? mcp : &empty);
      break;
    }
    case OpKind::CreateUnlinked: {
      Memcache empty(machine.memory, 0);
      r.ret =
          backend.create_unlinked(op.phys, op.level, op.prot, mcp ? mcp : &empty, op.owner != 0);
      break;
    }
    case OpKind::FreeUnlinked: {
      // Which table, and that there is none, is the harness's to say, alike for every backend.
      const size_t live = backend.unlinked_tables().size();
      if (live == 0)
        r.ret = -ENOENT;
      else
        backend.free_unlinked(op.addr % live);
      break;
    }
    case OpKind::Arm64TestClearYoung:
      r.ret = backend.test_clear_young(op.addr, op.size, op.mkold);
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
    default:
      throw std::logic_error("an x86 operation given to an arm64 backend");
  }
  return r;
}

// The host page backing GPA (x86::EptConfig::host_base).
uint64_t host_pfn(uint64_t gpa, const x86::EptConfig& vm) {
  const uint64_t space = vm.maxphyaddr >= 64 ? ~uint64_t{0} : (uint64_t{1} << vm.maxphyaddr) - 1;
  return ((gpa + vm.host_base) & space) >> x86ept::kPageShift;
}

uint64_t gfn(uint64_t gpa) {
  return gpa >> x86ept::kPageShift;
}
// The gfns of [addr, addr + size), pages rounded outwards; a range past the top is cut there.
uint64_t end_gfn(uint64_t addr, uint64_t size) {
  uint64_t end = addr + size < addr ? ~uint64_t{0} : addr + size;
  return (end >> x86ept::kPageShift) + ((end & (x86ept::kPageSize - 1)) != 0);
}

OpResult apply_x86(x86::TdpApi& backend, Machine& machine, const Op& op, const x86::EptConfig& vm) {
  OpResult r;
  const uint64_t slot_base = gfn(vm.slot_base), slot_pages = gfn(vm.slot_size);
  // The kernel's callers flush when a function says a flush is needed (kvm_mmu_zap_... and
  // friends in mmu.c); the flush is part of the operation.
  auto flush_if = [&](bool needed) {
    r.ret = needed ? 1 : 0;
    if (needed) machine.effects.tlbi_vmid();
  };
  switch (op.kind) {
    case OpKind::Init:
      if (backend.root().live()) backend.destroy();
      r.ret = backend.init(op.config.x86);
      break;
    case OpKind::Destroy:
      backend.destroy();
      break;
    case OpKind::Fault: {
      x86::TdpFault f;
      f.gfn = gfn(op.addr);
      f.pfn = host_pfn(op.addr, vm);
      f.max_level = op.level;
      f.write = op.prot & x86::kFaultWrite;
      f.exec = op.prot & x86::kFaultExec;
      f.prefetch = op.prot & x86::kFaultPrefetch;
      f.map_writable = !(op.prot & x86::kFaultHostReadOnly);
      f.dirty_logging = op.prot & x86::kFaultDirtyLogging;
      r.ret = backend.fault(f);
      break;
    }
    case OpKind::ZapLeafs:
      flush_if(backend.zap_leafs(gfn(op.addr), end_gfn(op.addr, op.size)));
      break;
    case OpKind::ZapAll:
      backend.zap_all();
      break;
    case OpKind::WrprotSlot:
      flush_if(
          backend.wrprot_slot(gfn(op.addr), end_gfn(op.addr, op.size) - gfn(op.addr), op.level));
      break;
    case OpKind::ClearDirty:
      flush_if(backend.clear_dirty_slot(gfn(op.addr), end_gfn(op.addr, op.size) - gfn(op.addr)));
      break;
    case OpKind::ClearDirtyMasked:
      // kvm_arch_mmu_enable_log_dirty_pt_masked: the caller flushes when the log is read out.
      backend.clear_dirty_masked(slot_base, slot_pages, gfn(op.addr), op.prot, op.owner != 0);
      machine.effects.tlbi_vmid();
      break;
    case OpKind::Age:
      r.ret = backend.age_gfn_range(gfn(op.addr), end_gfn(op.addr, op.size)) ? 1 : 0;
      break;
    case OpKind::TestAge:
      r.ret = backend.test_age_gfn(gfn(op.addr)) ? 1 : 0;
      break;
    case OpKind::Split:
      backend.split_huge_pages(gfn(op.addr), end_gfn(op.addr, op.size) - gfn(op.addr), gfn(op.addr),
                               end_gfn(op.addr, op.size), op.level);
      break;
    case OpKind::RecoverHuge:
      backend.zap_collapsible(gfn(op.addr), end_gfn(op.addr, op.size) - gfn(op.addr));
      break;
    case OpKind::WrprotGfn:
      flush_if(backend.write_protect_gfn(slot_base, slot_pages, gfn(op.addr), op.level));
      break;
    default:
      throw std::logic_error("an arm64 operation given to an x86 backend");
  }
  return r;
}

}  // namespace

OpResult apply_op(Backend& backend, Machine& machine, const Op& op, const Config& config) {
  if (auto* arm64 = dynamic_cast<Arm64S2Backend*>(&backend))
    return apply_arm64(*arm64, machine, op);
  if (auto* x86 = dynamic_cast<x86::TdpApi*>(&backend))
    return apply_x86(*x86, machine, op, op.kind == OpKind::Init ? op.config.x86 : config.x86);
  throw std::logic_error("a backend of no known architecture");
}

}  // namespace mmudiff
