/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The prefix of every global name one 6.12-generation kernel object defines (linux612's l612a_, a
 * user's tree's kt_<name>_): mmu/kvm_arm64_shim/kernel_prefix.h renames the kernel's, and the
 * adapter names its entry points with L612A_NAME.
 */
#ifndef MMUDIFF_LINUX612_KERNEL_PREFIX_H
#define MMUDIFF_LINUX612_KERNEL_PREFIX_H

#include "mmu/kvm_arm64_shim/kernel_prefix.h"

#define L612A_NAME(name) ARM64K_PREFIXED(name)

#endif /* MMUDIFF_LINUX612_KERNEL_PREFIX_H */
