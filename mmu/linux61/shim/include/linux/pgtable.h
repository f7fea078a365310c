/* SPDX-License-Identifier: GPL-2.0-only */
/* Empty on purpose: everything the linux61 backend needs from <linux/pgtable.h> is in ../../prelude.h. */
