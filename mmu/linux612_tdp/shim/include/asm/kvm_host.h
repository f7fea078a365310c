/* SPDX-License-Identifier: GPL-2.0-only */
/* Empty on purpose: what the linux612-tdp backend needs from <asm/kvm_host.h> is in ../prelude.h. */
