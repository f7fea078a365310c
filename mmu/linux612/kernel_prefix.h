/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The prefix of every global name one 6.12-generation kernel object defines: its pgtable.c's
 * functions (renamed by shim/prelude.h) and its adapter's entry points. linux612's is l612a_; a
 * user's tree (cmake/KernelTrees.cmake) compiles the same adapter with -DMMUDIFF_KERNEL_PREFIX=
 * kt_<name>_, so any number of trees link into one process.
 */
#ifndef MMUDIFF_LINUX612_KERNEL_PREFIX_H
#define MMUDIFF_LINUX612_KERNEL_PREFIX_H

#ifndef MMUDIFF_KERNEL_PREFIX
#define MMUDIFF_KERNEL_PREFIX l612a_
#endif
#define L612A_CAT_(a, b) a##b
#define L612A_CAT(a, b) L612A_CAT_(a, b)
/* NAME with the object's prefix; NAME is not expanded again (a macro of that name may be the
 * caller). */
#define L612A_NAME(name) L612A_CAT(MMUDIFF_KERNEL_PREFIX, name)

#endif /* MMUDIFF_LINUX612_KERNEL_PREFIX_H */
