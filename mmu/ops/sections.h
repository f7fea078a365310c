// SPDX-License-Identifier: GPL-2.0-only
// Concurrent sections of a stream: what Linux 6.12's stage-2 faults do on several vCPUs at once,
// next to the single-writer operations. Since 6.2, user_mem_abort maps and relaxes permissions,
// and handle_access_fault makes a page young, as shared walks under the MMU lock held for read:
// they race one another with cmpxchg and a locked entry. The rest (unmap, wrprotect, split,
// test_clear_young, create/free_unlinked, destroy) holds the lock for write and runs alone.
//
// A section is a maximal run of consecutive operations on vCPUs (Op::vcpu), split before each
// operation that opens one (Op::opens_section); its first operation carries the schedule
// (mmu/sched/schedule.h) by which the deterministic scheduler interleaves the vCPUs. Each vCPU
// runs its operations in stream order. In .mmu text:
//
//   schedule 1>1 3>0
//   vcpu 0: map 0x40000000 2M pa=0x80000000 prot=r flags=shared,fault
//   vcpu 1: relax_perms 0x40001000 prot=w
//
// Only arm64-6.12 streams have sections, and on a vCPU only the shared walks and get_leaf, a
// lockless read. The shared walks are a fault's: map as user_mem_abort calls it, one page or
// block (4K, 2M or 1G; a page where force_pte says pages) at an address and PA aligned to it, with
// KVM_PGTABLE_WALK_SHARED and _HANDLE_FAULT (a lost race returns -EAGAIN rather than being
// skipped); relax_perms; mkyoung. A map of one leaf is all or nothing, which the linearizability
// oracle relies on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mmu/ops/op.h"

namespace mmudiff {

inline constexpr unsigned kMaxSectionVcpus = 4;
// Kept small: the linearizability oracle tries the serial orders of a section's operations.
inline constexpr size_t kMaxSectionOps = 8;
inline constexpr size_t kMaxSectionPreemptions = 16;

// The sizes a fault maps (4K granule): a page, a 2 MiB block, a 1 GiB block.
inline constexpr uint64_t kFaultLeafSizes[] = {uint64_t{1} << 12, uint64_t{1} << 21,
                                               uint64_t{1} << 30};
bool is_fault_leaf_size(uint64_t size);
// OP (a map) as a fault makes it on a table of CONFIG: the walk flags, a leaf's size (4K unless
// it is one, or where force_pte maps pages only), the address and PA aligned to it.
void make_fault_map(Op& op, const Config& config);

// Whether an operation of a stream of PROFILE may run on a vCPU in a section.
bool runs_on_vcpu(OpKind kind, ProfileId profile);

struct Section {
  size_t begin = 0, end = 0;  // [begin, end) of the stream
  unsigned vcpus = 0;         // the highest vCPU it uses, plus one
};

// The stream's sections, in order. Expects a normalized stream.
std::vector<Section> concurrent_sections(const Stream& stream);
bool has_sections(const Stream& stream);

// Makes every section well formed, as decoding, mutation or minimization may leave it: an
// operation that may not run on a vCPU (or any, outside arm64-6.12) becomes serial; vCPU numbers
// wrap below kMaxSectionVcpus; a map on a vCPU is made a fault's (make_fault_map); the first
// operation of each section opens it and only an opener carries a schedule (of at most
// kMaxSectionPreemptions preemptions to vCPUs of the section); a section of more than
// kMaxSectionOps operations is split. Everything else is left as it is.
void normalize_sections(Stream& stream);

// The stream without operations [BEGIN, END): a section that goes on after them keeps its
// schedule; normalized.
Stream without_ops(const Stream& stream, size_t begin, size_t end);

}  // namespace mmudiff
