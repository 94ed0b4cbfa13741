/* Fault records (FAULT-RECORD.md): parsing, and guest memory as the host callbacks see it. */
#include "replay.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>


/* ---- integers as strings: "0x..." hex or decimal, at most `bits` wide ---- */

/* Parse into little-endian bytes; 0 on success. */
int replay_parse_uint(const char *s, unsigned bits, uint8_t out[REPLAY_VALUE_BYTES])
{
    memset(out, 0, REPLAY_VALUE_BYTES);
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
        for (unsigned i = 0; i < REPLAY_VALUE_BYTES; i++) {
            unsigned v = out[i] * base + carry;
            out[i] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry != 0)
            return -1;
    }
    for (unsigned b = bits; b < REPLAY_VALUE_BYTES * 8u; b++)
        if (out[b / 8] & (1u << (b % 8)))
            return -1;
    return 0;
}

/* Lower-case hex with no leading zeros of n little-endian bytes. */
json_t *replay_hex_value(const uint8_t *v, size_t n)
{
    char buf[2 + 2 * REPLAY_VALUE_BYTES + 1] = "0x";
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

json_t *replay_hex_u64(uint64_t v)
{
    uint8_t b[8];
    for (unsigned i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return replay_hex_value(b, 8);
}

/* ---- guest memory through the host callbacks ---- */

static int mem_find(const replay_record_t *r, uint64_t addr, size_t *range, size_t *off)
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

int replay_host_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    const replay_record_t *r = ctx;
    uint8_t *out = buf;
    for (size_t i = 0; i < len; i++) {
        size_t range, off;
        if (gpa + i < gpa || mem_find(r, gpa + i, &range, &off) != 0)
            return -1;
        out[i] = r->mem[range].bytes[off];
    }
    return 0;
}

int replay_host_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    replay_record_t *r = ctx;
    const uint8_t *in = buf;
    size_t range, off;
    for (size_t i = 0; i < len; i++)
        if (gpa + i < gpa || mem_find(r, gpa + i, &range, &off) != 0)
            return -1;
    for (size_t i = 0; i < len; i++) {
        (void)mem_find(r, gpa + i, &range, &off);
        r->mem[range].bytes[off] = in[i];
    }
    if (len > REPLAY_VALUE_BYTES || r->n_ram >= REPLAY_MAX_STEPS) {
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
        uint8_t v[REPLAY_VALUE_BYTES];
        if (fld == NULL)
            return "unknown register or exit field";
        if (!json_is_string(val) || replay_parse_uint(json_string_value(val), fld->bits, v) != 0)
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

static const char *parse_mem(replay_record_t *r, json_t *mem)
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
        uint8_t a[REPLAY_VALUE_BYTES];
        json_t *addr = json_object_get(ent, "addr"), *hex = json_object_get(ent, "hex");
        if (!json_is_string(addr) || replay_parse_uint(json_string_value(addr), 64, a) != 0)
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

const char *replay_record_parse(replay_record_t *r)
{
    json_t *arch = json_object_get(r->root, "arch");
    r->id = json_object_get(r->root, "id");
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

void replay_record_free(replay_record_t *r)
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

