/*
 * Differential test of the AArch32 decoders against Unicorn 2 (QEMU's Arm
 * CPU model, Cortex-A15). Each case is a generated A32, T16 or T32
 * load/store with random registers; Unicorn runs it for one instruction with
 * the data range mapped as RAM and hooked (every read gets a random value),
 * and the library must make the same accesses (address, size, direction,
 * value, order) and leave the same registers. The generators state the
 * encoding rules from the ARMv7-A ARM on their own (fields that would make an
 * instruction UNPREDICTABLE are avoided), so any refusal by the library is a
 * failure. Where the hardware would give a syndrome (ISV = 1) the case also
 * runs through the syndrome path and must agree.
 *
 * Oracle pitfalls (ANCHORS.md): Thumb runs with IT = 0 in Unicorn and the
 * ITAdvance rule is applied here by hand; accesses stay inside one 1 KiB
 * block and are aligned; a page after the code is mapped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <unicorn/unicorn.h>
#include <vcpufault/aarch32.h>
#include "vf_test.h"

#define RAM_BASE 0x10000u
#define RAM_SIZE 0x30000u
#define CODE 0x20000u
#define CASES 4000

/* ---- random numbers (xorshift64*, fixed seed per class) ---- */

static vf_rng_t rng;

static uint32_t rnd(void)
{
    return (uint32_t)(vf_rng_next(&rng) >> 32);
}

static uint32_t below(uint32_t n)
{
    return rnd() % n;
}

/* ---- one generated case ---- */

typedef struct tcase {
    int thumb;
    uint32_t insn;   /* A32 word; T16 halfword; T32 hw1 << 16 | hw2 */
    unsigned len;    /* 2 or 4 */
    uint32_t r[16];  /* r[15] = CODE */
    uint32_t cpsr;   /* NZCV and mode for Unicorn; the library also gets T and IT */
    uint32_t it;     /* IT state given to the library (Thumb), 0 for none */
    int isv;         /* a syndrome (ISV = 1) can describe it */
    int sse;         /* signed load */
    unsigned rt;
} tcase_t;

typedef struct acc {
    uint32_t addr;
    unsigned size;
    int write;
    uint32_t value;
} acc_t;

typedef struct oracle {
    acc_t acc[20];
    unsigned n;
    uint32_t r[16];
    uint32_t cpsr;
} oracle_t;

static oracle_t *cur_oracle;

/* ---- the test's own statement of the ARM ARM rules it needs ---- */

/* Shift(Rm, DecodeImmShift(type, imm5), C) (ARM ARM A8.4.3). */
static uint32_t arm_shift(uint32_t v, unsigned type, unsigned imm5, unsigned c)
{
    switch (type) {
    case 0: return v << imm5;
    case 1: return imm5 == 0 ? 0 : v >> imm5;
    case 2: {
        unsigned n = imm5 == 0 ? 32 : imm5;
        int64_t s = (int32_t)v;
        return (uint32_t)(s >> (n > 31 ? 31 : n));
    }
    default:
        if (imm5 == 0)
            return (c << 31) | (v >> 1);
        return (v >> imm5) | (v << (32 - imm5));
    }
}

/* ITAdvance (ARM ARM A2.5.2). */
static uint32_t it_advance(uint32_t it)
{
    if ((it & 7) == 0)
        return 0;
    return (it & 0xe0) | ((it << 1) & 0x1f);
}

static uint32_t cpsr_with_it(uint32_t cpsr, uint32_t it)
{
    return (cpsr & ~0x0600fc00u) | ((it >> 2) & 0x3f) << 10 | (it & 3) << 25;
}

static int cond_holds(unsigned cond, uint32_t cpsr)
{
    unsigned n = cpsr >> 31 & 1, z = cpsr >> 30 & 1, c = cpsr >> 29 & 1, v = cpsr >> 28 & 1;
    int r;
    switch (cond >> 1) {
    case 0: r = z; break;
    case 1: r = c; break;
    case 2: r = n; break;
    case 3: r = v; break;
    case 4: r = c && !z; break;
    case 5: r = n == v; break;
    case 6: r = n == v && !z; break;
    default: return 1;
    }
    return (cond & 1) ? !r : r;
}

/* A data address: aligned to `align`, `bytes` long, inside one 1 KiB block, away from the code. */
static uint32_t pick_addr(unsigned align, unsigned bytes)
{
    for (;;) {
        uint32_t a = RAM_BASE + 0x2000u + below(RAM_SIZE - 0x4000u);
        a &= ~(align - 1u);
        if ((a & 0x3ffu) + bytes > 0x400u)
            continue;
        if (a + bytes > CODE - 0x1000u && a < CODE + 0x2000u)
            continue;
        return a;
    }
}

static void random_regs(tcase_t *c, int thumb)
{
    for (unsigned i = 0; i < 15; i++)
        c->r[i] = rnd();
    c->r[15] = CODE + (below(0x200) << 1 & (thumb ? ~1u : ~3u)); /* PC mod 4 varies in Thumb */
    c->cpsr = (rnd() & 0xf0000000u) | 0x13u; /* SVC mode, random NZCV */
    c->thumb = thumb;
    c->it = 0;
}

/* ---- generators: A32 ---- */

static const unsigned a32_cond_al = 0xe;

static uint32_t a32_cond(tcase_t *c)
{
    /* Mostly AL; sometimes a random condition that holds (failing ones are tested apart). */
    if (below(4) != 0)
        return a32_cond_al;
    for (;;) {
        unsigned cond = below(15);
        if (cond_holds(cond, c->cpsr))
            return cond;
    }
}

/* LDR/STR/LDRB/STRB immediate and register, all index modes, T variants. */
static void gen_a32_word_byte(tcase_t *c, int reg_form)
{
    random_regs(c, 0);
    for (;;) {
        unsigned p = below(2), u = below(2), b = below(2), w = below(2), l = below(2);
        unsigned n = below(16), t = below(16), m = below(15);
        int wback = !p || w, unpriv = !p && w;
        if (wback && (n == 15 || n == t))
            continue;
        if (b && t == 15)
            continue;
        if (unpriv && l && t == 15)
            continue;
        if (reg_form && (m == n || m == 15))
            continue; /* Rn = Rm: the test cannot place the address */
        unsigned size = b ? 1 : 4;
        unsigned imm12 = below(4096) & ~(size - 1), type = below(4), imm5 = below(32);
        uint32_t a = pick_addr(size, size);
        if (reg_form && n == 15) { /* [pc, +/-rm]: PC reads PC + 8 */
            type = imm5 = 0;
            c->r[m] = u ? a - (c->r[15] + 8) : (c->r[15] + 8) - a;
        }
        uint32_t off = reg_form ? arm_shift(c->r[m], type, imm5, c->cpsr >> 29 & 1) : imm12;
        if (n != 15)
            c->r[n] = p ? (u ? a - off : a + off) : a;
        c->insn = a32_cond(c) << 28 | (reg_form ? 3u : 2u) << 25 | p << 24 | u << 23 | b << 22 |
                  w << 21 | l << 20 | n << 16 | t << 12 |
                  (reg_form ? (imm5 << 7 | type << 5 | m) : imm12);
        c->isv = !wback && t != 15;
        c->sse = 0;
        c->rt = t;
        break;
    }
    c->len = 4;
}

static void gen_a32_imm(tcase_t *c) { gen_a32_word_byte(c, 0); }
static void gen_a32_reg(tcase_t *c) { gen_a32_word_byte(c, 1); }

/* LDRH/STRH/LDRSB/LDRSH/LDRD/STRD, immediate and register, T variants. */
static void gen_a32_extra(tcase_t *c)
{
    random_regs(c, 0);
    for (;;) {
        unsigned p = below(2), u = below(2), i = below(2), w = below(2), l = below(2), op2 = 1 + below(3);
        unsigned n = below(16), t = below(16), m = below(15);
        int dual = op2 >= 2 && !l, wback = !p || w, unpriv = !p && w;
        unsigned size = dual ? 4 : (op2 == 2 ? 1 : 2);
        if (unpriv && dual)
            continue;
        if (dual) {
            if ((t & 1) || t == 14)
                continue;
            if (wback && (n == 15 || n == t || n == t + 1))
                continue;
            if (!i && op2 == 2 && (m == t || m == t + 1))
                continue;
        } else {
            if (t == 15 || (wback && (n == 15 || n == t)))
                continue;
        }
        if (!i && m == n)
            continue;
        unsigned imm8 = below(256) & ~(size - 1);
        uint32_t a = pick_addr(dual ? 4 : size, dual ? 8 : size);
        if (!i && n == 15) /* [pc, +/-rm]: PC reads PC + 8 */
            c->r[m] = u ? a - (c->r[15] + 8) : (c->r[15] + 8) - a;
        uint32_t off = i ? imm8 : c->r[m];
        if (n != 15)
            c->r[n] = p ? (u ? a - off : a + off) : a;
        c->insn = a32_cond(c) << 28 | p << 24 | u << 23 | i << 22 | w << 21 | l << 20 | n << 16 |
                  t << 12 | (i ? (imm8 >> 4) << 8 : 0) | 1u << 7 | op2 << 5 | 1u << 4 |
                  (i ? (imm8 & 15) : m);
        c->isv = !dual && !wback;
        c->sse = l && op2 >= 2;
        c->rt = t;
        break;
    }
    c->len = 4;
}

/* LDM/STM IA/IB/DA/DB with and without writeback (PUSH/POP included). */
static void gen_a32_multi(tcase_t *c)
{
    random_regs(c, 0);
    for (;;) {
        unsigned p = below(2), u = below(2), w = below(2), l = below(2), n = below(15);
        uint32_t list = rnd() & 0xffffu;
        if (w && (list >> n & 1)) {
            if (l || (list & ((1u << n) - 1)) != 0)
                list &= ~(1u << n);
        }
        if (list == 0)
            continue;
        unsigned cnt = (unsigned)__builtin_popcount(list);
        uint32_t a = pick_addr(4, 4 * cnt);
        c->r[n] = u ? (p ? a - 4 : a) : (p ? a + 4 * cnt : a + 4 * cnt - 4);
        c->insn = a32_cond(c) << 28 | 4u << 25 | p << 24 | u << 23 | w << 21 | l << 20 | n << 16 | list;
        break;
    }
    c->isv = 0;
    c->len = 4;
}

/* ---- generators: T16 ---- */

static void thumb_it(tcase_t *c, int loads_pc)
{
    /* A third of the cases sit in an IT block whose condition holds. */
    if (below(3) != 0)
        return;
    for (;;) {
        unsigned cond = below(15), mask = loads_pc ? 8 : 1 + below(15);
        if (!cond_holds(cond, c->cpsr))
            continue;
        c->it = cond << 4 | mask;
        return;
    }
}

static void gen_t16(tcase_t *c)
{
    random_regs(c, 1);
    unsigned form = below(7), rt = below(8), rn = below(8), rm = below(8), imm5 = below(32), imm8 = below(256);
    uint32_t hw = 0, a;
    int loads_pc = 0;
    c->isv = 1;
    c->sse = 0;
    c->rt = rt;
    switch (form) {
    case 0: /* LDR literal */
        hw = 0x4800u | rt << 8 | imm8;
        break;
    case 1: { /* register offset */
        unsigned opb = below(8), size = (opb == 0 || opb == 4) ? 4 : (opb == 2 || opb == 3 || opb == 6) ? 1 : 2;
        while (rm == rn)
            rm = below(8);
        a = pick_addr(size, size);
        c->r[rn] = a - c->r[rm];
        hw = 0x5000u | opb << 9 | rm << 6 | rn << 3 | rt;
        c->sse = opb == 3 || opb == 7;
        break;
    }
    case 2: { /* STR/LDR/STRB/LDRB imm5 */
        unsigned b = below(2), l = below(2), size = b ? 1 : 4;
        a = pick_addr(size, size);
        c->r[rn] = a - imm5 * size;
        hw = 0x6000u | b << 12 | l << 11 | imm5 << 6 | rn << 3 | rt;
        break;
    }
    case 3: { /* STRH/LDRH imm5 */
        a = pick_addr(2, 2);
        c->r[rn] = a - imm5 * 2;
        hw = 0x8000u | below(2) << 11 | imm5 << 6 | rn << 3 | rt;
        break;
    }
    case 4: /* STR/LDR SP-relative */
        a = pick_addr(4, 4);
        c->r[13] = a - imm8 * 4;
        hw = 0x9000u | below(2) << 11 | rt << 8 | imm8;
        break;
    case 5: { /* PUSH/POP */
        unsigned pop = below(2), extra = below(2);
        uint32_t list = below(256);
        if (list == 0 && !extra)
            list = 1;
        unsigned cnt = (unsigned)__builtin_popcount(list) + extra;
        a = pick_addr(4, 4 * cnt);
        c->r[13] = pop ? a : a + 4 * cnt;
        hw = 0xb400u | pop << 11 | extra << 8 | list;
        loads_pc = pop && extra;
        c->isv = 0;
        break;
    }
    default: { /* STMIA/LDMIA */
        unsigned l = below(2);
        uint32_t list = below(256);
        if (!l && (list >> rn & 1) && (list & ((1u << rn) - 1)))
            list &= ~(1u << rn);
        if (list == 0)
            list = 1u << ((rn + 1) & 7);
        unsigned cnt = (unsigned)__builtin_popcount(list);
        a = pick_addr(4, 4 * cnt);
        c->r[rn] = a;
        hw = 0xc000u | l << 11 | rn << 8 | list;
        c->isv = 0;
        break;
    }
    }
    c->insn = hw;
    c->len = 2;
    thumb_it(c, loads_pc);
}

/* ---- generators: T32 ---- */

/* Single data item: imm12, imm8 (offset, pre, post, T), register, literal. */
static void gen_t32_single(tcase_t *c)
{
    random_regs(c, 1);
    for (;;) {
        unsigned s = below(2), size = below(3), l = below(2), n = below(16), t = below(16), m = below(16);
        unsigned form = below(4), bytes = 1u << size;
        int wback = 0;
        if (!l && s)
            continue;
        if (s && size == 2)
            continue;
        if (!l && (t == 15 || (bytes < 4 && t == 13)))
            continue;
        if (l && bytes < 4 && (t == 13 || t == 15))
            continue;
        uint32_t hw1 = 0xf800u | s << 8 | size << 5 | l << 4, hw2 = t << 12, a = pick_addr(bytes, bytes);
        if (form == 3 && !l)
            form = 0;
        if (form == 3) { /* literal */
            n = 15;
            unsigned u = below(2), imm12 = below(4096) & ~(bytes - 1);
            hw1 |= u << 7;
            hw2 |= imm12;
        } else if (n == 15) {
            continue;
        } else if (form == 0) { /* imm12 */
            unsigned imm12 = below(4096);
            hw1 |= 1u << 7;
            hw2 |= imm12;
            c->r[n] = a - imm12;
        } else if (form == 1) { /* imm8: puw in {100 post-, 101, 110 neg, 111, 001 post, 011, 110 T} */
            unsigned p = below(2), u = below(2), w = below(2), imm8 = below(256);
            if (!p && !w)
                continue;
            int unpriv = p && u && !w;
            wback = w;
            if (unpriv && (t == 13 || t == 15))
                continue;
            if (wback && n == t)
                continue;
            hw2 |= 1u << 11 | p << 10 | u << 9 | w << 8 | imm8;
            c->r[n] = p ? (u ? a - imm8 : a + imm8) : a;
        } else { /* register, LSL #imm2 */
            unsigned imm2 = below(4);
            if (m == 13 || m == 15 || m == n)
                continue;
            hw2 |= imm2 << 4 | m;
            c->r[n] = a - (c->r[m] << imm2);
        }
        c->insn = (hw1 | n) << 16 | hw2;
        c->isv = !wback && t != 15;
        c->sse = s;
        c->rt = t;
        thumb_it(c, l && t == 15);
        break;
    }
    c->len = 4;
}

/* LDRD/STRD immediate (offset, pre, post) and LDRD literal. */
static void gen_t32_dual(tcase_t *c)
{
    random_regs(c, 1);
    for (;;) {
        unsigned p = below(2), u = below(2), w = below(2), l = below(2), n = below(16);
        unsigned t = below(16), t2 = below(16), imm8 = below(256);
        if (!p && !w)
            continue;
        if (t == 13 || t == 15 || t2 == 13 || t2 == 15 || (l && t == t2))
            continue;
        if (w && (n == t || n == t2 || n == 15))
            continue;
        if (n == 15 && !l)
            continue;
        uint32_t a = pick_addr(4, 8);
        if (n != 15)
            c->r[n] = p ? (u ? a - imm8 * 4 : a + imm8 * 4) : a;
        c->insn = (0xe840u | p << 8 | u << 7 | w << 5 | l << 4 | n) << 16 | t << 12 | t2 << 8 | imm8;
        break;
    }
    c->isv = 0;
    c->len = 4;
    thumb_it(c, 0);
}

/* LDMIA/LDMDB/STMIA/STMDB (PUSH.W/POP.W). */
static void gen_t32_multi(tcase_t *c)
{
    random_regs(c, 1);
    for (;;) {
        unsigned db = below(2), w = below(2), l = below(2), n = below(15);
        uint32_t list = rnd() & 0xdfffu;
        if (!l)
            list &= 0x7fffu;
        else if ((list & 0xc000u) == 0xc000u)
            list &= ~(1u << (14 + below(2)));
        if (w)
            list &= ~(1u << n);
        if (__builtin_popcount(list) < 2)
            continue;
        unsigned cnt = (unsigned)__builtin_popcount(list);
        uint32_t a = pick_addr(4, 4 * cnt);
        c->r[n] = db ? a + 4 * cnt : a;
        c->insn = (0xe800u | (db ? 2u : 1u) << 7 | w << 5 | l << 4 | n) << 16 | list;
        thumb_it(c, l && (list >> 15 & 1));
        break;
    }
    c->isv = 0;
    c->len = 4;
}

/* ---- running Unicorn ---- */

static void hook_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *user)
{
    (void)user;
    oracle_t *o = cur_oracle;
    if (o->n >= 20)
        return;
    acc_t *a = &o->acc[o->n++];
    a->addr = (uint32_t)addr;
    a->size = (unsigned)size;
    a->write = type == UC_MEM_WRITE;
    if (a->write) {
        a->value = (uint32_t)value & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
        return;
    }
    uint32_t v = rnd();
    if (size == 4 && (v & 3) == 2)
        v |= 1; /* a load into PC must be a valid interworking address */
    if (size < 4)
        v &= (1u << (8 * size)) - 1;
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    uc_mem_write(uc, addr, b, (size_t)size);
    a->value = v;
}

static uc_engine *uc_arm, *uc_thumb;

static uc_engine *make_uc(int thumb)
{
    uc_engine *uc;
    uc_hook h;
    assert_int_equal(uc_open(UC_ARCH_ARM, thumb ? UC_MODE_THUMB : UC_MODE_ARM, &uc), UC_ERR_OK);
    uc_ctl_set_cpu_model(uc, UC_CPU_ARM_CORTEX_A15);
    assert_int_equal(uc_mem_map(uc, RAM_BASE, RAM_SIZE, UC_PROT_ALL), UC_ERR_OK);
    void *cb;
    uc_cb_hookmem_t fn = hook_mem;
    memcpy(&cb, &fn, sizeof(cb)); /* uc_hook_add takes the callback as void * */
    assert_int_equal(uc_hook_add(uc, &h, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, cb, NULL,
                                 RAM_BASE, RAM_BASE + RAM_SIZE - 1), UC_ERR_OK);
    return uc;
}

static const int uc_regs[16] = {
    UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R4, UC_ARM_REG_R5,
    UC_ARM_REG_R6, UC_ARM_REG_R7, UC_ARM_REG_R8, UC_ARM_REG_R9, UC_ARM_REG_R10, UC_ARM_REG_R11,
    UC_ARM_REG_R12, UC_ARM_REG_R13, UC_ARM_REG_R14, UC_ARM_REG_R15,
};

static void code_bytes(const tcase_t *c, uint8_t out[4])
{
    uint32_t v = c->insn;
    if (c->thumb && c->len == 4)
        v = (c->insn >> 16) | (c->insn << 16); /* hw1 at the lower address */
    for (unsigned i = 0; i < 4; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static void run_unicorn(const tcase_t *c, oracle_t *o)
{
    uc_engine *uc = c->thumb ? uc_thumb : uc_arm;
    uint8_t code[4];
    code_bytes(c, code);
    assert_int_equal(uc_mem_write(uc, c->r[15], code, 4), UC_ERR_OK);
    uc_ctl_remove_cache(uc, c->r[15], c->r[15] + 4);
    uint32_t cpsr = c->cpsr;
    uc_reg_write(uc, UC_ARM_REG_CPSR, &cpsr);
    for (unsigned i = 0; i < 15; i++)
        uc_reg_write(uc, uc_regs[i], &c->r[i]);
    memset(o, 0, sizeof(*o));
    cur_oracle = o;
    uc_err e = uc_emu_start(uc, c->r[15] | (c->thumb ? 1u : 0u), CODE + 0x1000, 0, 1);
    /* After a load into PC Unicorn may try to fetch at the (unmapped) target before stopping. */
    if (e != UC_ERR_OK && !(e == UC_ERR_FETCH_UNMAPPED || e == UC_ERR_FETCH_PROT))
        fail_msg("Unicorn: %s for %#x", uc_strerror(e), c->insn);
    for (unsigned i = 0; i < 16; i++)
        uc_reg_read(uc, uc_regs[i], &o->r[i]);
    uc_reg_read(uc, UC_ARM_REG_CPSR, &o->cpsr);
}

/* ---- running the library ---- */

typedef struct mem {
    uint32_t pc;
    uint8_t code[4];
} mem_t;

static int read_code(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    const mem_t *m = ctx;
    if (gpa < m->pc || gpa + len > m->pc + 4)
        return -1;
    memcpy(buf, m->code + (gpa - m->pc), len);
    return 0;
}

/* Run the fault through the library, feeding Unicorn's read values; compare everything. */
static void check_library(const tcase_t *c, const oracle_t *o, int syndrome, char *why, size_t wl)
{
    mem_t m;
    m.pc = c->r[15];
    code_bytes(c, m.code);
    vf_host_t host = {read_code, NULL, &m, 0};
    vf_aarch32_regs_t regs;
    memset(&regs, 0, sizeof(regs));
    memcpy(regs.r, c->r, sizeof(regs.r));
    regs.cpsr = c->cpsr | (c->thumb ? 0x20u : 0u);
    if (c->thumb)
        regs.cpsr = cpsr_with_it(regs.cpsr, c->it);
    vf_aarch32_exit_t ex = {0, 0, 0, 0, 0};
    ex.hsr = 0x24u << 26 | 0x07u | (o->acc[0].write ? 1u << 6 : 0);
    if (!(c->thumb && c->len == 2))
        ex.hsr |= 1u << 25;
    if (syndrome) {
        unsigned sas = o->acc[0].size == 4 ? 2 : o->acc[0].size == 2 ? 1 : 0;
        ex.hsr |= 1u << 24 | sas << 22 | (unsigned)c->sse << 21 | c->rt << 16;
    }
    ex.hdfar = o->acc[0].addr;
    ex.hpfar = (o->acc[0].addr >> 12) << 4;

    vf_fault_t f;
    vf_fault_init(&f);
    vf_error_t e = vf_aarch32_capture(&f, &regs, &ex, &host);
    if (e != VF_OK) {
        snprintf(why, wl, "capture failed: %s (%s)", vf_error_name(e), vf_fault_message(&f));
        return;
    }
    unsigned k = 0;
    while (vf_fault_state(&f) == VF_STATE_ACCESS) {
        vf_access_t a = vf_fault_access(&f);
        if (k >= o->n) {
            snprintf(why, wl, "library makes more accesses than Unicorn (%u)", o->n);
            return;
        }
        const acc_t *x = &o->acc[k];
        uint32_t val = a.dir == VF_DIR_WRITE ? (uint32_t)vf_fault_write_value(&f) : x->value;
        if (a.addr != x->addr || a.size != x->size || (a.dir == VF_DIR_WRITE) != x->write || val != x->value) {
            snprintf(why, wl, "access %u: library %s %#llx size %u value %#x, Unicorn %s %#x size %u value %#x",
                     k, a.dir == VF_DIR_WRITE ? "write" : "read", (unsigned long long)a.addr, a.size, val,
                     x->write ? "write" : "read", x->addr, x->size, x->value);
            return;
        }
        if (a.dir == VF_DIR_READ)
            vf_fault_set_read_value(&f, x->value);
        if (vf_fault_advance(&f) != VF_OK) {
            snprintf(why, wl, "advance failed: %s", vf_fault_message(&f));
            return;
        }
        k++;
    }
    if (vf_fault_state(&f) != VF_STATE_DONE || k != o->n) {
        snprintf(why, wl, "library stopped after %u of %u accesses: %s", k, o->n, vf_fault_message(&f));
        return;
    }
    for (unsigned i = 0; i < 16; i++) {
        if (regs.r[i] != o->r[i]) {
            snprintf(why, wl, "r%u: library %#x, Unicorn %#x", i, regs.r[i], o->r[i]);
            return;
        }
    }
    /* Unicorn ran with IT = 0: the expected IT state is ITAdvance of the library's. */
    uint32_t want = cpsr_with_it((c->cpsr & ~0x20u) | (o->cpsr & 0x20u), c->thumb ? it_advance(c->it) : 0);
    if (regs.cpsr != want)
        snprintf(why, wl, "cpsr: library %#x, expected %#x (Unicorn %#x)", regs.cpsr, want, o->cpsr);
}

typedef void (*gen_fn)(tcase_t *);

static void run_class(gen_fn gen, uint64_t seed, const char *name)
{
    unsigned done = 0, syndrome = 0, branches = 0;
    rng.s = seed;
    if (uc_arm == NULL)
        uc_arm = make_uc(0);
    if (uc_thumb == NULL)
        uc_thumb = make_uc(1);
    for (unsigned i = 0; i < CASES; i++) {
        tcase_t c;
        oracle_t o;
        char why[256] = "";
        memset(&c, 0, sizeof(c));
        gen(&c);
        run_unicorn(&c, &o);
        if (o.n == 0) {
            fprintf(stderr, "%s: %#x made no access in Unicorn\n", name, c.insn);
            fail();
        }
        check_library(&c, &o, 0, why, sizeof(why));
        if (why[0] == '\0' && c.isv && o.n == 1) {
            check_library(&c, &o, 1, why, sizeof(why));
            if (why[0] != '\0')
                strncat(why, " [syndrome path]", sizeof(why) - strlen(why) - 1);
            syndrome++;
        }
        if (why[0] != '\0') {
            fprintf(stderr, "%s case %u: insn %#010x%s it %#x: %s\n", name, i, c.insn,
                    c.thumb ? " (thumb)" : "", c.it, why);
            fail();
        }
        done++;
        branches += o.r[15] != c.r[15] + c.len;
    }
    printf("%s: %u cases agree with Unicorn (%u also through the syndrome, %u load PC)\n", name, done,
           syndrome, branches);
    assert_int_equal(done, CASES);
}

static void test_a32_imm(void **s) { (void)s; run_class(gen_a32_imm, 0x1111, "A32 LDR/STR(B) imm"); }
static void test_a32_reg(void **s) { (void)s; run_class(gen_a32_reg, 0x2222, "A32 LDR/STR(B) reg"); }
static void test_a32_extra(void **s) { (void)s; run_class(gen_a32_extra, 0x3333, "A32 H/SB/SH/D"); }
static void test_a32_multi(void **s) { (void)s; run_class(gen_a32_multi, 0x4444, "A32 LDM/STM"); }
static void test_t16(void **s) { (void)s; run_class(gen_t16, 0x5555, "T16 load/store"); }
static void test_t32_single(void **s) { (void)s; run_class(gen_t32_single, 0x6666, "T32 single"); }
static void test_t32_dual(void **s) { (void)s; run_class(gen_t32_dual, 0x7777, "T32 LDRD/STRD"); }
static void test_t32_multi(void **s) { (void)s; run_class(gen_t32_multi, 0x8888, "T32 LDM/STM"); }

/* A32 condition that fails: no access in Unicorn, and the library reports mismatch. */
static void test_a32_condition_fails(void **s)
{
    (void)s;
    unsigned n = 0;
    rng.s = 0x9999;
    if (uc_arm == NULL)
        uc_arm = make_uc(0);
    for (unsigned i = 0; i < 300; i++) {
        tcase_t c;
        oracle_t o;
        gen_a32_imm(&c);
        unsigned cond = below(14);
        if (cond_holds(cond, c.cpsr))
            continue;
        c.insn = (c.insn & 0x0fffffffu) | cond << 28;
        run_unicorn(&c, &o);
        assert_int_equal(o.n, 0);
        assert_int_equal(o.r[15], c.r[15] + 4);
        vf_aarch32_regs_t regs;
        memset(&regs, 0, sizeof(regs));
        memcpy(regs.r, c.r, sizeof(regs.r));
        regs.cpsr = c.cpsr;
        mem_t m;
        m.pc = c.r[15];
        code_bytes(&c, m.code);
        vf_host_t host = {read_code, NULL, &m, 0};
        vf_aarch32_exit_t ex = {0x24u << 26 | 1u << 25 | 0x07u, 0x1000, 0x10, 0, 0};
        vf_fault_t f;
        vf_fault_init(&f);
        assert_int_equal(vf_aarch32_capture(&f, &regs, &ex, &host), VF_ERR_MISMATCH);
        n++;
    }
    printf("A32 failing conditions: %u cases refused as mismatch\n", n);
    assert_true(n > 100);
}

static int teardown(void **s)
{
    (void)s;
    if (uc_arm)
        uc_close(uc_arm);
    if (uc_thumb)
        uc_close(uc_thumb);
    uc_arm = uc_thumb = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a32_imm),
        cmocka_unit_test(test_a32_reg),
        cmocka_unit_test(test_a32_extra),
        cmocka_unit_test(test_a32_multi),
        cmocka_unit_test(test_a32_condition_fails),
        cmocka_unit_test(test_t16),
        cmocka_unit_test(test_t32_single),
        cmocka_unit_test(test_t32_dual),
        cmocka_unit_test(test_t32_multi),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
