/* SPDX-License-Identifier: GPL-3.0-or-later */
/* plan.c: everything shoal-stats decides before shoal_main runs (stats.h).
 *
 * The output fields depend on the data, so main() reads the command line
 * and the config the way shoal_main will (same --set and -o rules), asks
 * rank 0 for the datasets' shapes, and builds the field table. Mistakes
 * fall in two kinds:
 *   - those shoal_main already reports in its standard words (the command
 *     line, the config file, [input], the datasets, [shoal_stats] bins out
 *     of its bounds): the plan is deferred, and main runs shoal_main with
 *     --dry-run added, which reports them and writes nothing;
 *   - those of shoal-stats alone (the range language, a histogram too
 *     large, two datasets that make the same field names, an input other
 *     than one HDF5 file): reported here by rank 0, before any file is
 *     touched.
 * Every verdict is the same on every rank: the config text is rank 0's,
 * broadcast; the shapes are rank 0's, broadcast; read errors of the range
 * pass are agreed before the reductions.
 *
 * range = auto: each rank reads a contiguous share of the rows (HDF5 sec2,
 * read-only, independent) and keeps each column's smallest and largest
 * finite value; MPI_Allreduce(MIN / MAX) combines them, exactly and in any
 * order. The ranges in effect then go to shoal_main as one more --set of
 * [shoal_stats] range, so they are part of the run's config and
 * fingerprint, and a --resume must reach the same bins. */
#include "range.h"
#include "stats.h"

#include <shoal/config.h>
#include <shoal/error.h>
#include <shoal/log.h>

#include <float.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BINS_MAX (1 << 20)
/* One task's histogram row of a dataset (columns x bins x 8 bytes). */
#define HIST_BYTES_MAX ((uint64_t)64 << 20)
/* Rows read at a time by the range pass. */
#define READ_BYTES ((uint64_t)512 << 10)
/* Input read per task unless [input] says otherwise: small enough to stay
 * in cache between the read and the statistics, and to make tasks of
 * modest data (the library's default is 16M). */
#define DEFAULT_BYTES_PER_TASK "512k"
/* A --set value holds at most 4095 characters (config_read.c). */
#define RANGE_TEXT_MAX 4000

enum { P_BINS, P_RANGE };
const shoal_param stats_params[] = {
    [P_BINS] = {.name = "bins", .unit = "1", .type = SHOAL_INT64, .dflt = "64", .min = 1, .max = BINS_MAX,
                .doc = "histogram bins per column"},
    [P_RANGE] = {.name = "range", .type = SHOAL_STRING, .dflt = "auto",
                 .doc = "histogram range: auto (each column's finite min and max), LO:HI, "
                        "or per dataset /x=LO:HI, /y=auto (/y=LO:HI|LO:HI per column)"},
};
const size_t stats_nparams = sizeof stats_params / sizeof stats_params[0];

static const char *const suffix[NFIELDS_PER_DSET] = {
    [F_MOMENTS] = "_moments", [F_MIN] = "_min", [F_MAX] = "_max", [F_HIST] = "_hist",
    [F_OUTSIDE] = "_outside", [F_NAN] = "_nan", [F_RANGE] = "_range",
};

/* ---- the command line, as shoal_main reads it (lib/src/cli.c) ---------------------- */

typedef struct {
    const char *config, *output;
    const char **sets;
    int nsets, help, dry_run, bad;
    int end; /* index of the "--" that ends the options; argc if none */
} cmdline;

static const struct {
    const char *name;
    char c;
    int value;
} longs[] = {
    {"output", 'o', 1},      {"set", 's', 1},       {"force", 'f', 0},
    {"resume", 'r', 0},      {"retry-failed", 'R', 0}, {"dry-run", 'n', 0},
    {"quiet", 'q', 0},       {"verbose", 'v', 0},   {"help", 'h', 0},
    {"version", 'V', 0},
};

static void take(cmdline *c, char opt, const char *value)
{
    if (opt == 'o')
        c->output = value;
    else if (opt == 's')
        c->sets[c->nsets++] = value;
    else if (opt == 'h' || opt == 'V')
        c->help = 1;
    else if (opt == 'n')
        c->dry_run = 1;
}

/* Fills c (c->sets needs room for argc entries); c->bad when shoal_main
 * would refuse the command line, which it then reports. */
static void scan_args(int argc, char **argv, cmdline *c)
{
    c->end = argc;
    for (int i = 1; i < argc && !c->bad; i++) {
        const char *a = argv[i];
        if (i < c->end && !strcmp(a, "--")) {
            c->end = i;
        } else if (i < c->end && a[0] == '-' && a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2), k = 0;
            while (k < sizeof longs / sizeof longs[0] &&
                   (strlen(longs[k].name) != len || strncmp(longs[k].name, a + 2, len)))
                k++;
            if (k == sizeof longs / sizeof longs[0] || (eq && !longs[k].value)) {
                c->bad = 1;
            } else if (longs[k].value) {
                const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
                if (v)
                    take(c, longs[k].c, v);
                else
                    c->bad = 1;
            } else {
                take(c, longs[k].c, NULL);
            }
        } else if (i < c->end && a[0] == '-' && a[1] != '\0') {
            for (const char *p = a + 1; *p; p++) {
                if (*p == 'o' || *p == 's') {
                    const char *v = p[1] ? p + 1 : i + 1 < argc ? argv[++i] : NULL;
                    if (v)
                        take(c, *p, v);
                    else
                        c->bad = 1;
                    break;
                }
                if (!strchr("frRnqvhV", *p)) {
                    c->bad = 1;
                    break;
                }
                take(c, *p, NULL);
            }
        } else if (c->config) {
            c->bad = 1;
        } else {
            c->config = a;
        }
    }
}

int plan_wants_help(int argc, char **argv)
{
    cmdline c;
    memset(&c, 0, sizeof c);
    c.sets = calloc((size_t)argc + 1, sizeof *c.sets);
    if (!c.sets)
        return 0;
    scan_args(argc, argv, &c);
    free(c.sets);
    return c.help;
}

/* plan->argv: argv with `extra` (NULL: nothing), the default task size
 * (if needed) and the resolved range (if any) inserted before the "--"
 * that ends the options, so that they come after the user's --set options
 * and win. */
static int make_argv(stats_plan *p, int argc, char **argv, int end, char *extra)
{
    p->argv = calloc((size_t)argc + 8, sizeof *p->argv);
    if (!p->argv)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the command line");
    int n = 0;
    for (int i = 0; i < end; i++)
        p->argv[n++] = argv[i];
    if (extra)
        p->argv[n++] = extra;
    if (p->default_size) {
        p->argv[n++] = "--set";
        p->argv[n++] = "input.bytes_per_task=" DEFAULT_BYTES_PER_TASK;
    }
    if (p->range_set) {
        p->argv[n++] = "--set";
        p->argv[n++] = p->range_set;
    }
    for (int i = end; i < argc; i++)
        p->argv[n++] = argv[i];
    p->argc = n;
    return 0;
}

/* ---- the config --------------------------------------------------------------------- */

static void silent(const char *reason, const char *file, int line, int code)
{
    (void)reason;
    (void)file;
    (void)line;
    (void)code;
}

/* Every rank's verdict: the first error code if any rank has one, else the
 * largest (1: defer), else 0. */
static int agree(MPI_Comm comm, int rc)
{
    int v[2] = {rc, -rc}, all[2];
    MPI_Allreduce(v, all, 2, MPI_INT, MPI_MIN, comm);
    return all[0] < 0 ? all[0] : -all[1];
}

static void bcast_bytes(char *buf, size_t len, MPI_Comm comm)
{
    for (size_t off = 0; off < len; off += (size_t)1 << 30) {
        size_t n = len - off < ((size_t)1 << 30) ? len - off : (size_t)1 << 30;
        MPI_Bcast(buf + off, (int)n, MPI_CHAR, 0, comm);
    }
}

/* Rank 0 reads the file and the environment variables it names (${NAME});
 * every rank parses it with rank 0's variables and applies the options. */
static int load_config(const cmdline *c, MPI_Comm comm, int rank, shoal_config **cfg)
{
    int64_t hdr[3] = {0, 0, 0}; /* rc, length, variables' length */
    char *text = NULL, *env = NULL;
    size_t len = 0, envlen = 0;
    if (rank == 0) {
        hdr[0] = c->config ? shoal_config_read_file(c->config, &text, &len) : SHOAL_EUSAGE;
        const char **opts = hdr[0] == 0 ? malloc(((size_t)c->nsets + 1) * sizeof *opts) : NULL;
        if (hdr[0] == 0 && !opts)
            hdr[0] = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading the options");
        if (opts) {
            for (int i = 0; i < c->nsets; i++)
                opts[i] = c->sets[i];
            opts[c->nsets] = c->output;
            hdr[0] = shoal_config_env_capture(text, len, opts, (size_t)c->nsets + 1, &env,
                                              &envlen);
        }
        free(opts);
        hdr[1] = (int64_t)len;
        hdr[2] = (int64_t)envlen;
    }
    MPI_Bcast(hdr, 3, MPI_INT64_T, 0, comm);
    if (hdr[0] < 0) {
        free(text);
        return (int)hdr[0];
    }
    len = (size_t)hdr[1];
    envlen = (size_t)hdr[2];
    if (rank != 0 && (!(text = malloc(len + 1)) || !(env = malloc(envlen + 1))))
        MPI_Abort(comm, SHOAL_EXIT_ERROR); /* the others are in the broadcast */
    bcast_bytes(text, len, comm);
    bcast_bytes(env, envlen, comm);
    text[len] = '\0';
    int rc = shoal_config_parse_env(text, len, c->config, env, envlen, cfg);
    free(text);
    free(env);
    for (int i = 0; rc == 0 && i < c->nsets; i++)
        rc = shoal_config_set(*cfg, c->sets[i]);
    if (rc == 0 && c->output) {
        char *set = malloc(strlen(c->output) + 16);
        rc = set ? 0 : SHOAL_ENOMEM;
        if (set) {
            sprintf(set, "run.output=%s", c->output);
            rc = shoal_config_set(*cfg, set);
        }
        free(set);
    }
    return rc;
}

/* [input] datasets split as lib/src/input.c splits them: "/a, b" -> "/a",
 * "/b". Returns 0, or 1 when the list is malformed (the input layer says
 * how). */
static int split_datasets(stats_plan *p, const char *text)
{
    size_t n = 1;
    for (const char *c = text; *c; c++)
        n += *c == ',';
    p->d = calloc(n, sizeof *p->d);
    if (!p->d)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for %zu dataset names", n);
    for (const char *s = text; s;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        while (len && (*s == ' ' || *s == '\t'))
            s++, len--;
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len == 0)
            return 1;
        char *name = malloc(len + 2);
        if (!name)
            return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for dataset names");
        snprintf(name, len + 2, "%s%.*s", *s == '/' ? "" : "/", (int)len, s);
        p->d[p->nd++].path = name;
        for (size_t k = 0; k + 1 < p->nd; k++)
            if (!strcmp(p->d[k].path, name))
                return 1;
        s = comma ? comma + 1 : NULL;
    }
    return 0;
}

/* ---- the data ----------------------------------------------------------------------- */

/* Read-only, sec2 driver, no file locking (as the input layer opens it). */
static hid_t open_data(const char *path)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return -1;
    H5Pset_fapl_sec2(fapl);
#if H5_VERSION_GE(1, 10, 7)
    H5Pset_file_locking(fapl, 0, 1);
#endif
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return f;
}

static herr_t first_desc(unsigned pos, const H5E_error2_t *e, void *data)
{
    if (pos == 0 && e->desc)
        snprintf(data, 160, "%s", e->desc);
    return 0;
}

enum { I_NDIMS, I_ROWS, I_COLS, NI };

/* Rank 0: each dataset's shape into info (NI numbers each) and type.
 * Returns 0, or 1 with plan->defer_why set when the input layer will
 * refuse the input. */
static int inspect(stats_plan *p, uint64_t *info, char *types)
{
    char why[512] = "";
    hid_t f = open_data(p->file);
    if (f < 0)
        snprintf(why, sizeof why, "cannot open '%s' as an HDF5 file", p->file);
    for (size_t k = 0; f >= 0 && !why[0] && k < p->nd; k++) {
        hid_t ds = H5Dopen2(f, p->d[k].path, H5P_DEFAULT);
        hid_t t = ds >= 0 ? H5Dget_type(ds) : -1, sp = ds >= 0 ? H5Dget_space(ds) : -1;
        H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
        int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
        hsize_t dims[H5S_MAX_RANK] = {0};
        if (nd >= 1 && nd <= 2)
            H5Sget_simple_extent_dims(sp, dims, NULL);
        uint64_t *e = info + NI * k;
        e[I_NDIMS] = nd < 0 ? 0 : (uint64_t)nd;
        e[I_ROWS] = dims[0];
        e[I_COLS] = nd == 2 ? dims[1] : 1;
        if (t >= 0)
            snprintf(types + 16 * k, 16, "%s%zu",
                     cls == H5T_FLOAT ? "float"
                     : H5Tget_sign(t) == H5T_SGN_NONE ? "uint" : "int",
                     8 * H5Tget_size(t));
        if (ds < 0 || (cls != H5T_INTEGER && cls != H5T_FLOAT) || nd < 1 || nd > 2 ||
            e[I_ROWS] == 0 || e[I_COLS] == 0 || e[I_ROWS] != info[I_ROWS])
            snprintf(why, sizeof why, "cannot read '%s' in '%s' as a numeric 1-D or 2-D dataset "
                     "with as many rows as the first", p->d[k].path, p->file);
        if (t >= 0)
            H5Tclose(t);
        if (sp >= 0)
            H5Sclose(sp);
        if (ds >= 0)
            H5Dclose(ds);
    }
    if (f >= 0)
        H5Fclose(f);
    if (why[0] && !(p->defer_why = strdup(why)))
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory");
    return why[0] ? 1 : 0;
}

/* Rank 0 inspects, every rank learns the shapes (or the verdict). */
static int share_shapes(stats_plan *p, int rank, MPI_Comm comm)
{
    uint64_t *info = calloc(NI * p->nd + 1, sizeof *info);
    char *types = calloc(p->nd + 1, 16);
    if (!info || !types)
        MPI_Abort(comm, SHOAL_EXIT_ERROR); /* the others are in the broadcast */
    int64_t rc = rank == 0 ? inspect(p, info + 1, types) : 0;
    MPI_Bcast(&rc, 1, MPI_INT64_T, 0, comm);
    MPI_Bcast(info, (int)(NI * p->nd + 1), MPI_UINT64_T, 0, comm);
    MPI_Bcast(types, (int)(16 * p->nd), MPI_CHAR, 0, comm);
    for (size_t k = 0; rc == 0 && k < p->nd; k++) {
        stats_dset *d = &p->d[k];
        const uint64_t *e = info + 1 + NI * k;
        d->ndims = (int)e[I_NDIMS];
        d->rows = e[I_ROWS];
        d->cols = e[I_COLS];
        memcpy(d->type, types + 16 * k, 15);
    }
    free(info);
    free(types);
    if (rc == 1 && rank != 0)
        p->defer_why = strdup("(rank 0 says why)");
    return (int)rc;
}

/* Fold the finite values among n (every stride-th from v) into *lo and
 * *hi. NaN fails every comparison, so the fast loop skips it by itself;
 * only an infinity reaching lo or hi needs the slow loop. */
static void minmax_finite(const double *v, uint64_t n, uint64_t stride, double *lo, double *hi)
{
    double l0 = *lo, l1 = l0, h0 = *hi, h1 = h0;
    uint64_t i = 0;
    for (; i + 2 <= n; i += 2) {
        double x0 = v[i * stride], x1 = v[(i + 1) * stride];
        l0 = x0 < l0 ? x0 : l0;
        h0 = x0 > h0 ? x0 : h0;
        l1 = x1 < l1 ? x1 : l1;
        h1 = x1 > h1 ? x1 : h1;
    }
    if (i < n) {
        double x0 = v[i * stride];
        l0 = x0 < l0 ? x0 : l0;
        h0 = x0 > h0 ? x0 : h0;
    }
    l0 = l1 < l0 ? l1 : l0;
    h0 = h1 > h0 ? h1 : h0;
    if (l0 == -INFINITY || h0 == INFINITY) {
        l0 = *lo;
        h0 = *hi;
        for (i = 0; i < n; i++) {
            double x = v[i * stride];
            if (fabs(x) <= DBL_MAX) { /* finite: NaN and +-inf fail */
                l0 = x < l0 ? x : l0;
                h0 = x > h0 ? x : h0;
            }
        }
    }
    *lo = l0;
    *hi = h0;
}

/* Smallest and largest finite value of each auto column, over this rank's
 * rows, into mn / mx (+inf / -inf when none). */
static int scan_share(const stats_plan *p, hid_t f, int rank, int nranks, double *mn,
                      double *mx, double *buf, uint64_t buf_values)
{
    size_t j = 0;
    for (size_t k = 0; k < p->nd; k++) {
        const stats_dset *d = &p->d[k];
        uint64_t cols = d->cols, nauto = 0;
        for (uint64_t c = 0; c < cols; c++)
            nauto += d->is_auto[c];
        if (nauto == 0)
            continue;
        uint64_t r0 = d->rows * (uint64_t)rank / (uint64_t)nranks;
        uint64_t r1 = d->rows * (uint64_t)(rank + 1) / (uint64_t)nranks;
        uint64_t B = buf_values / cols;
        hid_t ds = H5Dopen2(f, d->path, H5P_DEFAULT), fs = ds >= 0 ? H5Dget_space(ds) : -1;
        int rc = fs < 0 ? -1 : 0;
        for (uint64_t r = r0; rc == 0 && r < r1; r += B) {
            hsize_t start[2] = {r, 0}, count[2] = {B < r1 - r ? B : r1 - r, cols};
            hid_t ms = H5Screate_simple(d->ndims, count, NULL);
            if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
                H5Dread(ds, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, buf) < 0)
                rc = -1;
            if (ms >= 0)
                H5Sclose(ms);
            uint64_t n = count[0];
            for (uint64_t c = 0, a = 0; rc == 0 && c < cols; c++) {
                if (!d->is_auto[c])
                    continue;
                minmax_finite(buf + c, n, cols, &mn[j + a], &mx[j + a]);
                a++;
            }
            if (rc < 0) {
                char msg[160] = "";
                H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_desc, msg);
                SHOAL_ERROR(SHOAL_EIO,
                            "shoal_stats: cannot read rows %llu..%llu of '%s' in '%s' to find "
                            "its range (%s); check the file, or give [shoal_stats] range = LO:HI",
                            (unsigned long long)r, (unsigned long long)(r + count[0]), d->path,
                            p->file, msg[0] ? msg : "HDF5 error");
            }
        }
        if (fs >= 0)
            H5Sclose(fs);
        if (ds >= 0)
            H5Dclose(ds);
        if (rc < 0)
            return SHOAL_EIO;
        j += nauto;
    }
    return 0;
}

/* range = auto: the first pass. Every rank takes part whatever happens. */
static int auto_ranges(stats_plan *p, int rank, int nranks, MPI_Comm comm)
{
    size_t na = 0;
    uint64_t widest = 1;
    for (size_t k = 0; k < p->nd; k++) {
        for (uint64_t c = 0; c < p->d[k].cols; c++)
            na += p->d[k].is_auto[c];
        widest = p->d[k].cols > widest ? p->d[k].cols : widest;
    }
    if (na == 0)
        return 0;
    uint64_t buf_values = READ_BYTES / 8 > widest ? READ_BYTES / 8 / widest * widest : widest;
    double *mn = malloc(na * sizeof *mn), *mx = malloc(na * sizeof *mx);
    double *gmn = malloc(na * sizeof *gmn), *gmx = malloc(na * sizeof *gmx);
    double *buf = malloc(buf_values * sizeof *buf);
    int rc = mn && mx && gmn && gmx && buf
                 ? 0
                 : SHOAL_ERROR(SHOAL_ENOMEM, "shoal_stats: out of memory for the range pass");
    for (size_t j = 0; rc == 0 && j < na; j++) {
        mn[j] = INFINITY;
        mx[j] = -INFINITY;
    }
    hid_t f = rc == 0 ? open_data(p->file) : -1;
    if (rc == 0 && f < 0)
        rc = SHOAL_ERROR(SHOAL_EIO, "shoal_stats: cannot open '%s' to find the range of its "
                         "data", p->file);
    if (rc == 0)
        rc = scan_share(p, f, rank, nranks, mn, mx, buf, buf_values);
    if (f >= 0)
        H5Fclose(f);
    rc = agree(comm, rc);
    if (rc == 0) {
        MPI_Allreduce(mn, gmn, (int)na, MPI_DOUBLE, MPI_MIN, comm);
        MPI_Allreduce(mx, gmx, (int)na, MPI_DOUBLE, MPI_MAX, comm);
        size_t j = 0;
        for (size_t k = 0; k < p->nd; k++)
            for (uint64_t c = 0; c < p->d[k].cols; c++) {
                if (!p->d[k].is_auto[c])
                    continue;
                double lo = gmn[j], hi = gmx[j++];
                if (lo > hi) { /* no finite value: numpy's range for no data */
                    lo = 0;
                    hi = 1;
                } else if (lo == hi) { /* one value: numpy widens by 0.5 */
                    lo -= 0.5;
                    hi += 0.5;
                    if (lo == hi || !isfinite(hi - lo)) { /* too large for 0.5 to count */
                        lo = nextafter(lo, -INFINITY);
                        hi = nextafter(hi, INFINITY);
                    }
                }
                p->d[k].lo[c] = lo;
                p->d[k].hi[c] = hi;
                if (!isfinite(hi - lo) && rc == 0) /* the same verdict on every rank */
                    rc = rank == 0 ? SHOAL_ERROR(SHOAL_ECONFIG,
                                                 "shoal_stats: the values of %s column %llu "
                                                 "span %g to %g, more than a double holds; "
                                                 "give [shoal_stats] range = %s=LO:HI",
                                                 p->d[k].path, (unsigned long long)c, lo, hi,
                                                 p->d[k].path)
                                   : SHOAL_ECONFIG;
            }
    }
    free(mn);
    free(mx);
    free(gmn);
    free(gmx);
    free(buf);
    return rc;
}

/* Bin edges as numpy.linspace(lo, hi, bins + 1): i * step + lo, rounded
 * after the product and after the sum, hi itself last; then a sentinel
 * +inf, where the search for a bin stops (shoal_stats.c). */
static void make_edges(stats_plan *p)
{
    uint64_t b = p->bins;
    for (size_t k = 0; k < p->nd; k++) {
        stats_dset *d = &p->d[k];
        for (uint64_t c = 0; c < d->cols; c++) {
            double lo = d->lo[c], hi = d->hi[c], step = (hi - lo) / (double)b;
            double *e = d->edges + c * (b + 2);
            for (uint64_t i = 0; i < b; i++) {
                volatile double t = (double)i * step; /* no fused multiply-add */
                e[i] = t + lo;
            }
            e[b] = hi;
            e[b + 1] = INFINITY;
            d->scale[c] = (double)b / (hi - lo);
        }
    }
}

/* ---- fields ------------------------------------------------------------------------- */

static int make_fields(stats_plan *p, const char *where)
{
    size_t nf = p->nd * NFIELDS_PER_DSET;
    p->fields = calloc(nf, sizeof *p->fields);
    p->names = calloc(nf, sizeof *p->names);
    if (!p->fields || !p->names)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the output fields");
    for (size_t k = 0; k < p->nd; k++) {
        stats_dset *d = &p->d[k];
        d->base = strdup(d->path + 1);
        if (!d->base)
            return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the output fields");
        for (char *c = d->base; *c; c++)
            if (*c == '/')
                *c = '_';
        d->first_field = p->nfields;
        uint64_t cols = d->cols;
        const struct {
            shoal_type type;
            uint64_t dim1; /* 0: [cols] */
            shoal_reduce reduce;
            const char *doc;
            const char *unit; /* counts; values keep the input's (unknown) unit */
        } table[NFIELDS_PER_DSET] = {
            [F_MOMENTS] = {SHOAL_FLOAT64, 3, SHOAL_REDUCE_MOMENTS,
                           "per column: count, mean and M2 (sum of squared deviations) of "
                           "the non-NaN values, mean in the input data's units, M2 in their "
                           "square; variance = M2 / (count - 1)", NULL},
            [F_MIN] = {SHOAL_FLOAT64, 0, SHOAL_REDUCE_MIN,
                       "per column: smallest non-NaN value (+inf when none), in the input "
                       "data's units", NULL},
            [F_MAX] = {SHOAL_FLOAT64, 0, SHOAL_REDUCE_MAX,
                       "per column: largest non-NaN value (-inf when none), in the input "
                       "data's units", NULL},
            [F_HIST] = {SHOAL_INT64, p->bins, SHOAL_REDUCE_SUM,
                        "per column: counts in bins edge[i] <= x < edge[i+1] (the last "
                        "bin with x == hi), edges numpy.linspace(lo, hi, bins + 1)", "1"},
            [F_OUTSIDE] = {SHOAL_INT64, 2, SHOAL_REDUCE_SUM,
                           "per column: values below lo, values above hi", "1"},
            [F_NAN] = {SHOAL_INT64, 0, SHOAL_REDUCE_SUM, "per column: NaN values", "1"},
            [F_RANGE] = {SHOAL_FLOAT64, 2, SHOAL_REDUCE_MIN,
                         "per column: the histogram range lo, hi, in the input data's units",
                         NULL},
        };
        for (int f = 0; f < NFIELDS_PER_DSET; f++) {
            size_t len = strlen(d->base) + strlen(suffix[f]) + 1;
            char *name = malloc(len);
            if (!name)
                return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the output fields");
            snprintf(name, len, "%s%s", d->base, suffix[f]);
            p->names[p->nfields] = name;
            shoal_field *fl = &p->fields[p->nfields++];
            fl->name = name;
            fl->type = table[f].type;
            fl->ndims = table[f].dim1 ? 2 : 1;
            fl->dims[0] = cols;
            fl->dims[1] = table[f].dim1;
            fl->doc = table[f].doc;
            fl->reduce = table[f].reduce;
            fl->unit = table[f].unit;
        }
    }
    /* Two datasets whose names differ only in '/' and '_' make the same
     * fields: refused, naming both. */
    for (size_t i = 0; i < p->nfields; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(p->names[i], p->names[j])) {
                const stats_dset *a = &p->d[j / NFIELDS_PER_DSET], *b = &p->d[i / NFIELDS_PER_DSET];
                return SHOAL_ERROR(SHOAL_ECONFIG,
                                   "%s: [input] datasets: '%s' and '%s' would both make the "
                                   "output field '%s' (fields are named after datasets, '/' "
                                   "turned into '_'); run shoal-stats once for each",
                                   where, a->path, b->path, p->names[i]);
            }
    return 0;
}

/* ---- the plan ----------------------------------------------------------------------- */

static int alloc_columns(stats_plan *p)
{
    for (size_t k = 0; k < p->nd; k++) {
        stats_dset *d = &p->d[k];
        d->lo = calloc(d->cols, sizeof *d->lo);
        d->hi = calloc(d->cols, sizeof *d->hi);
        d->scale = calloc(d->cols, sizeof *d->scale);
        d->is_auto = calloc(d->cols, 1);
        d->edges = calloc(d->cols * (p->bins + 2), sizeof *d->edges);
        if (!d->lo || !d->hi || !d->scale || !d->is_auto || !d->edges)
            return SHOAL_ERROR(SHOAL_ENOMEM, "shoal_stats: out of memory for the ranges of %s",
                               d->path);
    }
    return 0;
}

/* What the config says of [shoal_stats] and [input], with errors silenced:
 * a failure is one shoal_main reports (1). */
static int read_keys(shoal_config *cfg, stats_plan *p, const char **range, const char **datasets)
{
    long bins;
    const char *file = NULL, *output = NULL;
    const shoal_param *b = &stats_params[P_BINS];
    if (shoal_config_get_long(cfg, "shoal_stats", "bins", 0, strtol(b->dflt, NULL, 10),
                              (long)b->min, (long)b->max, &bins) < 0 ||
        shoal_config_get_string(cfg, "shoal_stats", "range", 0, stats_params[P_RANGE].dflt,
                                range) < 0 ||
        shoal_config_get_string(cfg, "input", "file", 0, NULL, &file) < 0 ||
        shoal_config_get_string(cfg, "input", "datasets", 0, NULL, datasets) < 0 ||
        shoal_config_get_string(cfg, "run", "output", 0, "shoal_stats.h5", &output) < 0 ||
        !file || !*datasets || !file[0] || !output[0])
        return 1;
    p->bins = (uint64_t)bins;
    p->file = strdup(file);
    p->output = strdup(output);
    if (!p->file || !p->output)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory");
    return 0;
}

/* The config's verdict, the same on every rank (no MPI): 0, 1 (defer) or
 * a code. */
static int read_config(stats_plan *p, shoal_config *cfg, range_spec *rs, const char **rtext,
                       const char **where)
{
    const char *datasets = NULL;
    shoal_error_handler *prev = shoal_set_error_handler(silent);
    int rc = read_keys(cfg, p, rtext, &datasets);
    shoal_set_error_handler(prev);
    if (rc < 0)
        return rc;
    const char *src = shoal_config_source(cfg);
    if (!shoal_config_has_section(cfg, "input"))
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: shoal_stats needs an [input] section naming the data: [input] "
                           "file = DATA.h5 and datasets = /x, /y",
                           src);
    static const char *const other[] = {"files", "list", "group_by"};
    for (int i = 0; i < 3; i++)
        if (shoal_config_has(cfg, "input", other[i]))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [input] %s: shoal_stats reads datasets of one HDF5 file; "
                               "give [input] file = DATA.h5 and datasets = /x, /y (run it once "
                               "per file)",
                               shoal_config_where(cfg, "input", other[i]), other[i]);
    if (rc != 0)
        return 1;
    p->default_size = !shoal_config_has(cfg, "input", "rows_per_task") &&
                      !shoal_config_has(cfg, "input", "bytes_per_task");
    *where = shoal_config_where(cfg, "shoal_stats", "range");
    *where = *where ? *where : src;
    rc = range_parse(*rtext, *where, rs);
    if (rc == 0)
        rc = split_datasets(p, datasets);
    if (rc == 0)
        rc = range_check_names(rs, p->d, p->nd, *where, *rtext, datasets);
    return rc;
}

/* After the shapes are known, the same on every rank: the histogram's
 * size, the ranges given, the fields. */
static int plan_fields(stats_plan *p, shoal_config *cfg, const range_spec *rs,
                       const char *rtext, const char *where)
{
    const char *src = shoal_config_source(cfg);
    for (size_t k = 0; k < p->nd; k++) {
        const stats_dset *d = &p->d[k];
        if (d->cols > HIST_BYTES_MAX / 8 / p->bins) {
            const char *bw = shoal_config_where(cfg, "shoal_stats", "bins");
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [shoal_stats] bins = %llu with the %llu columns of %s "
                               "makes a histogram of %.0f MiB per task; at most %llu MiB: use "
                               "at most %llu bins",
                               bw ? bw : src, (unsigned long long)p->bins,
                               (unsigned long long)d->cols, d->path,
                               (double)d->cols * (double)p->bins * 8 / 1048576.0,
                               (unsigned long long)(HIST_BYTES_MAX >> 20),
                               (unsigned long long)(HIST_BYTES_MAX / 8 / d->cols));
        }
    }
    int rc = alloc_columns(p);
    for (size_t k = 0; rc == 0 && k < p->nd; k++)
        rc = range_apply(rs, &p->d[k], where, rtext);
    const char *dw = shoal_config_where(cfg, "input", "datasets");
    return rc == 0 ? make_fields(p, dw ? dw : src) : rc;
}

/* The text of the ranges in effect, as one more --set. */
static int resolve(stats_plan *p, const char *rtext)
{
    int any_auto = 0;
    for (size_t k = 0; k < p->nd; k++)
        for (uint64_t c = 0; c < p->d[k].cols; c++)
            any_auto |= p->d[k].is_auto[c];
    make_edges(p);
    if (!any_auto || p->dry_run)
        return 0;
    char *text = range_text(p->d, p->nd, rtext, RANGE_TEXT_MAX);
    size_t len = text ? strlen(text) + 32 : 0;
    p->range_set = text ? malloc(len) : NULL;
    if (p->range_set)
        snprintf(p->range_set, len, "shoal_stats.range=%s", text);
    free(text);
    return p->range_set ? 0 : SHOAL_ERROR(SHOAL_ENOMEM, "out of memory");
}

int plan_build(stats_plan *p, int argc, char **argv, MPI_Comm comm)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    shoal_log_set_rank(rank, nranks);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* Until the range pass every rank reaches the same verdict from the
     * same text and shapes: rank 0 speaks for all. Each phase ends in an
     * agreement, so no rank meets a collective call alone. */
    shoal_error_handler *prev = rank != 0 ? shoal_set_error_handler(silent) : NULL;
    cmdline c;
    memset(&c, 0, sizeof c);
    shoal_config *cfg = NULL;
    range_spec rs;
    memset(&rs, 0, sizeof rs);
    const char *rtext = NULL, *where = NULL;
    c.sets = calloc((size_t)argc + 1, sizeof *c.sets);
    int rc = c.sets ? 0 : SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading the command line");
    if (rc == 0)
        scan_args(argc, argv, &c);
    rc = agree(comm, rc == 0 && c.bad ? 1 : rc);
    if (rc == 0) {
        shoal_error_handler *h = shoal_set_error_handler(silent);
        rc = load_config(&c, comm, rank, &cfg);
        shoal_set_error_handler(h);
        rc = rc == SHOAL_ENOMEM ? rc : rc < 0 ? 1 : 0;
        if (rc == 0)
            rc = read_config(p, cfg, &rs, &rtext, &where);
        rc = agree(comm, rc);
    }
    if (rc == 0)
        rc = agree(comm, share_shapes(p, rank, comm));
    if (rc == 0)
        rc = agree(comm, plan_fields(p, cfg, &rs, rtext, where));
    if (rank != 0)
        shoal_set_error_handler(prev);
    /* From here each rank reports its own read errors. */
    p->dry_run = c.dry_run;
    if (rc == 0 && !c.dry_run)
        rc = auto_ranges(p, rank, nranks, comm);
    if (rc == 0) {
        rc = resolve(p, rtext);
        if (rc == 0)
            rc = make_argv(p, argc, argv, c.end, NULL);
        rc = agree(comm, rc);
    } else if (rc == 1) {
        /* shoal_main finds the mistake and says it in its own words. */
        if (!p->defer_why)
            p->defer_why = strdup("the command line, config or input is not usable");
        rc = make_argv(p, argc, argv, c.end, "--dry-run");
        rc = agree(comm, rc < 0 ? rc : PLAN_DEFER);
    }
    range_free(&rs);
    shoal_config_free(cfg);
    free(c.sets);
    return rc;
}

void plan_free(stats_plan *p)
{
    for (size_t k = 0; p->d && k < p->nd; k++) {
        stats_dset *d = &p->d[k];
        free(d->path);
        free(d->base);
        free(d->lo);
        free(d->hi);
        free(d->is_auto);
        free(d->edges);
        free(d->scale);
    }
    for (size_t i = 0; p->names && i < p->nfields; i++)
        free(p->names[i]);
    free(p->d);
    free(p->names);
    free(p->fields);
    free(p->output);
    free(p->file);
    free(p->argv);
    free(p->range_set);
    free(p->defer_why);
    memset(p, 0, sizeof *p);
}

int plan_exit_status(int rc)
{
    return rc == SHOAL_ECONFIG || rc == SHOAL_EUSAGE ? SHOAL_EXIT_USAGE : SHOAL_EXIT_ERROR;
}
