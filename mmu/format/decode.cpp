// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/format/decode.h"

#include <fmt/format.h>

namespace mmudiff {

using namespace arm64s2;

namespace {

const char* const kDeviceTypes[] = {"device nGnRnE", "device nGnRE", "device nGRE", "device GRE"};

// Stage-2 MemAttr[3:0] (Arm ARM, "Stage 2 memory type and Cacheability attributes").
// Without FEAT_S2FWB: [3:2] is the outer cacheability (00 = device), [1:0] the inner one or,
// for device memory, the device type. With FWB: [2] clear is device ([1:0] its type), [2] set
// is normal memory whose [1:0] says NC, forced write-back, or "use the stage-1 attributes".
std::string mem_attr_text(uint64_t attr, bool fwb) {
  if (fwb) {
    if (attr & 0x8) return "reserved (FWB encoding)";
    if (!(attr & 0x4)) return kDeviceTypes[attr & 3];
    static const char* const normal[] = {"reserved (FWB encoding)", "normal NC",
                                         "normal WB (forced by FWB)", "normal, stage-1 attributes"};
    return normal[attr & 3];
  }
  if ((attr >> 2) == 0) return kDeviceTypes[attr & 3];
  static const char* const cache[] = {"reserved", "NC", "WT", "WB"};
  if ((attr & 3) == 0) return fmt::format("normal outer {}, inner reserved", cache[attr >> 2]);
  if ((attr >> 2) == (attr & 3)) return fmt::format("normal {}", cache[attr & 3]);
  return fmt::format("normal outer {} inner {}", cache[attr >> 2], cache[attr & 3]);
}

const char* s2ap_text(uint64_t s2ap) {
  static const char* const names[] = {"none", "RO", "WO", "RW"};
  return names[s2ap & 3];
}

const char* sh_text(uint64_t sh) {
  static const char* const names[] = {"non-shareable", "reserved", "outer shareable",
                                      "inner shareable"};
  return names[sh & 3];
}

const char* sh_short(uint64_t sh) {
  static const char* const names[] = {"NS", "reserved", "OS", "IS"};
  return names[sh & 3];
}

// XN[1:0], bits [54:53]. Without FEAT_XNX only XN[1] means anything; KVM writes only XN[1].
const char* xn_text(uint64_t xn) {
  static const char* const names[] = {"executable", "EL1 execute-never (XN[0], FEAT_XNX)",
                                      "execute-never", "EL0 execute-never (XN[0], FEAT_XNX)"};
  return names[xn & 3];
}

}  // namespace

DecodedDescriptor decode_descriptor(uint64_t raw, unsigned level, bool fwb, bool lpa2) {
  DecodedDescriptor d{raw, level, classify(raw, level), {}};
  auto add = [&](const char* name, uint64_t value, std::string text) {
    d.fields.push_back({name, value, std::move(text)});
  };
  add("valid", raw & kValid, (raw & kValid) ? "valid" : "invalid");
  switch (d.kind) {
    case DescriptorKind::Invalid: {
      uint64_t owner = owner_of(raw);
      add("owner", owner,
          raw == 0     ? "empty"
          : owner == 0 ? "no owner annotation"
                       : fmt::format("owner id {}", owner));
      uint64_t rest = raw & ~(kOwnerMask | kValid);
      add("other", rest, rest ? "bits outside the owner field" : "clear");
      break;
    }
    case DescriptorKind::Table: {
      add("type", 1, "table");
      const uint64_t next = output_address(raw, lpa2);
      add("next-level table", next, fmt::format("{:#x} (masked by the structural hash)", next));
      uint64_t res = raw & table_reserved_mask(lpa2);
      add("RES0", res, res ? "reserved bits set" : "clear");
      break;
    }
    case DescriptorKind::Reserved:
      add("type", (raw >> 1) & 1, "reserved encoding at this level");
      break;
    case DescriptorKind::Block:
    case DescriptorKind::Page: {
      add("type", (raw >> 1) & 1, kind_name(d.kind));
      add("OA", output_address(raw, lpa2), fmt::format("{:#x}", output_address(raw, lpa2)));
      uint64_t attr = (raw & kMemAttrMask) >> kMemAttrShift;
      add("MemAttr", attr, mem_attr_text(attr, fwb));
      uint64_t s2ap = (raw & (kS2apR | kS2apW)) >> 6;
      add("S2AP", s2ap, s2ap_text(s2ap));
      // With FEAT_LPA2 bits [9:8] are OA[51:50]; the shareability is VTCR_EL2's.
      if (!lpa2) {
        uint64_t sh = (raw & kShMask) >> kShShift;
        add("SH", sh, sh_text(sh));
      }
      add("AF", (raw & kAf) ? 1 : 0, (raw & kAf) ? "accessed" : "old");
      uint64_t xn = (raw & kXnMask) >> 53;
      add("XN", xn, xn_text(xn));
      uint64_t sw = (raw & kSwMask) >> kSwShift;
      add("SW", sw, fmt::format("software bits {:#x}", sw));
      uint64_t res = raw & leaf_reserved_mask(level, lpa2);
      add("RES0", res, res ? "reserved bits set" : "clear");
      break;
    }
  }
  return d;
}

std::string describe_descriptor(uint64_t raw, unsigned level, bool fwb, bool lpa2) {
  DecodedDescriptor d = decode_descriptor(raw, level, fwb, lpa2);
  std::string out = fmt::format("L{} {:<8} {:#018x}", level, kind_name(d.kind), raw);
  for (const auto& f : d.fields) {
    const std::string& n = f.name;
    if (n == "valid" || n == "type") continue;
    if ((n == "RES0" || n == "other") && f.value == 0) continue;
    if (n == "owner") {
      out += raw == 0 ? " empty" : fmt::format(" owner={}", f.value);
    } else if (n == "next-level table") {
      out += fmt::format(" next={:#x}", f.value);
    } else if (n == "MemAttr") {
      out += fmt::format(" MemAttr={:#x}({})", f.value, f.text);
    } else if (n == "S2AP") {
      out += fmt::format(" S2AP={}", f.text);
    } else if (n == "SH") {
      out += fmt::format(" SH={}", sh_short(f.value));
    } else if (n == "XN") {
      out += fmt::format(" XN={}", (f.value >> 1) & 1);  // XN[1], bit 54; XN[0] shows as RES0
    } else if (n == "OA" || n == "SW" || n == "RES0" || n == "other") {
      out += fmt::format(" {}={:#x}", n, f.value);
    } else {
      out += fmt::format(" {}={}", n, f.value);
    }
  }
  return out;
}

}  // namespace mmudiff
