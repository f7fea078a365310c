// SPDX-License-Identifier: GPL-2.0-only
// The linux61 backend: where its kernel code came from, the shim's promises (every descriptor
// write recorded, WARN_ON counted, FWB a per-instance knob, instances independent even across
// threads, cache maintenance never dereferenced, nothing leaked), and the differential run of
// random streams through linux61 and walker side by side.
//
// The differential run takes its size from the environment, so the same binary does the bulk run:
//   MMUDIFF_DIFF_STREAMS=100000 MMUDIFF_DIFF_SEED=1 linux61_test --gtest_filter='*Differential*'
// (MMUDIFF_DIFF_FIRST=N starts at stream N, to split a run over several processes; stream I of
// seed S is the same stream however the run is split. MMUDIFF_DIFF_BACKEND=legacy compares
// another backend instead of walker.)
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/ops/random_stream.h"
#include "mmu/ops/text_format.h"
#include "tests/env_knob.h"
#include "tests/kernel_backend_checks.h"
#include "tests/kernel_source_check.h"
#include "tests/sanitizer_scale.h"

#ifdef MMUDIFF_HAVE_LINUX61
#include "mmu/linux61/linux61_adapter.h"
#include "mmu/linux61/linux61_backend.h"
#endif

namespace mmudiff {
namespace {

#ifndef MMUDIFF_HAVE_LINUX61

TEST(Linux61, NotBuilt) {
  GTEST_SKIP() << "configured with -DMMUDIFF_LINUX61=OFF";
}

#else

using namespace arm64s2;

constexpr uint64_t K4 = 0x1000;
constexpr uint64_t M2 = 0x20'0000;
constexpr uint64_t G1 = 0x4000'0000;
constexpr uint64_t kProtRW = prot::kR | prot::kW;
constexpr uint64_t kProtRWX = prot::kR | prot::kW | prot::kX;

size_t scaled(size_t n) {
  return mmudiff::testing::sanitizer_scaled(n);
}

using mmudiff::testing::env_u64;

// One backend on its own machine.
using BackendFactory = std::function<std::unique_ptr<Arm64S2Backend>(Machine&)>;

struct Instance {
  explicit Instance(std::string_view backend = "linux61") {
    const BackendInfo* info = find_backend(backend);
    if (info) impl = create_arm64(*info, machine, Plant::kNone);
  }
  explicit Instance(const BackendFactory& make) : impl(make(machine)) {}
  Machine machine;
  std::unique_ptr<Arm64S2Backend> impl;
};

Arm64S2Config config_with(uint8_t ia_bits, bool fwb = false, ForcePte force = ForcePte::Never) {
  Arm64S2Config c;
  c.ia_bits = ia_bits;
  c.fwb = fwb;
  c.force_pte = force;
  return c;
}

using mmudiff::testing::describe;
using mmudiff::testing::destroy_and_check;
using mmudiff::testing::Flat;
using mmudiff::testing::walk;
using mmudiff::testing::Walked;

// ---- Where the code came from ----------------------------------------------------------------

using mmudiff::testing::git_lines;
using mmudiff::testing::sha256_of_file;

TEST(Linux61Source, RecordsPackageVersionAndHashesOfTheCompiledFiles) {
  const KernelSourceInfo& info = linux61_source_info();
  EXPECT_EQ(info.package, "linux-source-6.1");
  EXPECT_FALSE(info.package_version.empty());
  ASSERT_EQ(info.files.size(), 5u);
  std::set<std::string_view> paths;
  for (const KernelSourceFile& f : info.files) {
    paths.insert(f.path);
    ASSERT_EQ(f.sha256.size(), 64u) << f.path;
    // The recorded hash is the hash of the file that was compiled.
    EXPECT_EQ(sha256_of_file(std::string(info.tree) + "/" + std::string(f.path)), f.sha256)
        << f.path;
  }
  EXPECT_TRUE(paths.count("arch/arm64/kvm/hyp/pgtable.c"));
  EXPECT_TRUE(paths.count("arch/arm64/include/asm/kvm_pgtable.h"));
  EXPECT_TRUE(paths.count("arch/arm64/include/asm/kvm_arm.h"));
  EXPECT_TRUE(paths.count("arch/arm64/include/asm/pgtable-hwdef.h"));
  EXPECT_TRUE(paths.count("arch/arm64/include/asm/stage2_pgtable.h"));
  EXPECT_NE(info.summary().find(info.package_version), std::string::npos);
  if (!info.matches_tested())
    GTEST_SKIP() << "kernel files differ from the tested ones: " << info.summary();
}

TEST(Linux61Source, NoKernelFileIsInTheRepository) {
  // Tracked files, and files a "git add -A" would pick up: neither may hold kernel source.
  auto tracked = git_lines("ls-files");
  auto untracked = git_lines("ls-files --others --exclude-standard");
  if (!tracked || !untracked) GTEST_SKIP() << "no git repository at " << MMUDIFF_SOURCE_DIR;
  const std::set<std::string> kernel_names = {"pgtable.c", "kvm_pgtable.h", "kvm_arm.h",
                                              "pgtable-hwdef.h", "stage2_pgtable.h"};
  for (const auto* list : {&*tracked, &*untracked}) {
    for (const std::string& path : *list) {
      std::string base = path.substr(path.rfind('/') + 1);
      EXPECT_FALSE(kernel_names.count(base)) << path << " looks like a kernel file";
      EXPECT_EQ(path.find("linux-source-6.1/"), std::string::npos) << path;
    }
  }
  // The extracted tree, when it is inside the source tree, is ignored.
  std::string tree(linux61_source_info().tree);
  if (tree.rfind(MMUDIFF_SOURCE_DIR, 0) == 0) {
    EXPECT_TRUE(git_lines(fmt::format("check-ignore -q '{}'", tree)).has_value()) << tree;
  }
}

// ---- Init: VTCR from the kernel's kvm_get_vtcr() ---------------------------------------------

TEST(Linux61Init, GeometryComesFromTheKernelsVtcr) {
  for (unsigned ia = kMinIaBits; ia <= kMaxIaBits; ++ia) {
    SCOPED_TRACE(fmt::format("ia_bits {}", ia));
    uint64_t vtcr = l61_api()->vtcr_for(ia);
    EXPECT_EQ(vtcr & 0x3f, 64 - ia);               // T0SZ
    EXPECT_EQ((vtcr >> 14) & 3, 0u);               // TG0: 4 KiB
    EXPECT_EQ((vtcr >> 16) & 7, 5u);               // PS: 48 bits
    EXPECT_EQ((vtcr >> 19) & 1, 1u);               // VS: 16-bit VMID
    EXPECT_EQ((vtcr >> 21) & 1, 1u);               // HA (CONFIG_ARM64_HW_AFDBM)
    EXPECT_EQ(vtcr >> 31 & 1, 1u);                 // RES1
    unsigned start_level = 2 - ((vtcr >> 6) & 3);  // SL0, 4 KiB granule

    Instance in;
    ASSERT_EQ(in.impl->init(config_with(static_cast<uint8_t>(ia))), 0);
    TableRoot r = in.impl->root();
    Geometry g = geometry_for(ia);
    EXPECT_EQ(r.ia_bits, ia);
    EXPECT_EQ(r.start_level, start_level);
    EXPECT_EQ(r.start_level, g.start_level);
    EXPECT_EQ(r.pgd_pages, g.pgd_pages);
    EXPECT_EQ(in.machine.memory.live_pages(), g.pgd_pages);
    EXPECT_TRUE(in.machine.memory.is_live(r.pgd_pa));
    // The PGD is zeroed, then made visible to the walker.
    ASSERT_EQ(in.machine.effects.size(), 1u);
    EXPECT_EQ(in.machine.effects.events()[0].kind, EffectKind::Dsb);
    EXPECT_EQ(in.machine.effects.events()[0].barrier, Barrier::IshSt);
    EXPECT_TRUE(destroy_and_check(*in.impl, in.machine).empty());
    EXPECT_FALSE(in.impl->root().live());
  }
}

TEST(Linux61Init, RejectsIpaSizesKvmRejects) {
  Instance in;
  EXPECT_EQ(in.impl->init(config_with(31)), -EINVAL);
  EXPECT_EQ(in.impl->init(config_with(49)), -EINVAL);
  EXPECT_FALSE(in.impl->root().live());
  EXPECT_EQ(in.machine.memory.live_pages(), 0u);
}

TEST(Linux61Init, ReinitReplacesTheTable) {
  Instance in;
  ASSERT_EQ(in.impl->init(config_with(40)), 0);
  Memcache mc(in.machine.memory, 8);
  ASSERT_EQ(in.impl->map(G1, M2, G1, kProtRW, &mc), 0);
  ASSERT_EQ(in.impl->init(config_with(48)), 0);
  EXPECT_EQ(in.impl->root().ia_bits, 48u);
  EXPECT_EQ(in.machine.memory.live_pages(), 1u);
  EXPECT_TRUE(destroy_and_check(*in.impl, in.machine).empty());
}

// ---- The shim's promises ---------------------------------------------------------------------

TEST(Linux61Shim, WarnOnIsCountedAndReportedOnce) {
  Instance in;
  Arm64S2Config c = config_with(40);
  c.idmap = true;
  ASSERT_EQ(in.impl->init(c), 0);
  EXPECT_TRUE(in.impl->take_warnings().empty());
  // KVM_PGTABLE_S2_IDMAP with addr != phys: WARN_ON and -EINVAL.
  EXPECT_EQ(in.impl->map(G1, K4, 2 * G1, kProtRW, nullptr), -EINVAL);
  EXPECT_EQ(in.impl->map(G1, K4, 3 * G1, kProtRW, nullptr), -EINVAL);
  std::vector<std::string> w = in.impl->take_warnings();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("KVM_PGTABLE_S2_IDMAP"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("pgtable.c:"), std::string::npos) << w[0];
  EXPECT_TRUE(in.impl->take_warnings().empty());
  Memcache mc(in.machine.memory, 8);
  EXPECT_EQ(in.impl->map(G1, K4, G1, kProtRW, &mc), 0);
  EXPECT_TRUE(in.impl->take_warnings().empty());
  EXPECT_TRUE(destroy_and_check(*in.impl, in.machine).empty());
}

uint64_t mem_attr(uint64_t desc) {
  return (desc & kMemAttrMask) >> kMemAttrShift;
}

TEST(Linux61Shim, FwbIsAPerInstanceKnob) {
  // Three tables alive at once, answering cpus_have_const_cap(ARM64_HAS_STAGE2_FWB) differently.
  Instance with_fwb, without_fwb, fwb_but_nofwb;
  Arm64S2Config nofwb = config_with(40, true);
  nofwb.nofwb = true;
  ASSERT_EQ(with_fwb.impl->init(config_with(40, true)), 0);
  ASSERT_EQ(without_fwb.impl->init(config_with(40, false)), 0);
  ASSERT_EQ(fwb_but_nofwb.impl->init(nofwb), 0);
  EXPECT_TRUE(with_fwb.impl->root().fwb);
  EXPECT_FALSE(without_fwb.impl->root().fwb);
  EXPECT_FALSE(fwb_but_nofwb.impl->root().fwb);

  for (Instance* in : {&with_fwb, &without_fwb, &fwb_but_nofwb}) {
    Memcache mc(in->machine.memory, 8);
    ASSERT_EQ(in->impl->map(G1, M2, G1, kProtRW, &mc), 0);
    ASSERT_EQ(in->impl->map(2 * G1, M2, 2 * G1, kProtRW | prot::kDevice, &mc), 0);
  }
  auto leaf = [](Instance& in, uint64_t addr) {
    uint64_t pte = 0;
    uint32_t level = 0;
    EXPECT_EQ(in.impl->get_leaf(addr, &pte, &level), 0);
    EXPECT_EQ(level, 2u);
    return pte;
  };
  EXPECT_EQ(mem_attr(leaf(with_fwb, G1)), kMemAttrNormalFwb);
  EXPECT_EQ(mem_attr(leaf(without_fwb, G1)), kMemAttrNormal);
  EXPECT_EQ(mem_attr(leaf(fwb_but_nofwb, G1)), kMemAttrNormal);
  EXPECT_EQ(mem_attr(leaf(with_fwb, 2 * G1)), kMemAttrDeviceFwb);
  EXPECT_EQ(mem_attr(leaf(without_fwb, 2 * G1)), kMemAttrDevice);

  // flush is a no-op with FWB; without it, every cacheable leaf is cleaned.
  for (Instance* in : {&with_fwb, &without_fwb}) in->machine.effects.clear();
  EXPECT_EQ(with_fwb.impl->flush(0, 4 * G1), 0);
  EXPECT_EQ(without_fwb.impl->flush(0, 4 * G1), 0);
  EXPECT_EQ(with_fwb.machine.effects.size(), 0u);
  ASSERT_EQ(without_fwb.machine.effects.size(), 1u);
  EXPECT_EQ(without_fwb.machine.effects.events()[0],
            (Effect{EffectKind::DcacheCleanInval, 0, Barrier::None, G1, M2}));

  for (Instance* in : {&with_fwb, &without_fwb, &fwb_but_nofwb})
    EXPECT_TRUE(destroy_and_check(*in->impl, in->machine).empty());
}

TEST(Linux61Shim, ForcePteIsTheForcePteCallback) {
  Instance always, device, never;
  ASSERT_EQ(always.impl->init(config_with(40, false, ForcePte::Always)), 0);
  ASSERT_EQ(device.impl->init(config_with(40, false, ForcePte::Device)), 0);
  ASSERT_EQ(never.impl->init(config_with(40, false, ForcePte::Never)), 0);
  auto level_of = [](Instance& in, uint64_t addr, uint64_t prot) {
    Memcache mc(in.machine.memory, 8);
    EXPECT_EQ(in.impl->map(addr, M2, addr, prot, &mc), 0);
    uint64_t pte = 0;
    uint32_t level = 0;
    EXPECT_EQ(in.impl->get_leaf(addr, &pte, &level), 0);
    return level;
  };
  EXPECT_EQ(level_of(always, G1, kProtRW), 3u);
  EXPECT_EQ(level_of(device, G1, kProtRW), 2u);
  EXPECT_EQ(level_of(device, 2 * G1, kProtRW | prot::kDevice), 3u);
  EXPECT_EQ(level_of(never, 2 * G1, kProtRW | prot::kDevice), 2u);
  for (Instance* in : {&always, &device, &never})
    EXPECT_TRUE(destroy_and_check(*in->impl, in->machine).empty());
}

TEST(Linux61Shim, CacheMaintenanceGetsGuestPhysicalAddresses) {
  // Guest PAs become non-canonical pointers in phys_to_virt(): a dereference would fault (and
  // ASan would say where). The effects carry the PA back.
  Instance in;
  ASSERT_EQ(in.impl->init(config_with(40)), 0);
  in.machine.effects.clear();
  const uint64_t pa = 0x8000'0000;
  Memcache mc(in.machine.memory, 8);
  ASSERT_EQ(in.impl->map(G1, M2, pa, kProtRWX, &mc), 0);
  std::vector<Effect> cmo;
  for (const Effect& e : in.machine.effects.events())
    if (e.kind == EffectKind::DcacheCleanInval || e.kind == EffectKind::IcacheInval)
      cmo.push_back(e);
  ASSERT_EQ(cmo.size(), 2u);
  EXPECT_EQ(cmo[0], (Effect{EffectKind::DcacheCleanInval, 0, Barrier::None, pa, M2}));
  EXPECT_EQ(cmo[1], (Effect{EffectKind::IcacheInval, 0, Barrier::None, pa, M2}));
  EXPECT_TRUE(destroy_and_check(*in.impl, in.machine).empty());
}

// Every descriptor write is a Store effect with the old value that was really there
// (tests/kernel_backend_checks.h).
TEST(Linux61Shim, EveryDescriptorWriteIsRecorded) {
  std::mt19937_64 rng(env_u64("MMUDIFF_DIFF_SEED", 1) ^ 0x5eed);
  size_t stores = 0;
  for (size_t s = 0; s < scaled(300); ++s) {
    Stream stream = random_stream(rng);
    Instance in;
    const std::string problem =
        mmudiff::testing::first_unrecorded_write(*in.impl, in.machine, stream, &stores);
    ASSERT_EQ(problem, "") << "stream " << s << "\n" << format_stream(stream);
    ASSERT_TRUE(destroy_and_check(*in.impl, in.machine).empty());
  }
  EXPECT_GT(stores, scaled(1000));
}

// Instances are independent: interleaved or on several threads, each does what it does alone
// (tests/kernel_backend_checks.h).
std::unique_ptr<Arm64S2Backend> make_linux61(Machine& m) {
  return create_arm64(*find_backend("linux61"), m, Plant::kNone);
}

TEST(Linux61Shim, InstancesInterleavedBehaveAsAlone) {
  const std::vector<Stream> streams = mmudiff::testing::some_streams(7, 24);
  const std::vector<size_t> differ =
      mmudiff::testing::interleaved_differences(make_linux61, streams);
  EXPECT_EQ(differ, std::vector<size_t>{});
  if (!differ.empty()) ADD_FAILURE() << format_stream(streams[differ[0]]);
}

TEST(Linux61Shim, InstancesOnSeveralThreadsBehaveAsAlone) {
  const std::vector<Stream> streams = mmudiff::testing::some_streams(11, 64);
  EXPECT_EQ(mmudiff::testing::threaded_differences(make_linux61, streams, 4),
            std::vector<size_t>{});
}

TEST(Linux61Shim, RandomStreamsLeaveNoLeakOrFault) {
  std::mt19937_64 rng(3);
  for (size_t s = 0; s < scaled(500); ++s) {
    Stream stream = random_stream(rng);
    Instance in;
    for (const Op& op : stream) apply_op(*in.impl, in.machine, op);
    Walked w = walk(*in.impl, in.machine.memory);
    EXPECT_TRUE(w.problems.empty()) << "stream " << s << ": " << w.problems.front() << "\n"
                                    << format_stream(stream);
    std::vector<std::string> faults = destroy_and_check(*in.impl, in.machine);
    ASSERT_TRUE(faults.empty()) << faults.front() << "\n" << format_stream(stream);
    EXPECT_EQ(in.machine.memory.live_pages(), 0u);
  }
}

// ---- linux61 against walker ------------------------------------------------------------------

// Two values agree modulo table addresses: equal, or both table descriptors (OA | 0b11 and nothing
// else: every valid leaf has AF set) pointing into table memory.
bool same_value(uint64_t a, uint64_t b) {
  if (a == b) return true;
  auto is_table = [](uint64_t d) {
    return (d & ~kOaMask) == 0b11 && output_address(d) >= SimMemory::kPhysBase;
  };
  return is_table(a) && is_table(b);
}

// Where a Store went, without the table page's address: PGD-relative inside the PGD, else the
// offset in its page.
uint64_t entry_key(uint64_t entry_pa, const TableRoot& root) {
  uint64_t pgd_end = root.pgd_pa + uint64_t{root.pgd_pages} * kPageSize;
  if (root.live() && entry_pa >= root.pgd_pa && entry_pa < pgd_end)
    return (uint64_t{1} << 63) | (entry_pa - root.pgd_pa);
  return entry_pa & (kPageSize - 1);
}

bool same_effect(const Effect& a, const TableRoot& ra, const Effect& b, const TableRoot& rb) {
  if (a.kind != b.kind || a.level != b.level || a.barrier != b.barrier || a.size != b.size)
    return false;
  if (a.kind == EffectKind::Store)
    return entry_key(a.addr, ra) == entry_key(b.addr, rb) && same_value(a.old_value, b.old_value) &&
           same_value(a.new_value, b.new_value);
  return a.addr == b.addr && a.old_value == b.old_value && a.new_value == b.new_value;
}

std::string describe_result(const Op& op, const OpResult& r) {
  switch (op.kind) {
    case OpKind::Mkyoung:
    case OpKind::Mkold:
      return fmt::format("{:#018x}", r.value);
    case OpKind::GetLeaf:
      return fmt::format("ret {} pte {:#018x} level {}", r.ret, r.value, r.level);
    default:
      return fmt::format("ret {}", r.ret);
  }
}

std::string describe_effects(const std::vector<Effect>& events, size_t from) {
  std::string s;
  for (size_t i = from; i < events.size() && i < from + 40; ++i)
    s += fmt::format("      {}\n", describe_effect(events[i]));
  return s;
}

// The first disagreement in a stream, described for a person; empty when they agree.
std::string compare_on(const Stream& stream, std::string_view other, const BackendFactory& make) {
  Instance ref("linux61"), got(make);
  for (size_t i = 0; i < stream.size(); ++i) {
    const Op& op = stream[i];
    size_t ref_from = ref.machine.effects.size(), got_from = got.machine.effects.size();
    OpResult r = apply_op(*ref.impl, ref.machine, op);
    OpResult g = apply_op(*got.impl, got.machine, op);
    std::string where = fmt::format("op {}: {}", i, format_op(op));
    if (!(r == g))
      return fmt::format("{}\n  linux61: {}\n  {}: {}", where, describe_result(op, r), other,
                         describe_result(op, g));
    const auto& re = ref.machine.effects.events();
    const auto& ge = got.machine.effects.events();
    TableRoot rr = ref.impl->root(), gr = got.impl->root();
    size_t n = std::max(re.size() - ref_from, ge.size() - got_from);
    for (size_t k = 0; k < n; ++k) {
      bool have_r = ref_from + k < re.size(), have_g = got_from + k < ge.size();
      if (have_r && have_g && same_effect(re[ref_from + k], rr, ge[got_from + k], gr)) continue;
      return fmt::format("{}\n  effect {} differs\n  linux61:\n{}  {}:\n{}", where, k,
                         describe_effects(re, ref_from + k), other,
                         describe_effects(ge, got_from + k));
    }
    ref.machine.effects.clear();
    got.machine.effects.clear();
  }
  Walked wr = walk(*ref.impl, ref.machine.memory), wg = walk(*got.impl, got.machine.memory);
  TableRoot rr = ref.impl->root(), gr = got.impl->root();
  if (rr.live() != gr.live() || rr.ia_bits != gr.ia_bits || rr.start_level != gr.start_level ||
      rr.pgd_pages != gr.pgd_pages || rr.fwb != gr.fwb)
    return fmt::format(
        "final root differs: linux61 ia {} sl {} pgd {} fwb {}; {} ia {} sl {} pgd "
        "{} fwb {}",
        rr.ia_bits, rr.start_level, rr.pgd_pages, rr.fwb, other, gr.ia_bits, gr.start_level,
        gr.pgd_pages, gr.fwb);
  size_t n = std::min(wr.entries.size(), wg.entries.size());
  for (size_t k = 0; k <= n; ++k) {
    bool end_r = k == wr.entries.size(), end_g = k == wg.entries.size();
    if (end_r && end_g) break;
    if (!end_r && !end_g && wr.entries[k] == wg.entries[k]) continue;
    return fmt::format("final tables differ at entry {}\n  linux61: {}\n  {}: {}", k,
                       end_r ? "(end)" : describe(wr.entries[k]), other,
                       end_g ? "(end)" : describe(wg.entries[k]));
  }
  if (!wr.problems.empty()) return "linux61 table: " + wr.problems.front();
  if (!wg.problems.empty()) return std::string(other) + " table: " + wg.problems.front();
  for (Instance* in : {&ref, &got}) {
    std::vector<std::string> faults = destroy_and_check(*in->impl, in->machine);
    if (!faults.empty()) return fmt::format("{} after destroy: {}", in->impl->name(), faults[0]);
  }
  return "";
}

// linux61 with one deliberate difference, to show the comparison notices each kind.
enum class Perturbation { Result, Effect, Table };

class Perturbed final : public Arm64S2Backend {
 public:
  Perturbed(Machine& m, Perturbation p)
      : m_(m), p_(p), inner_(create_arm64(*find_backend("linux61"), m, Plant::kNone)) {}
  std::string_view name() const override { return "perturbed"; }
  int init(const Arm64S2Config& c) override { return inner_->init(c); }
  void destroy() override { inner_->destroy(); }
  int map(uint64_t addr, uint64_t size, uint64_t phys, uint64_t prot, Memcache* mc) override {
    int ret = inner_->map(addr, size, phys, prot, mc);
    if (p_ == Perturbation::Table && ret == 0) {
      // Flip a software bit of the first entry of the PGD, behind the recorder's back.
      TableRoot r = inner_->root();
      for (unsigned i = 0; i < kEntriesPerTable; ++i) {
        auto* t = const_cast<uint64_t*>(m_.memory.table_page(r.pgd_pa));
        if (t[i]) {
          t[i] ^= bit(58);
          break;
        }
      }
    }
    return ret;
  }
  int unmap(uint64_t addr, uint64_t size) override { return inner_->unmap(addr, size); }
  int wrprotect(uint64_t addr, uint64_t size) override {
    int ret = inner_->wrprotect(addr, size);
    if (p_ == Perturbation::Effect) m_.effects.tlbi_vmid();
    return ret;
  }
  uint64_t mkyoung(uint64_t addr) override { return inner_->mkyoung(addr); }
  uint64_t mkold(uint64_t addr) override { return inner_->mkold(addr); }
  bool is_young(uint64_t addr) override {
    return inner_->is_young(addr) != (p_ == Perturbation::Result);
  }
  int relax_perms(uint64_t addr, uint64_t prot) override { return inner_->relax_perms(addr, prot); }
  int flush(uint64_t addr, uint64_t size) override { return inner_->flush(addr, size); }
  int set_owner(uint64_t addr, uint64_t size, Memcache* mc, uint8_t owner) override {
    return inner_->set_owner(addr, size, mc, owner);
  }
  int get_leaf(uint64_t addr, uint64_t* pte, uint32_t* level) override {
    return inner_->get_leaf(addr, pte, level);
  }
  TableRoot root() const override { return inner_->root(); }

 private:
  Machine& m_;
  Perturbation p_;
  std::unique_ptr<Arm64S2Backend> inner_;
};

TEST(Linux61Differential, ComparisonSeesEachKindOfDifference) {
  Stream stream = parse_text(
      "init ia=40\n"
      "map 0x40000000 2M pa=0x40000000 prot=rw\n"
      "wrprotect 0x40000000 2M\n"
      "is_young 0x40000000\n",
      "perturbed.mmu");
  auto with = [](Perturbation p) {
    return [p](Machine& m) { return std::make_unique<Perturbed>(m, p); };
  };
  EXPECT_NE(compare_on(stream, "perturbed", with(Perturbation::Result)).find("op 3: is_young"),
            std::string::npos);
  EXPECT_NE(compare_on(stream, "perturbed", with(Perturbation::Effect)).find("op 2: wrprotect"),
            std::string::npos);
  EXPECT_NE(compare_on(stream, "perturbed", with(Perturbation::Table)).find("final tables differ"),
            std::string::npos);
  // And linux61 against itself agrees.
  EXPECT_EQ(compare_on(
                stream, "linux61",
                [](Machine& m) { return create_arm64(*find_backend("linux61"), m, Plant::kNone); }),
            "");
}

TEST(Linux61Differential, RandomStreamsAgreeWithWalker) {
  // MMUDIFF_DIFF_BACKEND=legacy compares another backend the same way.
  const char* env_backend = std::getenv("MMUDIFF_DIFF_BACKEND");
  const std::string other = env_backend && *env_backend ? env_backend : "walker";
  const BackendInfo* info = find_backend(other);
  if (!info) GTEST_SKIP() << other << " backend not in this build";
  const uint64_t seed = env_u64("MMUDIFF_DIFF_SEED", 1);
  const uint64_t first = env_u64("MMUDIFF_DIFF_FIRST", 0);  // to shard a bulk run
  const uint64_t streams = env_u64("MMUDIFF_DIFF_STREAMS", scaled(2000));
  const uint64_t max_report = env_u64("MMUDIFF_DIFF_MAX_REPORTS", 5);
  uint64_t ops = 0, disagreements = 0;
  for (uint64_t i = first; i < first + streams; ++i) {
    // Each stream has its own generator, so "seed S stream I" reproduces it alone.
    std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + i);
    Stream stream = random_stream(rng);
    ops += stream.size();
    std::string diff = compare_on(
        stream, other, [info](Machine& m) { return create_arm64(*info, m, Plant::kNone); });
    if (diff.empty()) continue;
    if (++disagreements <= max_report)
      ADD_FAILURE() << "seed " << seed << " stream " << i << ": " << diff << "\n--- stream ---\n"
                    << format_stream(stream);
  }
  std::printf(
      "linux61 vs %s: seed %llu streams %llu..%llu (%llu streams, %llu operations): "
      "%llu disagreements\n",
      other.c_str(), static_cast<unsigned long long>(seed), static_cast<unsigned long long>(first),
      static_cast<unsigned long long>(first + streams - 1),
      static_cast<unsigned long long>(streams), static_cast<unsigned long long>(ops),
      static_cast<unsigned long long>(disagreements));
  EXPECT_EQ(disagreements, 0u);
}

#endif  // MMUDIFF_HAVE_LINUX61

}  // namespace
}  // namespace mmudiff
