/*
 * AArch64 ISV = 0: fetch the faulting instruction, decode it (decode.c),
 * compute its addresses from the registers, cross-check them with what the
 * hardware reported, then produce the accesses and commit the registers.
 *
 * Every access of one instruction must lie in the 4 KiB page of the
 * reported IPA: the library knows where that page is in guest-physical
 * space and nothing about its neighbours.
 */
#include "ldst.h"
#include "../../core/engine.h"

#define PAGE_MASK 0xfffull

/* f->arch.a64.mode..esize mirror vf_a64_ldst_t field for field. */
_Static_assert(sizeof(vf_a64_ldst_t) == 8 && offsetof(vf_a64_ldst_t, esize) == 7, "vf_a64_ldst_t layout");
_Static_assert(offsetof(vf_arch_state_t, a64.esize) - offsetof(vf_arch_state_t, a64.mode) == 7,
               "arch.a64 mirrors vf_a64_ldst_t");

static vf_aarch64_regs_t *regs_of(vf_fault_t *f)
{
    return (vf_aarch64_regs_t *)f->regs;
}

/* The stack pointer PSTATE selects: SP_EL0 at EL0 or with PSTATE.SP = 0, else SP_EL1. */
static uint64_t *sp_of(vf_aarch64_regs_t *r)
{
    uint32_t el = (uint32_t)(r->pstate >> 2) & 3u;
    return el == 0 || !(r->pstate & 1u) ? &r->sp_el0 : &r->sp_el1;
}

/* Base register as an address: register 31 is SP. */
static uint64_t base_reg(vf_aarch64_regs_t *r, uint32_t n)
{
    return n == 31 ? *sp_of(r) : r->x[n];
}

/* ExtendReg(): option 2 UXTW, 3 UXTX, 6 SXTW, 7 SXTX, then shift. Rm = 31 is XZR. */
static uint64_t extend_reg(const vf_aarch64_regs_t *r, uint32_t m, uint32_t option, uint32_t shift)
{
    uint64_t v = m == 31 ? 0 : r->x[m];
    if ((option & 3u) == 2)
        v = (option & 4u) ? vf_sext(v, 32) : (v & 0xffffffffu);
    return v << shift;
}

static uint8_t v_byte(const vf_u128_t *v, unsigned b)
{
    return (uint8_t)((b < 8 ? v->lo >> (8 * b) : v->hi >> (8 * (b - 8))) & 0xffu);
}

static void v_set_byte(vf_u128_t *v, unsigned b, uint8_t val)
{
    uint64_t *w = b < 8 ? &v->lo : &v->hi;
    unsigned sh = 8 * (b & 7u);
    *w = (*w & ~((uint64_t)0xff << sh)) | (uint64_t)val << sh;
}

/* Bytes the instruction transfers in total. */
static unsigned span_of(const vf_insn_t *in)
{
    return (unsigned)in->count * in->size;
}

vf_error_t vf_a64_ldst_decode(vf_fault_t *f)
{
    vf_aarch64_regs_t *r = regs_of(f);
    vf_insn_t *in = &f->insn;
    vf_a64_ldst_t x;
    const char *why = "";
    uint32_t word;
    uint32_t el = (uint32_t)(r->pstate >> 2) & 3u;

    if (el > 1)
        return vf_fail(f, VF_ERR_UNSUPPORTED, "guest at EL2 or EL3: not emulated without a syndrome");
    if (f->host.read_phys == NULL) /* the VMM chose syndrome-only emulation */
        return vf_fail(f, VF_ERR_UNSUPPORTED, "no instruction syndrome (ISV = 0) and no guest memory to decode from");
    vf_error_t err = vf_a64_fetch(&f->host, r, f->pc, &word, &why);
    if (err != VF_OK)
        return vf_fail(f, err, why);
    err = vf_aarch64_decode(word, in, &x, &why);
    if (err == VF_ERR_INJECT)
        return vf_fail_inject(f, VF_INJECT_ARM_DATA_ABORT, A64_DFSC_EXCL_ATOMIC, f->gva, why);
    if (err != VF_OK)
        return vf_fail(f, err, why);

    /* Addresses as the instruction forms them; a tag in the top byte (TBI) stays in va. */
    uint64_t base = x.mode == VF_A64_AM_LITERAL ? f->pc : base_reg(r, in->rn), off;
    if (x.mode == VF_A64_AM_REG)
        off = extend_reg(r, in->rm, x.extend, x.shift);
    else if (x.mode == VF_A64_AM_POST_REG)
        off = r->x[in->rm];
    else
        off = (uint64_t)in->imm;
    uint64_t va = (in->flags & VF_INSN_POSTINDEX) ? base : base + off;
    unsigned span = span_of(in);

    /* Cross-check with the exit: same direction, the reported address inside what we decoded. */
    uint32_t wnr = A64_ESR_WNR(f->exit_info[0]);
    if (wnr != ((in->flags & VF_INSN_WRITE) ? 1u : 0u))
        return vf_fail(f, VF_ERR_MISMATCH, "the instruction's direction disagrees with WnR");
    if ((va & PAGE_MASK) + span > PAGE_MASK + 1)
        return vf_fail(f, VF_ERR_UNSUPPORTED, "the instruction's accesses cross a page boundary");
    uint64_t ipa_off = f->ipa & PAGE_MASK;
    if (ipa_off < (va & PAGE_MASK) || ipa_off >= (va & PAGE_MASK) + span)
        return vf_fail(f, VF_ERR_MISMATCH, "the decoded address disagrees with the reported IPA");
    /* FAR bits 63:56 may be UNKNOWN for a tagged (TBI) address: compare bits 55:0, modulo 2^56. */
    if (f->arch.a64.far_valid && ((f->gva - va) & 0x00ffffffffffffffull) >= span)
        return vf_fail(f, VF_ERR_MISMATCH, "the decoded address disagrees with FAR");

    in->fixed = 1; /* exactly `count` accesses */
    f->arch.a64.el = (uint8_t)el;
    vf_memcpy(&f->arch.a64.mode, &x, sizeof(x)); /* same eight fields in the same order */
    f->arch.a64.va = va;
    f->arch.a64.base = base + off;
    return VF_OK;
}

/* a / b for small values by subtraction: 32-bit Arm cores may have no divide instruction. */
static unsigned small_div(unsigned a, unsigned b, unsigned *rem)
{
    unsigned q = 0;
    while (a >= b) {
        a -= b;
        q++;
    }
    *rem = a;
    return q;
}

/* Which vector register byte holds memory byte `mo` (< 64) of a structure instruction. */
static void struct_map(const vf_fault_t *f, unsigned mo, unsigned *reg, unsigned *byte)
{
    const vf_insn_t *in = &f->insn;
    unsigned esize = f->arch.a64.esize, selem = f->arch.a64.selem;
    unsigned b, el = small_div(mo, esize, &b);
    if (in->flags & VF_INSN_BIGENDIAN)
        b = esize - 1u - b; /* elements are stored in the data endianness */
    if (in->op == VF_A64_OP_STRUCT_MULTI) {
        unsigned unused, elems = small_div(f->arch.a64.vbytes, esize, &unused);
        unsigned s, e, rest = small_div(el, selem, &s); /* element el is structure `rest`, member s */
        unsigned rep = small_div(rest, elems, &e);        /* register row rep, element e */
        *reg = (in->rt + rep + s) & 31u;
        *byte = e * esize + b;
    } else {
        *reg = (in->rt + el) & 31u;
        *byte = (unsigned)f->arch.a64.lane * esize + b;
    }
}

/* Write data of a SIMD&FP access idx (memory order) into f->wbuf; out of line to keep GPR accesses lean. */
__attribute__((noinline)) static void fill_write_vector(vf_fault_t *f, uint32_t idx, unsigned off, unsigned n)
{
    const vf_insn_t *in = &f->insn;
    vf_aarch64_regs_t *r = regs_of(f);
    uint8_t *w = vf_wbytes(f);
    int be = (in->flags & VF_INSN_BIGENDIAN) != 0;
    unsigned rt = idx == 0 ? in->rt : in->rt2;
    if (in->op == VF_A64_OP_STRUCT_MULTI || in->op == VF_A64_OP_STRUCT_LANE) {
        for (unsigned j = 0; j < n; j++) {
            unsigned reg, byte;
            struct_map(f, off + j, &reg, &byte);
            w[j] = v_byte(&r->v[reg], byte);
        }
    } else {
        for (unsigned j = 0; j < n; j++)
            w[j] = v_byte(&r->v[rt], be ? n - 1u - j : j);
    }
}

/* Write data of access idx (memory order, little-endian bytes) into f->wbuf. */
static void fill_write(vf_fault_t *f, uint32_t idx, unsigned off, unsigned n)
{
    const vf_insn_t *in = &f->insn;
    if (in->flags & VF_INSN_FP) {
        fill_write_vector(f, idx, off, n);
    } else {
        unsigned rt = idx == 0 ? in->rt : in->rt2;
        uint64_t v = rt == A64_XZR ? 0 : regs_of(f)->x[rt];
        if (in->flags & VF_INSN_BIGENDIAN)
            v = vf_bswap(v, n);
        vf_le_store8(vf_wbytes(f), v); /* wbuf has room for 8; only n bytes are presented */
    }
}

int vf_a64_ldst_access(vf_fault_t *f, uint32_t idx)
{
    const vf_insn_t *in = &f->insn;
    if (idx >= in->count)
        return VF_END;
    unsigned off = idx * in->size;
    uint64_t va = f->arch.a64.va + off;
    f->acc.addr = (f->ipa & ~PAGE_MASK) | (va & PAGE_MASK);
    f->acc.size = in->size;
    f->acc.is_signed = (in->flags & VF_INSN_SIGNED) != 0;
    f->acc.dir = (in->flags & VF_INSN_WRITE) ? VF_DIR_WRITE : VF_DIR_READ;
    if (f->acc.dir == VF_DIR_WRITE)
        fill_write(f, idx, off, in->size);
    return VF_OK;
}

/* Loaded general-purpose register value k, extended as the instruction says. */
static uint64_t gpr_value(vf_fault_t *f, unsigned k)
{
    const vf_insn_t *in = &f->insn;
    uint64_t v = vf_le_load8(vf_rbytes(f) + k * in->size, in->size); /* k * size <= 8: inside rbuf */
    if (in->flags & VF_INSN_BIGENDIAN)
        v = vf_bswap(v, in->size);
    if (in->flags & VF_INSN_SIGNED)
        v = vf_sext(v, in->size * 8u);
    return in->dst_bytes == 4 ? v & 0xffffffffu : v;
}

/* Vector loads: build the new register values first, then store them. Out of line: its
 * stack frame would otherwise burden every general-purpose completion. */
__attribute__((noinline)) static void complete_vector(vf_fault_t *f)
{
    const vf_insn_t *in = &f->insn;
    vf_aarch64_regs_t *r = regs_of(f);
    const uint8_t *rb = vf_rbytes(f);
    vf_u128_t nv[4];
    unsigned nregs = in->op == VF_A64_OP_SINGLE || in->op == VF_A64_OP_PAIR ? in->count : f->arch.a64.nregs;
    unsigned span = span_of(in);
    int be = (in->flags & VF_INSN_BIGENDIAN) != 0;
    vf_memset(nv, 0, sizeof(nv));

    if (in->op == VF_A64_OP_SINGLE || in->op == VF_A64_OP_PAIR) {
        for (unsigned k = 0; k < in->count; k++)
            for (unsigned j = 0; j < in->size; j++)
                v_set_byte(&nv[k], be ? in->size - 1u - j : j, rb[k * in->size + j]);
        r->v[in->rt] = nv[0];
        if (in->op == VF_A64_OP_PAIR)
            r->v[in->rt2] = nv[1];
        return;
    }
    if (in->op == VF_A64_OP_STRUCT_LANE)
        for (unsigned i = 0; i < nregs; i++)
            nv[i] = r->v[(in->rt + i) & 31u]; /* the other lanes keep their values */
    if (in->op == VF_A64_OP_STRUCT_REPL) {
        unsigned esize = f->arch.a64.esize;
        for (unsigned i = 0; i < nregs; i++)
            for (unsigned b = 0; b < f->arch.a64.vbytes; b++) {
                unsigned eb = b & (esize - 1u); /* esize is a power of two */
                v_set_byte(&nv[i], b, rb[i * esize + (be ? esize - 1u - eb : eb)]);
            }
    } else {
        for (unsigned mo = 0; mo < span; mo++) {
            unsigned reg, byte;
            struct_map(f, mo, &reg, &byte);
            v_set_byte(&nv[(reg - in->rt) & 31u], byte, rb[mo]);
        }
    }
    for (unsigned i = 0; i < nregs; i++)
        r->v[(in->rt + i) & 31u] = nv[i];
}

vf_error_t vf_a64_ldst_complete(vf_fault_t *f)
{
    const vf_insn_t *in = &f->insn;
    vf_aarch64_regs_t *r = regs_of(f);
    if (!(in->flags & VF_INSN_WRITE)) {
        if (in->flags & VF_INSN_FP) {
            complete_vector(f);
        } else {
            uint64_t v0 = gpr_value(f, 0), v1 = in->count > 1 ? gpr_value(f, 1) : 0;
            if (in->rt != A64_XZR)
                r->x[in->rt] = v0;
            if (in->count > 1 && in->rt2 != A64_XZR)
                r->x[in->rt2] = v1;
        }
    }
    if (in->flags & VF_INSN_WRITEBACK) {
        if (in->rn == 31)
            *sp_of(r) = f->arch.a64.base;
        else
            r->x[in->rn] = f->arch.a64.base;
    }
    r->pc = f->pc + 4;
    return VF_OK;
}

/*
 * The common ISV = 0 case without the generic stages (the shape
 * vf_a64_isv0_fast_shape() accepts). Same result as the slow path, which
 * classifies the syndrome, then calls vf_a64_ldst_decode.
 */
vf_error_t vf_a64_capture_isv0_fast(vf_fault_t *f, const vf_arch_ops_t *ops, vf_aarch64_regs_t *regs,
                                    const vf_aarch64_exit_t *exit, const vf_host_t *host)
{
    uint64_t esr = exit->esr;
    f->ops = ops;
    f->regs = regs;
    f->host = *host;
    f->pc = regs->pc;
    f->gva = exit->far;
    f->ipa = a64_exit_ipa(exit);
    f->exit_info[0] = esr;
    f->arch.a64.far_valid = !(exit->flags & VF_AARCH64_EXIT_IPA) || exit->far != 0;
    f->state = VF_STATE_ACCESS;
    f->decoded = 0;
    f->stage = 0;
    f->off = 0;
    f->rtotal = 0;
    f->inject.kind = VF_INJECT_NONE;
    vf_error_t err = vf_a64_ldst_decode(f);
    if (err != VF_OK)
        return err;
    uint64_t ee = (regs->pstate & 0xcu) ? 1ull << 25 : 1ull << 24; /* SCTLR_EL1.EE at EL1, E0E at EL0 */
    if (regs->sctlr_el1 & ee)
        f->insn.flags |= VF_INSN_BIGENDIAN;
    f->decoded = 1;
    (void)vf_a64_ldst_access(f, 0);
    vf_engine_present_first(f);
    return VF_OK;
}
