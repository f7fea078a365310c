// SPDX-License-Identifier: GPL-2.0-only
// Checks a backend's hardware effects, operation by operation, against a model of what the
// hardware may cache and what it needs to see (docs/oracles.md, "effects", gives each rule with
// the Arm ARM section it comes from):
//  - a TLB and walk cache that may hold any valid entry the tables held since its last
//    invalidation, each tagged with the level it came from. A TLBI by IPA with a level hint
//    removes only entries of that level, without a hint (0) entries of any level; a VMID-wide
//    TLBI removes everything. What an operation leaves cached that the tables no longer say is
//    judged by what it would let the guest do: more access or another output address is
//    security, a stale walk-cache entry (a table the walker may still follow) is security, less
//    access left behind by relax_perms, whose contract is to flush, is functional;
//  - a table page freed while still linked, or while the walk cache may still hold an entry that
//    points to it (unlinked, and no TLBI that removes that entry between the unlink and the
//    free), is security: the page may be reused while a walker follows it (6.12 frees unlinked
//    tables after the flush of their break-before-make, seed 004);
//  - break-before-make: a valid entry may not be written while the TLB may still hold an entry
//    for an overlapping range that conflicts with it (another output address, memory type,
//    shareability or size);
//  - cache maintenance: without FWB, a leaf that newly maps cacheable memory needs a
//    clean+invalidate to the PoC of its whole output range before it is stored, and an unmapped
//    cacheable leaf one after its invalidation; flush cleans every cacheable leaf in its range; a
//    leaf that becomes executable needs the instruction cache invalidated to the PoU first; a
//    maintenance operation that serves no such leaf (device memory, a wrong size) is reported.
// Documented exceptions, as the kernel's callers flush instead: clearing the access flag (mkold:
// clear_flush_young) and losing write permission in wrprotect (kvm_mmu_wp_memory_region flushes
// the VMID afterwards).
//
// x86 EPT has its own rules (effects_check_x86.cpp): ranged flushes instead of level hints, no
// break-before-make and no cache maintenance, and what an operation leaves cached judged against
// the tables' translation page by page, dirty logging included.
//
// It follows the tables through the recorded descriptor stores alone (a shadow of every table
// page), so a write that bypasses the record is itself reported.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <unordered_map>
#include <vector>

#include "mmu/backend.h"
#include "oracles/objection.h"
#include "oracles/objection_sink.h"

namespace mmudiff {

// One effect as every backend can be compared on it: a descriptor store named by the entry's
// level and IPA (a backend's table pages live elsewhere) with table addresses masked, a TLBI, a
// barrier, a cache-maintenance operation.
struct TraceEntry {
  EffectKind kind;
  bool linked = true;  // a store: into a table reachable from the root
  uint8_t level = 0;   // a store: the entry's level; a TLBI: its level hint
  Barrier barrier = Barrier::None;
  uint64_t addr = 0;  // a store: the entry's IPA (its index when unlinked); TLBI: IPA; CMO: PA
  uint64_t size = 0;
  uint64_t old_value = 0;
  uint64_t new_value = 0;

  bool operator==(const TraceEntry&) const = default;
  std::string describe() const;
};

class EffectsChecker {
 public:
  // A new table: its start-level pages are where the walk begins; arch picks the TLB's rules.
  // unmap_defers_tlbi: the table's unmap defers its leaves' TLBIs into range TLBIs over the
  // range its caller named (Linux 6.12 with FEAT_TLBIRANGE and FWB): unmap then owes the
  // invalidation of those pages only, not of the rest of a leaf it dropped whole.
  void reset(const TableRoot& root, Arch arch = Arch::Arm64S2, bool unmap_defers_tlbi = false);
  void clear();

  // FREES: the pages the operation freed and where among EVENTS (EffectLog::frees()).
  std::vector<Objection> check(std::span<const Effect> events, const Op& op,
                               std::span<const PageFree> frees = {});
  // The last checked operation's effects, comparable across backends. Kept only while tracing
  // (the default): a harness whose other backends follow this one's effects (EffectsMirror) has
  // no trace to compare (building it cost 2 % of the harness's instructions).
  const std::vector<TraceEntry>& trace() const { return trace_; }
  // Where among the events the last checked operation freed table pages, and which (as the
  // tables placed them): not part of trace(), since kernels free at different points alike, but
  // a backend judged by another's verdict must free as it does.
  struct FreeTraceEntry {
    size_t after;
    bool linked;  // still linked when freed (else unlinked by the operation, or unknown)
    unsigned level;
    uint64_t ipa;
    bool operator==(const FreeTraceEntry&) const = default;
  };
  const std::vector<FreeTraceEntry>& free_trace() const { return free_trace_; }
  void set_tracing(bool on) { tracing_ = on; }

  // What the trace of each event of the last checked operation rests on, for EffectsMirror to
  // hold another backend's events to it: a store's masking level and which of its values the
  // trace masked as table descriptors, and how far into detached_pages() the pages it took out of
  // reach go.
  struct EventRecord {
    uint8_t level = 0;
    bool old_table = false, new_table = false;
    uint32_t detached_end = 0;
  };
  const std::vector<EventRecord>& event_records() const { return records_; }
  const std::vector<uint64_t>& detached_pages() const { return detached_; }

 private:
  static constexpr unsigned kMaxLevels = 5;
  struct Page {
    bool linked = false;  // reachable from the root as far as the stores tell
    bool blank = true;    // no store since it was zeroed: it links no table below it
    unsigned level = 0;
    uint64_t base = 0;
    std::array<uint64_t, 512> entries{};
  };
  struct Range {
    uint64_t start, end;  // [start, end)
    auto operator<=>(const Range&) const = default;
  };
  // A cleaned-after-unmap obligation: the leaf's output range and where its entry was.
  struct PendingClean {
    Range range;
    unsigned level;
    uint64_t ipa;
    uint64_t desc;
  };

  Page& page_for_store(uint64_t page_pa);
  void process_store(const Effect& e, const Op& op, ObjectionSink& out);
  void link(uint64_t page_pa, unsigned level, uint64_t base, unsigned depth);
  // Takes PAGE_PA's subtree out of reach; the entry (LEVEL, IPA) held DESC, which pointed to it.
  void detach(uint64_t page_pa, unsigned depth, unsigned level, uint64_t ipa, uint64_t desc);
  void process_free(const PageFree& free, ObjectionSink& out);
  void invalidate(uint64_t ipa, unsigned hint);
  // x86: every cached entry, leaf or paging-structure, translating a GPA of [start, start + size).
  void invalidate_range(uint64_t start, uint64_t size);
  // arm64, a range TLBI (TLBI RIPAS2E1IS, no level hint) over r: every cached entry of any level
  // wholly inside r, walk-cache copies of table entries included. An entry reaching past r may
  // be held in pieces (a block cached as smaller entries) that r does not all reach: it stays.
  void invalidate_arm64_range(Range r);
  // The pages of [ipa, ipa + granule) the operation owes an invalidation of: all of them, but
  // under a deferring unmap only those within the range the caller named (owed_).
  Range owed_part(uint64_t ipa, uint64_t granule) const;
  // An unmapped cacheable leaf: its output range must be cleaned after its invalidation.
  void owe_clean(Range r, unsigned level, uint64_t ipa, uint64_t desc);
  // The entry the tables hold now at (level, ipa), following linked tables from the root; 0 when
  // no linked table reaches that far.
  uint64_t current(unsigned level, uint64_t ipa) const;
  void check_conflicts(unsigned level, uint64_t ipa, uint64_t old, uint64_t neu,
                       ObjectionSink& out) const;
  void judge_stale(const Op& op, ObjectionSink& out) const;
  void judge_stale_x86(const Op& op, ObjectionSink& out) const;
  // x86: a cached leaf against what the tables translate now over its range.
  void judge_stale_leaf_x86(uint64_t stale, unsigned level, uint64_t ipa, ObjectionSink& out) const;
  // The deepest entry the tables hold now (a leaf, a non-present entry) for each piece of
  // [start, end), in address order, until visit(level, base, desc) returns false. Defined in
  // effects_check_x86.cpp, its only user.
  template <typename Visit>
  bool visit_current(uint64_t start, uint64_t end, Visit&& visit) const;
  template <typename Visit>
  bool visit_current_page(uint64_t page_pa, unsigned level, uint64_t base, uint64_t start,
                          uint64_t end, Visit& visit) const;
  void check_cache_maintenance(const Op& op, ObjectionSink& out);

  bool is_leaf(uint64_t d, unsigned level) const;
  bool cacheable(uint64_t leaf, unsigned level) const;
  bool executable(uint64_t leaf, unsigned level) const;
  Range output_range(uint64_t leaf, unsigned level) const;
  // Both may be cached at once without harm: the same leaf up to permissions and access flag, or
  // the same table.
  bool compatible(uint64_t a, uint64_t b, unsigned level) const;

  std::unordered_map<uint64_t, Page> pages_;
  std::vector<uint64_t> root_pages_;
  unsigned start_level_ = 0;
  unsigned ia_bits_ = 0;
  bool fwb_ = false;
  Arch arch_ = Arch::Arm64S2;
  bool unmap_defers_tlbi_ = false;
  // During a deferring unmap: the pages the caller named, as its range TLBI reads them (from
  // the page holding the address, the size in whole pages). Outside one: nothing (owes_all_).
  Range owed_{0, 0};
  bool owes_all_ = true;
  const DescriptorFormat* format_ = &default_format();
  // What the TLB (leaves) and walk cache (tables) may hold that the tables no longer say, by
  // level and by the entry's IPA: values replaced or unlinked since their last invalidation.
  std::array<std::map<uint64_t, std::vector<uint64_t>>, kMaxLevels> stale_;

  // Per operation, for the cache-maintenance rules: output ranges [start, end).
  std::vector<Range> dcache_done_, icache_done_;      // maintenance seen so far
  std::vector<Range> dcache_served_, icache_served_;  // leaves that maintenance may be for
  std::vector<PendingClean> pending_cleans_;
  std::vector<uint64_t> max_end_;  // scratch of check_cache_maintenance
  bool pending_unmap_cleans_ = false;
  bool tracing_ = true;
  std::vector<TraceEntry> trace_;     // detach() owes cleans for the cacheable leaves it drops
  std::vector<EventRecord> records_;  // [event]
  std::vector<uint64_t> detached_;    // in the order detach() took them out of reach
  // The entry that pointed to each page detached by this operation: where the walk cache may
  // still hold it.
  struct Unlinked {
    unsigned level;
    uint64_t ipa;
    uint64_t desc;
  };
  std::unordered_map<uint64_t, Unlinked> unlinked_from_;
  std::vector<FreeTraceEntry> free_trace_;
};

}  // namespace mmudiff
