/* SPDX-License-Identifier: GPL-3.0-or-later */
/* eta.c: the time a run has left (see eta.h). */
#include <shoal/error.h>

#include "eta.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int shoal__eta_init(shoal__eta *e, uint64_t ntasks)
{
    memset(e, 0, sizeof *e);
    e->ntasks = ntasks;
    e->nstrata = ntasks < SHOAL__ETA_STRATA ? (size_t)(ntasks ? ntasks : 1)
                                            : SHOAL__ETA_STRATA;
    e->width = ntasks / e->nstrata + (ntasks % e->nstrata != 0);
    if (e->width == 0)
        e->width = 1;
    e->left = calloc(e->nstrata, sizeof *e->left);
    e->measured = calloc(e->nstrata, sizeof *e->measured);
    e->seconds = calloc(e->nstrata, sizeof *e->seconds);
    if (!e->left || !e->measured || !e->seconds) {
        shoal__eta_free(e);
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the time estimate");
    }
    return 0;
}

void shoal__eta_free(shoal__eta *e)
{
    free(e->left);
    free(e->measured);
    free(e->seconds);
    e->left = e->measured = NULL;
    e->seconds = NULL;
}

/* Call fn(e, stratum, tasks) for each stratum that [start, start+count)
 * meets, clipped to the task range. */
#define EACH_STRATUM(e, start, count, body)                                    \
    do {                                                                       \
        uint64_t s_ = (start), end_ = (start) + (count);                       \
        if (end_ > (e)->ntasks || end_ < s_)                                   \
            end_ = (e)->ntasks;                                                \
        while (s_ < end_) {                                                    \
            size_t k = (size_t)(s_ / (e)->width);                              \
            uint64_t stop_ = ((uint64_t)k + 1) * (e)->width;                   \
            uint64_t n = (stop_ < end_ ? stop_ : end_) - s_;                   \
            body;                                                              \
            s_ += n;                                                           \
        }                                                                      \
    } while (0)

void shoal__eta_todo(shoal__eta *e, uint64_t start, uint64_t count)
{
    if (!e->left)
        return;
    EACH_STRATUM(e, start, count, {
        e->left[k] += n;
        e->todo += n;
    });
}

static void measure(shoal__eta *e, uint64_t start, uint64_t count, double seconds)
{
    if (count == 0 || !(seconds >= 0))
        return;
    double per = seconds / (double)count;
    EACH_STRATUM(e, start, count, {
        e->measured[k] += n;
        e->seconds[k] += per * (double)n;
        e->all_measured += n;
        e->all_seconds += per * (double)n;
    });
}

void shoal__eta_known(shoal__eta *e, uint64_t start, uint64_t count, double seconds)
{
    if (e->left)
        measure(e, start, count, seconds);
}

void shoal__eta_done(shoal__eta *e, uint64_t start, uint64_t count, double seconds)
{
    if (!e->left)
        return;
    EACH_STRATUM(e, start, count, {
        uint64_t m = n < e->left[k] ? n : e->left[k];
        e->left[k] -= m;
        e->finished += m;
    });
    if (seconds >= 0)
        e->work_done += seconds;
    measure(e, start, count, seconds);
}

/* Mean task time of stratum k: its own, else that of the nearest measured
 * strata (both, averaged, when they are as near): cost follows the index. */
static double stratum_mean(const shoal__eta *e, size_t k)
{
    if (e->measured[k])
        return e->seconds[k] / (double)e->measured[k];
    for (size_t d = 1; d < e->nstrata; d++) {
        double sum = 0;
        int n = 0;
        if (k >= d && e->measured[k - d]) {
            sum += e->seconds[k - d] / (double)e->measured[k - d];
            n++;
        }
        if (k + d < e->nstrata && e->measured[k + d]) {
            sum += e->seconds[k + d] / (double)e->measured[k + d];
            n++;
        }
        if (n)
            return sum / n;
    }
    return e->all_seconds / (double)e->all_measured; /* not reached */
}

double shoal__eta_work_left(const shoal__eta *e)
{
    if (!e->left || e->all_measured == 0)
        return e && e->left && e->finished >= e->todo ? 0 : NAN;
    double work = 0;
    for (size_t k = 0; k < e->nstrata; k++)
        if (e->left[k])
            work += (double)e->left[k] * stratum_mean(e, k);
    return work;
}

double shoal__eta_seconds(const shoal__eta *e, double elapsed)
{
    double work = shoal__eta_work_left(e);
    if (work == 0)
        return 0;
    if (!(work > 0) || e->finished == 0 || !(elapsed > 0) || !(e->work_done > 0))
        return NAN;
    return work * elapsed / e->work_done;
}

double shoal__eta_seconds_from(const shoal__eta *e, double work, double elapsed)
{
    double left = shoal__eta_work_left(e);
    if (left == 0)
        return 0;
    if (!(left > 0) || !(work > 0) || !(elapsed > 0))
        return NAN;
    return left * elapsed / work;
}

double shoal__eta_fraction(const shoal__eta *e)
{
    double work = shoal__eta_work_left(e);
    if (!(work >= 0))
        return NAN;
    double total = work + e->work_done;
    return total > 0 ? e->work_done / total : 1.0;
}

void shoal__eta_format(double s, char *buf, size_t n)
{
    if (!(s >= 0) || s > 1e12) {
        snprintf(buf, n, "?");
        return;
    }
    unsigned long long t = (unsigned long long)llround(s);
    if (t < 60)
        snprintf(buf, n, "%llus", t);
    else if (t < 3600)
        snprintf(buf, n, "%llum%02llus", t / 60, t % 60);
    else if (t < 86400)
        snprintf(buf, n, "%lluh%02llum", t / 3600, t / 60 % 60);
    else
        snprintf(buf, n, "%llud%02lluh", t / 86400, t / 3600 % 24);
}
