/*
 * vcpufault: AArch32 guests (A32 and Thumb).
 *
 * Capture a stage-2 data abort taken to the hypervisor (HSR.EC 0x24, or
 * ESR_EL2.EC 0x24 for an AArch32 guest of an AArch64 hypervisor) from the
 * registers the VMM read out of the vCPU and what the hypervisor reported.
 *
 * With a syndrome (ISV = 1) the access is described by HSR alone. Without one
 * (ISV = 0: writeback forms, LDRD/STRD, LDM/STM/PUSH/POP) the library fetches
 * the instruction through the guest's stage-1 translation (short descriptors
 * or LPAE, read through vf_host_t.read_phys) and decodes it: A32, 16-bit and
 * 32-bit Thumb. LDRD/STRD and LDM/STM make one 4-byte access per register,
 * in ascending address order, each a stage of the fault.
 */
#ifndef VCPUFAULT_AARCH32_H
#define VCPUFAULT_AARCH32_H

#include <vcpufault/vcpufault.h>

#ifdef __cplusplus
extern "C" {
#endif

/** AArch32 vCPU state. The library reads it and writes it back on completion. */
typedef struct vf_aarch32_regs {
    /**
     * R0..R15 as the guest's current mode sees them (banked SP/LR of that
     * mode already selected by the VMM); r[15] is the address of the
     * faulting instruction (not PC+8).
     */
    uint32_t r[16];
    /** CPSR (SPSR_hyp / SPSR_EL2 layout): T (bit 5) Thumb, E (bit 9) big-endian data, IT[7:0] in bits 15:10,26:25, M[4:0] mode, NZCV. */
    uint32_t cpsr;
    /** SCTLR (PL1): M (bit 0) MMU on, A (bit 1) alignment checks, AFE (bit 29), EE (bit 25) big-endian table walks. */
    uint32_t sctlr;
    /** TTBCR: EAE (bit 31) LPAE tables; N (bits 2:0) or T0SZ/T1SZ, PD0/PD1 or EPD0/EPD1. */
    uint32_t ttbcr;
    uint32_t reserved_; /**< must be ignored; keeps the 64-bit fields aligned */
    /** TTBR0 and TTBR1: 32-bit short-descriptor form, or 64-bit with TTBCR.EAE = 1. */
    uint64_t ttbr0;
    uint64_t ttbr1;
} vf_aarch32_regs_t;

/** What the hypervisor reported for the exit. */
typedef struct vf_aarch32_exit {
    uint32_t hsr;   /**< HSR, or the low 32 bits of ESR_EL2 for an AArch32 guest */
    uint32_t hdfar; /**< HDFAR (FAR_EL2[31:0]): faulting virtual address */
    uint32_t hpfar; /**< HPFAR: FIPA (IPA[39:12]) in bits 31:4 */
    uint32_t flags; /**< VF_AARCH32_EXIT_* */
    uint64_t ipa;   /**< the IPA itself, used instead of HPFAR/HDFAR when VF_AARCH32_EXIT_IPA is set */
} vf_aarch32_exit_t;

/** exit.ipa holds the faulting IPA (a host such as seL4 reports it directly); exit.hdfar is then used only if non-zero. */
#define VF_AARCH32_EXIT_IPA 0x1u
/**
 * exit.hsr holds ESR_EL2 of an AArch64 hypervisor: SRT then names the
 * AArch64 view of the registers (X13 is SP_usr, X19 SP_svc...) rather than
 * the current mode's R0..R14 as HSR does. Only banked SP/LR/R8-R12 differ.
 */
#define VF_AARCH32_EXIT_ESR_EL2 0x2u

/** Operations of decoded AArch32 instructions (vf_insn_t.op). */
typedef enum vf_a32_op {
    VF_A32_OP_NONE = 0,
    /** Single register load/store described by the syndrome (ISV = 1). */
    VF_A32_OP_SYNDROME = 1,
    /** Cache maintenance on device memory (CM = 1): skip it. */
    VF_A32_OP_CACHE_MAINT = 2,
    /** LDR/STR/LDRB/STRB/LDRH/STRH/LDRSB/LDRSH decoded from the instruction. */
    VF_A32_OP_SINGLE = 3,
    /** The unprivileged forms LDRT/STRT/LDRBT/.../LDRSHT. */
    VF_A32_OP_SINGLE_UNPRIV = 4,
    /** LDRD/STRD: two word accesses, Rt then Rt2. */
    VF_A32_OP_DUAL = 5,
    /** LDM/STM (IA/IB/DA/DB), PUSH/POP: one word access per listed register. */
    VF_A32_OP_MULTI = 6,
} vf_a32_op_t;

/*
 * How the decoded vf_insn_t fields are used for AArch32:
 * - rt, rt2 (LDRD/STRD), rn: register numbers 0..15; rm: the offset register,
 *   or VF_A32_NO_REG for an immediate offset (imm, signed).
 * - aux for a register offset: bit 7 subtract, bits 6:5 shift type
 *   (LSL, LSR, ASR, ROR/RRX), bits 4:0 the encoded shift amount.
 * - LDM/STM: reglist, imm = offset of the lowest address from Rn, aux bit 7
 *   set when the base decreases (DA/DB); the writeback adds +/- 4 * count.
 */
#define VF_A32_NO_REG 0xffu

/**
 * Capture a data abort. `regs` stays the caller's and is written on
 * completion; `host` may be NULL when the guest memory is not reachable (then
 * only syndrome-described faults, ISV = 1, can be emulated).
 *
 * Returns VF_OK with the fault in VF_STATE_ACCESS, or an error with the fault
 * in VF_STATE_ERROR:
 * - VF_ERR_NOT_MMIO: not a data abort from the guest, a fault on the guest's
 *   own stage-1 walk (S1PTW), an external abort or other non-translation
 *   fault, or cache maintenance (CM = 1: vf_fault_skip() then moves the PC on);
 * - VF_ERR_INJECT: alignment fault (DFSC 0x21, also reported for an unaligned
 *   LDRD/LDM the hardware would have refused), exclusive or swap on a device;
 * - VF_ERR_UNDEFINED: not a load/store, or an UNPREDICTABLE form (writeback
 *   with Rn == Rt, Rn in the list, PC where it is not allowed, ...);
 * - VF_ERR_FETCH: the instruction could not be read or translated;
 * - VF_ERR_MISMATCH: the decoded address or direction disagrees with the
 *   exit, or the instruction's condition fails (it could not have trapped);
 * - VF_ERR_UNSUPPORTED: coprocessor/VFP loads, LDM/STM of user registers or
 *   exception return, Jazelle state, accesses spanning two pages;
 * - VF_ERR_INVALID: the registers say Thumb and A32 at once (J bit) or similar.
 */
vf_error_t vf_aarch32_capture(vf_fault_t *f, vf_aarch32_regs_t *regs,
                              const vf_aarch32_exit_t *exit, const vf_host_t *host);

/** The IPA a data abort reports: HPFAR.FIPA << 12 | HDFAR[11:0]. */
uint64_t vf_aarch32_ipa(uint32_t hpfar, uint32_t hdfar);

#ifdef __cplusplus
}
#endif

#endif
