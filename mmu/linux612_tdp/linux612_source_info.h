// SPDX-License-Identifier: GPL-2.0-only
// Where the linux612-tdp backend's kernel code came from, recorded at configure time
// (cmake/Linux612Source.cmake, cmake/DebianKernelSource.cmake); reports print it.
#pragma once

#include "mmu/kernel_source_info.h"

namespace mmudiff {

const KernelSourceInfo& linux612_source_info();

}  // namespace mmudiff
