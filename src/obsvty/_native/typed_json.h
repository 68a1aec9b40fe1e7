/* OTLP attribute values (AnyValue, KeyValue lists) straight from protobuf bytes to the typed
 * JSON obsvty stores (see obsvty/adapters/encoding/typed_json.py): byte for byte what orjson
 * writes for the Python values the reference decoder builds. Strings as JSON strings (only '"',
 * '\\' and control characters escaped), integers in decimal, doubles in their shortest
 * round-trip form laid out as orjson does, NaN and infinities as null, bytes as
 * {"$bytes":"<base64>"}, arrays as lists, key-value lists as objects, an empty value as null.
 *
 * Shapes left to the reference decoder (FALLBACK): a key repeated in one list (a Python dict
 * keeps the first position and the last value), a message-typed value given twice (protobuf
 * merges them), nesting deeper than MAX_DEPTH.
 *
 * The document form (asked per call, for the MongoDB store: see
 * obsvty/adapters/storage/mongodb/documents.py) loses nothing and is already the documents' layout: an attribute map (a
 * key-value list at depth 0) is [{"k":key,"v":value},...], a NaN or infinity is
 * {"$double":"<its 8 bytes in big-endian hex>"}, bytes stay {"$bytes":"<base64>"}. So that a
 * tag is never a user's map, a nested map whose only key is "$double" or "$bytes" is left to
 * the reference decoder.
 *
 * Longer than the project's ~450-line bound on purpose: one encoder (AnyValue to typed JSON, both
 * forms) whose number formatting and escaping must match orjson's as a whole.
 */
#ifndef OBSVTY_TYPED_JSON_H
#define OBSVTY_TYPED_JSON_H

#include <math.h>
#include <stdio.h>

#include "wire.h"

#define MAX_DEPTH 32 /* nested arrays / key-value lists in one value */

/* whether this thread's decode writes the document form (set around one decode, see module.c) */
static _Thread_local int document_form;

static const char HEX[] = "0123456789abcdef";

/* bytes a JSON string must escape: '"', '\\' and the control characters */
static const uint8_t ESCAPE[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

static int json_string(buf_t *b, const uint8_t *s, size_t n) {
    if (n > (SIZE_MAX - 2) / 6)
        return NOMEM;
    TRY(buf_reserve(b, n * 6 + 2));
    uint8_t *o = b->data + b->len;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && !ESCAPE[s[run]])
            run++;
        memcpy(o, s + i, run - i);
        o += run - i;
        if (run == n)
            break;
        uint8_t c = s[run];
        i = run + 1;
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = (uint8_t)HEX[c >> 4];
            *o++ = (uint8_t)HEX[c & 15];
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return OK;
}

static int json_u64(buf_t *b, uint64_t v) {
    char tmp[24];
    int i = 24;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return buf_put(b, tmp + i, (size_t)(24 - i));
}

static int json_i64(buf_t *b, int64_t v) {
    if (v < 0) {
        TRY(buf_byte(b, '-'));
        return json_u64(b, (uint64_t)0 - (uint64_t)v);
    }
    return json_u64(b, (uint64_t)v);
}

static int hex(buf_t *b, const uint8_t *s, size_t n);

/* A double as orjson writes it: the shortest digits that read back as the same double, in
 * fixed notation for decimal exponents -5..15 ("0.00001", "1000000000000000.0"), otherwise as
 * "1e-6" / "1.5e+16"; NaN and infinities as null. */
static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                               1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};

/* Fast path for the doubles of fixed notation that are short decimals (12.5, 0.25, 200.0): the
 * fewest decimals k such that round(d * 10^k) / 10^k is d again (IEEE division is correctly
 * rounded, so that decimal reads back as d, and no shorter one does). 0 when it does not apply. */
static int json_double_fixed(buf_t *b, double d) {
    double a = fabs(d);
    if (!(a >= 1e-5 && a < 1e15))
        return 0;
    for (int k = 0; k < 18; k++) {
        double scaled = a * POW10[k];
        if (scaled >= 9007199254740992.0) /* 2^53: past it, integers are not all exact */
            return 0;
        double m = nearbyint(scaled);
        if (m / POW10[k] != a)
            continue;
        char digits[24];
        int len = 0;
        for (uint64_t v = (uint64_t)m; v || len == 0; v /= 10)
            digits[len++] = (char)('0' + v % 10);
        for (int x = 0, y = len - 1; x < y; x++, y--) {
            char t = digits[x];
            digits[x] = digits[y];
            digits[y] = t;
        }
        if (signbit(d) && buf_byte(b, '-') != OK)
            return -1;
        int rc = OK;
        if (k == 0) {
            rc = buf_put(b, digits, (size_t)len);
            if (rc == OK)
                rc = buf_lit(b, ".0");
        } else if (len > k) {
            rc = buf_put(b, digits, (size_t)(len - k));
            if (rc == OK)
                rc = buf_byte(b, '.');
            if (rc == OK)
                rc = buf_put(b, digits + len - k, (size_t)k);
        } else {
            rc = buf_lit(b, "0.");
            for (int i = 0; i < k - len && rc == OK; i++)
                rc = buf_byte(b, '0');
            if (rc == OK)
                rc = buf_put(b, digits, (size_t)len);
        }
        return rc == OK ? 1 : -1;
    }
    return 0;
}

/* whether D.DDDD x 10^exp (k digits) reads back as |d| */
static int digits_read_back(const char *digits, int k, int exp, double d) {
    char s[48];
    int n = 0;
    s[n++] = digits[0];
    s[n++] = '.';
    for (int i = 1; i < k; i++)
        s[n++] = digits[i];
    snprintf(s + n, sizeof(s) - (size_t)n, "e%d", exp);
    return strtod(s, NULL) == fabs(d);
}

/* the k-digit decimal one unit of the last digit above (step 1) or below (step -1); on a hit,
 * digits and exp hold it */
static int neighbour_reads_back(char *digits, int k, int *exp, double d, int step) {
    char n[24];
    int e = *exp;
    memcpy(n, digits, (size_t)k);
    int i = k - 1;
    if (step > 0) {
        while (i >= 0 && n[i] == '9')
            n[i--] = '0';
        if (i < 0) { /* 999 -> 1000: one more digit, so 100 x 10^(e+1) */
            n[0] = '1';
            e++;
        } else {
            n[i]++;
        }
    } else {
        while (i >= 0 && n[i] == '0')
            n[i--] = '9';
        if (i < 0)
            return 0;
        n[i]--;
        if (n[0] == '0') { /* 1000 -> 0999: 999(9) x 10^(e-1) */
            if (k == 1)
                return 0;
            memmove(n, n + 1, (size_t)(k - 1));
            n[k - 1] = '9';
            e--;
        }
    }
    if (!digits_read_back(n, k, e, d))
        return 0;
    memcpy(digits, n, (size_t)k);
    *exp = e;
    return 1;
}

static int json_double(buf_t *b, double d) {
    if ((isnan(d) || isinf(d)) && document_form) {
        uint8_t bits[8];
        uint64_t u;
        memcpy(&u, &d, sizeof(u));
        for (int i = 0; i < 8; i++)
            bits[i] = (uint8_t)(u >> (56 - 8 * i));
        TRY(buf_lit(b, "{\"$double\":\""));
        TRY(hex(b, bits, sizeof(bits)));
        return buf_lit(b, "\"}");
    }
    if (isnan(d) || isinf(d))
        return buf_lit(b, "null");
    int fast = json_double_fixed(b, d);
    if (fast != 0)
        return fast > 0 ? OK : NOMEM;
    int neg = signbit(d) != 0;
    char digits[24];
    int k = 0, exp = 0;
    /* any 15 significant digits read back as the double they came from, except for
     * subnormals, whose precision is lower: there the search starts at one digit */
    int prec = fabs(d) < 2.2250738585072014e-308 ? 1 : 15;
    for (; prec <= 17; prec++) {
        char tmp[40];
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        k = 0;
        const char *p = tmp;
        for (; *p && *p != 'e'; p++)
            if (*p >= '0' && *p <= '9')
                digits[k++] = *p;
        if (*p != 'e')
            return FALLBACK; /* not the C locale's layout */
        exp = atoi(p + 1);
        if (digits_read_back(digits, k, exp, d))
            break;
        /* the correctly rounded digits can miss while a neighbour hits: at a power of two the
         * interval that reads back as d is narrower below d than above it */
        if (neighbour_reads_back(digits, k, &exp, d, 1) || neighbour_reads_back(digits, k, &exp, d, -1))
            break;
    }
    while (k > 1 && digits[k - 1] == '0')
        k--;
    if (neg)
        TRY(buf_byte(b, '-'));
    if (exp >= -5 && exp <= 15) {
        if (exp >= 0) {
            int intdigits = exp + 1;
            for (int i = 0; i < intdigits; i++)
                TRY(buf_byte(b, (uint8_t)(i < k ? digits[i] : '0')));
            TRY(buf_byte(b, '.'));
            if (k > intdigits)
                TRY(buf_put(b, digits + intdigits, (size_t)(k - intdigits)));
            else
                TRY(buf_byte(b, '0'));
        } else {
            TRY(buf_lit(b, "0."));
            for (int i = 0; i < -exp - 1; i++)
                TRY(buf_byte(b, '0'));
            TRY(buf_put(b, digits, (size_t)k));
        }
        return OK;
    }
    TRY(buf_byte(b, (uint8_t)digits[0]));
    if (k > 1) {
        TRY(buf_byte(b, '.'));
        TRY(buf_put(b, digits + 1, (size_t)(k - 1)));
    }
    TRY(buf_lit(b, "e"));
    if (exp > 0)
        TRY(buf_byte(b, '+'));
    return json_i64(b, exp);
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int base64(buf_t *b, const uint8_t *s, size_t n) {
    if (n > SIZE_MAX / 2)
        return NOMEM;
    TRY(buf_reserve(b, (n + 2) / 3 * 4));
    uint8_t *o = b->data + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = (uint8_t)B64[v >> 18];
        *o++ = (uint8_t)B64[(v >> 12) & 63];
        *o++ = (uint8_t)B64[(v >> 6) & 63];
        *o++ = (uint8_t)B64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = (uint8_t)B64[v >> 18];
        *o++ = (uint8_t)B64[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = (uint8_t)B64[v >> 18];
        *o++ = (uint8_t)B64[(v >> 12) & 63];
        *o++ = (uint8_t)B64[(v >> 6) & 63];
        *o++ = '=';
    }
    b->len = (size_t)(o - b->data);
    return OK;
}

static int hex(buf_t *b, const uint8_t *s, size_t n) {
    if (n > SIZE_MAX / 2)
        return NOMEM;
    TRY(buf_reserve(b, n * 2));
    uint8_t *o = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        *o++ = (uint8_t)HEX[s[i] >> 4];
        *o++ = (uint8_t)HEX[s[i] & 15];
    }
    b->len += n * 2;
    return OK;
}

/* ---- AnyValue */
enum { V_NONE, V_STR, V_BOOL, V_INT, V_DOUBLE, V_ARRAY, V_KVLIST, V_BYTES };

typedef struct {
    int kind;
    slice_t s; /* string, bytes, array or kvlist bytes */
    uint64_t u; /* bool, int, double bits */
} anyvalue_t;

/* the value an AnyValue holds (the last of its oneof fields, as protobuf decides) */
static int anyvalue_read(const uint8_t *p, size_t n, anyvalue_t *v) {
    rd_t r = {p, p + n};
    int messages = 0;
    v->kind = V_NONE;
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        TRY(rd_tag(&r, &field, &wt));
        switch (field) {
        case 1:
            TRY(rd_string(&r, wt, &v->s));
            v->kind = V_STR;
            break;
        case 2:
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&r, &v->u));
            v->kind = V_BOOL;
            break;
        case 3:
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&r, &v->u));
            v->kind = V_INT;
            break;
        case 4:
            EXPECT(wt, WT_I64);
            TRY(rd_fixed64(&r, &v->u));
            v->kind = V_DOUBLE;
            break;
        case 5:
        case 6:
            TRY(rd_bytes(&r, wt, &v->s));
            v->kind = field == 5 ? V_ARRAY : V_KVLIST;
            messages++;
            break;
        case 7:
            TRY(rd_bytes(&r, wt, &v->s));
            v->kind = V_BYTES;
            break;
        case 8: /* string_value_strindex: the reference decoder reads it as no value */
            EXPECT(wt, WT_VARINT);
            TRY(rd_varint(&r, &v->u));
            v->kind = V_NONE;
            break;
        default:
            TRY(rd_skip(&r, wt));
        }
    }
    /* a message value given twice is merged by protobuf, and one replaced by a later scalar is
     * still parsed (and must be valid): both left to the reference decoder */
    if (messages > 1 || (messages == 1 && v->kind != V_ARRAY && v->kind != V_KVLIST))
        return FALLBACK;
    return OK;
}

typedef struct {
    slice_t key;
    slice_t value;
    int has_value;
} kv_t;

/* key-values of one list: on the stack up to KVS_INLINE, then on the heap */
#define KVS_INLINE 32
typedef struct {
    kv_t *v;
    size_t n, cap;
    kv_t inline_[KVS_INLINE];
} kvs_t;

static void kvs_init(kvs_t *s) {
    s->v = s->inline_;
    s->n = 0;
    s->cap = KVS_INLINE;
}

static void kvs_free(kvs_t *s) {
    if (s->v != s->inline_)
        free(s->v);
}

static int kvs_push(kvs_t *s, kv_t x) {
    if (s->n == s->cap) {
        size_t cap = s->cap * 2;
        if (cap > SIZE_MAX / sizeof(kv_t))
            return NOMEM;
        kv_t *v = malloc(cap * sizeof(kv_t));
        if (v == NULL)
            return NOMEM;
        memcpy(v, s->v, s->n * sizeof(kv_t));
        kvs_free(s);
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return OK;
}

static int keyvalue_read(const uint8_t *p, size_t n, kv_t *kv) {
    rd_t r = {p, p + n};
    int values = 0;
    kv->key.p = p;
    kv->key.n = 0;
    kv->has_value = 0;
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        TRY(rd_tag(&r, &field, &wt));
        if (field == 1) {
            TRY(rd_string(&r, wt, &kv->key));
        } else if (field == 2) {
            TRY(rd_bytes(&r, wt, &kv->value));
            kv->has_value = 1;
            values++;
        } else {
            TRY(rd_skip(&r, wt));
        }
    }
    return values > 1 ? FALLBACK : OK; /* a value given twice is merged by protobuf */
}

static int key_eq(slice_t a, slice_t b) {
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static uint64_t key_hash(slice_t k) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < k.n; i++)
        h = (h ^ k.p[i]) * 1099511628211ULL;
    return h;
}

/* FALLBACK when a key repeats: linear for short lists, a hash set for long ones */
static int keys_unique(const kv_t *kvs, size_t n) {
    if (n <= 24) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (key_eq(kvs[i].key, kvs[j].key))
                    return FALLBACK;
        return OK;
    }
    size_t cap = 64;
    while (cap < n * 2)
        cap *= 2;
    size_t *slots = malloc(cap * sizeof(size_t));
    if (slots == NULL)
        return NOMEM;
    for (size_t i = 0; i < cap; i++)
        slots[i] = SIZE_MAX;
    int rc = OK;
    for (size_t i = 0; i < n && rc == OK; i++) {
        size_t at = (size_t)key_hash(kvs[i].key) & (cap - 1);
        while (slots[at] != SIZE_MAX) {
            if (key_eq(kvs[slots[at]].key, kvs[i].key)) {
                rc = FALLBACK;
                break;
            }
            at = (at + 1) & (cap - 1);
        }
        slots[at] = i;
    }
    free(slots);
    return rc;
}

static int json_anyvalue(buf_t *b, const uint8_t *p, size_t n, int depth);

/* a key the document form's tags use: a map holding only it would read back as a tag */
static int tag_key(slice_t k) {
    static const uint8_t DOUBLE_TAG[] = "$double", BYTES_TAG[] = "$bytes";
    slice_t d = {DOUBLE_TAG, sizeof(DOUBLE_TAG) - 1}, y = {BYTES_TAG, sizeof(BYTES_TAG) - 1};
    return key_eq(k, d) || key_eq(k, y);
}

/* KeyValue messages (each a slice) as one JSON object; in the document form, an attribute map
 * (depth 0) as an array of {"k":key,"v":value} */
static int json_keyvalues(buf_t *b, const slice_t *items, size_t count, int depth) {
    int pairs = document_form && depth == 0;
    if (count == 0)
        return pairs ? buf_lit(b, "[]") : buf_lit(b, "{}");
    kvs_t kvs;
    kvs_init(&kvs);
    int rc = OK;
    for (size_t i = 0; i < count && rc == OK; i++) {
        kv_t kv;
        rc = keyvalue_read(items[i].p, items[i].n, &kv);
        if (rc == OK)
            rc = kvs_push(&kvs, kv);
    }
    if (rc == OK)
        rc = keys_unique(kvs.v, kvs.n);
    if (rc == OK && document_form && !pairs && kvs.n == 1 && tag_key(kvs.v[0].key))
        rc = FALLBACK;
    if (rc == OK)
        rc = buf_byte(b, pairs ? '[' : '{');
    for (size_t i = 0; i < kvs.n && rc == OK; i++) {
        if (i)
            rc = buf_byte(b, ',');
        if (rc == OK && pairs)
            rc = buf_lit(b, "{\"k\":");
        if (rc == OK)
            rc = json_string(b, kvs.v[i].key.p, kvs.v[i].key.n);
        if (rc == OK)
            rc = pairs ? buf_lit(b, ",\"v\":") : buf_byte(b, ':');
        if (rc == OK)
            rc = kvs.v[i].has_value ? json_anyvalue(b, kvs.v[i].value.p, kvs.v[i].value.n, depth)
                                    : buf_lit(b, "null");
        if (rc == OK && pairs)
            rc = buf_byte(b, '}');
    }
    if (rc == OK)
        rc = buf_byte(b, pairs ? ']' : '}');
    kvs_free(&kvs);
    return rc;
}

/* the occurrences of field 1 (a repeated message) of an ArrayValue or KeyValueList */
static int repeated_field1(const uint8_t *p, size_t n, slices_t *out) {
    rd_t r = {p, p + n};
    while (r.p < r.end) {
        uint32_t field;
        int wt;
        TRY(rd_tag(&r, &field, &wt));
        if (field == 1) {
            slice_t s;
            TRY(rd_bytes(&r, wt, &s));
            TRY(slices_push(out, s));
        } else {
            TRY(rd_skip(&r, wt));
        }
    }
    return OK;
}

static int json_anyvalue(buf_t *b, const uint8_t *p, size_t n, int depth) {
    anyvalue_t v;
    TRY(anyvalue_read(p, n, &v));
    switch (v.kind) {
    case V_STR:
        return json_string(b, v.s.p, v.s.n);
    case V_BOOL:
        return v.u ? buf_lit(b, "true") : buf_lit(b, "false");
    case V_INT:
        return json_i64(b, (int64_t)v.u);
    case V_DOUBLE: {
        double d;
        memcpy(&d, &v.u, sizeof(d));
        return json_double(b, d);
    }
    case V_BYTES:
        TRY(buf_lit(b, "{\"$bytes\":\""));
        TRY(base64(b, v.s.p, v.s.n));
        return buf_lit(b, "\"}");
    case V_ARRAY:
    case V_KVLIST: {
        if (depth >= MAX_DEPTH)
            return FALLBACK;
        slices_t items = {0};
        int rc = repeated_field1(v.s.p, v.s.n, &items);
        if (rc == OK && v.kind == V_KVLIST) {
            rc = json_keyvalues(b, items.v, items.n, depth + 1);
        } else if (rc == OK) {
            rc = buf_byte(b, '[');
            for (size_t i = 0; i < items.n && rc == OK; i++) {
                if (i)
                    rc = buf_byte(b, ',');
                if (rc == OK)
                    rc = json_anyvalue(b, items.v[i].p, items.v[i].n, depth + 1);
            }
            if (rc == OK)
                rc = buf_byte(b, ']');
        }
        slices_free(&items);
        return rc;
    }
    default:
        return buf_lit(b, "null");
    }
}

/* The service.name of resource attributes: its string value when it has a non-empty one. Keys
 * are unique here (json_keyvalues checked them). */
static int service_name(const slice_t *items, size_t count, slice_t *out) {
    static const uint8_t KEY[] = "service.name";
    slice_t want = {KEY, sizeof(KEY) - 1};
    out->n = 0;
    for (size_t i = 0; i < count; i++) {
        kv_t kv;
        TRY(keyvalue_read(items[i].p, items[i].n, &kv));
        if (!kv.has_value || !key_eq(kv.key, want))
            continue;
        anyvalue_t v;
        TRY(anyvalue_read(kv.value.p, kv.value.n, &v));
        if (v.kind == V_STR && v.s.n > 0)
            *out = v.s;
        else
            out->n = 0;
    }
    return OK;
}

#endif
