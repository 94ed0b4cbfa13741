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

/* Sizes, signedness and register width the syndrome can legally combine. */
static const char *check_isv_fields(uint32_t sas, uint32_t sse, uint32_t sf, uint32_t wnr)
{
    if (sse && wnr)
        return "sign extension on a store (SSE with WnR)";
    if (sse && sas == 3)
        return "sign extension of a doubleword (SSE with SAS = 3)";
    if (sse && sas == 2 && !sf)
        return "word sign-extended into a W register (SSE, SAS = 2, SF = 0)";
    if (sas == 3 && !sf)
        return "doubleword access to a W register (SAS = 3, SF = 0)";
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
