/* OTLP/JSON -> the protobuf wire format, so that the protobuf decoders read both encodings.
 *
 * The reference (obsvty.adapters.otlp.codec.SignalCodec.parse_json) is orjson, then trace and
 * span ids rewritten from hex, then protobuf's json_format.ParseDict. This transcoder accepts the
 * canonical subset of what they accept: strict JSON in UTF-8; fields by their JSON (lowerCamel)
 * or proto (snake_case) names, unknown ones ignored; integers as JSON integers or decimal
 * strings, doubles as JSON numbers, enums as integers, bytes as standard base64, ids as hex.
 * Anything else — null, a duplicate key, two members of a oneof, an enum by name, a double as a
 * string, numbers out of a field's range — answers FALLBACK and the reference decides, so the
 * transcoded request always means exactly what ParseDict would make of the document.
 *
 * Length-delimited fields are written with a 5-byte (padded) length varint, filled in once the
 * field's content is written: valid protobuf that needs no second pass or copy.
 *
 * Longer than the project's ~450-line bound on purpose: one transcoder; its tables of OTLP
 * messages are data, and the scanner they drive is short.
 */
#ifndef OBSVTY_OTLP_JSON_H
#define OBSVTY_OTLP_JSON_H

#include <errno.h>

#include "columns.h"
#include "wire.h"

#define JSON_MAX_DEPTH 64

typedef enum {
    F_STR,     /* string */
    F_BYTES,   /* base64 -> bytes */
    F_HEXID,   /* hex -> bytes (trace and span ids) */
    F_FIXED64, /* uint64 as fixed64 */
    F_FIXED32, /* uint32 as fixed32 */
    F_UINT32,  /* varint */
    F_UINT64,  /* varint */
    F_INT32,   /* varint, sign-extended (enums) */
    F_INT64,   /* varint, two's complement */
    F_BOOL,
    F_DOUBLE,
    F_MSG,     /* a message (of `msg`) */
    F_SKIP,    /* a field the decoders leave to the reference (FALLBACK when present) */
    F_SFIXED64, /* int64 as sfixed64 */
    F_SINT32,   /* int32 as a zigzag varint */
} ftype_t;

struct msgdef;

typedef struct {
    const char *const *names; /* names[v]: the name of value v */
    int count;
} enumdef_t;

typedef struct {
    const char *json, *proto;
    uint32_t number;
    ftype_t type;
    int repeated;
    const struct msgdef *msg;
    const enumdef_t *enums; /* F_INT32 enums: their values' names, which ParseDict accepts */
} fielddef_t;

typedef struct msgdef {
    const fielddef_t *fields;
    int count;
    int oneof; /* the fields (a bit per index) of the message's oneof: at most one may be given */
} msgdef_t;

typedef struct {
    const uint8_t *p, *end;
    buf_t str; /* the last string token, unescaped */
} jp_t;

static inline void ws(jp_t *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static inline int peek(jp_t *j) {
    ws(j);
    return j->p < j->end ? *j->p : -1;
}

static inline int expect_char(jp_t *j, uint8_t c) {
    if (peek(j) != c)
        return FALLBACK;
    j->p++;
    return OK;
}

static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int put_utf8(buf_t *b, uint32_t cp) {
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xC0 | (cp >> 6));
        u[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xE0 | (cp >> 12));
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xF0 | (cp >> 18));
        u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_put(b, u, n);
}

static int read_u4(jp_t *j, uint32_t *out) {
    if (j->end - j->p < 4)
        return FALLBACK;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(j->p[i]);
        if (h < 0)
            return FALLBACK;
        v = v << 4 | (uint32_t)h;
    }
    j->p += 4;
    *out = v;
    return OK;
}

/* a JSON string token, unescaped into j->str; raw bytes must be valid UTF-8 */
static int jstring(jp_t *j) {
    if (peek(j) != '"')
        return FALLBACK;
    j->p++;
    j->str.len = 0;
    for (;;) {
        const uint8_t *run = j->p;
        while (j->p < j->end && *j->p != '"' && *j->p != '\\' && *j->p >= 0x20)
            j->p++;
        if (!utf8_valid(run, (size_t)(j->p - run)))
            return FALLBACK;
        TRY(buf_put(&j->str, run, (size_t)(j->p - run)));
        if (j->p >= j->end || *j->p < 0x20)
            return FALLBACK; /* unterminated, or a raw control character */
        if (*j->p == '"') {
            j->p++;
            return OK;
        }
        j->p++; /* backslash */
        if (j->p >= j->end)
            return FALLBACK;
        uint8_t e = *j->p++;
        uint8_t c;
        switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            uint32_t cp;
            TRY(read_u4(j, &cp));
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return FALLBACK; /* a lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                    return FALLBACK;
                j->p += 2;
                TRY(read_u4(j, &lo));
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return FALLBACK;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            TRY(put_utf8(&j->str, cp));
            continue;
        }
        default:
            return FALLBACK;
        }
        TRY(buf_byte(&j->str, c));
    }
}

/* a JSON number token (strict grammar); *is_int: no fraction, no exponent */
static int jnumber(jp_t *j, const uint8_t **start, size_t *len, int *is_int) {
    ws(j);
    const uint8_t *s = j->p, *p = j->p, *e = j->end;
    *is_int = 1;
    if (p < e && *p == '-')
        p++;
    if (p >= e || *p < '0' || *p > '9')
        return FALLBACK;
    if (*p == '0')
        p++;
    else
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    if (p < e && *p == '.') {
        *is_int = 0;
        p++;
        if (p >= e || *p < '0' || *p > '9')
            return FALLBACK;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        *is_int = 0;
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || *p < '0' || *p > '9')
            return FALLBACK;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    *start = s;
    *len = (size_t)(p - s);
    j->p = p;
    return OK;
}

static int jskip(jp_t *j, int depth);
static int jdouble(jp_t *j, double *out);

static int jliteral(jp_t *j, const char *lit) {
    size_t n = strlen(lit);
    ws(j);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
        return FALLBACK;
    j->p += n;
    return OK;
}

/* any JSON value, checked and skipped (the value of an unknown field) */
static int jskip(jp_t *j, int depth) {
    if (depth > JSON_MAX_DEPTH)
        return FALLBACK;
    int c = peek(j);
    if (c == '"')
        return jstring(j);
    if (c == '{' || c == '[') {
        uint8_t close = c == '{' ? '}' : ']';
        j->p++;
        if (peek(j) == close) {
            j->p++;
            return OK;
        }
        for (;;) {
            if (c == '{') {
                TRY(jstring(j));
                TRY(expect_char(j, ':'));
            }
            TRY(jskip(j, depth + 1));
            int n = peek(j);
            j->p++;
            if (n == close)
                return OK;
            if (n != ',')
                return FALLBACK;
        }
    }
    if (c == 't')
        return jliteral(j, "true");
    if (c == 'f')
        return jliteral(j, "false");
    if (c == 'n')
        return jliteral(j, "null");
    /* a number: orjson refuses the whole document when one is out of a double's range */
    double d;
    return jdouble(j, &d);
}

/* ---- writing the wire format */
static int put_varint(buf_t *b, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    return buf_put(b, tmp, n);
}

static int put_tag(buf_t *b, uint32_t number, int wt) {
    return put_varint(b, (uint64_t)number << 3 | (uint64_t)wt);
}

/* reserves a 5-byte length, filled by end_len */
static int begin_len(buf_t *b, uint32_t number, size_t *at) {
    TRY(put_tag(b, number, WT_LEN));
    TRY(buf_reserve(b, 5));
    *at = b->len;
    b->len += 5;
    return OK;
}

static int end_len(buf_t *b, size_t at) {
    size_t n = b->len - at - 5;
    if (n > 0x7FFFFFFF)
        return FALLBACK;
    for (int i = 0; i < 5; i++) {
        b->data[at + (size_t)i] = (uint8_t)((n >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0);
    }
    return OK;
}

/* an integer given as a JSON integer or a decimal string ("-"? digits) */
static int jinteger(jp_t *j, int is_signed, uint64_t *mag, int *neg) {
    const uint8_t *s;
    size_t n;
    if (peek(j) == '"') {
        TRY(jstring(j));
        s = j->str.data;
        n = j->str.len;
    } else {
        int is_int;
        TRY(jnumber(j, &s, &n, &is_int));
        if (!is_int)
            return FALLBACK;
    }
    *neg = 0;
    size_t i = 0;
    if (n && s[0] == '-') {
        if (!is_signed)
            return FALLBACK;
        *neg = 1;
        i = 1;
    }
    if (i >= n || n - i > 20)
        return FALLBACK;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return FALLBACK;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return FALLBACK;
        v = v * 10 + d;
    }
    *mag = v;
    return OK;
}

static int jdouble(jp_t *j, double *out) {
    const uint8_t *s;
    size_t n;
    int is_int;
    TRY(jnumber(j, &s, &n, &is_int));
    char tmp[64];
    if (n >= sizeof(tmp))
        return FALLBACK;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    errno = 0;
    double d = strtod(tmp, NULL);
    if (isinf(d) || errno == ERANGE)
        return FALLBACK; /* out of range: refused by orjson, or an underflow to look at */
    if (is_int) {
        /* orjson reads an integer as an integer when it fits 64 bits and ParseDict converts it:
         * the same correctly rounded double, except for -0 */
        if (n == 2 && tmp[0] == '-' && tmp[1] == '0')
            d = 0.0;
    }
    *out = d;
    return OK;
}

static int b64val(uint8_t c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* standard base64, padded or not */
static int unbase64(const uint8_t *s, size_t n, buf_t *out) {
    while (n && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return FALLBACK;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return FALLBACK;
        acc = (acc << 6 | (uint32_t)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            TRY(buf_byte(out, (uint8_t)(acc >> bits)));
        }
    }
    return OK;
}

static int unhex(const uint8_t *s, size_t n, buf_t *out) {
    if (n % 2)
        return FALLBACK;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return FALLBACK;
        TRY(buf_byte(out, (uint8_t)(hi << 4 | lo)));
    }
    return OK;
}

static int jmessage(jp_t *j, const msgdef_t *m, buf_t *out, int depth);

static int jfield(jp_t *j, const fielddef_t *f, buf_t *out, int depth) {
    uint64_t v;
    int neg;
    switch (f->type) {
    case F_STR:
        TRY(jstring(j));
        TRY(put_tag(out, f->number, WT_LEN));
        TRY(put_varint(out, j->str.len));
        return buf_put(out, j->str.data, j->str.len);
    case F_BYTES:
    case F_HEXID: {
        TRY(jstring(j));
        size_t at;
        TRY(begin_len(out, f->number, &at));
        TRY(f->type == F_BYTES ? unbase64(j->str.data, j->str.len, out)
                               : unhex(j->str.data, j->str.len, out));
        return end_len(out, at);
    }
    case F_FIXED64:
    case F_UINT64:
        TRY(jinteger(j, 0, &v, &neg));
        if (f->type == F_UINT64) {
            TRY(put_tag(out, f->number, WT_VARINT));
            return put_varint(out, v);
        }
        TRY(put_tag(out, f->number, WT_I64));
        for (int i = 0; i < 8; i++)
            TRY(buf_byte(out, (uint8_t)(v >> (8 * i))));
        return OK;
    case F_FIXED32:
    case F_UINT32:
        TRY(jinteger(j, 0, &v, &neg));
        if (v > UINT32_MAX)
            return FALLBACK;
        if (f->type == F_UINT32) {
            TRY(put_tag(out, f->number, WT_VARINT));
            return put_varint(out, v);
        }
        TRY(put_tag(out, f->number, WT_I32));
        for (int i = 0; i < 4; i++)
            TRY(buf_byte(out, (uint8_t)(v >> (8 * i))));
        return OK;
    case F_INT32:
    case F_INT64: {
        if (peek(j) == '"' && f->type == F_INT32) { /* an enum by name */
            TRY(jstring(j));
            for (int i = 0; f->enums != NULL && i < f->enums->count; i++) {
                const char *name = f->enums->names[i];
                if (j->str.len == strlen(name) && memcmp(j->str.data, name, j->str.len) == 0) {
                    TRY(put_tag(out, f->number, WT_VARINT));
                    return put_varint(out, (uint64_t)i);
                }
            }
            return FALLBACK;
        }
        TRY(jinteger(j, 1, &v, &neg));
        uint64_t limit = f->type == F_INT32 ? 0x7FFFFFFFULL : 0x7FFFFFFFFFFFFFFFULL;
        if (v > limit + (uint64_t)neg)
            return FALLBACK;
        TRY(put_tag(out, f->number, WT_VARINT));
        return put_varint(out, neg ? (uint64_t)0 - v : v);
    }
    case F_SFIXED64:
        TRY(jinteger(j, 1, &v, &neg));
        if (v > 0x7FFFFFFFFFFFFFFFULL + (uint64_t)neg)
            return FALLBACK;
        v = neg ? (uint64_t)0 - v : v;
        TRY(put_tag(out, f->number, WT_I64));
        for (int i = 0; i < 8; i++)
            TRY(buf_byte(out, (uint8_t)(v >> (8 * i))));
        return OK;
    case F_SINT32: {
        TRY(jinteger(j, 1, &v, &neg));
        if (v > 0x7FFFFFFFULL + (uint64_t)neg)
            return FALLBACK;
        int64_t n = neg ? -(int64_t)v : (int64_t)v;
        uint32_t zz = ((uint32_t)n << 1) ^ (uint32_t)(n < 0 ? -1 : 0);
        TRY(put_tag(out, f->number, WT_VARINT));
        return put_varint(out, zz);
    }
    case F_BOOL: {
        int c = peek(j);
        if (c == 't')
            TRY(jliteral(j, "true"));
        else if (c == 'f')
            TRY(jliteral(j, "false"));
        else
            return FALLBACK;
        TRY(put_tag(out, f->number, WT_VARINT));
        return buf_byte(out, c == 't');
    }
    case F_DOUBLE: {
        double d;
        TRY(jdouble(j, &d));
        TRY(put_tag(out, f->number, WT_I64));
        uint64_t bits;
        memcpy(&bits, &d, sizeof(bits));
        for (int i = 0; i < 8; i++)
            TRY(buf_byte(out, (uint8_t)(bits >> (8 * i))));
        return OK;
    }
    case F_MSG: {
        size_t at;
        TRY(begin_len(out, f->number, &at));
        TRY(jmessage(j, f->msg, out, depth + 1));
        return end_len(out, at);
    }
    default:
        return FALLBACK;
    }
}

static inline int name_is(const char *want, const uint8_t *name, size_t len) {
    /* the first byte rules out nearly every field before a length is counted */
    return want[0] == (char)name[0] && strlen(want) == len && memcmp(want, name, len) == 0;
}

static const fielddef_t *lookup(const msgdef_t *m, const buf_t *name) {
    if (name->len == 0)
        return NULL; /* no field has an empty name */
    for (int i = 0; i < m->count; i++) {
        const fielddef_t *f = &m->fields[i];
        if (name_is(f->json, name->data, name->len) || name_is(f->proto, name->data, name->len))
            return f;
    }
    return NULL;
}

static int jmessage(jp_t *j, const msgdef_t *m, buf_t *out, int depth) {
    if (depth > JSON_MAX_DEPTH)
        return FALLBACK;
    TRY(expect_char(j, '{'));
    uint64_t seen = 0;
    int given = 0;
    if (peek(j) == '}') {
        j->p++;
        return OK;
    }
    for (;;) {
        TRY(jstring(j));
        TRY(expect_char(j, ':'));
        const fielddef_t *f = lookup(m, &j->str);
        if (f == NULL) {
            TRY(jskip(j, depth + 1));
        } else {
            int index = (int)(f - m->fields);
            if (seen & (1ULL << index))
                return FALLBACK; /* the same field twice (two spellings, or a duplicate key) */
            seen |= 1ULL << index;
            if (((m->oneof >> index) & 1) && ++given > 1)
                return FALLBACK;
            int c = peek(j);
            if (c == 'n' || f->type == F_SKIP)
                return FALLBACK; /* null; or a field left to the reference */
            if (f->repeated) {
                TRY(expect_char(j, '['));
                if (peek(j) == ']') {
                    j->p++;
                } else {
                    for (;;) {
                        if (peek(j) == 'n')
                            return FALLBACK;
                        TRY(jfield(j, f, out, depth + 1));
                        int n = peek(j);
                        j->p++;
                        if (n == ']')
                            break;
                        if (n != ',')
                            return FALLBACK;
                    }
                }
            } else {
                TRY(jfield(j, f, out, depth));
            }
        }
        int n = peek(j);
        j->p++;
        if (n == '}')
            return OK;
        if (n != ',')
            return FALLBACK;
    }
}

/* ---- the OTLP messages, as json_format sees them (json name, proto name, number, type) */
static const msgdef_t ANYVALUE_DEF; /* defined below: AnyValue and KeyValue nest each other */
static const fielddef_t KEYVALUE_FIELDS[] = {
    {"key", "key", 1, F_STR, 0, NULL, NULL},
    {"value", "value", 2, F_MSG, 0, &ANYVALUE_DEF, NULL},
};
static const msgdef_t KEYVALUE_DEF = {KEYVALUE_FIELDS, 2, 0};
static const fielddef_t ARRAY_FIELDS[] = {{"values", "values", 1, F_MSG, 1, &ANYVALUE_DEF, NULL}};
static const msgdef_t ARRAY_DEF = {ARRAY_FIELDS, 1, 0};
static const fielddef_t KVLIST_FIELDS[] = {{"values", "values", 1, F_MSG, 1, &KEYVALUE_DEF, NULL}};
static const msgdef_t KVLIST_DEF = {KVLIST_FIELDS, 1, 0};
static const fielddef_t ANYVALUE_FIELDS[] = {
    {"stringValue", "string_value", 1, F_STR, 0, NULL, NULL},
    {"boolValue", "bool_value", 2, F_BOOL, 0, NULL, NULL},
    {"intValue", "int_value", 3, F_INT64, 0, NULL, NULL},
    {"doubleValue", "double_value", 4, F_DOUBLE, 0, NULL, NULL},
    {"arrayValue", "array_value", 5, F_MSG, 0, &ARRAY_DEF, NULL},
    {"kvlistValue", "kvlist_value", 6, F_MSG, 0, &KVLIST_DEF, NULL},
    {"bytesValue", "bytes_value", 7, F_BYTES, 0, NULL, NULL},
    {"stringValueStrindex", "string_value_strindex", 8, F_INT32, 0, NULL, NULL},
};
static const msgdef_t ANYVALUE_DEF = {ANYVALUE_FIELDS, 8, 0xFF};

static const fielddef_t RESOURCE_FIELDS[] = {
    {"attributes", "attributes", 1, F_MSG, 1, &KEYVALUE_DEF, NULL},
    {"droppedAttributesCount", "dropped_attributes_count", 2, F_UINT32, 0, NULL, NULL},
    {"entityRefs", "entity_refs", 3, F_SKIP, 1, NULL, NULL},
};
static const msgdef_t RESOURCE_DEF = {RESOURCE_FIELDS, 3, 0};
static const fielddef_t SCOPE_FIELDS[] = {
    {"name", "name", 1, F_STR, 0, NULL, NULL},
    {"version", "version", 2, F_STR, 0, NULL, NULL},
    {"attributes", "attributes", 3, F_MSG, 1, &KEYVALUE_DEF, NULL},
    {"droppedAttributesCount", "dropped_attributes_count", 4, F_UINT32, 0, NULL, NULL},
};
static const msgdef_t SCOPE_DEF = {SCOPE_FIELDS, 4, 0};

static const char *const SPAN_KIND_NAMES[] = {
    "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",      "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
};
static const enumdef_t SPAN_KIND = {SPAN_KIND_NAMES, 6};
static const char *const STATUS_CODE_NAMES[] = {
    "STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"};
static const enumdef_t STATUS_CODE = {STATUS_CODE_NAMES, 3};

static const fielddef_t STATUS_FIELDS[] = {
    {"message", "message", 2, F_STR, 0, NULL, NULL},
    {"code", "code", 3, F_INT32, 0, NULL, &STATUS_CODE},
};
static const msgdef_t STATUS_DEF = {STATUS_FIELDS, 2, 0};
static const fielddef_t EVENT_FIELDS[] = {
    {"timeUnixNano", "time_unix_nano", 1, F_FIXED64, 0, NULL, NULL},
    {"name", "name", 2, F_STR, 0, NULL, NULL},
    {"attributes", "attributes", 3, F_MSG, 1, &KEYVALUE_DEF, NULL},
    {"droppedAttributesCount", "dropped_attributes_count", 4, F_UINT32, 0, NULL, NULL},
};
static const msgdef_t EVENT_DEF = {EVENT_FIELDS, 4, 0};
static const fielddef_t LINK_FIELDS[] = {
    {"traceId", "trace_id", 1, F_HEXID, 0, NULL, NULL},
    {"spanId", "span_id", 2, F_HEXID, 0, NULL, NULL},
    {"traceState", "trace_state", 3, F_STR, 0, NULL, NULL},
    {"attributes", "attributes", 4, F_MSG, 1, &KEYVALUE_DEF, NULL},
    {"droppedAttributesCount", "dropped_attributes_count", 5, F_UINT32, 0, NULL, NULL},
    {"flags", "flags", 6, F_FIXED32, 0, NULL, NULL},
};
static const msgdef_t LINK_DEF = {LINK_FIELDS, 6, 0};
static const fielddef_t SPAN_FIELDS[] = {
    {"traceId", "trace_id", 1, F_HEXID, 0, NULL, NULL},
    {"spanId", "span_id", 2, F_HEXID, 0, NULL, NULL},
    {"traceState", "trace_state", 3, F_STR, 0, NULL, NULL},
    {"parentSpanId", "parent_span_id", 4, F_HEXID, 0, NULL, NULL},
    {"flags", "flags", 16, F_FIXED32, 0, NULL, NULL},
    {"name", "name", 5, F_STR, 0, NULL, NULL},
    {"kind", "kind", 6, F_INT32, 0, NULL, &SPAN_KIND},
    {"startTimeUnixNano", "start_time_unix_nano", 7, F_FIXED64, 0, NULL, NULL},
    {"endTimeUnixNano", "end_time_unix_nano", 8, F_FIXED64, 0, NULL, NULL},
    {"attributes", "attributes", 9, F_MSG, 1, &KEYVALUE_DEF, NULL},
    {"droppedAttributesCount", "dropped_attributes_count", 10, F_UINT32, 0, NULL, NULL},
    {"events", "events", 11, F_MSG, 1, &EVENT_DEF, NULL},
    {"droppedEventsCount", "dropped_events_count", 12, F_UINT32, 0, NULL, NULL},
    {"links", "links", 13, F_MSG, 1, &LINK_DEF, NULL},
    {"droppedLinksCount", "dropped_links_count", 14, F_UINT32, 0, NULL, NULL},
    {"status", "status", 15, F_MSG, 0, &STATUS_DEF, NULL},
};
static const msgdef_t SPAN_DEF = {SPAN_FIELDS, 16, 0};
static const fielddef_t SCOPE_SPANS_FIELDS[] = {
    {"scope", "scope", 1, F_MSG, 0, &SCOPE_DEF, NULL},
    {"spans", "spans", 2, F_MSG, 1, &SPAN_DEF, NULL},
    {"schemaUrl", "schema_url", 3, F_STR, 0, NULL, NULL},
};
static const msgdef_t SCOPE_SPANS_DEF = {SCOPE_SPANS_FIELDS, 3, 0};
static const fielddef_t RESOURCE_SPANS_FIELDS[] = {
    {"resource", "resource", 1, F_MSG, 0, &RESOURCE_DEF, NULL},
    {"scopeSpans", "scope_spans", 2, F_MSG, 1, &SCOPE_SPANS_DEF, NULL},
    {"schemaUrl", "schema_url", 3, F_STR, 0, NULL, NULL},
};
static const msgdef_t RESOURCE_SPANS_DEF = {RESOURCE_SPANS_FIELDS, 3, 0};
static const fielddef_t TRACE_REQUEST_FIELDS[] = {
    {"resourceSpans", "resource_spans", 1, F_MSG, 1, &RESOURCE_SPANS_DEF, NULL},
};
static const msgdef_t TRACE_REQUEST_DEF = {TRACE_REQUEST_FIELDS, 1, 0};

/* ---- logs (opentelemetry/proto/logs/v1/logs.proto) */
static const char *const SEVERITY_NAMES[] = {
    "SEVERITY_NUMBER_UNSPECIFIED", "SEVERITY_NUMBER_TRACE",  "SEVERITY_NUMBER_TRACE2",
    "SEVERITY_NUMBER_TRACE3",      "SEVERITY_NUMBER_TRACE4", "SEVERITY_NUMBER_DEBUG",
    "SEVERITY_NUMBER_DEBUG2",      "SEVERITY_NUMBER_DEBUG3", "SEVERITY_NUMBER_DEBUG4",
    "SEVERITY_NUMBER_INFO",        "SEVERITY_NUMBER_INFO2",  "SEVERITY_NUMBER_INFO3",
    "SEVERITY_NUMBER_INFO4",       "SEVERITY_NUMBER_WARN",   "SEVERITY_NUMBER_WARN2",
    "SEVERITY_NUMBER_WARN3",       "SEVERITY_NUMBER_WARN4",  "SEVERITY_NUMBER_ERROR",
    "SEVERITY_NUMBER_ERROR2",      "SEVERITY_NUMBER_ERROR3", "SEVERITY_NUMBER_ERROR4",
    "SEVERITY_NUMBER_FATAL",       "SEVERITY_NUMBER_FATAL2", "SEVERITY_NUMBER_FATAL3",
    "SEVERITY_NUMBER_FATAL4",
};
static const enumdef_t SEVERITY = {SEVERITY_NAMES, 25};
static const fielddef_t LOG_RECORD_FIELDS[] = {
    {"timeUnixNano", "time_unix_nano", 1, F_FIXED64, 0, NULL, NULL},
    {"observedTimeUnixNano", "observed_time_unix_nano", 11, F_FIXED64, 0, NULL, NULL},
    {"severityNumber", "severity_number", 2, F_INT32, 0, NULL, &SEVERITY},
    {"severityText", "severity_text", 3, F_STR, 0, NULL, NULL},
    {"body", "body", 5, F_MSG, 0, &ANYVALUE_DEF, NULL},
    {"attributes", "attributes", 6, F_MSG, 1, &KEYVALUE_DEF, NULL},
    {"droppedAttributesCount", "dropped_attributes_count", 7, F_UINT32, 0, NULL, NULL},
    {"flags", "flags", 8, F_FIXED32, 0, NULL, NULL},
    {"traceId", "trace_id", 9, F_HEXID, 0, NULL, NULL},
    {"spanId", "span_id", 10, F_HEXID, 0, NULL, NULL},
    {"eventName", "event_name", 12, F_STR, 0, NULL, NULL},
};
static const msgdef_t LOG_RECORD_DEF = {LOG_RECORD_FIELDS, 11, 0};
static const fielddef_t SCOPE_LOGS_FIELDS[] = {
    {"scope", "scope", 1, F_MSG, 0, &SCOPE_DEF, NULL},
    {"logRecords", "log_records", 2, F_MSG, 1, &LOG_RECORD_DEF, NULL},
    {"schemaUrl", "schema_url", 3, F_STR, 0, NULL, NULL},
};
static const msgdef_t SCOPE_LOGS_DEF = {SCOPE_LOGS_FIELDS, 3, 0};
static const fielddef_t RESOURCE_LOGS_FIELDS[] = {
    {"resource", "resource", 1, F_MSG, 0, &RESOURCE_DEF, NULL},
    {"scopeLogs", "scope_logs", 2, F_MSG, 1, &SCOPE_LOGS_DEF, NULL},
    {"schemaUrl", "schema_url", 3, F_STR, 0, NULL, NULL},
};
static const msgdef_t RESOURCE_LOGS_DEF = {RESOURCE_LOGS_FIELDS, 3, 0};
static const fielddef_t LOGS_REQUEST_FIELDS[] = {
    {"resourceLogs", "resource_logs", 1, F_MSG, 1, &RESOURCE_LOGS_DEF, NULL},
};
static const msgdef_t LOGS_REQUEST_DEF = {LOGS_REQUEST_FIELDS, 1, 0};

/* ---- metrics (opentelemetry/proto/metrics/v1/metrics.proto) */
static const char *const TEMPORALITY_NAMES[] = {
    "AGGREGATION_TEMPORALITY_UNSPECIFIED", "AGGREGATION_TEMPORALITY_DELTA",
    "AGGREGATION_TEMPORALITY_CUMULATIVE"};
static const enumdef_t TEMPORALITY = {TEMPORALITY_NAMES, 3};

static const fielddef_t EXEMPLAR_FIELDS[] = {
    {"filteredAttributes", "filtered_attributes", 7, F_MSG, 1, &KEYVALUE_DEF, NULL},
    {"timeUnixNano", "time_unix_nano", 2, F_FIXED64, 0, NULL, NULL},
    {"asDouble", "as_double", 3, F_DOUBLE, 0, NULL, NULL},
    {"asInt", "as_int", 6, F_SFIXED64, 0, NULL, NULL},
    {"spanId", "span_id", 4, F_HEXID, 0, NULL, NULL},
    {"traceId", "trace_id", 5, F_HEXID, 0, NULL, NULL},
};
static const msgdef_t EXEMPLAR_DEF = {EXEMPLAR_FIELDS, 6, 0x0C}; /* oneof value */
static const fielddef_t NUMBER_POINT_FIELDS[] = {
    {"attributes", "attributes", 7, F_MSG, 1, &KEYVALUE_DEF, NULL},
    {"startTimeUnixNano", "start_time_unix_nano", 2, F_FIXED64, 0, NULL, NULL},
    {"timeUnixNano", "time_unix_nano", 3, F_FIXED64, 0, NULL, NULL},
    {"asDouble", "as_double", 4, F_DOUBLE, 0, NULL, NULL},
    {"asInt", "as_int", 6, F_SFIXED64, 0, NULL, NULL},
    {"exemplars", "exemplars", 5, F_MSG, 1, &EXEMPLAR_DEF, NULL},
    {"flags", "flags", 8, F_UINT32, 0, NULL, NULL},
};
static const msgdef_t NUMBER_POINT_DEF = {NUMBER_POINT_FIELDS, 7, 0x18}; /* oneof value */
static const fielddef_t HISTOGRAM_POINT_FIELDS[] = {
    {"attributes", "attributes", 9, F_MSG, 1, &KEYVALUE_DEF, NULL},
    {"startTimeUnixNano", "start_time_unix_nano", 2, F_FIXED64, 0, NULL, NULL},
    {"timeUnixNano", "time_unix_nano", 3, F_FIXED64, 0, NULL, NULL},
    {"count", "count", 4, F_FIXED64, 0, NULL, NULL},
    {"sum", "sum", 5, F_DOUBLE, 0, NULL, NULL},
    {"bucketCounts", "bucket_counts", 6, F_FIXED64, 1, NULL, NULL},
    {"explicitBounds", "explicit_bounds", 7, F_DOUBLE, 1, NULL, NULL},
    {"exemplars", "exemplars", 8, F_MSG, 1, &EXEMPLAR_DEF, NULL},
    {"flags", "flags", 10, F_UINT32, 0, NULL, NULL},
    {"min", "min", 11, F_DOUBLE, 0, NULL, NULL},
    {"max", "max", 12, F_DOUBLE, 0, NULL, NULL},
};
static const msgdef_t HISTOGRAM_POINT_DEF = {HISTOGRAM_POINT_FIELDS, 11, 0};
static const fielddef_t BUCKETS_FIELDS[] = {
    {"offset", "offset", 1, F_SINT32, 0, NULL, NULL},
    {"bucketCounts", "bucket_counts", 2, F_UINT64, 1, NULL, NULL},
};
static const msgdef_t BUCKETS_DEF = {BUCKETS_FIELDS, 2, 0};
static const fielddef_t EXPONENTIAL_POINT_FIELDS[] = {
    {"attributes", "attributes", 1, F_MSG, 1, &KEYVALUE_DEF, NULL},
    {"startTimeUnixNano", "start_time_unix_nano", 2, F_FIXED64, 0, NULL, NULL},
    {"timeUnixNano", "time_unix_nano", 3, F_FIXED64, 0, NULL, NULL},
    {"count", "count", 4, F_FIXED64, 0, NULL, NULL},
    {"sum", "sum", 5, F_DOUBLE, 0, NULL, NULL},
    {"scale", "scale", 6, F_SINT32, 0, NULL, NULL},
    {"zeroCount", "zero_count", 7, F_FIXED64, 0, NULL, NULL},
    {"positive", "positive", 8, F_MSG, 0, &BUCKETS_DEF, NULL},
    {"negative", "negative", 9, F_MSG, 0, &BUCKETS_DEF, NULL},
    {"flags", "flags", 10, F_UINT32, 0, NULL, NULL},
    {"exemplars", "exemplars", 11, F_MSG, 1, &EXEMPLAR_DEF, NULL},
    {"min", "min", 12, F_DOUBLE, 0, NULL, NULL},
    {"max", "max", 13, F_DOUBLE, 0, NULL, NULL},
    {"zeroThreshold", "zero_threshold", 14, F_DOUBLE, 0, NULL, NULL},
};
static const msgdef_t EXPONENTIAL_POINT_DEF = {EXPONENTIAL_POINT_FIELDS, 14, 0};
static const fielddef_t QUANTILE_FIELDS[] = {
    {"quantile", "quantile", 1, F_DOUBLE, 0, NULL, NULL},
    {"value", "value", 2, F_DOUBLE, 0, NULL, NULL},
};
static const msgdef_t QUANTILE_DEF = {QUANTILE_FIELDS, 2, 0};
static const fielddef_t SUMMARY_POINT_FIELDS[] = {
    {"attributes", "attributes", 7, F_MSG, 1, &KEYVALUE_DEF, NULL},
    {"startTimeUnixNano", "start_time_unix_nano", 2, F_FIXED64, 0, NULL, NULL},
    {"timeUnixNano", "time_unix_nano", 3, F_FIXED64, 0, NULL, NULL},
    {"count", "count", 4, F_FIXED64, 0, NULL, NULL},
    {"sum", "sum", 5, F_DOUBLE, 0, NULL, NULL},
    {"quantileValues", "quantile_values", 6, F_MSG, 1, &QUANTILE_DEF, NULL},
    {"flags", "flags", 8, F_UINT32, 0, NULL, NULL},
};
static const msgdef_t SUMMARY_POINT_DEF = {SUMMARY_POINT_FIELDS, 7, 0};

static const fielddef_t GAUGE_FIELDS[] = {
    {"dataPoints", "data_points", 1, F_MSG, 1, &NUMBER_POINT_DEF, NULL},
};
static const msgdef_t GAUGE_DEF = {GAUGE_FIELDS, 1, 0};
static const fielddef_t SUM_FIELDS[] = {
    {"dataPoints", "data_points", 1, F_MSG, 1, &NUMBER_POINT_DEF, NULL},
    {"aggregationTemporality", "aggregation_temporality", 2, F_INT32, 0, NULL, &TEMPORALITY},
    {"isMonotonic", "is_monotonic", 3, F_BOOL, 0, NULL, NULL},
};
static const msgdef_t SUM_DEF = {SUM_FIELDS, 3, 0};
static const fielddef_t HISTOGRAM_FIELDS[] = {
    {"dataPoints", "data_points", 1, F_MSG, 1, &HISTOGRAM_POINT_DEF, NULL},
    {"aggregationTemporality", "aggregation_temporality", 2, F_INT32, 0, NULL, &TEMPORALITY},
};
static const msgdef_t HISTOGRAM_DEF = {HISTOGRAM_FIELDS, 2, 0};
static const fielddef_t EXPONENTIAL_FIELDS[] = {
    {"dataPoints", "data_points", 1, F_MSG, 1, &EXPONENTIAL_POINT_DEF, NULL},
    {"aggregationTemporality", "aggregation_temporality", 2, F_INT32, 0, NULL, &TEMPORALITY},
};
static const msgdef_t EXPONENTIAL_DEF = {EXPONENTIAL_FIELDS, 2, 0};
static const fielddef_t SUMMARY_FIELDS[] = {
    {"dataPoints", "data_points", 1, F_MSG, 1, &SUMMARY_POINT_DEF, NULL},
};
static const msgdef_t SUMMARY_DEF = {SUMMARY_FIELDS, 1, 0};
static const fielddef_t METRIC_FIELDS[] = {
    {"name", "name", 1, F_STR, 0, NULL, NULL},
    {"description", "description", 2, F_STR, 0, NULL, NULL},
    {"unit", "unit", 3, F_STR, 0, NULL, NULL},
    {"gauge", "gauge", 5, F_MSG, 0, &GAUGE_DEF, NULL},
    {"sum", "sum", 7, F_MSG, 0, &SUM_DEF, NULL},
    {"histogram", "histogram", 9, F_MSG, 0, &HISTOGRAM_DEF, NULL},
    {"exponentialHistogram", "exponential_histogram", 10, F_MSG, 0, &EXPONENTIAL_DEF, NULL},
    {"summary", "summary", 11, F_MSG, 0, &SUMMARY_DEF, NULL},
    {"metadata", "metadata", 12, F_MSG, 1, &KEYVALUE_DEF, NULL},
};
static const msgdef_t METRIC_DEF = {METRIC_FIELDS, 9, 0xF8}; /* oneof data */
static const fielddef_t SCOPE_METRICS_FIELDS[] = {
    {"scope", "scope", 1, F_MSG, 0, &SCOPE_DEF, NULL},
    {"metrics", "metrics", 2, F_MSG, 1, &METRIC_DEF, NULL},
    {"schemaUrl", "schema_url", 3, F_STR, 0, NULL, NULL},
};
static const msgdef_t SCOPE_METRICS_DEF = {SCOPE_METRICS_FIELDS, 3, 0};
static const fielddef_t RESOURCE_METRICS_FIELDS[] = {
    {"resource", "resource", 1, F_MSG, 0, &RESOURCE_DEF, NULL},
    {"scopeMetrics", "scope_metrics", 2, F_MSG, 1, &SCOPE_METRICS_DEF, NULL},
    {"schemaUrl", "schema_url", 3, F_STR, 0, NULL, NULL},
};
static const msgdef_t RESOURCE_METRICS_DEF = {RESOURCE_METRICS_FIELDS, 3, 0};
static const fielddef_t METRICS_REQUEST_FIELDS[] = {
    {"resourceMetrics", "resource_metrics", 1, F_MSG, 1, &RESOURCE_METRICS_DEF, NULL},
};
static const msgdef_t METRICS_REQUEST_DEF = {METRICS_REQUEST_FIELDS, 1, 0};

/* a whole OTLP/JSON document of message `m` into protobuf bytes in `out` */
static int json_to_wire(const uint8_t *p, size_t n, const msgdef_t *m, buf_t *out) {
    jp_t j = {p, p + n, {0}};
    int rc = jmessage(&j, m, out, 0);
    if (rc == OK) {
        ws(&j);
        if (j.p != j.end)
            rc = FALLBACK; /* trailing data */
    }
    buf_free(&j.str);
    return rc;
}

#endif
