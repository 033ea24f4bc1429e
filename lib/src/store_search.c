/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_search.c: /search, the state of a search (search.h), in the
 * result file.
 *
 *   /search/point, /search/rung [ntasks] int64   each task's configuration
 *       (the scan point whose parameters it ran) and rung; -1 until decided
 *   /search/budget [ntasks]                      its budget (the budget
 *       parameter's type; -1 or NaN until decided)
 *   /search/rung_budget, rung_size, rung_done, rung_best, rung_best_point
 *       [search_rung]: each rung's budget, planned and finished tasks, best
 *       objective and its configuration (rewritten as the search goes); the
 *       dimension scale /search_rung names their axis (not "rung": xarray
 *       would take /search/rung, a per-task column, for its coordinate)
 *   attributes of /search: method, budget_param, objective, goal, eta; at
 *       the end best_point, best_value, best_task
 * Created with the file (collective); rank 0 writes the rows. */
#include <shoal/error.h>

#include "h5util.h"
#include "store_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { S_POINT, S_RUNG, S_BUDGET, S_RBUDGET, S_RSIZE, S_RDONE, S_RBEST, S_RBESTP };

static const int64_t minus_one = -1;
static const double nan_value = NAN;

static int bind(shoal_store *s, shoal__bind_mode mode, int which, const char *name,
                uint64_t len, const char *outer, int is_int, const char *doc, char *why,
                size_t nwhy)
{
    shoal__dset *d = &s->search[which];
    d->ndims = 1;
    d->dims[0] = len;
    d->mtype = is_int ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
    shoal__dset_meta meta = {outer, NULL, NULL, doc, 0};
    return shoal__store_step(
        s, mode == SHOAL__BIND_CREATE ? "bind" : "rebind",
        shoal__store_bind_one(s, mode, "search", name, is_int ? H5T_STD_I64LE : H5T_IEEE_F64LE,
                              is_int ? (const void *)&minus_one : (const void *)&nan_value,
                              &meta, d, why, nwhy));
}

int shoal__store_search_bind(shoal_store *s, const shoal_store_spec *spec,
                             shoal__bind_mode mode, char *why, size_t nwhy)
{
    if (spec->search_rungs <= 0)
        return 0;
    s->search_on = 1;
    s->search_rungs = spec->search_rungs;
    int rc = 0;
    if (mode == SHOAL__BIND_CREATE) {
        hid_t g = H5Gcreate2(s->file, "search", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        rc = g < 0 ? SHOAL_EHDF5 : 0;
        if (rc == 0) {
            rc |= shoal__attr_str(g, "method", spec->search_method);
            rc |= shoal__attr_str(g, "budget_param", spec->search_budget);
            rc |= shoal__attr_str(g, "objective", spec->search_objective);
            rc |= shoal__attr_str(g, "goal", spec->search_goal);
            rc |= shoal__attr_i64(g, "eta", spec->search_eta);
            H5Gclose(g);
        }
        if (rc == 0)
            rc = shoal__dim_create(s->file, "search_rung", (uint64_t)spec->search_rungs, 0);
        if (rc != 0) {
            snprintf(why, nwhy, "cannot create /search");
            rc = SHOAL_EHDF5;
        }
        rc = shoal__store_step(s, "bind", rc);
    }
    int bi = spec->search_budget_int;
    uint64_t nt = spec->ntasks, nr = (uint64_t)spec->search_rungs;
    if (rc == 0)
        rc = bind(s, mode, S_POINT, "point", nt, SHOAL__DIM_TASK, 1,
                  "the task's configuration: the scan point whose parameters it ran", why,
                  nwhy);
    if (rc == 0)
        rc = bind(s, mode, S_RUNG, "rung", nt, SHOAL__DIM_TASK, 1,
                  "the task's rung of successive halving (0: the smallest budget)", why,
                  nwhy);
    if (rc == 0)
        rc = bind(s, mode, S_BUDGET, "budget", nt, SHOAL__DIM_TASK, bi,
                  "the task's budget (the value of the budget parameter it ran with)", why,
                  nwhy);
    if (rc == 0)
        rc = bind(s, mode, S_RBUDGET, "rung_budget", nr, "search_rung", 0, "each rung's budget",
                  why, nwhy);
    if (rc == 0)
        rc = bind(s, mode, S_RSIZE, "rung_size", nr, "search_rung", 1, "tasks planned per rung",
                  why, nwhy);
    if (rc == 0)
        rc = bind(s, mode, S_RDONE, "rung_done", nr, "search_rung", 1, "tasks finished per rung",
                  why, nwhy);
    if (rc == 0)
        rc = bind(s, mode, S_RBEST, "rung_best", nr, "search_rung", 0,
                  "the best objective in the rung (NaN: none)", why, nwhy);
    if (rc == 0)
        rc = bind(s, mode, S_RBESTP, "rung_best_point", nr, "search_rung", 1,
                  "the configuration that reached it (-1: none)", why, nwhy);
    return rc;
}

void shoal__store_search_close(shoal_store *s)
{
    for (int i = 0; i < SHOAL__SEARCH_DSETS; i++)
        shoal__dset_close(&s->search[i]);
}

int shoal__store_search_write(shoal_store *s, uint64_t start, uint64_t n, const int64_t *point,
                              const int64_t *rung, const void *budget)
{
    int rc = shoal__store_write_block(&s->search[S_POINT], start, n, s->dxpl, point);
    if (rc == 0)
        rc = shoal__store_write_block(&s->search[S_RUNG], start, n, s->dxpl, rung);
    if (rc == 0)
        rc = shoal__store_write_block(&s->search[S_BUDGET], start, n, s->dxpl, budget);
    return rc;
}

int shoal__store_search_read(shoal_store *s, int64_t *point, int64_t *rung)
{
    int rc = shoal__store_read_block(&s->search[S_POINT], 0, 1, s->ntasks, s->dxpl, point);
    if (rc == 0)
        rc = shoal__store_read_block(&s->search[S_RUNG], 0, 1, s->ntasks, s->dxpl, rung);
    return rc;
}

int shoal__store_search_rungs(shoal_store *s, const double *budget, const int64_t *size,
                              const int64_t *done, const double *best, const int64_t *best_point)
{
    uint64_t n = (uint64_t)s->search_rungs;
    int rc = shoal__store_write_block(&s->search[S_RBUDGET], 0, n, s->dxpl, budget);
    if (rc == 0)
        rc = shoal__store_write_block(&s->search[S_RSIZE], 0, n, s->dxpl, size);
    if (rc == 0)
        rc = shoal__store_write_block(&s->search[S_RDONE], 0, n, s->dxpl, done);
    if (rc == 0)
        rc = shoal__store_write_block(&s->search[S_RBEST], 0, n, s->dxpl, best);
    if (rc == 0)
        rc = shoal__store_write_block(&s->search[S_RBESTP], 0, n, s->dxpl, best_point);
    return rc;
}

void shoal_store_set_search_best(shoal_store *s, int64_t point, double value, int64_t task)
{
    s->search_best_set = 1;
    s->search_best_point = point;
    s->search_best_value = value;
    s->search_best_task = task;
}

int shoal__store_search_end(shoal_store *s)
{
    if (!s->search_on || !s->search_best_set)
        return 0;
    hid_t g = H5Gopen2(s->file, "search", H5P_DEFAULT);
    if (g < 0)
        return SHOAL_EHDF5;
    int rc = shoal__attr_i64(g, "best_point", s->search_best_point);
    rc |= shoal__attr_double(g, "best_value", s->search_best_value);
    rc |= shoal__attr_i64(g, "best_task", s->search_best_task);
    H5Gclose(g);
    return rc ? SHOAL_EHDF5 : 0;
}
