/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The deterministic scheduler (mmu/sched/deterministic_scheduler.h) as C code sees it: the kernel
 * shims (mmu/kvm_arm64_shim/prelude_common.h, mmu/linux612) include this, and C++ may too. Each
 * function is DeterministicScheduler's static of the same name for the calling thread's vCPU;
 * outside a concurrent run each does what a single CPU would: a point returns at once, the read
 * side is nothing to wait for, and a deferred callback runs at once. On a vCPU of a threaded run
 * (mmu/sched/threaded_run.h, real threads) a point does nothing, an access is still checked, and
 * a deferred callback waits until every vCPU of the run has finished.
 */
#ifndef MMUDIFF_SCHED_HOOKS_H
#define MMUDIFF_SCHED_HOOKS_H

#ifdef __cplusplus
extern "C" {
#endif

/* A scheduling point before the access WHAT makes to ADDR. */
void mmudiff_sched_point(const char* what, const void* addr);
/* The same point; nonzero when the caller is a vCPU of a concurrent run, where the access it
 * marks may race with another vCPU's and is worth checking (a freed page, say). One call, so that
 * the check costs a serial stream nothing. */
int mmudiff_sched_access(const char* what, const void* addr);

/* The calling vCPU enters or leaves an RCU read-side section; they nest. */
void mmudiff_sched_rcu_read_lock(void);
void mmudiff_sched_rcu_read_unlock(void);
/* FN(ARG) after a grace period: once every vCPU inside a read-side section now (the caller
 * included) has left it, on the vCPU that leaves last, possibly inside another call of the code
 * under test. So FN must set up whatever context it needs (the shim's current instance) itself.
 * Outside a run, or with no reader, it runs before this returns. */
void mmudiff_sched_call_rcu(void (*fn)(void*), void* arg);

/* A compare-and-swap on a descriptor found another value than the one its walk read: a race
 * lost. Counted in a threaded run (mmu/sched/threaded_run.h), nothing elsewhere. */
void mmudiff_sched_lost_cmpxchg(void);

#ifdef __cplusplus
}
#endif

#endif /* MMUDIFF_SCHED_HOOKS_H */
