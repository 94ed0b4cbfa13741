/* Internal: AArch64 ISV = 0 path (instruction fetch, decode, emulation). */
#ifndef VF_ARCH_AARCH64_LDST_H
#define VF_ARCH_AARCH64_LDST_H

#include "a64.h"
#include "../../core/engine.h"
#include "../arm/dabt.h"

/* Fetch the A64 instruction at guest virtual address pc (walk.c). */
vf_error_t vf_a64_fetch(const vf_host_t *host, const vf_aarch64_regs_t *r, uint64_t pc,
                        uint32_t *word, const char **why);

/* ISV = 0: fetch and decode the instruction, compute its addresses, cross-check with the exit (emulate.c). */
vf_error_t vf_a64_ldst_decode(vf_fault_t *f);

/* Access idx and completion of an instruction decoded by vf_a64_ldst_decode. */
int vf_a64_ldst_access(vf_fault_t *f, uint32_t idx);
vf_error_t vf_a64_ldst_complete(vf_fault_t *f);

/*
 * The common ISV = 0 fault: a translation, access flag or permission fault with
 * nothing else set (FnV = 0: FAR valid), guest at EL0/EL1 in AArch64, guest
 * memory reachable.
 */
#define A64_ISV0_MASK 0xff003f80ull  /* EC, IL, ISV, VNCR, LST, FnV, EA, CM, S1PTW */
#define A64_ISV0_VALUE 0x92000000ull /* EC 0x24, IL = 1, everything else 0 */

static inline int vf_a64_isv0_fast_shape(const vf_aarch64_regs_t *regs, const vf_aarch64_exit_t *exit,
                                         const vf_host_t *host)
{
    uint64_t esr = exit->esr;
    return (esr & A64_ISV0_MASK) == A64_ISV0_VALUE && ((ARM_DABT_EMULABLE_DFSC >> A64_ESR_DFSC(esr)) & 1u) &&
           (regs->pstate & 0x18u) == 0 && host != NULL && host->read_phys != NULL;
}

/* Capture of a fault of that shape in one step. */
vf_error_t vf_a64_capture_isv0_fast(vf_fault_t *f, const vf_arch_ops_t *ops, vf_aarch64_regs_t *regs,
                                    const vf_aarch64_exit_t *exit, const vf_host_t *host);

#endif
