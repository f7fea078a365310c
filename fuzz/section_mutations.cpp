// SPDX-License-Identifier: GPL-2.0-only
#include "fuzz/section_mutations.h"

#include <algorithm>
#include <vector>

#include "mmu/ops/random_stream.h"
#include "mmu/ops/sections.h"
#include "mmu/profile/profile.h"

namespace mmudiff {

namespace {

uint64_t pick(std::mt19937_64& rng, uint64_t n) {
  return n ? rng() % n : 0;
}

// The configuration an operation at INDEX runs on: the last init before it.
Config config_at(const Stream& s, size_t index) {
  Config c = profile_default_config(stream_profile(s));
  for (size_t i = 0; i < index && i < s.size(); ++i)
    if (s[i].kind == OpKind::Init) c = s[i].config;
  return c;
}

// Whether an operation at INDEX runs on an arm64-6.12 table, the only one with shared walks: a
// crossover may have put the init of another profile in the middle of the stream.
bool races_at(const Stream& s, size_t index) {
  return profile_id(config_at(s, index)) == ProfileId::Arm64Linux612;
}

// A shared walk makes a few points per level (a READ_ONCE each, a cmpxchg, a store-release), so
// the switches that split one walk's read from its swap lie within the first dozen or so.
sched::Preemption random_preemption(std::mt19937_64& rng, unsigned vcpus) {
  return {static_cast<uint32_t>(pick(rng, 12)), static_cast<uint8_t>(pick(rng, vcpus))};
}

// A schedule mutated in one of its preemptions: a new one, one fewer, another AFTER (a point
// either side most often: the neighbouring interleaving), another vCPU to switch to.
void mutate_schedule(sched::Schedule* schedule, std::mt19937_64& rng, unsigned vcpus) {
  const size_t n = schedule->size();
  const size_t at = pick(rng, n);
  switch (n ? pick(rng, 4) : 0) {
    case 0:
      schedule->insert(schedule->begin() + static_cast<long>(pick(rng, n + 1)),
                       random_preemption(rng, vcpus));
      break;
    case 1:
      schedule->erase(schedule->begin() + static_cast<long>(at));
      break;
    case 2: {
      uint32_t& after = (*schedule)[at].after;
      if (pick(rng, 3) == 0)
        after = static_cast<uint32_t>(pick(rng, 16));
      else if (pick(rng, 2) || after == 0)
        ++after;
      else
        --after;
      break;
    }
    default:
      (*schedule)[at].to = static_cast<uint8_t>(pick(rng, vcpus));
      break;
  }
}

// Indexes of the operations of S for which PRED holds.
template <typename Pred>
std::vector<size_t> where(const Stream& s, Pred pred) {
  std::vector<size_t> out;
  for (size_t i = 0; i < s.size(); ++i)
    if (pred(s[i], i)) out.push_back(i);
  return out;
}

// Puts OP on vCPU VCPU, as a fault makes it when it is a map.
void onto_vcpu(Op* op, unsigned vcpu, const Config& config) {
  op->vcpu = static_cast<uint8_t>(vcpu);
  if (op->kind == OpKind::Map) make_fault_map(*op, config);
}

bool change_schedule(Stream* s, std::mt19937_64& rng) {
  const std::vector<Section> sections = concurrent_sections(*s);
  if (sections.empty()) return false;
  const Section& sec = sections[pick(rng, sections.size())];
  mutate_schedule(&(*s)[sec.begin].schedule, rng, std::max(sec.vcpus, 2u));
  return true;
}

// Two vCPUs of a section trade their operations: the schedule stays, so the one it preempted
// now preempts (who reads first and who loses the swap is who runs on which vCPU).
bool swap_vcpus(Stream* s, std::mt19937_64& rng) {
  const std::vector<Section> sections = concurrent_sections(*s);
  if (sections.empty()) return false;
  const Section& sec = sections[pick(rng, sections.size())];
  if (sec.vcpus < 2) return false;
  const auto a = static_cast<uint8_t>(pick(rng, sec.vcpus));
  const auto b = static_cast<uint8_t>((a + 1 + pick(rng, sec.vcpus - 1)) % sec.vcpus);
  for (size_t i = sec.begin; i < sec.end; ++i) {
    Op& op = (*s)[i];
    if (op.vcpu == a)
      op.vcpu = b;
    else if (op.vcpu == b)
      op.vcpu = a;
  }
  return true;
}

bool move_onto_vcpu(Stream* s, std::mt19937_64& rng) {
  const std::vector<size_t> serial = where(*s, [&](const Op& op, size_t i) {
    return op.vcpu == kSerial && runs_on_vcpu(op.kind, ProfileId::Arm64Linux612) && races_at(*s, i);
  });
  if (serial.empty()) return false;
  const size_t i = serial[pick(rng, serial.size())];
  onto_vcpu(&(*s)[i], static_cast<unsigned>(pick(rng, kMaxSectionVcpus)), config_at(*s, i));
  return true;
}

bool open_section(Stream* s, std::mt19937_64& rng) {
  const std::vector<size_t> on_vcpu =
      where(*s, [](const Op& op, size_t) { return op.vcpu != kSerial && !op.opens_section; });
  if (on_vcpu.empty()) return false;
  Op& op = (*s)[on_vcpu[pick(rng, on_vcpu.size())]];
  op.opens_section = true;
  op.schedule.clear();
  for (size_t p = 1 + pick(rng, 3); p > 0; --p) op.schedule.push_back(random_preemption(rng, 2));
  return true;
}

// An address the stream already touches, for a fresh section to race on.
bool hot_address(const Stream& s, std::mt19937_64& rng, uint64_t* addr) {
  const ProfileId profile = stream_profile(s);
  const std::vector<size_t> touching =
      where(s, [&](const Op& op, size_t) { return runs_on_vcpu(op.kind, profile); });
  if (touching.empty()) return false;
  *addr = s[touching[pick(rng, touching.size())]].addr;
  return true;
}

bool insert_section(Stream* s, std::mt19937_64& rng, size_t max_ops) {
  if (s->size() + 2 > max_ops) return false;
  // Between two sections or serial operations, never inside a section, and after the first init.
  std::vector<size_t> gaps = where(*s, [&](const Op& op, size_t i) {
    return i > 0 && (op.vcpu == kSerial || op.opens_section) && races_at(*s, i);
  });
  if (races_at(*s, s->size())) gaps.push_back(s->size());
  if (gaps.empty()) return false;
  const size_t at = gaps[pick(rng, gaps.size())];
  const Config config = config_at(*s, at);
  Stream section;
  append_section(rng, config, 2 + static_cast<unsigned>(pick(rng, kMaxSectionVcpus - 1)),
                 std::min(max_ops - s->size(), kMaxSectionOps), &section);
  // Most of the time where the stream already maps: the tables are there to race in.
  uint64_t hot;
  if (pick(rng, 3) && hot_address(*s, rng, &hot)) {
    for (Op& op : section) {
      if (pick(rng, 4) == 0) continue;
      op.phys = op.phys - op.addr + hot;
      op.addr = hot;
      onto_vcpu(&op, op.vcpu, config);
    }
  }
  s->insert(s->begin() + static_cast<long>(at), section.begin(), section.end());
  return true;
}

// The copy of a vCPU's operation another vCPU runs at once, at the same address: the same fault
// twice, a fault of another size (2M against 4K), or another kind of shared walk there.
bool duplicate_onto_other_vcpu(Stream* s, std::mt19937_64& rng, size_t max_ops) {
  if (s->size() >= max_ops) return false;
  const std::vector<size_t> on_vcpu =
      where(*s, [&](const Op& op, size_t i) { return op.vcpu != kSerial && races_at(*s, i); });
  if (on_vcpu.empty()) return false;
  const size_t i = on_vcpu[pick(rng, on_vcpu.size())];
  const Config config = config_at(*s, i);
  Op copy = (*s)[i];
  copy.opens_section = false;
  copy.schedule.clear();
  const uint64_t addr = copy.addr;
  switch (pick(rng, 4)) {
    case 0:  // the same
      break;
    case 1:  // a fault of another size over it
      if (copy.kind == OpKind::Map) {
        copy.size = kFaultLeafSizes[pick(rng, std::size(kFaultLeafSizes))];
        copy.phys += (addr & ~(copy.size - 1)) - addr;
      }
      break;
    default: {  // another shared walk at that address
      static constexpr OpKind kKinds[] = {OpKind::Map, OpKind::RelaxPerms, OpKind::Mkyoung,
                                          OpKind::GetLeaf};
      const Op fresh = [&] {
        Op op;
        do op = random_op(rng, config, /*allow_destroy=*/false);
        while (op.kind != kKinds[pick(rng, std::size(kKinds))]);
        return op;
      }();
      const uint64_t phys = copy.phys;
      copy = fresh;
      copy.addr = addr;
      if (copy.kind == OpKind::Map) copy.phys = phys;
      break;
    }
  }
  onto_vcpu(&copy, ((*s)[i].vcpu + 1 + pick(rng, kMaxSectionVcpus - 1)) % kMaxSectionVcpus, config);
  s->insert(s->begin() + static_cast<long>(i) + 1, copy);
  return true;
}

}  // namespace

bool mutate_sections(Stream* s, std::mt19937_64& rng, size_t max_ops) {
  if (s->empty() || stream_profile(*s) != ProfileId::Arm64Linux612) return false;
  normalize_sections(*s);
  bool changed;
  switch (pick(rng, 6)) {
    case 0:
      changed = change_schedule(s, rng);
      break;
    case 5:
      changed = swap_vcpus(s, rng);
      break;
    case 1:
      changed = move_onto_vcpu(s, rng);
      break;
    case 2:
      changed = open_section(s, rng);
      break;
    case 3:
      changed = insert_section(s, rng, max_ops);
      break;
    default:
      changed = duplicate_onto_other_vcpu(s, rng, max_ops);
      break;
  }
  normalize_sections(*s);
  return changed;
}

}  // namespace mmudiff
