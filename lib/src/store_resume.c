/* store_resume.c: reopening a result file to finish its run (--resume).
 *
 * A file is resumed only if it is the same run: its fingerprint (what
 * decides which task is which and what it computes) must equal this run's,
 * and its datasets must have the shapes and types this run writes. Only
 * then is anything written: /ranks is rebuilt for this run's ranks,
 * /failures keeps earlier runs' entries, and the root attributes record the
 * resume. */
#include <shoal/error.h>
#include <shoal/log.h>

#include "failures.h"
#include "h5util.h"
#include "mpiutil.h"
#include "store_impl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Value of "key = value" line `key` in a fingerprint, into buf. */
static int fp_value(const char *fp, const char *key, char *buf, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = fp; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > kl + 3 && !strncmp(p, key, kl) && !strncmp(p + kl, " = ", 3)) {
            size_t vl = len - kl - 3 < n - 1 ? len - kl - 3 : n - 1;
            memcpy(buf, p + kl + 3, vl);
            buf[vl] = '\0';
            return 1;
        }
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* Rank 0: report every key whose value differs; returns the count. */
static int fp_diff(const char *path, const char *have, const char *want)
{
    int ndiff = 0;
    const char *both[2] = {want, have};
    for (int pass = 0; pass < 2; pass++) {
        for (const char *p = both[pass]; p && *p;) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            const char *eq = memchr(p, '=', len);
            if (eq && eq > p) {
                char key[256], a[1024] = "", b[1024] = "";
                size_t kl = (size_t)(eq - p - 1) < sizeof key - 1 ? (size_t)(eq - p - 1)
                                                                  : sizeof key - 1;
                memcpy(key, p, kl);
                key[kl] = '\0';
                int in_have = fp_value(have, key, a, sizeof a);
                int in_want = fp_value(want, key, b, sizeof b);
                /* Each differing key once: from `want`, or from `have` if
                 * only there. */
                if ((pass == 0 || !in_want) && (!in_have || !in_want || strcmp(a, b))) {
                    if (ndiff == 0)
                        shoal_log_error("cannot resume '%s': it holds a different run "
                                        "(file vs. this config):",
                                        path);
                    shoal_log_error("  %s: %s vs. %s", key, in_have ? a : "(absent)",
                                    in_want ? b : "(absent)");
                    ndiff++;
                }
            }
            p = nl ? nl + 1 : NULL;
        }
    }
    return ndiff;
}

int shoal_store_open(MPI_Comm comm, const shoal_store_spec *spec, shoal_store **out)
{
    *out = NULL;
    shoal__h5_quiet();
    shoal_store *s = shoal__store_alloc(comm, spec);
    int mine = s ? 0 : SHOAL_ENOMEM;
    if (s && s->rank == 0) {
        struct stat sb;
        if (stat(spec->path, &sb) != 0)
            mine = SHOAL_ERROR(SHOAL_ENOENT,
                               "nothing to resume: '%s' does not exist; run without "
                               "--resume to start",
                               spec->path);
        else if (!S_ISREG(sb.st_mode) || access(spec->path, R_OK | W_OK) != 0)
            mine = SHOAL_ERROR(SHOAL_EIO, "cannot resume '%s': not a writable file",
                               spec->path);
    }
    int rc = shoal__agree(comm, mine);
    if (rc == 0)
        rc = shoal__store_open_file(s, spec, 0);
    if (rc < 0)
        goto fail;

    char *fp = shoal__attr_read_str(s->file, "fingerprint");
    mine = 0;
    if (s->rank == 0) {
        if (!fp)
            mine = SHOAL_ERROR(SHOAL_ECONFIG,
                               "cannot resume '%s': it has no fingerprint (not made "
                               "by this version of Shoal)",
                               spec->path);
        else if (fp_diff(spec->path, fp, spec->fingerprint) > 0)
            mine = SHOAL_ECONFIG;
    }
    free(fp);
    rc = shoal__agree(comm, mine);
    if (rc == 0)
        rc = shoal__store_bind(s, spec, SHOAL__BIND_OPEN);
    if (rc < 0)
        goto fail;

    /* Earlier failure entries: every rank reads them (so metadata caches
     * stay alike before the collective rebuild of the group); rank 0 writes
     * them back into the first slots. */
    shoal_store_failure *old = NULL;
    size_t nold = 0;
    int bad = 0;
    if (!spec->drop_failures)
        bad = shoal__failures_read(s->file, spec->path, &old, &nold) < 0;
    uint64_t counts[2] = {nold, nold}, range[2];
    counts[1] = ~counts[1];
    MPI_Allreduce(counts, range, 2, MPI_UINT64_T, MPI_MIN, comm);
    if (range[0] != ~range[1])
        shoal__abort(comm, "ranks read different /failures from the same file");
    char *hosts_all = shoal__store_gather_hosts(s);
    bad = shoal__agree(comm, bad ? SHOAL_EHDF5 : 0) < 0;
    if (!bad)
        bad = shoal__store_make_ranks(s, hosts_all) < 0;
    if (!bad) {
        s->fail_base = nold;
        bad = shoal__failures_create(s->file,
                                     nold + (uint64_t)s->nranks * SHOAL_FAILURE_SLOTS) < 0;
    }
    if (!bad && nold > 0)
        bad = shoal__failures_write(s->file, s->dxpl, old, nold, 0, s->rank == 0) < 0;
    free(old);
    /* Attributes of this run (collective, identical on every rank). */
    if (!bad) {
        uint64_t resumed = 0;
        hid_t a = H5Aexists(s->file, "resumed") > 0 ? H5Aopen(s->file, "resumed", H5P_DEFAULT)
                                                    : -1;
        if (a >= 0) {
            H5Aread(a, H5T_NATIVE_UINT64, &resumed);
            H5Aclose(a);
        }
        char started[32];
        if (s->rank == 0)
            shoal__iso_time(started, sizeof started);
        MPI_Bcast(started, sizeof started, MPI_CHAR, 0, comm);
        bad |= shoal__attr_u64(s->file, "resumed", resumed + 1) < 0;
        bad |= shoal__attr_str(s->file, "resumed_at", started) < 0;
        bad |= shoal__attr_u64(s->file, "nranks", (uint64_t)s->nranks) < 0;
        bad |= shoal__attr_str(s->file, "state", "running") < 0;
        bad |= shoal__attr_str(s->file, "overrides", spec->overrides ? spec->overrides : "") < 0;
    }
    free(hosts_all);
    if (!bad)
        bad = H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0;
    rc = shoal__agree(comm, bad ? SHOAL_EHDF5 : 0);
    if (rc < 0) {
        if (s->rank == 0)
            SHOAL_ERROR(rc, "cannot reopen '%s' for resuming", spec->path);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    shoal__store_free(s);
    return rc;
}
