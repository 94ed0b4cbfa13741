/* AArch64 data abort syndromes (ESR_EL2 with EC 0x24), ISV = 1 decoding. */
#include "a64.h"

static a64_syndrome_result_t result(vf_error_t error, const char *why)
{
    a64_syndrome_result_t r = {error, 0, 0, why};
    return r;
}

/* Translation (levels -1..3), access flag and permission faults: what stage 2 reports for MMIO. */
static int dfsc_is_emulable(uint32_t dfsc)
{
    uint32_t group = dfsc & 0x3cu;
    return group == 0x04u || group == 0x08u || group == 0x0cu || dfsc == 0x2bu;
}

/* Fault status checks that come before any decoding. */
static a64_syndrome_result_t classify(uint64_t esr)
{
    uint32_t dfsc = A64_ESR_DFSC(esr);
    a64_syndrome_result_t r = result(VF_OK, "");

    if (A64_ESR_EC(esr) != A64_EC_DABT_LOWER)
        return result(VF_ERR_NOT_MMIO, "not a data abort from a lower exception level (EC != 0x24)");
    if (dfsc == A64_DFSC_ALIGNMENT || dfsc == A64_DFSC_EXCL_ATOMIC) {
        r = result(VF_ERR_INJECT, dfsc == A64_DFSC_ALIGNMENT
                                      ? "alignment fault: inject a data abort"
                                      : "exclusive or atomic access to device memory: inject a data abort");
        r.inject_dfsc = dfsc;
        return r;
    }
    if (!dfsc_is_emulable(dfsc) || A64_ESR_EA(esr))
        return result(VF_ERR_NOT_MMIO, "not a translation, access flag or permission fault");
    if (A64_ESR_S1PTW(esr))
        return result(VF_ERR_NOT_MMIO, "stage-1 page-table walk faulted (S1PTW): not the instruction's access");
    if (A64_ESR_CM(esr)) {
        r = result(VF_ERR_NOT_MMIO, "cache maintenance on device memory (CM): skip the instruction");
        r.skippable = 1;
        return r;
    }
    if (A64_ESR_VNCR(esr))
        return result(VF_ERR_UNSUPPORTED, "VNCR_EL2 register access (VNCR)");
    if (A64_ESR_LST(esr) != 0)
        return result(VF_ERR_UNSUPPORTED, "FEAT_LS64 64-byte single-copy atomic access (LST)");
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
