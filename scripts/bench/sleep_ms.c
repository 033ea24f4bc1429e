/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sleep_ms.c: a task that sleeps MS milliseconds (nanosleep) and exits 0.
 *
 *   sleep_ms MS
 *
 * The 10 ms task of scripts/bench/b_exec.sh (compiled there with cc -O2):
 * a program of its own rather than /bin/sleep, whose start-up (locale,
 * argument parsing in floating point) would add its own noise to the sleep. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    char *end;
    long ms = argc == 2 ? strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || *end || ms < 0) {
        fprintf(stderr, "usage: sleep_ms MS\n");
        return 2;
    }
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        if (errno != EINTR)
            return 1;
    return 0;
}
