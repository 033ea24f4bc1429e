/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_store: the result store (check suite, CK_FORK=no), run at 1 to 4
 * ranks. On rank 0 alone (MPI_COMM_SELF): round trip of rows of every field
 * kind, pending rows, provenance attributes, and every refusal: existing
 * file, missing directory, a directory as output, rows out of range,
 * unknown fields; the cut of /segments/hosts. On every rank (MPI_COMM_WORLD): ranks write disjoint,
 * uneven shares of rows (one rank none at 3+ ranks) and failure log
 * entries, and rank 0 reads every row and entry back through the public
 * reader. */
#include <shoal/shoal.h>

#include "store.h" /* the writer API, internal to the library */

#include <check.h>
#include <hdf5.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static char last_error[2048];
static MPI_Comm solo = MPI_COMM_SELF; /* the one-rank cases, on rank 0 */
static int my_rank, nranks;

static void record(const char *reason, const char *file, int line, int code)
{
    (void)file;
    (void)line;
    (void)code;
    snprintf(last_error, sizeof last_error, "%s", reason);
}

static const shoal_field fields[] = {
    {.name = "x", .type = SHOAL_FLOAT64},
    {.name = "n", .type = SHOAL_INT64, .ndims = 2, .dims = {2, 3}},
};

static shoal_store_spec spec_for(const char *path, uint64_t ntasks, int force)
{
    shoal_store_spec s = {.path = path, .force = force, .ntasks = ntasks,
                          .fields = fields, .nfields = 2, .app = "store_test",
                          .config_text = "[run]\ntasks = 10\n",
                          .config_source = "t.ini", .rng = "philox4x32",
                          .seed = 2385};
    return s;
}

/* Write rows [start, start+count) with values derived from the index. */
static int write_range(shoal_store *s, uint64_t start, uint64_t count,
                       uint8_t status)
{
    double x[16];
    int64_t n[16 * 6];
    uint8_t st[16];
    int32_t rk[16], er[16];
    uint8_t att[16];
    float sec[16];
    for (uint64_t k = 0; k < count; k++) {
        x[k] = 2.385 * (double)(start + k);
        for (int j = 0; j < 6; j++)
            n[k * 6 + j] = (int64_t)((start + k) * 10 + (uint64_t)j);
        st[k] = status;
        rk[k] = 0;
        er[k] = status == SHOAL_STATUS_FAILED ? 7 : 0;
        sec[k] = 0.5f;
        att[k] = 1;
    }
    const void *bufs[2] = {x, n};
    shoal_store_rows rows = {.fields = bufs, .status = st, .rank = rk,
                             .seconds = sec, .error = er, .attempts = att};
    return shoal_store_write_rows(s, start, count, &rows);
}

static void path_in_dir(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

START_TEST(round_trip)
{
    char path[512];
    path_in_dir(path, sizeof path, "rt.h5");
    shoal_store_spec sp = spec_for(path, 10, 0);
    shoal_store *s = NULL;
    ck_assert_int_eq(shoal_store_create(solo, &sp, &s), 0);
    ck_assert_int_eq(write_range(s, 3, 4, SHOAL_STATUS_DONE), 0);
    ck_assert_int_eq(write_range(s, 0, 2, SHOAL_STATUS_FAILED), 0);
    shoal_store_rank_stats st = {6, 1.5, 0.25, 2.0, 1024};
    shoal_store_failure log[2] = {{1, 7, 3, "second, with a message", 0},
                                  {0, -11, 1, "first", 0}};
    ck_assert_int_eq(shoal_store_close(s, &st, 4, 2, 3.75, log, 2, "complete"), 0);

    shoal_results *r = NULL;
    ck_assert_int_eq(shoal_results_open(path, &r), 0);
    ck_assert_uint_eq(shoal_results_ntasks(r), 10);
    double x[10];
    int64_t n[60];
    uint8_t status[10];
    ck_assert_int_eq(shoal_results_read_double(r, "x", 0, 10, x), 0);
    ck_assert_int_eq(shoal_results_read_int64(r, "n", 0, 10, n), 0);
    ck_assert_int_eq(shoal_results_read_status(r, 0, 10, status), 0);
    for (int i = 0; i < 10; i++) {
        int written = i < 2 || (i >= 3 && i < 7);
        uint8_t want = i < 2 ? SHOAL_STATUS_FAILED
                       : written ? SHOAL_STATUS_DONE
                                 : SHOAL_STATUS_PENDING;
        ck_assert_int_eq(status[i], want);
        if (written) {
            ck_assert(x[i] == 2.385 * i);
            ck_assert_int_eq(n[i * 6 + 5], i * 10 + 5);
        }
    }
    /* A sub-block read. */
    int64_t part[12];
    ck_assert_int_eq(shoal_results_read_int64(r, "n", 4, 2, part), 0);
    ck_assert_int_eq(part[0], 40);
    ck_assert_int_eq(part[11], 55);
    /* Errors: unknown field, rows beyond the end. */
    ck_assert_int_eq(shoal_results_read_double(r, "nope", 0, 1, x), SHOAL_ENOTFOUND);
    ck_assert_int_eq(shoal_results_read_double(r, "x", 8, 3, x), SHOAL_EINVAL);
    /* The failure log comes back sorted by task. */
    shoal_store_failure fl[4];
    size_t nf = 9;
    ck_assert_int_eq(shoal_results_read_failures(r, fl, 4, &nf), 0);
    ck_assert_uint_eq(nf, 2);
    ck_assert_int_eq(fl[0].task, 0);
    ck_assert_int_eq(fl[0].error, -11);
    ck_assert_str_eq(fl[0].message, "first");
    ck_assert_int_eq(fl[1].task, 1);
    ck_assert_int_eq(fl[1].attempts, 3);
    ck_assert_str_eq(fl[1].message, "second, with a message");
    ck_assert_int_eq(shoal_results_read_failures(r, fl, 1, &nf), 0);
    ck_assert_uint_eq(nf, 1);
    shoal_results_close(r);

    /* Provenance, straight from HDF5. */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert(f >= 0);
    uint64_t v;
    hid_t a = H5Aopen(f, "seed", H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_UINT64, &v);
    H5Aclose(a);
    ck_assert_uint_eq(v, 2385);
    a = H5Aopen(f, "tasks_failed", H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_UINT64, &v);
    H5Aclose(a);
    ck_assert_uint_eq(v, 2);
    ck_assert(H5Aexists(f, "finished") > 0);
    ck_assert(H5Aexists(f, "config") > 0);
    H5Fclose(f);
}
END_TEST

/* Constants are attributes of /params typed by their declaration, with
 * their unit and doc beside them; the reader takes them, and the text
 * constants of files written before they were typed. */
START_TEST(constants_typed)
{
    char path[512];
    path_in_dir(path, sizeof path, "consts.h5");
    static const shoal_param decl[3] = {
        {.name = "n", .type = SHOAL_INT64, .doc = "a count"},
        {.name = "T", .type = SHOAL_FLOAT64, .unit = "J/k_B", .doc = "temperature"},
        {.name = "algo", .type = SHOAL_STRING},
    };
    const char *names[3] = {"n", "T", "algo"}, *values[3] = {"42", "2.385", "w\xc3\xb6lff"};
    const shoal_param *decls[3] = {&decl[0], &decl[1], &decl[2]};
    shoal_store_spec sp = spec_for(path, 4, 0);
    sp.const_names = names;
    sp.const_values = values;
    sp.const_decls = decls;
    sp.nconsts = 3;
    shoal_store *s = NULL;
    ck_assert_int_eq(shoal_store_create(solo, &sp, &s), 0);
    shoal_store_rank_stats st = {0, 0, 0, 0, 0};
    ck_assert_int_eq(shoal_store_close(s, &st, 0, 0, 0.5, NULL, 0, "complete"), 0);

    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gopen2(f, "params", H5P_DEFAULT);
    static const H5T_class_t want[3] = {H5T_INTEGER, H5T_FLOAT, H5T_STRING};
    for (int i = 0; i < 3; i++) {
        hid_t a = H5Aopen(g, names[i], H5P_DEFAULT), t = H5Aget_type(a);
        ck_assert_int_eq(H5Tget_class(t), want[i]);
        H5Tclose(t);
        H5Aclose(a);
    }
    ck_assert(H5Aexists(g, "T.units") > 0 && H5Aexists(g, "T.doc") > 0);
    ck_assert(H5Aexists(g, "n.units") == 0 && H5Aexists(g, "n.doc") > 0);
    ck_assert(H5Aexists(g, "algo.units") == 0 && H5Aexists(g, "algo.doc") == 0);
    /* What files from before held: text. */
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t sc = H5Screate(H5S_SCALAR);
    static const char *const old[2] = {"1.25", "none"};
    static const char *const key[2] = {"old_T", "old_word"};
    for (int i = 0; i < 2; i++) {
        hid_t a = H5Acreate2(g, key[i], t, sc, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, t, &old[i]);
        H5Aclose(a);
    }
    H5Sclose(sc);
    H5Tclose(t);
    H5Gclose(g);
    H5Fclose(f);

    shoal_results *r = NULL;
    ck_assert_int_eq(shoal_results_open(path, &r), 0);
    double v = 0;
    char buf[64];
    ck_assert_int_eq(shoal_results_param_double(r, "n", &v), 0);
    ck_assert(v == 42);
    ck_assert_int_eq(shoal_results_param_double(r, "T", &v), 0);
    ck_assert(v == 2.385);
    ck_assert_int_eq(shoal_results_param_string(r, "T", buf, sizeof buf), 0);
    ck_assert(strtod(buf, NULL) == 2.385);
    ck_assert_int_eq(shoal_results_param_string(r, "n", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "42");
    ck_assert_int_eq(shoal_results_param_string(r, "algo", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, values[2]);
    ck_assert_int_eq(shoal_results_param_double(r, "algo", &v), SHOAL_ETYPE);
    ck_assert_int_eq(shoal_results_param_double(r, "old_T", &v), 0);
    ck_assert(v == 1.25);
    ck_assert_int_eq(shoal_results_param_string(r, "old_word", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "none");
    ck_assert_int_eq(shoal_results_param_double(r, "old_word", &v), SHOAL_ETYPE);
    ck_assert_int_eq(shoal_results_param_double(r, "absent", &v), SHOAL_ENOTFOUND);
    shoal_results_close(r);
}
END_TEST

START_TEST(refuses_existing)
{
    char path[512];
    path_in_dir(path, sizeof path, "exists.h5");
    FILE *fp = fopen(path, "w");
    fputs("precious data", fp);
    fclose(fp);
    shoal_store_spec sp = spec_for(path, 5, 0);
    shoal_store *s = (shoal_store *)1;
    last_error[0] = '\0';
    ck_assert_int_eq(shoal_store_create(solo, &sp, &s), SHOAL_EEXIST);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(last_error, "already exists") &&
                      strstr(last_error, "--force"),
                  "message: %s", last_error);
    char buf[64] = {0};
    fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, fp));
    fclose(fp);
    ck_assert_str_eq(buf, "precious data");

    /* With force it is replaced by a valid store. */
    sp.force = 1;
    ck_assert_int_eq(shoal_store_create(solo, &sp, &s), 0);
    shoal_store_rank_stats st = {0, 0, 0, 0, 0};
    ck_assert_int_eq(shoal_store_close(s, &st, 0, 0, 0, NULL, 0, NULL), 0);
    shoal_results *r = NULL;
    ck_assert_int_eq(shoal_results_open(path, &r), 0);
    ck_assert_uint_eq(shoal_results_ntasks(r), 5);
    shoal_results_close(r);
}
END_TEST

START_TEST(bad_paths)
{
    char path[512];
    shoal_store *s = (shoal_store *)1;
    path_in_dir(path, sizeof path, "no/such/dir/out.h5");
    shoal_store_spec sp = spec_for(path, 5, 0);
    ck_assert_int_eq(shoal_store_create(solo, &sp, &s), SHOAL_ENOENT);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(last_error, "does not exist"), "message: %s", last_error);

    sp = spec_for(dir, 5, 1); /* the directory itself, even with --force */
    ck_assert_int_eq(shoal_store_create(solo, &sp, &s), SHOAL_EEXIST);
    ck_assert_msg(strstr(last_error, "is a directory"), "message: %s", last_error);

    ck_assert_int_eq(shoal_results_open(dir, (shoal_results **)&s), SHOAL_EHDF5);
    path_in_dir(path, sizeof path, "plain.txt");
    FILE *fp = fopen(path, "w");
    fputs("not hdf5", fp);
    fclose(fp);
    shoal_results *r = (shoal_results *)1;
    ck_assert_int_eq(shoal_results_open(path, &r), SHOAL_EHDF5);
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(rows_out_of_range)
{
    char path[512];
    path_in_dir(path, sizeof path, "range.h5");
    shoal_store_spec sp = spec_for(path, 4, 0);
    shoal_store *s = NULL;
    ck_assert_int_eq(shoal_store_create(solo, &sp, &s), 0);
    ck_assert_int_eq(write_range(s, 3, 2, SHOAL_STATUS_DONE), SHOAL_EINVAL);
    ck_assert_int_eq(write_range(s, 5, 1, SHOAL_STATUS_DONE), SHOAL_EINVAL);
    ck_assert_int_eq(write_range(s, 0, 0, SHOAL_STATUS_DONE), 0);
    ck_assert_int_eq(write_range(s, 0, 4, SHOAL_STATUS_DONE), 0);
    shoal_store_rank_stats st = {4, 0, 0, 0, 0};
    ck_assert_int_eq(shoal_store_close(s, &st, 4, 0, 0, NULL, 0, NULL), 0);
}
END_TEST

/* /segments/hosts: whole when it fits, else cut after a whole name. */
START_TEST(segment_hosts)
{
    char out[24], want[24];
    memset(want, 0, sizeof want);
    shoal__segment_hosts(out, sizeof out, "node1,node2");
    memcpy(want, "node1,node2", 11);
    ck_assert_mem_eq(out, want, sizeof out);
    /* 23 characters and the zero: fits exactly. */
    shoal__segment_hosts(out, sizeof out, "node0001,node0002,node3");
    ck_assert_str_eq(out, "node0001,node0002,node3");
    /* One more: the last name goes. */
    shoal__segment_hosts(out, sizeof out, "node0001,node0002,node34");
    ck_assert_str_eq(out, "node0001,node0002,...");
    shoal__segment_hosts(out, sizeof out, "node0001,node0002,node0003,node0004");
    ck_assert_str_eq(out, "node0001,node0002,...");
    /* A name that ends just where ",..." would not fit any more. */
    shoal__segment_hosts(out, sizeof out, "node0001,node0002,abc,defg");
    ck_assert_str_eq(out, "node0001,node0002,...");
    shoal__segment_hosts(out, sizeof out, "node0001,node0002,a,bcdefg");
    ck_assert_str_eq(out, "node0001,node0002,a,...");
    shoal__segment_hosts(out, sizeof out, "a-single-host-name-far-too-long");
    ck_assert_str_eq(out, "...");
    for (const char *h = "n1,n2,n3,n4,n5,n6,n7,n8,n9"; *h; h++) {
        shoal__segment_hosts(out, sizeof out, h);
        ck_assert_uint_lt(strlen(out), sizeof out); /* never without its zero */
    }
}
END_TEST

/* ---- every rank: disjoint shares, failure logs, read back by rank 0 ---- */

enum { PAR_TASKS = 40, PAR_PENDING = 3 }; /* the last 3 rows stay pending */
static const uint64_t block_len[] = {1, 4, 2, 7, 3, 1, 5};
#define NBLOCK_LEN (sizeof block_len / sizeof block_len[0])

/* Ranks that write: all of them, but at 3+ ranks the last one has an empty
 * share (it still takes part in every collective step). */
static int writers(void) { return nranks >= 3 ? nranks - 1 : nranks; }

/* Blocks of block_len[b % NBLOCK_LEN] rows, dealt to writers 0, 0, 1, 2,
 * ..., w-1, 0, 0, 1, ...: rank 0 gets the largest share, the others uneven
 * ones. Calls f for each block, in task order. */
static void for_each_block(void (*f)(uint64_t start, uint64_t count, int owner,
                                     void *arg),
                           void *arg)
{
    const int w = writers();
    uint64_t start = 0;
    for (uint64_t b = 0; start < PAR_TASKS - PAR_PENDING; b++) {
        uint64_t count = block_len[b % NBLOCK_LEN];
        if (count > PAR_TASKS - PAR_PENDING - start)
            count = PAR_TASKS - PAR_PENDING - start;
        uint64_t k = b % (uint64_t)(w + 1);
        f(start, count, k == 0 ? 0 : (int)k - 1, arg);
        start += count;
    }
}

/* What row i holds when `owner` wrote it; the last row of each block
 * failed, so every rank that writes logs failures both before and after
 * its half-way write of the log. */
static int32_t par_error(int failed, int owner) { return failed ? -(100 + owner) : 0; }
static uint8_t par_attempts(uint64_t i) { return (uint8_t)(1 + i % 3); }
static float par_seconds(uint64_t i, int owner) { return 0.25f * (float)owner + (float)i; }
static void par_message(char *buf, size_t n, uint64_t i, int owner)
{
    snprintf(buf, n, "rank %d gave up on task %llu", owner, (unsigned long long)i);
}

typedef struct {
    shoal_store *s;
    int bad;                      /* a write failed on this rank */
    uint64_t rows, blocks;        /* this rank's share */
    shoal_store_failure log[SHOAL_FAILURE_SLOTS];
    size_t nlog;
    int owner[PAR_TASKS];         /* every rank: who wrote each row (-1: none) */
    int failed_row[PAR_TASKS];    /* ... and whether it failed */
    uint64_t per_rank[4];
    uint64_t done, failed;
} par_state;

static void plan_block(uint64_t start, uint64_t count, int owner, void *arg)
{
    par_state *p = arg;
    for (uint64_t i = start; i < start + count; i++) {
        p->owner[i] = owner;
        p->failed_row[i] = i == start + count - 1;
        p->per_rank[owner]++;
        if (p->failed_row[i])
            p->failed++;
        else
            p->done++;
    }
}

static void write_block(uint64_t start, uint64_t count, int owner, void *arg)
{
    par_state *p = arg;
    if (owner != my_rank)
        return;
    double x[8];
    int64_t n[8 * 6];
    uint8_t st[8], att[8];
    int32_t rk[8], er[8];
    float sec[8];
    for (uint64_t k = 0; k < count; k++) {
        uint64_t i = start + k;
        x[k] = 2.385 * (double)i;
        for (int j = 0; j < 6; j++)
            n[k * 6 + j] = (int64_t)(i * 10 + (uint64_t)j);
        st[k] = p->failed_row[i] ? SHOAL_STATUS_FAILED : SHOAL_STATUS_DONE;
        rk[k] = my_rank;
        er[k] = par_error(p->failed_row[i], my_rank);
        att[k] = par_attempts(i);
        sec[k] = par_seconds(i, my_rank);
        if (p->failed_row[i]) {
            shoal_store_failure *f = &p->log[p->nlog++];
            memset(f, 0, sizeof *f);
            f->task = (int64_t)i;
            f->rank = my_rank;
            f->error = par_error(1, my_rank);
            f->attempts = par_attempts(i);
            par_message(f->message, sizeof f->message, i, my_rank);
        }
    }
    const void *bufs[2] = {x, n};
    shoal_store_rows rows = {.fields = bufs, .status = st, .rank = rk,
                             .seconds = sec, .error = er, .attempts = att};
    p->bad |= shoal_store_write_rows(p->s, start, count, &rows) != 0;
    p->rows += count;
    /* Half-way through its share a rank puts its entries so far in the file
     * (as the runner does after each range); close adds the rest. */
    if (++p->blocks == 2)
        p->bad |= shoal_store_write_failures(p->s, p->log, p->nlog) != 0;
}

START_TEST(ranks_share_rows)
{
    ck_assert_int_le(nranks, 4);
    char path[512];
    path_in_dir(path, sizeof path, "ranks.h5");
    static par_state p;
    memset(&p, 0, sizeof p);
    for (int i = 0; i < PAR_TASKS; i++)
        p.owner[i] = -1;
    for_each_block(plan_block, &p);
    shoal_store_spec sp = spec_for(path, PAR_TASKS, 0);
    /* Collective steps first, asserted only once every rank is past them:
     * a rank that stopped at an assertion would leave the others waiting. */
    int rc = shoal_store_create(MPI_COMM_WORLD, &sp, &p.s);
    if (rc == 0) {
        for_each_block(write_block, &p);
        shoal_store_rank_stats st = {p.rows, 1.0, 0.5, 1.5, 1024};
        rc = shoal_store_close(p.s, &st, p.done, p.failed, 2.0, p.log, p.nlog,
                               "complete");
    }
    int bad = p.bad, any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(!any_bad, "a rank's write_rows or write_failures failed");
    ck_assert_uint_eq(p.rows, p.per_rank[my_rank]);
    if (nranks >= 3 && my_rank == nranks - 1)
        ck_assert_uint_eq(p.rows, 0);
    MPI_Barrier(MPI_COMM_WORLD); /* every rank's file handle is closed */
    if (my_rank != 0)
        return;

    shoal_results *r = NULL;
    ck_assert_int_eq(shoal_results_open(path, &r), 0);
    ck_assert_uint_eq(shoal_results_ntasks(r), PAR_TASKS);
    double x[PAR_TASKS], sec[PAR_TASKS], v;
    int64_t n[PAR_TASKS * 6], rk[PAR_TASKS], er[PAR_TASKS], att[PAR_TASKS];
    uint8_t status[PAR_TASKS];
    ck_assert_int_eq(shoal_results_read_double(r, "x", 0, PAR_TASKS, x), 0);
    ck_assert_int_eq(shoal_results_read_int64(r, "n", 0, PAR_TASKS, n), 0);
    ck_assert_int_eq(shoal_results_read_status(r, 0, PAR_TASKS, status), 0);
    ck_assert_int_eq(shoal_results_read_column_int64(r, "tasks/rank", 0, PAR_TASKS, rk), 0);
    ck_assert_int_eq(shoal_results_read_column_int64(r, "tasks/error", 0, PAR_TASKS, er), 0);
    ck_assert_int_eq(shoal_results_read_column_int64(r, "tasks/attempts", 0, PAR_TASKS, att), 0);
    ck_assert_int_eq(shoal_results_read_column_double(r, "tasks/seconds", 0, PAR_TASKS, sec), 0);
    for (uint64_t i = 0; i < PAR_TASKS; i++) {
        int o = p.owner[i];
        if (o < 0) {
            ck_assert_msg(status[i] == SHOAL_STATUS_PENDING, "row %llu status %d",
                          (unsigned long long)i, status[i]);
            continue;
        }
        ck_assert_msg(status[i] == (p.failed_row[i] ? SHOAL_STATUS_FAILED : SHOAL_STATUS_DONE),
                      "row %llu status %d", (unsigned long long)i, status[i]);
        ck_assert_msg(x[i] == 2.385 * (double)i, "row %llu x %g", (unsigned long long)i, x[i]);
        for (int j = 0; j < 6; j++)
            ck_assert_int_eq(n[i * 6 + (uint64_t)j], (int64_t)(i * 10 + (uint64_t)j));
        ck_assert_msg(rk[i] == o, "row %llu rank %lld, written by %d",
                      (unsigned long long)i, (long long)rk[i], o);
        ck_assert_int_eq(er[i], par_error(p.failed_row[i], o));
        ck_assert_int_eq(att[i], par_attempts(i));
        ck_assert(sec[i] == (double)par_seconds(i, o));
    }
    int64_t per[4];
    ck_assert_int_eq(shoal_results_read_column_int64(r, "ranks/tasks", 0, (uint64_t)nranks, per), 0);
    for (int k = 0; k < nranks; k++)
        ck_assert_int_eq(per[k], (int64_t)p.per_rank[k]);
    ck_assert_int_eq(shoal_results_attr_double(r, "nranks", &v), 0);
    ck_assert(v == nranks);
    ck_assert_int_eq(shoal_results_attr_double(r, "tasks_done", &v), 0);
    ck_assert(v == (double)p.done);
    ck_assert_int_eq(shoal_results_attr_double(r, "tasks_failed", &v), 0);
    ck_assert(v == (double)p.failed);

    /* Every rank's entries, lowest task first, each with the rank that
     * logged it. */
    static shoal_store_failure fl[4 * SHOAL_FAILURE_SLOTS];
    size_t nf = 0;
    ck_assert_int_eq(shoal_results_read_failures(r, fl, 4 * SHOAL_FAILURE_SLOTS, &nf), 0);
    ck_assert_uint_eq(nf, p.failed);
    size_t e = 0;
    for (uint64_t i = 0; i < PAR_TASKS; i++) {
        if (p.owner[i] < 0 || !p.failed_row[i])
            continue;
        ck_assert_uint_lt(e, nf);
        const shoal_store_failure *f = &fl[e++];
        char want[SHOAL_FAILURE_MSG];
        par_message(want, sizeof want, i, p.owner[i]);
        ck_assert_int_eq(f->task, (int64_t)i);
        ck_assert_msg(f->rank == p.owner[i], "task %llu: entry says rank %d, logged by %d",
                      (unsigned long long)i, f->rank, p.owner[i]);
        ck_assert_int_eq(f->error, par_error(1, p.owner[i]));
        ck_assert_int_eq(f->attempts, par_attempts(i));
        ck_assert_str_eq(f->message, want);
    }
    ck_assert_uint_eq(e, nf);
    /* A shorter buffer gets the lowest tasks. */
    ck_assert_int_eq(shoal_results_read_failures(r, fl, 2, &nf), 0);
    ck_assert_uint_eq(nf, 2);
    ck_assert_int_eq(fl[0].task, 0); /* blocks 0+1 and 1+4 */
    ck_assert_int_eq(fl[1].task, 4);
    ck_assert_int_eq(fl[1].rank, p.owner[4]);
    shoal_results_close(r);
}
END_TEST

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    /* One directory for all ranks, made by rank 0. */
    int made = 1;
    if (my_rank == 0) {
        snprintf(dir, sizeof dir, "%s/shoal-store.XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            made = 0;
        }
    }
    MPI_Bcast(&made, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (!made) {
        MPI_Finalize();
        return 1;
    }
    shoal_set_error_handler(record);
    Suite *su = suite_create("store");
    if (my_rank == 0) {
        TCase *tc = tcase_create("one rank");
        tcase_add_test(tc, round_trip);
        tcase_add_test(tc, constants_typed);
        tcase_add_test(tc, refuses_existing);
        tcase_add_test(tc, bad_paths);
        tcase_add_test(tc, rows_out_of_range);
        tcase_add_test(tc, segment_hosts);
        suite_add_tcase(su, tc);
    }
    TCase *all = tcase_create("all ranks");
    tcase_add_test(all, ranks_share_rows);
    suite_add_tcase(su, all);
    SRunner *sr = srunner_create(su);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, my_rank == 0 ? CK_NORMAL : CK_SILENT);
    int failed = srunner_ntests_failed(sr), any_failed = 0;
    srunner_free(sr);
    MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (my_rank == 0) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (any_failed == 0 && system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        else if (any_failed)
            fprintf(stderr, "test_store: files kept in %s\n", dir);
    }
    MPI_Finalize();
    return any_failed ? 1 : 0;
}
