/* The replay host: one fault record in, one result line out (FAULT-RECORD.md). */
#include "replay.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

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

static int field_changed(const replay_record_t *r, const replay_field_t *fld)
{
    size_t n = (fld->bits + 7u) / 8u;
    return memcmp(r->regs_in + fld->offset, r->regs_out + fld->offset, n) != 0;
}

/*
 * Fields that alias (same offset, different widths, e.g. x86 xmm0/ymm0): a
 * change is printed once, under the narrowest name that covers every changed
 * byte. True when `fld` should be left out for another name of the same bytes.
 */
static int aliased_away(const replay_record_t *r, const replay_field_t *fld)
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

static json_t *changed_regs(const replay_record_t *r)
{
    json_t *o = json_object();
    for (size_t i = 0; i < r->arch->n_regs; i++) {
        const replay_field_t *fld = &r->arch->regs[i];
        size_t n = (fld->bits + 7u) / 8u;
        if (field_changed(r, fld) && !aliased_away(r, fld))
            json_object_set_new(o, fld->name, replay_hex_value(r->regs_out + fld->offset, n));
    }
    return o;
}

static json_t *ram_list(const replay_record_t *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->n_ram; i++) {
        char hex[2 * REPLAY_VALUE_BYTES + 1];
        for (size_t k = 0; k < r->ram[i].len; k++)
            snprintf(hex + 2 * k, 3, "%02x", r->ram[i].bytes[k]);
        hex[2 * r->ram[i].len] = '\0';
        json_t *w = json_object();
        json_object_set_new(w, "addr", replay_hex_u64(r->ram[i].addr));
        json_object_set_new(w, "hex", json_string(hex));
        json_array_append_new(a, w);
    }
    return a;
}

/* ---- running a record ---- */

/* The next value of "reads" for a read of `size` bytes; 0 when they ran out. */
static const char *next_read(replay_record_t *r, unsigned size, uint64_t *value)
{
    uint8_t v[REPLAY_VALUE_BYTES];
    *value = 0;
    if (r->reads == NULL || r->next_read >= json_array_size(r->reads))
        return NULL;
    json_t *e = json_array_get(r->reads, r->next_read++);
    if (!json_is_string(e) || replay_parse_uint(json_string_value(e), size * 8u, v) != 0)
        return "a reads value is not an integer string that fits the access";
    memcpy(value, v, 8);
    return NULL;
}

static json_t *access_json(const vf_access_t *a, uint64_t value)
{
    json_t *o = json_object();
    json_object_set_new(o, "dir", json_string(a->dir == VF_DIR_READ ? "read" : "write"));
    json_object_set_new(o, "addr", replay_hex_u64(a->addr));
    json_object_set_new(o, "size", json_integer(a->size));
    json_object_set_new(o, "value", replay_hex_u64(value));
    return o;
}

static void run_record(replay_record_t *r, FILE *out)
{
    vf_fault_t f;
    vf_host_t host = replay_record_host(r);
    vf_fault_init(&f);
    (void)vf_fault_set_split(&f, 8);
    memcpy(r->regs_out, r->regs_in, r->arch->regs_size);

    vf_error_t err = r->arch->capture(&f, r->regs_out, r->exit, r->present, &host);
    json_t *accesses = json_array();
    for (unsigned step = 0; err == VF_OK && vf_fault_state(&f) == VF_STATE_ACCESS; step++) {
        vf_access_t a = vf_fault_access(&f);
        uint64_t value = 0;
        if (a.size == 0 || step >= REPLAY_MAX_STEPS)
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
    replay_record_t r;
    json_error_t jerr;
    memset(&r, 0, sizeof(r));
    r.root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(r.root)) {
        emit_error(NULL, VF_ERR_INVALID, r.root == NULL ? "not valid JSON" : "record is not an object", out);
        json_decref(r.root);
        return;
    }
    const char *why = replay_record_parse(&r);
    if (why != NULL && *why == '\0')
        emit_error(r.id, VF_ERR_UNSUPPORTED, "architecture not implemented yet", out);
    else if (why != NULL)
        emit_error(r.id, VF_ERR_INVALID, why, out);
    else
        run_record(&r, out);
    replay_record_free(&r);
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
