/* report.c: messages to the user at the end of a run (see report.h). */
#include <shoal/log.h>
#include <shoal/results.h>

#include "report.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void shoal__report_dry_run(const shoal_app *app, const shoal__cli *c,
                           const shoal__settings *rs, int nranks)
{
    uint64_t row = shoal__settings_row_bytes(app, rs);
    double bytes = (double)rs->tasks * (double)row + 65536.0 + 64.0 * nranks;
    const char *unit = "bytes";
    double shown = bytes;
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    for (int u = 0; u < 5 && shown >= 1024; u++) {
        shown /= 1024;
        unit = units[u];
    }
    printf("%s: dry run of %s: nothing is written\n", app->name, c->config);
    if (rs->scan)
        printf("  scan:     %s\n", shoal_scan_describe(rs->scan));
    printf("  tasks:    %llu\n", (unsigned long long)rs->tasks);
    printf("  output:   %s, about %.1f %s%s\n", rs->output, shown, unit,
           access(rs->output, F_OK) == 0
               ? (c->force ? " (exists: --force would replace it)"
                           : " (exists: a run would refuse without --force)")
               : "");
    for (size_t i = 0; i < rs->nconsts; i++)
        printf("  constant: %s = %s\n", rs->const_names[i], rs->const_values[i]);
    if (!rs->scan || rs->nscan == 0)
        return;
    uint64_t shown_rows = rs->tasks < 10 ? rs->tasks : 10;
    printf("  first %llu of %llu tasks:\n    %8s %8s %9s", (unsigned long long)shown_rows,
           (unsigned long long)rs->tasks, "task", "point", "replicate");
    for (size_t d = 0; d < rs->nscan; d++)
        printf(" %14s", rs->cols[d].name);
    printf("\n");
    shoal_scan_value *vals = calloc(rs->nscan, sizeof *vals);
    for (uint64_t t = 0; vals && t < shown_rows; t++) {
        uint64_t point, rep;
        shoal_scan_task(rs->scan, t, &point, &rep, vals);
        printf("    %8llu %8llu %9llu", (unsigned long long)t, (unsigned long long)point,
               (unsigned long long)rep);
        for (size_t d = 0; d < rs->nscan; d++) {
            if (rs->cols[d].type == SHOAL_STRING)
                printf(" %14s", vals[d].s);
            else if (rs->cols[d].type == SHOAL_INT64)
                printf(" %14lld", (long long)vals[d].l);
            else
                printf(" %14.6g", vals[d].d);
        }
        printf("\n");
    }
    free(vals);
}

void shoal__report_interrupted(const char *name, int sig, const uint64_t file[4],
                               uint64_t ntasks, const char *output, int argc, char **argv,
                               int nranks)
{
    const char *sname = sig == SIGTERM   ? "SIGTERM"
                        : sig == SIGINT  ? "SIGINT"
                        : sig == SIGUSR1 ? "SIGUSR1"
                                         : "a signal";
    shoal_log_error("%s: interrupted by %s: %llu of %llu tasks done, %llu "
                    "failed, %llu left; '%s' is valid and holds every row "
                    "written",
                    name, sname, (unsigned long long)file[SHOAL_STATUS_DONE],
                    (unsigned long long)ntasks, (unsigned long long)file[SHOAL_STATUS_FAILED],
                    (unsigned long long)(file[SHOAL_STATUS_PENDING] +
                                         file[SHOAL_STATUS_RUNNING]),
                    output);
    /* The same command with --resume, without --force (which would start
     * over) and without an earlier --resume. */
    char cmd[8192];
    size_t n = (size_t)snprintf(cmd, sizeof cmd, "mpirun -n %d", nranks);
    for (int i = 0; i < argc && n < sizeof cmd - 16; i++) {
        if (i > 0 && shoal__cli_drop_on_resume(argv[i]))
            continue;
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, " %s", argv[i]);
    }
    if (n < sizeof cmd - 16)
        snprintf(cmd + n, sizeof cmd - n, " --resume");
    shoal_log_error("%s: to finish the run: %s", name, cmd);
}

/* The first failed tasks (by index) with their messages, from the file. */
static void print_failures(const char *name, const char *path, uint64_t failed)
{
    enum { SHOWN = 5 };
    shoal_results *res = NULL;
    shoal_store_failure f[SHOWN];
    size_t n = 0;
    if (shoal_results_open(path, &res) == 0 &&
        shoal_results_read_failures(res, f, SHOWN, &n) == 0) {
        printf("%s: %llu task%s failed; first:\n", name, (unsigned long long)failed,
               failed == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++)
            printf("  task %lld: error %d after %d attempt%s: %s\n", (long long)f[i].task,
                   f[i].error, f[i].attempts, f[i].attempts == 1 ? "" : "s", f[i].message);
        printf("  (all: /tasks/status == 2 in the file; messages in /failures)\n");
    }
    shoal_results_close(res);
}

void shoal__report_summary(const char *name, uint64_t ran_done, uint64_t ran_failed,
                           int nranks, double wall, const uint64_t file[4],
                           uint64_t ntasks, int resumed, const char *output)
{
    char abs_output[PATH_MAX];
    if (!realpath(output, abs_output))
        snprintf(abs_output, sizeof abs_output, "%s", output);
    uint64_t ran = ran_done + ran_failed;
    uint64_t left = file[SHOAL_STATUS_PENDING] + file[SHOAL_STATUS_RUNNING];
    printf("%s: %llu tasks (%llu done, %llu failed) on %d rank%s in "
           "%.3f s (%.0f tasks/s)\n",
           name, (unsigned long long)ran, (unsigned long long)ran_done,
           (unsigned long long)ran_failed, nranks, nranks == 1 ? "" : "s", wall,
           wall > 0 ? (double)ran / wall : 0.0);
    if (resumed || file[SHOAL_STATUS_DONE] != ran_done || left)
        printf("%s: the file now has %llu of %llu tasks done, %llu "
               "failed, %llu left\n",
               name, (unsigned long long)file[SHOAL_STATUS_DONE], (unsigned long long)ntasks,
               (unsigned long long)file[SHOAL_STATUS_FAILED], (unsigned long long)left);
    printf("%s: results in %s\n", name, abs_output);
    if (file[SHOAL_STATUS_FAILED] > 0)
        print_failures(name, output, file[SHOAL_STATUS_FAILED]);
    fflush(stdout);
}
