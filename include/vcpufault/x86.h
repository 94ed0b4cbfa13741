/*
 * vcpufault: x86 guests (real, 16-bit and 32-bit protected, 64-bit mode).
 *
 * Capture an EPT violation (or any trap that reports the guest-physical
 * address) from the vCPU's registers and the exit information. The library
 * decodes the instruction itself, fetching it through the guest's paging,
 * and never trusts an exit's instruction length.
 */
#ifndef VCPUFAULT_X86_H
#define VCPUFAULT_X86_H

#include <vcpufault/vcpufault.h>

#ifdef __cplusplus
extern "C" {
#endif

/** General-purpose registers in encoding order. */
enum vf_x86_gpr {
    VF_X86_RAX, VF_X86_RCX, VF_X86_RDX, VF_X86_RBX, VF_X86_RSP, VF_X86_RBP, VF_X86_RSI, VF_X86_RDI,
    VF_X86_R8, VF_X86_R9, VF_X86_R10, VF_X86_R11, VF_X86_R12, VF_X86_R13, VF_X86_R14, VF_X86_R15,
};

/** x86 vCPU state. The library reads it and writes it back on completion. */
typedef struct vf_x86_regs {
    uint64_t gpr[16];   /**< RAX..R15, indexed by vf_x86_gpr */
    uint64_t rip;       /**< address of the faulting instruction (CS-relative) */
    uint64_t rflags;
    uint64_t cr0, cr3, cr4, efer;
    uint64_t cs_base, ds_base, es_base, ss_base, fs_base, gs_base;
    uint64_t cs_l;      /**< code segment L bit (64-bit code when EFER.LMA) */
    uint64_t cs_d;      /**< code segment D bit (32-bit default operand size) */
    uint64_t cpl;       /**< current privilege level */
    uint64_t ymm[16][4];/**< YMM0..15 as four little-endian quadwords; [0..1] is XMM */
} vf_x86_regs_t;

/** What the hypervisor reported for an EPT violation. */
typedef struct vf_x86_exit {
    uint64_t gpa;           /**< guest-physical address */
    uint64_t gla;           /**< guest linear address, if VF_X86_QUAL_GLA_VALID */
    uint64_t qualification; /**< exit qualification: VF_X86_QUAL_* */
} vf_x86_exit_t;

#define VF_X86_QUAL_READ      (1ull << 0)
#define VF_X86_QUAL_WRITE     (1ull << 1)
#define VF_X86_QUAL_FETCH     (1ull << 2)
#define VF_X86_QUAL_GLA_VALID (1ull << 7)

/**
 * Capture an EPT violation. `regs` stays the caller's and is written on
 * completion; `host` reads guest memory for the instruction fetch and the
 * page-table walk (and RAM operands of string instructions, PUSH/POP stacks).
 *
 * - The CPU mode comes from cr0 (PE, PG), rflags (VM), efer (LMA), cs_l and
 *   cs_d as on hardware; rip is CS-relative (cs_base is added outside 64-bit
 *   mode).
 * - Instruction bytes are fetched through the guest's page tables (cr3,
 *   cr4, efer) unless host->flags has VF_HOST_IDENTITY. The fetch reads no
 *   further than the page the instruction ends on.
 * - `exit->gpa` is where the device accesses are presented. The decoded
 *   linear address is checked against `exit->gla` when
 *   VF_X86_QUAL_GLA_VALID is set (else against the GPA with
 *   VF_HOST_IDENTITY, else its page offset), and the direction against
 *   VF_X86_QUAL_READ/WRITE: VF_ERR_MISMATCH when they disagree.
 * - host->read_phys must fail for device memory: a string instruction's
 *   other operand (and the stack of PUSH/POP) is treated as RAM when it can
 *   be read, and presented as a device access of its own when it cannot.
 * - Wide accesses (SSE 16 bytes, AVX 32 bytes, CMPXCHG16B) are one access of
 *   that size, or pieces with vf_fault_set_split().
 *
 * A host that runs guest code as a Linux x86-64 process (a SIGSEGV trap) can
 * pass cr0 = 0x80000011, efer = 0x500, cs_l = 1, fs_base/gs_base from the
 * thread, VF_HOST_IDENTITY, gpa = gla = si_addr with VF_X86_QUAL_GLA_VALID,
 * and READ or WRITE from the page-fault error code (bit 1 = write).
 * See docs/x86.md for what is emulated.
 */
vf_error_t vf_x86_capture(vf_fault_t *f, vf_x86_regs_t *regs, const vf_x86_exit_t *exit,
                          const vf_host_t *host);

/**
 * A short static name for a decoded x86 instruction's operation
 * (vf_fault_insn(f)): "MOV load", "ALU read-modify-write", "REP STOS",
 * "SSE/AVX load"... For statistics and messages; "?" for anything else.
 */
const char *vf_x86_insn_name(const vf_insn_t *insn);

#ifdef __cplusplus
}
#endif

#endif
