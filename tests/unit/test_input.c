/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_input: the [input] keys (shoal__input_config) and rank 0's look at
 * the data (shoal__input_inspect), serially: sizes with suffixes, every
 * config refusal, rows per task from bytes_per_task, a list file's comments
 * and relative paths, and the file list's hash following every file's size
 * and modification time. The MPI side (reading, /input, resume) is in
 * tests/mpi/input_cases.sh. */
#include <shoal/shoal.h>

#include "input_impl.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char reason[2048];

static void capture(const char *r, const char *file, int line, int code)
{
    (void)file;
    (void)line;
    (void)code;
    if (!reason[0])
        snprintf(reason, sizeof reason, "%s", r);
}

static shoal_config *cfg;

/* Parse text and read [input]; the config stays in cfg until the next call. */
static int config(const char *text, shoal__input **in)
{
    shoal_config_free(cfg);
    cfg = NULL;
    ck_assert_int_eq(shoal_config_parse(text, strlen(text), "t.ini", &cfg), 0);
    reason[0] = '\0';
    shoal_set_error_handler(capture);
    int rc = shoal__input_config(cfg, in);
    shoal_set_error_handler(NULL);
    return rc;
}

START_TEST(test_keys)
{
    shoal__input *in = NULL;
    ck_assert_int_eq(config("[run]\ntasks = 3\n", &in), 0);
    ck_assert_ptr_null(in);
    ck_assert_int_eq(config("[input]\nfile = d.h5\ndatasets = x , /g/y\n", &in), 0);
    ck_assert_int_eq(in->kind, INPUT_HDF5);
    ck_assert_uint_eq(in->ndsets, 2);
    ck_assert_str_eq(in->dsets[0].name, "/x");
    ck_assert_str_eq(in->dsets[1].name, "/g/y");
    ck_assert_uint_eq(in->bytes_per_task, (uint64_t)16 << 20); /* the default */
    ck_assert_uint_eq(in->rows_per_task, 0);
    shoal__input_free(in);
    ck_assert_int_eq(config("[input]\nfile = r.h5\ndatasets = /a\ngroup_by = point\n", &in), 0);
    ck_assert_int_eq(in->kind, INPUT_POINTS);
    shoal__input_free(in);
    ck_assert_int_eq(config("[input]\nlist = l.txt\n", &in), 0);
    ck_assert_int_eq(in->kind, INPUT_FILES);
    ck_assert_uint_eq(in->ndsets, 0);
    shoal__input_free(in);
}
END_TEST

START_TEST(test_sizes)
{
    static const struct {
        const char *text;
        uint64_t want; /* 0: refused */
    } cases[] = {
        {"1", 1},          {"1k", 1024},           {"2K", 2048},
        {"64M", 64u << 20}, {"3 G", (uint64_t)3 << 30}, {"7m", 7u << 20},
        {"0", 0},          {"12X", 0},             {"1.5M", 0},
        {"-5", 0},         {"k", 0},               {"99999999999999G", 0},
        {"1MB", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[200];
        snprintf(text, sizeof text, "[input]\nfile = d.h5\ndatasets = /x\nbytes_per_task = %s\n",
                 cases[i].text);
        shoal__input *in = NULL;
        int rc = config(text, &in);
        if (cases[i].want) {
            ck_assert_msg(rc == 0, "%s: %s", cases[i].text, reason);
            ck_assert_uint_eq(in->bytes_per_task, cases[i].want);
        } else {
            ck_assert_int_eq(rc, SHOAL_ECONFIG);
            ck_assert_msg(strstr(reason, "t.ini:4: [input] bytes_per_task = '") &&
                              strstr(reason, "' is not a size"),
                          "%s: %s", cases[i].text, reason);
        }
        shoal__input_free(in);
    }
}
END_TEST

START_TEST(test_refusals)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[input]\ndatasets = /x\n", "t.ini:2: [input] names no input"},
        {"[input]\nfile = d.h5\nlist = l.txt\n", "t.ini:3: [input] list cannot be given with file"},
        {"[input]\nfiles = *.h5\nlist = l.txt\n", "t.ini:3: [input] list cannot be given with files"},
        {"[input]\nfile = d.h5\n", "t.ini:2: [input] datasets is missing"},
        {"[input]\nfile = d.h5\ndatasets = /x,,/y\n", "t.ini:3: [input] datasets = '/x,,/y' has an empty name"},
        {"[input]\nfile = d.h5\ndatasets = /x, x\n", "t.ini:3: [input] datasets lists '/x' twice"},
        {"[input]\nfile = \ndatasets = /x\n", "t.ini:2: [input] file is empty"},
        {"[input]\nfile = d.h5\ndatasets = /x\ngroup_by = points\n", "t.ini:4: [input] group_by = 'points' is not known"},
        {"[input]\nfiles = *.h5\ngroup_by = point\n", "t.ini:3: [input] group_by needs file = RESULT.h5"},
        {"[input]\nfile = d.h5\ndatasets = /x\nrows_per_task = 5\nbytes_per_task = 1k\n",
         "t.ini:5: [input] bytes_per_task cannot be given with rows_per_task (at t.ini:4)"},
        {"[input]\nfiles = *.h5\nbytes_per_task = 1k\n", "t.ini:3: [input] bytes_per_task does not apply to files"},
        {"[input]\nfile = r.h5\ndatasets = /x\ngroup_by = point\nrows_per_task = 2\n",
         "t.ini:5: [input] rows_per_task does not apply to group_by = point"},
        {"[input]\nfile = d.h5\ndatasets = /x\nrows_per_task = 0\n", "t.ini:4: [input] rows_per_task = '0' is out of range"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        shoal__input *in = NULL;
        ck_assert_int_eq(config(cases[i].text, &in), SHOAL_ECONFIG);
        ck_assert_msg(strstr(reason, cases[i].want), "case %zu: '%s' lacks '%s'", i, reason,
                      cases[i].want);
        shoal__input_free(in);
    }
}
END_TEST

/* ---- inspection ---------------------------------------------------------------- */

static char dir[64];

static void setup_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/shoal-unit-input.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static int inspect(const char *text, shoal__input **in, const char *output)
{
    int rc = config(text, in);
    ck_assert_msg(rc == 0, "%s", reason);
    reason[0] = '\0';
    shoal_set_error_handler(capture);
    rc = shoal__input_inspect(*in, output);
    shoal_set_error_handler(NULL);
    return rc;
}

START_TEST(test_list_file)
{
    write_file("a.h5", "aa");
    write_file("b.h5", "bbb");
    char list[512];
    snprintf(list, sizeof list, "# frames\n\n  a.h5 \n#b.h5\n%s/b.h5\r\n", dir);
    write_file("list.txt", list);
    char text[256];
    snprintf(text, sizeof text, "[input]\nlist = %s/list.txt\n", dir);
    shoal__input *in = NULL;
    ck_assert_int_eq(inspect(text, &in, NULL), 0);
    ck_assert_uint_eq(in->nfiles, 2);
    ck_assert_uint_eq(in->ntasks, 2);
    char want[256];
    snprintf(want, sizeof want, "%s/a.h5", dir);
    ck_assert_str_eq(in->paths[0], want); /* relative to the list's directory */
    snprintf(want, sizeof want, "%s/b.h5", dir);
    ck_assert_str_eq(in->paths[1], want);
    ck_assert_uint_eq(in->sizes[0], 2);
    ck_assert_uint_eq(in->sizes[1], 3);
    ck_assert_uint_eq(in->path_max, strlen(want) + 1);
    uint64_t hash = in->hash;
    shoal__input_free(in);

    /* Same files, same hash; another modification time, another hash. */
    ck_assert_int_eq(inspect(text, &in, NULL), 0);
    ck_assert_uint_eq(in->hash, hash);
    shoal__input_free(in);
    struct timespec times[2] = {{0, UTIME_OMIT}, {1234567890, 123456789}};
    ck_assert_int_eq(utimensat(AT_FDCWD, want, times, 0), 0);
    ck_assert_int_eq(inspect(text, &in, NULL), 0);
    ck_assert_uint_ne(in->hash, hash);
    ck_assert_int_eq(in->mtimes[1], (int64_t)1234567890 * 1000000000 + 123456789);
    shoal__input_free(in);

    /* The output among the inputs. */
    ck_assert_int_eq(inspect(text, &in, want), SHOAL_ECONFIG);
    ck_assert_msg(strstr(reason, ":5: input file '") && strstr(reason, "is the output file"),
                  "%s", reason);
    shoal__input_free(in);

    /* A line naming a missing file: list-file:line. */
    write_file("list.txt", "a.h5\n# x\n\ngone.h5\n");
    ck_assert_int_eq(inspect(text, &in, NULL), SHOAL_ENOENT);
    snprintf(want, sizeof want, "%s/list.txt:4: input file '%s/gone.h5' does not exist ([input] "
             "list at t.ini:2); fix the path or remove the line", dir, dir);
    ck_assert_str_eq(reason, want);
    shoal__input_free(in);

    write_file("list.txt", "# only comments\n\n");
    ck_assert_int_eq(inspect(text, &in, NULL), SHOAL_ECONFIG);
    ck_assert_msg(strstr(reason, "lists no files"), "%s", reason);
    shoal__input_free(in);
}
END_TEST

START_TEST(test_glob)
{
    write_file("f2.h5", "2");
    write_file("f10.h5", "10");
    write_file("f1.h5", "1");
    char text[256];
    snprintf(text, sizeof text, "[input]\nfiles = %s/f*.h5\ndatasets = /frame\n", dir);
    shoal__input *in = NULL;
    ck_assert_int_eq(inspect(text, &in, NULL), 0);
    ck_assert_uint_eq(in->nfiles, 3);
    ck_assert_ptr_nonnull(strstr(in->paths[0], "/f1.h5")); /* sorted as strings */
    ck_assert_ptr_nonnull(strstr(in->paths[1], "/f10.h5"));
    ck_assert_ptr_nonnull(strstr(in->paths[2], "/f2.h5"));
    shoal__input_free(in);
    snprintf(text, sizeof text, "[input]\nfiles = %s/g*.h5\n", dir);
    ck_assert_int_eq(inspect(text, &in, NULL), SHOAL_ENOENT);
    ck_assert_msg(strstr(reason, "t.ini:2: [input] files = '") && strstr(reason, "matches no file"),
                  "%s", reason);
    shoal__input_free(in);
}
END_TEST

/* An HDF5 file of /x float64 [1003] and /y int32 [1003 x 3]. */
static void make_h5(const char *path)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hsize_t dx[1] = {1003}, dy[2] = {1003, 3};
    hid_t sx = H5Screate_simple(1, dx, NULL), sy = H5Screate_simple(2, dy, NULL);
    hid_t x = H5Dcreate2(f, "x", H5T_IEEE_F64LE, sx, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t y = H5Dcreate2(f, "y", H5T_STD_I32LE, sy, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(x, 0);
    ck_assert_int_ge(y, 0);
    H5Dclose(x);
    H5Dclose(y);
    H5Sclose(sx);
    H5Sclose(sy);
    H5Fclose(f);
}

START_TEST(test_rows_per_task)
{
    char path[256];
    snprintf(path, sizeof path, "%s/d.h5", dir);
    make_h5(path);
    /* A row of /x and /y is 8 + 3 x 8 = 32 bytes as read. */
    static const struct {
        const char *key;
        uint64_t rpt, ntasks;
    } cases[] = {
        {"bytes_per_task = 2k", 64, 16},   {"bytes_per_task = 1", 1, 1003},
        {"bytes_per_task = 1G", 1003, 1},  {"rows_per_task = 97", 97, 11},
        {"rows_per_task = 1003", 1003, 1}, {"bytes_per_task = 100", 3, 335},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "[input]\nfile = %s\ndatasets = /x, /y\n%s\n", path,
                 cases[i].key);
        shoal__input *in = NULL;
        ck_assert_msg(inspect(text, &in, NULL) == 0, "%s: %s", cases[i].key, reason);
        ck_assert_uint_eq(in->rows, 1003);
        ck_assert_uint_eq(in->rpt, cases[i].rpt);
        ck_assert_uint_eq(in->ntasks, cases[i].ntasks);
        ck_assert_str_eq(in->dsets[1].type, "int32");
        ck_assert_uint_eq(in->dsets[1].cols, 3);
        shoal__input_free(in);
    }
    char text[512];
    snprintf(text, sizeof text, "[input]\nfile = %s\ndatasets = /x\nrows_per_task = 1004\n", path);
    shoal__input *in = NULL;
    ck_assert_int_eq(inspect(text, &in, NULL), SHOAL_ECONFIG);
    ck_assert_msg(strstr(reason, "t.ini:4: [input] rows_per_task = 1004 is more than the 1003 rows"),
                  "%s", reason);
    shoal__input_free(in);
    /* The input as the output. */
    snprintf(text, sizeof text, "[input]\nfile = %s\ndatasets = /x\n", path);
    ck_assert_int_eq(inspect(text, &in, path), SHOAL_ECONFIG);
    ck_assert_msg(strstr(reason, "is the output file"), "%s", reason);
    shoal__input_free(in);
}
END_TEST

static Suite *input_suite(void)
{
    Suite *s = suite_create("input");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, test_keys);
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    TCase *fs = tcase_create("inspect");
    tcase_add_checked_fixture(fs, setup_dir, teardown_dir);
    tcase_add_test(fs, test_list_file);
    tcase_add_test(fs, test_glob);
    tcase_add_test(fs, test_rows_per_task);
    suite_add_tcase(s, fs);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(input_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    shoal_config_free(cfg);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
