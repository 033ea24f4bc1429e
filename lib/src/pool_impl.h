/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pool_impl.h (internal): the pool's state and what pool.c (rank 0, the
 * workers, the run) and pool_sub.c (a group's sub-master) share: timing
 * constants, message sizes (tags.h has the protocol) and helpers. */
#ifndef SHOAL_POOL_IMPL_H
#define SHOAL_POOL_IMPL_H

#include <shoal/pool.h>

#include "sched.h"
#include "tags.h"

#include <stdint.h>

#define POLL_INTERVAL 20e-6   /* master: serve requests at least this often */
#define WAIT_SPINS 32         /* MPI_Test calls before the first sleep */
#define WAIT_SLEEP_MIN_NS 2000
/* Longest sleep between checks: each wake-up costs ~20 us of CPU here
 * (timer, MPI progress), so 1 ms cost a scheduling-only master 2% of a core,
 * 4 ms costs under 1%. Workers hold a prefetched range, so a reply that
 * waits this long for the master delays only ranges shorter than it. */
#define WAIT_SLEEP_MAX_NS 4000000
#define WORKER_POLL 0.01      /* worker: look for a STOP this often, at most */
/* A worker waits this long at most for tasks that may go out (work that
 * arrives while the run goes): then it is told "wait" and asks again, so a
 * stop that reached only that rank (a signal) travels with its next
 * request rather than waiting for work that may not come. */
#define DEFER_MAX_SECONDS 0.25
/* Probes (cfg->probes) only for tasks this long: each single-task range
 * costs ~70 us of writes, a few ms in all. */
#define PROBE_MIN_SECONDS 1e-3

enum { REQ_LEN = 8, STOP_LEN = 3 }; /* int64 words of a REQUEST header, a STOP */
/* Groups: a sub-master holds at most BIG_MAX big ranges (two, and one
 * spare), and its REQUEST carries, after the header's finished range, up
 * to SPANS_MAX more {start, count, failed, busy_ns} spans. */
enum { BIG_MAX = 3, SPANS_MAX = 32, SPAN_LEN = 4 };
/* Values per range (cfg->values_width): at most this many bytes. */
#define VALUES_MAX_BYTES ((uint64_t)256 << 10)
/* Tasks per range when tasks carry tags (cfg->tag). */
#define TAGS_MAX_TASKS ((uint64_t)4096)

struct shoal_pool {
    MPI_Comm comm;
    int rank, size;
    int is_master;
    const shoal_pool_config *cfg;
    shoal__sched sched;        /* master only */
    MPI_Request recv_req;      /* master: the posted REQUEST receive */
    int64_t *recv_buf;         /* REQ_LEN words, then a range's values */
    int recv_len;
    MPI_Request *send_reqs;    /* master: one RANGE send per worker */
    int64_t *send_bufs;        /* per worker: rlen words (start, count, tags) */
    int *inhand;               /* master: ranges each worker holds, not reported;
                                  sub-master: requests heard per member */
    char *deferred;            /* master: workers whose request waits for tasks */
    int ndeferred;
    double *deferred_at;       /* master: since when (shoal_now()) */
    MPI_Request *stop_reqs;    /* master: the one STOP send per worker */
    int64_t (*stop_bufs)[STOP_LEN];
    int stops_sent;
    int failed;                /* master: some rank reported failure */
    int stopped;               /* the run stops early (stop_check) */
    int stop_sig;              /* its signal (0: not known) */
    double deadline;           /* shoal_now() time to be gone by (HUGE_VAL: none) */
    MPI_Request stop_req;      /* worker: the posted STOP receive */
    int64_t stop_buf[STOP_LEN];
    double last_poll;
    uint64_t range_failed;     /* tasks of the current range counted failed */
    unsigned vw;               /* values per task (cfg->values_width) */
    uint64_t vcap;             /* most tasks in a range with values */
    double *vals;              /* this rank's range's values (the range fn's) */
    double *rvals;             /* master: a worker's values, unpacked */
    int finished;              /* master: on_values ended the hand-out */
    uint64_t tcap;             /* most tasks in a range with tags (0: no tags) */
    int rlen;                  /* words of a RANGE message: 2 + tcap */
    int64_t *rbuf;             /* worker: two RANGE buffers; master: its own tags */
    const int64_t *curtags;    /* the tags of the range being run (NULL: none) */
    int pwords;                /* words of a range's payload: length, then bytes */
    int poff;                  /* where it starts in a RANGE message: 2 + tcap */
    const void *curpay;        /* the payload of the range being run (NULL: none) */
    size_t curpay_len;
    int works;                 /* master: it runs ranges too */
    shoal_pool_stats st;
    /* Groups (group_size; 0 below: flat). Arrays a master or sub-master
     * keeps per rank it answers are indexed by slot(). */
    int G;                     /* group size in use (0: flat) */
    int nclients;              /* master, sub-master: the ranks it answers */
    int boss;                  /* worker: the rank it asks (0 or its sub-master) */
    int is_sub;                /* this rank is a group's sub-master */
    int gsize;                 /* sub-master: ranks of its group, itself included */
    shoal__sched loc;          /* sub-master: its group's timing, for sizing */
    uint64_t big[BIG_MAX][2];  /* sub-master: big ranges held {next, end} */
    int nbig;
    MPI_Request up_req;        /* sub-master: the RANGE awaited from rank 0 */
    int64_t up_buf[2];
    int up_done;               /* sub-master: rank 0 answered "stop" */
    int64_t up_flags;          /* sub-master: SHOAL__REQ_FAILED once its group failed */
    int heard;                 /* sub-master: members that have asked at least once */
    int64_t *up_msg;           /* sub-master: its REQUEST, header then spans */
    int64_t (*spans)[SPAN_LEN]; /* sub-master: finished, not reported to rank 0 */
    size_t nspans, spans_cap;
};

/* Where a master's (or sub-master's) per-rank arrays keep rank w. */
static inline int slot(const shoal_pool *p, int w) { return p->is_sub ? w - p->rank : w; }

/* A shoal_now() deadline as CLOCK_REALTIME nanoseconds (0: none), and back. */
int64_t shoal__pool_deadline_to_wire(double deadline);
double shoal__pool_deadline_from_wire(int64_t ns);
/* The caller's stop_check: nonzero once this rank must stop. */
int shoal__pool_check_stop(shoal_pool *p, int *sig, double *deadline);
/* The caller's stop_notify, with p's signal and deadline. */
void shoal__pool_notify(shoal_pool *p);
/* Send rank w its one STOP message (stopped or not), unless it had it. */
void shoal__pool_tell(shoal_pool *p, int w, int stopped);
/* Post the REQUEST receive (any source) into recv_buf. */
void shoal__pool_post_recv(shoal_pool *p);
/* Wait for r with the back-off; returns seconds waited (pool.c). */
double shoal__pool_wait_backoff(shoal_pool *p, MPI_Request *r, MPI_Status *st);
/* Sleep *ns, then double *ns up to WAIT_SLEEP_MAX_NS (the back-off step). */
void shoal__pool_sleep(long *ns);

/* A sub-master's run and its shoal_pool_yield (pool_sub.c). */
int shoal__pool_sub_run(shoal_pool *p, const shoal_pool_config *cfg, shoal_range_fn *fn,
                        void *arg);
double shoal__pool_sub_yield(shoal_pool *p, double now);

#endif
