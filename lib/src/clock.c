/* SPDX-License-Identifier: GPL-3.0-or-later */
/* clock.c: shoal_now() (see shoal/clock.h). */
#include <shoal/clock.h>

#include <time.h>

double shoal_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
