/*
 * vcpufault explain [FILE|-]
 * vcpufault explain [--arch aarch64|aarch32] --esr HEX [--far HEX] [--hpfar HEX] [--insn HEX] [--pc HEX]
 *
 * Say in plain words what a trapped access is: the exception class, every
 * syndrome field, the instruction (disassembled with Capstone when built
 * with it, and as the library decodes it), its accesses, and what completing
 * it changes. For a fault record the instruction is run through the replay
 * host and the concrete accesses and register changes are printed.
 *
 * Table-driven so other architectures plug in: a syndrome is a list of
 * named bit fields with a describing function each (explain_arch_t); the
 * concrete part is the replay output, which is architecture-neutral.
 */
#define _POSIX_C_SOURCE 200809L /* getline, open_memstream */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vcpufault/aarch64.h>

#include "commands.h"
#include "replay/replay.h"

#ifdef VF_HAVE_CAPSTONE
#include <capstone/capstone.h>
#endif

/* ---- syndrome fields ---- */

/* Describe a field value in words into buf; `syn` is the whole syndrome. */
typedef void (*describe_fn)(uint64_t v, uint64_t syn, char *buf, size_t n);

typedef struct syn_field {
    const char *name;
    uint8_t hi, lo;
    uint8_t needs_isv; /* meaningful only when ISV = 1 */
    describe_fn describe;
} syn_field_t;

typedef struct explain_arch {
    const char *name;          /* the record's "arch" */
    const char *syndrome_key;  /* exit field holding the syndrome */
    const char *syndrome_name; /* register name for the user */
    const syn_field_t *fields;
    size_t n_fields;
    const char *far_key, *far_name;
} explain_arch_t;

static const char *ec_name(uint32_t ec)
{
    switch (ec) {
    case 0x00: return "unknown reason";
    case 0x01: return "WFI or WFE";
    case 0x03: return "MCR/MRC to CP15 (AArch32)";
    case 0x07: return "SIMD/FP or SVE access trapped";
    case 0x11: return "SVC from AArch32";
    case 0x12: return "HVC from AArch32";
    case 0x15: return "SVC from AArch64";
    case 0x16: return "HVC from AArch64";
    case 0x17: return "SMC from AArch64";
    case 0x18: return "MSR/MRS/system instruction trapped";
    case 0x20: return "instruction abort from a lower exception level";
    case 0x21: return "instruction abort from the same exception level";
    case 0x22: return "PC alignment fault";
    case 0x24: return "data abort from a lower exception level (a guest access that stage 2 trapped)";
    case 0x25: return "data abort from the same exception level";
    case 0x26: return "SP alignment fault";
    case 0x2c: return "floating-point exception (AArch64)";
    case 0x2f: return "SError interrupt";
    case 0x3c: return "BRK instruction";
    default: return "other exception class";
    }
}

static const char *dfsc_name(uint32_t d)
{
    static const char *const level[4] = {"0", "1", "2", "3"};
    static char buf[64]; /* tools may keep state; the core may not */
    switch (d & 0x3cu) {
    case 0x00: snprintf(buf, sizeof(buf), "address size fault, level %s", level[d & 3]); return buf;
    case 0x04: snprintf(buf, sizeof(buf), "translation fault, level %s", level[d & 3]); return buf;
    case 0x08: snprintf(buf, sizeof(buf), "access flag fault, level %s", level[d & 3]); return buf;
    case 0x0c: snprintf(buf, sizeof(buf), "permission fault, level %s", level[d & 3]); return buf;
    case 0x14: snprintf(buf, sizeof(buf), "synchronous external abort on a table walk, level %s", level[d & 3]); return buf;
    default: break;
    }
    switch (d) {
    case 0x10: return "synchronous external abort";
    case 0x11: return "tag check fault";
    case 0x13: return "synchronous external abort on a table walk, level -1";
    case 0x18: return "parity or ECC error";
    case 0x21: return "alignment fault";
    case 0x29: return "address size fault, level -1";
    case 0x2b: return "translation fault, level -1";
    case 0x30: return "TLB conflict abort";
    case 0x31: return "unsupported atomic hardware update";
    case 0x35: return "unsupported exclusive or atomic access";
    default: return "other fault status";
    }
}

static void d_ec(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, "%s", ec_name((uint32_t)v)); }
static void d_il(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, v ? "32-bit instruction" : "16-bit instruction"); }
static void d_isv(uint64_t v, uint64_t s, char *b, size_t n)
{
    (void)s;
    snprintf(b, n, v ? "instruction syndrome valid: the fields marked below describe the access"
                     : "no instruction syndrome: the instruction must be fetched and decoded");
}
static void d_sas(uint64_t v, uint64_t s, char *b, size_t n)
{
    static const char *const w[4] = {"byte", "halfword (2 bytes)", "word (4 bytes)", "doubleword (8 bytes)"};
    (void)s;
    snprintf(b, n, "access size: %s", w[v & 3]);
}
static void d_sse(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, v ? "load sign-extends" : "no sign extension"); }
static void d_srt(uint64_t v, uint64_t s, char *b, size_t n)
{
    (void)s;
    if (v == 31)
        snprintf(b, n, "transfer register 31: the zero register (xzr/wzr)");
    else
        snprintf(b, n, "transfer register x%u / w%u", (unsigned)v, (unsigned)v);
}
static void d_srt32(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, "transfer register r%u (as banked in the guest's mode)", (unsigned)v); }
static void d_sf(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, v ? "64-bit register (Xt)" : "32-bit register (Wt): bits 63:32 become 0"); }
static void d_ar(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, v ? "acquire/release semantics" : "no acquire/release"); }
static void d_vncr(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, v ? "fault on a VNCR_EL2-redirected register access" : "not a VNCR access"); }
static void d_lst(uint64_t v, uint64_t s, char *b, size_t n)
{
    static const char *const w[4] = {"not a 64-byte access", "reserved", "ST64BV", "LD64B/ST64B (64-byte access)"};
    (void)s;
    snprintf(b, n, "%s", w[v & 3]);
}
static void d_fnv(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, v ? "FAR is not valid" : "FAR holds the faulting virtual address"); }
static void d_ea(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, v ? "external abort type: implementation defined" : "not an external abort"); }
static void d_cm(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, v ? "cache maintenance instruction: skip it" : "not cache maintenance"); }
static void d_s1ptw(uint64_t v, uint64_t s, char *b, size_t n)
{
    (void)s;
    snprintf(b, n, v ? "the guest's own stage-1 page-table walk faulted, not the instruction's access"
                     : "the instruction's own access faulted");
}
static void d_wnr(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, v ? "write" : "read"); }
static void d_dfsc(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, "%s", dfsc_name((uint32_t)v)); }
static void d_iss2(uint64_t v, uint64_t s, char *b, size_t n) { (void)s; snprintf(b, n, v ? "ISS2 set (FEAT_LS64 status register...)" : "no ISS2 information"); }

/* ESR_EL2 of a data abort (Arm ARM D17.2.37). */
static const syn_field_t a64_fields[] = {
    {"EC", 31, 26, 0, d_ec},   {"IL", 25, 25, 0, d_il},     {"ISV", 24, 24, 0, d_isv},
    {"SAS", 23, 22, 1, d_sas}, {"SSE", 21, 21, 1, d_sse},   {"SRT", 20, 16, 1, d_srt},
    {"SF", 15, 15, 1, d_sf},   {"AR", 14, 14, 1, d_ar},     {"VNCR", 13, 13, 0, d_vncr},
    {"LST", 12, 11, 0, d_lst}, {"FnV", 10, 10, 0, d_fnv},   {"EA", 9, 9, 0, d_ea},
    {"CM", 8, 8, 0, d_cm},     {"S1PTW", 7, 7, 0, d_s1ptw}, {"WnR", 6, 6, 0, d_wnr},
    {"DFSC", 5, 0, 0, d_dfsc}, {"ISS2", 36, 32, 0, d_iss2},
};

/* HSR of a data abort taken to Hyp mode (Arm ARM B3.13.6); SRT is 4 bits, no SF/AR. */
static const syn_field_t a32_fields[] = {
    {"EC", 31, 26, 0, d_ec},   {"IL", 25, 25, 0, d_il},     {"ISV", 24, 24, 0, d_isv},
    {"SAS", 23, 22, 1, d_sas}, {"SSE", 21, 21, 1, d_sse},   {"SRT", 19, 16, 1, d_srt32},
    {"EA", 9, 9, 0, d_ea},     {"CM", 8, 8, 0, d_cm},       {"S1PTW", 7, 7, 0, d_s1ptw},
    {"WnR", 6, 6, 0, d_wnr},   {"DFSC", 5, 0, 0, d_dfsc},
};

static const explain_arch_t explain_arches[] = {
    {"aarch64", "esr", "ESR_EL2", a64_fields, sizeof(a64_fields) / sizeof(a64_fields[0]), "far", "FAR_EL2"},
    {"aarch32", "hsr", "HSR", a32_fields, sizeof(a32_fields) / sizeof(a32_fields[0]), "hdfar", "HDFAR"},
};

static const explain_arch_t *find_explain_arch(const char *name)
{
    for (size_t i = 0; i < sizeof(explain_arches) / sizeof(explain_arches[0]); i++)
        if (strcmp(explain_arches[i].name, name) == 0)
            return &explain_arches[i];
    return NULL;
}

static void print_syndrome(const explain_arch_t *a, uint64_t syn, FILE *out)
{
    uint64_t isv = (syn >> 24) & 1u;
    uint32_t ec = (uint32_t)(syn >> 26) & 0x3fu;
    fprintf(out, "Exception class: EC 0x%02x, %s\n", ec, ec_name(ec));
    fprintf(out, "%s = 0x%" PRIx64 "\n", a->syndrome_name, syn);
    if (ec != 0x24 && ec != 0x25) {
        fprintf(out, "  (the fields below are the data-abort layout; this exception class is not a data abort)\n");
    }
    for (size_t i = 0; i < a->n_fields; i++) {
        const syn_field_t *fl = &a->fields[i];
        unsigned width = (unsigned)(fl->hi - fl->lo + 1);
        uint64_t v = (syn >> fl->lo) & (width >= 64 ? ~0ull : ((1ull << width) - 1));
        char range[16], words[160];
        if (fl->hi == fl->lo)
            snprintf(range, sizeof(range), "[%u]", fl->lo);
        else
            snprintf(range, sizeof(range), "[%u:%u]", fl->hi, fl->lo);
        if (fl->needs_isv && !isv)
            snprintf(words, sizeof(words), "not valid (ISV = 0)");
        else
            fl->describe(v, syn, words, sizeof(words));
        fprintf(out, "  %-6s %-8s = 0x%-4" PRIx64 " %s\n", fl->name, range, v, words);
    }
}

/* ---- the decoded instruction, in words ---- */

static void gpr_name(char *b, size_t n, unsigned r, unsigned bytes)
{
    if (r == 31)
        snprintf(b, n, bytes == 8 ? "xzr" : "wzr");
    else
        snprintf(b, n, "%c%u", bytes == 8 ? 'x' : 'w', r);
}

static void base_name(char *b, size_t n, unsigned r)
{
    if (r == 31)
        snprintf(b, n, "sp");
    else
        snprintf(b, n, "x%u", r);
}

static const char *fp_prefix(unsigned bytes)
{
    return bytes == 1 ? "b" : bytes == 2 ? "h" : bytes == 4 ? "s" : bytes == 8 ? "d" : "q";
}

static const char *extend_name(unsigned option)
{
    switch (option) {
    case 2: return "uxtw";
    case 3: return "lsl";
    case 6: return "sxtw";
    case 7: return "sxtx";
    default: return "?";
    }
}

static void print_a64_decoded(uint32_t word, FILE *out)
{
    vf_insn_t in;
    vf_a64_ldst_t x;
    const char *why = "";
    vf_error_t err = vf_aarch64_decode(word, &in, &x, &why);
    if (err != VF_OK) {
        fprintf(out, "  library: %s: %s\n", vf_error_name(err), why);
        return;
    }
    int write = (in.flags & VF_INSN_WRITE) != 0, fp = (in.flags & VF_INSN_FP) != 0;
    char base[8], reg[16], reg2[16], addr[96];
    base_name(base, sizeof(base), in.rn);
    if (fp) {
        snprintf(reg, sizeof(reg), "%s%u", fp_prefix(in.op == VF_A64_OP_SINGLE || in.op == VF_A64_OP_PAIR ? in.size : 16), in.rt);
        snprintf(reg2, sizeof(reg2), "%s%u", fp_prefix(in.size), in.rt2);
    } else {
        gpr_name(reg, sizeof(reg), in.rt, in.dst_bytes);
        gpr_name(reg2, sizeof(reg2), in.rt2, in.dst_bytes);
    }
    switch (x.mode) {
    case VF_A64_AM_REG: {
        char m[8];
        gpr_name(m, sizeof(m), in.rm, (x.extend & 1) ? 8 : 4);
        snprintf(addr, sizeof(addr), "%s + %s(%s) << %u", base, extend_name(x.extend), m, x.shift);
        break;
    }
    case VF_A64_AM_LITERAL:
        snprintf(addr, sizeof(addr), "pc %+" PRId64 " (a literal: PC-relative memory)", in.imm);
        break;
    case VF_A64_AM_POST_REG:
        snprintf(addr, sizeof(addr), "%s, then %s += x%u", base, base, in.rm);
        break;
    default:
        if (in.flags & VF_INSN_POSTINDEX)
            snprintf(addr, sizeof(addr), "%s, then %s += %" PRId64, base, base, in.imm);
        else if (in.flags & VF_INSN_WRITEBACK)
            snprintf(addr, sizeof(addr), "%s %+" PRId64 " (pre-index: %s becomes this address)", base, in.imm, base);
        else
            snprintf(addr, sizeof(addr), "%s %+" PRId64, base, in.imm);
        break;
    }
    const char *what;
    switch (in.op) {
    case VF_A64_OP_PAIR: what = "pair of registers"; break;
    case VF_A64_OP_STRUCT_MULTI: what = "multiple structures (LDn/STn)"; break;
    case VF_A64_OP_STRUCT_LANE: what = "single structure, one lane"; break;
    case VF_A64_OP_STRUCT_REPL: what = "single structure, replicated to all lanes (LDnR)"; break;
    default: what = "single register"; break;
    }
    fprintf(out, "  library: %s %s, %s%s%s\n", write ? "store" : "load", what,
            fp ? "SIMD&FP" : "general-purpose",
            (in.flags & VF_INSN_ACQREL) ? ", acquire/release" : "",
            (in.flags & VF_INSN_SIGNED) ? ", sign-extending" : "");
    fprintf(out, "  address: %s\n", addr);
    fprintf(out, "  accesses: %u x %u bytes, %s\n", in.count, in.size, write ? "writes" : "reads");
    if (in.op >= VF_A64_OP_STRUCT_MULTI)
        fprintf(out, "  structure: %u element(s) of %u bytes per structure, %u register(s) from v%u\n",
                x.selem, x.esize, x.nregs, in.rt);
    fprintf(out, "Completing it will:\n");
    if (!write && !fp) {
        fprintf(out, "  set %s to the loaded %u-byte value%s%s\n", reg, in.size,
                (in.flags & VF_INSN_SIGNED) ? " sign-extended" : " zero-extended",
                in.dst_bytes == 4 ? " to 32 bits (bits 63:32 become 0)" : " to 64 bits");
        if (in.op == VF_A64_OP_PAIR)
            fprintf(out, "  set %s to the second value the same way\n", reg2);
        if (in.rt == 31)
            fprintf(out, "  (register 31 is the zero register: the value is discarded)\n");
    } else if (!write) {
        if (in.op == VF_A64_OP_SINGLE || in.op == VF_A64_OP_PAIR)
            fprintf(out, "  set %s%s to the loaded bytes and clear the rest of the 128-bit register\n", reg,
                    in.op == VF_A64_OP_PAIR ? " and the next value into the second register" : "");
        else if (in.op == VF_A64_OP_STRUCT_LANE)
            fprintf(out, "  set lane %u of %u register(s) from v%u; other lanes keep their values\n", x.lane,
                    x.nregs, in.rt);
        else
            fprintf(out, "  fill %u register(s) from v%u (%u bytes each used%s)\n", x.nregs, in.rt, x.vbytes,
                    x.vbytes == 8 ? ", bits 127:64 cleared" : "");
    } else {
        if (in.op == VF_A64_OP_SINGLE || in.op == VF_A64_OP_PAIR)
            fprintf(out, "  send the %s%u byte(s) of %s%s%s to the device, changing no data register\n",
                    fp ? "" : "low ", in.size, reg, in.op == VF_A64_OP_PAIR ? " and then of " : "",
                    in.op == VF_A64_OP_PAIR ? reg2 : "");
        else
            fprintf(out, "  send elements of %u register(s) from v%u to the device, changing no data register\n",
                    x.nregs, in.rt);
    }
    if (in.flags & VF_INSN_WRITEBACK)
        fprintf(out, "  update the base register %s (writeback)\n", base);
    fprintf(out, "  move the PC on by 4\n");
}

static void disassemble(const char *arch, const uint8_t *bytes, size_t len, uint64_t pc, int thumb, FILE *out)
{
#ifdef VF_HAVE_CAPSTONE
    csh h;
    cs_insn *insn;
    int a64 = strcmp(arch, "aarch64") == 0;
    if (cs_open(a64 ? CS_ARCH_ARM64 : CS_ARCH_ARM, a64 ? CS_MODE_ARM : (thumb ? CS_MODE_THUMB : CS_MODE_ARM), &h) != CS_ERR_OK)
        return;
    size_t n = cs_disasm(h, bytes, len, pc, 1, &insn);
    if (n > 0) {
        fprintf(out, "  disassembly (Capstone): %s %s\n", insn[0].mnemonic, insn[0].op_str);
        cs_free(insn, n);
    } else {
        fprintf(out, "  disassembly (Capstone): not a valid instruction\n");
    }
    cs_close(&h);
#else
    (void)arch, (void)bytes, (void)len, (void)pc, (void)thumb, (void)out;
#endif
}

/* An instruction word's bytes in memory order (A64 and A32 are little-endian words). */
static void disassemble_word(const char *arch, uint32_t word, uint64_t pc, int thumb, FILE *out)
{
    uint8_t bytes[4];
    for (int i = 0; i < 4; i++)
        bytes[i] = (uint8_t)(word >> (8 * i));
    if (thumb && (word >> 27) >= 0x1d) { /* 32-bit Thumb given as hw1:hw2 */
        uint16_t hw1 = (uint16_t)(word >> 16), hw2 = (uint16_t)word;
        uint8_t t[4] = {(uint8_t)hw1, (uint8_t)(hw1 >> 8), (uint8_t)hw2, (uint8_t)(hw2 >> 8)};
        disassemble(arch, t, 4, pc, 1, out);
    } else {
        disassemble(arch, bytes, thumb && word <= 0xffff ? 2 : 4, pc, thumb, out);
    }
}

/* ---- records ---- */

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (s == NULL || *s == '\0' || *s == '-')
        return -1;
    errno = 0;
    *v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
    return (errno != 0 || *end != '\0') ? -1 : 0;
}

static int json_u64(json_t *obj, const char *key, uint64_t *v)
{
    json_t *j = json_object_get(obj, key);
    *v = 0;
    return j != NULL && json_is_string(j) && parse_u64(json_string_value(j), v) == 0;
}

typedef struct rec_mem {
    json_t *mem;
} rec_mem_t;

/* Guest memory of a record, for fetching the instruction (and walking tables). */
static int rec_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    const rec_mem_t *m = ctx;
    size_t i;
    json_t *ent;
    uint8_t *out = buf;
    for (size_t k = 0; k < len; k++) {
        int found = 0;
        json_array_foreach(m->mem, i, ent) {
            uint64_t a;
            json_t *hex = json_object_get(ent, "hex");
            if (!json_u64(ent, "addr", &a) || !json_is_string(hex))
                continue;
            const char *h = json_string_value(hex);
            uint64_t off = gpa + k - a;
            if (gpa + k >= a && off < strlen(h) / 2) {
                unsigned byte;
                if (sscanf(h + 2 * off, "%2x", &byte) != 1)
                    return -1;
                out[k] = (uint8_t)byte;
                found = 1;
                break;
            }
        }
        if (!found)
            return -1;
    }
    return 0;
}

/* Run the record through the replay host and print its outcome in words. */
static void print_outcome(const char *line, size_t len, FILE *out)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *ms = open_memstream(&buf, &n);
    if (ms == NULL)
        return;
    replay_line(line, len, ms);
    fclose(ms);
    json_t *r = json_loads(buf, 0, NULL);
    free(buf);
    if (r == NULL)
        return;
    const char *status = json_string_value(json_object_get(r, "status"));
    fprintf(out, "Outcome (replaying the record):\n");
    if (status == NULL || strcmp(status, "ok") != 0) {
        fprintf(out, "  %s: %s\n", json_string_value(json_object_get(r, "error")),
                json_string_value(json_object_get(r, "message")));
        json_decref(r);
        return;
    }
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(r, "accesses"), i, a) {
        const char *dir = json_string_value(json_object_get(a, "dir"));
        fprintf(out, "  %s %" JSON_INTEGER_FORMAT " bytes %s %s: %s\n", strcmp(dir, "read") == 0 ? "read" : "write",
                json_integer_value(json_object_get(a, "size")), strcmp(dir, "read") == 0 ? "from" : "to",
                json_string_value(json_object_get(a, "addr")), json_string_value(json_object_get(a, "value")));
    }
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(r, "regs"), key, v)
        fprintf(out, "  %s becomes %s\n", key, json_string_value(v));
    json_decref(r);
}

static void explain_common(const explain_arch_t *a, uint64_t syn, int have_far, uint64_t far, int have_hpfar,
                           uint64_t hpfar, int have_ipa, uint64_t ipa, FILE *out)
{
    print_syndrome(a, syn, out);
    if (have_far)
        fprintf(out, "%-9s = 0x%" PRIx64 "  faulting virtual address%s\n", a->far_name, far,
                ((syn >> 10) & 1) && strcmp(a->name, "aarch64") == 0 ? " (FnV: not valid)" : "");
    if (have_hpfar)
        fprintf(out, "HPFAR     = 0x%" PRIx64 "  faulting IPA page 0x%" PRIx64 "\n", hpfar,
                (uint64_t)((hpfar >> 4) & 0xffffffffffu) << 12);
    if (have_ipa)
        fprintf(out, "IPA       = 0x%" PRIx64 "  guest-physical address of the access\n", ipa);
    else if (have_hpfar)
        fprintf(out, "IPA       = 0x%" PRIx64 "  (HPFAR page | FAR[11:0])\n", vf_aarch64_ipa(hpfar, far));
}

static void explain_record(const char *line, size_t len, FILE *out)
{
    json_error_t jerr;
    json_t *root = json_loadb(line, len, 0, &jerr);
    if (!json_is_object(root)) {
        fprintf(out, "not a fault record (%s)\n", root == NULL ? "invalid JSON" : "not a JSON object");
        json_decref(root);
        return;
    }
    json_t *id = json_object_get(root, "id"), *regs = json_object_get(root, "regs"), *ex = json_object_get(root, "exit");
    const char *archname = json_string_value(json_object_get(root, "arch"));
    fprintf(out, "== %s (%s)\n", json_is_string(id) ? json_string_value(id) : "record", archname ? archname : "?");
    const explain_arch_t *a = archname ? find_explain_arch(archname) : NULL;
    if (a == NULL) {
        fprintf(out, "no syndrome description for this architecture yet\n");
        print_outcome(line, len, out);
        json_decref(root);
        return;
    }
    uint64_t syn, far, hpfar, ipa, pc;
    (void)json_u64(ex, a->syndrome_key, &syn);
    int hf = json_u64(ex, a->far_key, &far), hh = json_u64(ex, "hpfar", &hpfar), hi = json_u64(ex, "ipa", &ipa);
    explain_common(a, syn, hf, far, hh, hpfar, hi, ipa, out);

    int a64 = strcmp(a->name, "aarch64") == 0;
    (void)json_u64(regs, a64 ? "pc" : "r15", &pc);
    rec_mem_t m = {json_object_get(root, "mem")};
    uint8_t raw[4];
    uint64_t pa = pc;
    int fetched = 0;
    uint64_t cpsr = 0;
    (void)json_u64(regs, "cpsr", &cpsr);
    int thumb = !a64 && ((cpsr >> 5) & 1);
    if (json_is_array(m.mem) && !thumb) {
        if (a64) {
            vf_aarch64_regs_t r;
            memset(&r, 0, sizeof(r));
            (void)json_u64(regs, "pstate", &r.pstate);
            (void)json_u64(regs, "sctlr_el1", &r.sctlr_el1);
            (void)json_u64(regs, "tcr_el1", &r.tcr_el1);
            (void)json_u64(regs, "ttbr0_el1", &r.ttbr0_el1);
            (void)json_u64(regs, "ttbr1_el1", &r.ttbr1_el1);
            json_t *tr = json_object_get(root, "translate");
            vf_host_t host = {rec_read, NULL, &m, json_is_string(tr) ? VF_HOST_IDENTITY : 0};
            const char *why = "";
            if (vf_aarch64_translate(&host, &r, pc, &pa, &why) != VF_OK)
                fprintf(out, "Instruction at PC 0x%" PRIx64 ": cannot translate: %s\n", pc, why);
            else
                fetched = rec_read(&m, pa, raw, 4) == 0;
        } else {
            fetched = rec_read(&m, pc, raw, 4) == 0;
        }
    }
    if (fetched) {
        uint32_t word = (uint32_t)raw[0] | (uint32_t)raw[1] << 8 | (uint32_t)raw[2] << 16 | (uint32_t)raw[3] << 24;
        if (a64)
            fprintf(out, "Instruction at PC 0x%" PRIx64 " (physical 0x%" PRIx64 "): %08x\n", pc, pa, word);
        else /* AArch32 translation is not walked here: the PC is read as a physical address */
            fprintf(out, "Instruction at PC 0x%" PRIx64 " (read as physical): %08x\n", pc, word);
        disassemble(a->name, raw, 4, pc, 0, out);
        if (a64)
            print_a64_decoded(word, out);
    } else if (thumb && json_is_array(m.mem) && rec_read(&m, pc, raw, 2) == 0) {
        /* Thumb: 16-bit units; hw1[15:11] of 0b11101..0b11111 starts a 32-bit instruction */
        int wide = (raw[1] >> 3) >= 0x1d;
        if (wide && rec_read(&m, pc + 2, raw + 2, 2) != 0)
            wide = 0;
        fprintf(out, "Instruction at PC 0x%" PRIx64 " (Thumb): %02x%02x%s", pc, raw[1], raw[0], wide ? " " : "\n");
        if (wide)
            fprintf(out, "%02x%02x\n", raw[3], raw[2]);
        disassemble(a->name, raw, wide ? 4 : 2, pc, 1, out);
    } else if (json_is_array(m.mem)) {
        fprintf(out, "Instruction at PC 0x%" PRIx64 ": not in the record's memory\n", pc);
    }
    print_outcome(line, len, out);
    json_decref(root);
}

static int explain_stream(FILE *in, FILE *out)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int first = 1;
    while ((n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)n;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            len--;
        if (len == 0)
            continue;
        if (!first)
            fputc('\n', out);
        first = 0;
        explain_record(line, len, out);
    }
    free(line);
    return ferror(in) ? -1 : 0;
}

static void usage(FILE *f)
{
    fputs("usage: vcpufault explain [FILE|-]\n"
          "       vcpufault explain [--arch aarch64|aarch32] --esr HEX [--far HEX] [--hpfar HEX] [--ipa HEX]\n"
          "                         [--insn HEX] [--pc HEX] [--thumb]\n",
          f);
}

int cmd_explain(int argc, char **argv)
{
    const char *archname = "aarch64";
    uint64_t syn = 0, far = 0, hpfar = 0, ipa = 0, insn = 0, pc = 0;
    int have_syn = 0, hf = 0, hh = 0, hi = 0, have_insn = 0, thumb = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        uint64_t *dst = NULL;
        int *flag = NULL;
        if (strcmp(o, "--esr") == 0 || strcmp(o, "--hsr") == 0)
            dst = &syn, flag = &have_syn;
        else if (strcmp(o, "--far") == 0 || strcmp(o, "--hdfar") == 0)
            dst = &far, flag = &hf;
        else if (strcmp(o, "--hpfar") == 0)
            dst = &hpfar, flag = &hh;
        else if (strcmp(o, "--ipa") == 0)
            dst = &ipa, flag = &hi;
        else if (strcmp(o, "--insn") == 0)
            dst = &insn, flag = &have_insn;
        else if (strcmp(o, "--pc") == 0)
            dst = &pc;
        else if (strcmp(o, "--thumb") == 0) {
            thumb = 1;
            continue;
        } else if (strcmp(o, "--arch") == 0 && i + 1 < argc) {
            archname = argv[++i];
            continue;
        } else if (o[0] != '-' || strcmp(o, "-") == 0) {
            path = o;
            continue;
        } else {
            usage(stderr);
            return 2;
        }
        if (i + 1 >= argc || parse_u64(argv[i + 1], dst) != 0) {
            fprintf(stderr, "vcpufault explain: %s needs a number\n", o);
            return 2;
        }
        if (flag != NULL)
            *flag = 1;
        i++;
    }
    if (!have_syn) {
        FILE *in = stdin;
        if (path != NULL && strcmp(path, "-") != 0 && (in = fopen(path, "r")) == NULL) {
            fprintf(stderr, "vcpufault explain: %s: %s\n", path, strerror(errno));
            return 1;
        }
        int rc = explain_stream(in, stdout);
        if (in != stdin)
            fclose(in);
        return rc == 0 ? 0 : 1;
    }
    const explain_arch_t *a = find_explain_arch(archname);
    if (a == NULL) {
        fprintf(stderr, "vcpufault explain: no syndrome description for '%s'\n", archname);
        return 2;
    }
    explain_common(a, syn, hf, far, hh, hpfar, hi, ipa, stdout);
    if (have_insn) {
        fprintf(stdout, "Instruction: %08" PRIx64 "\n", insn);
        disassemble_word(a->name, (uint32_t)insn, pc, thumb, stdout);
        if (strcmp(a->name, "aarch64") == 0)
            print_a64_decoded((uint32_t)insn, stdout);
    } else if (((syn >> 24) & 1) && strcmp(a->name, "aarch64") == 0) {
        unsigned sas = (unsigned)(syn >> 22) & 3u, srt = (unsigned)(syn >> 16) & 31u;
        char reg[8];
        gpr_name(reg, sizeof(reg), srt, ((syn >> 15) & 1) ? 8 : 4);
        fprintf(stdout, "Completing it will:\n");
        if ((syn >> 6) & 1)
            fprintf(stdout, "  write the low %u byte(s) of %s to the device\n", 1u << sas, reg);
        else
            fprintf(stdout, "  set %s to the %u-byte value read, %s-extended\n", reg, 1u << sas,
                    ((syn >> 21) & 1) ? "sign" : "zero");
        fprintf(stdout, "  move the PC on by %u\n", ((syn >> 25) & 1) ? 4u : 2u);
    } else {
        fprintf(stdout, "No instruction syndrome: give --insn to see the instruction decoded.\n");
    }
    return 0;
}
