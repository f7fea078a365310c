// SPDX-License-Identifier: GPL-2.0-only
// The arm64 stage-2 format with the 4 KiB granule as a DescriptorFormat ("arm64-s2-4k"): the
// trait the oracles dispatch on, written over the constants of arm64_s2.h and the decoder of
// decode.h.
#pragma once

#include "mmu/format/format.h"

namespace mmudiff {

const DescriptorFormat& arm64_s2_4k_format();

}  // namespace mmudiff
