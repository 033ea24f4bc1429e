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

uint64_t shoal__sched_next(shoal__sched *s, uint64_t *start)
{
    if (s->list) {
        /* Skip to the first listed range with tasks left. */
        while (s->cur < s->nlist &&
               s->next >= s->list[s->cur][0] + s->list[s->cur][1]) {
            if (++s->cur < s->nlist)
                s->next = s->list[s->cur][0];
        }
    }
    *start = s->next;
    if (s->stopped || s->handed >= s->ntasks)
        return 0;
    uint64_t remaining = s->ntasks - s->handed;
    uint64_t div = 2 * (uint64_t)s->nranks;
    uint64_t n = remaining / div + (remaining % div != 0);
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
    if (n > by_time)
        n = by_time;
    if (n > s->max_tasks)
        n = s->max_tasks;
    if (n < 1)
        n = 1;
    if (n > remaining)
        n = remaining;
    if (s->list) {
        uint64_t end = s->list[s->cur][0] + s->list[s->cur][1];
        if (n > end - s->next)
            n = end - s->next;
    }
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
