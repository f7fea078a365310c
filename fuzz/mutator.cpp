// SPDX-License-Identifier: GPL-2.0-only
#include "fuzz/mutator.h"

#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "fuzz/section_mutations.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/ops/binary_format.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/sections.h"
#include "mmu/ops/work_budget.h"
#include "mmu/profile/profile.h"

namespace mmudiff {

namespace {

constexpr uint64_t bit(unsigned n) {
  return uint64_t{1} << n;
}

uint64_t pick(std::mt19937_64& rng, uint64_t n) {
  return n ? rng() % n : 0;
}

// What a leaf of the profile can map, any size; and its smallest, the page.
uint64_t any_leaf_size(std::mt19937_64& rng, const Profile& p) {
  return p.leaf_sizes[pick(rng, p.leaf_sizes.size())];
}
uint64_t page_size(const Profile& p) {
  return p.leaf_sizes.back();
}

// Values that sit on the boundaries page-table code gets wrong: granule and level edges, the
// last valid IPA and PA, one past them, one page either side.
uint64_t interesting_value(std::mt19937_64& rng, const Config& c) {
  const Profile& p = profile_of(c);
  const unsigned ia_bits = p.input_bits(c);
  const unsigned pa_bits = p.output_bits(c);
  const uint64_t page = page_size(p);
  uint64_t g = any_leaf_size(rng, p);
  switch (pick(rng, 9)) {
    case 0:
      return g;
    case 1:
      return g - page;
    case 2:
      return g + page;
    case 3:
      return bit(ia_bits) - g;
    case 4:
      return bit(ia_bits);
    case 5:
      return bit(pa_bits) - page;
    case 6:
      return bit(pa_bits);
    case 7:
      return pick(rng, 16) * g;
    default:
      return pick(rng, page);
  }
}

Config config_before(const Stream& s, size_t index) {
  Config c;
  for (size_t i = 0; i < index && i < s.size(); ++i)
    if (s[i].kind == OpKind::Init) c = s[i].config;
  return c;
}

// Operations only interact where their ranges meet, and absolute addresses drawn independently
// rarely do. An anchor is an address another operation of the stream already touches (its start
// or end), moved to where walkers slip: the same place, a page either side, the next or previous
// entry of a level, the start of the enclosing entry, or a page into the entry before it.
bool anchor_of(const Stream& s, std::mt19937_64& rng, const Profile& p, uint64_t* anchor) {
  std::vector<const Op*> ranged;
  for (const Op& op : s)
    if (op.kind != OpKind::Init && op.kind != OpKind::Destroy) ranged.push_back(&op);
  if (ranged.empty()) return false;
  const Op& other = *ranged[pick(rng, ranged.size())];
  uint64_t base =
      op_shape(other.kind).size && pick(rng, 4) == 0 ? other.addr + other.size : other.addr;
  const uint64_t page = page_size(p);
  uint64_t g = any_leaf_size(rng, p);
  switch (pick(rng, 7)) {
    case 0:
      *anchor = base;
      break;
    case 1:
      *anchor = base + page;
      break;
    case 2:
      *anchor = base - page;
      break;
    case 3:
      *anchor = base + g;
      break;
    case 4:
      *anchor = base - g;
      break;
    case 5:
      *anchor = base & ~(g - 1);
      break;
    default:
      *anchor = (base & ~(g - 1)) - g + page;
      break;
  }
  return true;
}

// Points `op` at an anchor; a ranged operation may instead keep its start and stretch its end to
// one, so that it covers the other operation's range, or stops a page short of it.
void anchor(Op* op, const Stream& s, std::mt19937_64& rng, const Profile& p) {
  uint64_t a;
  if (!anchor_of(s, rng, p, &a)) return;
  if (op_shape(op->kind).size && pick(rng, 3) == 0) {
    if (a > op->addr) op->size = a - op->addr;
    return;
  }
  op->addr = a;
  // Identity maps stay identity maps; a map elsewhere keeps its offset to the IPA.
  if (op_shape(op->kind).phys && pick(rng, 2)) op->phys = a;
}

void tweak(Op* op, std::mt19937_64& rng, const Config& c, const Stream& s) {
  OpShape shape = op_shape(op->kind);
  if (pick(rng, 3) == 0) {
    anchor(op, s, rng, profile_of(c));
    return;
  }
  switch (pick(rng, 6)) {
    case 0:
      op->addr = interesting_value(rng, c);
      break;
    case 1:
      if (shape.size) op->size = interesting_value(rng, c);
      break;
    case 2:
      if (shape.phys) op->phys = pick(rng, 2) ? op->addr : interesting_value(rng, c);
      break;
    case 3:
      if (shape.prot) op->prot ^= uint64_t{1} << pick(rng, 4);
      // 6.12's own operands: a map's NORMAL_NC and walk flags, test_clear_young's mkold.
      if (c.arch == Arch::Arm64S2 && c.arm64.kernel == Arm64Kernel::Linux612) {
        if (op->kind == OpKind::Map) {
          const unsigned which = static_cast<unsigned>(pick(rng, 3));
          if (which == 0) op->prot ^= arm64s2::prot::kNormalNc;
          if (which == 1) op->walk_flags ^= walk_flag::kShared;
          if (which == 2) op->walk_flags ^= walk_flag::kHandleFault;
        }
        if (shape.mkold) op->mkold = !op->mkold;
      }
      break;
    case 4:
      if (shape.memcache) op->memcache = static_cast<int32_t>(pick(rng, 4)) - 1;
      // A split or create_unlinked always has its cache, perhaps empty.
      if (always_has_cache(op->kind) && op->memcache == kNoMemcache) op->memcache = 0;
      // x86: another level where a fault may map, a split goes to, a write-protect reaches;
      // arm64-6.12: the level whose granule an unlinked table maps.
      if (op->kind == OpKind::CreateUnlinked)
        op->level = static_cast<uint8_t>(pick(rng, 3));
      else if (shape.level)
        op->level = static_cast<uint8_t>(1 + pick(rng, op->kind == OpKind::Split ? 2 : 3));
      break;
    default:
      // Nudge by a page: the off-by-one at the end of a range.
      op->addr += pick(rng, 2) ? page_size(profile_of(c)) : -page_size(profile_of(c));
      break;
  }
  if (shape.config) {
    const Arm64Kernel kernel = op->config.arm64.kernel;
    op->config = random_config(rng, op->config.arch);
    // A 6.12 init stays one, on a CPU with or without range TLBIs and LPA2.
    if (op->config.arch == Arch::Arm64S2 && kernel == Arm64Kernel::Linux612) {
      op->config.arm64.kernel = kernel;
      op->config.arm64.tlb_range = pick(rng, 2) != 0;
      op->config.arm64.lpa2 = pick(rng, 3) == 0;
    }
  }
}

}  // namespace

void mutate_stream(Stream* s, std::mt19937_64& rng) {
  unsigned rounds = 1 + static_cast<unsigned>(pick(rng, 3));
  // arm64-6.12 streams race: a third of their rounds change who runs what at once, and when; half
  // of them once the stream has a concurrent section, whose schedule is then most of what is
  // left to explore (one preemption a point either way is another interleaving).
  const bool races = !s->empty() && stream_profile(*s) == ProfileId::Arm64Linux612;
  const unsigned one_in = races && !concurrent_sections(*s).empty() ? 2 : 3;
  for (unsigned r = 0; r < rounds; ++r) {
    if (races && pick(rng, one_in) == 0) {
      mutate_sections(s, rng, kMaxFuzzOps);
      continue;
    }
    size_t n = s->size();
    size_t at = pick(rng, n + 1);
    switch (pick(rng, 6)) {
      case 0:  // insert a fresh operation, often where the stream already works
        if (n < kMaxFuzzOps) {
          Config c = config_before(*s, at);
          Op op = random_op(rng, c, true);
          if (pick(rng, 2)) anchor(&op, *s, rng, profile_of(c));
          s->insert(s->begin() + static_cast<long>(at), op);
        }
        break;
      case 1:  // delete one
        if (n > 1 && at < n) s->erase(s->begin() + static_cast<long>(at));
        break;
      case 2:  // duplicate one: the same operation twice finds idempotence bugs
        if (n < kMaxFuzzOps && at < n) s->insert(s->begin() + static_cast<long>(at), (*s)[at]);
        break;
      case 3:  // swap two
        if (n > 1) std::swap((*s)[pick(rng, n)], (*s)[pick(rng, n)]);
        break;
      default:  // tweak an operand
        if (at < n) tweak(&(*s)[at], rng, config_before(*s, at), *s);
        break;
    }
  }
  if (s->empty()) s->push_back(random_op(rng, Config{}, false));
  if (s->size() > kMaxFuzzOps) s->resize(kMaxFuzzOps);
  // Inserted, moved, swapped or tweaked operations may have broken a section's shape.
  normalize_sections(*s);
}

Stream cross_streams(const Stream& a, const Stream& b, std::mt19937_64& rng) {
  Stream out(a.begin(), a.begin() + static_cast<long>(pick(rng, a.size() + 1)));
  out.insert(out.end(), b.begin() + static_cast<long>(pick(rng, b.size() + 1)), b.end());
  if (out.size() > kMaxFuzzOps) out.resize(kMaxFuzzOps);
  if (out.empty()) out.push_back(random_op(rng, Config{}, false));
  return out;
}

namespace {

// The profile a campaign of one profile fuzzes: MMUDIFF_ARCH, as the fuzz target reads it (a
// name it does not know is the target's to refuse).
std::optional<ProfileId> campaign_profile() {
  static const std::optional<ProfileId> profile = []() -> std::optional<ProfileId> {
    const char* a = std::getenv("MMUDIFF_ARCH");
    ProfileId id;
    if (!a || !profile_from_name(a, &id)) return std::nullopt;
    return id;
  }();
  return profile;
}

// The target runs no stream of another profile than its campaign's, so a mutation of one is
// wasted, and from no seeds at all (the empty input decodes to an arm64-6.1 stream) a 6.12
// campaign would never reach a stream it runs. An arm64 stream is moved into the campaign's
// kernel, as the campaign moves its seeds; a stream of another architecture starts over, and one
// that turns to another architecture part way (a crossover's) ends there.
void into_profile(Stream* s, ProfileId id) {
  const Config want = profile_default_config(id);
  if (s->empty() || s->front().kind != OpKind::Init) s->insert(s->begin(), init_op(want));
  if (s->front().config.arch != want.arch) {
    *s = Stream{init_op(want)};
    return;
  }
  for (size_t i = 0; i < s->size(); ++i) {
    Op& op = (*s)[i];
    if (op.kind != OpKind::Init) continue;
    if (op.config.arch != want.arch) {
      s->resize(i);
      return;
    }
    if (want.arch == Arch::Arm64S2) op.config.arm64.kernel = want.arm64.kernel;
  }
}

// Encodes `s` into data, dropping operations from the end until it fits max_size.
size_t store(Stream s, uint8_t* data, size_t max_size) {
  fit_work_budget(&s);
  normalize_sections(s);
  // Stored as it decodes: an operand the stream's profile has no use for (6.12's walk flags on a
  // map once the 6.12 init is gone, say) is encoded but not decoded, and the engine's input
  // would then not be the stream it runs.
  s = decode_binary(encode_binary(s));
  std::vector<uint8_t> out = encode_binary(s);
  while (out.size() > max_size && !s.empty()) {
    s.pop_back();
    out = encode_binary(s);
  }
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

}  // namespace

size_t mutate_bytes(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  std::mt19937_64 rng(seed);
  Stream s = decode_binary(std::span<const uint8_t>(data, size));
  if (const std::optional<ProfileId> profile = campaign_profile()) into_profile(&s, *profile);
  mutate_stream(&s, rng);
  return store(std::move(s), data, max_size);
}

size_t cross_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b, uint8_t* out,
                   size_t max_size, unsigned seed) {
  std::mt19937_64 rng(seed);
  Stream s = cross_streams(decode_binary(a), decode_binary(b), rng);
  if (const std::optional<ProfileId> profile = campaign_profile()) into_profile(&s, *profile);
  return store(std::move(s), out, max_size);
}

}  // namespace mmudiff
