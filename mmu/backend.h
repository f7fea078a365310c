// SPDX-License-Identifier: GPL-2.0-only
// The one interface every page-table backend implements. Operations go in with the kernel's
// arguments and come out with the kernel's return codes (negative errno), because return codes
// are part of the semantics being compared. Table pages live in the backend's Machine, where the
// oracles read them; hardware effects go to the Machine's EffectLog.
#pragma once

#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mmu/format/format.h"
#include "mmu/memory/effects.h"
#include "mmu/memory/sim_memory.h"
#include "mmu/ops/op.h"
#include "mmu/plants.h"

namespace mmudiff {

// What a backend runs on: its table memory and the record of what it did to the hardware.
struct Machine {
  explicit Machine(MemoryLimits limits = {}) : memory(limits) { effects.track_stores_in(memory); }
  // As new, for the next stream (SimMemory::reset): no backend may be left on it.
  void reset() {
    memory.reset();
    effects.clear();
  }
  // Shared by the vCPUs of a threaded run while on (mmu/sched/threaded_run.h).
  void set_concurrent(bool on) {
    memory.set_concurrent(on);
    effects.set_concurrent(on);
  }
  SimMemory memory;
  EffectLog effects;
};

// Where the oracles start walking: the concatenated start-level pages (x86: the one root page).
struct TableRoot {
  unsigned ia_bits = 0;
  unsigned start_level = 0;
  uint64_t pgd_pa = 0;  // first page; the others follow contiguously
  unsigned pgd_pages = 0;
  bool fwb = false;  // MemAttr uses the FWB encoding
  // The descriptor format of the pages: what the oracles read them with.
  const DescriptorFormat* format = &default_format();

  bool live() const { return pgd_pages != 0; }
  // The same kind of table, wherever its pages are: what makes two tables' entries comparable
  // place by place.
  bool same_shape(const TableRoot& o) const {
    return format == o.format && fwb == o.fwb && ia_bits == o.ia_bits &&
           start_level == o.start_level && pgd_pages == o.pgd_pages;
  }
};

// A table Linux 6.12's kvm_pgtable_stage2_create_unlinked built and nothing links yet: its page,
// and the level of the entry it would be linked from (the kernel's `level` argument). Its entries
// are at level + 1 and translate [0, granule_size(level)) as far as anything can tell.
struct UnlinkedTable {
  uint64_t pa = 0;
  unsigned level = 0;
  bool operator==(const UnlinkedTable&) const = default;
};

// What every backend is, whatever its architecture: a table the oracles can read (root()), that
// destroy() frees, and the problems it noticed in itself. The operations are the architecture's:
// Arm64S2Backend here, x86::TdpApi (mmu/x86/tdp_api.h) for x86 EPT; apply_op() takes an Op to
// them.
class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string_view name() const = 0;
  // Frees every table page; afterwards the Machine's memory must hold no live page.
  virtual void destroy() = 0;
  virtual TableRoot root() const = 0;
  // Problems the backend noticed in itself (the kernel's WARN_ON, a failed self-check).
  virtual std::vector<std::string> take_warnings() { return {}; }
};

// The arm64 stage-2 operations: Linux's kvm_pgtable API.
class Arm64S2Backend : public Backend {
 public:
  // 0, or -ENOMEM when the start-level pages cannot be allocated.
  virtual int init(const Arm64S2Config& config) = 0;

  virtual int map(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot, Memcache* mc) = 0;
  virtual int unmap(uint64_t addr, uint64_t size) = 0;
  virtual int wrprotect(uint64_t addr, uint64_t size) = 0;
  virtual uint64_t mkyoung(uint64_t addr) = 0;
  virtual uint64_t mkold(uint64_t addr) = 0;
  virtual bool is_young(uint64_t addr) = 0;
  virtual int relax_perms(uint64_t addr, uint64_t prot) = 0;
  virtual int flush(uint64_t addr, uint64_t size) = 0;
  virtual int set_owner(uint64_t addr, uint64_t size, Memcache* mc, uint8_t owner) = 0;
  virtual int get_leaf(uint64_t addr, uint64_t* pte, uint32_t* level) = 0;
  // Linux 6.12's kvm_pgtable_stage2_split: the valid blocks in the range become tables, as far as
  // the pages of mc (the split cache; never NULL) allow. Only arm64-6.12 streams have it: a
  // backend of a kernel without it (Linux 6.1) says -EOPNOTSUPP.
  virtual int split(uint64_t /*addr*/, uint64_t /*size*/, Memcache* /*mc*/) { return -EOPNOTSUPP; }
  // Linux 6.12's kvm_pgtable_stage2_create_unlinked: a table at `level` mapping
  // granule_size(level) from phys, from the pages of mc (never NULL). 0 when it was built, which
  // the backend then keeps (unlinked_tables()) until free_unlinked or destroy frees it; otherwise
  // the kernel's ERR_PTR value. 6.1 has none: -EOPNOTSUPP.
  virtual int create_unlinked(uint64_t /*phys*/, unsigned /*level*/, uint64_t /*prot*/,
                              Memcache* /*mc*/, bool /*force_pte*/) {
    return -EOPNOTSUPP;
  }
  // kvm_pgtable_stage2_free_unlinked of unlinked_tables()[index], which must exist.
  virtual void free_unlinked(size_t /*index*/) {}
  // The live unlinked tables, oldest first.
  virtual std::vector<UnlinkedTable> unlinked_tables() const { return {}; }
  // Linux 6.12's kvm_pgtable_stage2_map with walk flags (walk_flag bits: SHARED, HANDLE_FAULT)
  // added to its own; map() is this with none. Only arm64-6.12 streams have flags: a backend of
  // a kernel without them (Linux 6.1) says -EOPNOTSUPP for any.
  virtual int map_with_walk_flags(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot,
                                  Memcache* mc, uint8_t walk_flags) {
    return walk_flags ? -EOPNOTSUPP : map(addr, size, phys, prot, mc);
  }
  // Linux 6.12's kvm_pgtable_stage2_test_clear_young over a range: 1 when a valid leaf it
  // visited had its access flag set (mkold: now cleared), else 0. -EOPNOTSUPP without it (6.1).
  virtual int test_clear_young(uint64_t /*addr*/, uint64_t /*size*/, bool /*mkold*/) {
    return -EOPNOTSUPP;
  }
};

// A set of profiles, one bit per ProfileId.
using ProfileSet = uint8_t;
constexpr ProfileSet profile_bit(ProfileId id) {
  return static_cast<ProfileSet>(1u << static_cast<unsigned>(id));
}

struct BackendInfo {
  std::string_view name;  // unique within an architecture: "walker" exists for each
  Arch arch;
  // The profiles whose semantics it implements (a kernel: its own); a run of a stream takes the
  // backends of the stream's profile.
  ProfileSet profiles;
  std::string_view description;
  std::unique_ptr<Backend> (*create)(Machine& machine, Plant plant);
  // The ground truth of its profiles: the others are compared with it, and what every backend
  // does alike, it included, is its behaviour rather than a divergence (the real kernel's code).
  bool reference = false;
  // Its shared walks make the kernel's scheduling points (mmu/sched/deterministic_scheduler.h):
  // it runs concurrent sections (mmu/ops/sections.h), interleaved as the reference is.
  bool shared_walks = false;

  bool implements(ProfileId id) const { return (profiles & profile_bit(id)) != 0; }
};

// Every backend compiled into this build, in a fixed order.
const std::vector<BackendInfo>& registered_backends();
// Those implementing one profile, in the same order.
const std::vector<BackendInfo>& backends_of(ProfileId id);
const BackendInfo* find_backend(std::string_view name, ProfileId id);
// Those of the architecture's first profile (arm64: Linux 6.1).
inline const std::vector<BackendInfo>& backends_of(Arch arch) {
  return backends_of(arch_profile(arch));
}
// The profile of a list of backend names when every backend of every name implements that one
// profile and no other (linux612 and a user's 6.12 tree); nullopt otherwise ("walker" is in
// several, "all" in every one).
std::optional<ProfileId> sole_profile(const std::vector<std::string>& names);
// The backend of that name of an architecture, whichever profiles it implements.
const BackendInfo* find_backend(std::string_view name, Arch arch = Arch::Arm64S2);

// An arm64 backend's own interface; std::logic_error for a backend of another architecture.
Arm64S2Backend& as_arm64(Backend& backend);
std::unique_ptr<Arm64S2Backend> create_arm64(const BackendInfo& info, Machine& machine,
                                             Plant plant);

// Runs one operation on a backend of the operation's architecture, with a memcache of
// op.memcache pages where it takes one. x86 operations whose kernel function leaves the flush
// to its caller (a true return) are followed by the caller's flush, as mmu.c does.
// `current` is the configuration of the live table (the memslot of x86 gfn operations).
OpResult apply_op(Backend& backend, Machine& machine, const Op& op, const Config& current = {});

}  // namespace mmudiff
