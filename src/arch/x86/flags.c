/*
 * RFLAGS in portable C: arithmetic, logic, shifts and rotates, conditions.
 * Where the manual leaves a flag undefined we pick one documented value
 * (docs/x86.md, "RFLAGS"): AF is cleared by logic ops and shifts; OF of a
 * multi-bit shift or rotate is computed with the one-bit formula.
 */
#include "x86i.h"

static uint64_t mask_of(unsigned size)
{
    return size >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (size * 8)) - 1;
}

static uint64_t msb(uint64_t v, unsigned size)
{
    return (v >> (size * 8 - 1)) & 1u;
}

uint64_t vf_x86_parity(uint64_t res)
{
    unsigned b = (unsigned)res & 0xffu;
    b ^= b >> 4;
    /* Bit i of 0x6996 is the parity of i: fold the byte to a nibble, then look it up. */
    return ((0x6996u >> (b & 0xfu)) & 1u) ? 0 : X86_PF;
}

/* ZF, SF and PF of a result. */
static uint64_t zsp(uint64_t res, unsigned size)
{
    uint64_t f = vf_x86_parity(res);
    if ((res & mask_of(size)) == 0)
        f |= X86_ZF;
    if (msb(res, size))
        f |= X86_SF;
    return f;
}

uint64_t vf_x86_logic_flags(uint64_t res, unsigned size)
{
    return zsp(res, size);
}

uint64_t vf_x86_alu(unsigned op, unsigned size, uint64_t a, uint64_t b, uint64_t *fl)
{
    uint64_t m = mask_of(size), r, f, c = *fl & X86_CF;
    a &= m;
    b &= m;
    switch (op) {
    case X86_ADD: case X86_ADC:
        r = (a + b + (op == X86_ADC ? c : 0)) & m;
        f = zsp(r, size) | ((a ^ b ^ r) & X86_AF);
        f |= msb((a & b) | ((a | b) & ~r), size) ? X86_CF : 0;
        f |= msb((a ^ r) & (b ^ r), size) ? X86_OF : 0;
        break;
    case X86_SUB: case X86_SBB: case X86_CMP:
        r = (a - b - (op == X86_SBB ? c : 0)) & m;
        f = zsp(r, size) | ((a ^ b ^ r) & X86_AF);
        f |= msb((~a & b) | ((~a | b) & r), size) ? X86_CF : 0;
        f |= msb((a ^ b) & (a ^ r), size) ? X86_OF : 0;
        break;
    case X86_OR:
        r = a | b;
        f = zsp(r, size);
        break;
    case X86_AND:
        r = a & b;
        f = zsp(r, size);
        break;
    default: /* XOR */
        r = a ^ b;
        f = zsp(r, size);
        break;
    }
    *fl = (*fl & ~(uint64_t)X86_ARITH) | f;
    return r;
}

/* Rotate through carry, one bit at a time; count <= 64 keeps it bounded. */
static uint64_t rotate_carry(int left, unsigned size, uint64_t a, unsigned count, uint64_t *cf)
{
    unsigned top = size * 8 - 1;
    for (unsigned i = 0; i < count; i++) {
        uint64_t out;
        if (left) {
            out = (a >> top) & 1u;
            a = (a << 1) | *cf;
        } else {
            out = a & 1u;
            a = (a >> 1) | (*cf << top);
        }
        *cf = out;
    }
    return a & mask_of(size);
}

uint64_t vf_x86_shift(unsigned op, unsigned size, uint64_t a, unsigned count, uint64_t *fl)
{
    unsigned bits = size * 8;
    uint64_t m = mask_of(size), r, cf, f;
    a &= m;
    if (count == 0)
        return a;
    switch (op) {
    case X86_ROL: case X86_ROR: {
        unsigned c = count & (bits - 1);
        r = c == 0 ? a : op == X86_ROL ? ((a << c) | (a >> (bits - c))) & m
                                       : ((a >> c) | (a << (bits - c))) & m;
        if (op == X86_ROL) {
            cf = r & 1u;
            f = (msb(r, size) ^ cf) ? X86_OF : 0;
        } else {
            cf = msb(r, size);
            f = (cf ^ ((r >> (bits - 2)) & 1u)) ? X86_OF : 0;
        }
        /* Rotates change only CF and OF. */
        *fl = (*fl & ~(uint64_t)(X86_CF | X86_OF)) | cf | f;
        return r;
    }
    case X86_RCL: case X86_RCR: {
        unsigned c = count;
        while (size < 4 && c > bits)
            c -= bits + 1; /* count mod 9 or 17 (count <= 31) */
        cf = *fl & X86_CF;
        uint64_t of_before = msb(a, size) ^ cf;
        r = rotate_carry(op == X86_RCL, size, a, c, &cf);
        f = op == X86_RCL ? ((msb(r, size) ^ cf) ? X86_OF : 0) : (of_before ? X86_OF : 0);
        *fl = (*fl & ~(uint64_t)(X86_CF | X86_OF)) | cf | f;
        return r;
    }
    case X86_SHL: case X86_SAL:
        r = count >= 64 ? 0 : (a << count) & m;
        cf = ((a << (count - 1)) >> (bits - 1)) & 1u;
        f = zsp(r, size) | cf | ((msb(r, size) ^ cf) ? X86_OF : 0);
        break;
    case X86_SHR:
        r = count >= bits ? 0 : a >> count;
        cf = (a >> (count - 1)) & 1u;
        f = zsp(r, size) | cf | (msb(a >> (count - 1), size) ^ msb(r, size) ? X86_OF : 0);
        break;
    default: { /* SAR */
        int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
        r = (uint64_t)(s >> (count > 63 ? 63 : count)) & m;
        cf = (uint64_t)(s >> (count - 1)) & 1u;
        f = zsp(r, size) | cf;
        break;
    }
    }
    *fl = (*fl & ~(uint64_t)X86_ARITH) | f;
    return r;
}

uint64_t vf_x86_shxd(int left, unsigned size, uint64_t dst, uint64_t src, unsigned count, uint64_t *fl)
{
    unsigned bits = size * 8;
    uint64_t m = mask_of(size), r, cf;
    dst &= m;
    src &= m;
    if (count == 0)
        return dst;
    if (size == 2) {
        /* Counts 17..31 shift dst:src:dst (what Intel CPUs do; the manual leaves it undefined). */
        uint64_t v = (dst << 32) | (src << 16) | dst;
        if (left) {
            r = ((v << count) >> 32) & m;
            cf = (v >> (48 - count)) & 1u;
        } else {
            r = (v >> count) & m;
            cf = (v >> (count - 1)) & 1u;
        }
    } else if (left) {
        r = count == bits ? src : ((dst << count) | (src >> (bits - count))) & m;
        cf = (dst >> (bits - count)) & 1u;
    } else {
        r = count == bits ? src : ((dst >> count) | (src << (bits - count))) & m;
        cf = (dst >> (count - 1)) & 1u;
    }
    uint64_t f = zsp(r, size) | cf | ((msb(r, size) ^ msb(dst, size)) ? X86_OF : 0);
    *fl = (*fl & ~(uint64_t)X86_ARITH) | f;
    return r;
}

int vf_x86_cond(unsigned cc, uint64_t fl)
{
    int cf = (fl & X86_CF) != 0, zf = (fl & X86_ZF) != 0, sf = (fl & X86_SF) != 0;
    int of = (fl & X86_OF) != 0, pf = (fl & X86_PF) != 0, r;
    switch (cc >> 1) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf | zf; break;
    case 4: r = sf; break;
    case 5: r = pf; break;
    case 6: r = sf != of; break;
    default: r = zf | (sf != of); break;
    }
    return (cc & 1u) ? !r : r;
}
