/*
 * A64 load/store decoder (pure): an instruction word in, an access
 * descriptor out. Used when the data abort carries no instruction syndrome
 * (ISV = 0: writeback forms, pairs, SIMD&FP, structures).
 *
 * One small function per encoding family, found through a mask/value table;
 * the (size, opc) meaning of single-register forms is a table too.
 * Encodings follow the Arm ARM "Loads and Stores" encoding index (C4.1.x).
 */
#include "a64.h"
#include "../../core/engine.h"

typedef struct a64_out {
    vf_insn_t *in;
    vf_a64_ldst_t *x;
    const char *why;
} a64_out_t;

static vf_error_t refuse(a64_out_t *o, vf_error_t err, const char *why)
{
    o->why = why;
    return err;
}

static uint32_t bits(uint32_t w, unsigned hi, unsigned lo)
{
    return (w >> lo) & ((1u << (hi - lo + 1u)) - 1u);
}

static int64_t sbits(uint32_t w, unsigned hi, unsigned lo)
{
    return (int64_t)vf_sext(bits(w, hi, lo), hi - lo + 1u);
}

/* ---- meaning of (size, opc) for single-register forms ---- */

enum {
    K_UNALLOC = 0,
    K_ACCESS,  /* a load or store, as the entry's flags say */
    K_PRFM,    /* prefetch: makes no access */
};

/* What a (size, opc) value means, precomputed: access bytes, VF_INSN_* flags, register width. */
typedef struct a64_sizeop {
    uint8_t bytes;
    uint8_t kind;
    uint8_t flags;
    uint8_t dst_bytes;
} a64_sizeop_t;

#define ST(b, dst) {b, K_ACCESS, VF_INSN_WRITE, dst}             /* store */
#define LD(b, dst) {b, K_ACCESS, 0, dst}                         /* load, zero-extend */
#define LDS(b, dst) {b, K_ACCESS, VF_INSN_SIGNED, dst}           /* load, sign-extend to dst bytes */
#define FST(b) {b, K_ACCESS, VF_INSN_WRITE | VF_INSN_FP, b}      /* SIMD&FP store */
#define FLD(b) {b, K_ACCESS, VF_INSN_FP, b}                      /* SIMD&FP load */
#define UNALLOC {0, K_UNALLOC, 0, 0}
#define PRFM {0, K_PRFM, 0, 0}

/* General-purpose registers, indexed by size:opc (Arm ARM C6.2 LDR/LDRB/LDRSB/... tables). */
static const a64_sizeop_t gpr_sizeop[16] = {
    ST(1, 4), LD(1, 4), LDS(1, 8), LDS(1, 4),
    ST(2, 4), LD(2, 4), LDS(2, 8), LDS(2, 4),
    ST(4, 4), LD(4, 4), LDS(4, 8), UNALLOC,
    ST(8, 8), LD(8, 8), PRFM,      UNALLOC,
};

/* SIMD&FP registers B/H/S/D/Q, indexed by size:opc. */
static const a64_sizeop_t fp_sizeop[16] = {
    FST(1), FLD(1), FST(16), FLD(16),
    FST(2), FLD(2), UNALLOC, UNALLOC,
    FST(4), FLD(4), UNALLOC, UNALLOC,
    FST(8), FLD(8), UNALLOC, UNALLOC,
};

static unsigned log2_bytes(unsigned bytes)
{
    unsigned s = 0;
    while ((1u << s) < bytes)
        s++;
    return s;
}

/* Fill size, direction, extension and register width from a (size, opc) entry. */
static vf_error_t apply_sizeop(a64_out_t *o, a64_sizeop_t e, int prfm_ok)
{
    vf_insn_t *in = o->in;
    if (e.kind == K_UNALLOC)
        return refuse(o, VF_ERR_UNDEFINED, "unallocated load/store encoding");
    if (e.kind == K_PRFM)
        return refuse(o, prfm_ok ? VF_ERR_MISMATCH : VF_ERR_UNDEFINED,
                      prfm_ok ? "prefetch (PRFM) makes no data access: it cannot have faulted"
                              : "unallocated load/store encoding");
    in->op = VF_A64_OP_SINGLE;
    in->size = e.bytes;
    in->count = 1;
    in->flags |= e.flags;
    in->dst_bytes = e.dst_bytes;
    return VF_OK;
}

static void set_regs(vf_insn_t *in, uint32_t w)
{
    in->rt = (uint8_t)bits(w, 4, 0);
    in->rn = (uint8_t)bits(w, 9, 5);
}

/* Writeback into the transferred register is CONSTRAINED UNPREDICTABLE (Rn = 31 is SP, never Rt). */
static vf_error_t check_writeback(a64_out_t *o)
{
    const vf_insn_t *in = o->in;
    if (!(in->flags & VF_INSN_WRITEBACK) || (in->flags & VF_INSN_FP) || in->rn == 31)
        return VF_OK;
    if (in->rn == in->rt || (in->op == VF_A64_OP_PAIR && in->rn == in->rt2))
        return refuse(o, VF_ERR_UNDEFINED, "writeback to a register the instruction also transfers (UNPREDICTABLE)");
    return VF_OK;
}

/* ---- families ---- */

/* LDR/STR (immediate, unsigned offset): imm12 scaled by the access size. */
static vf_error_t fam_uimm(uint32_t w, a64_out_t *o)
{
    uint32_t v = bits(w, 26, 26), so = bits(w, 31, 30) << 2 | bits(w, 23, 22);
    vf_error_t err = apply_sizeop(o, v ? fp_sizeop[so] : gpr_sizeop[so], 1);
    if (err != VF_OK)
        return err;
    set_regs(o->in, w);
    o->in->imm = (int64_t)((uint64_t)bits(w, 21, 10) << log2_bytes(o->in->size));
    return VF_OK;
}

/* imm9 forms: LDUR/STUR (00), post-index (01), LDTR/STTR (10), pre-index (11). */
static vf_error_t fam_imm9(uint32_t w, a64_out_t *o)
{
    uint32_t v = bits(w, 26, 26), so = bits(w, 31, 30) << 2 | bits(w, 23, 22);
    uint32_t form = bits(w, 11, 10);
    if (form == 2 && v)
        return refuse(o, VF_ERR_UNDEFINED, "unallocated load/store encoding (unprivileged SIMD&FP)");
    vf_error_t err = apply_sizeop(o, v ? fp_sizeop[so] : gpr_sizeop[so], form == 0);
    if (err != VF_OK)
        return err;
    set_regs(o->in, w);
    o->in->imm = sbits(w, 20, 12);
    if (form == 1)
        o->in->flags |= VF_INSN_WRITEBACK | VF_INSN_POSTINDEX;
    else if (form == 3)
        o->in->flags |= VF_INSN_WRITEBACK;
    return check_writeback(o);
}

/* LDR/STR (register offset): [Xn, Rm, extend #amount]. */
static vf_error_t fam_regoff(uint32_t w, a64_out_t *o)
{
    uint32_t v = bits(w, 26, 26), so = bits(w, 31, 30) << 2 | bits(w, 23, 22);
    uint32_t option = bits(w, 15, 13);
    if ((option & 2u) == 0)
        return refuse(o, VF_ERR_UNDEFINED, "register offset with a reserved extend option");
    vf_error_t err = apply_sizeop(o, v ? fp_sizeop[so] : gpr_sizeop[so], 1);
    if (err != VF_OK)
        return err;
    set_regs(o->in, w);
    o->in->rm = (uint8_t)bits(w, 20, 16);
    o->x->mode = VF_A64_AM_REG;
    o->x->extend = (uint8_t)option;
    o->x->shift = (uint8_t)(bits(w, 12, 12) ? log2_bytes(o->in->size) : 0u);
    return VF_OK;
}

/* LSE atomics (device cannot do them), and LDAPR which shares their encoding space. */
static vf_error_t fam_atomic(uint32_t w, a64_out_t *o)
{
    uint32_t o3 = bits(w, 15, 15), opc = bits(w, 14, 12);
    if (o3 == 0 || opc == 0)
        return refuse(o, VF_ERR_INJECT, "atomic memory operation on device memory: inject a data abort");
    if (opc != 4 || bits(w, 23, 22) != 2 || bits(w, 20, 16) != 31)
        return refuse(o, VF_ERR_UNSUPPORTED, "64-byte (FEAT_LS64) or unallocated load/store");
    /* LDAPR: load-acquire RCpc, size bytes, no offset. */
    vf_error_t err = apply_sizeop(o, gpr_sizeop[bits(w, 31, 30) << 2 | 1u], 0);
    set_regs(o->in, w);
    o->in->flags |= VF_INSN_ACQREL;
    return err;
}

/* LDRAA/LDRAB: the address needs the pointer authentication key. */
static vf_error_t fam_pac(uint32_t w, a64_out_t *o)
{
    (void)w;
    return refuse(o, VF_ERR_UNSUPPORTED, "pointer-authenticated load (LDRAA/LDRAB)");
}

/* LDP/STP/LDPSW/LDNP/STNP, general-purpose and SIMD&FP. */
static vf_error_t fam_pair(uint32_t w, a64_out_t *o)
{
    vf_insn_t *in = o->in;
    uint32_t opc = bits(w, 31, 30), v = bits(w, 26, 26), mode = bits(w, 24, 23), l = bits(w, 22, 22);
    unsigned bytes;
    if (opc == 3)
        return refuse(o, VF_ERR_UNDEFINED, "unallocated load/store pair encoding");
    if (v) {
        bytes = 4u << opc;
        in->flags |= VF_INSN_FP;
        in->dst_bytes = (uint8_t)bytes;
    } else if (opc == 1) {
        if (!l || mode == 0)
            return refuse(o, l ? VF_ERR_UNDEFINED : VF_ERR_UNSUPPORTED,
                          l ? "unallocated load/store pair encoding" : "STGP (memory tagging)");
        bytes = 4;
        in->flags |= VF_INSN_SIGNED; /* LDPSW */
        in->dst_bytes = 8;
    } else {
        bytes = opc ? 8u : 4u;
        in->dst_bytes = (uint8_t)bytes;
    }
    in->op = VF_A64_OP_PAIR;
    in->size = (uint8_t)bytes;
    in->count = 2;
    if (!l)
        in->flags |= VF_INSN_WRITE;
    set_regs(in, w);
    in->rt2 = (uint8_t)bits(w, 14, 10);
    in->imm = sbits(w, 21, 15) * (int64_t)bytes;
    if (mode == 1)
        in->flags |= VF_INSN_WRITEBACK | VF_INSN_POSTINDEX;
    else if (mode == 3)
        in->flags |= VF_INSN_WRITEBACK;
    if (l && in->rt == in->rt2)
        return refuse(o, VF_ERR_UNDEFINED, "load pair into the same register twice (UNPREDICTABLE)");
    return check_writeback(o);
}

/* LDR (literal): PC-relative. */
static vf_error_t fam_literal(uint32_t w, a64_out_t *o)
{
    static const a64_sizeop_t gpr[4] = {LD(4, 4), LD(8, 8), LDS(4, 8), PRFM};
    static const a64_sizeop_t fp[4] = {FLD(4), FLD(8), FLD(16), UNALLOC};
    uint32_t v = bits(w, 26, 26), opc = bits(w, 31, 30);
    vf_error_t err = apply_sizeop(o, v ? fp[opc] : gpr[opc], 1);
    if (err != VF_OK)
        return err;
    o->in->rt = (uint8_t)bits(w, 4, 0);
    o->in->imm = sbits(w, 23, 5) * 4;
    o->x->mode = VF_A64_AM_LITERAL;
    return VF_OK;
}

/* Exclusives, CAS/CASP (inject) and LDAR/STLR/LDLAR/STLLR (emulated). */
static vf_error_t fam_exclusive(uint32_t w, a64_out_t *o)
{
    uint32_t o2 = bits(w, 23, 23), l = bits(w, 22, 22), o1 = bits(w, 21, 21);
    if (!(o2 == 1 && o1 == 0))
        return refuse(o, VF_ERR_INJECT, "exclusive or compare-and-swap on device memory: inject a data abort");
    vf_error_t err = apply_sizeop(o, gpr_sizeop[bits(w, 31, 30) << 2 | (l ? 1u : 0u)], 0);
    set_regs(o->in, w);
    o->in->flags |= VF_INSN_ACQREL;
    return err;
}

/* LDAPUR/STLUR and their sign-extending forms (FEAT_LRCPC2): unscaled imm9, no writeback. */
static vf_error_t fam_rcpc_unscaled(uint32_t w, a64_out_t *o)
{
    vf_error_t err = apply_sizeop(o, gpr_sizeop[bits(w, 31, 30) << 2 | bits(w, 23, 22)], 0);
    if (err != VF_OK)
        return err;
    set_regs(o->in, w);
    o->in->imm = sbits(w, 20, 12);
    o->in->flags |= VF_INSN_ACQREL;
    return VF_OK;
}

/* Structure post-index: Rm = 31 adds the bytes transferred, else Xm. */
static void struct_postindex(uint32_t w, a64_out_t *o, unsigned total)
{
    vf_insn_t *in = o->in;
    in->flags |= VF_INSN_WRITEBACK | VF_INSN_POSTINDEX;
    in->rm = (uint8_t)bits(w, 20, 16);
    if (in->rm == 31)
        in->imm = total;
    else
        o->x->mode = VF_A64_AM_POST_REG;
}

/* LD1-LD4/ST1-ST4 (multiple structures), with or without post-index. */
static vf_error_t fam_struct_multi(uint32_t w, a64_out_t *o)
{
    /* opcode field -> registers (rpt * selem) and elements per structure; 0 = unallocated. */
    static const uint8_t rpt_of[16] = {1, 0, 4, 0, 1, 0, 3, 1, 1, 0, 2, 0, 0, 0, 0, 0};
    static const uint8_t selem_of[16] = {4, 0, 1, 0, 3, 0, 1, 1, 2, 0, 1, 0, 0, 0, 0, 0};
    vf_insn_t *in = o->in;
    uint32_t q = bits(w, 30, 30), opcode = bits(w, 15, 12), size = bits(w, 11, 10);
    unsigned rpt = rpt_of[opcode], selem = selem_of[opcode];
    if (rpt == 0)
        return refuse(o, VF_ERR_UNDEFINED, "unallocated structure load/store");
    if (size == 3 && q == 0 && selem > 1)
        return refuse(o, VF_ERR_UNDEFINED, "LD2-LD4/ST2-ST4 of 1D arrangements are reserved");
    unsigned nregs = rpt * selem, vbytes = q ? 16u : 8u;
    in->op = VF_A64_OP_STRUCT_MULTI;
    in->flags |= VF_INSN_FP | (bits(w, 22, 22) ? 0u : VF_INSN_WRITE);
    in->size = (uint8_t)vbytes; /* one access per register's worth of memory, ascending */
    in->count = (uint8_t)nregs;
    in->dst_bytes = (uint8_t)vbytes;
    set_regs(in, w);
    o->x->selem = (uint8_t)selem;
    o->x->nregs = (uint8_t)nregs;
    o->x->vbytes = (uint8_t)vbytes;
    o->x->esize = (uint8_t)(1u << size);
    if (bits(w, 23, 23))
        struct_postindex(w, o, nregs * vbytes);
    return VF_OK;
}

/* LD1-LD4/ST1-ST4 (single structure) and LD1R-LD4R. */
static vf_error_t fam_struct_single(uint32_t w, a64_out_t *o)
{
    vf_insn_t *in = o->in;
    uint32_t q = bits(w, 30, 30), l = bits(w, 22, 22), r = bits(w, 21, 21);
    uint32_t opcode = bits(w, 15, 13), s = bits(w, 12, 12), size = bits(w, 11, 10);
    unsigned scale = opcode >> 1, selem = ((opcode & 1u) << 1 | r) + 1u, index = 0;
    int replicate = scale == 3;
    if (replicate) {
        if (!l || s)
            return refuse(o, VF_ERR_UNDEFINED, "unallocated structure load/store");
        scale = size;
    } else if (scale == 0) {
        index = q << 3 | s << 2 | size;
    } else if (scale == 1) {
        if (size & 1u)
            return refuse(o, VF_ERR_UNDEFINED, "unallocated structure load/store");
        index = q << 2 | s << 1 | size >> 1;
    } else if (size & 2u) {
        return refuse(o, VF_ERR_UNDEFINED, "unallocated structure load/store");
    } else if (size == 0) {
        index = q << 1 | s;
    } else {
        if (s)
            return refuse(o, VF_ERR_UNDEFINED, "unallocated structure load/store");
        index = q;
        scale = 3;
    }
    unsigned esize = 1u << scale;
    in->op = replicate ? VF_A64_OP_STRUCT_REPL : VF_A64_OP_STRUCT_LANE;
    in->flags |= VF_INSN_FP | (l ? 0u : VF_INSN_WRITE);
    in->size = (uint8_t)esize;
    in->count = (uint8_t)selem;
    in->dst_bytes = 16;
    set_regs(in, w);
    o->x->selem = (uint8_t)selem;
    o->x->nregs = (uint8_t)selem;
    o->x->lane = (uint8_t)index;
    o->x->vbytes = q ? 16 : 8;
    o->x->esize = (uint8_t)esize;
    if (bits(w, 23, 23))
        struct_postindex(w, o, selem * esize);
    return VF_OK;
}

/* DC ZVA: refused, see docs/arm.md (block size is DCZID_EL0's, not in the register file). */
static vf_error_t fam_dc_zva(uint32_t w, a64_out_t *o)
{
    (void)w;
    return refuse(o, VF_ERR_UNSUPPORTED, "DC ZVA on device memory is not emulated");
}

typedef struct a64_family {
    uint32_t mask, value;
    vf_error_t (*fn)(uint32_t w, a64_out_t *o);
} a64_family_t;

/* First match wins; more specific patterns come first. */
static const a64_family_t families[] = {
    {0x3b000000u, 0x39000000u, fam_uimm},          /* xx111x01: unsigned offset */
    {0x3b200000u, 0x38000000u, fam_imm9},          /* xx111x00, bit 21 = 0 */
    {0x3b200c00u, 0x38200800u, fam_regoff},        /* bit 21 = 1, bits 11:10 = 10 */
    {0x3f200c00u, 0x38200000u, fam_atomic},        /* V = 0, bit 21 = 1, bits 11:10 = 00 */
    {0xff200400u, 0xf8200400u, fam_pac},           /* LDRAA/LDRAB */
    {0x3a000000u, 0x28000000u, fam_pair},          /* xx101x0x */
    {0x3b000000u, 0x18000000u, fam_literal},       /* xx011x00 */
    {0x3f000000u, 0x08000000u, fam_exclusive},     /* xx001000 */
    {0x3f200c00u, 0x19000000u, fam_rcpc_unscaled}, /* xx011001, bit 21 = 0, bits 11:10 = 00 */
    {0xbfbf0000u, 0x0c000000u, fam_struct_multi},  /* 0Q0011000L000000 */
    {0xbfa00000u, 0x0c800000u, fam_struct_multi},  /* 0Q0011001L0 Rm */
    {0xbf9f0000u, 0x0d000000u, fam_struct_single}, /* 0Q0011010LR00000 */
    {0xbf800000u, 0x0d800000u, fam_struct_single}, /* 0Q0011011LR Rm */
    {0xffffffe0u, 0xd50b7420u, fam_dc_zva},        /* SYS #3, C7, C4, #1 */
};

vf_error_t vf_aarch64_decode(uint32_t word, vf_insn_t *insn, vf_a64_ldst_t *ext, const char **why)
{
    a64_out_t o = {insn, ext, "not a load or store instruction"};
    vf_memset(insn, 0, sizeof(*insn));
    vf_memset(ext, 0, sizeof(*ext));
    insn->length = 4;
    vf_error_t err = VF_ERR_MISMATCH;
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        if ((word & families[i].mask) == families[i].value) {
            err = families[i].fn(word, &o);
            if (why != NULL)
                *why = o.why;
            return err;
        }
    if ((word & 0x0a000000u) == 0x08000000u) {
        err = VF_ERR_UNSUPPORTED; /* the load/store space (op0 = x1x0), an encoding we do not decode */
        o.why = "load/store encoding not emulated (memory tagging, LS64, ...)";
    } else if ((word & 0x1e000000u) == 0x04000000u) {
        err = VF_ERR_UNSUPPORTED;
        o.why = "SVE load/store is not emulated";
    }
    if (why != NULL)
        *why = o.why;
    return err;
}
