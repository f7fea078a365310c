/* SPDX-License-Identifier: GPL-2.0-only */
/* Empty on purpose: what the linux612-tdp backend needs from <trace/define_trace.h> is in ../prelude.h. */
