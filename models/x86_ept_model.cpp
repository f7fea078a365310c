// SPDX-License-Identifier: GPL-2.0-only
#include "models/x86_ept_model.h"

namespace mmudiff::models {

ConcreteRsvdCheck kvm_reset_rsvds_bits_mask_ept(uint64_t pa_bits_rsvd, bool execonly,
                                                int huge_page_level) {
  return reset_rsvds_bits_mask_ept(kEptIntegerBits, pa_bits_rsvd, execonly, huge_page_level);
}

ConcreteRsvdCheck kvm_tdp_shadow_zero_check(unsigned maxphyaddr, int huge_page_level) {
  return tdp_shadow_zero_check(kEptIntegerBits, maxphyaddr, huge_page_level);
}

std::vector<ZeroCheckInput> zero_check_inputs() {
  std::vector<ZeroCheckInput> out;
  for (unsigned maxphyaddr = 36; maxphyaddr <= 52; ++maxphyaddr)
    for (bool execonly : {false, true})
      for (int hpl : {kPgLevel4K, kPgLevel2M, kPgLevel1G})
        out.push_back({maxphyaddr, execonly, hpl});
  return out;
}

bool kvm_is_rsvd_spte(const ConcreteRsvdCheck& c, uint64_t spte, int level) {
  return is_rsvd_spte(kEptIntegerBits, c, spte, level);
}

std::string sdm_misconfig_reason(uint64_t e, unsigned level, const SdmEptRules& r) {
  const SdmMisconfig<EptIntegerBits> m = sdm_misconfig(kEptIntegerBits, e, level, r);
  if (m.write_without_read) return "write without read (bits 2:0 = 010b or 110b)";
  if (m.execute_only_unsupported) return "execute-only (100b) without execute-only support";
  if (m.page_size_not_allowed) return "bit 7 set where no page may be mapped";
  if (m.reserved_bit) return "a reserved bit for its level and MAXPHYADDR";
  if (m.reserved_memory_type) return "leaf memory type 2, 3 or 7";
  return "";
}

}  // namespace mmudiff::models
