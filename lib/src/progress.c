/* SPDX-License-Identifier: GPL-3.0-or-later */
/* progress.c: the progress reporter on rank 0 (see progress.h). */
#include <shoal/clock.h>
#include <shoal/log.h>

#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BAR_SECONDS 0.25 /* a live line is drawn again at most this often */

/* Is the terminal of mpirun the one we should draw on? Open MPI gives its
 * ranks a pipe for stderr (and a pseudo-terminal for stdout, terminal or
 * not), so the rank cannot tell; on the launcher's node the rank is
 * mpirun's child, and mpirun's own stderr says. */
static int launcher_on_terminal(void)
{
    if (!getenv("OMPI_COMM_WORLD_SIZE"))
        return 0;
    char path[64], target[256];
    snprintf(path, sizeof path, "/proc/%ld/fd/2", (long)getppid());
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    return !strncmp(target, "/dev/pts/", 9) || !strncmp(target, "/dev/tty", 8);
}

void shoal__progress_start(shoal__progress *p, const char *name, shoal__progress_mode mode,
                           double every, uint64_t ntasks, const uint64_t (*todo)[2],
                           size_t ntodo, const uint64_t *before, double now)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    p->every = every > 0 ? every : SHOAL__PROGRESS_EVERY;
    p->ntasks = ntasks;
    p->t0 = now;
    if (before) {
        p->before_done = before[1];
        p->before_failed = before[2];
    }
    if (shoal_log_get_level() < SHOAL_LOG_INFO)
        mode = SHOAL__PROGRESS_NONE;
    if (mode == SHOAL__PROGRESS_AUTO)
        mode = isatty(STDERR_FILENO) || launcher_on_terminal() ? SHOAL__PROGRESS_BAR
                                                              : SHOAL__PROGRESS_LOG;
    p->mode = mode;
    if (mode == SHOAL__PROGRESS_NONE)
        return;
    p->eta_ok = shoal__eta_init(&p->eta, ntasks) == 0;
    if (p->eta_ok) {
        if (todo)
            for (size_t i = 0; i < ntodo; i++)
                shoal__eta_todo(&p->eta, todo[i][0], todo[i][1]);
        else
            shoal__eta_todo(&p->eta, 0, ntasks);
    }
    p->next_draw = now + (mode == SHOAL__PROGRESS_BAR ? BAR_SECONDS : p->every);
}

void shoal__progress_known(shoal__progress *p, uint64_t start, uint64_t count,
                           double seconds)
{
    if (p->mode != SHOAL__PROGRESS_NONE && p->eta_ok)
        shoal__eta_known(&p->eta, start, count, seconds);
}

void shoal__progress_format(const shoal__progress *p, double now, char *buf, size_t n)
{
    uint64_t fin = p->before_done + p->before_failed + p->done + p->failed;
    uint64_t failed = p->before_failed + p->failed;
    double elapsed = now - p->t0;
    double pct = p->ntasks ? 100.0 * (double)fin / (double)p->ntasks : 100.0;
    char el[32], eta[32], rate[32], fails[48] = "";
    shoal__eta_format(elapsed, el, sizeof el);
    double left = p->eta_ok ? shoal__eta_seconds(&p->eta, elapsed) : NAN;
    shoal__eta_format(left, eta, sizeof eta);
    double r = elapsed > 0 ? (double)(p->done + p->failed) / elapsed : 0;
    if (r >= 100)
        snprintf(rate, sizeof rate, "%.0f", r);
    else if (r >= 1)
        snprintf(rate, sizeof rate, "%.2f", r);
    else
        snprintf(rate, sizeof rate, "%.3g", r);
    if (failed)
        snprintf(fails, sizeof fails, ", %llu failed", (unsigned long long)failed);
    if (p->open_ended) { /* a stream: no total, no time left */
        snprintf(buf, n, "%s: %llu tasks%s | %s tasks/s | %s", p->name, (unsigned long long)fin,
                 fails, rate, el);
        return;
    }
    snprintf(buf, n, "%s: %llu/%llu tasks (%.1f%%)%s | %s tasks/s | %s | ETA %s", p->name,
             (unsigned long long)fin, (unsigned long long)p->ntasks, pct, fails, rate, el,
             eta);
}

static void draw(shoal__progress *p, double now)
{
    char line[512];
    shoal__progress_format(p, now, line, sizeof line);
    if (p->mode == SHOAL__PROGRESS_BAR)
        shoal__log_live(line);
    else
        shoal_log_info("%s", line);
    p->lines++;
}

void shoal__progress_range(void *ctx, uint64_t start, uint64_t count, uint64_t failed,
                           double seconds)
{
    shoal__progress *p = ctx;
    if (p->mode == SHOAL__PROGRESS_NONE)
        return;
    if (failed > count)
        failed = count;
    p->done += count - failed;
    p->failed += failed;
    if (p->eta_ok)
        shoal__eta_done(&p->eta, start, count, seconds);
}

void shoal__progress_tick(void *ctx, double now)
{
    shoal__progress *p = ctx;
    if (p->mode == SHOAL__PROGRESS_NONE || now < p->next_draw)
        return;
    draw(p, now);
    p->next_draw = now + (p->mode == SHOAL__PROGRESS_BAR ? BAR_SECONDS : p->every);
}

void shoal__progress_end(shoal__progress *p, double now, uint64_t done, uint64_t failed)
{
    if (p->mode == SHOAL__PROGRESS_NONE)
        return;
    p->done = done;
    p->failed = failed;
    /* A log that had no line yet needs none: the summary follows. */
    if (p->mode == SHOAL__PROGRESS_BAR || p->lines > 0)
        draw(p, now);
    if (p->mode == SHOAL__PROGRESS_BAR)
        shoal__log_live_end(1);
    p->mode = SHOAL__PROGRESS_NONE;
}

void shoal__progress_free(shoal__progress *p)
{
    if (p->mode == SHOAL__PROGRESS_BAR)
        shoal__log_live_end(1);
    p->mode = SHOAL__PROGRESS_NONE;
    shoal__eta_free(&p->eta);
}
