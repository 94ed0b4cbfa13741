/* AArch32 data abort syndromes (HSR, or ESR_EL2 for an AArch32 guest) with ISV = 1. */
#include "a32.h"

/*
 * ESR_EL2.SRT names the AArch64 view of the AArch32 registers (ARMv8 ARM
 * "Mapping of the general-purpose registers between the Execution states"):
 * X0-X14 are R0-R14 of User mode, X15 SP_hyp, X16/X17 LR/SP_irq, X18/X19
 * LR/SP_svc, X20/X21 LR/SP_abt, X22/X23 LR/SP_und, X24-X28 R8-R12_fiq,
 * X29/X30 SP/LR_fiq. Each entry: the mode that sees it as which register.
 */
typedef struct a32_view {
    uint8_t mode; /* 0: User-mode bank, visible unless banked away */
    uint8_t reg;
} a32_view_t;

static const a32_view_t esr_view[32] = {
    {0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {0, 6}, {0, 7},
    {0, 8}, {0, 9}, {0, 10}, {0, 11}, {0, 12}, {0, 13}, {0, 14},
    {0xff, 0}, /* SP_hyp */
    {A32_MODE_IRQ, 14}, {A32_MODE_IRQ, 13}, {A32_MODE_SVC, 14}, {A32_MODE_SVC, 13},
    {A32_MODE_ABT, 14}, {A32_MODE_ABT, 13}, {A32_MODE_UND, 14}, {A32_MODE_UND, 13},
    {A32_MODE_FIQ, 8}, {A32_MODE_FIQ, 9}, {A32_MODE_FIQ, 10}, {A32_MODE_FIQ, 11},
    {A32_MODE_FIQ, 12}, {A32_MODE_FIQ, 13}, {A32_MODE_FIQ, 14},
    {0xff, 0},
};

/* The current mode's register number for an ESR_EL2 SRT, or -1 if another mode's bank. */
static int srt_current(uint32_t srt, uint32_t mode)
{
    const a32_view_t *v = &esr_view[srt & 31u];
    if (v->mode == 0) {
        if (v->reg < 8)
            return v->reg;
        if (v->reg < 13)
            return mode == A32_MODE_FIQ ? -1 : v->reg;
        return mode == A32_MODE_USR || mode == A32_MODE_SYS ? v->reg : -1;
    }
    return v->mode == mode ? v->reg : -1;
}

vf_error_t vf_a32_decode_syndrome(uint32_t hsr, int thumb, int esr_view_on, uint32_t mode,
                                  vf_insn_t *in, const char **why)
{
    uint32_t srt = A32_HSR_SRT(hsr);
    int rt = (int)srt;

    if (!ARM_DABT_IL(hsr) && !thumb) {
        *why = "IL = 0 (16-bit instruction) reported in ARM state";
        return VF_ERR_INVALID;
    }
    if (a32_syndrome_impossible(hsr)) {
        *why = "syndrome no AArch32 instruction produces (doubleword, signed store or signed word)";
        return VF_ERR_UNDEFINED;
    }
    if (esr_view_on)
        rt = srt_current(srt, mode);
    else if (srt > 15)
        rt = -1;
    if (rt < 0) {
        *why = "SRT names a register of another mode's bank";
        return VF_ERR_UNSUPPORTED;
    }
    a32_insn_from_syndrome(in, hsr, (uint32_t)rt);
    return VF_OK;
}

int vf_a32_condition_passed(uint32_t cond, uint32_t cpsr)
{
    uint32_t n = (cpsr >> 31) & 1u, z = (cpsr >> 30) & 1u, c = (cpsr >> 29) & 1u, v = (cpsr >> 28) & 1u;
    int r;
    switch ((cond >> 1) & 7u) {
    case 0: r = z == 1; break;             /* EQ/NE */
    case 1: r = c == 1; break;             /* CS/CC */
    case 2: r = n == 1; break;             /* MI/PL */
    case 3: r = v == 1; break;             /* VS/VC */
    case 4: r = c == 1 && z == 0; break;   /* HI/LS */
    case 5: r = n == v; break;             /* GE/LT */
    case 6: r = n == v && z == 0; break;   /* GT/LE */
    default: return 1;                     /* AL (and 0b1111) */
    }
    return (cond & 1u) ? !r : r;
}
