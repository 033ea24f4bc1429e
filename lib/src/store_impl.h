/* store_impl.h (internal): what the store's files share — the store object,
 * the schema binding used by both create and open, and the row primitive.
 *
 *   store.c          the schema: every dataset bound through one function,
 *                    open, close, the store object
 *   store_create.c   a new file, built under .part and renamed into place
 *   store_rows.c     row writing and the status column
 *   store_resume.c   reopening a file: its structure and its fingerprint
 *   store_input.c    /input: what the run read ([input])
 *   failures.c       the /failures table (shared with the reader) */
#ifndef SHOAL_STORE_IMPL_H
#define SHOAL_STORE_IMPL_H

#include "store.h"

#include <hdf5.h>

#define SHOAL__HOST_LEN 64

/* The per-task bookkeeping columns under /tasks. */
enum { COL_STATUS, COL_RANK, COL_SECONDS, COL_ERROR, COL_ATTEMPTS, NCOLS };

/* One bound dataset: its handle, its file dataspace and the memory type
 * rows are written in. */
typedef struct {
    hid_t dset, space, mtype;
    int ndims;                       /* 1 + the field's own dimensions */
    hsize_t dims[SHOAL_MAX_DIMS + 1];
} shoal__dset;

struct shoal_store {
    MPI_Comm comm;
    int rank, nranks;
    hid_t file, dxpl;
    uint64_t ntasks;
    size_t nfields, nparams;
    shoal__dset *field;             /* /results/<field> */
    shoal__dset col[NCOLS];         /* /tasks/<column> */
    shoal__dset *param;             /* /params/<name> */
    int with_points;
    shoal__dset point, replicate;   /* /tasks/point, /tasks/replicate */
    uint64_t fail_base;             /* /failures slots kept from earlier runs */
    size_t nlogged;                 /* this rank's failure entries written */
    char path[4096];
};

typedef enum { SHOAL__BIND_CREATE, SHOAL__BIND_OPEN } shoal__bind_mode;

/* The store object for spec with its arrays allocated; NULL when out of
 * memory. Its file is not open yet. */
shoal_store *shoal__store_alloc(MPI_Comm comm, const shoal_store_spec *spec);
/* Close whatever is open and free s; NULL does nothing. */
void shoal__store_free(shoal_store *s);

/* Collective: open path for the run (create = 1: a new file, truncating one
 * there; 0: read-write). Every rank gets the same verdict; rank 0 says why
 * it failed. Also sets up s->dxpl. */
int shoal__store_open_file(shoal_store *s, const char *path, int create);

/* Collective: create (with their doc attributes) or open every per-task
 * dataset of spec's schema — /results, /tasks, /params and the point
 * columns — into s. Open checks that each exists with the shape and type
 * the run writes. On failure, rank 0 has reported which dataset and why;
 * every rank returns the same code only after shoal__agree. */
int shoal__store_bind(shoal_store *s, const shoal_store_spec *spec,
                      shoal__bind_mode mode);

/* Collective: /ranks for this run's ranks (replacing an earlier run's), the
 * host names written by rank 0. */
int shoal__store_make_ranks(shoal_store *s, const char *hosts_all);
/* Collective: every rank's host name, SHOAL__HOST_LEN bytes each, malloc'd. */
char *shoal__store_gather_hosts(shoal_store *s);

/* After a collective call: this rank's result (or a failure injected at
 * step `name`), agreed by every rank, so that no rank goes on to the next
 * collective call alone. */
int shoal__store_step(shoal_store *s, const char *name, int rc);

/* Collective: a contiguous dataset allocated at creation; fill_zero: its
 * unwritten entries read as 0. */
hid_t shoal__store_make_dataset(hid_t loc, const char *name, hid_t ftype, int ndims,
                                const hsize_t *dims, int fill_zero);

/* The per-rank statistics under /ranks, in the order of
 * shoal_store_rank_stats. */
#define SHOAL__NRANK_STATS 5
extern const char *const shoal__rank_stats[SHOAL__NRANK_STATS];

/* Collective: /input for spec->input (nothing when NULL); rank 0 writes a
 * file list's rows. */
int shoal__store_input_create(shoal_store *s, const shoal_store_input *in);

/* Independent: write rows [start, start + count) of one dataset. */
int shoal__store_write_block(const shoal__dset *d, uint64_t start, uint64_t count,
                             hid_t dxpl, const void *buf);

#endif
