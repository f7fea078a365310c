// SPDX-License-Identifier: GPL-2.0-only
// The arm64 stage-2 format with the 4 KiB granule as a DescriptorFormat ("arm64-s2-4k"): the
// trait the oracles dispatch on, written over the constants of arm64_s2.h and the decoder of
// decode.h.
#pragma once

#include "mmu/format/format.h"

namespace mmudiff {

const DescriptorFormat& arm64_s2_4k_format();
// "arm64-s2-4k-lpa2": the same granule with FEAT_LPA2 (VTCR_EL2.DS = 1), 52-bit output addresses.
const DescriptorFormat& arm64_s2_4k_lpa2_format();
// The one of a table with or without FEAT_LPA2.
const DescriptorFormat& arm64_s2_4k_format(bool lpa2);

}  // namespace mmudiff
