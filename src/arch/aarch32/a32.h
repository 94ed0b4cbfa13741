/* Internal: AArch32 decoders, syndrome, stage-1 walk and their shared definitions. */
#ifndef VF_ARCH_AARCH32_A32_H
#define VF_ARCH_AARCH32_A32_H

#include <vcpufault/aarch32.h>
#include "../arm/dabt.h"

/* HSR / ESR_EL2 data abort SRT: 4 bits in HSR (bit 20 RES0), 5 in ESR_EL2 (the AArch64 view). */
#define A32_HSR_SRT(s) ((uint32_t)((s) >> 16) & 0x1fu)

/* CPSR fields. */
#define A32_CPSR_T (1u << 5)
#define A32_CPSR_E (1u << 9)
#define A32_CPSR_J (1u << 24)
#define A32_CPSR_C (1u << 29)
#define A32_MODE_MASK 0x1fu
#define A32_MODE_USR 0x10u
#define A32_MODE_FIQ 0x11u
#define A32_MODE_IRQ 0x12u
#define A32_MODE_SVC 0x13u
#define A32_MODE_ABT 0x17u
#define A32_MODE_UND 0x1bu
#define A32_MODE_SYS 0x1fu

/* SCTLR fields. */
#define A32_SCTLR_M (1u << 0)
#define A32_SCTLR_A (1u << 1)
#define A32_SCTLR_EE (1u << 25)
#define A32_SCTLR_AFE (1u << 29)

#define A32_PC 15u
#define A32_SP 13u
#define A32_LR 14u

/* vf_insn_t.aux for a register offset. */
#define A32_AUX_SUB 0x80u
#define A32_AUX_SHIFT(t, n) ((uint8_t)(((t) & 3u) << 5 | ((n) & 0x1fu)))
#define A32_SHIFT_LSL 0u
#define A32_SHIFT_LSR 1u
#define A32_SHIFT_ASR 2u
#define A32_SHIFT_ROR 3u

/* What one load/store opcode does. */
typedef struct a32_kind {
    uint8_t size;      /* bytes per access */
    uint8_t is_signed; /* sign-extending load */
    uint8_t write;     /* store */
    uint8_t dual;      /* LDRD/STRD */
} a32_kind_t;

/* Tables (tables.c). Hidden: position-independent 32-bit Arm code then reaches them PC-relative, not through a GOT. */
#pragma GCC visibility push(hidden)
extern const a32_kind_t vf_a32_extra_kinds[8];   /* A32 extra load/store: op2 << 1 | L */
extern const a32_kind_t vf_a32_t16_reg_kinds[8]; /* T16 load/store register: opB */
extern const a32_kind_t vf_a32_t32_kinds[16];    /* T32 single: S << 3 | size << 1 | L */
#pragma GCC visibility pop

/*
 * Pure decoders: an encoding in, an access descriptor out. On failure they
 * return the error and set *why to a static sentence; the descriptor is then
 * meaningless. They check every UNPREDICTABLE rule that depends only on the
 * encoding; the caller checks what depends on state (condition, IT block).
 */
vf_error_t vf_a32_decode_arm(uint32_t word, vf_insn_t *insn, const char **why);
vf_error_t vf_a32_decode_t16(uint32_t hw, vf_insn_t *insn, const char **why);
vf_error_t vf_a32_decode_t32(uint32_t hw1, uint32_t hw2, vf_insn_t *insn, const char **why);

/* A Thumb halfword that starts a 32-bit instruction (hw1[15:11] in 0b11101, 0b11110, 0b11111). */
static inline int vf_a32_is_t32(uint32_t hw1)
{
    return (hw1 & 0xf800u) >= 0xe800u;
}

/*
 * Syndrome with ISV = 1: fill insn. `esr_view` says SRT uses the AArch64
 * register view (ESR_EL2) rather than HSR's; `mode` is CPSR.M. Pure.
 */
vf_error_t vf_a32_decode_syndrome(uint32_t hsr, int thumb, int esr_view, uint32_t mode,
                                  vf_insn_t *insn, const char **why);

/* Translate a guest virtual address for an instruction fetch through the guest's stage 1. */
vf_error_t vf_a32_translate(const vf_host_t *host, const vf_aarch32_regs_t *r, uint32_t va,
                            uint64_t *pa, const char **why);

/* Condition check of cond (0..14 meaningful, 15 treated as always) against CPSR NZCV. */
int vf_a32_condition_passed(uint32_t cond, uint32_t cpsr);

/*
 * The instruction an ISV = 1 syndrome describes, once the caller has checked
 * SAS/SSE/WnR and mapped SRT to the current mode's register rt.
 */
static inline void a32_insn_from_syndrome(vf_insn_t *in, uint32_t hsr, uint32_t rt)
{
    vf_insn_t s = {
        .op = VF_A32_OP_SYNDROME,
        .length = ARM_DABT_IL(hsr) ? 4 : 2,
        .size = (uint8_t)(1u << ARM_DABT_SAS(hsr)),
        .count = 1,
        .flags = (uint8_t)((ARM_DABT_SSE(hsr) ? VF_INSN_SIGNED : 0u) | (ARM_DABT_WNR(hsr) ? VF_INSN_WRITE : 0u) |
                           (ARM_DABT_AR(hsr) ? VF_INSN_ACQREL : 0u)),
        .dst_bytes = 4,
        .rt = (uint8_t)rt,
        .rt2 = VF_A32_NO_REG,
        .rn = VF_A32_NO_REG,
        .rm = VF_A32_NO_REG,
        .fixed = 1,
    };
    *in = s;
}

/* SAS/SSE/WnR combinations no AArch32 load/store produces: doublewords, signed stores, signed words. */
static inline int a32_syndrome_impossible(uint32_t hsr)
{
    uint32_t sas = ARM_DABT_SAS(hsr);
    return sas == 3 || (ARM_DABT_SSE(hsr) && (ARM_DABT_WNR(hsr) || sas == 2));
}

/* Common decoder epilogues. */
static inline void a32_set_single(vf_insn_t *in, const a32_kind_t *k, uint32_t rt, uint32_t rn)
{
    in->size = k->dual ? 4 : k->size;
    in->count = k->dual ? 2 : 1;
    in->flags = (uint8_t)((k->is_signed ? VF_INSN_SIGNED : 0u) | (k->write ? VF_INSN_WRITE : 0u));
    in->dst_bytes = 4;
    in->rt = (uint8_t)rt;
    in->rt2 = (uint8_t)(k->dual ? rt + 1u : rt);
    in->rn = (uint8_t)rn;
    in->rm = VF_A32_NO_REG;
    in->op = k->dual ? VF_A32_OP_DUAL : VF_A32_OP_SINGLE;
}

/* Index/writeback: P (pre-index), U (add), W; imm offset. */
static inline void a32_set_index(vf_insn_t *in, uint32_t p, uint32_t u, uint32_t w, uint32_t imm)
{
    in->imm = u ? (int64_t)imm : -(int64_t)imm;
    if (!p)
        in->flags |= VF_INSN_POSTINDEX | VF_INSN_WRITEBACK;
    else if (w)
        in->flags |= VF_INSN_WRITEBACK;
}

static inline uint32_t a32_popcount16(uint32_t v)
{
    uint32_t n = 0;
    for (v &= 0xffffu; v != 0; v &= v - 1)
        n++;
    return n;
}

/* LDM/STM: count, lowest address offset from Rn and direction. */
static inline void a32_set_multi(vf_insn_t *in, uint32_t list, uint32_t rn, uint32_t before,
                                 uint32_t inc, uint32_t wback, uint32_t load)
{
    uint32_t n = a32_popcount16(list);
    in->op = VF_A32_OP_MULTI;
    in->size = 4;
    in->count = (uint8_t)n;
    in->reglist = (uint16_t)list;
    in->rn = (uint8_t)rn;
    in->rt = in->rt2 = in->rm = VF_A32_NO_REG;
    in->dst_bytes = 4;
    in->flags = (uint8_t)((load ? 0u : VF_INSN_WRITE) | (wback ? VF_INSN_WRITEBACK : 0u));
    in->aux = inc ? 0 : A32_AUX_SUB;
    if (inc)
        in->imm = before ? 4 : 0;
    else
        in->imm = -4 * (int64_t)n + (before ? 0 : 4);
}

#endif
