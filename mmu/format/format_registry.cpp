// SPDX-License-Identifier: GPL-2.0-only
// The formats this build knows, by name. A new format adds its accessor to the list below; a
// family of formats (x86 EPT, one per configuration) is found by parsing the name.
#include "mmu/format/arm64_s2_format.h"
#include "mmu/format/format.h"
#include "mmu/format/x86_ept_format.h"

namespace mmudiff {

const std::vector<const DescriptorFormat*>& registered_formats() {
  static const std::vector<const DescriptorFormat*> formats = {&arm64_s2_4k_format(),
                                                               &arm64_s2_4k_lpa2_format()};
  return formats;
}

const DescriptorFormat* find_format(std::string_view name) {
  for (const DescriptorFormat* f : registered_formats())
    if (f->name() == name) return f;
  // x86 EPT formats are a family, one per configuration, named by their parameters.
  if (auto params = parse_x86_ept_name(name)) return &x86_ept_format(*params);
  return nullptr;
}

const DescriptorFormat& default_format() {
  static const DescriptorFormat& f = *find_format(kDefaultFormatName);
  return f;
}

}  // namespace mmudiff
