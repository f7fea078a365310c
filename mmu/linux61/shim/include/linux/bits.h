/* SPDX-License-Identifier: GPL-2.0-only */
/* Empty on purpose: everything the linux61 backend needs from <linux/bits.h> is in ../../prelude.h. */
