/* What every signal's rows share: the resource and the instrumentation scope, each decoded once
 * per ResourceX / ScopeX message and referenced from each row by an index (the rows' Arrow
 * dictionary columns), plus the rejection count and the first reason, for partial_success. */
#ifndef OBSVTY_SHARED_H
#define OBSVTY_SHARED_H

#include <stdarg.h>

#include "typed_json.h"

enum {
    R_SERVICE, R_ATTRS, R_DROPPED, R_SCHEMA, /* resource */
    S_NAME, S_VERSION, S_ATTRS, S_DROPPED, S_SCHEMA, /* scope */
    SHARED_COLUMNS
};

static const char SHARED_FMT[SHARED_COLUMNS] = {'u', 'u', 'I', 'u', 'u', 'u', 'u', 'I', 'u'};

typedef struct {
    col_t values[SHARED_COLUMNS]; /* one entry per resource (R_*) or scope (S_*) */
    col_t resource_index, scope_index; /* one entry per row */
    int32_t resources, scopes; /* how many entries R_* and S_* hold */
    slices_t attrs; /* scratch */
    int64_t rejected;
    char first_error[256];
} shared_t;

static int shared_init(shared_t *sh) {
    memset(sh, 0, sizeof(*sh));
    for (int i = 0; i < SHARED_COLUMNS; i++)
        TRY(col_init(&sh->values[i], SHARED_FMT[i], 0));
    TRY(col_init(&sh->resource_index, 'i', 0));
    return col_init(&sh->scope_index, 'i', 0);
}

static void shared_free(shared_t *sh) {
    for (int i = 0; i < SHARED_COLUMNS; i++)
        col_free(&sh->values[i]);
    col_free(&sh->resource_index);
    col_free(&sh->scope_index);
    slices_free(&sh->attrs);
}

static void reject(shared_t *sh, const char *fmt, ...) {
    if (sh->rejected++ == 0) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(sh->first_error, sizeof(sh->first_error), fmt, args);
        va_end(args);
    }
}

static int row_shared(shared_t *sh) {
    TRY(col_i32(&sh->resource_index, sh->resources - 1));
    return col_i32(&sh->scope_index, sh->scopes - 1);
}

static int all_zero(slice_t s) {
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i])
            return 0;
    return 1;
}

static const uint8_t UNKNOWN_SERVICE[] = "unknown_service";

/* a Resource message (absent: n == 0) and its container's schema_url */
static int resource_add(shared_t *sh, slice_t res, slice_t schema_url) {
    rd_t r = {res.p, res.p + res.n};
    uint64_t dropped = 0;
    sh->attrs.n = 0;
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        TRY(rd_tag(&r, &field, &wt));
        if (field == 1) {
            slice_t s;
            TRY(rd_bytes(&r, wt, &s));
            TRY(slices_push(&sh->attrs, s));
        } else if (field == 2) {
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&r, &dropped));
        } else if (field == 3) {
            return FALLBACK; /* entity_refs: parsed (and checked) by the reference decoder */
        } else {
            TRY(rd_skip(&r, wt));
        }
    }
    col_t *v = sh->values;
    TRY(json_keyvalues(&v[R_ATTRS].data, sh->attrs.v, sh->attrs.n, 0));
    TRY(col_str_close(&v[R_ATTRS]));
    slice_t name;
    TRY(service_name(sh->attrs.v, sh->attrs.n, &name));
    if (name.n == 0)
        TRY(col_str(&v[R_SERVICE], UNKNOWN_SERVICE, sizeof(UNKNOWN_SERVICE) - 1));
    else
        TRY(col_str(&v[R_SERVICE], name.p, name.n));
    TRY(col_u32(&v[R_DROPPED], (uint32_t)dropped));
    TRY(col_str(&v[R_SCHEMA], schema_url.p, schema_url.n));
    sh->resources++;
    return OK;
}

/* an InstrumentationScope message (absent: n == 0) and its container's schema_url */
static int scope_add(shared_t *sh, slice_t scope, slice_t schema_url) {
    rd_t r = {scope.p, scope.p + scope.n};
    uint64_t dropped = 0;
    slice_t name = {scope.p, 0}, version = {scope.p, 0};
    sh->attrs.n = 0;
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        TRY(rd_tag(&r, &field, &wt));
        switch (field) {
        case 1:
            TRY(rd_string(&r, wt, &name));
            break;
        case 2:
            TRY(rd_string(&r, wt, &version));
            break;
        case 3: {
            slice_t s;
            TRY(rd_bytes(&r, wt, &s));
            TRY(slices_push(&sh->attrs, s));
            break;
        }
        case 4:
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&r, &dropped));
            break;
        default:
            TRY(rd_skip(&r, wt));
        }
    }
    col_t *v = sh->values;
    TRY(col_str(&v[S_NAME], name.p, name.n));
    TRY(col_str(&v[S_VERSION], version.p, version.n));
    TRY(json_keyvalues(&v[S_ATTRS].data, sh->attrs.v, sh->attrs.n, 0));
    TRY(col_str_close(&v[S_ATTRS]));
    TRY(col_u32(&v[S_DROPPED], (uint32_t)dropped));
    TRY(col_str(&v[S_SCHEMA], schema_url.p, schema_url.n));
    sh->scopes++;
    return OK;
}

/* The fields of a ResourceX (resource = 1, the repeated scopes = 2, schema_url = 3) or ScopeX
 * (scope = 1, the repeated items = 2, schema_url = 3) message: all three containers of every
 * signal share this layout. The singular message given twice is merged by protobuf: FALLBACK. */
static int container_read(slice_t msg, slice_t *head, slice_t *schema_url) {
    rd_t r = {msg.p, msg.p + msg.n};
    int heads = 0;
    head->p = schema_url->p = msg.p;
    head->n = schema_url->n = 0;
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        slice_t s;
        TRY(rd_tag(&r, &field, &wt));
        if (field == 1) {
            TRY(rd_bytes(&r, wt, head));
            heads++;
        } else if (field == 2) {
            TRY(rd_bytes(&r, wt, &s));
        } else if (field == 3) {
            TRY(rd_string(&r, wt, schema_url));
        } else {
            TRY(rd_skip(&r, wt));
        }
    }
    return heads > 1 ? FALLBACK : OK;
}

/* next occurrence of field 2 in a container already checked by container_read */
static int container_next(rd_t *r, slice_t *item) {
    while (r->p < r->end) {
        uint32_t field;
        int wt;
        TRY(rd_tag(r, &field, &wt));
        if (field == 2) {
            TRY(rd_len(r, item));
            return OK;
        }
        TRY(rd_skip(r, wt));
    }
    item->p = NULL;
    return OK;
}

/* Columns of shared values as dictionary arrays: children[i] indexes values[i] (emptied) with
 * its own copy of `index` (one entry per row; every child of an ArrowArray owns its buffers). */
static int dict_export(col_t *values, int n, const col_t *index, struct ArrowArray **children) {
    for (int i = 0; i < n; i++) {
        col_t copy;
        TRY(col_init(&copy, 'i', 0));
        if (buf_put(&copy.data, index->data.data, index->data.len) != OK) {
            col_free(&copy);
            return NOMEM;
        }
        copy.length = index->length;
        struct ArrowArray *dict = calloc(1, sizeof(struct ArrowArray));
        if (dict == NULL || col_export(&values[i], dict, NULL) != OK) {
            free(dict);
            col_free(&copy);
            return NOMEM;
        }
        if (col_export(&copy, children[i], dict) != OK) {
            col_free(&copy);
            return NOMEM;
        }
    }
    return OK;
}

/* Exports the row's shared columns (dictionary arrays) into children[0..SHARED_COLUMNS). */
static int shared_export(shared_t *sh, struct ArrowArray **children) {
    TRY(dict_export(sh->values, S_NAME, &sh->resource_index, children));
    return dict_export(sh->values + S_NAME, SHARED_COLUMNS - S_NAME, &sh->scope_index,
                       children + S_NAME);
}

/* The ResourceX messages of an export request (its field 1), each with its ScopeX messages, each
 * with its items: every resource and scope added to `sh` (so rows can refer to them), every item
 * handed to `item(ctx, its bytes)`. */
static int request_decode(shared_t *sh, const uint8_t *p, size_t n, int (*item)(void *, slice_t),
                          void *ctx) {
    if (n == 0)
        return OK; /* (p may then be NULL: an empty transcoded document) */
    rd_t req = {p, p + n};
    while (req.p < req.end) {
        uint32_t field;
        int wt;
        slice_t rx;
        TRY(rd_tag(&req, &field, &wt));
        if (field != 1) {
            TRY(rd_skip(&req, wt));
            continue;
        }
        TRY(rd_bytes(&req, wt, &rx));
        slice_t resource, schema;
        TRY(container_read(rx, &resource, &schema));
        TRY(resource_add(sh, resource, schema));
        rd_t rr = {rx.p, rx.p + rx.n};
        for (;;) {
            slice_t sx;
            TRY(container_next(&rr, &sx));
            if (sx.p == NULL)
                break;
            slice_t scope, scope_schema;
            TRY(container_read(sx, &scope, &scope_schema));
            TRY(scope_add(sh, scope, scope_schema));
            rd_t sr = {sx.p, sx.p + sx.n};
            for (;;) {
                slice_t it;
                TRY(container_next(&sr, &it));
                if (it.p == NULL)
                    break;
                TRY(item(ctx, it));
            }
        }
    }
    return OK;
}

/* The rows as a record batch: the signal's own `n` columns, then the shared ones. */
static int rows_export(col_t *cols, int n, shared_t *sh, struct ArrowArray *out) {
    TRY(batch_alloc(out, cols[0].length, n + SHARED_COLUMNS));
    for (int i = 0; i < n; i++)
        if (col_export(&cols[i], out->children[i], NULL) != OK) {
            out->release(out);
            return NOMEM;
        }
    if (shared_export(sh, out->children + n) != OK) {
        out->release(out);
        return NOMEM;
    }
    return OK;
}

#endif
