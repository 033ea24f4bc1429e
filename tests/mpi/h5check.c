/* SPDX-License-Identifier: GPL-3.0-or-later */
/* h5check: assertions on Shoal result files for the MPI tests, using the
 * serial HDF5 API directly (independent of Shoal's own reader).
 *
 *   h5check counts FILE                 print "pending=P done=D failed=F"
 *   h5check ranks FILE NRANKS           done rows' ranks in range, and
 *                                       /ranks/tasks matches them
 *   h5check failures FILE EVERY CODE    rows i % EVERY == EVERY-1 failed
 *                                       with CODE, all others done with 0
 *   h5check subset PART FULL            every done row of PART equals
 *                                       FULL's row in every /results field
 *   h5check varied FILE FIELD           a float64 field is not constant
 *   h5check done FILE                   print the indices of done tasks
 *   h5check seconds FILE SLEEP_US       /tasks/seconds of done rows: finite,
 *                                       >= 0, at least the (i % 7) * SLEEP_US
 *                                       microseconds test_app spins, and per
 *                                       rank adding up to at most (and, when
 *                                       tasks spin, at least half of) the
 *                                       rank's /ranks/busy_seconds
 * Exit 0 when the assertion holds, 1 (with a message) when not, 2 on usage. */
#include <hdf5.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hid_t open_file(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        fprintf(stderr, "h5check: cannot open %s\n", path);
        exit(1);
    }
    return f;
}

/* Read a whole dataset as `type`; returns element count, *out malloc'd. */
static size_t read_all(hid_t f, const char *name, hid_t type, size_t elsize,
                       void **out, hsize_t *rows)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) {
        fprintf(stderr, "h5check: no dataset %s\n", name);
        exit(1);
    }
    hid_t s = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(s);
    hsize_t dims[8] = {0};
    H5Sget_simple_extent_dims(s, dims, NULL);
    if (rows)
        *rows = dims[0];
    *out = malloc((size_t)n * elsize + 1);
    if (n > 0 && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        fprintf(stderr, "h5check: cannot read %s\n", name);
        exit(1);
    }
    H5Sclose(s);
    H5Dclose(d);
    return (size_t)n;
}

static int cmd_counts(const char *path)
{
    hid_t f = open_file(path);
    uint8_t *st;
    size_t n = read_all(f, "/tasks/status", H5T_NATIVE_UINT8, 1, (void **)&st, NULL);
    size_t c[3] = {0, 0, 0}, other = 0;
    for (size_t i = 0; i < n; i++) {
        if (st[i] < 3)
            c[st[i]]++;
        else if (st[i] == 3)
            c[0]++; /* running when the file was last written: not done */
        else
            other++;
    }
    printf("pending=%zu done=%zu failed=%zu\n", c[0], c[1], c[2]);
    free(st);
    H5Fclose(f);
    return other ? 1 : 0;
}

static int cmd_ranks(const char *path, int nranks)
{
    hid_t f = open_file(path);
    uint8_t *st;
    int32_t *rk;
    uint64_t *per;
    size_t n = read_all(f, "/tasks/status", H5T_NATIVE_UINT8, 1, (void **)&st, NULL);
    read_all(f, "/tasks/rank", H5T_NATIVE_INT32, 4, (void **)&rk, NULL);
    size_t nr = read_all(f, "/ranks/tasks", H5T_NATIVE_UINT64, 8, (void **)&per, NULL);
    if ((int)nr != nranks) {
        fprintf(stderr, "h5check: /ranks/tasks has %zu entries, expected %d\n", nr, nranks);
        return 1;
    }
    uint64_t *count = calloc((size_t)nranks, sizeof *count);
    for (size_t i = 0; i < n; i++) {
        if (st[i] == 0)
            continue;
        if (rk[i] < 0 || rk[i] >= nranks) {
            fprintf(stderr, "h5check: task %zu has rank %d outside 0..%d\n", i, rk[i], nranks - 1);
            return 1;
        }
        count[rk[i]]++;
    }
    for (int r = 0; r < nranks; r++)
        if (count[r] != per[r]) {
            fprintf(stderr, "h5check: rank %d: /tasks/rank says %llu tasks, /ranks/tasks says %llu\n",
                    r, (unsigned long long)count[r], (unsigned long long)per[r]);
            return 1;
        }
    free(count);
    free(st);
    free(rk);
    free(per);
    H5Fclose(f);
    return 0;
}

static int cmd_failures(const char *path, uint64_t every, int code)
{
    hid_t f = open_file(path);
    uint8_t *st;
    int32_t *err;
    size_t n = read_all(f, "/tasks/status", H5T_NATIVE_UINT8, 1, (void **)&st, NULL);
    read_all(f, "/tasks/error", H5T_NATIVE_INT32, 4, (void **)&err, NULL);
    for (size_t i = 0; i < n; i++) {
        int should_fail = every > 0 && i % every == every - 1;
        int want_st = should_fail ? 2 : 1, want_err = should_fail ? code : 0;
        if (st[i] != want_st || err[i] != want_err) {
            fprintf(stderr, "h5check: task %zu: status %d error %d, expected %d and %d\n",
                    i, st[i], err[i], want_st, want_err);
            return 1;
        }
    }
    free(st);
    free(err);
    H5Fclose(f);
    return 0;
}

typedef struct {
    hid_t part, full;
    const uint8_t *st;
    size_t n;
    int bad;
} subset_ctx;

static herr_t compare_field(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g;
    (void)info;
    subset_ctx *c = data;
    char path[512];
    snprintf(path, sizeof path, "/results/%s", name);
    void *a, *b;
    hsize_t ra, rb;
    /* Read in the file's own type: compare bit for bit. */
    hid_t d = H5Dopen2(c->part, path, H5P_DEFAULT);
    hid_t t = H5Dget_type(d);
    size_t es = H5Tget_size(t);
    H5Dclose(d);
    size_t na = read_all(c->part, path, t, es, &a, &ra);
    size_t nb = read_all(c->full, path, t, es, &b, &rb);
    H5Tclose(t);
    if (na != nb || ra != rb || ra != c->n) {
        fprintf(stderr, "h5check: %s: shapes differ\n", path);
        c->bad = 1;
    } else {
        size_t row = ra ? na / ra * es : 0;
        for (size_t i = 0; i < c->n && !c->bad; i++)
            if (c->st[i] == 1 && memcmp((char *)a + i * row, (char *)b + i * row, row)) {
                fprintf(stderr, "h5check: %s row %zu is marked done but differs from the full run\n", path, i);
                c->bad = 1;
            }
    }
    free(a);
    free(b);
    return 0;
}

static int cmd_subset(const char *part, const char *full)
{
    subset_ctx c = {open_file(part), open_file(full), NULL, 0, 0};
    uint8_t *st;
    c.n = read_all(c.part, "/tasks/status", H5T_NATIVE_UINT8, 1, (void **)&st, NULL);
    c.st = st;
    hid_t g = H5Gopen2(c.part, "/results", H5P_DEFAULT);
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, compare_field, &c);
    H5Gclose(g);
    free(st);
    H5Fclose(c.part);
    H5Fclose(c.full);
    return c.bad;
}

static int cmd_varied(const char *path, const char *field)
{
    hid_t f = open_file(path);
    char name[512];
    snprintf(name, sizeof name, "/results/%s", field);
    double *x;
    size_t n = read_all(f, name, H5T_NATIVE_DOUBLE, 8, (void **)&x, NULL);
    size_t same = 0;
    for (size_t i = 1; i < n; i++)
        same += x[i] == x[0];
    free(x);
    H5Fclose(f);
    if (n < 2 || same > n / 10) {
        fprintf(stderr, "h5check: %s looks constant (%zu of %zu equal the first)\n", name, same, n);
        return 1;
    }
    return 0;
}

static int cmd_done(const char *path)
{
    hid_t f = open_file(path);
    uint8_t *st;
    size_t n = read_all(f, "/tasks/status", H5T_NATIVE_UINT8, 1, (void **)&st, NULL);
    for (size_t i = 0; i < n; i++)
        if (st[i] == 1)
            printf("%zu\n", i);
    free(st);
    H5Fclose(f);
    return 0;
}

static int cmd_seconds(const char *path, double sleep_us)
{
    hid_t f = open_file(path);
    uint8_t *st;
    float *sec;
    int32_t *rk;
    double *busy;
    size_t n = read_all(f, "/tasks/status", H5T_NATIVE_UINT8, 1, (void **)&st, NULL);
    read_all(f, "/tasks/seconds", H5T_NATIVE_FLOAT, 4, (void **)&sec, NULL);
    read_all(f, "/tasks/rank", H5T_NATIVE_INT32, 4, (void **)&rk, NULL);
    size_t nr = read_all(f, "/ranks/busy_seconds", H5T_NATIVE_DOUBLE, 8, (void **)&busy, NULL);
    double *sum = calloc(nr + 1, sizeof *sum);
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        if (st[i] != 1)
            continue;
        double want = 1e-6 * sleep_us * (double)(i % 7);
        if (!(sec[i] >= 0.0f) || sec[i] > 1e6f || rk[i] < 0 || (size_t)rk[i] >= nr) {
            fprintf(stderr, "h5check: task %zu: seconds %g, rank %d\n", i, sec[i], rk[i]);
            bad = 1;
        } else if (sec[i] < 0.95 * want || sec[i] > want + 2.0) {
            fprintf(stderr, "h5check: task %zu took %g s, but spins %g s\n", i, sec[i], want);
            bad = 1;
        } else {
            sum[rk[i]] += sec[i];
        }
    }
    for (size_t r = 0; r < nr && !bad; r++)
        if (sum[r] > busy[r] * 1.001 + 1e-4 || (sleep_us > 0 && sum[r] < 0.5 * busy[r])) {
            fprintf(stderr, "h5check: rank %zu: tasks' seconds add up to %g s, busy %g s\n",
                    r, sum[r], busy[r]);
            bad = 1;
        }
    free(sum);
    free(st);
    free(sec);
    free(rk);
    free(busy);
    H5Fclose(f);
    return bad;
}

int main(int argc, char **argv)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (argc == 3 && !strcmp(argv[1], "counts"))
        return cmd_counts(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "ranks"))
        return cmd_ranks(argv[2], atoi(argv[3]));
    if (argc == 5 && !strcmp(argv[1], "failures"))
        return cmd_failures(argv[2], strtoull(argv[3], NULL, 10), atoi(argv[4]));
    if (argc == 4 && !strcmp(argv[1], "subset"))
        return cmd_subset(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "seconds"))
        return cmd_seconds(argv[2], atof(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "done"))
        return cmd_done(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "varied"))
        return cmd_varied(argv[2], argv[3]);
    fprintf(stderr, "usage: h5check counts|ranks|failures|subset|varied ...\n");
    return 2;
}
