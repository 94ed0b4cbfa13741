/*
 * x86 instruction decoder: bytes and code size in, descriptor out. Pure.
 *
 * One function per encoding family: legacy prefixes and REX, VEX, the opcode
 * maps, ModRM with 16-bit or 32/64-bit addressing (SIB, RIP-relative),
 * displacement and immediate. The opcode tables (tables.c) say how each
 * opcode's operands are encoded; this file only follows them. The length is
 * always decoded here, never taken from an exit.
 */
#include "x86i.h"

#define MAX_LEN 15u

/* The hot helpers are inlined into the one decode function (each is still its own encoding family). */
#if defined(__GNUC__)
#define HOT static inline __attribute__((always_inline))
#else
#define HOT static inline
#endif

/* Decoding cursor. */
typedef struct cursor {
    const uint8_t *p;
    unsigned lim;   /* bytes usable: what is available, at most MAX_LEN */
    unsigned pos;
    unsigned rex;   /* REX byte, or 0 */
    unsigned pfx66, pfx67, rep, lock;
    unsigned vex_l, vex_pp, vex_map;
} cursor_t;

static x86_result_t res(x86_status_t s, const char *why)
{
    x86_result_t r = {s, why};
    return r;
}

static const x86_result_t ok = {X86_DEC_OK, ""};

/* Next byte, or -1 when the bytes run out (or the length limit is passed). */
static inline int next(cursor_t *c)
{
    if (c->pos >= c->lim)
        return -1;
    return c->p[c->pos++];
}

static x86_result_t out_of_bytes(const cursor_t *c)
{
    return c->lim >= MAX_LEN ? res(X86_DEC_UNDEFINED, "instruction longer than 15 bytes")
                             : res(X86_DEC_MORE, "instruction bytes ran out");
}

/* Little-endian unsigned of n bytes at the cursor. */
static int take(cursor_t *c, unsigned n, uint64_t *v)
{
    if (c->pos + n > c->lim)
        return -1;
    uint64_t x = 0;
    for (unsigned i = n; i > 0; i--)
        x = (x << 8) | c->p[c->pos + i - 1];
    c->pos += n;
    *v = x;
    return 0;
}

static int64_t sext(uint64_t v, unsigned bytes)
{
    if (bytes >= 8)
        return (int64_t)v;
    uint64_t m = (uint64_t)1 << (bytes * 8 - 1);
    return (int64_t)((v ^ m) - m);
}

/* Legacy prefix bytes: 1..6 segment ES..GS, 7 operand size, 8 address size, 9 LOCK, 10 REP. */
static const uint8_t prefix_kind[256] = {
    [0x26] = 1, [0x2e] = 2, [0x36] = 3, [0x3e] = 4, [0x64] = 5, [0x65] = 6,
    [0x66] = 7, [0x67] = 8, [0xf0] = 9, [0xf2] = 10, [0xf3] = 10,
};

/* Legacy prefixes and, in 64-bit mode, REX (which must come last to count). Returns the opcode byte. */
static int decode_prefixes(cursor_t *c, x86_dec_t *d, unsigned mode)
{
    for (;;) {
        if (c->pos >= c->lim)
            return -1;
        unsigned b = c->p[c->pos++], k = prefix_kind[b];
        if (k == 0) {
            if (mode == 8 && (b & 0xf0u) == 0x40u) {
                c->rex = b;
                continue;
            }
            return (int)b;
        }
        c->rex = 0;
        switch (k) {
        case 7: c->pfx66 = 1; break;
        case 8: c->pfx67 = 1; break;
        case 9: c->lock = 1; break;
        case 10: c->rep = b; break;
        default:
            d->seg = (uint8_t)(k - 1);
            d->flags |= X86_D_SEGOVR;
            break;
        }
    }
}

/* Operand and address sizes from the mode and prefixes. */
static inline void decode_sizes(const cursor_t *c, x86_dec_t *d, unsigned mode, unsigned tflags)
{
    if (mode == 8) {
        d->addrsize = c->pfx67 ? 4 : 8;
        if (c->rex & 8)
            d->opsize = 8;
        else if (c->pfx66)
            d->opsize = 2;
        else
            d->opsize = (tflags & X86_T_D64) ? 8 : 4;
    } else {
        d->addrsize = (uint8_t)(c->pfx67 ? 6 - mode : mode);
        d->opsize = (uint8_t)(c->pfx66 ? 6 - mode : mode);
    }
    if (tflags & X86_T_BYTE)
        d->opsize = 1;
}

/* ModRM memory operand with 16-bit addressing: base/index pairs and disp8/disp16. */
static int decode_modrm16(cursor_t *c, x86_dec_t *d, unsigned mod, unsigned rm)
{
    static const uint8_t base[8] = {3, 3, 5, 5, 6, 7, 5, 3};   /* BX BX BP BP SI DI BP BX */
    static const uint8_t index[8] = {6, 7, 6, 7, X86_NOREG, X86_NOREG, X86_NOREG, X86_NOREG};
    uint64_t v = 0;
    d->base = base[rm];
    d->index = index[rm];
    if (mod == 0 && rm == 6) {
        d->base = X86_NOREG;
        if (take(c, 2, &v) != 0)
            return -1;
        d->disp = (int64_t)v;
        return 0;
    }
    if (mod != 0 && take(c, mod == 1 ? 1 : 2, &v) != 0)
        return -1;
    d->disp = mod == 1 ? sext(v, 1) : sext(v, 2);
    if (!(d->flags & X86_D_SEGOVR) && d->base == 5)
        d->seg = X86_SS;
    return 0;
}

/* ModRM memory operand with 32/64-bit addressing: SIB, disp8/disp32, RIP-relative. */
HOT int decode_modrm32(cursor_t *c, x86_dec_t *d, unsigned mode, unsigned mod, unsigned rm)
{
    uint64_t v = 0;
    unsigned rexb = (c->rex & 1) << 3;
    d->index = X86_NOREG;
    d->base = (uint8_t)(rm | rexb);
    if (rm == 4) {
        int sib = next(c);
        if (sib < 0)
            return -1;
        unsigned idx = (((unsigned)sib >> 3) & 7u) | ((c->rex & 2) << 2);
        d->scale = (uint8_t)((unsigned)sib >> 6);
        d->index = idx == 4 ? X86_NOREG : (uint8_t)idx;
        d->base = (uint8_t)(((unsigned)sib & 7u) | rexb);
        if (mod == 0 && (sib & 7) == 5)
            d->base = X86_NOREG;
    } else if (mod == 0 && rm == 5) {
        d->base = mode == 8 ? X86_RIP : X86_NOREG;
    }
    if (d->base == X86_NOREG || d->base == X86_RIP || mod == 2) {
        if (take(c, 4, &v) != 0)
            return -1;
        d->disp = sext(v, 4);
    } else if (mod == 1) {
        if (take(c, 1, &v) != 0)
            return -1;
        d->disp = sext(v, 1);
    }
    if (!(d->flags & X86_D_SEGOVR) && (d->base == 4 || d->base == 5))
        d->seg = X86_SS;
    return 0;
}

/* ModRM byte: register operand and memory operand. */
HOT int decode_modrm(cursor_t *c, x86_dec_t *d, unsigned mode, unsigned *modrm)
{
    int m = next(c);
    if (m < 0)
        return -1;
    unsigned mod = (unsigned)m >> 6, rm = (unsigned)m & 7u;
    unsigned reg = (((unsigned)m >> 3) & 7u) | ((c->rex & 4) << 1);
    *modrm = (unsigned)m;
    d->reg = (uint8_t)reg;
    if (d->opsize == 1 && !(c->rex) && reg >= 4 && reg < 8)
        d->reg = (uint8_t)(X86_AH + reg - 4);
    if (mod == 3)
        return 0;
    d->flags |= X86_D_MEM;
    if (d->addrsize == 2)
        return decode_modrm16(c, d, mod, rm);
    return decode_modrm32(c, d, mode, mod, rm);
}

/* Bytes of an immediate of the given kind. */
HOT unsigned imm_bytes(unsigned kind, const x86_dec_t *d, unsigned mode)
{
    unsigned z = d->opsize == 1 ? 1u : d->opsize == 2 ? 2u : 4u;
    switch (kind) {
    case X86_I_8: case X86_I_S8: case X86_I_REL8: return 1;
    case X86_I_16: return 2;
    case X86_I_Z: case X86_I_SZ: return z;
    case X86_I_RELZ: return mode == 8 ? 4u : z;  /* 64-bit mode: rel32 whatever 66 says (Intel) */
    case X86_I_V: return d->opsize;
    case X86_I_MOFFS: return d->addrsize;
    case X86_I_16_8: return 3;
    case X86_I_PTR: return z + 2u;
    default: return 0;
    }
}

/* Immediate: sign-extended to 64 bits, except moffs and far pointers (zero-extended). */
HOT int decode_imm(cursor_t *c, x86_dec_t *d, unsigned kind, unsigned mode)
{
    unsigned n = imm_bytes(kind, d, mode);
    uint64_t v = 0;
    if (n == 0)
        return 0;
    if (take(c, n, &v) != 0)
        return -1;
    if (kind == X86_I_MOFFS) {
        d->base = X86_NOREG;
        d->index = X86_NOREG;
        d->disp = (int64_t)v;
        d->flags |= X86_D_MEM;
    } else {
        d->imm = kind == X86_I_PTR || kind == X86_I_16_8 ? v : (uint64_t)sext(v, n);
    }
    return 0;
}

/* Column of a mandatory-prefix row: none, 66, F3, F2. */
static unsigned sse_column(const cursor_t *c)
{
    if (c->rep == 0xf3)
        return 2;
    if (c->rep == 0xf2)
        return 3;
    return c->pfx66 ? 1u : 0u;
}

/* VEX (C4/C5): fields into the cursor; the REX bits it carries are kept in c->rex. Returns the opcode. */
static int decode_vex(cursor_t *c, unsigned first)
{
    int b1 = next(c), b2;
    if (b1 < 0)
        return -1;
    c->rex = 0x40u | ((~(unsigned)b1 >> 5) & 4u);       /* R */
    if (first == 0xc5) {
        c->vex_map = 1;
        b2 = b1;
    } else {
        c->rex |= (~(unsigned)b1 >> 5) & 3u;             /* X B */
        c->vex_map = (unsigned)b1 & 0x1fu;
        b2 = next(c);
        if (b2 < 0)
            return -1;
        c->rex |= ((unsigned)b2 >> 4) & 8u;              /* W */
    }
    c->vex_l = ((unsigned)b2 >> 2) & 1u;
    c->vex_pp = (unsigned)b2 & 3u;
    c->pfx66 = 0;
    return next(c) | (int)((~(unsigned)b2 >> 3) & 0xfu) << 8;
}

/* Is C4/C5 here a VEX prefix rather than LES/LDS? */
static int is_vex(const cursor_t *c, unsigned mode)
{
    if (mode == 8)
        return 1;
    if (c->pos >= c->lim)
        return -1;
    return (c->p[c->pos] & 0xc0u) == 0xc0u;
}

/* The SSE moves that have VEX forms: same rows as legacy SSE, with VEX.L and VLMAX rules. */
static x86_result_t decode_vex_insn(cursor_t *c, x86_dec_t *d, unsigned mode, unsigned opc,
                                    unsigned vvvv)
{
    static const uint8_t rows[16] = {
        [0] = X86_S_10, [1] = X86_S_11, [2] = X86_S_28, [3] = X86_S_29, [4] = X86_S_2B,
        [5] = X86_S_6E, [6] = X86_S_7E, [7] = X86_S_6F, [8] = X86_S_7F, [9] = X86_S_D6,
        [10] = X86_S_E7, [11] = X86_S_382A,
    };
    static const uint8_t map1_ops[] = {0x10, 0x11, 0x28, 0x29, 0x2b, 0x6e, 0x7e, 0x6f, 0x7f, 0xd6, 0xe7};
    unsigned modrm, row = X86_NSSE;
    x86_opinfo_t e;

    d->flags |= X86_D_VEX | ((c->rex & 8) ? X86_D_REXW : 0);
    d->vvvv = (uint8_t)vvvv;
    if (c->vex_map == 1) {
        for (unsigned i = 0; i < sizeof(map1_ops); i++)
            if (map1_ops[i] == opc)
                row = rows[i];
    } else if (c->vex_map == 2 && opc == 0x2a) {
        row = X86_S_382A;
    } else if (c->vex_map == 0 || c->vex_map > 3) {
        return res(X86_DEC_UNDEFINED, "reserved VEX opcode map");
    }
    if (c->vex_map == 1 && (opc & 0xf0u) == 0x80u)
        return res(X86_DEC_UNDEFINED, "no VEX instruction at 0F 80-8F");
    d->opsize = 4;
    d->addrsize = (uint8_t)(mode == 8 ? 8 : mode);
    if (c->pfx67)
        d->addrsize = (uint8_t)(mode == 8 ? 4 : 6 - mode);
    if (c->vex_map == 1 && opc == 0x77)
        return res(X86_DEC_UNSUPPORTED, "VZEROUPPER/VZEROALL: not a memory instruction");
    if (decode_modrm(c, d, mode, &modrm) != 0)
        return out_of_bytes(c);
    unsigned imm = c->vex_map == 3 || (c->vex_map == 1 && ((opc >= 0x70 && opc <= 0x73) ||
                                                          opc == 0xc2 || opc == 0xc4 ||
                                                          opc == 0xc5 || opc == 0xc6));
    if (imm && decode_imm(c, d, X86_I_8, mode) != 0)
        return out_of_bytes(c);
    d->len = (uint8_t)c->pos;
    if (row == X86_NSSE)
        return res(X86_DEC_UNSUPPORTED, "VEX instruction other than a data move");
    e = vf_x86_sse[row][c->vex_pp];
    if (e.flags & X86_T_INV || e.op == X86_OP_NONE)
        return res(X86_DEC_UNDEFINED, "VEX form of an instruction without one");
    if (vvvv != 0)
        return res(X86_DEC_UNDEFINED, "VEX.vvvv must be 1111 for a move to or from memory");
    d->op = e.op;
    d->aux = e.aux;
    d->memsize = e.size;
    if (e.size == 16)
        d->memsize = (uint8_t)(16u << c->vex_l);
    else if (c->vex_l && !(row == X86_S_10 || row == X86_S_11))
        return res(X86_DEC_UNDEFINED, "VEX.L must be 0 for VMOVD/VMOVQ");
    if ((e.aux & X86_SSE_Q) && (c->rex & 8) && mode == 8)
        d->memsize = 8;
    d->reg &= 15u;
    return ok;
}

/* Pick the table entry: groups by ModRM.reg, mandatory-prefix rows by prefix. */
HOT x86_opinfo_t resolve(const cursor_t *c, x86_opinfo_t e, unsigned modrm)
{
    if (e.flags & X86_T_GRP) {
        x86_opinfo_t g = vf_x86_groups[e.aux][(modrm >> 3) & 7u];
        g.flags = (uint8_t)((e.flags & ~X86_T_GRP) | g.flags);
        return g;
    }
    if (e.flags & X86_T_SSE) {
        x86_opinfo_t s = vf_x86_sse[e.aux][sse_column(c)];
        s.flags = (uint8_t)((e.flags & ~X86_T_SSE) | s.flags);
        return s;
    }
    return e;
}

/* Which map an opcode lives in, and its table entry. */
HOT int decode_opcode(cursor_t *c, unsigned first, unsigned *map, x86_opinfo_t *e)
{
    int b;
    *map = 1;
    if (first != 0x0f) {
        *e = vf_x86_map1[first];
        return (int)first;
    }
    if ((b = next(c)) < 0)
        return -1;
    *map = 2;
    if (b != 0x38 && b != 0x3a) {
        *e = vf_x86_map2[b];
        return b;
    }
    *map = b == 0x38 ? 3u : 4u;
    int op = next(c);
    if (op < 0)
        return -1;
    x86_opinfo_t m = {0, 0, b == 0x3a ? X86_I_8 : X86_I_NONE, X86_T_MODRM, 0};
    if (b == 0x38 && (op == 0xf0 || op == 0xf1))
        m = (x86_opinfo_t){0, (uint8_t)(op == 0xf0 ? X86_S_38F0 : X86_S_38F1), X86_I_NONE,
                           X86_T_MODRM | X86_T_SSE, 0};
    else if (b == 0x38 && op == 0x2a)
        m = (x86_opinfo_t){0, X86_S_382A, X86_I_NONE, X86_T_MODRM | X86_T_SSE, 0};
    *e = m;
    return op;
}

/* Operation-specific fix-ups that the tables cannot say. */
HOT x86_result_t finish(const cursor_t *c, x86_dec_t *d, unsigned mode, unsigned map,
                           unsigned opc, unsigned modrm, const x86_opinfo_t *e)
{
    unsigned mem = (d->flags & X86_D_MEM) != 0;
    d->op = e->op;
    d->aux = e->aux;
    d->memsize = e->size ? e->size : d->opsize;
    if (map == 1 && opc == 0x63) {
        if (mode != 8)
            d->op = X86_OP_NONE; /* ARPL */
        else
            d->memsize = d->opsize == 8 ? 4 : d->opsize;
    }
    switch (d->op) {
    case X86_OP_SHIFT:
        d->vvvv = (opc & 0xfeu) == 0xd0u ? X86_COUNT_1 : (opc & 0xfeu) == 0xd2u ? X86_COUNT_CL : X86_COUNT_IMM;
        break;
    case X86_OP_SHLD: case X86_OP_SHRD:
        d->vvvv = (opc & 1u) ? X86_COUNT_CL : X86_COUNT_IMM;
        break;
    case X86_OP_SSE_LD: case X86_OP_SSE_ST:
        if ((e->aux & X86_SSE_MEMONLY) && !mem)
            return res(X86_DEC_UNDEFINED, "non-temporal move with a register operand");
        if ((e->aux & X86_SSE_Q) && (c->rex & 8))
            d->memsize = 8;
        d->reg &= 15u; /* an xmm number: the byte-register mapping does not apply */
        break;
    case X86_OP_BT:
        d->vvvv = e->imm != X86_I_NONE; /* immediate bit offset */
        break;
    case X86_OP_CMPXCHG8B:
        d->memsize = (c->rex & 8) ? 16 : 8;
        if (!mem)
            return res(X86_DEC_UNDEFINED, "CMPXCHG8B with a register operand");
        break;
    case X86_OP_MOV_ST:
        if (map == 2 && (c->pfx66 || c->rep || !mem))
            return res(X86_DEC_UNDEFINED, "MOVNTI with a 66, F2 or F3 prefix or a register operand");
        if (map == 2) /* MOVNTI My,Gy: 32 or 64 bits, never 16 */
            d->opsize = d->memsize = (c->rex & 8) ? 8 : 4;
        break;
    case X86_OP_MOVBE_LD: case X86_OP_MOVBE_ST:
        if (!mem)
            return res(X86_DEC_UNDEFINED, "MOVBE with a register operand");
        break;
    default:
        break;
    }
    /* Cache line flushes and write-backs (0F AE /7, 66 0F AE /6 and /7) on device memory. */
    if (map == 2 && opc == 0xae && mem && (((modrm >> 3) & 7u) == 7u ||
                                           (((modrm >> 3) & 7u) == 6u && c->pfx66)) && !c->rep) {
        d->op = X86_OP_CACHE;
        d->memsize = 1;
    }
    if (c->lock && (!(e->flags & X86_T_LOCK) || !mem))
        return res(X86_DEC_UNDEFINED, "LOCK prefix on an instruction that cannot be locked");
    return ok;
}

/* Little-endian, sign-extended immediate or displacement of n = 1, 2 or 4 bytes. */
static inline uint64_t fast_signed(const uint8_t *p, unsigned n)
{
    if (n == 1)
        return (uint64_t)(int64_t)(int8_t)p[0];
    if (n == 2)
        return (uint64_t)(int64_t)(int16_t)(uint16_t)(p[0] | (unsigned)p[1] << 8);
    return (uint64_t)(int64_t)(int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                        (uint32_t)p[3] << 24);
}

/* String instructions (A4-AF) with an optional REP/REPNE and then an optional REX: no ModRM. */
static int fast_string(const uint8_t *p, unsigned mode, x86_dec_t *d)
{
    unsigned pos = 0, rex = 0, rep = 0, b = p[0];
    if ((b & 0xfeu) == 0xf2u) {
        rep = b;
        b = p[++pos];
    }
    if (mode == 8 && (b & 0xf0u) == 0x40u) {
        rex = b;
        b = p[++pos];
    }
    x86_opinfo_t e = vf_x86_map1[b];
    if (e.op < X86_OP_MOVS || e.op > X86_OP_SCAS)
        return 0;
    uint8_t size = (uint8_t)((e.flags & X86_T_BYTE) ? 1u : (rex & 8) ? 8u : 4u);
    *d = (x86_dec_t){
        .op = e.op, .len = (uint8_t)(pos + 1), .mode = (uint8_t)mode, .opsize = size,
        .addrsize = (uint8_t)mode, .memsize = size, .seg = X86_DS, .base = X86_NOREG,
        .index = X86_NOREG, .rep = (uint8_t)rep,
        .flags = (uint8_t)(rex ? X86_D_REX | ((rex & 8) ? X86_D_REXW : 0u) : 0u),
    };
    return 1;
}

/*
 * The most frequent shapes, decoded without the general machinery, in 32-
 * or 64-bit code: an optional 66, an optional REX and a one-byte opcode
 * whose table entry is a plain ModRM form or group (MOV, the ALU ops, TEST,
 * XCHG, IMUL, MOV/ALU with an immediate) or 0F B6/B7/BE/BF (MOVZX, MOVSX),
 * with a memory operand; or a string instruction (fast_string). Same
 * tables, same descriptor as the general path (tests/x86/test_x86_zydis.c
 * compares the two). Fills the whole descriptor, or returns 0 (perhaps
 * having written part of it) to take the general path, which starts again
 * from scratch and reports every error.
 */
static int decode_fast(const uint8_t *p, unsigned lim, unsigned mode, x86_dec_t *d)
{
    const uint8_t *start = p, *end = p + lim;
    unsigned rex = 0, o16 = 0, b;
    if (mode == 2 || lim < 5)
        return 0;
    b = p[0];
    if (b == 0x66) {
        o16 = 1;
        b = *++p;
    }
    if (mode == 8 && (b & 0xf0u) == 0x40u) {
        rex = b;
        b = *++p;
    }
    const x86_opinfo_t *e = &vf_x86_map1[b];
    if (b == 0x0f) { /* at most 2 bytes consumed, lim >= 5: the next two bytes are there */
        e = &vf_x86_map2[*++p];
        if (e->op != X86_OP_MOVZX && e->op != X86_OP_MOVSX)
            return 0;
    } else if (!(e->flags & X86_T_MODRM)) {
        return fast_string(start, mode, d);
    }
    unsigned m = p[1], byte = e->flags & X86_T_BYTE;
    /* ModRM forms and their groups only: no mandatory-prefix rows, no 64-bit defaults, memory operands. */
    if ((m & 0xc0u) == 0xc0u)
        return 0;
    if ((e->flags & ~(unsigned)(X86_T_BYTE | X86_T_LOCK)) == X86_T_MODRM) {
        if (e->op == X86_OP_NONE || b == 0x63)
            return 0;
    } else {
        if ((e->flags & ~(unsigned)(X86_T_BYTE | X86_T_LOCK)) != (X86_T_MODRM | X86_T_GRP))
            return 0;
        e = &vf_x86_groups[e->aux][(m >> 3) & 7u]; /* the cell's operation; byte size from the opcode */
        if (e->op == X86_OP_NONE || e->op == X86_OP_SHIFT || (e->flags & (X86_T_INV | X86_T_D64)))
            return 0;
    }
    /* Immediates: none, Ib sign-extended or Iz only (enum x86_imm ends with those two). */
    if (e->imm != X86_I_NONE && e->imm < X86_I_S8)
        return 0;

    unsigned opsize = byte ? 1u : (rex & 8) ? 8u : o16 ? 2u : 4u;
    unsigned mod = m >> 6, rm = m & 7u, rexb = (rex & 1u) << 3;
    unsigned reg = ((m >> 3) & 7u) | ((rex & 4u) << 1), base = rm | rexb, index = X86_NOREG, scale = 0;
    /* Written as it is decoded (one combined store costs more shifts than the stores it saves). */
    d->op = e->op;
    d->aux = e->aux;
    d->mode = (uint8_t)mode;
    d->opsize = (uint8_t)opsize;
    d->addrsize = (uint8_t)mode;
    d->memsize = e->size ? e->size : (uint8_t)opsize;
    d->reg = (uint8_t)(opsize == 1 && !rex && reg >= 4 ? X86_AH + reg - 4 : reg);
    d->rep = 0;
    d->flags = (uint8_t)(X86_D_MEM | (rex ? X86_D_REX | ((rex & 8) ? X86_D_REXW : 0u) : 0u));
    d->vvvv = 0;
    d->dstsize = 0;
    p += 2;
    if (rm == 4) {
        if (p >= end)
            return 0;
        unsigned sib = *p++;
        unsigned idx = ((sib >> 3) & 7u) | ((rex & 2u) << 2);
        scale = sib >> 6;
        index = idx == 4 ? X86_NOREG : idx;
        base = (sib & 7u) == 5 && mod == 0 ? X86_NOREG : (sib & 7u) | rexb;
    } else if (mod == 0 && rm == 5) {
        base = mode == 8 ? X86_RIP : X86_NOREG;
    }
    d->seg = base == 4 || base == 5 ? X86_SS : X86_DS;
    d->base = (uint8_t)base;
    d->index = (uint8_t)index;
    d->scale = (uint8_t)scale;
    unsigned ndisp = base == X86_NOREG || base == X86_RIP || mod == 2 ? 4u : mod;
    unsigned nimm = e->imm == X86_I_NONE ? 0u : e->imm == X86_I_S8 ? 1u : opsize < 4 ? opsize : 4u;
    if (ndisp + nimm > (unsigned)(end - p))
        return 0;
    d->disp = ndisp ? (int64_t)fast_signed(p, ndisp) : 0;
    p += ndisp;
    d->imm = nimm ? fast_signed(p, nimm) : 0;
    d->len = (uint8_t)(p - start + nimm);
    return 1;
}

x86_result_t vf_x86_decode_bytes(const uint8_t *bytes, unsigned avail, unsigned mode, x86_dec_t *d)
{
    unsigned lim = avail < MAX_LEN ? avail : MAX_LEN;
    if (decode_fast(bytes, lim, mode & 0xfu, d))
        return ok;
    return vf_x86_decode_general(bytes, avail, mode, d);
}

x86_result_t vf_x86_decode_general(const uint8_t *bytes, unsigned avail, unsigned mode, x86_dec_t *d)
{
    cursor_t c = {bytes, avail < MAX_LEN ? avail : MAX_LEN, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    unsigned real = (mode & X86_MODE_REAL) != 0;
    unsigned modrm = 0, map;
    x86_opinfo_t e;

    mode &= 0xfu;
    *d = (x86_dec_t){.seg = X86_DS, .base = X86_NOREG, .index = X86_NOREG, .mode = (uint8_t)mode};

    int first = decode_prefixes(&c, d, mode);
    if (first < 0)
        return out_of_bytes(&c);
    d->rep = (uint8_t)c.rep;
    if (c.lock)
        d->flags |= X86_D_LOCK;
    if (c.rex)
        d->flags |= X86_D_REX | ((c.rex & 8) ? X86_D_REXW : 0);

    if (first == 0xc4 || first == 0xc5) {
        int v = is_vex(&c, mode);
        if (v > 0 && real)
            return res(X86_DEC_UNDEFINED, "VEX in real or virtual-8086 mode");
        if (v < 0)
            return out_of_bytes(&c);
        if (v) {
            if (c.rex || c.pfx66 || c.rep || c.lock)
                return res(X86_DEC_UNDEFINED, "VEX after a 66, F2, F3, LOCK or REX prefix");
            int opv = decode_vex(&c, (unsigned)first);
            if (opv < 0)
                return out_of_bytes(&c);
            if (mode != 8)
                c.rex = 0x40; /* outside 64-bit mode VEX.R X B W select nothing here */
            d->flags |= X86_D_REX;
            return decode_vex_insn(&c, d, mode, (unsigned)opv & 0xffu, (unsigned)opv >> 8);
        }
    }
    if (first == 0x62 && (mode == 8 || (c.pos < c.lim && (c.p[c.pos] & 0xc0u) == 0xc0u)))
        return res(X86_DEC_UNSUPPORTED, "EVEX (AVX-512) instruction");

    int opc = decode_opcode(&c, (unsigned)first, &map, &e);
    if (opc < 0)
        return out_of_bytes(&c);
    if (e.flags & X86_T_INV)
        return res(X86_DEC_UNDEFINED, "invalid opcode");
    if ((e.flags & X86_T_I64) && mode == 8)
        return res(X86_DEC_UNDEFINED, "opcode invalid in 64-bit mode");
    decode_sizes(&c, d, mode, e.flags);
    if (map == 2 && (opc & 0xfc) == 0x20) {
        /* MOV to/from control and debug registers: ModRM always names registers. */
        if (next(&c) < 0)
            return out_of_bytes(&c);
        e.flags = 0;
    }
    if (e.flags & X86_T_MODRM) {
        if (decode_modrm(&c, d, mode, &modrm) != 0)
            return out_of_bytes(&c);
        e = resolve(&c, e, modrm);
        if (e.flags & X86_T_INV)
            return res(X86_DEC_UNDEFINED, "invalid opcode extension or prefix");
        if (e.flags & X86_T_D64) {
            decode_sizes(&c, d, mode, e.flags);
        }
    }
    if (map == 2 && opc == 0x78 && (c.pfx66 || c.rep == 0xf2))
        e.imm = X86_I_16; /* AMD EXTRQ/INSERTQ: two imm8 */
    if (e.imm != X86_I_NONE && decode_imm(&c, d, e.imm, mode) != 0)
        return out_of_bytes(&c);
    d->len = (uint8_t)c.pos;
    x86_result_t r = finish(&c, d, mode, map, (unsigned)opc, modrm, &e);
    if (r.status != X86_DEC_OK)
        return r;
    if (d->op == X86_OP_NONE)
        return res(X86_DEC_UNSUPPORTED, "instruction not emulated");
    return ok;
}
