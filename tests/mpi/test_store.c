/* test_store: the result store on one MPI rank (check suite, CK_FORK=no).
 * Round trip of rows of every field kind, pending rows, provenance
 * attributes, and every refusal: existing file, missing directory, a
 * directory as output, rows out of range, unknown fields. */
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
    ck_assert_int_eq(shoal_store_create(MPI_COMM_WORLD, &sp, &s), 0);
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
    ck_assert_int_eq(shoal_store_create(MPI_COMM_WORLD, &sp, &s), SHOAL_EEXIST);
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
    ck_assert_int_eq(shoal_store_create(MPI_COMM_WORLD, &sp, &s), 0);
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
    ck_assert_int_eq(shoal_store_create(MPI_COMM_WORLD, &sp, &s), SHOAL_ENOENT);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(last_error, "does not exist"), "message: %s", last_error);

    sp = spec_for(dir, 5, 1); /* the directory itself, even with --force */
    ck_assert_int_eq(shoal_store_create(MPI_COMM_WORLD, &sp, &s), SHOAL_EEXIST);
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
    ck_assert_int_eq(shoal_store_create(MPI_COMM_WORLD, &sp, &s), 0);
    ck_assert_int_eq(write_range(s, 3, 2, SHOAL_STATUS_DONE), SHOAL_EINVAL);
    ck_assert_int_eq(write_range(s, 5, 1, SHOAL_STATUS_DONE), SHOAL_EINVAL);
    ck_assert_int_eq(write_range(s, 0, 0, SHOAL_STATUS_DONE), 0);
    ck_assert_int_eq(write_range(s, 0, 4, SHOAL_STATUS_DONE), 0);
    shoal_store_rank_stats st = {4, 0, 0, 0, 0};
    ck_assert_int_eq(shoal_store_close(s, &st, 4, 0, 0, NULL, 0, NULL), 0);
}
END_TEST

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    snprintf(dir, sizeof dir, "%s/shoal-store.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    shoal_set_error_handler(record);
    Suite *su = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, refuses_existing);
    tcase_add_test(tc, bad_paths);
    tcase_add_test(tc, rows_out_of_range);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (failed == 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    MPI_Finalize();
    return failed ? 1 : 0;
}
