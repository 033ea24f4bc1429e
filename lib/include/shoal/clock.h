/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The one clock of Shoal: monotonic seconds for timing tasks, pacing the
 * pool and measuring deadlines. Not a date: its zero is arbitrary (boot, on
 * Linux), so values mean something only on the machine that read them. */
#ifndef SHOAL_CLOCK_H
#define SHOAL_CLOCK_H

#include <shoal/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Monotonic time in seconds (CLOCK_MONOTONIC). */
SHOAL_API double shoal_now(void);

#ifdef __cplusplus
}
#endif

#endif
