/* Output field and parameter declarations shared by the store, the scan and
 * apps. */
#ifndef SHOAL_TYPES_H
#define SHOAL_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    SHOAL_INT64 = 1,   /* int64_t */
    SHOAL_FLOAT64 = 2, /* double */
    SHOAL_STRING = 3   /* parameters only: a string */
} shoal_type;

#define SHOAL_MAX_DIMS 4

/* One output field: /results/<name> of shape [ntasks, dims...]. A scalar has
 * ndims 0. Use designated initialisers: { "pi", SHOAL_FLOAT64 }. */
typedef struct {
    const char *name;
    shoal_type type;
    int ndims;                     /* 0..SHOAL_MAX_DIMS */
    uint64_t dims[SHOAL_MAX_DIMS]; /* extent of each extra dimension */
    const char *doc;               /* stored as the dataset's "doc" attribute */
} shoal_field;

/* Number of elements of one task's row of a field (1 for a scalar). */
static inline uint64_t shoal_field_width(const shoal_field *f)
{
    uint64_t w = 1;
    for (int d = 0; d < f->ndims; d++)
        w *= f->dims[d];
    return w;
}

/* One app parameter, read from the app's config section. */
typedef struct {
    const char *name;
    shoal_type type;  /* SHOAL_INT64, SHOAL_FLOAT64 or SHOAL_STRING */
    const char *dflt; /* default value as text; NULL: the key is required */
    const char *doc;  /* one line for --help */
    double min, max;  /* inclusive bounds, enforced when min < max */
    const char *choices; /* strings: allowed values "a|b|c" (NULL: any) */
} shoal_param;

#endif
