/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_pool: the lower-level pool API with a user-owned main, at any rank
 * count. Every index must be handed out exactly once (counted per rank and
 * summed), with an idle master too, with tiny and huge ranges, and a range
 * function that fails must make every rank return an error.
 *
 * Which rank runs which range depends on timing, so the failure is tied to
 * a task index, not to a rank: whichever rank runs that index fails. It is
 * checked under schedules skewed on purpose (one rank starting late, so
 * another may run everything) and only for what holds under any schedule.
 * A stop on one rank (its stop_check) must reach every other rank through
 * stop_notify, with the same signal and deadline, and every rank must return
 * SHOAL_EINTR without running any index twice. Values travel to rank 0
 * with the requests, tags with the ranges, and tasks go out only as far as
 * available() allows, with idle ranks parked until it moves (rounds).
 * Work that arrives while the run goes (arrivals): rank 0's tick lets
 * tasks out one by one or in bursts, each range carries its tasks' payload
 * (checked by the rank that runs it), packing may cut a range short, and
 * the run ends once the announced end is reached, with nothing run twice
 * or left out, also with an idle master and on one rank.
 *
 * With --groups G every case runs again with group_size G: sub-masters
 * deal to their groups, and every guarantee above must still hold (no
 * check knows which rank is whose sub-master); a listed run (resume) and
 * a stop started by each rank in turn are added. */
#include <shoal/shoal.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NO_FAILURE UINT64_MAX

/* --groups G: every run asks for groups of G ranks (sub-masters); the
 * runs whose config keeps them flat (values, tags, available) check that
 * fallback. */
static unsigned groups = 0;

typedef struct {
    unsigned char *seen; /* per index, executions on this rank */
    uint64_t fail_index; /* the range holding this index fails; NO_FAILURE */
} ctx;

static int count_range(void *arg, shoal_pool *pool, uint64_t start, uint64_t n)
{
    ctx *c = arg;
    for (uint64_t i = start; i < start + n; i++) {
        c->seen[i]++;
        shoal_pool_yield(pool, shoal_now());
    }
    if (c->fail_index >= start && c->fail_index - start < n)
        return SHOAL_EIO;
    return 0;
}

static int failures = 0;
#define EXPECT(cond, ...)                                   \
    do {                                                    \
        if (!(cond)) {                                      \
            fprintf(stderr, "test_pool: FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                   \
            fputc('\n', stderr);                            \
            failures++;                                     \
        }                                                   \
    } while (0)

static void exactly_once(uint64_t ntasks, int master_idle, uint64_t max_range)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ctx c = {calloc(ntasks + 1, 1), NO_FAILURE};
    unsigned char *sum = calloc(ntasks + 1, 1);
    shoal_pool_config cfg = {.group_size = groups, .ntasks = ntasks, .master_idle = master_idle,
                             .max_range_tasks = max_range};
    shoal_pool_stats st;
    int rc = shoal_pool_run(MPI_COMM_WORLD, &cfg, count_range, &c, &st);
    EXPECT(rc == 0, "pool_run returned %d", rc);
    MPI_Reduce(c.seen, sum, (int)ntasks, MPI_UNSIGNED_CHAR, MPI_SUM, 0,
               MPI_COMM_WORLD);
    uint64_t tasks_total = 0;
    MPI_Reduce(&st.tasks, &tasks_total, 1, MPI_UINT64_T, MPI_SUM, 0,
               MPI_COMM_WORLD);
    if (rank == 0) {
        for (uint64_t i = 0; i < ntasks; i++)
            EXPECT(sum[i] == 1, "ntasks %llu idle %d: index %llu ran %d times",
                   (unsigned long long)ntasks, master_idle,
                   (unsigned long long)i, sum[i]);
        EXPECT(tasks_total == ntasks, "stats count %llu tasks, want %llu",
               (unsigned long long)tasks_total, (unsigned long long)ntasks);
        if (master_idle && size > 1)
            EXPECT(st.tasks == 0, "idle master ran %llu tasks",
                   (unsigned long long)st.tasks);
    }
    free(c.seen);
    free(sum);
}

/* The range holding task fail_index fails; rank `late` (-1: none) enters
 * the pool 100 ms after the others. Whoever runs that index, every rank must
 * return an error, and the rank that ran it the range function's own code. */
static void failing_task(uint64_t fail_index, int late)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (late >= size)
        return;
    uint64_t ntasks = 5000;
    ctx c = {calloc(ntasks, 1), fail_index};
    shoal_pool_config cfg = {.group_size = groups, .ntasks = ntasks, .max_range_tasks = 7};
    if (rank == late)
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    int rc = shoal_pool_run(MPI_COMM_WORLD, &cfg, count_range, &c, NULL);
    int ran_it = c.seen[fail_index], ran_total = 0;
    MPI_Allreduce(&ran_it, &ran_total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    EXPECT(ran_total == 1, "task %llu (late rank %d) ran %d times, want 1",
           (unsigned long long)fail_index, late, ran_total);
    EXPECT(rc < 0, "rank %d: failure of task %llu (late rank %d) not reported "
           "(rc %d)", rank, (unsigned long long)fail_index, late, rc);
    if (ran_it)
        EXPECT(rc == SHOAL_EIO, "rank %d ran failing task %llu but returned "
               "%d, not the range function's %d", rank,
               (unsigned long long)fail_index, rc, SHOAL_EIO);
    free(c.seen);
}

/* ---- a stop on one rank ---------------------------------------------------- */

typedef struct {
    unsigned char *seen;
    int rank, who;        /* who: the rank that stops by itself */
    uint64_t tasks;       /* tasks run on this rank */
    int stop;             /* the signal this rank stops for (0: none) */
    double deadline;
    int told;             /* stop_notify calls */
    int told_sig;
    double told_deadline;
    uint64_t after_told;  /* tasks started after stop_notify */
} stop_ctx;

static int stop_range(void *arg, shoal_pool *pool, uint64_t start, uint64_t n)
{
    stop_ctx *c = arg;
    for (uint64_t i = start; i < start + n; i++) {
        if (c->stop)
            return SHOAL_EINTR; /* as the runner: stop before the next task */
        if (c->told)
            c->after_told++;
        c->seen[i]++;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        if (++c->tasks == 3 && c->rank == c->who) {
            c->stop = SIGUSR1;
            c->deadline = shoal_now() + 100;
        }
        shoal_pool_yield(pool, shoal_now());
    }
    return 0;
}

static int stop_check(void *arg, double *deadline)
{
    stop_ctx *c = arg;
    if (c->stop)
        *deadline = c->deadline;
    return c->stop;
}

static void stop_notify(void *arg, int sig, double deadline)
{
    stop_ctx *c = arg;
    c->told++;
    c->told_sig = sig;
    c->told_deadline = deadline;
    c->stop = sig;
    c->deadline = deadline;
}

static void stop_on_one_rank(int who, int master_idle)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (who >= size || (master_idle && who == 0 && size > 1))
        return;
    uint64_t ntasks = 200000; /* far more than run before the stop */
    stop_ctx c = {calloc(ntasks, 1), rank, who, 0, 0, HUGE_VAL, 0, 0, 0, 0};
    unsigned char *sum = calloc(ntasks, 1);
    shoal_pool_config cfg = {.group_size = groups, .ntasks = ntasks, .master_idle = master_idle,
                             .stop_check = stop_check, .stop_notify = stop_notify,
                             .stop_ctx = &c};
    int rc = shoal_pool_run(MPI_COMM_WORLD, &cfg, stop_range, &c, NULL);
    EXPECT(rc == SHOAL_EINTR, "stop on rank %d: rank %d returned %d", who, rank, rc);
    double deadline = c.deadline;
    MPI_Bcast(&deadline, 1, MPI_DOUBLE, who, MPI_COMM_WORLD);
    if (rank != who) {
        EXPECT(c.told == 1, "stop on rank %d: rank %d told %d times", who, rank,
               c.told);
        EXPECT(c.told_sig == SIGUSR1, "stop on rank %d: rank %d told signal %d",
               who, rank, c.told_sig);
        EXPECT(fabs(c.told_deadline - deadline) < 1.0,
               "stop on rank %d: rank %d told deadline %+.3f s off", who, rank,
               c.told_deadline - deadline);
    } else {
        EXPECT(c.told == 0, "stop on rank %d: it was told of its own stop", who);
    }
    EXPECT(c.after_told == 0, "stop on rank %d: rank %d ran %llu tasks after it "
           "was told", who, rank, (unsigned long long)c.after_told);
    MPI_Reduce(c.seen, sum, (int)ntasks, MPI_UNSIGNED_CHAR, MPI_SUM, 0,
               MPI_COMM_WORLD);
    uint64_t total = 0;
    MPI_Reduce(&c.tasks, &total, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        for (uint64_t i = 0; i < ntasks; i++)
            EXPECT(sum[i] <= 1, "stop on rank %d: index %llu ran %d times", who,
                   (unsigned long long)i, sum[i]);
        EXPECT(total < ntasks, "stop on rank %d: every task ran", who);
    }
    free(c.seen);
    free(sum);
}

/* ---- values, the hand-out limit and tags -------------------------------------- */

/* Rank 0's side of a run whose tasks go out in rounds of ROUND: round k+1
 * may go out only once every value of round k has arrived (a search's
 * rungs). Each task's tag is 3 * index + 1; the range function checks it
 * and sends the value 2 * index. Values of a worker's last range do not
 * travel; the test asks for none of those: the last round's values are
 * not needed to release anything. */
#define ROUND 37
typedef struct {
    uint64_t ntasks, limit, stop_after; /* stop_after: end the hand-out there (0: no) */
    unsigned char *got;                 /* rank 0: values received per task */
    uint64_t got_round;                 /* values of the current round received */
    int bad;                            /* a wrong value or a repeat */
    unsigned char *seen;                /* every rank: executions per task */
    int bad_tag;
} vctx;

static uint64_t v_available(void *arg)
{
    vctx *c = arg;
    return c->limit;
}

static void v_tag(void *arg, uint64_t start, uint64_t count, int64_t *tags)
{
    vctx *c = arg;
    for (uint64_t k = 0; k < count; k++) {
        c->bad_tag |= start + k >= c->limit; /* handed out beyond the limit */
        tags[k] = (int64_t)(3 * (start + k) + 1);
    }
}

static int v_values(void *arg, uint64_t start, uint64_t count, const double *v)
{
    vctx *c = arg;
    for (uint64_t k = 0; k < count; k++) {
        uint64_t i = start + k;
        c->bad |= v[k] != 2.0 * (double)i || c->got[i]++ != 0;
        c->got_round += i < c->limit && i + ROUND >= c->limit;
    }
    if (c->got_round == (c->limit < ROUND ? c->limit : ROUND) && c->limit < c->ntasks) {
        c->limit = c->limit + ROUND < c->ntasks ? c->limit + ROUND : c->ntasks;
        c->got_round = 0;
    }
    return c->stop_after && c->limit >= c->stop_after ? 1 : 0;
}

static int v_range(void *arg, shoal_pool *pool, uint64_t start, uint64_t n)
{
    vctx *c = arg;
    const int64_t *tags = shoal_pool_tags(pool);
    double *v = shoal_pool_values(pool);
    for (uint64_t k = 0; k < n; k++) {
        c->seen[start + k]++;
        c->bad_tag |= !tags || tags[k] != (int64_t)(3 * (start + k) + 1);
        if (v)
            v[k] = 2.0 * (double)(start + k);
        shoal_pool_yield(pool, shoal_now());
    }
    return 0;
}

/* Rounds released by values: every task runs once with its tag, never
 * beyond the limit, values arrive once and right; with stop_after, the
 * hand-out ends there and the run returns 0. */
static void rounds(uint64_t ntasks, int master_idle, uint64_t stop_after)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    vctx c = {ntasks, ntasks < ROUND ? ntasks : ROUND, stop_after, calloc(ntasks + 1, 1), 0, 0,
              calloc(ntasks + 1, 1), 0};
    unsigned char *sum = calloc(ntasks + 1, 1);
    shoal_pool_config cfg = {.group_size = groups, .ntasks = ntasks, .master_idle = master_idle,
                             .max_range_tasks = 5, .values_width = 1,
                             .on_values = rank == 0 ? v_values : NULL, .values_ctx = &c,
                             .available = rank == 0 ? v_available : NULL, .tag = v_tag,
                             .plan_ctx = &c};
    int rc = shoal_pool_run(MPI_COMM_WORLD, &cfg, v_range, &c, NULL);
    EXPECT(rc == 0, "rounds: pool_run returned %d", rc);
    EXPECT(!c.bad_tag, "rounds: a task had a wrong tag or went out beyond the limit");
    MPI_Reduce(c.seen, sum, (int)ntasks, MPI_UNSIGNED_CHAR, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        EXPECT(!c.bad, "rounds: a wrong or repeated value");
        uint64_t ran = 0;
        for (uint64_t i = 0; i < ntasks; i++) {
            EXPECT(sum[i] <= 1, "rounds: index %llu ran %d times", (unsigned long long)i,
                   sum[i]);
            ran += sum[i];
        }
        if (!stop_after)
            EXPECT(ran == ntasks, "rounds: %llu of %llu tasks ran", (unsigned long long)ran,
                   (unsigned long long)ntasks);
        else
            EXPECT(ran >= stop_after - ROUND && ran < ntasks,
                   "rounds: stop after %llu: %llu of %llu ran",
                   (unsigned long long)stop_after, (unsigned long long)ran,
                   (unsigned long long)ntasks);
    }
    free(c.got);
    free(c.seen);
    free(sum);
}

/* ---- work that arrives while the run goes ------------------------------------- */

/* Rank 0 lets tasks "arrive": every tick after `every` seconds, `burst`
 * more, up to ntasks; then it announces the end. Each task's payload is
 * the text "item <index>;" and pack covers at most 3 tasks per range, so
 * ranges are cut short and go out again. */
typedef struct {
    uint64_t ntasks, arrived;
    uint64_t burst;
    double every, last;
    unsigned char *seen;
    int bad;          /* a payload that does not match its range */
    int beyond;       /* a task handed out before it arrived */
} actx;

static void a_tick(void *arg, double now)
{
    actx *c = arg;
    if (c->arrived < c->ntasks && now - c->last >= c->every) {
        c->last = now;
        c->arrived = c->arrived + c->burst < c->ntasks ? c->arrived + c->burst : c->ntasks;
    }
}

static uint64_t a_available(void *arg) { return ((actx *)arg)->arrived; }

static uint64_t a_end(void *arg)
{
    actx *c = arg;
    return c->arrived == c->ntasks ? c->ntasks : UINT64_MAX;
}

static uint64_t a_pack(void *arg, uint64_t start, uint64_t count, void *buf, size_t cap,
                       size_t *len)
{
    actx *c = arg;
    size_t used = 0;
    uint64_t k = 0;
    for (; k < count && k < 3; k++) {
        c->beyond |= start + k >= c->arrived;
        int w = snprintf((char *)buf + used, cap - used, "item %llu;",
                         (unsigned long long)(start + k));
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
    }
    *len = used;
    return k;
}

static int a_range(void *arg, shoal_pool *pool, uint64_t start, uint64_t n)
{
    actx *c = arg;
    size_t len = 0;
    const char *pay = shoal_pool_payload(pool, &len);
    char want[256];
    size_t used = 0;
    for (uint64_t k = 0; k < n; k++)
        used += (size_t)snprintf(want + used, sizeof want - used, "item %llu;",
                                 (unsigned long long)(start + k));
    c->bad |= n > 3 || !pay || len != used || memcmp(pay, want, used) != 0;
    for (uint64_t k = 0; k < n; k++) {
        c->seen[start + k]++;
        shoal_pool_yield(pool, shoal_now());
    }
    return 0;
}

static void arrivals(uint64_t ntasks, uint64_t burst, double every, int master_idle)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    actx c = {ntasks, 0, burst, every, 0, calloc(ntasks + 1, 1), 0, 0};
    unsigned char *sum = calloc(ntasks + 1, 1);
    /* Room for the tasks of the pool's view (ntasks), most of which have
     * not arrived when it starts. */
    shoal_pool_config cfg = {.group_size = groups, .ntasks = ntasks, .master_idle = master_idle,
                             .on_tick = rank == 0 ? a_tick : NULL, .progress_ctx = &c,
                             .available = rank == 0 ? a_available : NULL,
                             .end = rank == 0 ? a_end : NULL, .poll_available = 1,
                             .payload_max = 64, .pack = rank == 0 ? a_pack : NULL,
                             .plan_ctx = &c};
    int rc = shoal_pool_run(MPI_COMM_WORLD, &cfg, a_range, &c, NULL);
    EXPECT(rc == 0, "arrivals: pool_run returned %d", rc);
    EXPECT(!c.bad, "arrivals: a range's payload did not match its tasks");
    EXPECT(!c.beyond, "arrivals: a task went out before it arrived");
    MPI_Reduce(c.seen, sum, (int)ntasks, MPI_UNSIGNED_CHAR, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0)
        for (uint64_t i = 0; i < ntasks; i++)
            EXPECT(sum[i] == 1, "arrivals: index %llu ran %d times", (unsigned long long)i,
                   sum[i]);
    free(c.seen);
    free(sum);
}

/* The same with an end announced below the pool's task count (a stream
 * that ended early, a run whose room is larger than its work). */
static void arrivals_short(uint64_t room, uint64_t ntasks, int master_idle)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    actx c = {ntasks, 0, 7, 0.001, 0, calloc(room + 1, 1), 0, 0};
    unsigned char *sum = calloc(room + 1, 1);
    shoal_pool_config cfg = {.group_size = groups, .ntasks = room, .master_idle = master_idle,
                             .on_tick = rank == 0 ? a_tick : NULL, .progress_ctx = &c,
                             .available = rank == 0 ? a_available : NULL,
                             .end = rank == 0 ? a_end : NULL, .poll_available = 1,
                             .payload_max = 64, .pack = rank == 0 ? a_pack : NULL,
                             .plan_ctx = &c};
    int rc = shoal_pool_run(MPI_COMM_WORLD, &cfg, a_range, &c, NULL);
    EXPECT(rc == 0, "arrivals_short: pool_run returned %d", rc);
    EXPECT(!c.bad && !c.beyond, "arrivals_short: payload or hand-out wrong");
    MPI_Reduce(c.seen, sum, (int)room, MPI_UNSIGNED_CHAR, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0)
        for (uint64_t i = 0; i < room; i++)
            EXPECT(sum[i] == (i < ntasks), "arrivals_short: index %llu ran %d times",
                   (unsigned long long)i, sum[i]);
    free(c.seen);
    free(sum);
}

/* Nothing arrives and the stream does not end; one rank (the last) is
 * asked to stop, as by a signal sent to it alone: every rank must return
 * SHOAL_EINTR soon, though that rank waits for work that never comes. */
typedef struct {
    double t0;
    int who, rank, told;
} wctx;

static int w_stop_check(void *arg, double *deadline)
{
    wctx *c = arg;
    *deadline = HUGE_VAL;
    if (c->told)
        return SIGTERM;
    return c->rank == c->who && shoal_now() - c->t0 > 0.3 ? SIGTERM : 0;
}

static void w_stop_notify(void *arg, int sig, double deadline)
{
    (void)sig;
    (void)deadline;
    ((wctx *)arg)->told = 1;
}

static uint64_t w_none(void *arg)
{
    (void)arg;
    return 0;
}

static uint64_t w_never(void *arg)
{
    (void)arg;
    return UINT64_MAX;
}

static void stop_while_waiting(int master_idle)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    wctx c = {shoal_now(), size - 1, rank, 0};
    unsigned char seen[8] = {0};
    ctx cc = {seen, NO_FAILURE};
    shoal_pool_config cfg = {.group_size = groups, .ntasks = 4, .master_idle = master_idle,
                             .stop_check = w_stop_check, .stop_notify = w_stop_notify,
                             .stop_ctx = &c, .available = rank == 0 ? w_none : NULL,
                             .end = rank == 0 ? w_never : NULL, .poll_available = 1,
                             .plan_ctx = &c};
    double t0 = shoal_now();
    int rc = shoal_pool_run(MPI_COMM_WORLD, &cfg, count_range, &cc, NULL);
    double took = shoal_now() - t0;
    EXPECT(rc == SHOAL_EINTR, "stop_while_waiting: pool_run returned %d, expected EINTR", rc);
    EXPECT(took < 10, "stop_while_waiting: took %.1f s", took);
    for (int i = 0; i < 4; i++)
        EXPECT(seen[i] == 0, "stop_while_waiting: task %d ran", i);
}

/* A run of listed ranges only (a resume): each listed index exactly once,
 * no other, and the stats add up on every rank. */
static void listed(int master_idle)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    static const uint64_t list[][2] = {{3, 1}, {10, 997}, {2000, 1}, {2002, 5003}, {9000, 6}};
    const size_t nlist = sizeof list / sizeof list[0];
    uint64_t ntasks = 9100, want = 0;
    for (size_t i = 0; i < nlist; i++)
        want += list[i][1];
    ctx c = {calloc(ntasks, 1), NO_FAILURE};
    unsigned char *sum = calloc(ntasks, 1);
    shoal_pool_config cfg = {.group_size = groups, .ntasks = ntasks, .master_idle = master_idle,
                             .max_range_tasks = 64, .ranges = list, .nranges = nlist};
    shoal_pool_stats st;
    int rc = shoal_pool_run(MPI_COMM_WORLD, &cfg, count_range, &c, &st);
    EXPECT(rc == 0, "listed: pool_run returned %d", rc);
    EXPECT(st.busy_seconds <= st.wall_seconds + 1e-6 && st.idle_seconds <= st.wall_seconds + 1e-6,
           "listed: rank %d busy %.6f s, idle %.6f s in %.6f s", rank, st.busy_seconds,
           st.idle_seconds, st.wall_seconds);
    EXPECT(st.tasks == 0 || st.ranges >= 1, "listed: rank %d ran %llu tasks in no range", rank,
           (unsigned long long)st.tasks);
    MPI_Reduce(c.seen, sum, (int)ntasks, MPI_UNSIGNED_CHAR, MPI_SUM, 0, MPI_COMM_WORLD);
    uint64_t total = 0;
    MPI_Reduce(&st.tasks, &total, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        size_t k = 0;
        for (uint64_t i = 0; i < ntasks; i++) {
            while (k < nlist && i >= list[k][0] + list[k][1])
                k++;
            int in = k < nlist && i >= list[k][0];
            EXPECT(sum[i] == in, "listed (idle %d): index %llu ran %d times, want %d",
                   master_idle, (unsigned long long)i, sum[i], in);
        }
        EXPECT(total == want, "listed: stats count %llu tasks, want %llu",
               (unsigned long long)total, (unsigned long long)want);
    }
    free(c.seen);
    free(sum);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    shoal_log_set_level(SHOAL_LOG_QUIET);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--groups") && i + 1 < argc)
            groups = (unsigned)strtoul(argv[++i], NULL, 10);
    exactly_once(0, 0, 0);
    exactly_once(1, 0, 0);
    exactly_once(10007, 0, 0);
    exactly_once(10007, 1, 0);
    exactly_once(100003, 0, 3);
    exactly_once(200000, 1, 1u << 20);
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const uint64_t fail_at[] = {0, 2500, 4999};
    const int late[] = {-1, 0, size - 1};
    for (size_t i = 0; i < sizeof fail_at / sizeof fail_at[0]; i++)
        for (size_t j = 0; j < sizeof late / sizeof late[0]; j++)
            failing_task(fail_at[i], late[j]);
    rounds(10 * ROUND + 5, 0, 0);
    rounds(10 * ROUND + 5, 1, 0);
    rounds(3, 0, 0);
    rounds(10 * ROUND, 0, 4 * ROUND);
    arrivals(200, 1, 0.0005, 0);
    arrivals(200, 1, 0.0005, 1);
    arrivals(500, 60, 0.002, 0);
    arrivals_short(1000, 123, 0);
    arrivals_short(1000, 0, 1);
    stop_while_waiting(0);
    stop_while_waiting(1);
    stop_on_one_rank(0, 0);
    stop_on_one_rank(1, 0);
    stop_on_one_rank(1, 1);
    stop_on_one_rank(2, 0);
    listed(0);
    listed(1);
    if (groups)
        for (int who = 3; who < size; who++)
            stop_on_one_rank(who, who % 2); /* members and sub-masters alike */
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
        printf("test_pool%s: %s\n", groups ? " --groups" : "",
               all ? "FAILED" : "all checks passed");
    MPI_Finalize();
    return all ? 1 : 0;
}
