/* AArch64 data abort syndromes (ESR_EL2 with EC 0x24), ISV = 1 decoding. */
#include "a64.h"
#include "../arm/dabt.h"

static a64_syndrome_result_t result(vf_error_t error, const char *why)
{
    a64_syndrome_result_t r = {error, 0, 0, why};
    return r;
}

/* Fault status checks that come before any decoding: shared with AArch32 (src/arch/arm/dabt.c). */
static a64_syndrome_result_t classify(uint64_t esr)
{
    arm_dabt_class_t c = vf_arm_dabt_classify(esr);
    a64_syndrome_result_t r = {c.error, c.inject_dfsc, c.skippable, c.why};
    return r;
}

/*
 * What a syndrome with ISV = 1 describes, indexed by A64_ISV_INDEX(esr), with
 * Rt and AR still to fill in. Only the combinations real instructions produce
 * are present: LDRB/LDRH/LDR into W (SF = 0), LDR/STR of X (SAS = 3, SF = 1),
 * LDRSB/LDRSH into W or X, LDRSW (SAS = 2, SF = 1), STRB/STRH/STR of W.
 * Size 0: no instruction.
 */
#define FORM(sz, dst, fl)                                                                        \
    {.op = VF_A64_OP_SYNDROME, .length = 4, .size = sz, .count = 1, .flags = fl, .dst_bytes = dst, \
     .rt2 = 0xff, .rn = 0xff, .rm = 0xff, .fixed = 1}
#define IDX(sas, sse, sf, wnr) (((sas) << 3) | ((sse) << 2) | ((sf) << 1) | (wnr))
const vf_insn_t vf_a64_isv_forms[32] = {
    [IDX(0, 0, 0, 0)] = FORM(1, 4, 0), [IDX(1, 0, 0, 0)] = FORM(2, 4, 0),
    [IDX(2, 0, 0, 0)] = FORM(4, 4, 0), [IDX(3, 0, 1, 0)] = FORM(8, 8, 0),
    [IDX(0, 1, 0, 0)] = FORM(1, 4, VF_INSN_SIGNED), [IDX(0, 1, 1, 0)] = FORM(1, 8, VF_INSN_SIGNED),
    [IDX(1, 1, 0, 0)] = FORM(2, 4, VF_INSN_SIGNED), [IDX(1, 1, 1, 0)] = FORM(2, 8, VF_INSN_SIGNED),
    [IDX(2, 1, 1, 0)] = FORM(4, 8, VF_INSN_SIGNED),
    [IDX(0, 0, 0, 1)] = FORM(1, 4, VF_INSN_WRITE), [IDX(1, 0, 0, 1)] = FORM(2, 4, VF_INSN_WRITE),
    [IDX(2, 0, 0, 1)] = FORM(4, 4, VF_INSN_WRITE), [IDX(3, 0, 1, 1)] = FORM(8, 8, VF_INSN_WRITE),
};

a64_syndrome_result_t vf_a64_decode_syndrome(uint64_t esr, vf_insn_t *insn)
{
    a64_syndrome_result_t r = classify(esr);
    if (r.error != VF_OK)
        return r;
    if (!A64_ESR_ISV(esr))
        return result(VF_ERR_UNSUPPORTED, "no instruction syndrome (ISV = 0): instruction decoding is not implemented yet");
    if (!A64_ESR_IL(esr))
        return result(VF_ERR_INVALID, "IL = 0 reported for an A64 instruction");

    const vf_insn_t *form = &vf_a64_isv_forms[A64_ISV_INDEX(esr)];
    if (form->size == 0)
        return result(VF_ERR_UNDEFINED, "no load/store has this SAS/SSE/SF/WnR combination");
    vf_a64_insn_from_isv(insn, form, esr);
    return r;
}
