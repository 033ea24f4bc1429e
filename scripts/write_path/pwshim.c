/* SPDX-License-Identifier: GPL-3.0-or-later */
/* LD_PRELOAD shim: records [start, end, bytes] of every pwrite/pwrite64/
 * pwritev call, written at exit to $PWSHIM_DIR/pw.<pid>. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

typedef struct { double t0, t1; int64_t n; } rec;
static rec *recs;
static size_t nrec; static const size_t cap = 1 << 20;
__attribute__((constructor)) static void init(void) { recs = malloc(cap * sizeof *recs); }
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
static void add(double a, double b, int64_t n) {

    size_t i = __atomic_fetch_add(&nrec, 1, __ATOMIC_RELAXED); if (recs && i < cap) recs[i] = (rec){a, b, n};
}
__attribute__((destructor)) static void dump(void) {
    const char *d = getenv("PWSHIM_DIR");
    if (!d || !nrec) return;
    char p[512]; snprintf(p, sizeof p, "%s/pw.%d", d, (int)getpid());
    FILE *f = fopen(p, "w");
    if (!f) return;
    for (size_t i = 0; i < nrec && i < cap; i++) fprintf(f, "%.9f %.9f %lld\n", recs[i].t0, recs[i].t1, (long long)recs[i].n);
    fclose(f);
}
ssize_t pwrite64(int fd, const void *b, size_t n, off_t o) {
    static ssize_t (*r)(int, const void *, size_t, off_t);
    if (!r) r = dlsym(RTLD_NEXT, "pwrite64");
    double a = now(); ssize_t x = r(fd, b, n, o); add(a, now(), (int64_t)n); return x;
}
ssize_t pwrite(int fd, const void *b, size_t n, off_t o) {
    static ssize_t (*r)(int, const void *, size_t, off_t);
    if (!r) r = dlsym(RTLD_NEXT, "pwrite");
    double a = now(); ssize_t x = r(fd, b, n, o); add(a, now(), (int64_t)n); return x;
}
ssize_t pwritev(int fd, const struct iovec *v, int c, off_t o) {
    static ssize_t (*r)(int, const struct iovec *, int, off_t);
    if (!r) r = dlsym(RTLD_NEXT, "pwritev");
    int64_t n = 0; for (int i = 0; i < c; i++) n += (int64_t)v[i].iov_len;
    double a = now(); ssize_t x = r(fd, v, c, o); add(a, now(), n); return x;
}
