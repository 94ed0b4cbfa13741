/* The replay host: one fault record in, one result line out (FAULT-RECORD.md). */
#include "replay.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_BYTES 32   /* widest field: a 256-bit YMM register */
#define MAX_STEPS 1024   /* accesses one record may make before we call it a runaway */

typedef struct mem_range {
    uint64_t addr;
    size_t len;
    uint8_t *bytes;
} mem_range_t;

typedef struct ram_write {
    uint64_t addr;
    size_t len;
    uint8_t bytes[VALUE_BYTES];
} ram_write_t;

/* Everything one record needs; freed by record_free. */
typedef struct record {
    json_t *root;
    json_t *id;
    const replay_arch_t *arch;
    uint8_t *regs_in, *regs_out, *exit;
    replay_present_t present;
    mem_range_t *mem;
    size_t n_mem;
    json_t *reads;
    size_t next_read;
    ram_write_t *ram;
    size_t n_ram;
    int ram_overflow;
    uint32_t host_flags;
} record_t;

/* ---- integers as strings: "0x..." hex or decimal, at most `bits` wide ---- */

/* Parse into little-endian bytes; 0 on success. */
static int parse_uint(const char *s, unsigned bits, uint8_t out[VALUE_BYTES])
{
    memset(out, 0, VALUE_BYTES);
    if (s == NULL || *s == '\0')
        return -1;
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *p = hex ? s + 2 : s;
    if (*p == '\0')
        return -1;
    for (; *p != '\0'; p++) {
        unsigned d, base = hex ? 16u : 10u;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (hex && *p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else if (hex && *p >= 'A' && *p <= 'F')
            d = (unsigned)(*p - 'A' + 10);
        else
            return -1;
        unsigned carry = d;
        for (unsigned i = 0; i < VALUE_BYTES; i++) {
            unsigned v = out[i] * base + carry;
            out[i] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry != 0)
            return -1;
    }
    for (unsigned b = bits; b < VALUE_BYTES * 8u; b++)
        if (out[b / 8] & (1u << (b % 8)))
            return -1;
    return 0;
}

/* Lower-case hex with no leading zeros of n little-endian bytes. */
static json_t *hex_value(const uint8_t *v, size_t n)
{
    char buf[2 + 2 * VALUE_BYTES + 1] = "0x";
    size_t pos = 2;
    int started = 0;
    for (size_t i = n; i > 0; i--) {
        static const char digits[] = "0123456789abcdef";
        uint8_t b = v[i - 1];
        if (!started && b == 0)
            continue;
        if (!started && b < 16) {
            buf[pos++] = digits[b];
        } else {
            buf[pos++] = digits[b >> 4];
            buf[pos++] = digits[b & 15];
        }
        started = 1;
    }
    if (!started)
        buf[pos++] = '0';
    buf[pos] = '\0';
    return json_string(buf);
}

static json_t *hex_u64(uint64_t v)
{
    uint8_t b[8];
    for (unsigned i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return hex_value(b, 8);
}

/* ---- guest memory through the host callbacks ---- */

static int mem_find(const record_t *r, uint64_t addr, size_t *range, size_t *off)
{
    for (size_t i = 0; i < r->n_mem; i++) {
        const mem_range_t *m = &r->mem[i];
        if (addr >= m->addr && addr - m->addr < m->len) {
            *range = i;
            *off = (size_t)(addr - m->addr);
            return 0;
        }
    }
    return -1;
}

static int host_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    const record_t *r = ctx;
    uint8_t *out = buf;
    for (size_t i = 0; i < len; i++) {
        size_t range, off;
        if (gpa + i < gpa || mem_find(r, gpa + i, &range, &off) != 0)
            return -1;
        out[i] = r->mem[range].bytes[off];
    }
    return 0;
}

static int host_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    record_t *r = ctx;
    const uint8_t *in = buf;
    size_t range, off;
    for (size_t i = 0; i < len; i++)
        if (gpa + i < gpa || mem_find(r, gpa + i, &range, &off) != 0)
            return -1;
    for (size_t i = 0; i < len; i++) {
        (void)mem_find(r, gpa + i, &range, &off);
        r->mem[range].bytes[off] = in[i];
    }
    if (len > VALUE_BYTES || r->n_ram >= MAX_STEPS) {
        r->ram_overflow = 1;
        return 0;
    }
    ram_write_t *grown = realloc(r->ram, (r->n_ram + 1) * sizeof(*grown));
    if (grown == NULL) {
        r->ram_overflow = 1;
        return 0;
    }
    r->ram = grown;
    r->ram[r->n_ram].addr = gpa;
    r->ram[r->n_ram].len = len;
    memcpy(r->ram[r->n_ram].bytes, in, len);
    r->n_ram++;
    return 0;
}

/* ---- parsing ---- */

static const replay_field_t *field_find(const replay_field_t *t, size_t n, const char *name, size_t *index)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].name, name) == 0) {
            if (index != NULL)
                *index = i;
            return &t[i];
        }
    }
    return NULL;
}

/* Fill a struct from a JSON object of named integer strings; NULL or a static reason. */
static const char *parse_fields(json_t *obj, const replay_field_t *t, size_t n, uint8_t *dst,
                                replay_present_t *present)
{
    const char *key;
    json_t *val;
    if (obj == NULL)
        return NULL;
    if (!json_is_object(obj))
        return "regs and exit must be objects";
    json_object_foreach(obj, key, val) {
        size_t index;
        const replay_field_t *fld = field_find(t, n, key, &index);
        uint8_t v[VALUE_BYTES];
        if (fld == NULL)
            return "unknown register or exit field";
        if (!json_is_string(val) || parse_uint(json_string_value(val), fld->bits, v) != 0)
            return "value is not an integer string that fits its field";
        memcpy(dst + fld->offset, v, (fld->bits + 7u) / 8u);
        if (present != NULL && index < 32)
            *present |= 1u << index;
    }
    return NULL;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const char *parse_mem(record_t *r, json_t *mem)
{
    size_t i;
    json_t *ent;
    if (mem == NULL)
        return NULL;
    if (!json_is_array(mem))
        return "mem must be an array";
    r->mem = calloc(json_array_size(mem) + 1, sizeof(*r->mem));
    if (r->mem == NULL)
        return "out of memory";
    json_array_foreach(mem, i, ent) {
        uint8_t a[VALUE_BYTES];
        json_t *addr = json_object_get(ent, "addr"), *hex = json_object_get(ent, "hex");
        if (!json_is_string(addr) || parse_uint(json_string_value(addr), 64, a) != 0)
            return "mem entry needs a 64-bit addr";
        if (!json_is_string(hex))
            return "mem entry needs hex";
        const char *h = json_string_value(hex);
        size_t hl = strlen(h);
        if (hl % 2 != 0)
            return "mem hex has an odd number of digits";
        mem_range_t *m = &r->mem[r->n_mem++];
        memcpy(&m->addr, a, 8);
        m->len = hl / 2;
        if (m->len > 0 && m->addr + (m->len - 1) < m->addr)
            return "mem range wraps around the address space";
        m->bytes = malloc(m->len + 1);
        if (m->bytes == NULL)
            return "out of memory";
        for (size_t k = 0; k < m->len; k++) {
            int hi = hex_digit(h[2 * k]), lo = hex_digit(h[2 * k + 1]);
            if (hi < 0 || lo < 0)
                return "mem hex has a non-hex digit";
            m->bytes[k] = (uint8_t)(hi << 4 | lo);
        }
    }
    return NULL;
}

static const char *parse_record(record_t *r)
{
    json_t *arch = json_object_get(r->root, "arch");
    if (!json_is_string(arch))
        return "arch missing";
    r->arch = replay_find_arch(json_string_value(arch));
    if (r->arch == NULL)
        return replay_arch_planned(json_string_value(arch)) ? "" : "unknown arch";
    r->regs_in = calloc(1, r->arch->regs_size);
    r->regs_out = calloc(1, r->arch->regs_size);
    r->exit = calloc(1, r->arch->exit_size);
    if (r->regs_in == NULL || r->regs_out == NULL || r->exit == NULL)
        return "out of memory";
    const char *why = parse_fields(json_object_get(r->root, "regs"), r->arch->regs, r->arch->n_regs,
                                   r->regs_in, NULL);
    if (why == NULL)
        why = parse_fields(json_object_get(r->root, "exit"), r->arch->exit_fields, r->arch->n_exit,
                           r->exit, &r->present);
    if (why == NULL && (r->present & r->arch->required) != r->arch->required)
        why = "exit lacks a required field";
    if (why == NULL)
        why = parse_mem(r, json_object_get(r->root, "mem"));
    if (why != NULL)
        return why;
    json_t *tr = json_object_get(r->root, "translate");
    if (tr != NULL) {
        if (!json_is_string(tr) || strcmp(json_string_value(tr), "identity") != 0)
            return "translate must be \"identity\"";
        r->host_flags |= VF_HOST_IDENTITY;
    }
    r->reads = json_object_get(r->root, "reads");
    if (r->reads != NULL && !json_is_array(r->reads))
        return "reads must be an array";
    return NULL;
}

static void record_free(record_t *r)
{
    for (size_t i = 0; i < r->n_mem; i++)
        free(r->mem[i].bytes);
    free(r->mem);
    free(r->ram);
    free(r->regs_in);
    free(r->regs_out);
    free(r->exit);
    json_decref(r->root);
}

/* ---- output ---- */

static void emit(json_t *obj, FILE *out)
{
    char *s = json_dumps(obj, JSON_PRESERVE_ORDER);
    if (s != NULL) {
        fputs(s, out);
        fputc('\n', out);
        free(s);
    }
    json_decref(obj);
}

static void emit_error(json_t *id, vf_error_t err, const char *message, FILE *out)
{
    json_t *o = json_object();
    if (id != NULL)
        json_object_set(o, "id", id);
    json_object_set_new(o, "status", json_string("error"));
    json_object_set_new(o, "error", json_string(vf_error_name(err)));
    json_object_set_new(o, "message", json_string(message));
    emit(o, out);
}

static int field_changed(const record_t *r, const replay_field_t *fld)
{
    size_t n = (fld->bits + 7u) / 8u;
    return memcmp(r->regs_in + fld->offset, r->regs_out + fld->offset, n) != 0;
}

/*
 * Fields that alias (same offset, different widths, e.g. x86 xmm0/ymm0): a
 * change is printed once, under the narrowest name that covers every changed
 * byte. True when `fld` should be left out for another name of the same bytes.
 */
static int aliased_away(const record_t *r, const replay_field_t *fld)
{
    for (size_t i = 0; i < r->arch->n_regs; i++) {
        const replay_field_t *o = &r->arch->regs[i];
        if (o == fld || o->offset != fld->offset || !field_changed(r, o))
            continue;
        if (o->bits < fld->bits) {
            /* A narrower name: use it if nothing beyond it changed. */
            size_t lo = (o->bits + 7u) / 8u, hi = (fld->bits + 7u) / 8u;
            if (memcmp(r->regs_in + fld->offset + lo, r->regs_out + fld->offset + lo, hi - lo) == 0)
                return 1;
        } else if (o->bits > fld->bits) {
            /* A wider name: it wins if something beyond this one changed. */
            size_t lo = (fld->bits + 7u) / 8u, hi = (o->bits + 7u) / 8u;
            if (memcmp(r->regs_in + o->offset + lo, r->regs_out + o->offset + lo, hi - lo) != 0)
                return 1;
        }
    }
    return 0;
}

static json_t *changed_regs(const record_t *r)
{
    json_t *o = json_object();
    for (size_t i = 0; i < r->arch->n_regs; i++) {
        const replay_field_t *fld = &r->arch->regs[i];
        size_t n = (fld->bits + 7u) / 8u;
        if (field_changed(r, fld) && !aliased_away(r, fld))
            json_object_set_new(o, fld->name, hex_value(r->regs_out + fld->offset, n));
    }
    return o;
}

static json_t *ram_list(const record_t *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->n_ram; i++) {
        char hex[2 * VALUE_BYTES + 1];
        for (size_t k = 0; k < r->ram[i].len; k++)
            snprintf(hex + 2 * k, 3, "%02x", r->ram[i].bytes[k]);
        hex[2 * r->ram[i].len] = '\0';
        json_t *w = json_object();
        json_object_set_new(w, "addr", hex_u64(r->ram[i].addr));
        json_object_set_new(w, "hex", json_string(hex));
        json_array_append_new(a, w);
    }
    return a;
}

/* ---- running a record ---- */

/* The next value of "reads" for a read of `size` bytes; 0 when they ran out. */
static const char *next_read(record_t *r, unsigned size, uint64_t *value)
{
    uint8_t v[VALUE_BYTES];
    *value = 0;
    if (r->reads == NULL || r->next_read >= json_array_size(r->reads))
        return NULL;
    json_t *e = json_array_get(r->reads, r->next_read++);
    if (!json_is_string(e) || parse_uint(json_string_value(e), size * 8u, v) != 0)
        return "a reads value is not an integer string that fits the access";
    memcpy(value, v, 8);
    return NULL;
}

static json_t *access_json(const vf_access_t *a, uint64_t value)
{
    json_t *o = json_object();
    json_object_set_new(o, "dir", json_string(a->dir == VF_DIR_READ ? "read" : "write"));
    json_object_set_new(o, "addr", hex_u64(a->addr));
    json_object_set_new(o, "size", json_integer(a->size));
    json_object_set_new(o, "value", hex_u64(value));
    return o;
}

static void run_record(record_t *r, FILE *out)
{
    vf_fault_t f;
    vf_host_t host = {host_read, host_write, r, r->host_flags};
    vf_fault_init(&f);
    (void)vf_fault_set_split(&f, 8);
    memcpy(r->regs_out, r->regs_in, r->arch->regs_size);

    vf_error_t err = r->arch->capture(&f, r->regs_out, r->exit, r->present, &host);
    json_t *accesses = json_array();
    for (unsigned step = 0; err == VF_OK && vf_fault_state(&f) == VF_STATE_ACCESS; step++) {
        vf_access_t a = vf_fault_access(&f);
        uint64_t value = 0;
        if (a.size == 0 || step >= MAX_STEPS)
            break;
        if (a.dir == VF_DIR_READ) {
            const char *why = next_read(r, a.size, &value);
            if (why != NULL) {
                json_decref(accesses);
                emit_error(r->id, VF_ERR_INVALID, why, out);
                return;
            }
            (void)vf_fault_set_read_value(&f, value);
        } else {
            value = vf_fault_write_value(&f);
        }
        json_array_append_new(accesses, access_json(&a, value));
        err = vf_fault_advance(&f);
    }
    if (vf_fault_state(&f) != VF_STATE_DONE) {
        json_decref(accesses);
        err = vf_fault_error(&f);
        emit_error(r->id, err != VF_OK ? err : VF_ERR_UNSUPPORTED,
                   err != VF_OK ? vf_fault_message(&f) : "instruction did not complete", out);
        return;
    }
    json_t *o = json_object();
    if (r->id != NULL)
        json_object_set(o, "id", r->id);
    json_object_set_new(o, "status", json_string("ok"));
    json_object_set_new(o, "accesses", accesses);
    json_object_set_new(o, "regs", changed_regs(r));
    if (r->n_ram > 0 && !r->ram_overflow)
        json_object_set_new(o, "ram", ram_list(r));
    emit(o, out);
}

void replay_line(const char *line, size_t len, FILE *out)
{
    record_t r;
    json_error_t jerr;
    memset(&r, 0, sizeof(r));
    r.root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(r.root)) {
        emit_error(NULL, VF_ERR_INVALID, r.root == NULL ? "not valid JSON" : "record is not an object", out);
        json_decref(r.root);
        return;
    }
    r.id = json_object_get(r.root, "id");
    const char *why = parse_record(&r);
    if (why != NULL && *why == '\0')
        emit_error(r.id, VF_ERR_UNSUPPORTED, "architecture not implemented yet", out);
    else if (why != NULL)
        emit_error(r.id, VF_ERR_INVALID, why, out);
    else
        run_record(&r, out);
    record_free(&r);
}

int replay_stream(FILE *in, FILE *out)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)n;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        size_t start = 0;
        while (start < len && (line[start] == ' ' || line[start] == '\t'))
            start++;
        if (start == len)
            continue;
        replay_line(line + start, len - start, out);
    }
    free(line);
    fflush(out);
    return ferror(in) ? -1 : 0;
}
