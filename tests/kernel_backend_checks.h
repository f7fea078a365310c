// SPDX-License-Identifier: GPL-2.0-only
// Checks the kernel backends' tests (linux61, linux612) make of the shim around the kernel code:
// the tables it leaves (every reachable entry, refcounts by the kernel's rule, no page live that
// is not reachable), that destroy leaves no leak or fault, that every descriptor write was
// recorded as a Store effect, and that instances are independent, interleaved or on threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "tests/table_reader.h"

namespace mmudiff::testing {

// Every non-zero descriptor reachable from root(), in address order, with the address field of
// table descriptors cleared; and, on the way, each table page's refcount against 1 + its non-zero
// entries (the kernel's rule, the PGD pages counted one by one).
struct Flat {
  uint64_t ipa;
  unsigned level;
  uint64_t masked;
  bool operator==(const Flat&) const = default;
};

struct Walked {
  std::vector<Flat> entries;
  std::vector<std::string> problems;
  size_t pages = 0;
};

inline Walked walk(const Backend& backend, const SimMemory& memory) {
  Walked w;
  walk_tables(
      memory, backend.root(),
      [&](const TablePage& page) {
        if (!page.entries) {
          w.problems.push_back(
              fmt::format("level {} table {:#x} is not live", page.level, page.pa));
          return;
        }
        ++w.pages;
        const int non_zero = static_cast<int>(page.non_zero_entries());
        if (memory.page_count(page.entries) != 1 + non_zero)
          w.problems.push_back(fmt::format("level {} table {:#x}: refcount {}, {} non-zero entries",
                                           page.level, page.pa, memory.page_count(page.entries),
                                           non_zero));
      },
      [&](const TableEntry& e) {
        const bool table = e.kind == DescriptorKind::Table;
        w.entries.push_back({e.ipa, e.level, table ? e.desc & ~arm64s2::kOaMask : e.desc});
      });
  if (backend.root().live() && w.pages != memory.live_pages())
    w.problems.push_back(fmt::format("{} pages live, {} reachable", memory.live_pages(), w.pages));
  return w;
}

inline std::string describe(const Flat& f) {
  return fmt::format("ipa {:#x} level {} desc {:#018x}", f.ipa, f.level, f.masked);
}

// Destroys the table and lists what went wrong with the memory: leaks, double frees, writes to
// freed pages.
inline std::vector<std::string> destroy_and_check(Backend& backend, Machine& machine) {
  backend.destroy();
  machine.memory.report_leaks();
  machine.memory.check_freed_pages();
  std::vector<std::string> out;
  for (const MemoryFault& f : machine.memory.faults())
    out.push_back(fmt::format("{}: {}", memory_fault_name(f.kind), f.detail));
  return out;
}

// Runs stream on backend, replaying the Store effects of each operation over a copy of table
// memory taken before it: the result must be exactly the table memory after it. So no
// descriptor is written behind the recorder's back, and each Store's old value is what was
// really there. Returns the first problem ("" for none); counts the stores in *stores.
inline std::string first_unrecorded_write(Arm64S2Backend& backend, Machine& machine,
                                          const Stream& stream, size_t* stores) {
  using Page = std::vector<uint64_t>;
  constexpr unsigned kEntries = arm64s2::kEntriesPerTable;
  constexpr uint64_t kPage = arm64s2::kPageSize;
  for (size_t i = 0; i < stream.size(); ++i) {
    std::map<uint64_t, Page> shadow;
    for (uint64_t pa : machine.memory.live_page_list()) {
      const uint64_t* t = machine.memory.table_page(pa);
      shadow[pa] = Page(t, t + kEntries);
    }
    machine.effects.clear();
    apply_op(backend, machine, stream[i]);
    for (const Effect& e : machine.effects.events()) {
      if (e.kind != EffectKind::Store) continue;
      ++*stores;
      auto [it, fresh] = shadow.try_emplace(e.addr & ~(kPage - 1), Page(kEntries, 0));
      uint64_t& slot = it->second[(e.addr & (kPage - 1)) / 8];
      if (slot != e.old_value)
        return fmt::format("op {}: {} but the entry held {:#018x}", i, describe_effect(e), slot);
      slot = e.new_value;
    }
    for (uint64_t pa : machine.memory.live_page_list()) {
      const uint64_t* t = machine.memory.table_page(pa);
      auto it = shadow.find(pa);
      const Page expect = it == shadow.end() ? Page(kEntries, 0) : it->second;
      if (!std::equal(expect.begin(), expect.end(), t))
        return fmt::format("op {}: page {:#x} changed without a recorded store", i, pa);
    }
  }
  return "";
}

using Arm64BackendFactory = std::function<std::unique_ptr<Arm64S2Backend>(Machine&)>;

// What one stream did to one instance, raw: results, effects, final table and warnings.
struct Transcript {
  std::vector<OpResult> results;
  std::vector<Effect> effects;
  std::vector<uint64_t> memory;  // every live page's contents, in address order
  std::vector<std::string> warnings;
  bool operator==(const Transcript&) const = default;
};

inline void finish_transcript(Arm64S2Backend& backend, const Machine& machine, Transcript* t) {
  for (uint64_t pa : machine.memory.live_page_list()) {
    const uint64_t* p = machine.memory.table_page(pa);
    t->memory.push_back(pa);
    t->memory.insert(t->memory.end(), p, p + arm64s2::kEntriesPerTable);
  }
  t->effects = machine.effects.events();
  t->warnings = backend.take_warnings();
}

// The stream run on a backend of its own.
inline Transcript run_alone(const Arm64BackendFactory& make, const Stream& stream) {
  Machine machine;
  std::unique_ptr<Arm64S2Backend> backend = make(machine);
  Transcript t;
  for (const Op& op : stream) t.results.push_back(apply_op(*backend, machine, op));
  finish_transcript(*backend, machine, &t);
  return t;
}

inline std::vector<Stream> some_streams(uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::vector<Stream> out;
  for (size_t i = 0; i < n; ++i) out.push_back(random_stream(rng));
  return out;
}

// The streams whose instances, all live at once and run one operation of each in turn, did not
// do what each did alone.
inline std::vector<size_t> interleaved_differences(const Arm64BackendFactory& make,
                                                   const std::vector<Stream>& streams) {
  std::vector<Machine> machines(streams.size());
  std::vector<std::unique_ptr<Arm64S2Backend> > backends;
  for (Machine& m : machines) backends.push_back(make(m));
  std::vector<Transcript> together(streams.size());
  for (size_t step = 0; step < kMaxStreamOps; ++step)
    for (size_t i = 0; i < streams.size(); ++i)
      if (step < streams[i].size())
        together[i].results.push_back(apply_op(*backends[i], machines[i], streams[i][step]));
  std::vector<size_t> differ;
  for (size_t i = 0; i < streams.size(); ++i) {
    finish_transcript(*backends[i], machines[i], &together[i]);
    if (!(together[i] == run_alone(make, streams[i]))) differ.push_back(i);
  }
  return differ;
}

// The streams that, spread over several threads, did not do what each did alone.
inline std::vector<size_t> threaded_differences(const Arm64BackendFactory& make,
                                                const std::vector<Stream>& streams,
                                                size_t thread_count) {
  std::vector<Transcript> threaded(streams.size());
  std::vector<std::thread> threads;
  for (size_t t = 0; t < thread_count; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = t; i < streams.size(); i += thread_count)
        threaded[i] = run_alone(make, streams[i]);
    });
  for (auto& th : threads) th.join();
  std::vector<size_t> differ;
  for (size_t i = 0; i < streams.size(); ++i)
    if (!(threaded[i] == run_alone(make, streams[i]))) differ.push_back(i);
  return differ;
}

}  // namespace mmudiff::testing
