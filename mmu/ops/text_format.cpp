// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/ops/text_format.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "mmu/format/arm64_s2.h"
#include "mmu/format/x86_ept.h"
#include "mmu/ops/sections.h"
#include "mmu/x86/fault_flags.h"

namespace mmudiff {

namespace {

namespace prot = arm64s2::prot;

struct LineError {
  std::string message;
};

// The longest line an operation takes is an x86 init's 13 words (init arch= and eleven knobs).
// A line keeps at most one word more: any 14 words hold an error parse_line reports (an extra
// value, an operand given twice or one the operation has not), so a longer line fails on words
// it has, and a line of millions of words costs no memory.
constexpr size_t kMaxLineWords = 14;

struct Words {
  std::array<std::string_view, kMaxLineWords> word;
  size_t count = 0;
  const std::string_view& operator[](size_t i) const { return word[i]; }
  size_t size() const { return count; }
  bool empty() const { return count == 0; }
};

Words split_words(std::string_view line) {
  Words words;
  size_t i = 0;
  while (i < line.size() && words.count < kMaxLineWords) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) words.word[words.count++] = line.substr(start, i - start);
  }
  return words;
}

// An error message quotes at most this much of a word from the input: a line may be megabytes.
constexpr size_t kMaxQuoted = 64;

std::string excerpt(std::string_view word) {
  if (word.size() <= kMaxQuoted) return std::string(word);
  return fmt::format("{}... ({} bytes)", word.substr(0, kMaxQuoted), word.size());
}

uint64_t parse_number(std::string_view word, std::string_view what) {
  std::string_view digits = word;
  unsigned shift = 0;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'K':
      case 'k':
        shift = 10;
        break;
      case 'M':
      case 'm':
        shift = 20;
        break;
      case 'G':
      case 'g':
        shift = 30;
        break;
      case 'T':
      case 't':
        shift = 40;
        break;
      default:
        break;
    }
    if (shift) digits.remove_suffix(1);
  }
  uint64_t value = 0;
  std::errc ec = parse_plain_number(digits, &value);
  if (ec == std::errc::invalid_argument)
    throw LineError{
        fmt::format("{} '{}' is not a number (decimal or 0x hex, optionally with a "
                    "K, M, G or T suffix)",
                    what, excerpt(word))};
  if (ec == std::errc::result_out_of_range || (shift && (value >> (64 - shift)) != 0))
    throw LineError{fmt::format("{} '{}' does not fit in 64 bits", what, excerpt(word))};
  return value << shift;
}

uint64_t parse_bounded(std::string_view word, std::string_view what, uint64_t lo, uint64_t hi) {
  uint64_t v = parse_number(word, what);
  if (v < lo || v > hi)
    throw LineError{fmt::format("{} {} is out of range {}..{}", what, excerpt(word), lo, hi)};
  return v;
}

bool parse_flag(std::string_view word, std::string_view what) {
  if (word == "0" || word == "no" || word == "false") return false;
  if (word == "1" || word == "yes" || word == "true") return true;
  throw LineError{fmt::format("{} must be 0 or 1, not '{}'", what, excerpt(word))};
}

uint64_t parse_prot_letters(std::string_view word) {
  if (word == "-") return 0;
  uint64_t p = 0;
  for (char c : word) {
    uint64_t b;
    switch (c) {
      case 'r':
        b = prot::kR;
        break;
      case 'w':
        b = prot::kW;
        break;
      case 'x':
        b = prot::kX;
        break;
      case 'd':
        b = prot::kDevice;
        break;
      case 'n':
        b = prot::kNormalNc;
        break;
      case '-':
        continue;
      default:
        throw LineError{fmt::format("prot '{}' has '{}'; use the letters r, w, x, d, n or -",
                                    excerpt(word), c)};
    }
    if (p & b) throw LineError{fmt::format("prot '{}' repeats '{}'", excerpt(word), c)};
    p |= b;
  }
  return p;
}

// A 6.12 map's flags=: "shared", "fault" (KVM_PGTABLE_WALK_SHARED, _HANDLE_FAULT), comma-separated,
// or 0 for none.
uint8_t parse_walk_flags(std::string_view word) {
  if (word == "0") return 0;
  uint8_t flags = 0;
  while (!word.empty()) {
    const size_t comma = word.find(',');
    const std::string_view name = word.substr(0, comma);
    uint8_t f;
    if (name == "shared")
      f = walk_flag::kShared;
    else if (name == "fault")
      f = walk_flag::kHandleFault;
    else
      throw LineError{
          fmt::format("flags has '{}'; the walk flags are shared and fault", excerpt(name))};
    if (flags & f) throw LineError{fmt::format("flags repeats '{}'", excerpt(name))};
    flags |= f;
    word = comma == std::string_view::npos ? std::string_view() : word.substr(comma + 1);
  }
  return flags;
}

std::string format_walk_flags(uint8_t flags) {
  std::string s;
  if (flags & walk_flag::kShared) s += "shared";
  if (flags & walk_flag::kHandleFault) s += s.empty() ? "fault" : ",fault";
  return s;
}

ForcePte parse_force_pte(std::string_view word) {
  if (word == "never") return ForcePte::Never;
  if (word == "always") return ForcePte::Always;
  if (word == "device") return ForcePte::Device;
  throw LineError{
      fmt::format("force_pte must be never, always or device, not '{}'", excerpt(word))};
}

const char* force_pte_name(ForcePte f) {
  switch (f) {
    case ForcePte::Never:
      return "never";
    case ForcePte::Always:
      return "always";
    case ForcePte::Device:
      return "device";
  }
  return "?";
}

const char* const kPositionalNames[] = {"ADDR", "SIZE"};

constexpr std::string_view kArm64InitUsage =
    " [ia=32..48] [fwb=0|1] [nofwb=0|1] [idmap=0|1] "
    "[force_pte=never|always|device] [kernel=6.1|6.12] [tlb_range=0|1] [lpa2=0|1]";
constexpr std::string_view kX86InitUsage =
    " arch=x86-ept [maxphyaddr=36..52] [levels=4|5] [ad=0|1] [execonly=0|1] "
    "[nx_huge_pages=0|1] [max_level=1..3] [host_level=1..3] [slot_base=GPA] [slot_size=SIZE] "
    "[host_base=PA] [host_mmio_pfn=PFN]";

// The level operand of an x86 operation, and what it means there.
std::string_view level_usage(OpKind kind) {
  switch (kind) {
    case OpKind::Fault:
      return " [level=1..3]";
    case OpKind::WrprotSlot:
    case OpKind::WrprotGfn:
      return " [level=1..3]";
    case OpKind::Split:
      return " [level=1..2]";
    case OpKind::CreateUnlinked:
      return " [level=0..2]";
    default:
      return "";
  }
}

// "map ADDR SIZE [pa=PA] [prot=rwxd] [sw=0..15] [mc=0..4096|none]": what an error message shows.
std::string usage(OpKind kind, Arch arch) {
  OpShape shape = op_shape(kind);
  std::string u(op_kind_name(kind));
  if (kind == OpKind::FreeUnlinked)
    return u + " N (the live unlinked table N modulo how many are live, in creation order)";
  if (shape.addr) u += " ADDR";
  if (shape.size) u += " SIZE";
  if (shape.config) u += arch == Arch::X86Ept ? kX86InitUsage : kArm64InitUsage;
  if (kind == OpKind::Fault) {
    u += level_usage(kind);
    u += " [access=rwx] [prefetch=0|1] [writable=0|1] [dirty_log=0|1]";
    return u;
  }
  if (kind == OpKind::ClearDirtyMasked) return u + " [mask=BITS (default 1)] [wrprot=0|1]";
  u += level_usage(kind);
  if (shape.phys) u += " [pa=PA]";
  if (shape.prot) u += shape.walk_flags ? " [prot=rwxdn] [sw=0..15]" : " [prot=rwxd] [sw=0..15]";
  if (shape.owner) u += kind == OpKind::CreateUnlinked ? " [force_pte=0|1]" : " [owner=0..255]";
  // A split always has its cache (kvm_s2_mmu.split_page_cache), perhaps empty; create_unlinked
  // takes its pages from a cache KVM's callers always have.
  if (shape.memcache)
    u += fmt::format(" [mc=0..{}{}]", kMaxMemcache, always_has_cache(kind) ? "" : "|none");
  if (shape.walk_flags) u += " [flags=shared,fault (6.12)]";
  if (shape.mkold) u += " [mkold=0|1]";
  return u;
}

std::string all_op_names(ProfileId profile) {
  std::string names;
  for (unsigned i = 0; i < kOpKindCount; ++i) {
    if (!op_in_profile(static_cast<OpKind>(i), profile)) continue;
    if (!names.empty()) names += ", ";
    names += op_kind_name(static_cast<OpKind>(i));
  }
  return names;
}

// Fault access letters: r (a read, which every fault is), w (fault->write), x (fault->exec).
uint64_t parse_access_letters(std::string_view word) {
  uint64_t p = 0;
  for (char c : word) {
    uint64_t b;
    switch (c) {
      case 'r':
      case '-':
        continue;
      case 'w':
        b = x86::kFaultWrite;
        break;
      case 'x':
        b = x86::kFaultExec;
        break;
      default:
        throw LineError{
            fmt::format("access '{}' has '{}'; use the letters r, w, x or -", excerpt(word), c)};
    }
    if (p & b) throw LineError{fmt::format("access '{}' repeats '{}'", excerpt(word), c)};
    p |= b;
  }
  return p;
}

uint8_t default_level(OpKind kind) {
  switch (kind) {
    case OpKind::Fault:
      return 3;  // KVM_MAX_HUGEPAGE_LEVEL: the fault path's own limit
    case OpKind::WrprotSlot:
    case OpKind::WrprotGfn:
    case OpKind::Split:
      return 1;  // PG_LEVEL_4K
    case OpKind::CreateUnlinked:
      return 2;  // a table of pages, as in place of a 2 MiB block
    default:
      return 0;
  }
}

uint64_t set_flag(uint64_t flags, uint64_t flag, bool on) {
  return on ? flags | flag : flags & ~flag;
}

// One key=value operand of an x86 operation; false when the operation has no such operand.
bool parse_x86_operand(Op& op, std::string_view key, std::string_view value) {
  x86::EptConfig& c = op.config.x86;
  switch (op.kind) {
    case OpKind::Init:
      if (key == "maxphyaddr") {
        c.maxphyaddr = static_cast<uint8_t>(
            parse_bounded(value, "maxphyaddr", x86ept::kMinMaxPhyAddr, x86ept::kMaxMaxPhyAddr));
      } else if (key == "levels") {
        c.levels = static_cast<uint8_t>(parse_bounded(value, "levels", 4, 5));
      } else if (key == "ad") {
        c.ad = parse_flag(value, "ad");
      } else if (key == "execonly") {
        c.execonly = parse_flag(value, "execonly");
      } else if (key == "nx_huge_pages") {
        c.nx_huge_pages = parse_flag(value, "nx_huge_pages");
      } else if (key == "max_level") {
        c.max_level = static_cast<uint8_t>(parse_bounded(value, "max_level", 1, 3));
      } else if (key == "host_level") {
        c.host_level = static_cast<uint8_t>(parse_bounded(value, "host_level", 1, 3));
      } else if (key == "slot_base" || key == "slot_size") {
        uint64_t v = parse_number(value, key);
        if (v % x86ept::kPageSize)
          throw LineError{fmt::format("{} {:#x} is not a whole number of 4K pages", key, v)};
        (key == "slot_base" ? c.slot_base : c.slot_size) = v;
      } else if (key == "host_base") {
        c.host_base = parse_number(value, "host_base");
        if (c.host_base % x86ept::level_size(3))
          throw LineError{fmt::format("host_base {:#x} is not a multiple of 1G", c.host_base)};
      } else if (key == "host_mmio_pfn") {
        c.host_mmio_pfn = parse_number(value, "host_mmio_pfn");
      } else {
        return false;
      }
      return true;
    case OpKind::Fault:
      if (key == "level") {
        op.level = static_cast<uint8_t>(parse_bounded(value, "level", 1, 3));
      } else if (key == "access") {
        op.prot = (op.prot & ~(x86::kFaultWrite | x86::kFaultExec)) | parse_access_letters(value);
      } else if (key == "prefetch") {
        op.prot = set_flag(op.prot, x86::kFaultPrefetch, parse_flag(value, "prefetch"));
      } else if (key == "writable") {
        op.prot = set_flag(op.prot, x86::kFaultHostReadOnly, !parse_flag(value, "writable"));
      } else if (key == "dirty_log") {
        op.prot = set_flag(op.prot, x86::kFaultDirtyLogging, parse_flag(value, "dirty_log"));
      } else {
        return false;
      }
      return true;
    case OpKind::ClearDirtyMasked:
      if (key == "mask") {
        op.prot = parse_number(value, "mask");
      } else if (key == "wrprot") {
        op.owner = parse_flag(value, "wrprot");
      } else {
        return false;
      }
      return true;
    case OpKind::WrprotSlot:
    case OpKind::WrprotGfn:
      if (key != "level") return false;
      op.level = static_cast<uint8_t>(parse_bounded(value, "level", 1, 3));
      return true;
    case OpKind::Split:
      if (key != "level") return false;
      op.level = static_cast<uint8_t>(parse_bounded(value, "level", 1, 2));
      return true;
    default:
      return false;
  }
}

// One key=value operand of an arm64 operation; false when the operation has no such operand.
bool parse_arm64_operand(Op& op, std::string_view key, std::string_view value) {
  OpShape shape = op_shape(op.kind);
  if (shape.config && key == "ia") {
    op.config.arm64.ia_bits =
        static_cast<uint8_t>(parse_bounded(value, "ia", arm64s2::kMinIaBits, arm64s2::kMaxIaBits));
  } else if (shape.config && key == "fwb") {
    op.config.arm64.fwb = parse_flag(value, "fwb");
  } else if (shape.config && key == "nofwb") {
    op.config.arm64.nofwb = parse_flag(value, "nofwb");
  } else if (shape.config && key == "idmap") {
    op.config.arm64.idmap = parse_flag(value, "idmap");
  } else if (shape.config && key == "tlb_range") {
    op.config.arm64.tlb_range = parse_flag(value, "tlb_range");
  } else if (shape.config && key == "lpa2") {
    op.config.arm64.lpa2 = parse_flag(value, "lpa2");
  } else if (shape.config && key == "force_pte") {
    op.config.arm64.force_pte = parse_force_pte(value);
  } else if (shape.config && key == "kernel") {
    if (!arm64_kernel_from_name(value, &op.config.arm64.kernel))
      throw LineError{fmt::format("kernel must be 6.1 or 6.12, not '{}'", excerpt(value))};
  } else if (shape.phys && key == "pa") {
    op.phys = parse_number(value, "pa");
  } else if (shape.prot && key == "prot") {
    op.prot = (op.prot & prot::kSwMask) | parse_prot_letters(value);
  } else if (shape.prot && key == "sw") {
    op.prot = (op.prot & ~prot::kSwMask) | (parse_bounded(value, "sw", 0, 15) << 55);
  } else if (op.kind == OpKind::CreateUnlinked && key == "level") {
    // Level 3 has no table below it: the kernel WARNs, and KVM never asks.
    op.level = static_cast<uint8_t>(parse_bounded(value, "level", 0, 2));
  } else if (op.kind == OpKind::CreateUnlinked && key == "force_pte") {
    op.owner = parse_flag(value, "force_pte");
  } else if (shape.memcache && key == "mc") {
    if (value == "none" && always_has_cache(op.kind))
      throw LineError{fmt::format("{} always has its {}: mc=0..{}, not none", op_kind_name(op.kind),
                                  op.kind == OpKind::Arm64Split ? "split_page_cache" : "cache",
                                  kMaxMemcache)};
    op.memcache = value == "none"
                      ? kNoMemcache
                      : static_cast<int32_t>(parse_bounded(value, "mc", 0, kMaxMemcache));
  } else if (shape.owner && key == "owner" && op.kind != OpKind::CreateUnlinked) {
    op.owner = static_cast<uint8_t>(parse_bounded(value, "owner", 0, 255));
  } else if (shape.walk_flags && key == "flags") {
    op.walk_flags = parse_walk_flags(value);
  } else if (shape.mkold && key == "mkold") {
    op.mkold = parse_flag(value, "mkold");
  } else {
    return false;
  }
  return true;
}

// An init's arch= operand, wherever on the line it is; the stream's architecture otherwise.
Arch init_arch(const Words& words, Arch current) {
  for (size_t i = 1; i < words.size(); ++i) {
    if (!words[i].starts_with("arch=")) continue;
    std::string_view name = words[i].substr(5);
    Arch arch;
    if (!arch_from_name(name, &arch))
      throw LineError{fmt::format("arch '{}' is not one of arm64-s2, x86-ept", excerpt(name))};
    return arch;
  }
  return current;
}

// ARCH and KERNEL: the stream's so far (its first init's); `pinned` once an init named them. An
// init without kernel= keeps the stream's.
Op parse_line(const Words& words, Arch arch, bool pinned, Arm64Kernel kernel) {
  Op op;
  const ProfileId profile = arch == Arch::X86Ept              ? ProfileId::X86Ept
                            : kernel == Arm64Kernel::Linux612 ? ProfileId::Arm64Linux612
                                                              : ProfileId::Arm64Linux61;
  if (!op_kind_from_name(words[0], arch, &op.kind))
    throw LineError{fmt::format("unknown operation '{}'; the operations are {}", excerpt(words[0]),
                                all_op_names(profile))};
  if (op.kind == OpKind::Init) {
    Arch named = init_arch(words, pinned ? arch : Arch::Arm64S2);
    if (pinned && named != arch)
      throw LineError{
          fmt::format("init arch={} in a stream for {}: a stream keeps one architecture",
                      arch_name(named), arch_name(arch))};
    arch = named;
    op.config.arch = arch;
    op.config.arm64.kernel = kernel;
  } else if (auto own = op_arch(op.kind); own && *own != arch) {
    throw LineError{
        fmt::format("'{}' is an operation of {}, and this stream is for {}{}", words[0],
                    arch_name(*own), arch_name(arch),
                    pinned ? "" : fmt::format(": start it with 'init arch={}'", arch_name(*own)))};
  } else if (!op_in_profile(op.kind, profile)) {
    // Only arm64's split, unlinked tables and range test_clear_young are of one kernel
    // generation alone (Linux 6.12 added them).
    throw LineError{fmt::format(
        "{} is an operation of arm64-6.12 (kvm_pgtable_stage2_{}), and this stream is for {}: "
        "start it with 'init kernel=6.12'",
        words[0], op.kind == OpKind::Arm64Split ? "split" : words[0], profile_name(profile))};
  }
  OpShape shape = op_shape(op.kind);
  size_t positional = (shape.addr ? 1 : 0) + (shape.size ? 1 : 0);

  // Positional values first, then key=value operands.
  size_t first_key = words.size();
  for (size_t i = 1; i < words.size(); ++i) {
    bool is_key = words[i].find('=') != std::string_view::npos;
    if (is_key && first_key == words.size()) first_key = i;
    if (!is_key && first_key < i)
      throw LineError{
          fmt::format("'{}' comes after the key=value operand '{}'; positional values "
                      "come first: {}",
                      excerpt(words[i]), excerpt(words[first_key]), usage(op.kind, arch))};
  }
  size_t given = first_key - 1;
  if (given < positional)
    throw LineError{fmt::format("{} is missing {}: {}", words[0], kPositionalNames[given],
                                usage(op.kind, arch))};
  if (given > positional)
    throw LineError{fmt::format("unexpected value '{}': {}", excerpt(words[1 + positional]),
                                usage(op.kind, arch))};
  if (shape.addr) op.addr = parse_number(words[1], "address");
  if (shape.size) op.size = parse_number(words[2], "size");
  if (shape.memcache) op.memcache = kDefaultMemcache;
  if (shape.level) op.level = default_level(op.kind);
  if (op.kind == OpKind::ClearDirtyMasked) op.prot = 1;  // the page at ADDR

  std::vector<std::string_view> seen;
  for (size_t i = first_key; i < words.size(); ++i) {
    std::string_view w = words[i];
    size_t eq = w.find('=');
    std::string_view key = w.substr(0, eq), value = w.substr(eq + 1);
    if (key.empty()) throw LineError{fmt::format("'{}' has no key before '='", excerpt(w))};
    for (auto s : seen)
      if (s == key) throw LineError{fmt::format("'{}' is given twice", excerpt(key))};
    seen.push_back(key);
    if (value.empty()) throw LineError{fmt::format("'{}' has no value after '='", excerpt(key))};
    if (shape.config && key == "arch") continue;  // read above
    bool known = arch == Arch::X86Ept ? parse_x86_operand(op, key, value)
                                      : parse_arm64_operand(op, key, value);
    if (!known)
      throw LineError{
          fmt::format("{} has no operand '{}': {}", words[0], excerpt(key), usage(op.kind, arch))};
  }
  if (op.kind == OpKind::Init && pinned && op.config.arm64.kernel != kernel)
    throw LineError{
        fmt::format("init kernel={} in a stream for Linux {}: a stream keeps one kernel",
                    arm64_kernel_name(op.config.arm64.kernel), arm64_kernel_name(kernel))};
  // Walk flags and NORMAL_NC are arguments only 6.12's map takes.
  if (op.kind != OpKind::Map && op_arch(op.kind) == Arch::Arm64S2 && (op.prot & prot::kNormalNc))
    throw LineError{
        fmt::format("prot 'n' (KVM_PGTABLE_PROT_NORMAL_NC) is a map's alone, not {}'s", words[0])};
  if (op.kind == OpKind::Map && profile != ProfileId::Arm64Linux612) {
    if (op.walk_flags)
      throw LineError{fmt::format(
          "flags= in a stream for {}: only kernel=6.12's kvm_pgtable_stage2_map takes walk flags",
          profile_name(profile))};
    if (op.prot & prot::kNormalNc)
      throw LineError{fmt::format(
          "prot 'n' (KVM_PGTABLE_PROT_NORMAL_NC) in a stream for {}: only kernel=6.12 has it",
          profile_name(profile))};
  }
  // FEAT_TLBIRANGE is a question only 6.12's code asks.
  if (op.kind == OpKind::Init && op.config.arch == Arch::Arm64S2 &&
      op.config.arm64.kernel == Arm64Kernel::Linux61 &&
      std::find(seen.begin(), seen.end(), std::string_view("tlb_range")) != seen.end())
    throw LineError{
        "tlb_range in a stream for Linux 6.1: only kernel=6.12 asks whether the CPU "
        "has range TLBIs"};
  // So is FEAT_LPA2: 6.1's stage 2 has 48-bit PAs only.
  if (op.kind == OpKind::Init && op.config.arch == Arch::Arm64S2 &&
      op.config.arm64.kernel == Arm64Kernel::Linux61 &&
      std::find(seen.begin(), seen.end(), std::string_view("lpa2")) != seen.end())
    throw LineError{
        "lpa2 in a stream for Linux 6.1: only kernel=6.12 asks whether the CPU has FEAT_LPA2"};
  return op;
}

}  // namespace

namespace {

// "schedule 1>1 3>0": the words after the first, read from the line itself (a schedule may have
// more preemptions than a line keeps words).
sched::Schedule parse_schedule_line(std::string_view line) {
  const size_t word = line.find("schedule");
  std::string rest(line.substr(word + std::string_view("schedule").size()));
  std::replace(rest.begin(), rest.end(), '\t', ' ');
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r')) rest.pop_back();
  // The columns parse_schedule names are the quoted schedule's.
  rest.erase(0, rest.find_first_not_of(' ') == std::string::npos ? rest.size()
                                                                 : rest.find_first_not_of(' '));
  sched::Schedule schedule;
  std::string error;
  if (!sched::parse_schedule(rest, &schedule, &error))
    throw LineError{fmt::format("schedule '{}': {} (a schedule is AFTER>VCPU ..., e.g. 1>1 3>0)",
                                excerpt(rest), error)};
  if (schedule.size() > kMaxSectionPreemptions)
    throw LineError{fmt::format("a schedule has at most {} preemptions, this one {}",
                                kMaxSectionPreemptions, schedule.size())};
  for (const sched::Preemption& p : schedule)
    if (p.to >= kMaxSectionVcpus)
      throw LineError{fmt::format("schedule '{}': vCPU {} in a section of at most {} vCPUs (0-{})",
                                  excerpt(rest), p.to, kMaxSectionVcpus, kMaxSectionVcpus - 1)};
  return schedule;
}

// "vcpu N:" before an operation.
uint8_t parse_vcpu_prefix(const Words& words) {
  const std::string_view n = words.size() > 1 ? words[1] : std::string_view();
  unsigned vcpu = 0;
  auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), vcpu);
  if (n.empty() || ec != std::errc() || end == n.data() || end + 1 != n.data() + n.size() ||
      *end != ':')
    throw LineError{fmt::format("expected 'vcpu N: OPERATION' with N 0-{}, got 'vcpu {}'",
                                kMaxSectionVcpus - 1, excerpt(n))};
  if (vcpu >= kMaxSectionVcpus)
    throw LineError{fmt::format("vcpu {}: a section has at most {} vCPUs (0-{})", vcpu,
                                kMaxSectionVcpus, kMaxSectionVcpus - 1)};
  if (words.size() == 2) throw LineError{fmt::format("vcpu {}: which operation?", vcpu)};
  return static_cast<uint8_t>(vcpu);
}

// The configuration of the table the next operation runs on: the last init's, or the default.
Config current_config(const Stream& stream, Arch arch, Arm64Kernel kernel) {
  for (auto it = stream.rbegin(); it != stream.rend(); ++it)
    if (it->kind == OpKind::Init) return it->config;
  Config c = profile_default_config(arch == Arch::X86Ept              ? ProfileId::X86Ept
                                    : kernel == Arm64Kernel::Linux612 ? ProfileId::Arm64Linux612
                                                                      : ProfileId::Arm64Linux61);
  return c;
}

Words drop_words(const Words& words, size_t n) {
  Words out;
  for (size_t i = n; i < words.size(); ++i) out.word[out.count++] = words[i];
  return out;
}

void place_on_vcpu(Op& op, uint8_t vcpu, Arch arch, Arm64Kernel kernel, const Config& config) {
  const ProfileId profile = arch == Arch::X86Ept              ? ProfileId::X86Ept
                            : kernel == Arm64Kernel::Linux612 ? ProfileId::Arm64Linux612
                                                              : ProfileId::Arm64Linux61;
  if (profile != ProfileId::Arm64Linux612)
    throw LineError{fmt::format(
        "operations on vCPUs are shared walks, which arm64-6.12 has and this stream ({}) has not: "
        "start it with 'init kernel=6.12'",
        profile_name(profile))};
  if (!runs_on_vcpu(op.kind, profile))
    throw LineError{
        fmt::format("{} holds the MMU lock for write and runs alone, not on a vCPU; on a vCPU: map "
                    "(flags=shared), relax_perms, mkyoung, get_leaf",
                    op_kind_name(op.kind))};
  if (op.kind == OpKind::Map) {
    Op fault = op;
    make_fault_map(fault, config);
    if (!(fault == op))
      throw LineError{
          "a map on a vCPU is a fault's, as user_mem_abort makes it: one leaf (4K, 2M or 1G; 4K "
          "where force_pte maps pages) at an address and pa aligned to it, flags=shared,fault"};
  }
  op.vcpu = vcpu;
}

}  // namespace

std::errc parse_plain_number(std::string_view text, uint64_t* value) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value, base);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size())
    return std::errc::invalid_argument;
  return ec;
}

Stream parse_text(std::string_view text, std::string_view filename) {
  // A UTF-8 byte-order mark, as some editors write, is not binary data.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  Stream stream;
  Arch arch = Arch::Arm64S2;
  Arm64Kernel kernel = Arm64Kernel::Linux61;
  bool pinned = false;
  // A schedule line waits for the first operation of its section.
  std::optional<sched::Schedule> pending_schedule;
  size_t pending_line = 0;
  size_t section_ops = 0;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    ++line_no;
    pos = nl + 1;
    // Binary data is refused before anything else: a control character anywhere (comments
    // included), or a byte outside ASCII in the operation part of the line.
    size_t hash = line.find('#');
    for (size_t i = 0; i < line.size(); ++i) {
      auto c = static_cast<unsigned char>(line[i]);
      bool control = (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f;
      bool non_ascii = c >= 0x80 && i < hash;
      if (control || non_ascii)
        throw InputError(fmt::format(
            "{}:{}: {} {:#04x} at column {}; is this a binary stream? ('mmudiff decode' turns one "
            "into text)",
            filename, line_no, control ? "control character" : "non-ASCII byte", c, i + 1));
    }
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    auto words = split_words(line);
    if (words.empty()) continue;
    if (stream.size() == kMaxStreamOps)
      throw InputError(fmt::format("{}:{}: more than {} operations; split the stream", filename,
                                   line_no, kMaxStreamOps));
    try {
      if (words[0] == "schedule") {
        if (pending_schedule)
          throw LineError{fmt::format(
              "a second schedule after line {}'s: a schedule opens a section, whose operations "
              "follow it ('vcpu N: OPERATION')",
              pending_line)};
        pending_schedule = parse_schedule_line(line);
        pending_line = line_no;
        continue;
      }
      uint8_t vcpu = kSerial;
      if (words[0] == "vcpu") {
        vcpu = parse_vcpu_prefix(words);
        words = drop_words(words, 2);
      }
      Op op = parse_line(words, arch, pinned, kernel);
      if (vcpu != kSerial) {
        place_on_vcpu(op, vcpu, arch, kernel, current_config(stream, arch, kernel));
        const bool opens = pending_schedule || stream.empty() || stream.back().vcpu == kSerial;
        section_ops = opens ? 0 : section_ops;
        if (++section_ops > kMaxSectionOps)
          throw LineError{fmt::format(
              "a section holds at most {} operations; open another with a 'schedule' line",
              kMaxSectionOps)};
        op.opens_section = opens;
        if (pending_schedule) op.schedule = std::move(*pending_schedule);
        pending_schedule.reset();
      } else if (pending_schedule) {
        throw LineError{fmt::format(
            "the schedule of line {} opens a section, but this operation is not on a vCPU "
            "('vcpu N: {}')",
            pending_line, excerpt(words[0]))};
      }
      stream.push_back(std::move(op));
      if (stream.back().kind == OpKind::Init) {
        arch = stream.back().config.arch;
        kernel = stream.back().config.arm64.kernel;
        pinned = true;
      }
    } catch (const LineError& e) {
      throw InputError(fmt::format("{}:{}: {}", filename, line_no, e.message));
    }
  }
  if (pending_schedule)
    throw InputError(
        fmt::format("{}:{}: the schedule opens a section, but no operation on a vCPU follows it",
                    filename, pending_line));
  return stream;
}

std::string format_prot_letters(uint64_t p) {
  std::string s;
  if (p & prot::kR) s += 'r';
  if (p & prot::kW) s += 'w';
  if (p & prot::kX) s += 'x';
  if (p & prot::kDevice) s += 'd';
  if (p & prot::kNormalNc) s += 'n';
  return s.empty() ? "-" : s;
}

std::string format_size(uint64_t size) {
  static constexpr struct {
    unsigned shift;
    char suffix;
  } units[] = {{40, 'T'}, {30, 'G'}, {20, 'M'}, {10, 'K'}};
  for (auto u : units) {
    if (size != 0 && size % (uint64_t{1} << u.shift) == 0 && (size >> u.shift) < 4096)
      return fmt::format("{}{}", size >> u.shift, u.suffix);
  }
  return fmt::format("{:#x}", size);
}

std::string format_op(const Op& op) {
  OpShape shape = op_shape(op.kind);
  std::string s = op.vcpu == kSerial ? std::string(op_kind_name(op.kind))
                                     : fmt::format("vcpu {}: {}", op.vcpu, op_kind_name(op.kind));
  if (op.kind == OpKind::Init && op.config.arch == Arch::X86Ept) {
    const x86::EptConfig& c = op.config.x86;
    return fmt::format(
        "init arch=x86-ept maxphyaddr={} levels={} ad={} execonly={} nx_huge_pages={} "
        "max_level={} host_level={} slot_base={:#x} slot_size={} host_base={:#x} "
        "host_mmio_pfn={:#x}",
        c.maxphyaddr, c.levels, int(c.ad), int(c.execonly), int(c.nx_huge_pages), c.max_level,
        c.host_level, c.slot_base, format_size(c.slot_size), c.host_base, c.host_mmio_pfn);
  }
  if (op.kind == OpKind::Init) {
    const Arm64S2Config& c = op.config.arm64;
    // 6.1 streams print as they did before kernel= existed.
    return fmt::format("init ia={} fwb={} nofwb={} idmap={} force_pte={}{}{}{}", c.ia_bits,
                       int(c.fwb), int(c.nofwb), int(c.idmap), force_pte_name(c.force_pte),
                       c.kernel == Arm64Kernel::Linux61
                           ? ""
                           : fmt::format(" kernel={}", arm64_kernel_name(c.kernel)),
                       c.tlb_range ? " tlb_range=1" : "", c.lpa2 ? " lpa2=1" : "");
  }
  if (op.kind == OpKind::FreeUnlinked) return s + fmt::format(" {}", op.addr);
  if (op.kind == OpKind::CreateUnlinked)
    return s + fmt::format(" pa={:#x} level={} prot={} sw={} force_pte={} mc={}", op.phys, op.level,
                           format_prot_letters(op.prot), (op.prot & prot::kSwMask) >> 55,
                           int(op.owner != 0), op.memcache);
  if (!shape.addr) return s;
  s += fmt::format(" {:#x}", op.addr);
  if (shape.size) s += " " + format_size(op.size);
  if (op.kind == OpKind::Fault) {
    std::string access = "r";
    if (op.prot & x86::kFaultWrite) access += 'w';
    if (op.prot & x86::kFaultExec) access += 'x';
    return s + fmt::format(" level={} access={} prefetch={} writable={} dirty_log={}", op.level,
                           access, int(bool(op.prot & x86::kFaultPrefetch)),
                           int(!(op.prot & x86::kFaultHostReadOnly)),
                           int(bool(op.prot & x86::kFaultDirtyLogging)));
  }
  if (op.kind == OpKind::ClearDirtyMasked)
    return s + fmt::format(" mask={:#x} wrprot={}", op.prot, int(op.owner != 0));
  if (shape.level) s += fmt::format(" level={}", op.level);
  if (shape.phys) s += fmt::format(" pa={:#x}", op.phys);
  if (shape.prot) {
    s += " prot=" + format_prot_letters(op.prot);
    s += fmt::format(" sw={}", (op.prot & prot::kSwMask) >> 55);
  }
  if (shape.owner) s += fmt::format(" owner={}", op.owner);
  if (shape.memcache)
    s += op.memcache == kNoMemcache ? std::string(" mc=none") : fmt::format(" mc={}", op.memcache);
  // Printed only when there are some, so every map of before prints as it did.
  if (shape.walk_flags && op.walk_flags) s += " flags=" + format_walk_flags(op.walk_flags);
  if (shape.mkold) s += fmt::format(" mkold={}", int(op.mkold));
  return s;
}

std::string format_stream(const Stream& stream) {
  std::string out;
  for (const Op& op : stream) {
    // Every section says its schedule, even an empty one: where one section ends and the next
    // begins is then plain to read.
    if (op.vcpu != kSerial && op.opens_section) {
      const std::string schedule = sched::schedule_text(op.schedule);
      out += schedule.empty() ? "schedule\n" : "schedule " + schedule + "\n";
    }
    out += format_op(op);
    out += '\n';
  }
  return out;
}

}  // namespace mmudiff
