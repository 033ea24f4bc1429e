/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_config: libFuzzer target for the config and scan parsers.
 *
 * Any bytes go to shoal_config_parse; a config that parses is read the way
 * shoal_main reads one (typed getters, an override, unknown-key check) and
 * its [scan] (with [sampling]) is built for a small parameter table and
 * decoded for its first tasks, with the invariants of the index mapping
 * checked. Build and run: scripts/fuzz.sh SECONDS.
 *
 * Built with SHOAL_FUZZ_SELFTEST (target fuzz_config_selftest) it also
 * crashes on inputs that start with SELFTEST_CRASH, as corpus/selftest.ini
 * does: tests/fuzz/test_fuzz_script.sh needs a crash that is certain and
 * immediate to prove that scripts/fuzz.sh fails on one. */
#include <shoal/shoal.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void silent(const char *reason, const char *file, int line, int code)
{
    (void)reason;
    (void)file;
    (void)line;
    (void)code;
}

#define SELFTEST_CRASH "; SHOAL-FUZZ-SELFTEST-CRASH"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef SHOAL_FUZZ_SELFTEST
    if (size >= strlen(SELFTEST_CRASH) &&
        !memcmp(data, SELFTEST_CRASH, strlen(SELFTEST_CRASH)))
        abort();
#endif
    shoal_set_error_handler(silent);
    if (size > (1u << 20))
        return 0;
    shoal_config *cfg = NULL;
    if (shoal_config_parse((const char *)data, size, "fuzz.ini", &cfg) != 0) {
        if (cfg)
            abort(); /* a failed parse must leave *out NULL */
        return 0;
    }
    uint64_t u;
    long l;
    double d;
    const char *s;
    int b;
    shoal_config_get_u64(cfg, "run", "tasks", 0, 1, 1, (uint64_t)1 << 62, &u);
    shoal_config_get_u64(cfg, "run", "seed", 0, 1, 0, UINT64_MAX, &u);
    shoal_config_get_double(cfg, "run", "grace_seconds", 0, 30, 1, 86400, &d);
    if (!isfinite(d))
        abort();
    shoal_config_get_bool(cfg, "run", "master_works", 0, 1, &b);
    shoal_config_get_string(cfg, "run", "output", 0, "x.h5", &s);
    shoal_config_get_long(cfg, "app", "L", 0, 16, 2, 4096, &l);
    if (l < 2 || l > 4096)
        abort();
    shoal_config_set(cfg, "run.extra=1");

    static const shoal_param params[] = {
        {.name = "T", .type = SHOAL_FLOAT64, .dflt = "1"},
        {.name = "L", .type = SHOAL_INT64, .dflt = "16", .min = 2, .max = 4096},
        {.name = "model", .type = SHOAL_STRING, .dflt = "a"},
        {.name = "h", .type = SHOAL_FLOAT64, .dflt = "0", .min = -10, .max = 10},
    };
    shoal_scan *scan = NULL;
    if (shoal_scan_create(cfg, "scan", params, 4, 7, &scan) == 0) {
        uint64_t n = shoal_scan_tasks(scan), points = shoal_scan_points(scan),
                 reps = shoal_scan_replicates(scan);
        if (n != points * reps || n == 0)
            abort();
        shoal_scan_value v[8];
        for (uint64_t t = 0; t < n && t < 4; t++) {
            uint64_t p, r;
            if (shoal_scan_task(scan, t, &p, &r, v) != 0 || p >= points || r >= reps)
                abort();
            for (size_t k = 0; k < shoal_scan_ndims(scan); k++) {
                shoal_type ty = shoal_scan_type(scan, k);
                if (ty == SHOAL_STRING ? v[k].s == NULL : !isfinite(v[k].d))
                    abort();
                if (ty == SHOAL_INT64 && (v[k].l < 2 || v[k].l > 4096))
                    abort(); /* bounds of L were promised */
            }
        }
        if (shoal_scan_describe(scan)[0] == '\0')
            abort();
        shoal_scan_free(scan);
    } else if (scan) {
        abort();
    }
    const char *sections[] = {"run", "app", "scan", "sampling", NULL};
    shoal_config_check_unused(cfg, sections);
    shoal_config_free(cfg);
    return 0;
}
