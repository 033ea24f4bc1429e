/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sched.c: guided self-scheduling bounded by time, as pure logic.
 * See sched.h for the rule; pool.c owns the instance on the master. */
#include "sched.h"

#include <math.h>

void shoal__sched_init(shoal__sched *s, uint64_t ntasks, int nranks,
                       double target_seconds, uint64_t max_tasks,
                       uint64_t first_tasks)
{
    s->ntasks = ntasks;
    s->handed = 0;
    s->next = 0;
    s->list = NULL;
    s->nlist = s->cur = 0;
    s->nranks = nranks > 0 ? nranks : 1;
    s->target_seconds = target_seconds > 0 ? target_seconds : 0.05;
    s->max_tasks = max_tasks > 0 ? max_tasks : SHOAL__SCHED_MAX_TASKS;
    s->first_tasks = first_tasks > 0 ? first_tasks : 1;
    s->timed_tasks = 0;
    s->timed_seconds = 0;
    s->stopped = 0;
    s->limit = UINT64_MAX;
    s->end = UINT64_MAX;
    s->probes_wanted = 0;
    s->probes_decided = 0;
    s->probe_min_seconds = 0;
    s->nprobes = s->probes_handed = s->probe_skip = 0;
}

void shoal__sched_set_probes(shoal__sched *s, unsigned probes, double min_seconds)
{
    s->probes_wanted = probes > SHOAL__SCHED_MAX_PROBES ? SHOAL__SCHED_MAX_PROBES : probes;
    s->probe_min_seconds = min_seconds;
}

/* The probes: the tasks at quantiles (j + 1/2) / k of those not handed out
 * yet, which (ranges go out in order) are the rest of the current listed
 * range from `next` on and the listed ranges after it. */
static void place_probes(shoal__sched *s)
{
    uint64_t remaining = s->ntasks - s->handed;
    uint64_t k = s->probes_wanted;
    if (k > remaining / SHOAL__SCHED_PROBE_EVERY)
        k = remaining / SHOAL__SCHED_PROBE_EVERY;
    if (k < 2)
        return;
    size_t cur = s->cur;
    uint64_t at = s->next, passed = 0; /* tasks left before `at` */
    for (uint64_t j = 0; j < k; j++) {
        /* q = floor((2j + 1) * remaining / (2k)) without overflow */
        uint64_t d = 2 * k, m = 2 * j + 1;
        uint64_t q = remaining / d * m + remaining % d * m / d;
        for (;;) {
            uint64_t end = s->list ? s->list[cur][0] + s->list[cur][1] : s->ntasks;
            uint64_t avail = end > at ? end - at : 0;
            if (q - passed < avail) {
                s->probe[j] = at + (q - passed);
                break;
            }
            passed += avail;
            if (!s->list || ++cur >= s->nlist)
                return; /* cannot happen: q < remaining */
            at = s->list[cur][0];
        }
    }
    s->nprobes = (unsigned)k;
}

void shoal__sched_set_list(shoal__sched *s, const uint64_t (*list)[2],
                           size_t n)
{
    s->list = list;
    s->nlist = n;
    s->cur = 0;
    s->ntasks = 0;
    for (size_t i = 0; i < n; i++)
        s->ntasks += list[i][1];
    s->next = n ? list[0][0] : 0;
}

/* Move next to the first task that may be handed out in order: past the
 * end of exhausted listed ranges and past tasks that went out as probes
 * (every probe goes out before anything else). */
static void advance(shoal__sched *s)
{
    for (;;) {
        if (s->list) {
            /* Skip to the first listed range with tasks left. */
            while (s->cur < s->nlist &&
                   s->next >= s->list[s->cur][0] + s->list[s->cur][1]) {
                if (++s->cur < s->nlist)
                    s->next = s->list[s->cur][0];
            }
        }
        while (s->probe_skip < s->nprobes && s->probe[s->probe_skip] < s->next)
            s->probe_skip++;
        if (s->probe_skip < s->nprobes && s->probe[s->probe_skip] == s->next) {
            s->next++;
            s->probe_skip++;
            continue;
        }
        break;
    }
}

uint64_t shoal__sched_len(const shoal__sched *s, uint64_t remaining, uint64_t w)
{
    if (remaining == 0)
        return 0;
    if (w < 1)
        w = 1;
    uint64_t by_time;
    if (s->timed_tasks == 0) {
        by_time = s->first_tasks;
    } else if (s->timed_seconds <= 0) {
        by_time = s->max_tasks; /* below clock resolution: no time bound */
    } else {
        double mean = s->timed_seconds / (double)s->timed_tasks;
        /* The epsilon keeps an exact ratio (0.05 s / 1 ms) from flipping
         * between 49 and 50 as rounding in the running mean wobbles. */
        double t = floor(s->target_seconds / mean + 1e-6);
        by_time = t >= (double)s->max_tasks ? s->max_tasks
                  : t < 1                   ? 1
                                            : (uint64_t)t;
    }
    /* The caps scaled by w; a product that would overflow stands for "no
     * cap". */
    uint64_t cap = by_time < s->max_tasks ? by_time : s->max_tasks;
    cap = cap > UINT64_MAX / w ? UINT64_MAX : cap * w;
    /* ceil(remaining * w / div) without overflow, as q * w + ceil(r * w /
     * div) with r < div <= 2^32 (nranks is an int): r * w fits while w
     * does not pass 2^32 (group sizes stay far below). */
    uint64_t div = 2 * (uint64_t)s->nranks;
    uint64_t q = remaining / div, r = remaining % div, n;
    uint64_t part = w <= UINT32_MAX ? (r * w) / div + ((r * w) % div != 0) : 1;
    if (q > cap / w || cap - q * w < part)
        n = cap;
    else
        n = q * w + part;
    if (n > cap)
        n = cap;
    if (n < 1)
        n = 1;
    if (n > remaining)
        n = remaining;
    return n;
}

uint64_t shoal__sched_next(shoal__sched *s, uint64_t *start)
{
    return shoal__sched_next_w(s, 1, start);
}

uint64_t shoal__sched_next_w(shoal__sched *s, uint64_t w, uint64_t *start)
{
    if (s->probes_wanted && !s->probes_decided && s->timed_tasks > 0 && !s->stopped) {
        s->probes_decided = 1;
        if (s->timed_seconds >= s->probe_min_seconds * (double)s->timed_tasks)
            place_probes(s);
    }
    if (!s->stopped && s->probes_handed < s->nprobes) {
        *start = s->probe[s->probes_handed++];
        s->handed++;
        return 1;
    }
    advance(s);
    *start = s->next;
    if (s->stopped || s->handed >= s->ntasks || s->next >= s->limit)
        return 0;
    uint64_t remaining = s->ntasks - s->handed;
    /* Guided over what may go out now: a burst of work that just became
     * available is shared among the ranks, not taken by the first. */
    if (s->limit != UINT64_MAX && remaining > s->limit - s->next)
        remaining = s->limit - s->next;
    uint64_t n = shoal__sched_len(s, remaining, w);
    if (s->list) {
        uint64_t end = s->list[s->cur][0] + s->list[s->cur][1];
        if (n > end - s->next)
            n = end - s->next;
    }
    if (n > s->limit - s->next)
        n = s->limit - s->next; /* not beyond what may go out now */
    if (s->probe_skip < s->nprobes && n > s->probe[s->probe_skip] - s->next)
        n = s->probe[s->probe_skip] - s->next; /* up to the next probed task */
    s->next += n;
    s->handed += n;
    return n;
}

void shoal__sched_report(shoal__sched *s, uint64_t tasks, double seconds)
{
    if (tasks == 0)
        return;
    s->timed_tasks += tasks;
    s->timed_seconds += seconds > 0 ? seconds : 0;
}

void shoal__sched_stop(shoal__sched *s) { s->stopped = 1; }

void shoal__sched_set_limit(shoal__sched *s, uint64_t limit)
{
    s->limit = limit < s->end ? limit : s->end;
}

void shoal__sched_set_end(shoal__sched *s, uint64_t end)
{
    if (end >= s->end)
        return;
    /* The tasks at or past end that were still to go out never will. */
    uint64_t gone = 0;
    if (s->list) {
        for (size_t i = s->cur; i < s->nlist; i++) {
            uint64_t a = s->list[i][0], b = a + s->list[i][1];
            if (a < s->next)
                a = s->next;
            if (a < end)
                a = end;
            if (b > a)
                gone += b - a;
        }
    } else if (s->ntasks > end) {
        gone = s->ntasks - (end > s->next ? end : s->next);
    }
    s->ntasks -= gone < s->ntasks - s->handed ? gone : s->ntasks - s->handed;
    s->end = end;
    if (s->limit > end)
        s->limit = end;
}

void shoal__sched_unget(shoal__sched *s, uint64_t k)
{
    s->next -= k;
    s->handed -= k;
}

int shoal__sched_ready(shoal__sched *s)
{
    if (s->stopped)
        return 0;
    if (s->probes_handed < s->nprobes)
        return 1;
    advance(s);
    return s->handed < s->ntasks && s->next < s->limit;
}

int shoal__sched_exhausted(const shoal__sched *s)
{
    return s->stopped || s->handed >= s->ntasks;
}
