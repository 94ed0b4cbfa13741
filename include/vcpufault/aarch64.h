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
    /** Decoded (ISV = 0): one general-purpose or SIMD&FP register (LDR/STR/LDUR/LDTR/LDAR/LDAPR/literal). */
    VF_A64_OP_SINGLE = 3,
    /** Decoded: a pair of registers (LDP/STP/LDPSW/LDNP/STNP): two accesses. */
    VF_A64_OP_PAIR = 4,
    /** Decoded: LD1-LD4/ST1-ST4 multiple structures: one access per vector register's worth of memory. */
    VF_A64_OP_STRUCT_MULTI = 5,
    /** Decoded: LD1-LD4/ST1-ST4 single structure (one lane): one access per element. */
    VF_A64_OP_STRUCT_LANE = 6,
    /** Decoded: LD1R-LD4R (load and replicate): one access per element. */
    VF_A64_OP_STRUCT_REPL = 7,
} vf_a64_op_t;

/** How a decoded A64 load/store forms its address (vf_a64_ldst_t.mode). */
typedef enum vf_a64_addr_mode {
    /** [Xn|SP, #imm]: unsigned offset, unscaled, pre-index (with writeback) or post-index. */
    VF_A64_AM_IMM = 0,
    /** [Xn|SP, Xm/Wm, extend #shift]. */
    VF_A64_AM_REG = 1,
    /** PC + imm: a literal load (PC-relative memory). */
    VF_A64_AM_LITERAL = 2,
    /** Structure post-index by register: [Xn|SP], Xm. */
    VF_A64_AM_POST_REG = 3,
} vf_a64_addr_mode_t;

/** A64 load/store details that do not fit vf_insn_t. */
typedef struct vf_a64_ldst {
    uint8_t mode;   /**< vf_a64_addr_mode_t */
    uint8_t extend; /**< VF_A64_AM_REG: option field: 2 UXTW, 3 LSL (UXTX), 6 SXTW, 7 SXTX */
    uint8_t shift;  /**< VF_A64_AM_REG: left shift of the extended index */
    uint8_t selem;  /**< structures: elements per structure (LD1..LD4), 1..4 */
    uint8_t nregs;  /**< vector registers transferred (structures), 1..4 */
    uint8_t lane;   /**< single structure: lane index */
    uint8_t vbytes; /**< structures: bytes of each vector register used, 8 or 16 */
    uint8_t esize;  /**< structures: element bytes */
} vf_a64_ldst_t;

/**
 * Decode one A64 instruction word as a load/store (pure: no registers, no
 * memory). Fills `insn` (op, size = bytes per access, count = accesses,
 * flags, dst_bytes, rt, rt2, rn, rm, imm) and `ext`. Errors: VF_ERR_UNDEFINED
 * (unallocated or CONSTRAINED UNPREDICTABLE), VF_ERR_INJECT (exclusive or
 * atomic: the device cannot perform it), VF_ERR_UNSUPPORTED (a valid
 * instruction not emulated: DC ZVA, pointer authentication, MTE, SVE...),
 * VF_ERR_MISMATCH (not an instruction that accesses data memory, or a
 * prefetch). `why` (may be NULL) receives a static explanation.
 */
vf_error_t vf_aarch64_decode(uint32_t word, vf_insn_t *insn, vf_a64_ldst_t *ext, const char **why);

/**
 * Translate a guest virtual address through the guest's EL1&0 stage-1 tables
 * (MMU off: identity) as an instruction fetch at the EL in regs->pstate,
 * reading descriptors only through host->read_phys. VF_ERR_FETCH on a
 * translation, access-flag, execute-permission or address-size fault or a
 * malformed table. Identity when host->flags has VF_HOST_IDENTITY.
 */
vf_error_t vf_aarch64_translate(const vf_host_t *host, const vf_aarch64_regs_t *regs, uint64_t va,
                                uint64_t *pa, const char **why);

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
 * - VF_ERR_UNSUPPORTED: FEAT_LS64 64-byte accesses, VNCR faults, ISV = 0
 *   with no host (syndrome-only emulation), and ISV = 0 instructions not
 *   emulated (vf_aarch64_decode());
 * - VF_ERR_FETCH: ISV = 0 and the instruction could not be read (not in guest
 *   memory, translation failed);
 * - VF_ERR_MISMATCH: ISV = 0 and the decoded access disagrees with FAR/IPA or WnR;
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
