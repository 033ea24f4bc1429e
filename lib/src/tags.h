/* tags.h (internal): every MPI tag Shoal uses, in one place. */
#ifndef SHOAL_TAGS_H
#define SHOAL_TAGS_H

enum shoal__tag {
    SHOAL__TAG_REQUEST = 7101, /* worker -> master: int64[3] {done, busy_ns, flags} */
    SHOAL__TAG_RANGE = 7102    /* master -> worker: int64[2] {start, count}; count 0 = stop */
};

/* Flags in a request. */
enum {
    SHOAL__REQ_FAILED = 1,  /* this rank cannot go on: stop, run failed */
    SHOAL__REQ_STOPPED = 2  /* this rank was asked to stop: stop, resumable */
};

#endif
