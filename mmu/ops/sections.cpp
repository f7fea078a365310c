// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/ops/sections.h"

#include <algorithm>

#include "mmu/format/arm64_s2.h"

namespace mmudiff {

bool is_fault_leaf_size(uint64_t size) {
  return size == kFaultLeafSizes[0] || size == kFaultLeafSizes[1] || size == kFaultLeafSizes[2];
}

void make_fault_map(Op& op, const Config& config) {
  op.walk_flags = walk_flag::kShared | walk_flag::kHandleFault;
  // Where the table maps pages only, a fault maps a page (user_mem_abort's force_pte).
  const ForcePte force = config.arm64.force_pte;
  const bool pages_only = force == ForcePte::Always ||
                          (force == ForcePte::Device && (op.prot & arm64s2::prot::kDevice));
  if (!is_fault_leaf_size(op.size) || pages_only) op.size = kFaultLeafSizes[0];
  // Nor does a fault map a 1 GiB block where the table starts below level 1 (fewer than three
  // levels: an IPA space under 35 bits), as user_mem_abort falls back to PMD_SIZE there.
  const unsigned levels = (config.arm64.ia_bits - 8u) / 9u;
  if (op.size == kFaultLeafSizes[2] && levels < 3) op.size = kFaultLeafSizes[1];
  op.addr &= ~(op.size - 1);
  op.phys &= ~(op.size - 1);
}

bool runs_on_vcpu(OpKind kind, ProfileId profile) {
  if (profile != ProfileId::Arm64Linux612) return false;
  switch (kind) {
    case OpKind::Map:
    case OpKind::RelaxPerms:
    case OpKind::Mkyoung:
    case OpKind::GetLeaf:
      return true;
    default:
      return false;
  }
}

std::vector<Section> concurrent_sections(const Stream& stream) {
  std::vector<Section> sections;
  for (size_t i = 0; i < stream.size(); ++i) {
    const Op& op = stream[i];
    if (op.vcpu == kSerial) continue;
    const bool continues = !sections.empty() && sections.back().end == i && !op.opens_section;
    if (!continues) sections.push_back({i, i, 0});
    Section& s = sections.back();
    s.end = i + 1;
    s.vcpus = std::max(s.vcpus, unsigned(op.vcpu) + 1);
  }
  return sections;
}

bool has_sections(const Stream& stream) {
  const ProfileId profile = stream_profile(stream);
  return std::any_of(stream.begin(), stream.end(), [&](const Op& op) {
    return op.vcpu != kSerial && runs_on_vcpu(op.kind, profile);
  });
}

void normalize_sections(Stream& stream) {
  const ProfileId profile = stream_profile(stream);
  Config config = profile_default_config(profile);
  size_t in_section = 0;  // operations of the current section so far; 0: none open
  for (Op& op : stream) {
    if (op.kind == OpKind::Init) config = op.config;
    if (op.vcpu != kSerial && !runs_on_vcpu(op.kind, profile)) op.vcpu = kSerial;
    if (op.vcpu == kSerial) {
      op.opens_section = false;
      op.schedule.clear();
      in_section = 0;
      continue;
    }
    op.vcpu %= kMaxSectionVcpus;
    if (op.kind == OpKind::Map) make_fault_map(op, config);
    if (in_section == 0 || in_section == kMaxSectionOps) op.opens_section = true;
    if (op.opens_section) {
      in_section = 0;
      if (op.schedule.size() > kMaxSectionPreemptions) op.schedule.resize(kMaxSectionPreemptions);
      for (sched::Preemption& p : op.schedule) p.to %= kMaxSectionVcpus;
    } else {
      op.schedule.clear();
    }
    ++in_section;
  }
}

Stream without_ops(const Stream& stream, size_t begin, size_t end) {
  end = std::min(end, stream.size());
  Stream out(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(std::min(begin, end)));
  // The schedule of the section the removed operations opened, if the section goes on.
  const Op* opener = nullptr;
  for (size_t i = begin; i < end; ++i) {
    if (stream[i].vcpu == kSerial)
      opener = nullptr;
    else if (stream[i].opens_section)
      opener = &stream[i];
  }
  for (size_t i = end; i < stream.size(); ++i) {
    Op op = stream[i];
    if (i == end && opener && op.vcpu != kSerial && !op.opens_section) {
      op.opens_section = true;
      op.schedule = opener->schedule;
    }
    out.push_back(std::move(op));
  }
  normalize_sections(out);
  return out;
}

}  // namespace mmudiff
