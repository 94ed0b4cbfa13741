/*
 * x86 semantics: what each operation computes from its memory data and the
 * registers. Results go to the state (write data, register values, flags);
 * fault.c commits them. One small function per operation family.
 */
#include "x86i.h"
#include "../../core/engine.h"

/* Class of each operation (a few depend on the sub-operation: see vf_x86_class). */
const uint8_t vf_x86_op_class[X86_OP_COUNT] = {
    [X86_OP_NONE] = X86_C_OTHER,
    [X86_OP_MOV_LD] = X86_C_LOAD, [X86_OP_MOV_ST] = X86_C_STORE, [X86_OP_MOV_STI] = X86_C_STORE,
    [X86_OP_MOVZX] = X86_C_LOAD, [X86_OP_MOVSX] = X86_C_LOAD,
    [X86_OP_MOVBE_LD] = X86_C_LOAD, [X86_OP_MOVBE_ST] = X86_C_STORE,
    [X86_OP_ALU_LD] = X86_C_LOAD, [X86_OP_ALU_ST] = X86_C_RMW, [X86_OP_ALU_STI] = X86_C_RMW,
    [X86_OP_TEST] = X86_C_LOAD, [X86_OP_TESTI] = X86_C_LOAD,
    [X86_OP_NOT] = X86_C_RMW, [X86_OP_NEG] = X86_C_RMW, [X86_OP_INC] = X86_C_RMW,
    [X86_OP_DEC] = X86_C_RMW, [X86_OP_SHIFT] = X86_C_RMW, [X86_OP_SHLD] = X86_C_RMW,
    [X86_OP_SHRD] = X86_C_RMW,
    [X86_OP_MUL] = X86_C_LOAD, [X86_OP_IMUL1] = X86_C_LOAD, [X86_OP_DIV] = X86_C_LOAD,
    [X86_OP_IDIV] = X86_C_LOAD, [X86_OP_IMUL2] = X86_C_LOAD, [X86_OP_IMUL3] = X86_C_LOAD,
    [X86_OP_SETCC] = X86_C_STORE, [X86_OP_CMOVCC] = X86_C_LOAD, [X86_OP_BT] = X86_C_RMW,
    [X86_OP_BSF] = X86_C_LOAD, [X86_OP_BSR] = X86_C_LOAD, [X86_OP_POPCNT] = X86_C_LOAD,
    [X86_OP_LZCNT] = X86_C_LOAD, [X86_OP_TZCNT] = X86_C_LOAD,
    [X86_OP_XCHG] = X86_C_RMW, [X86_OP_XADD] = X86_C_RMW, [X86_OP_CMPXCHG] = X86_C_RMW,
    [X86_OP_CMPXCHG8B] = X86_C_RMW,
    [X86_OP_PUSH_M] = X86_C_LOAD, [X86_OP_POP_M] = X86_C_STORE,
    [X86_OP_MOVS] = X86_C_STRING, [X86_OP_STOS] = X86_C_STRING, [X86_OP_LODS] = X86_C_STRING,
    [X86_OP_CMPS] = X86_C_STRING, [X86_OP_SCAS] = X86_C_STRING,
    [X86_OP_SSE_LD] = X86_C_LOAD, [X86_OP_SSE_ST] = X86_C_STORE, [X86_OP_CACHE] = X86_C_OTHER,
};

/* Names of the operations, for statistics and messages. */
static const char *const op_names[X86_OP_COUNT] = {
    [X86_OP_MOV_LD] = "MOV load", [X86_OP_MOV_ST] = "MOV store", [X86_OP_MOV_STI] = "MOV store",
    [X86_OP_MOVZX] = "MOVZX", [X86_OP_MOVSX] = "MOVSX", [X86_OP_MOVBE_LD] = "MOVBE",
    [X86_OP_MOVBE_ST] = "MOVBE", [X86_OP_ALU_LD] = "ALU load", [X86_OP_ALU_ST] = "ALU read-modify-write",
    [X86_OP_ALU_STI] = "ALU read-modify-write", [X86_OP_TEST] = "TEST", [X86_OP_TESTI] = "TEST",
    [X86_OP_NOT] = "NOT/NEG", [X86_OP_NEG] = "NOT/NEG", [X86_OP_INC] = "INC/DEC", [X86_OP_DEC] = "INC/DEC",
    [X86_OP_SHIFT] = "shift/rotate", [X86_OP_SHLD] = "SHLD/SHRD", [X86_OP_SHRD] = "SHLD/SHRD",
    [X86_OP_MUL] = "MUL/DIV", [X86_OP_IMUL1] = "MUL/DIV", [X86_OP_DIV] = "MUL/DIV", [X86_OP_IDIV] = "MUL/DIV",
    [X86_OP_IMUL2] = "IMUL", [X86_OP_IMUL3] = "IMUL", [X86_OP_SETCC] = "SETcc", [X86_OP_CMOVCC] = "CMOVcc",
    [X86_OP_BT] = "BT*", [X86_OP_BSF] = "bit scan", [X86_OP_BSR] = "bit scan", [X86_OP_POPCNT] = "bit scan",
    [X86_OP_LZCNT] = "bit scan", [X86_OP_TZCNT] = "bit scan", [X86_OP_XCHG] = "XCHG",
    [X86_OP_XADD] = "XADD", [X86_OP_CMPXCHG] = "CMPXCHG", [X86_OP_CMPXCHG8B] = "CMPXCHG8B/16B",
    [X86_OP_PUSH_M] = "PUSH/POP", [X86_OP_POP_M] = "PUSH/POP", [X86_OP_MOVS] = "MOVS", [X86_OP_STOS] = "STOS",
    [X86_OP_LODS] = "LODS", [X86_OP_CMPS] = "CMPS", [X86_OP_SCAS] = "SCAS", [X86_OP_SSE_LD] = "SSE/AVX load",
    [X86_OP_SSE_ST] = "SSE/AVX store", [X86_OP_CACHE] = "cache flush",
};
static const char *const rep_names[5] = {"REP MOVS", "REP STOS", "REP LODS", "REP CMPS", "REP SCAS"};

const char *vf_x86_insn_name(const vf_insn_t *insn)
{
    if (insn == NULL || insn->op >= X86_OP_COUNT || op_names[insn->op] == NULL)
        return "?";
    if (insn->op >= X86_OP_MOVS && insn->op <= X86_OP_SCAS && insn->rt2 != 0)
        return rep_names[insn->op - X86_OP_MOVS];
    return op_names[insn->op];
}

/* Queue a register write for completion. */
static void wr(x86_state_t *s, unsigned i, unsigned reg, unsigned size, uint64_t v)
{
    s->wreg[i] = (uint8_t)reg;
    s->wsize[i] = (uint8_t)size;
    s->val[i] = v;
}

/* 64 x 64 -> 128 unsigned multiply in portable C. */
static uint64_t mul128(uint64_t a, uint64_t b, uint64_t *hi)
{
    uint64_t al = a & 0xffffffffu, ah = a >> 32, bl = b & 0xffffffffu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return (ll & 0xffffffffu) | (mid << 32);
}

/* 128 / 64 unsigned division; requires hi < d (the quotient fits 64 bits). 64 steps. */
static uint64_t div128(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
    for (unsigned i = 0; i < 64; i++) {
        uint64_t top = hi >> 63;
        hi = (hi << 1) | (lo >> 63);
        lo <<= 1;
        if (top || hi >= d) {
            hi -= d;
            lo |= 1u;
        }
    }
    *rem = hi;
    return lo;
}

/* MUL/IMUL flags: CF = OF = overflow; SF ZF PF from the low half, AF cleared (undefined). */
static uint64_t mul_flags(uint64_t fl, unsigned size, uint64_t lo, int overflow)
{
    fl &= ~(uint64_t)X86_ARITH;
    fl |= vf_x86_logic_flags(lo, size);
    if (overflow)
        fl |= X86_CF | X86_OF;
    return fl;
}

/* Full product of `size`-byte operands: low half returned, high half in *hi. */
static uint64_t product(int sign, unsigned size, uint64_t a, uint64_t b, uint64_t *hi)
{
    unsigned bits = size * 8;
    if (sign) {
        a = vf_sext(a, bits);
        b = vf_sext(b, bits);
    } else {
        a &= vf_x86_mask(size);
        b &= vf_x86_mask(size);
    }
    if (size < 8) {
        uint64_t p = a * b; /* exact in 64 bits (two's complement for signed) */
        *hi = (p >> bits) & vf_x86_mask(size);
        return p & vf_x86_mask(size);
    }
    uint64_t lo = mul128(a, b, hi);
    if (sign) {
        *hi -= ((int64_t)a < 0 ? b : 0) + ((int64_t)b < 0 ? a : 0);
    }
    return lo;
}

/* Does the full signed product (hi:lo) differ from the sign extension of lo? */
static int signed_overflow(unsigned size, uint64_t lo, uint64_t hi)
{
    uint64_t ext = (lo >> (size * 8 - 1)) & 1u ? vf_x86_mask(size) : 0;
    return hi != ext;
}

/* MUL and IMUL with one operand: rDX:rAX (AX for bytes) = rAX * mem. */
static void exec_mul(x86_state_t *s, const vf_x86_regs_t *r, uint64_t m, int sign)
{
    unsigned size = s->d.opsize;
    uint64_t hi, lo = product(sign, size, vf_x86_get(r, VF_X86_RAX, size), m, &hi);
    int ovf = sign ? signed_overflow(size, lo, hi) : hi != 0;
    s->rflags = mul_flags(r->rflags, size, lo, ovf);
    if (size == 1) {
        wr(s, 0, VF_X86_RAX, 2, lo | (hi << 8));
        return;
    }
    wr(s, 0, VF_X86_RAX, size, lo);
    wr(s, 1, VF_X86_RDX, size, hi);
}

/* IMUL reg, mem (and reg, mem, imm): truncated product, CF = OF = overflow. */
static void exec_imul(x86_state_t *s, const vf_x86_regs_t *r, uint64_t a, uint64_t b)
{
    unsigned size = s->d.opsize;
    uint64_t hi, lo = product(1, size, a, b, &hi);
    s->rflags = mul_flags(r->rflags, size, lo, signed_overflow(size, lo, hi));
    wr(s, 0, s->d.reg, size, lo);
}

/* DIV and IDIV: rDX:rAX (AX for bytes) / mem; #DE on zero or a quotient that does not fit. */
static void exec_div(x86_state_t *s, const vf_x86_regs_t *r, uint64_t m, int sign)
{
    unsigned size = s->d.opsize, bits = size * 8;
    uint64_t mask = vf_x86_mask(size), hi, lo, q, rem;
    if (size == 1) {
        uint64_t ax = vf_x86_get(r, VF_X86_RAX, 2);
        hi = ax >> 8;
        lo = ax & 0xffu;
    } else {
        hi = vf_x86_get(r, VF_X86_RDX, size);
        lo = vf_x86_get(r, VF_X86_RAX, size);
    }
    m &= mask;
    if (m == 0) {
        s->fault = 1;
        return;
    }
    int neg_n = 0, neg_d = 0;
    if (sign) {
        neg_n = (hi >> (bits - 1)) & 1u;
        neg_d = (m >> (bits - 1)) & 1u;
        if (neg_n) { /* magnitude of the 2*bits-wide dividend */
            lo = (~lo + 1) & mask;
            hi = (~hi + (lo == 0)) & mask;
        }
        if (neg_d)
            m = (~m + 1) & mask;
    }
    if (size < 8) {
        q = div128(0, (hi << bits) | lo, m, &rem);
    } else if (hi >= m) {
        s->fault = 1;
        return;
    } else {
        q = div128(hi, lo, m, &rem);
    }
    uint64_t limit = sign ? ((uint64_t)1 << (bits - 1)) - (neg_n == neg_d) : mask;
    if (q > limit) {
        s->fault = 1;
        return;
    }
    if (neg_n != neg_d)
        q = ~q + 1;
    if (neg_n)
        rem = ~rem + 1;
    if (size == 1) {
        wr(s, 0, VF_X86_RAX, 2, (q & 0xffu) | ((rem & 0xffu) << 8));
        return;
    }
    wr(s, 0, VF_X86_RAX, size, q & mask);
    wr(s, 1, VF_X86_RDX, size, rem & mask);
}

/* Shift count: 1, CL or imm8, masked to 5 bits (6 for 64-bit operands). */
static unsigned shift_count(const x86_state_t *s, const vf_x86_regs_t *r)
{
    uint64_t c = s->d.vvvv == X86_COUNT_1 ? 1u : s->d.vvvv == X86_COUNT_CL ? r->gpr[VF_X86_RCX] : s->d.imm;
    return (unsigned)(c & (s->d.opsize == 8 ? 0x3fu : 0x1fu));
}

/* BT BTS BTR BTC: the bit offset within the (already displaced) operand. */
static void exec_bt(x86_state_t *s, const vf_x86_regs_t *r, uint64_t m)
{
    unsigned size = s->d.opsize, bits = size * 8;
    uint64_t off = s->d.vvvv ? s->d.imm : vf_x86_get(r, s->d.reg, size);
    uint64_t bit = (uint64_t)1 << (off & (bits - 1));
    s->rflags = (r->rflags & ~(uint64_t)X86_CF) | ((m & bit) ? X86_CF : 0);
    switch (s->d.aux) {
    case 1: s->out[0] = m | bit; break;
    case 2: s->out[0] = m & ~bit; break;
    case 3: s->out[0] = m ^ bit; break;
    default: break;
    }
}

/* BSF BSR POPCNT LZCNT TZCNT. */
static void exec_bitscan(x86_state_t *s, const vf_x86_regs_t *r, uint64_t m)
{
    unsigned size = s->d.opsize, bits = size * 8, n = 0;
    uint64_t fl = r->rflags;
    m &= vf_x86_mask(size);
    switch (s->d.op) {
    case X86_OP_BSF: case X86_OP_BSR:
        /* Source 0: ZF = 1 and the destination is left alone (as CPUs do; the manual says undefined). */
        if (m == 0) {
            s->rflags = fl | X86_ZF;
            return;
        }
        if (s->d.op == X86_OP_BSF)
            while (!((m >> n) & 1u))
                n++;
        else
            for (n = bits - 1; !((m >> n) & 1u); n--)
                ;
        s->rflags = fl & ~(uint64_t)X86_ZF;
        break;
    case X86_OP_POPCNT:
        for (uint64_t v = m; v != 0; v &= v - 1)
            n++;
        s->rflags = (fl & ~(uint64_t)X86_ARITH) | (m == 0 ? X86_ZF : 0);
        break;
    default: /* LZCNT TZCNT: CF = source is 0, ZF = result is 0 */
        if (s->d.op == X86_OP_LZCNT)
            while (n < bits && !((m >> (bits - 1 - n)) & 1u))
                n++;
        else
            while (n < bits && !((m >> n) & 1u))
                n++;
        s->rflags = (fl & ~(uint64_t)(X86_CF | X86_ZF)) | (m == 0 ? X86_CF : 0) | (n == 0 ? X86_ZF : 0);
        break;
    }
    wr(s, 0, s->d.reg, size, n);
}

/* CMPXCHG: compare the accumulator; equal: store the register, else load the accumulator. */
static void exec_cmpxchg(x86_state_t *s, const vf_x86_regs_t *r, uint64_t m)
{
    unsigned size = s->d.opsize;
    uint64_t fl = r->rflags;
    (void)vf_x86_alu(X86_CMP, size, vf_x86_get(r, VF_X86_RAX, size), m, &fl);
    s->rflags = fl;
    if (fl & X86_ZF) {
        s->out[0] = vf_x86_get(r, s->d.reg, size);
    } else {
        s->out[0] = m; /* the processor always writes: the old value goes back */
        wr(s, 0, VF_X86_RAX, size, m);
    }
}

/* CMPXCHG8B/16B: rDX:rAX against memory; equal: store rCX:rBX, else load rDX:rAX. */
static void exec_cmpxchg8b(x86_state_t *s, const vf_x86_regs_t *r, const uint8_t *mem)
{
    unsigned half = s->d.memsize / 2u;
    uint64_t lo, hi;
    if (half == 8) {
        lo = vf_le_load8(mem, 8);
        hi = vf_le_load8(mem + 8, 8);
    } else {
        uint64_t v = vf_le_load8(mem, 8);
        lo = v & 0xffffffffu;
        hi = v >> 32;
    }
    int eq = lo == vf_x86_get(r, VF_X86_RAX, half) && hi == vf_x86_get(r, VF_X86_RDX, half);
    s->rflags = (r->rflags & ~(uint64_t)X86_ZF) | (eq ? X86_ZF : 0);
    if (eq) {
        lo = vf_x86_get(r, VF_X86_RBX, half);
        hi = vf_x86_get(r, VF_X86_RCX, half);
    } else {
        wr(s, 0, VF_X86_RAX, half, lo);
        wr(s, 1, VF_X86_RDX, half, hi);
    }
    if (half == 8) {
        s->out[0] = lo;
        s->out[1] = hi;
    } else {
        s->out[0] = lo | (hi << 32);
    }
}

/* ALU ops, TEST, NOT/NEG/INC/DEC, shifts: one memory operand combined with a register or immediate. */
static void exec_arith(x86_state_t *s, const vf_x86_regs_t *r, uint64_t m)
{
    const x86_dec_t *d = &s->d;
    unsigned size = d->opsize;
    uint64_t fl = r->rflags, res;
    switch (d->op) {
    case X86_OP_ALU_LD:
        res = vf_x86_alu(d->aux, size, vf_x86_get(r, d->reg, size), m, &fl);
        if (d->aux != X86_CMP)
            wr(s, 0, d->reg, size, res);
        break;
    case X86_OP_ALU_ST:
        s->out[0] = vf_x86_alu(d->aux, size, m, vf_x86_get(r, d->reg, size), &fl);
        break;
    case X86_OP_ALU_STI:
        s->out[0] = vf_x86_alu(d->aux, size, m, d->imm, &fl);
        break;
    case X86_OP_TEST: case X86_OP_TESTI:
        (void)vf_x86_alu(X86_AND, size, m, d->op == X86_OP_TEST ? vf_x86_get(r, d->reg, size) : d->imm, &fl);
        break;
    case X86_OP_NOT:
        s->out[0] = ~m;
        break;
    case X86_OP_NEG:
        s->out[0] = vf_x86_alu(X86_SUB, size, 0, m, &fl);
        break;
    case X86_OP_INC: case X86_OP_DEC: {
        uint64_t cf = fl & X86_CF;
        s->out[0] = vf_x86_alu(d->op == X86_OP_INC ? X86_ADD : X86_SUB, size, m, 1, &fl);
        fl = (fl & ~(uint64_t)X86_CF) | cf;
        break;
    }
    case X86_OP_SHIFT:
        s->out[0] = vf_x86_shift(d->aux, size, m, shift_count(s, r), &fl);
        break;
    default: /* SHLD SHRD */
        s->out[0] = vf_x86_shxd(d->op == X86_OP_SHLD, size, m, vf_x86_get(r, d->reg, size),
                                shift_count(s, r), &fl);
        break;
    }
    s->rflags = fl;
}

/* Moves and exchanges between a register and memory. */
static void exec_move(x86_state_t *s, const vf_x86_regs_t *r, uint64_t m)
{
    const x86_dec_t *d = &s->d;
    unsigned size = d->opsize;
    uint64_t fl = r->rflags;
    switch (d->op) {
    case X86_OP_MOV_LD: wr(s, 0, d->reg, size, m); break;
    case X86_OP_MOV_ST: s->out[0] = vf_x86_get(r, d->reg, size); break;
    case X86_OP_MOV_STI: s->out[0] = d->imm; break;
    case X86_OP_MOVZX: wr(s, 0, d->reg, size, m & vf_x86_mask(d->memsize)); break;
    case X86_OP_MOVSX: wr(s, 0, d->reg, size, vf_sext(m, d->memsize * 8u)); break;
    case X86_OP_MOVBE_LD: wr(s, 0, d->reg, size, vf_bswap(m, size)); break;
    case X86_OP_MOVBE_ST: s->out[0] = vf_bswap(vf_x86_get(r, d->reg, size), size); break;
    case X86_OP_SETCC: s->out[0] = (uint64_t)vf_x86_cond(d->aux, fl); break;
    case X86_OP_CMOVCC:
        /* The load happens either way; a 32-bit CMOV clears bits 63:32 even when false. */
        if (vf_x86_cond(d->aux, fl))
            wr(s, 0, d->reg, size, m);
        else if (size == 4)
            wr(s, 0, d->reg, 4, vf_x86_get(r, d->reg, 4));
        break;
    case X86_OP_XCHG:
        s->out[0] = vf_x86_get(r, d->reg, size);
        wr(s, 0, d->reg, size, m);
        break;
    case X86_OP_XADD:
        s->out[0] = vf_x86_alu(X86_ADD, size, m, vf_x86_get(r, d->reg, size), &fl);
        wr(s, 0, d->reg, size, m);
        break;
    case X86_OP_PUSH_M: s->out[0] = m; break;  /* goes to the stack in RAM */
    case X86_OP_POP_M: s->out[0] = s->ram; break;
    default: break;
    }
    s->rflags = fl;
}

/* String element: `mem` holds the device reads in order; `ram` the RAM side. */
static void exec_string(x86_state_t *s, const vf_x86_regs_t *r, const uint8_t *mem)
{
    const x86_dec_t *d = &s->d;
    unsigned size = d->memsize;
    uint64_t src = (s->side & 1u) ? vf_le_load8(mem, size) : s->ram;
    uint64_t dst = (s->side & 2u) ? vf_le_load8(mem + ((s->side & 1u) ? size : 0u), size) : s->ram;
    uint64_t fl = r->rflags;
    switch (d->op) {
    case X86_OP_MOVS: s->out[0] = src; break;
    case X86_OP_STOS: s->out[0] = vf_x86_get(r, VF_X86_RAX, size); break;
    case X86_OP_LODS: wr(s, 0, VF_X86_RAX, size, src); break;
    case X86_OP_CMPS: (void)vf_x86_alu(X86_CMP, size, src, dst, &fl); break;
    default: (void)vf_x86_alu(X86_CMP, size, vf_x86_get(r, VF_X86_RAX, size), dst, &fl); break;
    }
    s->rflags = fl;
}

void vf_x86_execute(x86_state_t *s, const vf_x86_regs_t *r, const uint8_t *mem)
{
    const x86_dec_t *d = &s->d;
    uint64_t m = vf_le_load8(mem, d->memsize > 8 ? 8u : d->memsize);
    s->wsize[0] = s->wsize[1] = 0;
    s->out[0] = s->out[1] = 0;
    s->fault = 0;
    s->rflags = r->rflags;
    s->done = 1;
    switch (d->op) {
    case X86_OP_ALU_LD: case X86_OP_ALU_ST: case X86_OP_ALU_STI: case X86_OP_TEST:
    case X86_OP_TESTI: case X86_OP_NOT: case X86_OP_NEG: case X86_OP_INC: case X86_OP_DEC:
    case X86_OP_SHIFT: case X86_OP_SHLD: case X86_OP_SHRD:
        exec_arith(s, r, m);
        break;
    case X86_OP_MUL: case X86_OP_IMUL1: exec_mul(s, r, m, d->op == X86_OP_IMUL1); break;
    case X86_OP_DIV: case X86_OP_IDIV: exec_div(s, r, m, d->op == X86_OP_IDIV); break;
    case X86_OP_IMUL2: exec_imul(s, r, vf_x86_get(r, d->reg, d->opsize), m); break;
    case X86_OP_IMUL3: exec_imul(s, r, m, d->imm); break;
    case X86_OP_BT: exec_bt(s, r, m); break;
    case X86_OP_BSF: case X86_OP_BSR: case X86_OP_POPCNT: case X86_OP_LZCNT: case X86_OP_TZCNT:
        exec_bitscan(s, r, m);
        break;
    case X86_OP_CMPXCHG: exec_cmpxchg(s, r, m); break;
    case X86_OP_CMPXCHG8B: exec_cmpxchg8b(s, r, mem); break;
    case X86_OP_MOVS: case X86_OP_STOS: case X86_OP_LODS: case X86_OP_CMPS: case X86_OP_SCAS:
        exec_string(s, r, mem);
        break;
    case X86_OP_SSE_LD: case X86_OP_SSE_ST: break; /* moved bytewise by fault.c */
    default: exec_move(s, r, m); break;
    }
}
