/*
 * Internal: data abort syndrome checks shared by AArch64 and AArch32 guests.
 * HSR (ARMv7/ARMv8 AArch32) and ESR_EL2 share the data abort ISS layout in
 * bits 24:0 (ARMv8 ARM D17.2.37 / ARMv7 ARM B3.13.6); AArch32 SRT is 4 bits.
 */
#ifndef VF_ARCH_ARM_DABT_H
#define VF_ARCH_ARM_DABT_H

#include <vcpufault/vcpufault.h>

#define ARM_DABT_EC(s)    ((uint32_t)((s) >> 26) & 0x3fu)
#define ARM_DABT_IL(s)    ((uint32_t)((s) >> 25) & 1u)
#define ARM_DABT_ISV(s)   ((uint32_t)((s) >> 24) & 1u)
#define ARM_DABT_SAS(s)   ((uint32_t)((s) >> 22) & 3u)
#define ARM_DABT_SSE(s)   ((uint32_t)((s) >> 21) & 1u)
#define ARM_DABT_AR(s)    ((uint32_t)((s) >> 14) & 1u)
#define ARM_DABT_VNCR(s)  ((uint32_t)((s) >> 13) & 1u)
#define ARM_DABT_LST(s)   ((uint32_t)((s) >> 11) & 3u)
#define ARM_DABT_EA(s)    ((uint32_t)((s) >> 9) & 1u)
#define ARM_DABT_CM(s)    ((uint32_t)((s) >> 8) & 1u)
#define ARM_DABT_S1PTW(s) ((uint32_t)((s) >> 7) & 1u)
#define ARM_DABT_WNR(s)   ((uint32_t)((s) >> 6) & 1u)
#define ARM_DABT_DFSC(s)  ((uint32_t)(s) & 0x3fu)

/* DFSC values of translation (levels -1..3), access flag and permission faults, as a bit set. */
#define ARM_DABT_EMULABLE_DFSC ((0xfffull << 4) | (1ull << 0x2b))

#define ARM_EC_DABT_LOWER 0x24u
#define ARM_DFSC_ALIGNMENT 0x21u
#define ARM_DFSC_EXCL_ATOMIC 0x35u

/* Outcome of the checks that come before any decoding. */
typedef struct arm_dabt_class {
    vf_error_t error;     /* VF_OK: an access to emulate */
    uint32_t inject_dfsc; /* with VF_ERR_INJECT: the DFSC to report */
    uint32_t skippable;   /* cache maintenance: skip the instruction */
    const char *why;
} arm_dabt_class_t;

/*
 * Classify a data abort syndrome: exception class, fault status, external
 * abort, stage-1 walk, cache maintenance, VNCR, LS64. Pure. The same
 * decisions as the AArch64 syndrome path (src/arch/aarch64/syndrome.c).
 */
arm_dabt_class_t vf_arm_dabt_classify(uint64_t syndrome);

#endif
