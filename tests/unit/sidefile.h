/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sidefile.h: the fixture shared by the suites of files beside the output
 * (the lock, the crash log): a fresh temporary directory with an output
 * path in it, and the last error message captured instead of printed. */
#ifndef SHOAL_TEST_SIDEFILE_H
#define SHOAL_TEST_SIDEFILE_H

#include <shoal/error.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static char dir[256], output[512];
static char reason[4096]; /* the last error reported */

static void capture(const char *r, const char *file, int line, int code)
{
    (void)file;
    (void)line;
    (void)code;
    snprintf(reason, sizeof reason, "%s", r);
}

/* A new directory "<TMPDIR>/<prefix>.XXXXXX" with output = dir/out.h5;
 * errors are captured in `reason`. */
static void sidefile_setup(const char *prefix)
{
    snprintf(dir, sizeof dir, "%s/%s.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             prefix);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(output, sizeof output, "%s/out.h5", dir);
    reason[0] = '\0';
    shoal_set_error_handler(capture);
}

/* Remove the directory and all in it. */
static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    (void)!system(cmd);
}

#endif
