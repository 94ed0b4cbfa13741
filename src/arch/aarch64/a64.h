/* Internal: AArch64 decoders and their shared definitions. */
#ifndef VF_ARCH_AARCH64_A64_H
#define VF_ARCH_AARCH64_A64_H

#include <vcpufault/aarch64.h>

/* ESR_EL2 fields of a data abort (Arm ARM D17.2.37 "ISS encoding for an exception from a Data Abort"). */
#define A64_ESR_EC(esr)    ((uint32_t)((esr) >> 26) & 0x3fu)
#define A64_ESR_IL(esr)    ((uint32_t)((esr) >> 25) & 1u)
#define A64_ESR_ISV(esr)   ((uint32_t)((esr) >> 24) & 1u)
#define A64_ESR_SAS(esr)   ((uint32_t)((esr) >> 22) & 3u)
#define A64_ESR_SSE(esr)   ((uint32_t)((esr) >> 21) & 1u)
#define A64_ESR_SRT(esr)   ((uint32_t)((esr) >> 16) & 0x1fu)
#define A64_ESR_SF(esr)    ((uint32_t)((esr) >> 15) & 1u)
#define A64_ESR_AR(esr)    ((uint32_t)((esr) >> 14) & 1u)
#define A64_ESR_VNCR(esr)  ((uint32_t)((esr) >> 13) & 1u)
#define A64_ESR_LST(esr)   ((uint32_t)((esr) >> 11) & 3u)
#define A64_ESR_FNV(esr)   ((uint32_t)((esr) >> 10) & 1u)
#define A64_ESR_EA(esr)    ((uint32_t)((esr) >> 9) & 1u)
#define A64_ESR_CM(esr)    ((uint32_t)((esr) >> 8) & 1u)
#define A64_ESR_S1PTW(esr) ((uint32_t)((esr) >> 7) & 1u)
#define A64_ESR_WNR(esr)   ((uint32_t)((esr) >> 6) & 1u)
#define A64_ESR_DFSC(esr)  ((uint32_t)(esr) & 0x3fu)

#define A64_EC_DABT_LOWER 0x24u
#define A64_DFSC_ALIGNMENT 0x21u
#define A64_DFSC_EXCL_ATOMIC 0x35u

/* IPA from HPFAR_EL2.FIPA and FAR's page offset (vf_aarch64_ipa, inlined for the capture paths). */
static inline uint64_t a64_ipa(uint64_t hpfar, uint64_t far)
{
    return (((hpfar >> 4) & 0xffffffffffull) << 12) | (far & 0xfffu);
}

/* The faulting IPA of an exit: the host's own, or the one HPFAR_EL2 and FAR give. */
static inline uint64_t a64_exit_ipa(const vf_aarch64_exit_t *exit)
{
    return (exit->flags & VF_AARCH64_EXIT_IPA) ? exit->ipa : a64_ipa(exit->hpfar, exit->far);
}

/* Register number 31 in a load/store's Rt: XZR, never SP. */
#define A64_XZR 31u

/* ISV = 1 forms: index from SAS:SSE (bits 23:21), SF (bit 15) and WnR (bit 6). */
#define A64_ISV_INDEX(esr) \
    ((uint32_t)(((esr) >> 19) & 0x1cu) | (uint32_t)(((esr) >> 14) & 2u) | (uint32_t)(((esr) >> 6) & 1u))
extern const vf_insn_t vf_a64_isv_forms[32];

/* The instruction an ISV = 1 syndrome describes: its form plus Rt and AR. */
static inline void vf_a64_insn_from_isv(vf_insn_t *insn, const vf_insn_t *form, uint64_t esr)
{
    *insn = *form;
    insn->rt = (uint8_t)A64_ESR_SRT(esr);
    insn->flags = (uint8_t)(insn->flags | ((esr >> 11) & VF_INSN_ACQREL)); /* AR is bit 14 */
}

/* Syndrome decoding outcome: a stage the fault cannot be emulated at, or an instruction. */
typedef struct a64_syndrome_result {
    vf_error_t error;     /* VF_OK: insn filled */
    uint32_t inject_dfsc; /* with VF_ERR_INJECT: the DFSC to report */
    uint32_t skippable;   /* cache maintenance: skip the instruction */
    const char *why;
    uint32_t needs_insn;  /* ISV = 0 with nothing else wrong: decode the instruction */
} a64_syndrome_result_t;

/* Classify a data abort syndrome; for ISV = 1 fill insn. Pure. */
a64_syndrome_result_t vf_a64_decode_syndrome(uint64_t esr, vf_insn_t *insn);

#endif
