/* SPDX-License-Identifier: GPL-2.0-only */
/* Empty on purpose: 6.12's kvm_arm.h includes <asm/sysreg.h>; what the linux612 backend needs from
 * it is in ../../prelude.h and mmu/kvm_arm64_shim/prelude_common.h. */
