/*
 * vcpufault: AArch64 guests.
 *
 * Capture a stage-2 data abort taken to EL2 (ESR_EL2.EC 0x24) from the
 * registers the VMM read out of the vCPU and what the hypervisor reported.
 */
#ifndef VCPUFAULT_AARCH64_H
#define VCPUFAULT_AARCH64_H

#include <vcpufault/vcpufault.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A 128-bit SIMD&FP register: lo holds bits 63:0. */
typedef struct vf_u128 {
    uint64_t lo;
    uint64_t hi;
} vf_u128_t;

/** AArch64 vCPU state. The library reads it and writes it back on completion. */
typedef struct vf_aarch64_regs {
    uint64_t x[31];     /**< X0..X30 */
    uint64_t sp_el0;    /**< SP used at EL0, and at EL1 when PSTATE.SP = 0 */
    uint64_t sp_el1;    /**< SP used at EL1 when PSTATE.SP = 1 */
    uint64_t pc;        /**< address of the faulting instruction (ELR_EL2) */
    uint64_t pstate;    /**< SPSR_EL2 layout: M[3:0] is EL and SP selection, M[4] = 1 for AArch32 */
    vf_u128_t v[32];    /**< V0..V31 */
    uint64_t sctlr_el1; /**< M (bit 0) MMU on, EE (bit 25) and E0E (bit 24) data endianness */
    uint64_t tcr_el1;
    uint64_t ttbr0_el1;
    uint64_t ttbr1_el1;
} vf_aarch64_regs_t;

/** What the hypervisor reported for the exit. */
typedef struct vf_aarch64_exit {
    uint64_t esr;   /**< ESR_EL2, ISS2 (bits 36:32) included */
    uint64_t far;   /**< FAR_EL2: faulting virtual address */
    uint64_t hpfar; /**< HPFAR_EL2: FIPA in bits 43:4 */
    uint64_t ipa;   /**< the IPA itself, used instead of HPFAR/FAR when VF_AARCH64_EXIT_IPA is set */
    uint32_t flags; /**< VF_AARCH64_EXIT_* */
} vf_aarch64_exit_t;

/** exit.ipa holds the faulting IPA (a host such as seL4 reports it directly). */
#define VF_AARCH64_EXIT_IPA 0x1u

/** Operations of decoded AArch64 instructions (vf_insn_t.op). */
typedef enum vf_a64_op {
    VF_A64_OP_NONE = 0,
    /** Single register load/store described by the syndrome (ISV = 1). */
    VF_A64_OP_SYNDROME = 1,
    /** Cache maintenance on device memory (CM = 1): skip it. */
    VF_A64_OP_CACHE_MAINT = 2,
} vf_a64_op_t;

/**
 * Capture a data abort. `regs` stays the caller's and is written on
 * completion; `host` may be NULL when the guest memory is not reachable (then
 * only syndrome-described faults, ISV = 1, can be emulated).
 *
 * Returns VF_OK with the fault in VF_STATE_ACCESS, or an error with the fault
 * in VF_STATE_ERROR:
 * - VF_ERR_NOT_MMIO: not a data abort from a lower EL, a fault on the guest's
 *   own stage-1 walk (S1PTW), an external abort or other non-translation
 *   fault, or cache maintenance (CM = 1: vf_fault_skip() then moves the PC on);
 * - VF_ERR_INJECT: alignment fault, or an exclusive/atomic the device cannot do;
 * - VF_ERR_UNDEFINED: a syndrome no instruction can produce (reserved SAS/SSE/SF);
 * - VF_ERR_UNSUPPORTED: ISV = 0 (the instruction must be decoded: not done
 *   yet), FEAT_LS64 64-byte accesses, VNCR faults;
 * - VF_ERR_INVALID: the registers say AArch32, or IL = 0 for an A64 instruction.
 */
vf_error_t vf_aarch64_capture(vf_fault_t *f, vf_aarch64_regs_t *regs,
                              const vf_aarch64_exit_t *exit, const vf_host_t *host);

/** The IPA a data abort reports: HPFAR_EL2.FIPA << 12 | FAR_EL2[11:0]. */
uint64_t vf_aarch64_ipa(uint64_t hpfar, uint64_t far);

#ifdef __cplusplus
}
#endif

#endif
