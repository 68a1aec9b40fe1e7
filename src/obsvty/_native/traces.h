/* ExportTraceServiceRequest -> the columns of obsvty's `spans` table (see
 * obsvty/adapters/storage/duckdb/schema.py), validating each span as
 * obsvty/domain/validation.py does and in the same order, with the same reasons. */
#ifndef OBSVTY_TRACES_H
#define OBSVTY_TRACES_H

#include <inttypes.h>

#include "shared.h"

enum {
    T_TRACE_ID, T_SPAN_ID, T_PARENT, T_TRACE_STATE, T_FLAGS, T_NAME, T_KIND, T_START, T_END,
    T_DURATION, T_ATTRS, T_DROPPED_ATTRS, T_EVENTS, T_DROPPED_EVENTS, T_LINKS, T_DROPPED_LINKS,
    T_STATUS_CODE, T_STATUS_MESSAGE, SPAN_COLUMNS
};

static const char SPAN_FMT[SPAN_COLUMNS] = {'u', 'u', 'u', 'u', 'I', 'u', 'C', 'l', 'l',
                                            'l', 'u', 'I', 'u', 'I', 'u', 'I', 'C', 'u'};

#define MAX_TIMESTAMP INT64_MAX

typedef struct {
    col_t cols[SPAN_COLUMNS];
    shared_t shared;
    slices_t attrs, events, links, inner; /* scratch, per span */
    buf_t links_json;
} traces_t;

typedef struct {
    slice_t trace_id, span_id, trace_state, parent, name, status_message;
    uint32_t flags;
    uint64_t kind, status_code, dropped_attrs, dropped_events, dropped_links, start, end;
} span_t;

static int traces_init(traces_t *t) {
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < SPAN_COLUMNS; i++)
        TRY(col_init(&t->cols[i], SPAN_FMT[i], 0));
    return shared_init(&t->shared);
}

static void traces_free(traces_t *t) {
    for (int i = 0; i < SPAN_COLUMNS; i++)
        col_free(&t->cols[i]);
    shared_free(&t->shared);
    slices_free(&t->attrs);
    slices_free(&t->events);
    slices_free(&t->links);
    slices_free(&t->inner);
    buf_free(&t->links_json);
}

static int status_read(slice_t msg, span_t *s) {
    rd_t r = {msg.p, msg.p + msg.n};
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        TRY(rd_tag(&r, &field, &wt));
        if (field == 2) {
            TRY(rd_string(&r, wt, &s->status_message));
        } else if (field == 3) {
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&r, &s->status_code));
        } else {
            TRY(rd_skip(&r, wt));
        }
    }
    return OK;
}

typedef struct {
    uint64_t time, dropped;
    slice_t name;
} event_t;

/* Span.Event: its attributes (field 3) go to `attrs` undecoded (protobuf parses them only for
 * the spans that are stored, see TRACE_REQUEST_VIEW in to_domain.py) */
static int event_read(slice_t msg, event_t *e, slices_t *attrs) {
    rd_t r = {msg.p, msg.p + msg.n};
    memset(e, 0, sizeof(*e));
    e->name.p = msg.p;
    attrs->n = 0;
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        slice_t s;
        TRY(rd_tag(&r, &field, &wt));
        switch (field) {
        case 1:
            EXPECT(wt, WT_I64);
            TRY(rd_fixed64(&r, &e->time));
            break;
        case 2:
            TRY(rd_string(&r, wt, &e->name));
            break;
        case 3:
            TRY(rd_bytes(&r, wt, &s));
            TRY(slices_push(attrs, s));
            break;
        case 4:
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&r, &e->dropped));
            break;
        default:
            TRY(rd_skip(&r, wt));
        }
    }
    return OK;
}

typedef struct {
    slice_t trace_id, span_id, trace_state;
    uint64_t dropped;
    uint32_t flags;
} link_t;

static int link_read(slice_t msg, link_t *l, slices_t *attrs) {
    rd_t r = {msg.p, msg.p + msg.n};
    memset(l, 0, sizeof(*l));
    l->trace_id.p = l->span_id.p = l->trace_state.p = msg.p;
    attrs->n = 0;
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        slice_t s;
        TRY(rd_tag(&r, &field, &wt));
        switch (field) {
        case 1:
            TRY(rd_bytes(&r, wt, &l->trace_id));
            break;
        case 2:
            TRY(rd_bytes(&r, wt, &l->span_id));
            break;
        case 3:
            TRY(rd_string(&r, wt, &l->trace_state));
            break;
        case 4:
            TRY(rd_bytes(&r, wt, &s));
            TRY(slices_push(attrs, s));
            break;
        case 5:
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&r, &l->dropped));
            break;
        case 6:
            EXPECT(wt, WT_I32);
            TRY(rd_fixed32(&r, &l->flags));
            break;
        default:
            TRY(rd_skip(&r, wt));
        }
    }
    return OK;
}

/* validation.trace_id_problem / span_id_problem; NULL when valid */
static const char *id_problem(slice_t id, size_t size, const char *what, char *msg, size_t cap) {
    if (id.n != size) {
        snprintf(msg, cap, "%s must be %zu bytes, got %zu", what, size, id.n);
        return msg;
    }
    if (all_zero(id)) {
        snprintf(msg, cap, "%s must not be all zero", what);
        return msg;
    }
    return NULL;
}

/* validation.span_record_problem; NULL when valid */
static const char *span_problem(const span_t *s, char *msg, size_t cap) {
    const char *p = id_problem(s->trace_id, 16, "trace_id", msg, cap);
    if (p == NULL)
        p = id_problem(s->span_id, 8, "span_id", msg, cap);
    if (p != NULL)
        return p;
    if (s->parent.n && s->parent.n != 8) {
        snprintf(msg, cap, "parent_span_id must be empty or 8 bytes, got %zu", s->parent.n);
        return msg;
    }
    if (s->start == 0 || s->end == 0)
        return "start_time_unix_nano and end_time_unix_nano are required";
    if (s->end < s->start)
        return "end_time_unix_nano is before start_time_unix_nano";
    if (s->end > (uint64_t)MAX_TIMESTAMP)
        return "timestamp out of range";
    int32_t kind = (int32_t)(uint32_t)s->kind, code = (int32_t)(uint32_t)s->status_code;
    if (kind < 0 || kind > 5) {
        snprintf(msg, cap, "span kind must be 0..5, got %" PRId32, kind);
        return msg;
    }
    if (code < 0 || code > 2) {
        snprintf(msg, cap, "status code must be 0..2, got %" PRId32, code);
        return msg;
    }
    return NULL;
}

static int event_json(traces_t *t, buf_t *b, slice_t msg) {
    event_t e;
    TRY(event_read(msg, &e, &t->inner));
    TRY(buf_lit(b, "{\"time_unix_nano\":"));
    TRY(json_u64(b, e.time));
    TRY(buf_lit(b, ",\"name\":"));
    TRY(json_string(b, e.name.p, e.name.n));
    TRY(buf_lit(b, ",\"attributes\":"));
    TRY(json_keyvalues(b, t->inner.v, t->inner.n, 0));
    TRY(buf_lit(b, ",\"dropped_attributes_count\":"));
    TRY(json_u64(b, (uint32_t)e.dropped));
    return buf_byte(b, '}');
}

/* The span's links as JSON into t->links_json, each checked as _links() does: the first
 * invalid one rejects the span (*problem set), and the attributes of every valid link before it
 * are decoded (so a malformed one fails the request, as in the reference). */
static int links_json(traces_t *t, const char **problem, char *msg, size_t cap) {
    buf_t *b = &t->links_json;
    b->len = 0;
    *problem = NULL;
    TRY(buf_byte(b, '['));
    for (size_t i = 0; i < t->links.n; i++) {
        link_t l;
        TRY(link_read(t->links.v[i], &l, &t->inner));
        char inner[200];
        const char *p = id_problem(l.trace_id, 16, "trace_id", inner, sizeof(inner));
        if (p == NULL)
            p = id_problem(l.span_id, 8, "span_id", inner, sizeof(inner));
        if (p != NULL) {
            snprintf(msg, cap, "link: %s", p);
            *problem = msg;
            return OK;
        }
        if (i)
            TRY(buf_byte(b, ','));
        TRY(buf_lit(b, "{\"trace_id\":\""));
        TRY(hex(b, l.trace_id.p, l.trace_id.n));
        TRY(buf_lit(b, "\",\"span_id\":\""));
        TRY(hex(b, l.span_id.p, l.span_id.n));
        TRY(buf_lit(b, "\",\"trace_state\":"));
        TRY(json_string(b, l.trace_state.p, l.trace_state.n));
        TRY(buf_lit(b, ",\"attributes\":"));
        TRY(json_keyvalues(b, t->inner.v, t->inner.n, 0));
        TRY(buf_lit(b, ",\"dropped_attributes_count\":"));
        TRY(json_u64(b, (uint32_t)l.dropped));
        TRY(buf_lit(b, ",\"flags\":"));
        TRY(json_u64(b, l.flags));
        TRY(buf_byte(b, '}'));
    }
    return buf_byte(b, ']');
}

static int span_add(traces_t *t, slice_t msg) {
    span_t s;
    memset(&s, 0, sizeof(s));
    s.trace_id.p = s.span_id.p = s.parent.p = s.trace_state.p = s.name.p = s.status_message.p =
        msg.p;
    t->attrs.n = t->events.n = t->links.n = 0;
    int statuses = 0;
    rd_t r = {msg.p, msg.p + msg.n};
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        slice_t v;
        TRY(rd_tag(&r, &field, &wt));
        switch (field) {
        case 1: TRY(rd_bytes(&r, wt, &s.trace_id)); break;
        case 2: TRY(rd_bytes(&r, wt, &s.span_id)); break;
        case 3: TRY(rd_string(&r, wt, &s.trace_state)); break;
        case 4: TRY(rd_bytes(&r, wt, &s.parent)); break;
        case 5: TRY(rd_string(&r, wt, &s.name)); break;
        case 6: EXPECT(wt, WT_VARINT); TRY(rd_varint(&r, &s.kind)); break;
        case 7: EXPECT(wt, WT_I64); TRY(rd_fixed64(&r, &s.start)); break;
        case 8: EXPECT(wt, WT_I64); TRY(rd_fixed64(&r, &s.end)); break;
        case 9: TRY(rd_bytes(&r, wt, &v)); TRY(slices_push(&t->attrs, v)); break;
        case 10: EXPECT(wt, WT_VARINT); TRY(rd_varint(&r, &s.dropped_attrs)); break;
        case 11: {
            event_t e; /* checked now: protobuf parses every event, stored or not */
            TRY(rd_bytes(&r, wt, &v));
            TRY(event_read(v, &e, &t->inner));
            TRY(slices_push(&t->events, v));
            break;
        }
        case 12: EXPECT(wt, WT_VARINT); TRY(rd_varint(&r, &s.dropped_events)); break;
        case 13: {
            link_t l;
            TRY(rd_bytes(&r, wt, &v));
            TRY(link_read(v, &l, &t->inner));
            TRY(slices_push(&t->links, v));
            break;
        }
        case 14: EXPECT(wt, WT_VARINT); TRY(rd_varint(&r, &s.dropped_links)); break;
        case 15:
            TRY(rd_bytes(&r, wt, &v));
            TRY(status_read(v, &s));
            statuses++;
            break;
        case 16: EXPECT(wt, WT_I32); TRY(rd_fixed32(&r, &s.flags)); break;
        default: TRY(rd_skip(&r, wt));
        }
    }
    if (statuses > 1)
        return FALLBACK; /* protobuf merges a repeated singular message */
    char msgbuf[256];
    const char *problem = span_problem(&s, msgbuf, sizeof(msgbuf));
    if (problem == NULL && t->links.n)
        TRY(links_json(t, &problem, msgbuf, sizeof(msgbuf)));
    if (problem != NULL) {
        reject(&t->shared, "%s", problem);
        return OK;
    }
    col_t *c = t->cols;
    TRY(hex(&c[T_TRACE_ID].data, s.trace_id.p, 16));
    TRY(col_str_close(&c[T_TRACE_ID]));
    TRY(hex(&c[T_SPAN_ID].data, s.span_id.p, 8));
    TRY(col_str_close(&c[T_SPAN_ID]));
    if (s.parent.n && !all_zero(s.parent))
        TRY(hex(&c[T_PARENT].data, s.parent.p, s.parent.n));
    TRY(col_str_close(&c[T_PARENT]));
    TRY(col_str(&c[T_TRACE_STATE], s.trace_state.p, s.trace_state.n));
    TRY(col_u32(&c[T_FLAGS], s.flags));
    TRY(col_str(&c[T_NAME], s.name.p, s.name.n));
    TRY(col_u8(&c[T_KIND], (uint8_t)s.kind));
    TRY(col_i64(&c[T_START], (int64_t)s.start));
    TRY(col_i64(&c[T_END], (int64_t)s.end));
    TRY(col_i64(&c[T_DURATION], (int64_t)(s.end - s.start)));
    TRY(json_keyvalues(&c[T_ATTRS].data, t->attrs.v, t->attrs.n, 0));
    TRY(col_str_close(&c[T_ATTRS]));
    TRY(col_u32(&c[T_DROPPED_ATTRS], (uint32_t)s.dropped_attrs));
    buf_t *ev = &c[T_EVENTS].data;
    TRY(buf_byte(ev, '['));
    for (size_t i = 0; i < t->events.n; i++) {
        if (i)
            TRY(buf_byte(ev, ','));
        TRY(event_json(t, ev, t->events.v[i]));
    }
    TRY(buf_byte(ev, ']'));
    TRY(col_str_close(&c[T_EVENTS]));
    TRY(col_u32(&c[T_DROPPED_EVENTS], (uint32_t)s.dropped_events));
    if (t->links.n)
        TRY(col_str(&c[T_LINKS], t->links_json.data, t->links_json.len));
    else
        TRY(col_str(&c[T_LINKS], (const uint8_t *)"[]", 2));
    TRY(col_u32(&c[T_DROPPED_LINKS], (uint32_t)s.dropped_links));
    TRY(col_u8(&c[T_STATUS_CODE], (uint8_t)s.status_code));
    TRY(col_str(&c[T_STATUS_MESSAGE], s.status_message.p, s.status_message.n));
    TRY(row_shared(&t->shared));
    return OK;
}

static int span_item(void *t, slice_t msg) { return span_add(t, msg); }

static int traces_decode(traces_t *t, const uint8_t *p, size_t n) {
    return request_decode(&t->shared, p, n, span_item, t);
}

static int traces_export(traces_t *t, struct ArrowArray *out) {
    return rows_export(t->cols, SPAN_COLUMNS, &t->shared, out);
}

#endif
