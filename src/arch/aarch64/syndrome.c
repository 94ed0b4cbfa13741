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
 * The (SAS, SSE, SF, WnR) combinations real instructions produce: LDRB/LDRH/LDR
 * into W (SF = 0), LDR/STR of X (SAS = 3, SF = 1), LDRSB/LDRSH into W or X,
 * LDRSW (SAS = 2, SF = 1), STRB/STRH/STR of W. Anything else is no instruction.
 */
static const char *check_isv_fields(uint32_t sas, uint32_t sse, uint32_t sf, uint32_t wnr)
{
    if (sse && wnr)
        return "sign extension on a store (SSE with WnR)";
    if (sse && sas == 3)
        return "sign extension of a doubleword (SSE with SAS = 3)";
    if (sse && sas == 2 && !sf)
        return "word sign-extended into a W register (SSE, SAS = 2, SF = 0)";
    if (!sse && sas == 3 && !sf)
        return "doubleword access to a W register (SAS = 3, SF = 0)";
    if (!sse && sas != 3 && sf)
        return "X register with a narrower access but no sign extension (SF = 1, SAS < 3, SSE = 0)";
    return NULL;
}

a64_syndrome_result_t vf_a64_decode_syndrome(uint64_t esr, vf_insn_t *insn)
{
    a64_syndrome_result_t r = classify(esr);
    if (r.error != VF_OK)
        return r;
    if (!A64_ESR_ISV(esr))
        return result(VF_ERR_UNSUPPORTED, "no instruction syndrome (ISV = 0): instruction decoding is not implemented yet");
    if (!A64_ESR_IL(esr))
        return result(VF_ERR_INVALID, "IL = 0 reported for an A64 instruction");

    uint32_t sas = A64_ESR_SAS(esr), sse = A64_ESR_SSE(esr), sf = A64_ESR_SF(esr);
    uint32_t wnr = A64_ESR_WNR(esr);
    const char *bad = check_isv_fields(sas, sse, sf, wnr);
    if (bad != NULL)
        return result(VF_ERR_UNDEFINED, bad);

    insn->op = VF_A64_OP_SYNDROME;
    insn->length = 4;
    insn->size = (uint8_t)(1u << sas);
    insn->count = 1;
    insn->flags = (uint8_t)((sse ? VF_INSN_SIGNED : 0u) | (wnr ? VF_INSN_WRITE : 0u) |
                            (A64_ESR_AR(esr) ? VF_INSN_ACQREL : 0u));
    insn->dst_bytes = sf ? 8 : 4;
    insn->rt = (uint8_t)A64_ESR_SRT(esr);
    return r;
}
