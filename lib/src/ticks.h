/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ticks.h (internal): a cheap per-task clock.
 *
 * Timing every task with clock_gettime costs about 27 ns here (the vDSO
 * orders the counter read with a fence and converts it), as much as the
 * rest of an empty task's overhead together. The runner therefore reads the
 * CPU's counter directly between tasks (about 9 ns) and converts ticks to
 * seconds once per range, scaling by the range's clock_gettime duration:
 * no frequency needs to be known or stable across ranges, and the per-task
 * seconds of a range add up to its measured wall time.
 *
 * x86: the time-stamp counter (constant and synchronised across cores on
 * every CPU of the last fifteen years; a backwards step after a migration is
 * clamped to 0 by the caller). AArch64: the virtual counter. Elsewhere:
 * CLOCK_MONOTONIC in nanoseconds. */
#ifndef SHOAL_TICKS_H
#define SHOAL_TICKS_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t shoal__ticks(void) { return (uint64_t)__rdtsc(); }
#elif defined(__aarch64__)
static inline uint64_t shoal__ticks(void)
{
    uint64_t v;
    __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
    return v;
}
#else
#include <time.h>
static inline uint64_t shoal__ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

#endif
