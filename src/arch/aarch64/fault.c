/* AArch64 faults: capture from a data abort, accesses, completion. */
#include "a64.h"
#include "ldst.h"
#include "../../core/engine.h"

#define PSTATE_NRW (1u << 4)
#define SCTLR_E0E (1ull << 24)
#define SCTLR_EE (1ull << 25)

uint64_t vf_aarch64_ipa(uint64_t hpfar, uint64_t far)
{
    return a64_ipa(hpfar, far);
}

static vf_aarch64_regs_t *regs_of(vf_fault_t *f)
{
    return (vf_aarch64_regs_t *)f->regs;
}

/* Data accesses are big-endian when SCTLR_EL1.E0E (at EL0) or .EE (at EL1) says so. */
static int data_big_endian(const vf_aarch64_regs_t *r)
{
    uint32_t el = (uint32_t)(r->pstate >> 2) & 3u;
    return (r->sctlr_el1 & (el == 0 ? SCTLR_E0E : SCTLR_EE)) != 0;
}

/* Xn as a load/store's Rt reads it: register 31 is XZR. */
static uint64_t read_xzr(const vf_aarch64_regs_t *r, uint32_t n)
{
    return n == A64_XZR ? 0 : r->x[n];
}

static vf_error_t a64_decode(vf_fault_t *f)
{
    a64_syndrome_result_t r = vf_a64_decode_syndrome(f->exit_info[0], &f->insn);
    if (r.needs_insn) { /* the syndrome passed every check and only lacks the instruction */
        vf_error_t err = vf_a64_ldst_decode(f);
        if (err == VF_OK && data_big_endian(regs_of(f)))
            f->insn.flags |= VF_INSN_BIGENDIAN;
        return err;
    }
    if (r.error == VF_ERR_INJECT)
        return vf_fail_inject(f, VF_INJECT_ARM_DATA_ABORT, r.inject_dfsc, f->gva, r.why);
    if (r.error != VF_OK) {
        f->insn.flags = r.skippable ? VF_INSN_SKIPPABLE : 0;
        f->insn.length = 4;
        if (r.skippable)
            f->insn.op = VF_A64_OP_CACHE_MAINT;
        return vf_fail(f, r.error, r.why);
    }
    f->insn.fixed = 1;
    if (data_big_endian(regs_of(f)))
        f->insn.flags |= VF_INSN_BIGENDIAN;
    return VF_OK;
}

/* The one access of a syndrome-described load/store. */
static void syndrome_access(vf_fault_t *f)
{
    const vf_insn_t *in = &f->insn;
    f->acc.addr = f->ipa;
    f->acc.size = in->size;
    f->acc.is_signed = (in->flags & VF_INSN_SIGNED) != 0;
    f->acc.dir = (in->flags & VF_INSN_WRITE) ? VF_DIR_WRITE : VF_DIR_READ;
    f->acc.index = 0;
    if (f->acc.dir == VF_DIR_WRITE) {
        uint64_t v = read_xzr(regs_of(f), in->rt) & vf_bytes_mask(in->size);
        if (in->flags & VF_INSN_BIGENDIAN)
            v = vf_bswap(v, in->size);
        vf_le_store8(vf_wbytes(f), v);
    }
}

static int a64_access(vf_fault_t *f, uint32_t idx)
{
    if (f->insn.op != VF_A64_OP_SYNDROME)
        return vf_a64_ldst_access(f, idx);
    if (idx >= f->insn.count)
        return VF_END;
    syndrome_access(f);
    return VF_OK;
}

static void a64_skip(vf_fault_t *f)
{
    regs_of(f)->pc = f->pc + f->insn.length;
}

static vf_error_t a64_complete(vf_fault_t *f)
{
    const vf_insn_t *in = &f->insn;
    vf_aarch64_regs_t *r = regs_of(f);
    if (in->op != VF_A64_OP_SYNDROME)
        return vf_a64_ldst_complete(f);
    if (!(in->flags & VF_INSN_WRITE)) {
        uint64_t v = vf_le_load8(vf_rbytes(f), 8);
        unsigned unused = 64u - in->size * 8u; /* bits above the access, shifted out */
        if (in->flags & VF_INSN_BIGENDIAN)
            v = vf_bswap(v, in->size);
        v = (v << unused) >> unused;
        if (in->flags & VF_INSN_SIGNED) { /* the sign bit m extends upwards */
            uint64_t m = (uint64_t)1 << (63u - unused);
            v = (v ^ m) - m;
        }
        if (in->dst_bytes == 4)
            v &= 0xffffffffu;
        if (in->rt != A64_XZR)
            r->x[in->rt] = v;
    }
    r->pc = f->pc + in->length;
    return VF_OK;
}

static const vf_arch_ops_t a64_ops = {a64_decode, a64_access, a64_complete, a64_skip};

/*
 * ESR bits that must read EC 0x24, IL, ISV and no VNCR/LST/FnV/EA/CM/S1PTW for
 * the fast path; with an emulable DFSC and a valid ISV table entry the fault is
 * an ordinary single load/store (the common case, kept short).
 */
#define FAST_MASK 0xff003f80ull
#define FAST_VALUE 0x93000000ull

static int capture_fast(vf_fault_t *f, vf_aarch64_regs_t *regs, const vf_aarch64_exit_t *exit)
{
    uint64_t esr = exit->esr;
    const vf_insn_t *form = &vf_a64_isv_forms[A64_ISV_INDEX(esr)];
    if ((esr & FAST_MASK) != FAST_VALUE || !((ARM_DABT_EMULABLE_DFSC >> A64_ESR_DFSC(esr)) & 1u) ||
        form->size == 0 || (regs->pstate & PSTATE_NRW) || (f->split != 0 && form->size > f->split))
        return 0;
    f->ops = &a64_ops;
    f->regs = regs;
    f->pc = regs->pc;
    f->ipa = a64_exit_ipa(exit);
    /*
     * Only what is read later is set: host, gva and exit_info serve decoding (done here),
     * error, message and inject only VF_STATE_ERROR (this fault cannot fail any more).
     */
    f->state = VF_STATE_ACCESS;
    f->decoded = 1;
    vf_a64_insn_from_isv(&f->insn, form, esr);
    if (data_big_endian(regs))
        f->insn.flags |= VF_INSN_BIGENDIAN;
    syndrome_access(f);
    vf_engine_present_first(f);
    return 1;
}

/* The generic capture; out of line so the fast paths save no registers. */
__attribute__((noinline)) static vf_error_t capture_slow(vf_fault_t *f, vf_aarch64_regs_t *regs,
                                                       const vf_aarch64_exit_t *exit, const vf_host_t *host)
{
    vf_engine_begin(f, &a64_ops, regs, host);
    f->pc = regs->pc;
    f->gva = exit->far;
    f->ipa = a64_exit_ipa(exit);
    f->exit_info[0] = exit->esr;
    /* FnV = 0: FAR is valid; a host reporting only the IPA may leave it 0. */
    f->arch.a64.far_valid = !A64_ESR_FNV(exit->esr) && (!(exit->flags & VF_AARCH64_EXIT_IPA) || exit->far != 0);
    if (regs->pstate & PSTATE_NRW)
        return vf_fail(f, VF_ERR_INVALID, "PSTATE says AArch32: capture with the AArch32 interface");
    return vf_fault_decode(f);
}

vf_error_t vf_aarch64_capture(vf_fault_t *f, vf_aarch64_regs_t *regs,
                              const vf_aarch64_exit_t *exit, const vf_host_t *host)
{
    if (capture_fast(f, regs, exit))
        return VF_OK;
    if (vf_a64_isv0_fast_shape(regs, exit, host))
        return vf_a64_capture_isv0_fast(f, &a64_ops, regs, exit, host);
    return capture_slow(f, regs, exit, host);
}
