/* Internal: AArch64 ISV = 0 path (instruction fetch, decode, emulation). */
#ifndef VF_ARCH_AARCH64_LDST_H
#define VF_ARCH_AARCH64_LDST_H

#include "a64.h"
#include "../../core/engine.h"

/* Fetch the A64 instruction at guest virtual address pc (walk.c). */
vf_error_t vf_a64_fetch(const vf_host_t *host, const vf_aarch64_regs_t *r, uint64_t pc,
                        uint32_t *word, const char **why);

/* ISV = 0: fetch and decode the instruction, compute its addresses, cross-check with the exit (emulate.c). */
vf_error_t vf_a64_ldst_decode(vf_fault_t *f);

/* Access idx and completion of an instruction decoded by vf_a64_ldst_decode. */
int vf_a64_ldst_access(vf_fault_t *f, uint32_t idx);
vf_error_t vf_a64_ldst_complete(vf_fault_t *f);

/* Capture of the common ISV = 0 fault in one step; -1 when the generic path must run. */
int vf_a64_capture_isv0_fast(vf_fault_t *f, const vf_arch_ops_t *ops, vf_aarch64_regs_t *regs,
                             const vf_aarch64_exit_t *exit, const vf_host_t *host);

#endif
