/* SPDX-License-Identifier: GPL-3.0-or-later */
/* report.c: messages to the user at the end of a run (see report.h). */
#include <shoal/error.h>
#include <shoal/log.h>
#include <shoal/results.h>

#include "report.h"
#include "stream.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --resume --dry-run: would the file resume, and what would run? */
static int dry_resume(const shoal_app *app, const shoal__cli *c, const shoal__settings *rs,
                      shoal_config *cfg)
{
    shoal_results *res = NULL;
    int rc = shoal_results_open(rs->output, &res);
    if (rc < 0)
        return rc;
    char *want = shoal__settings_fingerprint(app, cfg, rs);
    size_t cap = 1 << 20;
    char *have = malloc(cap);
    if (!want || !have)
        rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory comparing fingerprints");
    if (rc == 0 && shoal_results_attr_string(res, "fingerprint", have, cap) < 0)
        rc = SHOAL_ECONFIG;
    if (rc == 0 && shoal__fingerprint_diff(rs->output, have, want) > 0)
        rc = SHOAL_ECONFIG;
    uint64_t counts[4] = {0, 0, 0, 0}, n = shoal_results_ntasks(res);
    uint8_t *st = rc == 0 ? malloc(1 << 20) : NULL;
    if (rc == 0 && !st)
        rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading /tasks/status");
    for (uint64_t off = 0; rc == 0 && off < n; off += 1 << 20) {
        uint64_t k = n - off < (1u << 20) ? n - off : 1u << 20;
        rc = shoal_results_read_status(res, off, k, st);
        for (uint64_t i = 0; rc == 0 && i < k; i++)
            counts[st[i] < 4 ? st[i] : 0]++;
    }
    if (rc == 0) {
        uint64_t run = counts[SHOAL_STATUS_PENDING] + counts[SHOAL_STATUS_RUNNING] +
                       (c->retry_failed ? counts[SHOAL_STATUS_FAILED] : 0);
        printf("  resume:   %llu done, %llu failed, %llu interrupted while running, %llu "
               "pending; a resume would run %llu task%s\n",
               (unsigned long long)counts[SHOAL_STATUS_DONE],
               (unsigned long long)counts[SHOAL_STATUS_FAILED],
               (unsigned long long)counts[SHOAL_STATUS_RUNNING],
               (unsigned long long)counts[SHOAL_STATUS_PENDING], (unsigned long long)run,
               run == 1 ? "" : "s");
    }
    free(st);
    free(have);
    free(want);
    shoal_results_close(res);
    return rc;
}

int shoal__report_dry_run(const shoal_app *app, const shoal__cli *c,
                          const shoal__settings *rs, shoal_config *cfg, int nranks)
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
    /* --continue resumes what exists and starts what does not. */
    int resume = c->resume || (c->resume_if_exists && access(rs->output, F_OK) == 0);
    printf("%s: dry run of %s: nothing is written\n", app->name, c->config);
    if (rs->scan)
        printf("  scan:     %s\n", shoal_scan_describe(rs->scan));
    if (rs->input)
        shoal__input_print(rs->input, stdout);
    if (rs->stream)
        shoal__stream_print(rs->stream, stdout);
    else
        printf("  tasks:    %llu\n", (unsigned long long)rs->tasks);
    const shoal__search_plan *sp = &rs->search;
    if (sp->on) {
        printf("  search:   %s over %llu configurations, %s by rung:", sp->method_name,
               (unsigned long long)sp->nconfigs, sp->budget_name);
        for (int k = 0; k < sp->nrungs; k++)
            printf("%s %g (%llu task%s)", k ? "," : "", sp->budget[k],
                   (unsigned long long)sp->size[k], sp->size[k] == 1 ? "" : "s");
        printf("\n");
    }
    printf("  output:   %s, about %.1f %s%s\n", rs->output, shown, unit,
           resume                        ? " (to resume)"
           : access(rs->output, F_OK) == 0 ? (c->force ? " (exists: --force would replace it)"
                                                       : " (exists: a run would refuse without "
                                                         "--force)")
                                           : "");
    if (resume) {
        int rc = dry_resume(app, c, rs, cfg);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < rs->nconsts; i++)
        printf("  constant: %s = %s%s\n", rs->const_names[i], rs->const_values[i],
               sp->on && !strcmp(rs->const_names[i], sp->budget_name)
                   ? " (not used: the search sets it per rung)"
                   : "");
    /* A search's tasks differ in budget and are decided as it goes: no
     * sample of them stands for the rest. */
    if (!resume && !sp->on)
        shoal__report_estimate(app, rs, nranks, stdout);
    if (!rs->scan || rs->nscan == 0)
        return 0;
    uint64_t rows = sp->on ? sp->nconfigs : rs->tasks; /* a search: its rung 0 */
    uint64_t shown_rows = rows < 10 ? rows : 10;
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
    return 0;
}

/* " ARG" appended to buf, in single quotes when the shell would otherwise
 * split or expand it; returns the length written (cut at n - 1). */
static size_t quote_arg(char *buf, size_t n, const char *arg)
{
    int plain = *arg != '\0';
    for (const char *p = arg; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789-_./=:,+@%", *p) != NULL;
    size_t len = 0;
#define PUT(ch)                \
    do {                       \
        if (len + 1 < n)       \
            buf[len] = (ch);   \
        len++;                 \
    } while (0)
    PUT(' ');
    if (!plain)
        PUT('\'');
    for (const char *p = arg; *p; p++) {
        if (*p == '\'' && !plain) { /* ' becomes '\'' */
            PUT('\'');
            PUT('\\');
            PUT('\'');
        }
        PUT(*p);
    }
    if (!plain)
        PUT('\'');
#undef PUT
    if (n)
        buf[len < n ? len : n - 1] = '\0';
    return len < n ? len : n - 1;
}

/* The launcher this run is under, as the start of a command line that
 * starts it again the same way (checked on SLURM 22.05 with Open MPI 4.1):
 * Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE in every rank (under SLURM
 * too, where its daemons may be an srun step); srun sets SLURM_STEP_ID in
 * its tasks, and SLURM_MPI_TYPE with an MPI plugin (a batch shell has
 * neither); a single process under neither runs bare. Another launcher
 * gets the generic mpirun -n N. */
static size_t launcher(char *buf, size_t n, int nranks)
{
    const char *mpi_type = getenv("SLURM_MPI_TYPE");
    if (getenv("OMPI_COMM_WORLD_SIZE"))
        return (size_t)snprintf(buf, n, "mpirun -n %d", nranks);
    if (getenv("SLURM_STEP_ID"))
        return mpi_type && *mpi_type && strcmp(mpi_type, "none")
                   ? (size_t)snprintf(buf, n, "srun --mpi=%s -n %d", mpi_type, nranks)
                   : (size_t)snprintf(buf, n, "srun -n %d", nranks);
    buf[0] = '\0';
    if (nranks == 1)
        return 0;
    return (size_t)snprintf(buf, n, "mpirun -n %d", nranks);
}

void shoal__report_interrupted(const char *name, int sig, const uint64_t file[4],
                               uint64_t ntasks, const char *output, int argc, char **argv,
                               int nranks)
{
    /* Open MPI's mpirun turns a Ctrl-C (SIGINT) into SIGTERM for the ranks,
     * so under it a SIGTERM may well have been a Ctrl-C: say so. */
    const char *mpirun = getenv("OMPI_COMM_WORLD_SIZE");
    const char *sname = sig == SIGTERM && mpirun ? "SIGTERM (mpirun sends it for a Ctrl-C "
                                                   "or SIGINT too)"
                        : sig == SIGTERM         ? "SIGTERM"
                        : sig == SIGINT          ? "SIGINT"
                        : sig == SIGUSR1         ? "SIGUSR1"
                                                 : "a signal";
    shoal_log_notice("%s: interrupted by %s: %llu of %llu tasks done, %llu "
                    "failed, %llu left; '%s' is valid and holds every row "
                    "written",
                    name, sname, (unsigned long long)file[SHOAL_STATUS_DONE],
                    (unsigned long long)ntasks, (unsigned long long)file[SHOAL_STATUS_FAILED],
                    (unsigned long long)(file[SHOAL_STATUS_PENDING] +
                                         file[SHOAL_STATUS_RUNNING]),
                    output);
    /* The same command under the same launcher with --resume, without
     * --force (which would start over) and without an earlier --resume. */
    char cmd[8192];
    size_t n = launcher(cmd, sizeof cmd, nranks);
    for (int i = 0; i < argc && n < sizeof cmd - 16; i++) {
        if (i > 0 && shoal__cli_drop_on_resume(argv[i]))
            continue;
        n += quote_arg(cmd + n, sizeof cmd - n, argv[i]);
    }
    if (n < sizeof cmd - 16)
        snprintf(cmd + n, sizeof cmd - n, " --resume");
    /* Bare, the program starts the line: no blank before it. */
    shoal_log_notice("%s: to finish the run: %s", name, cmd + (cmd[0] == ' '));
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
                           uint64_t ntasks, int resumed, const char *output,
                           uint64_t used, const char *stop_reason)
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
    if (stop_reason) {
        /* The results ended the run: tasks beyond `used` are not part of it. */
        uint64_t finished = file[SHOAL_STATUS_DONE] + file[SHOAL_STATUS_FAILED];
        printf("%s: %s\n", name, stop_reason);
        printf("%s: the results are tasks 0..%llu (root attribute tasks_used = %llu); "
               "%llu more had run and are kept outside them, %llu of the most %llu "
               "were not needed\n",
               name, (unsigned long long)(used ? used - 1 : 0), (unsigned long long)used,
               (unsigned long long)(finished > used ? finished - used : 0),
               (unsigned long long)(ntasks - (finished > used ? finished : used)),
               (unsigned long long)ntasks);
    } else if (resumed || file[SHOAL_STATUS_DONE] != ran_done || left)
        printf("%s: the file now has %llu of %llu tasks done, %llu "
               "failed, %llu left\n",
               name, (unsigned long long)file[SHOAL_STATUS_DONE], (unsigned long long)ntasks,
               (unsigned long long)file[SHOAL_STATUS_FAILED], (unsigned long long)left);
    printf("%s: results in %s\n", name, abs_output);
    if (file[SHOAL_STATUS_FAILED] > 0)
        print_failures(name, output, file[SHOAL_STATUS_FAILED]);
    fflush(stdout);
}
