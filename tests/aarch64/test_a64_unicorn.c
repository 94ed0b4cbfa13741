/*
 * Differential test of the AArch64 ISV = 0 path against Unicorn (QEMU's CPU
 * model). For every class of load/store, thousands of encodings are built
 * here from the Arm ARM encoding tables with random fields and random
 * registers; each runs for one instruction in Unicorn with the device window
 * mapped as RAM and hooked, and through the library as a data abort with
 * ISV = 0. Accesses (address, size, direction, value, order) and the final
 * registers (X0-X30, SP, PC, V0-V31) must agree.
 *
 * Structure loads/stores (LD1-LD4/ST1-ST4) are compared as the bytes they
 * read or write: QEMU splits them per element, the library presents
 * register-sized chunks in ascending order (FAULT-RECORD.md).
 *
 * A second suite checks that, for every instruction the architecture would
 * report with ISV = 1, a syndrome built here from the architecture's rules
 * and the decoded instruction give the same result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <unicorn/unicorn.h>
#include <vcpufault/aarch64.h>
#include "vf_test.h"

#define CODE 0x400f0000ull /* code page; the literal loads reach back into the device window */
#define DEV 0x40000000ull  /* device window, 64 KiB, RAM in Unicorn with hooks */
#define DEV_SIZE 0x10000ull
#define ITERS 4000
#define MAXACC 80

/* ---- random numbers (xorshift64*) ---- */
static vf_rng_t rng = {0x9e3779b97f4a7c15ull};
static uint64_t rnd(void) { return vf_rng_next(&rng); }
static uint32_t rn_(uint32_t n) { return (uint32_t)(rnd() % n); }

/* ---- one generated case ---- */
typedef struct gcase {
    uint32_t insn;
    vf_aarch64_regs_t regs;
    int structured; /* compare as bytes (LD1-LD4/ST1-ST4) */
    int write;
} gcase_t;

typedef struct oacc {
    uint64_t addr;
    unsigned size;
    int write;
    uint64_t value;
} oacc_t;

typedef struct oracle {
    uc_engine *uc;
    oacc_t acc[MAXACC];
    unsigned n;
} oracle_t;

static void hook_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *user)
{
    oracle_t *o = user;
    if (o->n >= MAXACC)
        return;
    oacc_t *a = &o->acc[o->n++];
    a->addr = addr;
    a->size = (unsigned)size;
    a->write = type == UC_MEM_WRITE;
    if (a->write) {
        a->value = (uint64_t)value & (size >= 8 ? ~0ull : ((1ull << (8 * size)) - 1));
    } else {
        uint64_t v = rnd();
        uint8_t b[8];
        for (int i = 0; i < 8; i++)
            b[i] = (uint8_t)(v >> (8 * i));
        a->value = v & (size >= 8 ? ~0ull : ((1ull << (8 * size)) - 1));
        uc_mem_write(uc, addr, b, (size_t)size); /* what the load will see */
    }
}

/* Big-endian data (SCTLR_EL1.EE = 1 for the library, a big-endian Unicorn as the oracle). */
static int be_mode;

static oracle_t *oracle_open(void)
{
    static oracle_t oracles[2];
    oracle_t *o = &oracles[be_mode];
    uc_hook h1, h2;
    if (o->uc != NULL)
        return o;
    assert_int_equal(uc_open(UC_ARCH_ARM64, UC_MODE_ARM | (be_mode ? UC_MODE_BIG_ENDIAN : 0), &o->uc), UC_ERR_OK);
    uc_ctl_set_cpu_model(o->uc, UC_CPU_ARM64_MAX); /* LDAPR/LDAPUR need FEAT_LRCPC(2) */
    assert_int_equal(uc_mem_map(o->uc, CODE, 0x2000, UC_PROT_ALL), UC_ERR_OK); /* + look-ahead page */
    assert_int_equal(uc_mem_map(o->uc, DEV, DEV_SIZE, UC_PROT_ALL), UC_ERR_OK);
    uc_hook_add(o->uc, &h1, UC_HOOK_MEM_READ, (void *)(uintptr_t)hook_mem, o, DEV, DEV + DEV_SIZE - 1);
    uc_hook_add(o->uc, &h2, UC_HOOK_MEM_WRITE, (void *)(uintptr_t)hook_mem, o, DEV, DEV + DEV_SIZE - 1);
    return o;
}

/* The SP the guest uses: SP_EL1 at EL1h, else SP_EL0 (EL1t, EL0). */
static uint64_t *active_sp(vf_aarch64_regs_t *r)
{
    return (r->pstate & 0xd) == 0x5 ? &r->sp_el1 : &r->sp_el0;
}
static const uint64_t *active_sp_c(const vf_aarch64_regs_t *r)
{
    return (r->pstate & 0xd) == 0x5 ? &r->sp_el1 : &r->sp_el0;
}

static int x_reg(int i) { return i == 29 ? UC_ARM64_REG_X29 : i == 30 ? UC_ARM64_REG_X30 : UC_ARM64_REG_X0 + i; }

/* Run the case in Unicorn; the final registers go to out. */
static void oracle_run(oracle_t *o, const gcase_t *c, vf_aarch64_regs_t *out)
{
    uc_engine *uc = o->uc;
    uint64_t pc = c->regs.pc;
    uc_mem_write(uc, pc, &c->insn, 4);
    uc_ctl_remove_cache(uc, pc, pc + 4);
    for (int i = 0; i < 31; i++)
        uc_reg_write(uc, x_reg(i), &c->regs.x[i]);
    uc_reg_write(uc, UC_ARM64_REG_PSTATE, &c->regs.pstate);
    uc_reg_write(uc, UC_ARM64_REG_SP, active_sp_c(&c->regs));
    for (int i = 0; i < 32; i++) {
        uint64_t q[2] = {c->regs.v[i].lo, c->regs.v[i].hi};
        uc_reg_write(uc, UC_ARM64_REG_V0 + i, q);
    }
    o->n = 0;
    uc_err e = uc_emu_start(uc, pc, pc + 4, 0, 1);
    if (e != UC_ERR_OK)
        fail_msg("unicorn: %08x: %s", c->insn, uc_strerror(e));
    /* What a write put in memory, as bytes (the hook's value is the register's view). */
    for (unsigned i = 0; i < o->n; i++) {
        if (o->acc[i].write) {
            uint8_t b[8] = {0};
            uc_mem_read(uc, o->acc[i].addr, b, o->acc[i].size);
            o->acc[i].value = 0;
            for (unsigned k = 0; k < o->acc[i].size; k++)
                o->acc[i].value |= (uint64_t)b[k] << (8 * k);
        }
    }
    *out = c->regs;
    for (int i = 0; i < 31; i++)
        uc_reg_read(uc, x_reg(i), &out->x[i]);
    uc_reg_read(uc, UC_ARM64_REG_SP, active_sp(out));
    uc_reg_read(uc, UC_ARM64_REG_PC, &out->pc);
    for (int i = 0; i < 32; i++) {
        uint64_t q[2];
        uc_reg_read(uc, UC_ARM64_REG_V0 + i, q);
        out->v[i].lo = q[0];
        out->v[i].hi = q[1];
    }
}

/* ---- the library side ---- */
static int read_code(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    const gcase_t *c = ctx;
    if (gpa != c->regs.pc || len != 4)
        return -1;
    memcpy(buf, &c->insn, 4);
    return 0;
}

static uint64_t esr_isv0(int write)
{
    return (0x24ull << 26) | (1ull << 25) | (write ? 1ull << 6 : 0) | 0x07u; /* translation fault, level 3 */
}

/* Bytes an access list touches: value of each address, -1 if untouched. */
typedef struct bytemap {
    int16_t b[0x400];
    uint64_t base;
} bytemap_t;

static void map_put(bytemap_t *m, uint64_t addr, unsigned size, uint64_t v)
{
    for (unsigned i = 0; i < size; i++) {
        uint64_t off = addr + i - m->base;
        if (off >= 0x400)
            fail_msg("access at %llx outside its 1 KiB block", (unsigned long long)(addr + i));
        m->b[off] = (int16_t)((v >> (8 * i)) & 0xff);
    }
}

static void check_regs(const gcase_t *c, const vf_aarch64_regs_t *got, const vf_aarch64_regs_t *want)
{
    for (int i = 0; i < 31; i++)
        if (got->x[i] != want->x[i])
            fail_msg("%08x: x%d = %llx, unicorn %llx", c->insn, i, (unsigned long long)got->x[i],
                     (unsigned long long)want->x[i]);
    if (got->sp_el1 != want->sp_el1 || got->sp_el0 != want->sp_el0)
        fail_msg("%08x (pstate %llx): sp_el0/sp_el1 = %llx/%llx, unicorn %llx/%llx", c->insn,
                 (unsigned long long)c->regs.pstate, (unsigned long long)got->sp_el0,
                 (unsigned long long)got->sp_el1, (unsigned long long)want->sp_el0,
                 (unsigned long long)want->sp_el1);
    if (got->pc != want->pc)
        fail_msg("%08x: pc = %llx, unicorn %llx", c->insn, (unsigned long long)got->pc, (unsigned long long)want->pc);
    for (int i = 0; i < 32; i++)
        if (got->v[i].lo != want->v[i].lo || got->v[i].hi != want->v[i].hi)
            fail_msg("%08x: v%d = %016llx%016llx, unicorn %016llx%016llx", c->insn, i,
                     (unsigned long long)got->v[i].hi, (unsigned long long)got->v[i].lo,
                     (unsigned long long)want->v[i].hi, (unsigned long long)want->v[i].lo);
}

/* Run one case through Unicorn and the library and compare. */
static void run_case(const gcase_t *c)
{
    oracle_t *o = oracle_open();
    vf_aarch64_regs_t want, got = c->regs;
    oracle_run(o, c, &want);
    if (o->n == 0)
        fail_msg("%08x: unicorn made no device access", c->insn);
    /* Big-endian QEMU moves a Q register's high half first: compare such cases as bytes. */
    int bytes_mode = c->structured;
    for (unsigned i = 1; i < o->n; i++)
        if (be_mode && o->acc[i].addr < o->acc[i - 1].addr)
            bytes_mode = 1;

    vf_fault_t f;
    vf_host_t host = {read_code, NULL, (void *)c, (rnd() & 1) ? VF_HOST_IDENTITY : 0};
    vf_aarch64_exit_t ex = {esr_isv0(o->acc[0].write), o->acc[0].addr, (o->acc[0].addr >> 12) << 4, 0, 0};
    switch (rnd() & 3) { /* the capture paths: FAR valid (fast), FnV (generic), IPA reported directly */
    case 1:
        ex.esr |= 1u << 10; /* FnV: only the IPA is compared */
        break;
    case 2:
        ex.flags = VF_AARCH64_EXIT_IPA;
        ex.ipa = o->acc[0].addr;
        ex.far = (rnd() & 1) ? o->acc[0].addr : 0;
        ex.hpfar = 0;
        break;
    default:
        break;
    }
    vf_fault_init(&f);
    vf_fault_set_split(&f, 8);
    vf_error_t err = vf_aarch64_capture(&f, &got, &ex, &host);
    if (err != VF_OK)
        fail_msg("%08x: capture: %s: %s", c->insn, vf_error_name(err), vf_fault_message(&f));

    bytemap_t om, lm;
    memset(&om, 0xff, sizeof(om));
    memset(&lm, 0xff, sizeof(lm));
    uint64_t lowest = o->acc[0].addr;
    for (unsigned i = 1; i < o->n; i++)
        lowest = o->acc[i].addr < lowest ? o->acc[i].addr : lowest;
    om.base = lm.base = lowest & ~0x3ffull;
    for (unsigned i = 0; i < o->n; i++)
        map_put(&om, o->acc[i].addr, o->acc[i].size, o->acc[i].value);

    unsigned k = 0;
    uint64_t last_end = 0;
    while (vf_fault_state(&f) == VF_STATE_ACCESS) {
        vf_access_t a = vf_fault_access(&f);
        uint64_t v = 0;
        if (k >= MAXACC)
            fail_msg("%08x: too many accesses", c->insn);
        if (bytes_mode) {
            if (a.addr < last_end)
                fail_msg("%08x: structure access %u not in ascending order", c->insn, k);
            last_end = a.addr + a.size;
            if ((a.dir == VF_DIR_WRITE) != c->write)
                fail_msg("%08x: access %u direction", c->insn, k);
            for (unsigned i = 0; i < a.size; i++) {
                int16_t b = om.b[a.addr + i - om.base];
                if (a.addr + i - om.base >= 0x400 || b < 0)
                    fail_msg("%08x: access %u touches %llx, unicorn does not", c->insn, k,
                             (unsigned long long)(a.addr + i));
                if (a.dir == VF_DIR_READ)
                    v |= (uint64_t)(uint8_t)b << (8 * i);
            }
        } else {
            if (k >= o->n)
                fail_msg("%08x: library makes more accesses than unicorn (%u)", c->insn, o->n);
            const oacc_t *e = &o->acc[k];
            if (a.addr != e->addr || a.size != e->size || (a.dir == VF_DIR_WRITE) != e->write)
                fail_msg("%08x: access %u: %s %llx size %u, unicorn %s %llx size %u", c->insn, k,
                         a.dir ? "write" : "read", (unsigned long long)a.addr, a.size,
                         e->write ? "write" : "read", (unsigned long long)e->addr, e->size);
            v = e->value;
        }
        if (a.dir == VF_DIR_READ) {
            assert_int_equal(vf_fault_set_read_value(&f, v), VF_OK);
        } else {
            v = vf_fault_write_value(&f);
            if (!bytes_mode && v != o->acc[k].value)
                fail_msg("%08x: access %u writes %llx, unicorn %llx", c->insn, k, (unsigned long long)v,
                         (unsigned long long)o->acc[k].value);
        }
        map_put(&lm, a.addr, a.size, v);
        if (vf_fault_advance(&f) != VF_OK)
            fail_msg("%08x: advance: %s", c->insn, vf_fault_message(&f));
        k++;
    }
    if (vf_fault_state(&f) != VF_STATE_DONE)
        fail_msg("%08x: did not complete: %s", c->insn, vf_fault_message(&f));
    if (!bytes_mode && k != o->n)
        fail_msg("%08x: %u accesses, unicorn %u", c->insn, k, o->n);
    if (memcmp(om.b, lm.b, sizeof(om.b)) != 0)
        fail_msg("%08x: bytes accessed differ from unicorn's", c->insn);
    check_regs(c, &got, &want);
}

/* ---- generators: encodings from the Arm ARM tables, addresses inside the window ---- */

static void random_regs(gcase_t *c)
{
    memset(&c->regs, 0, sizeof(c->regs));
    for (int i = 0; i < 31; i++)
        c->regs.x[i] = rnd();
    for (int i = 0; i < 32; i++) {
        c->regs.v[i].lo = rnd();
        c->regs.v[i].hi = rnd();
    }
    static const uint64_t pstates[3] = {0x3c5, 0x3c4, 0x3c0}; /* EL1h, EL1t, EL0 */
    c->regs.sp_el0 = rnd();
    c->regs.sp_el1 = rnd();
    c->regs.pc = CODE + 4 * rn_(0x400);
    c->regs.pstate = pstates[rn_(3)];
    c->regs.sctlr_el1 = be_mode ? 3ull << 24 : 0; /* EE, E0E: data big-endian at EL1 and EL0 */
}

/* A target address for `span` bytes inside one 1 KiB block of the window, `align`-aligned. */
static uint64_t target(unsigned span, unsigned align)
{
    uint64_t blk = DEV + 0x400ull * rn_((uint32_t)(DEV_SIZE / 0x400));
    uint64_t off = 16 + rn_(0x400 - 32 - span);
    return blk + (off & ~(uint64_t)(align - 1));
}

/* Set base register n (31 = SP) so that base + off == addr (SP kept 16-byte aligned). */
static uint64_t set_base(gcase_t *c, unsigned n, uint64_t addr, uint64_t off)
{
    uint64_t base = addr - off;
    if (n == 31) {
        base &= ~15ull;
        *active_sp(&c->regs) = base;
    } else {
        c->regs.x[n] = base;
    }
    return base;
}

static unsigned lg(unsigned b) { return b == 1 ? 0 : b == 2 ? 1 : b == 4 ? 2 : b == 8 ? 3 : 4; }

/* (size, opc) pairs that are loads/stores (not PRFM, not unallocated). bytes/write/fp returned. */
static void pick_sizeop(int fp, int unpriv, unsigned *size, unsigned *opc, unsigned *bytes, int *write)
{
    for (;;) {
        *size = rn_(4);
        *opc = rn_(4);
        if (fp) {
            if (*size != 0 && *opc >= 2)
                continue;
            *bytes = (*size == 0 && *opc >= 2) ? 16 : 1u << *size;
        } else {
            if ((*size == 3 && *opc >= 2) || (*size == 2 && *opc == 3))
                continue;
            *bytes = 1u << *size;
        }
        (void)unpriv;
        *write = (*opc & 1) == 0;
        return;
    }
}

static unsigned pick_reg(void) { return rn_(32); }

enum { F_UIMM, F_UNSCALED, F_POST, F_UNPRIV, F_PRE, F_REGOFF };

static void gen_single(gcase_t *c, int form, int fp)
{
    unsigned size, opc, bytes, rt, rn;
    int write;
    random_regs(c);
    pick_sizeop(fp, form == F_UNPRIV, &size, &opc, &bytes, &write);
    c->write = write;
    rt = pick_reg();
    rn = pick_reg();
    int wback = form == F_PRE || form == F_POST;
    while (wback && !fp && rn == rt && rn != 31)
        rn = pick_reg(); /* writeback into Rt is UNPREDICTABLE: tested separately */
    uint64_t a = target(bytes, (rnd() & 3) ? bytes : 1);
    uint32_t v = fp ? 1u : 0u;
    if (form == F_UIMM) {
        uint32_t imm12 = rn_(4096);
        uint64_t base = set_base(c, rn, a, (uint64_t)imm12 << lg(bytes));
        (void)base;
        c->insn = size << 30 | 7u << 27 | v << 26 | 1u << 24 | opc << 22 | imm12 << 10 | rn << 5 | rt;
    } else if (form == F_REGOFF) {
        static const uint32_t options[4] = {2, 3, 6, 7};
        uint32_t option = options[rn_(4)], s = rn_(2), rm = pick_reg();
        while (rm == rn)
            rm = pick_reg();
        int64_t idx = (int64_t)rn_(0x4000) - 0x2000;
        uint64_t xm = (option & 3) == 2 ? (rnd() << 32) | (uint32_t)idx : (uint64_t)idx;
        if (rm != 31)
            c->regs.x[rm] = xm;
        else
            idx = 0;
        uint64_t off = (uint64_t)idx;
        if ((option & 3) == 2 && !(option & 4))
            off = (uint32_t)idx;
        off <<= s ? lg(bytes) : 0;
        set_base(c, rn, a, off);
        c->insn = size << 30 | 7u << 27 | v << 26 | opc << 22 | 1u << 21 | rm << 16 | option << 13 |
                  s << 12 | 2u << 10 | rn << 5 | rt;
    } else {
        int32_t imm9 = (int32_t)rn_(512) - 256;
        set_base(c, rn, a, form == F_POST ? 0 : (uint64_t)(int64_t)imm9);
        uint32_t f = form == F_UNSCALED ? 0 : form == F_POST ? 1 : form == F_UNPRIV ? 2 : 3;
        c->insn = size << 30 | 7u << 27 | v << 26 | opc << 22 | ((uint32_t)imm9 & 0x1ff) << 12 | f << 10 | rn << 5 | rt;
    }
}

static void gen_pair(gcase_t *c, int fp)
{
    unsigned opc, bytes, mode = rn_(4), l = rn_(2), rt, rt2, rn;
    random_regs(c);
    for (;;) {
        opc = rn_(3);
        if (!fp && opc == 1 && (!l || mode == 0))
            continue; /* STGP / unallocated */
        break;
    }
    bytes = fp ? 4u << opc : (opc == 2 ? 8 : 4);
    c->write = !l;
    rt = pick_reg();
    rt2 = pick_reg();
    while (l && rt2 == rt)
        rt2 = pick_reg();
    rn = pick_reg();
    while (!fp && (mode == 1 || mode == 3) && rn != 31 && (rn == rt || rn == rt2))
        rn = pick_reg();
    int32_t imm7 = (int32_t)rn_(128) - 64;
    uint64_t a = target(2 * bytes, (rnd() & 3) ? bytes : 1);
    set_base(c, rn, a, mode == 1 ? 0 : (uint64_t)((int64_t)imm7 * (int64_t)bytes));
    c->insn = opc << 30 | 5u << 27 | (fp ? 1u : 0u) << 26 | mode << 23 | l << 22 | ((uint32_t)imm7 & 0x7f) << 15 |
              rt2 << 10 | rn << 5 | rt;
}

static void gen_literal(gcase_t *c)
{
    unsigned fp = rn_(2), opc = rn_(3), bytes;
    random_regs(c);
    bytes = fp ? 4u << opc : (opc == 1 ? 8 : 4);
    uint64_t a = target(bytes, 4);
    int64_t imm = ((int64_t)a - (int64_t)c->regs.pc) / 4;
    c->insn = opc << 30 | 3u << 27 | fp << 26 | ((uint32_t)imm & 0x7ffff) << 5 | pick_reg();
    c->write = 0;
}

/* LDAR/STLR/LDLAR/STLLR, LDAPR, LDAPUR/STLUR: ordered single-register forms. */
static void gen_ordered(gcase_t *c)
{
    unsigned size = rn_(4), rt = pick_reg(), rn = pick_reg(), kind = rn_(3);
    random_regs(c);
    uint64_t a = target(1u << size, 1u << size);
    if (kind == 0) { /* LDAR/STLR (o0 = 1) or LDLAR/STLLR (o0 = 0) */
        unsigned l = rn_(2), o0 = rn_(2);
        set_base(c, rn, a, 0);
        c->insn = size << 30 | 0x08u << 24 | 1u << 23 | l << 22 | 31u << 16 | o0 << 15 | 31u << 10 | rn << 5 | rt;
        c->write = !l;
    } else if (kind == 1) { /* LDAPR */
        set_base(c, rn, a, 0);
        c->insn = size << 30 | 0x38u << 24 | 1u << 23 | 1u << 21 | 31u << 16 | 1u << 15 | 4u << 12 | rn << 5 | rt;
        c->write = 0;
    } else { /* LDAPUR/STLUR family */
        unsigned opc;
        do
            opc = rn_(4);
        while ((size == 3 && opc >= 2) || (size == 2 && opc == 3));
        int32_t imm9 = (int32_t)rn_(512) - 256;
        set_base(c, rn, a, (uint64_t)(int64_t)imm9);
        c->insn = size << 30 | 0x19u << 24 | opc << 22 | ((uint32_t)imm9 & 0x1ff) << 12 | rn << 5 | rt;
        c->write = opc == 0;
    }
}

/* Structure post-index: Rm = 31 means "by the bytes transferred". */
static uint32_t struct_post(gcase_t *c, unsigned rn, uint64_t a, int post)
{
    set_base(c, rn, a, 0);
    if (!post)
        return 0;
    unsigned rm = pick_reg();
    while (rm == rn && rn != 31)
        rm = pick_reg();
    if (rm != 31)
        c->regs.x[rm] = rnd() >> rn_(64);
    return 1u << 23 | rm << 16;
}

static void gen_struct_multi(gcase_t *c)
{
    static const uint8_t opcodes[7] = {0, 2, 4, 6, 7, 8, 10};
    static const uint8_t regs_of[16] = {4, 0, 4, 0, 3, 0, 3, 1, 2, 0, 2};
    static const uint8_t selem_of[16] = {4, 0, 1, 0, 3, 0, 1, 1, 2, 0, 1};
    unsigned opcode, size, q;
    random_regs(c);
    do {
        opcode = opcodes[rn_(7)];
        size = rn_(4);
        q = rn_(2);
    } while (size == 3 && q == 0 && selem_of[opcode] > 1);
    unsigned l = rn_(2), rn = pick_reg(), rt = pick_reg(), span = regs_of[opcode] * (q ? 16u : 8u);
    c->write = !l;
    c->structured = 1;
    uint64_t a = target(span, (rnd() & 1) ? 1u << size : 1);
    uint32_t post = struct_post(c, rn, a, (int)rn_(2));
    c->insn = q << 30 | 0x0cu << 24 | post | l << 22 | opcode << 12 | size << 10 | rn << 5 | rt;
}

static void gen_struct_single(gcase_t *c)
{
    unsigned q, l, r, opcode, s, size, esize, selem;
    random_regs(c);
    for (;;) {
        q = rn_(2), l = rn_(2), r = rn_(2), opcode = rn_(8), s = rn_(2), size = rn_(4);
        unsigned scale = opcode >> 1;
        if (scale == 3) {
            if (!l || s)
                continue;
            esize = 1u << size;
        } else if (scale == 0) {
            esize = 1;
        } else if (scale == 1) {
            if (size & 1)
                continue;
            esize = 2;
        } else {
            if (size & 2)
                continue;
            if (size == 1 && s)
                continue;
            esize = size == 0 ? 4 : 8;
        }
        break;
    }
    selem = ((opcode & 1) << 1 | r) + 1;
    unsigned rn = pick_reg(), rt = pick_reg();
    c->write = !l;
    c->structured = 1;
    uint64_t a = target(selem * esize, (rnd() & 1) ? esize : 1);
    uint32_t post = struct_post(c, rn, a, (int)rn_(2));
    c->insn = q << 30 | 0x0du << 24 | post | l << 22 | r << 21 | opcode << 13 | s << 12 | size << 10 | rn << 5 | rt;
}

/* ---- tests ---- */

static void run_many(void (*gen)(gcase_t *, int, int), int form, int fp)
{
    for (be_mode = 0; be_mode < 2; be_mode++)
        for (int i = 0; i < (be_mode ? ITERS / 4 : ITERS); i++) {
            gcase_t c;
            memset(&c, 0, sizeof(c));
            gen(&c, form, fp);
            run_case(&c);
        }
    be_mode = 0;
}

static void g_single(gcase_t *c, int form, int fp) { gen_single(c, form, fp); }
static void g_pair(gcase_t *c, int form, int fp) { (void)form; gen_pair(c, fp); }
static void g_literal(gcase_t *c, int form, int fp) { (void)form; (void)fp; gen_literal(c); }
static void g_ordered(gcase_t *c, int form, int fp) { (void)form; (void)fp; gen_ordered(c); }
static void g_multi(gcase_t *c, int form, int fp) { (void)form; (void)fp; gen_struct_multi(c); }
static void g_lane(gcase_t *c, int form, int fp) { (void)form; (void)fp; gen_struct_single(c); }

static void test_gpr_uimm(void **s) { (void)s; run_many(g_single, F_UIMM, 0); }
static void test_gpr_unscaled(void **s) { (void)s; run_many(g_single, F_UNSCALED, 0); }
static void test_gpr_pre(void **s) { (void)s; run_many(g_single, F_PRE, 0); }
static void test_gpr_post(void **s) { (void)s; run_many(g_single, F_POST, 0); }
static void test_gpr_unpriv(void **s) { (void)s; run_many(g_single, F_UNPRIV, 0); }
static void test_gpr_regoff(void **s) { (void)s; run_many(g_single, F_REGOFF, 0); }
static void test_fp_uimm(void **s) { (void)s; run_many(g_single, F_UIMM, 1); }
static void test_fp_unscaled(void **s) { (void)s; run_many(g_single, F_UNSCALED, 1); }
static void test_fp_pre(void **s) { (void)s; run_many(g_single, F_PRE, 1); }
static void test_fp_post(void **s) { (void)s; run_many(g_single, F_POST, 1); }
static void test_fp_regoff(void **s) { (void)s; run_many(g_single, F_REGOFF, 1); }
static void test_gpr_pair(void **s) { (void)s; run_many(g_pair, 0, 0); }
static void test_fp_pair(void **s) { (void)s; run_many(g_pair, 0, 1); }
static void test_literal(void **s) { (void)s; run_many(g_literal, 0, 0); }
static void test_ordered(void **s) { (void)s; run_many(g_ordered, 0, 0); }
static void test_struct_multi(void **s) { (void)s; run_many(g_multi, 0, 0); }
static void test_struct_single(void **s) { (void)s; run_many(g_lane, 0, 0); }

/* ---- ISV = 1 agreement: syndrome from the architecture's rules vs the decoded instruction ---- */

typedef struct isv_info {
    unsigned sas, sse, sf, ar, wnr, srt;
} isv_info_t;

/* What ESR_EL2.ISS would say for a single GPR load/store (Arm ARM D17.2.37): worked out here. */
static isv_info_t isv_of_sizeop(unsigned size, unsigned opc, unsigned rt, unsigned ar)
{
    isv_info_t i = {size, 0, 0, ar, 0, rt};
    if (opc == 0) {
        i.wnr = 1;
        i.sf = size == 3;
    } else if (opc == 1) {
        i.sf = size == 3;
    } else if (opc == 2) {
        i.sse = 1;
        i.sf = 1; /* LDRSB/LDRSH/LDRSW Xt */
    } else {
        i.sse = 1;
        i.sf = 0; /* LDRSB/LDRSH Wt */
    }
    return i;
}

static void compare_paths(const gcase_t *c, isv_info_t s)
{
    vf_aarch64_regs_t r1 = c->regs, r2 = c->regs;
    /* Either endianness: both paths must follow SCTLR_EL1.EE/E0E the same way. */
    r1.sctlr_el1 = r2.sctlr_el1 = (rnd() & 1) ? 3ull << 24 : 0;
    vf_fault_t f1, f2;
    vf_host_t host = {read_code, NULL, (void *)c, VF_HOST_IDENTITY};
    uint64_t esr0 = esr_isv0((int)s.wnr);
    uint64_t esr1 = esr0 | 1ull << 24 | (uint64_t)s.sas << 22 | (uint64_t)s.sse << 21 | (uint64_t)s.srt << 16 |
                    (uint64_t)s.sf << 15 | (uint64_t)s.ar << 14;
    vf_fault_init(&f1);
    vf_fault_init(&f2);
    vf_aarch64_exit_t e0 = {esr0, 0, 0, 0, 0};
    /* The address: where Unicorn accessed; both paths get the same exit. */
    oracle_t *o = oracle_open();
    vf_aarch64_regs_t want;
    oracle_run(o, c, &want);
    e0.far = o->acc[0].addr;
    e0.hpfar = (o->acc[0].addr >> 12) << 4;
    vf_aarch64_exit_t e1 = e0;
    e1.esr = esr1;
    if (vf_aarch64_capture(&f1, &r1, &e1, &host) != VF_OK)
        fail_msg("%08x: syndrome path: %s", c->insn, vf_fault_message(&f1));
    if (vf_aarch64_capture(&f2, &r2, &e0, &host) != VF_OK)
        fail_msg("%08x: decode path: %s", c->insn, vf_fault_message(&f2));
    vf_access_t a1 = vf_fault_access(&f1), a2 = vf_fault_access(&f2);
    if (a1.addr != a2.addr || a1.size != a2.size || a1.dir != a2.dir)
        fail_msg("%08x: syndrome access %llx/%u/%u, decoded %llx/%u/%u", c->insn, (unsigned long long)a1.addr,
                 a1.size, a1.dir, (unsigned long long)a2.addr, a2.size, a2.dir);
    if (a1.dir == VF_DIR_WRITE && vf_fault_write_value(&f1) != vf_fault_write_value(&f2))
        fail_msg("%08x: write values differ", c->insn);
    uint64_t v = rnd() & (a1.size >= 8 ? ~0ull : (1ull << (8 * a1.size)) - 1);
    if (a1.dir == VF_DIR_READ) {
        vf_fault_set_read_value(&f1, v);
        vf_fault_set_read_value(&f2, v);
    }
    assert_int_equal(vf_fault_advance(&f1), VF_OK);
    assert_int_equal(vf_fault_advance(&f2), VF_OK);
    assert_int_equal(vf_fault_state(&f1), VF_STATE_DONE);
    assert_int_equal(vf_fault_state(&f2), VF_STATE_DONE);
    if (memcmp(&r1, &r2, sizeof(r1)) != 0)
        fail_msg("%08x: registers differ between the syndrome and decode paths", c->insn);
}

static void test_isv1_agreement(void **state)
{
    (void)state;
    unsigned n = 0;
    for (int i = 0; i < 3 * ITERS; i++) {
        gcase_t c;
        memset(&c, 0, sizeof(c));
        unsigned kind = rn_(5), size, opc, ar = 0;
        if (kind == 4) { /* LDR/LDRSW (literal) into a general-purpose register */
            do
                gen_literal(&c);
            while ((c.insn >> 26) & 1);
            unsigned lopc = c.insn >> 30; /* 0: W (word), 1: X, 2: LDRSW */
            size = lopc == 1 ? 3 : 2;
            opc = lopc == 2 ? 2 : 1;
        } else if (kind < 3) {
            int form = kind == 0 ? F_UIMM : kind == 1 ? F_UNSCALED : F_REGOFF;
            if (rn_(2))
                form = F_UNPRIV;
            gen_single(&c, form, 0);
            size = c.insn >> 30;
            opc = (c.insn >> 22) & 3;
        } else {
            gen_ordered(&c); /* acquire/release forms all have a syndrome (AR = 1) */
            size = c.insn >> 30;
            unsigned fam = (c.insn >> 24) & 0x3f;
            opc = fam == 0x19 ? (c.insn >> 22) & 3 : (fam == 0x08 && !((c.insn >> 22) & 1)) ? 0 : 1;
            ar = 1;
        }
        compare_paths(&c, isv_of_sizeop(size, opc, c.insn & 31, ar));
        n++;
    }
    assert_true(n > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpr_uimm),     cmocka_unit_test(test_gpr_unscaled),
        cmocka_unit_test(test_gpr_pre),      cmocka_unit_test(test_gpr_post),
        cmocka_unit_test(test_gpr_unpriv),   cmocka_unit_test(test_gpr_regoff),
        cmocka_unit_test(test_fp_uimm),      cmocka_unit_test(test_fp_unscaled),
        cmocka_unit_test(test_fp_pre),       cmocka_unit_test(test_fp_post),
        cmocka_unit_test(test_fp_regoff),    cmocka_unit_test(test_gpr_pair),
        cmocka_unit_test(test_fp_pair),      cmocka_unit_test(test_literal),
        cmocka_unit_test(test_ordered),      cmocka_unit_test(test_struct_multi),
        cmocka_unit_test(test_struct_single), cmocka_unit_test(test_isv1_agreement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
