/* ExportLogsServiceRequest -> the columns of obsvty's `logs` table (see
 * obsvty/adapters/storage/duckdb/schema.py), validating each record as
 * obsvty/domain/validation.py does (log_problem) and in the same order, with the same reasons.
 *
 * The reference decoder parses logs with the official message classes, so every field of every
 * record, stored or rejected, is checked by protobuf before any is converted: a record's body and
 * attributes are decoded here even when the record is rejected, so that a malformed one falls
 * back (and the reference refuses the whole request) wherever it is. */
#ifndef OBSVTY_LOGS_H
#define OBSVTY_LOGS_H

#include <inttypes.h>

#include "shared.h"

enum {
    L_TIME, L_OBSERVED, L_SEVERITY, L_SEVERITY_TEXT, L_BODY, L_ATTRS, L_DROPPED_ATTRS, L_FLAGS,
    L_TRACE_ID, L_SPAN_ID, L_EVENT_NAME, LOG_COLUMNS
};

static const char LOG_FMT[LOG_COLUMNS] = {'l', 'l', 'C', 'u', 'u', 'u', 'I', 'I', 'u', 'u', 'u'};

#define MAX_SEVERITY_NUMBER 24

typedef struct {
    col_t cols[LOG_COLUMNS];
    shared_t shared;
    slices_t attrs; /* scratch, per record */
    buf_t scratch; /* the body and attributes of a rejected record, decoded to be checked */
} logs_t;

typedef struct {
    slice_t severity_text, body, trace_id, span_id, event_name;
    int has_body;
    uint32_t flags;
    uint64_t time, observed, severity, dropped_attrs;
} record_t;

static int logs_init(logs_t *l) {
    memset(l, 0, sizeof(*l));
    for (int i = 0; i < LOG_COLUMNS; i++)
        TRY(col_init(&l->cols[i], LOG_FMT[i], i == L_BODY));
    return shared_init(&l->shared);
}

static void logs_free(logs_t *l) {
    for (int i = 0; i < LOG_COLUMNS; i++)
        col_free(&l->cols[i]);
    shared_free(&l->shared);
    slices_free(&l->attrs);
    buf_free(&l->scratch);
}

/* validation.normalize_optional_id: an all-zero id (of any length) is no id */
static slice_t optional_id(slice_t id) {
    if (all_zero(id))
        id.n = 0;
    return id;
}

/* validation.log_problem on the normalized ids; NULL when valid */
static const char *record_problem(const record_t *rec, char *msg, size_t cap) {
    if (rec->time > (uint64_t)INT64_MAX || rec->observed > (uint64_t)INT64_MAX)
        return "timestamp out of range";
    int32_t severity = (int32_t)(uint32_t)rec->severity; /* an enum: protobuf keeps 32 bits */
    if (severity < 0 || severity > MAX_SEVERITY_NUMBER) {
        snprintf(msg, cap, "severity_number must be 0..%d, got %" PRId32, MAX_SEVERITY_NUMBER,
                 severity);
        return msg;
    }
    if (rec->trace_id.n && rec->trace_id.n != 16) {
        snprintf(msg, cap, "trace_id must be empty or 16 bytes, got %zu", rec->trace_id.n);
        return msg;
    }
    if (rec->span_id.n && rec->span_id.n != 8) {
        snprintf(msg, cap, "span_id must be empty or 8 bytes, got %zu", rec->span_id.n);
        return msg;
    }
    return NULL;
}

/* The body as the reference stores it: NULL when the record has none, or when its value is
 * empty (to_domain.any_value gives None, which log_table stores as NULL), else its typed JSON. */
static int body_add(col_t *c, const record_t *rec) {
    if (!rec->has_body)
        return col_null(c);
    anyvalue_t v;
    TRY(anyvalue_read(rec->body.p, rec->body.n, &v));
    if (v.kind == V_NONE)
        return col_null(c);
    TRY(json_anyvalue(&c->data, rec->body.p, rec->body.n, 0));
    return col_str_close(c);
}

static int record_add(logs_t *l, slice_t msg) {
    record_t rec;
    memset(&rec, 0, sizeof(rec));
    rec.severity_text.p = rec.body.p = rec.trace_id.p = rec.span_id.p = rec.event_name.p = msg.p;
    l->attrs.n = 0;
    int bodies = 0;
    rd_t r = {msg.p, msg.p + msg.n};
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        slice_t v;
        TRY(rd_tag(&r, &field, &wt));
        switch (field) {
        case 1: EXPECT(wt, WT_I64); TRY(rd_fixed64(&r, &rec.time)); break;
        case 2: EXPECT(wt, WT_VARINT); TRY(rd_varint(&r, &rec.severity)); break;
        case 3: TRY(rd_string(&r, wt, &rec.severity_text)); break;
        case 5:
            TRY(rd_bytes(&r, wt, &rec.body));
            rec.has_body = 1;
            bodies++;
            break;
        case 6: TRY(rd_bytes(&r, wt, &v)); TRY(slices_push(&l->attrs, v)); break;
        case 7: EXPECT(wt, WT_VARINT); TRY(rd_varint(&r, &rec.dropped_attrs)); break;
        case 8: EXPECT(wt, WT_I32); TRY(rd_fixed32(&r, &rec.flags)); break;
        case 9: TRY(rd_bytes(&r, wt, &rec.trace_id)); break;
        case 10: TRY(rd_bytes(&r, wt, &rec.span_id)); break;
        case 11: EXPECT(wt, WT_I64); TRY(rd_fixed64(&r, &rec.observed)); break;
        case 12: TRY(rd_string(&r, wt, &rec.event_name)); break;
        default: TRY(rd_skip(&r, wt));
        }
    }
    if (bodies > 1)
        return FALLBACK; /* protobuf merges a repeated singular message */
    rec.trace_id = optional_id(rec.trace_id);
    rec.span_id = optional_id(rec.span_id);
    char msgbuf[256];
    const char *problem = record_problem(&rec, msgbuf, sizeof(msgbuf));
    if (problem != NULL) {
        /* not stored, but parsed by protobuf all the same: checked the same way */
        l->scratch.len = 0;
        TRY(json_keyvalues(&l->scratch, l->attrs.v, l->attrs.n, 0));
        if (rec.has_body)
            TRY(json_anyvalue(&l->scratch, rec.body.p, rec.body.n, 0));
        reject(&l->shared, "%s", problem);
        return OK;
    }
    col_t *c = l->cols;
    TRY(col_i64(&c[L_TIME], (int64_t)rec.time));
    TRY(col_i64(&c[L_OBSERVED], (int64_t)rec.observed));
    TRY(col_u8(&c[L_SEVERITY], (uint8_t)rec.severity));
    TRY(col_str(&c[L_SEVERITY_TEXT], rec.severity_text.p, rec.severity_text.n));
    TRY(body_add(&c[L_BODY], &rec));
    TRY(json_keyvalues(&c[L_ATTRS].data, l->attrs.v, l->attrs.n, 0));
    TRY(col_str_close(&c[L_ATTRS]));
    TRY(col_u32(&c[L_DROPPED_ATTRS], (uint32_t)rec.dropped_attrs));
    TRY(col_u32(&c[L_FLAGS], rec.flags));
    TRY(hex(&c[L_TRACE_ID].data, rec.trace_id.p, rec.trace_id.n));
    TRY(col_str_close(&c[L_TRACE_ID]));
    TRY(hex(&c[L_SPAN_ID].data, rec.span_id.p, rec.span_id.n));
    TRY(col_str_close(&c[L_SPAN_ID]));
    TRY(col_str(&c[L_EVENT_NAME], rec.event_name.p, rec.event_name.n));
    return row_shared(&l->shared);
}

static int record_item(void *l, slice_t msg) { return record_add(l, msg); }

static int logs_decode(logs_t *l, const uint8_t *p, size_t n) {
    return request_decode(&l->shared, p, n, record_item, l);
}

static int logs_export(logs_t *l, struct ArrowArray *out) {
    return rows_export(l->cols, LOG_COLUMNS, &l->shared, out);
}

#endif
