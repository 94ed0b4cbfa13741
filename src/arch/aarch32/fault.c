/*
 * AArch32 faults: capture from a data abort, instruction fetch and decode
 * when there is no syndrome, address computation and cross-check, accesses,
 * completion (loads, writeback, interworking loads of PC, PC step, ITAdvance).
 */
#include "a32.h"
#include "../../core/engine.h"

uint64_t vf_aarch32_ipa(uint32_t hpfar, uint32_t hdfar)
{
    return (uint64_t)(hpfar >> 4) << 12 | (hdfar & 0xfffu);
}

/* The IPA of an exit: given directly, or HPFAR's page with HDFAR's offset. */
static inline uint64_t a32_exit_ipa(const vf_aarch32_exit_t *exit)
{
    return (exit->flags & VF_AARCH32_EXIT_IPA) ? exit->ipa : vf_aarch32_ipa(exit->hpfar, exit->hdfar);
}

static vf_aarch32_regs_t *regs_of(vf_fault_t *f)
{
    return (vf_aarch32_regs_t *)f->regs;
}

/* ITSTATE: IT[7:2] in CPSR[15:10], IT[1:0] in CPSR[26:25]. */
#define A32_CPSR_IT 0x0600fc00u
static uint32_t it_of(uint32_t cpsr)
{
    return ((cpsr >> 8) & 0xfcu) | ((cpsr >> 25) & 3u);
}

/* ITAdvance: the next instruction's condition, or the end of the block. */
static uint32_t cpsr_it_advance(uint32_t cpsr)
{
    uint32_t it = it_of(cpsr);
    it = (it & 7u) == 0 ? 0 : (it & 0xe0u) | ((it << 1) & 0x1fu);
    return (cpsr & ~A32_CPSR_IT) | (it & 0xfcu) << 8 | (it & 3u) << 25;
}

/* Rn as an address operand: PC reads PC+8 in A32, Align(PC, 4) + 4 in Thumb (literal loads). */
static uint32_t base_value(const vf_aarch32_regs_t *r, uint32_t n, int thumb)
{
    if (n != A32_PC)
        return r->r[n];
    return thumb ? (r->r[15] + 4u) & ~3u : r->r[15] + 8u;
}

/* Rt as stored: STR/STM of PC store PC+8 (A32). */
static uint32_t store_value(const vf_aarch32_regs_t *r, uint32_t t, int thumb)
{
    return t == A32_PC ? r->r[15] + (thumb ? 4u : 8u) : r->r[t];
}

/* Shift_C(Rm, DecodeImmShift(type, imm5)) for a scaled register offset. */
static uint32_t shifted(uint32_t v, uint32_t aux, uint32_t cpsr)
{
    uint32_t n = aux & 31u;
    switch ((aux >> 5) & 3u) {
    case A32_SHIFT_LSL:
        return v << n;
    case A32_SHIFT_LSR:
        return n == 0 ? 0 : v >> n;
    case A32_SHIFT_ASR:
        if (n == 0)
            n = 31; /* ASR #32 gives the sign in every bit, like ASR #31 */
        return (v & 0x80000000u) ? ~(~v >> n) : v >> n;
    default:
        if (n == 0) /* RRX */
            return ((cpsr & A32_CPSR_C) ? 0x80000000u : 0u) | v >> 1;
        return v >> n | v << (32u - n);
    }
}

/* Register of access idx: Rt, Rt2, or the idx-th register of the list. */
static uint32_t access_reg(const vf_insn_t *in, uint32_t idx)
{
    if (in->op != VF_A32_OP_MULTI)
        return idx == 0 ? in->rt : in->rt2;
    uint32_t list = in->reglist;
    for (; idx > 0; idx--)
        list &= list - 1u;
    uint32_t reg = 0;
    while (reg < 15 && !(list & (1u << reg)))
        reg++;
    return reg;
}

static int loads_pc(const vf_insn_t *in)
{
    if (in->flags & VF_INSN_WRITE)
        return 0;
    return in->op == VF_A32_OP_MULTI ? (int)((in->reglist >> 15) & 1u) : in->rt == A32_PC;
}

static vf_error_t fetch16(vf_fault_t *f, const vf_aarch32_regs_t *r, uint32_t va, uint32_t *hw,
                          const char **why)
{
    uint64_t pa = va;
    uint8_t b[2];
    int flat = f->host.read_phys != NULL && ((f->host.flags & VF_HOST_IDENTITY) || !(r->sctlr & A32_SCTLR_M));
    if (!flat) { /* no walk to make when VA = PA: skip the call */
        vf_error_t e = vf_a32_translate(&f->host, r, va, &pa, why);
        if (e != VF_OK)
            return e;
    }
    if (f->host.read_phys(f->host.ctx, pa, b, 2) != 0) {
        *why = "instruction is not in guest memory";
        return VF_ERR_FETCH;
    }
    *hw = (uint32_t)b[0] | (uint32_t)b[1] << 8;
    return VF_OK;
}

/* Fetch the instruction at the PC (instructions are little-endian) and decode it. */
static vf_error_t fetch_decode(vf_fault_t *f, const vf_aarch32_regs_t *r, int thumb, const char **why)
{
    uint32_t pc = r->r[15], lo, hi = 0;
    vf_error_t e;
    if (pc & (thumb ? 1u : 3u)) {
        *why = "PC is not aligned to the instruction set";
        return VF_ERR_INVALID;
    }
    if ((e = fetch16(f, r, pc, &lo, why)) != VF_OK)
        return e;
    if (thumb && !vf_a32_is_t32(lo)) {
        f->arch.a32.word = lo;
        return vf_a32_decode_t16(lo, &f->insn, why);
    }
    if ((e = fetch16(f, r, pc + 2u, &hi, why)) != VF_OK)
        return e;
    if (thumb) {
        f->arch.a32.word = lo << 16 | hi;
        return vf_a32_decode_t32(lo, hi, &f->insn, why);
    }
    f->arch.a32.word = hi << 16 | lo;
    return vf_a32_decode_arm(hi << 16 | lo, &f->insn, why);
}

/* What depends on state: the condition (A32 cond field or Thumb IT), PC loads inside IT blocks. */
static vf_error_t check_state(vf_fault_t *f, const vf_aarch32_regs_t *r, int thumb, const char **why)
{
    uint32_t it = it_of(r->cpsr);
    uint32_t cond = thumb ? ((it & 0xfu) != 0 ? it >> 4 : 0xeu) : f->arch.a32.word >> 28;
    if (cond != 0xeu && !vf_a32_condition_passed(cond, r->cpsr)) {
        *why = "condition fails: the instruction makes no access and could not have trapped";
        return VF_ERR_MISMATCH;
    }
    if (thumb && loads_pc(&f->insn) && (it & 0xfu) != 0 && (it & 0xfu) != 8u) {
        *why = "load into PC inside an IT block but not its last instruction";
        return VF_ERR_UNDEFINED;
    }
    return VF_OK;
}

/*
 * Virtual address of the first access and the writeback value; the access
 * the hardware reported must be one of the instruction's (page offset, and
 * HDFAR when known), in the same direction; alignment as the CPU checks it.
 */
static vf_error_t locate(vf_fault_t *f, const vf_aarch32_regs_t *r, int thumb, const char **why)
{
    vf_insn_t *in = &f->insn;
    uint32_t base = base_value(r, in->rn, thumb), addr, wb;
    if (in->op == VF_A32_OP_MULTI) {
        uint32_t span = 4u * in->count;
        addr = base + (uint32_t)in->imm;
        wb = (in->aux & A32_AUX_SUB) ? base - span : base + span;
    } else {
        uint32_t off = (uint32_t)in->imm;
        if (in->rm != VF_A32_NO_REG) {
            off = shifted(r->r[in->rm], in->aux, r->cpsr);
            if (in->aux & A32_AUX_SUB)
                off = 0u - off;
        }
        wb = base + off;
        addr = (in->flags & VF_INSN_POSTINDEX) ? base : wb;
    }
    uint32_t word_aligned = in->op == VF_A32_OP_MULTI || in->op == VF_A32_OP_DUAL;
    uint32_t align = word_aligned ? 4u : (r->sctlr & A32_SCTLR_A) ? in->size : 1u;
    if (addr & (align - 1u)) {
        *why = "unaligned LDM/STM/LDRD/STRD, or unaligned access with SCTLR.A set: alignment fault";
        return VF_ERR_INJECT;
    }
    uint32_t last = addr + (uint32_t)in->size * (in->count - 1u);
    if (((addr ^ last) >> 12) != 0) {
        *why = "the instruction's accesses span two pages";
        return VF_ERR_UNSUPPORTED;
    }
    int far_known = !(f->exit_info[1] & VF_AARCH32_EXIT_IPA) || f->gva != 0;
    uint32_t k;
    for (k = 0; k < in->count; k++) {
        uint32_t va = addr + (uint32_t)in->size * k;
        if ((va & 0xfffu) == (f->ipa & 0xfffu) && (!far_known || va == (uint32_t)f->gva))
            break;
    }
    if (k == in->count || f->ipa < (uint64_t)in->size * k) {
        *why = "decoded address disagrees with the reported fault address";
        return VF_ERR_MISMATCH;
    }
    if (ARM_DABT_WNR(f->exit_info[0]) != ((in->flags & VF_INSN_WRITE) != 0)) {
        *why = "decoded direction disagrees with the reported WnR";
        return VF_ERR_MISMATCH;
    }
    f->arch.a32.va = addr;
    f->arch.a32.wb = wb;
    f->arch.a32.ipa = f->ipa - (uint64_t)in->size * k;
    return VF_OK;
}

static vf_error_t a32_decode(vf_fault_t *f)
{
    vf_aarch32_regs_t *r = regs_of(f);
    uint32_t hsr = (uint32_t)f->exit_info[0];
    int thumb = (r->cpsr & A32_CPSR_T) != 0;
    const char *why = "";
    vf_error_t e;

    f->arch.a32.thumb = (uint8_t)thumb;
    f->insn.length = 4; /* cache maintenance (MCR) is 32 bits in both instruction sets */
    arm_dabt_class_t c = vf_arm_dabt_classify(hsr);
    if (c.error == VF_ERR_INJECT)
        return vf_fail_inject(f, VF_INJECT_ARM_DATA_ABORT, c.inject_dfsc, f->gva, c.why);
    if (c.error != VF_OK) {
        if (c.skippable) {
            f->insn.flags = VF_INSN_SKIPPABLE;
            f->insn.op = VF_A32_OP_CACHE_MAINT;
        }
        return vf_fail(f, c.error, c.why);
    }
    if (ARM_DABT_ISV(hsr)) {
        e = vf_a32_decode_syndrome(hsr, thumb, (f->exit_info[1] & VF_AARCH32_EXIT_ESR_EL2) != 0,
                                   r->cpsr & A32_MODE_MASK, &f->insn, &why);
        f->arch.a32.va = (uint32_t)f->gva;
        f->arch.a32.ipa = f->ipa;
    } else {
        e = fetch_decode(f, r, thumb, &why);
        if (e == VF_ERR_INJECT) /* the decoders inject only for exclusives and swaps */
            return vf_fail_inject(f, VF_INJECT_ARM_DATA_ABORT, ARM_DFSC_EXCL_ATOMIC, f->gva, why);
        if (e == VF_OK)
            e = check_state(f, r, thumb, &why);
        if (e == VF_OK)
            e = locate(f, r, thumb, &why);
        if (e == VF_ERR_INJECT) /* locate injects only alignment faults */
            return vf_fail_inject(f, VF_INJECT_ARM_DATA_ABORT, ARM_DFSC_ALIGNMENT, f->gva, why);
    }
    if (e != VF_OK)
        return vf_fail(f, e, why);
    if (r->cpsr & A32_CPSR_E)
        f->insn.flags |= VF_INSN_BIGENDIAN;
    f->insn.fixed = 1; /* every A32/T32 form makes exactly `count` accesses */
    return VF_OK;
}

static int a32_access(vf_fault_t *f, uint32_t idx)
{
    const vf_insn_t *in = &f->insn;
    if (idx >= in->count)
        return VF_END;
    f->acc.addr = f->arch.a32.ipa + (uint64_t)in->size * idx;
    f->acc.size = in->size;
    f->acc.is_signed = (in->flags & VF_INSN_SIGNED) != 0;
    f->acc.dir = (in->flags & VF_INSN_WRITE) ? VF_DIR_WRITE : VF_DIR_READ;
    if (f->acc.dir == VF_DIR_WRITE) {
        uint64_t v = store_value(regs_of(f), access_reg(in, idx), f->arch.a32.thumb) & vf_bytes_mask(in->size);
        if (in->flags & VF_INSN_BIGENDIAN)
            v = vf_bswap(v, in->size);
        vf_le_store8(vf_wbytes(f), v); /* wbuf has room for 8; only size bytes are presented */
    }
    return VF_OK;
}

static void a32_skip(vf_fault_t *f)
{
    vf_aarch32_regs_t *r = regs_of(f);
    r->r[15] = (uint32_t)f->pc + f->insn.length;
    if (r->cpsr & A32_CPSR_T)
        r->cpsr = cpsr_it_advance(r->cpsr);
}

/* Loaded value of access idx: byte order, then sign or zero extension to 32 bits. */
static uint32_t loaded(vf_fault_t *f, uint32_t idx)
{
    const vf_insn_t *in = &f->insn;
    uint32_t v = (uint32_t)vf_rbuf_load(f, in->size * idx, in->size);
    if (in->flags & VF_INSN_BIGENDIAN)
        v = (uint32_t)vf_bswap(v, in->size);
    if (in->flags & VF_INSN_SIGNED)
        v = (uint32_t)vf_sext(v, in->size * 8u);
    return v;
}

static vf_error_t a32_complete(vf_fault_t *f)
{
    const vf_insn_t *in = &f->insn;
    vf_aarch32_regs_t *r = regs_of(f);
    uint32_t cpsr = r->cpsr, pc = (uint32_t)f->pc + in->length;
    int load = !(in->flags & VF_INSN_WRITE);

    /* A load into PC (always the last access) is checked before anything is written. */
    if (load && loads_pc(in)) {
        /* LoadWritePC = BXWritePC: bit 0 selects Thumb; 0b10 in the low bits is UNPREDICTABLE. */
        uint32_t v = loaded(f, in->count - 1u);
        if (v & 1u) {
            cpsr |= A32_CPSR_T;
            pc = v & ~1u;
        } else if ((v & 2u) == 0) {
            cpsr &= ~A32_CPSR_T;
            pc = v;
        } else {
            return vf_fail(f, VF_ERR_UNDEFINED, "loaded PC value is neither Thumb nor word-aligned ARM");
        }
    }
    if (in->flags & VF_INSN_WRITEBACK)
        r->r[in->rn] = f->arch.a32.wb;
    if (load && in->op != VF_A32_OP_MULTI) { /* Rt, and Rt2 of LDRD: no list to walk */
        if (in->rt != A32_PC)
            r->r[in->rt] = loaded(f, 0);
        if (in->count > 1 && in->rt2 != A32_PC)
            r->r[in->rt2] = loaded(f, 1);
    } else if (load) {
        for (uint32_t idx = 0; idx < in->count; idx++) {
            uint32_t t = access_reg(in, idx);
            if (t != A32_PC)
                r->r[t] = loaded(f, idx);
        }
    }
    if ((r->cpsr & A32_CPSR_T) && (cpsr & A32_CPSR_IT) != 0) /* outside an IT block there is nothing to advance */
        cpsr = cpsr_it_advance(cpsr);
    r->r[15] = pc;
    r->cpsr = cpsr;
    return VF_OK;
}

static const vf_arch_ops_t a32_ops = {a32_decode, a32_access, a32_complete, a32_skip};

/*
 * HSR bits for the fast paths: EC 0x24, ISV as given, and none of
 * VNCR/LST/FnV/EA/CM/S1PTW (IL is checked apart: Thumb may report 0).
 */
#define FAST_MASK 0xfd003f80u
#define FAST_ISV0 0x90000000u
#define FAST_ISV1 0x91000000u

/* The first access made current after a one-step capture, as the engine's start_access() does. */
static void present_first_access(vf_fault_t *f)
{
    (void)a32_access(f, 0);
    vf_engine_present_first(f);
}

/*
 * The common ISV = 1 fault in one step, with the same result as the generic
 * path (classify, vf_a32_decode_syndrome, first access); 0 when the fault is
 * not of this shape. Only what is read later is set: host, gva and exit_info
 * serve decoding, error/message/inject only VF_STATE_ERROR.
 */
static int capture_isv1_fast(vf_fault_t *f, vf_aarch32_regs_t *regs, const vf_aarch32_exit_t *exit)
{
    uint32_t hsr = exit->hsr, cpsr = regs->cpsr;
    uint32_t thumb = (cpsr & A32_CPSR_T) != 0;
    uint32_t rt = A32_HSR_SRT(hsr);
    uint32_t visible = (exit->flags & VF_AARCH32_EXIT_ESR_EL2) ? 7u : 15u; /* registers no mode banks */
    if ((hsr & FAST_MASK) != FAST_ISV1 || !((ARM_DABT_EMULABLE_DFSC >> ARM_DABT_DFSC(hsr)) & 1u) ||
        (cpsr & A32_CPSR_J) || !(ARM_DABT_IL(hsr) || thumb) || a32_syndrome_impossible(hsr) ||
        rt > visible || (f->split != 0 && (1u << ARM_DABT_SAS(hsr)) > f->split))
        return 0;
    f->ops = &a32_ops;
    f->regs = regs;
    f->pc = regs->r[15];
    f->ipa = a32_exit_ipa(exit);
    f->state = VF_STATE_ACCESS;
    f->decoded = 1;
    a32_insn_from_syndrome(&f->insn, hsr, rt);
    if (cpsr & A32_CPSR_E)
        f->insn.flags |= VF_INSN_BIGENDIAN;
    f->arch.a32.thumb = (uint8_t)thumb;
    f->arch.a32.va = exit->hdfar;
    f->arch.a32.ipa = f->ipa;
    present_first_access(f);
    return 1;
}

/* The ISV = 0 faults capture_isv0_fast() takes: a plain MMIO syndrome, guest memory to fetch from. */
static int isv0_fast_shape(const vf_aarch32_regs_t *regs, const vf_aarch32_exit_t *exit, const vf_host_t *host)
{
    return (exit->hsr & FAST_MASK) == FAST_ISV0 && ((ARM_DABT_EMULABLE_DFSC >> ARM_DABT_DFSC(exit->hsr)) & 1u) &&
           !(regs->cpsr & A32_CPSR_J) && host != NULL && host->read_phys != NULL;
}

/*
 * capture_slow() for that shape without the engine's generic stages: the same
 * fields, a32_decode() (which fails through vf_fail) and the first access
 * (locate() guarantees there is one, of 1, 2 or 4 bytes).
 */
static vf_error_t capture_isv0_fast(vf_fault_t *f, vf_aarch32_regs_t *regs, const vf_aarch32_exit_t *exit,
                                    const vf_host_t *host)
{
    f->ops = &a32_ops;
    f->regs = regs;
    f->host = *host;
    f->pc = regs->r[15];
    f->gva = exit->hdfar;
    f->ipa = a32_exit_ipa(exit);
    f->exit_info[0] = exit->hsr;
    f->exit_info[1] = exit->flags;
    f->state = VF_STATE_ACCESS;
    f->decoded = 0;
    f->stage = 0;
    f->off = 0;
    f->rtotal = 0;
    vf_memset(&f->insn, 0, sizeof(f->insn)); /* the decoders fill in what they use over zeroes */
    vf_error_t err = a32_decode(f);
    if (err != VF_OK)
        return err;
    f->decoded = 1;
    present_first_access(f);
    return VF_OK;
}

/* The generic capture; out of line so the fast paths save no registers. */
__attribute__((noinline)) static vf_error_t capture_slow(vf_fault_t *f, vf_aarch32_regs_t *regs,
                                                       const vf_aarch32_exit_t *exit, const vf_host_t *host)
{
    vf_engine_begin(f, &a32_ops, regs, host);
    f->pc = regs->r[15];
    f->gva = exit->hdfar;
    f->ipa = a32_exit_ipa(exit);
    f->exit_info[0] = exit->hsr;
    f->exit_info[1] = exit->flags;
    if (regs->cpsr & A32_CPSR_J)
        return vf_fail(f, VF_ERR_UNSUPPORTED, "Jazelle or ThumbEE state");
    return vf_fault_decode(f);
}

vf_error_t vf_aarch32_capture(vf_fault_t *f, vf_aarch32_regs_t *regs,
                              const vf_aarch32_exit_t *exit, const vf_host_t *host)
{
    if (capture_isv1_fast(f, regs, exit))
        return VF_OK;
    if (isv0_fast_shape(regs, exit, host))
        return capture_isv0_fast(f, regs, exit, host);
    return capture_slow(f, regs, exit, host);
}
