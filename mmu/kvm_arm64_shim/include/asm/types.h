/* SPDX-License-Identifier: GPL-2.0-only */
/* Empty on purpose: what the arm64 kernel backends need from <asm/types.h> is in their preludes
 * (mmu/kvm_arm64_shim/prelude_common.h and each backend's shim/prelude.h). */
