/* ExportMetricsServiceRequest -> the columns of obsvty's `metric_points` table (see
 * obsvty/adapters/storage/duckdb/schema.py and duckdb/tables.py metric_table), validating each
 * metric and data point as obsvty/adapters/otlp/to_domain.py (metrics, _metric_points, _append_point,
 * _exemplars) and obsvty/domain/validation.py do, in the same order, with the same reasons.
 *
 * The reference parses the request with the official message classes, so protobuf checks every
 * byte of it up front, stored or not: here too every metric, data point, exemplar and attribute
 * is read and checked (attributes by writing their JSON, taken back when the point is not
 * stored), and anything malformed answers FALLBACK. Reasons name the metric through Python's
 * repr: written here for names of printable ASCII without quotes or backslashes ('name'), and
 * left to the reference (FALLBACK) when the first reason would name any other.
 *
 * Longer than the project's ~450-line bound on purpose: five point kinds share one walk over a
 * metric and one validation order, which splitting would duplicate.
 */
#ifndef OBSVTY_METRICS_H
#define OBSVTY_METRICS_H

#include <inttypes.h>

#include "shared.h"

/* what every point of one metric shares: one entry per metric, a dictionary column per field */
enum {
    MD_NAME, MD_DESCRIPTION, MD_UNIT, MD_TYPE, MD_TEMPORALITY, MD_MONOTONIC, MD_METADATA,
    METRIC_DESCRIPTOR_COLUMNS
};
static const char METRIC_DESCRIPTOR_FMT[METRIC_DESCRIPTOR_COLUMNS] = {'u', 'u', 'u', 'u',
                                                                      'C', 'b', 'u'};

/* the point columns, in metric_table's order; '+' marks a list column (see METRIC_LIST_OF) */
enum {
    MP_START, MP_TIME, MP_ATTRS, MP_FLAGS, MP_EXEMPLARS, MP_VALUE_INT, MP_VALUE_DOUBLE, MP_COUNT,
    MP_SUM, MP_MIN, MP_MAX, MP_BUCKETS, MP_BOUNDS, MP_SCALE, MP_ZERO_COUNT, MP_ZERO_THRESHOLD,
    MP_POS_OFFSET, MP_POS_BUCKETS, MP_NEG_OFFSET, MP_NEG_BUCKETS, MP_QUANTILES, METRIC_POINT_COLUMNS
};
static const char METRIC_POINT_FMT[METRIC_POINT_COLUMNS] = {
    'l', 'l', 'u', 'I', 'u', 'l', 'g', 'L', 'g', 'g', 'g',
    '+', '+', 'i', 'L', 'g', 'i', '+', 'i', '+', 'u'};
static const char METRIC_POINT_NULLABLE[METRIC_POINT_COLUMNS] = {
    0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0};

enum { ML_BUCKETS, ML_BOUNDS, ML_POS, ML_NEG, METRIC_LISTS };
static const char METRIC_LIST_FMT[METRIC_LISTS] = {'L', 'g', 'L', 'L'};

/* Metric's data oneof, by field number */
enum { MK_GAUGE = 5, MK_SUM = 7, MK_HISTOGRAM = 9, MK_EXPONENTIAL = 10, MK_SUMMARY = 11 };

static int metric_list_of(int column) {
    switch (column) {
    case MP_BUCKETS: return ML_BUCKETS;
    case MP_BOUNDS: return ML_BOUNDS;
    case MP_POS_BUCKETS: return ML_POS;
    case MP_NEG_BUCKETS: return ML_NEG;
    default: return -1;
    }
}

static const char *metric_type_name(int kind) {
    switch (kind) {
    case MK_GAUGE: return "gauge";
    case MK_SUM: return "sum";
    case MK_HISTOGRAM: return "histogram";
    case MK_EXPONENTIAL: return "exponential_histogram";
    default: return "summary";
    }
}

#define METRIC_MAX_TIMESTAMP INT64_MAX

typedef struct {
    col_t desc[METRIC_DESCRIPTOR_COLUMNS]; /* one entry per stored metric */
    col_t desc_index;                      /* one per row */
    int32_t descriptors;
    col_t cols[METRIC_POINT_COLUMNS]; /* the list positions stay empty: see lists */
    list_t lists[METRIC_LISTS];
    shared_t shared;
    slices_t metadata, attrs, exemplars, quantiles, inner; /* scratch */
} metrics_t;

/* one data point's scalar fields (any point type) */
typedef struct {
    uint64_t start, time, count, zero_count, flags, value;
    int value_kind; /* 0: none, 1: as_double, 2: as_int */
    double sum, min, max, zero_threshold;
    int has_sum, has_min, has_max;
    int32_t scale, pos_offset, neg_offset;
} metric_point_t;

enum { MV_NONE, MV_DOUBLE, MV_INT };

/* a metric's own checks: none, or the point rejections they make */
enum { MPROBLEM_NONE, MPROBLEM_NO_NAME, MPROBLEM_TEMPORALITY };

static int metrics_init(metrics_t *m) {
    memset(m, 0, sizeof(*m));
    for (int i = 0; i < METRIC_DESCRIPTOR_COLUMNS; i++)
        TRY(col_init(&m->desc[i], METRIC_DESCRIPTOR_FMT[i], 0));
    TRY(col_init(&m->desc_index, 'i', 0));
    for (int i = 0; i < METRIC_POINT_COLUMNS; i++)
        TRY(col_init(&m->cols[i], METRIC_POINT_FMT[i], METRIC_POINT_NULLABLE[i]));
    for (int i = 0; i < METRIC_LISTS; i++)
        TRY(list_init(&m->lists[i], METRIC_LIST_FMT[i]));
    return shared_init(&m->shared);
}

static void metrics_free(metrics_t *m) {
    for (int i = 0; i < METRIC_DESCRIPTOR_COLUMNS; i++)
        col_free(&m->desc[i]);
    col_free(&m->desc_index);
    for (int i = 0; i < METRIC_POINT_COLUMNS; i++)
        col_free(&m->cols[i]);
    for (int i = 0; i < METRIC_LISTS; i++)
        list_free(&m->lists[i]);
    shared_free(&m->shared);
    slices_free(&m->metadata);
    slices_free(&m->attrs);
    slices_free(&m->exemplars);
    slices_free(&m->quantiles);
    slices_free(&m->inner);
}

/* Python's repr of the name is 'name': printable ASCII, no quote, no backslash */
static int metric_name_plain(slice_t name) {
    for (size_t i = 0; i < name.n; i++) {
        uint8_t c = name.p[i];
        if (c < 0x20 || c > 0x7e || c == '\'' || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

/* a rejection whose reason is "metric '<name>'" followed by `what` */
static int metric_reject(metrics_t *m, slice_t name, const char *what) {
    shared_t *sh = &m->shared;
    if (sh->rejected == 0) { /* the reason is kept: it must be exactly the reference's */
        if (!metric_name_plain(name) ||
            name.n + strlen(what) + 10 >= sizeof(sh->first_error))
            return FALLBACK;
    }
    /* (only the first reason is formatted: its length was checked above) */
    reject(sh, "metric '%.*s'%s", (int)(name.n < 256 ? name.n : 0), (const char *)name.p, what);
    return OK;
}

/* ---- reading */

/* repeated fixed64 or double (8 bytes each), packed or not, into list l */
static int metric_rep_fixed64(rd_t *r, int wt, list_t *l) {
    uint64_t v;
    if (wt == WT_I64) {
        TRY(rd_fixed64(r, &v));
        return list_put8(l, v);
    }
    EXPECT(wt, WT_LEN);
    slice_t s;
    TRY(rd_len(r, &s));
    if (s.n % 8)
        return FALLBACK;
    TRY(buf_reserve(&l->values.data, s.n));
    rd_t in = {s.p, s.p + s.n};
    while (in.p < in.end) {
        TRY(rd_fixed64(&in, &v));
        TRY(list_put8(l, v));
    }
    return OK;
}

/* repeated uint64 (varints), packed or not, into list l */
static int metric_rep_varint(rd_t *r, int wt, list_t *l) {
    uint64_t v;
    if (wt == WT_VARINT) {
        TRY(rd_varint(r, &v));
        return list_put8(l, v);
    }
    EXPECT(wt, WT_LEN);
    slice_t s;
    TRY(rd_len(r, &s));
    rd_t in = {s.p, s.p + s.n};
    while (in.p < in.end) {
        TRY(rd_varint(&in, &v));
        TRY(list_put8(l, v));
    }
    return OK;
}

static inline int metric_double(rd_t *r, int wt, double *out) {
    uint64_t bits;
    EXPECT(wt, WT_I64);
    TRY(rd_fixed64(r, &bits));
    memcpy(out, &bits, sizeof(*out));
    return OK;
}

static inline int32_t metric_sint32(uint64_t v) {
    uint32_t n = (uint32_t)v; /* protobuf keeps the low 32 bits, then undoes the zigzag */
    return (int32_t)((n >> 1) ^ (~(n & 1) + 1));
}

/* ExponentialHistogramDataPoint.Buckets */
static int metric_buckets_read(slice_t msg, int32_t *offset, list_t *counts) {
    rd_t r = {msg.p, msg.p + msg.n};
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        uint64_t v;
        TRY(rd_tag(&r, &field, &wt));
        if (field == 1) {
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&r, &v));
            *offset = metric_sint32(v);
        } else if (field == 2) {
            TRY(metric_rep_varint(&r, wt, counts));
        } else {
            TRY(rd_skip(&r, wt));
        }
    }
    return OK;
}

/* A data point of any type into pt; its attributes, exemplars and quantile values as slices
 * (m->attrs, m->exemplars, m->quantiles), its bucket counts and bounds appended to the open lists.
 * Field numbers differ between the point types: read with each type's own. */
static int metric_point_read(metrics_t *m, int kind, slice_t msg, metric_point_t *pt) {
    rd_t r = {msg.p, msg.p + msg.n};
    int positives = 0, negatives = 0;
    memset(pt, 0, sizeof(*pt));
    m->attrs.n = m->exemplars.n = m->quantiles.n = 0;
    /* field numbers of this point type: attributes, exemplars, flags */
    uint32_t f_attrs, f_exemplars, f_flags;
    switch (kind) {
    case MK_GAUGE:
    case MK_SUM: f_attrs = 7; f_exemplars = 5; f_flags = 8; break;
    case MK_HISTOGRAM: f_attrs = 9; f_exemplars = 8; f_flags = 10; break;
    case MK_EXPONENTIAL: f_attrs = 1; f_exemplars = 11; f_flags = 10; break;
    default: f_attrs = 7; f_exemplars = 0; f_flags = 8; break; /* summary: no exemplars */
    }
    int number = kind == MK_GAUGE || kind == MK_SUM;
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        uint64_t v;
        slice_t s;
        TRY(rd_tag(&r, &field, &wt));
        if (field == f_attrs) {
            TRY(rd_bytes(&r, wt, &s));
            TRY(slices_push(&m->attrs, s));
        } else if (field == f_exemplars) {
            TRY(rd_bytes(&r, wt, &s));
            TRY(slices_push(&m->exemplars, s));
        } else if (field == f_flags) {
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&r, &pt->flags));
        } else if (field == 2) {
            EXPECT(wt, WT_I64);
            TRY(rd_fixed64(&r, &pt->start));
        } else if (field == 3) {
            EXPECT(wt, WT_I64);
            TRY(rd_fixed64(&r, &pt->time));
        } else if (number && (field == 4 || field == 6)) { /* as_double, as_int: a oneof */
            EXPECT(wt, WT_I64);
            TRY(rd_fixed64(&r, &pt->value));
            pt->value_kind = field == 4 ? MV_DOUBLE : MV_INT;
        } else if (!number && field == 4) {
            EXPECT(wt, WT_I64);
            TRY(rd_fixed64(&r, &pt->count));
        } else if (!number && field == 5) {
            TRY(metric_double(&r, wt, &pt->sum));
            pt->has_sum = 1;
        } else if (kind == MK_HISTOGRAM && field == 6) {
            TRY(metric_rep_fixed64(&r, wt, &m->lists[ML_BUCKETS]));
        } else if (kind == MK_HISTOGRAM && field == 7) {
            TRY(metric_rep_fixed64(&r, wt, &m->lists[ML_BOUNDS]));
        } else if (kind == MK_HISTOGRAM && field == 11) {
            TRY(metric_double(&r, wt, &pt->min));
            pt->has_min = 1;
        } else if (kind == MK_HISTOGRAM && field == 12) {
            TRY(metric_double(&r, wt, &pt->max));
            pt->has_max = 1;
        } else if (kind == MK_EXPONENTIAL && field == 6) {
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&r, &v));
            pt->scale = metric_sint32(v);
        } else if (kind == MK_EXPONENTIAL && field == 7) {
            EXPECT(wt, WT_I64);
            TRY(rd_fixed64(&r, &pt->zero_count));
        } else if (kind == MK_EXPONENTIAL && (field == 8 || field == 9)) {
            TRY(rd_bytes(&r, wt, &s));
            if (field == 8) {
                positives++;
                TRY(metric_buckets_read(s, &pt->pos_offset, &m->lists[ML_POS]));
            } else {
                negatives++;
                TRY(metric_buckets_read(s, &pt->neg_offset, &m->lists[ML_NEG]));
            }
        } else if (kind == MK_EXPONENTIAL && field == 12) {
            TRY(metric_double(&r, wt, &pt->min));
            pt->has_min = 1;
        } else if (kind == MK_EXPONENTIAL && field == 13) {
            TRY(metric_double(&r, wt, &pt->max));
            pt->has_max = 1;
        } else if (kind == MK_EXPONENTIAL && field == 14) {
            TRY(metric_double(&r, wt, &pt->zero_threshold));
        } else if (kind == MK_SUMMARY && field == 6) {
            TRY(rd_bytes(&r, wt, &s));
            TRY(slices_push(&m->quantiles, s));
        } else {
            TRY(rd_skip(&r, wt));
        }
    }
    /* a Buckets message given twice is merged by protobuf */
    return positives > 1 || negatives > 1 ? FALLBACK : OK;
}

typedef struct {
    uint64_t time, value;
    int value_kind;
    slice_t trace_id, span_id;
} metric_exemplar_t;

static int metric_exemplar_read(slice_t msg, metric_exemplar_t *e, slices_t *attrs) {
    rd_t r = {msg.p, msg.p + msg.n};
    memset(e, 0, sizeof(*e));
    e->trace_id.p = e->span_id.p = msg.p;
    attrs->n = 0;
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        slice_t s;
        TRY(rd_tag(&r, &field, &wt));
        switch (field) {
        case 7:
            TRY(rd_bytes(&r, wt, &s));
            TRY(slices_push(attrs, s));
            break;
        case 2:
            EXPECT(wt, WT_I64);
            TRY(rd_fixed64(&r, &e->time));
            break;
        case 3:
        case 6:
            EXPECT(wt, WT_I64);
            TRY(rd_fixed64(&r, &e->value));
            e->value_kind = field == 3 ? MV_DOUBLE : MV_INT;
            break;
        case 4:
            TRY(rd_bytes(&r, wt, &e->span_id));
            break;
        case 5:
            TRY(rd_bytes(&r, wt, &e->trace_id));
            break;
        default:
            TRY(rd_skip(&r, wt));
        }
    }
    return OK;
}

static int metric_zero(slice_t s) {
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i])
            return 0;
    return 1;
}

static int metric_number_json(buf_t *b, int kind, uint64_t value) {
    if (kind == MV_INT)
        return json_i64(b, (int64_t)value);
    if (kind == MV_DOUBLE) {
        double d;
        memcpy(&d, &value, sizeof(d));
        return json_double(b, d);
    }
    return buf_lit(b, "null");
}

/* The point's exemplars as duckdb/tables.py writes them, into b; *problem set to the
 * first invalid one's reason (as _exemplars finds it). Every exemplar is read and checked. */
static int metric_exemplars_json(metrics_t *m, buf_t *b, char *problem, size_t cap, int *bad) {
    *bad = 0;
    if (m->exemplars.n == 0)
        return buf_lit(b, "[]");
    TRY(buf_byte(b, '['));
    for (size_t i = 0; i < m->exemplars.n; i++) {
        metric_exemplar_t e;
        TRY(metric_exemplar_read(m->exemplars.v[i], &e, &m->inner));
        /* normalize_optional_id: all zero bytes are no id */
        if (metric_zero(e.trace_id))
            e.trace_id.n = 0;
        if (metric_zero(e.span_id))
            e.span_id.n = 0;
        if (!*bad && e.trace_id.n && e.trace_id.n != 16) {
            snprintf(problem, cap, ": exemplar: trace_id must be empty or 16 bytes, got %zu",
                     e.trace_id.n);
            *bad = 1;
        } else if (!*bad && e.span_id.n && e.span_id.n != 8) {
            snprintf(problem, cap, ": exemplar: span_id must be empty or 8 bytes, got %zu",
                     e.span_id.n);
            *bad = 1;
        }
        if (i)
            TRY(buf_byte(b, ','));
        TRY(buf_lit(b, "{\"time_unix_nano\":"));
        TRY(json_u64(b, e.time));
        TRY(buf_lit(b, ",\"value\":"));
        TRY(metric_number_json(b, e.value_kind, e.value));
        TRY(buf_lit(b, ",\"filtered_attributes\":"));
        TRY(json_keyvalues(b, m->inner.v, m->inner.n, 0));
        TRY(buf_lit(b, ",\"trace_id\":\""));
        TRY(hex(b, e.trace_id.p, e.trace_id.n));
        TRY(buf_lit(b, "\",\"span_id\":\""));
        TRY(hex(b, e.span_id.p, e.span_id.n));
        TRY(buf_lit(b, "\"}"));
    }
    return buf_byte(b, ']');
}

/* SummaryDataPoint.quantile_values as [{"quantile":q,"value":v},...] */
static int metric_quantiles_json(metrics_t *m, buf_t *b) {
    TRY(buf_byte(b, '['));
    for (size_t i = 0; i < m->quantiles.n; i++) {
        slice_t msg = m->quantiles.v[i];
        rd_t r = {msg.p, msg.p + msg.n};
        double q = 0.0, v = 0.0;
        while (r.p < r.end) {
            uint32_t field;
            int wt;
            TRY(rd_tag(&r, &field, &wt));
            if (field == 1)
                TRY(metric_double(&r, wt, &q));
            else if (field == 2)
                TRY(metric_double(&r, wt, &v));
            else
                TRY(rd_skip(&r, wt));
        }
        if (i)
            TRY(buf_byte(b, ','));
        TRY(buf_lit(b, "{\"quantile\":"));
        TRY(json_double(b, q));
        TRY(buf_lit(b, ",\"value\":"));
        TRY(json_double(b, v));
        TRY(buf_byte(b, '}'));
    }
    return buf_byte(b, ']');
}

/* validation.histogram_problem on the point's lists; NULL when valid */
static const char *metric_histogram_problem(metrics_t *m, int64_t buckets_from,
                                            int64_t bounds_from, char *msg, size_t cap) {
    int64_t buckets = m->lists[ML_BUCKETS].values.length - buckets_from;
    int64_t bounds = m->lists[ML_BOUNDS].values.length - bounds_from;
    if (buckets && buckets != bounds + 1) {
        snprintf(msg, cap,
                 ": histogram has %" PRId64 " bucket_counts for %" PRId64
                 " explicit_bounds; the data model requires bounds + 1",
                 buckets, bounds);
        return msg;
    }
    const uint8_t *v = m->lists[ML_BOUNDS].values.data.data;
    for (int64_t i = bounds_from + 1; i < bounds_from + bounds; i++) {
        double a, b;
        memcpy(&a, v + (size_t)(i - 1) * 8, sizeof(a));
        memcpy(&b, v + (size_t)i * 8, sizeof(b));
        if (b <= a) /* false with a NaN, as in Python */
            return ": histogram explicit_bounds must increase strictly";
    }
    return NULL;
}

/* the lengths to go back to when a point is not stored */
typedef struct {
    size_t attrs, exemplars, quantiles, list_bytes[METRIC_LISTS];
    int64_t list_values[METRIC_LISTS];
} metric_mark_t;

static void metric_mark(metrics_t *m, metric_mark_t *k) {
    k->attrs = m->cols[MP_ATTRS].data.len;
    k->exemplars = m->cols[MP_EXEMPLARS].data.len;
    k->quantiles = m->cols[MP_QUANTILES].data.len;
    for (int i = 0; i < METRIC_LISTS; i++) {
        k->list_bytes[i] = m->lists[i].values.data.len;
        k->list_values[i] = m->lists[i].values.length;
    }
}

static void metric_rollback(metrics_t *m, const metric_mark_t *k) {
    m->cols[MP_ATTRS].data.len = k->attrs;
    m->cols[MP_EXEMPLARS].data.len = k->exemplars;
    m->cols[MP_QUANTILES].data.len = k->quantiles;
    for (int i = 0; i < METRIC_LISTS; i++) {
        m->lists[i].values.data.len = k->list_bytes[i];
        m->lists[i].values.length = k->list_values[i];
    }
}

static inline int metric_opt_f64(col_t *c, int has, double v) {
    return has ? col_f64(c, v) : col_null(c);
}

/* One data point of a metric of type `kind`: read and checked in full, then stored or rejected.
 * `problem` is the metric's own (MPROBLEM_*): its points are only checked, and counted as
 * rejections for a bad temporality. */
static int metric_point_add(metrics_t *m, int kind, slice_t msg, slice_t name, int problem,
                            const char *temporality_reason) {
    metric_point_t pt;
    metric_mark_t mark;
    metric_mark(m, &mark);
    TRY(metric_point_read(m, kind, msg, &pt));
    col_t *c = m->cols;
    char exemplar_problem[128];
    int bad_exemplar = 0;
    TRY(json_keyvalues(&c[MP_ATTRS].data, m->attrs.v, m->attrs.n, 0));
    TRY(metric_exemplars_json(m, &c[MP_EXEMPLARS].data, exemplar_problem,
                              sizeof(exemplar_problem), &bad_exemplar));
    if (kind == MK_SUMMARY)
        TRY(metric_quantiles_json(m, &c[MP_QUANTILES].data));
    else
        TRY(buf_lit(&c[MP_QUANTILES].data, "[]"));
    if (problem != MPROBLEM_NONE) {
        metric_rollback(m, &mark);
        return problem == MPROBLEM_TEMPORALITY ? metric_reject(m, name, temporality_reason) : OK;
    }
    /* _metric_points: point_time_problem, then the exemplars, then histogram_problem */
    const char *reason = NULL;
    char histogram_problem[160];
    if (pt.time == 0)
        reason = ": time_unix_nano is required";
    else if (pt.time > (uint64_t)METRIC_MAX_TIMESTAMP || pt.start > (uint64_t)METRIC_MAX_TIMESTAMP)
        reason = ": timestamp out of range";
    else if (bad_exemplar)
        reason = exemplar_problem;
    else if (kind == MK_HISTOGRAM)
        reason = metric_histogram_problem(m, mark.list_values[ML_BUCKETS],
                                          mark.list_values[ML_BOUNDS], histogram_problem,
                                          sizeof(histogram_problem));
    if (reason != NULL) {
        metric_rollback(m, &mark);
        return metric_reject(m, name, reason);
    }
    int number = kind == MK_GAUGE || kind == MK_SUM;
    int histogram = kind == MK_HISTOGRAM || kind == MK_EXPONENTIAL;
    int exponential = kind == MK_EXPONENTIAL;
    double value;
    memcpy(&value, &pt.value, sizeof(value));
    TRY(col_i64(&c[MP_START], (int64_t)pt.start));
    TRY(col_i64(&c[MP_TIME], (int64_t)pt.time));
    TRY(col_str_close(&c[MP_ATTRS]));
    TRY(col_u32(&c[MP_FLAGS], (uint32_t)pt.flags));
    TRY(col_str_close(&c[MP_EXEMPLARS]));
    if (number && pt.value_kind == MV_INT)
        TRY(col_i64(&c[MP_VALUE_INT], (int64_t)pt.value));
    else
        TRY(col_null(&c[MP_VALUE_INT]));
    TRY(metric_opt_f64(&c[MP_VALUE_DOUBLE], number && pt.value_kind == MV_DOUBLE, value));
    if (number)
        TRY(col_null(&c[MP_COUNT]));
    else
        TRY(col_u64(&c[MP_COUNT], pt.count));
    TRY(metric_opt_f64(&c[MP_SUM], kind == MK_SUMMARY || (histogram && pt.has_sum), pt.sum));
    TRY(metric_opt_f64(&c[MP_MIN], histogram && pt.has_min, pt.min));
    TRY(metric_opt_f64(&c[MP_MAX], histogram && pt.has_max, pt.max));
    for (int i = 0; i < METRIC_LISTS; i++)
        TRY(list_close(&m->lists[i]));
    if (exponential) {
        TRY(col_i32(&c[MP_SCALE], pt.scale));
        TRY(col_u64(&c[MP_ZERO_COUNT], pt.zero_count));
        TRY(col_f64(&c[MP_ZERO_THRESHOLD], pt.zero_threshold));
        TRY(col_i32(&c[MP_POS_OFFSET], pt.pos_offset));
        TRY(col_i32(&c[MP_NEG_OFFSET], pt.neg_offset));
    } else {
        TRY(col_null(&c[MP_SCALE]));
        TRY(col_null(&c[MP_ZERO_COUNT]));
        TRY(col_null(&c[MP_ZERO_THRESHOLD]));
        TRY(col_null(&c[MP_POS_OFFSET]));
        TRY(col_null(&c[MP_NEG_OFFSET]));
    }
    TRY(col_str_close(&c[MP_QUANTILES]));
    TRY(col_i32(&m->desc_index, m->descriptors - 1));
    return row_shared(&m->shared);
}

/* A Metric: its descriptor (when it may have points), then every data point. */
static int metric_add(metrics_t *m, slice_t msg) {
    rd_t r = {msg.p, msg.p + msg.n};
    slice_t name = {msg.p, 0}, description = {msg.p, 0}, unit = {msg.p, 0}, data = {msg.p, 0};
    int kind = 0, datas = 0;
    m->metadata.n = 0;
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        slice_t s;
        TRY(rd_tag(&r, &field, &wt));
        switch (field) {
        case 1: TRY(rd_string(&r, wt, &name)); break;
        case 2: TRY(rd_string(&r, wt, &description)); break;
        case 3: TRY(rd_string(&r, wt, &unit)); break;
        case MK_GAUGE:
        case MK_SUM:
        case MK_HISTOGRAM:
        case MK_EXPONENTIAL:
        case MK_SUMMARY:
            TRY(rd_bytes(&r, wt, &data));
            kind = (int)field;
            datas++;
            break;
        case 12:
            TRY(rd_bytes(&r, wt, &s));
            TRY(slices_push(&m->metadata, s));
            break;
        default: TRY(rd_skip(&r, wt));
        }
    }
    /* two data messages: merged by protobuf (the same one twice) or one replacing the other (of
     * the oneof, still parsed): left to the reference */
    if (datas > 1)
        return FALLBACK;
    col_t *d = m->desc;
    size_t metadata_mark = d[MD_METADATA].data.len;
    TRY(json_keyvalues(&d[MD_METADATA].data, m->metadata.v, m->metadata.n, 0));
    if (kind == 0) {
        d[MD_METADATA].data.len = metadata_mark;
        return metric_reject(m, name, " has no data");
    }
    /* the data message: its scalar fields first (they may follow the points) */
    int32_t temporality = 0;
    uint64_t monotonic = 0;
    rd_t dr = {data.p, data.p + data.n};
    while (dr.p < dr.end) {
        uint32_t field;
        int wt;
        slice_t s;
        uint64_t v;
        TRY(rd_tag(&dr, &field, &wt));
        if (field == 1) {
            TRY(rd_bytes(&dr, wt, &s));
        } else if (field == 2 && (kind == MK_SUM || kind == MK_HISTOGRAM || kind == MK_EXPONENTIAL)) {
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&dr, &v));
            temporality = (int32_t)(uint32_t)v; /* an open enum: any int32 */
        } else if (field == 3 && kind == MK_SUM) {
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&dr, &monotonic));
        } else {
            TRY(rd_skip(&dr, wt));
        }
    }
    int problem = MPROBLEM_NONE;
    char temporality_reason[96] = "";
    if (name.n == 0) {
        problem = MPROBLEM_NO_NAME;
        reject(&m->shared, "metric name is required");
    } else if (temporality < 0 || temporality > 2) {
        problem = MPROBLEM_TEMPORALITY;
        snprintf(temporality_reason, sizeof(temporality_reason),
                 ": aggregation_temporality must be 0..2, got %" PRId32, temporality);
    }
    if (problem == MPROBLEM_NONE) {
        const char *type = metric_type_name(kind);
        TRY(col_str(&d[MD_NAME], name.p, name.n));
        TRY(col_str(&d[MD_DESCRIPTION], description.p, description.n));
        TRY(col_str(&d[MD_UNIT], unit.p, unit.n));
        TRY(col_str(&d[MD_TYPE], (const uint8_t *)type, strlen(type)));
        TRY(col_u8(&d[MD_TEMPORALITY], (uint8_t)temporality));
        TRY(col_u8(&d[MD_MONOTONIC], (uint8_t)(monotonic != 0)));
        TRY(col_str_close(&d[MD_METADATA]));
        m->descriptors++;
    } else {
        d[MD_METADATA].data.len = metadata_mark;
    }
    dr.p = data.p;
    while (dr.p < dr.end) {
        uint32_t field;
        int wt;
        slice_t point;
        TRY(rd_tag(&dr, &field, &wt));
        if (field != 1) {
            TRY(rd_skip(&dr, wt));
            continue;
        }
        TRY(rd_len(&dr, &point));
        TRY(metric_point_add(m, kind, point, name, problem, temporality_reason));
    }
    return OK;
}

static int metric_item(void *m, slice_t msg) { return metric_add(m, msg); }

static int metrics_decode(metrics_t *m, const uint8_t *p, size_t n) {
    return request_decode(&m->shared, p, n, metric_item, m);
}

static int metrics_export(metrics_t *m, struct ArrowArray *out) {
    int64_t rows = m->cols[MP_TIME].length;
    TRY(batch_alloc(out, rows,
                    METRIC_DESCRIPTOR_COLUMNS + METRIC_POINT_COLUMNS + SHARED_COLUMNS));
    struct ArrowArray **children = out->children;
    int rc = dict_export(m->desc, METRIC_DESCRIPTOR_COLUMNS, &m->desc_index, children);
    children += METRIC_DESCRIPTOR_COLUMNS;
    for (int i = 0; i < METRIC_POINT_COLUMNS && rc == OK; i++) {
        int list = metric_list_of(i);
        rc = list >= 0 ? list_export(&m->lists[list], children[i])
                       : col_export(&m->cols[i], children[i], NULL);
    }
    if (rc == OK)
        rc = shared_export(&m->shared, children + METRIC_POINT_COLUMNS);
    if (rc != OK) {
        out->release(out);
        return NOMEM;
    }
    return OK;
}

#endif
