/* 16-bit Thumb load/store decoding (ARMv7-A ARM A6.2.4, A6.2.5 and A8 LDM/STM/PUSH/POP). */
#include "a32.h"

#define FIELD(w, lo, bits) (((w) >> (lo)) & ((1u << (bits)) - 1u))

static const a32_kind_t k_ldr = {4, 0, 0, 0}, k_str = {4, 0, 1, 0};
static const a32_kind_t k_ldrb = {1, 0, 0, 0}, k_strb = {1, 0, 1, 0};
static const a32_kind_t k_ldrh = {2, 0, 0, 0}, k_strh = {2, 0, 1, 0};

static vf_error_t undef(const char **why, const char *text)
{
    *why = text;
    return VF_ERR_UNDEFINED;
}

/* LDR Rt, [PC, #imm8 * 4]: the base is Align(PC, 4). */
static vf_error_t load_literal(uint32_t hw, vf_insn_t *in)
{
    a32_set_single(in, &k_ldr, FIELD(hw, 8, 3), A32_PC);
    in->imm = (int64_t)(FIELD(hw, 0, 8) * 4u);
    return VF_OK;
}

/* STR/STRH/STRB/LDRSB/LDR/LDRH/LDRB/LDRSH Rt, [Rn, Rm]. */
static vf_error_t load_store_register(uint32_t hw, vf_insn_t *in)
{
    a32_set_single(in, &vf_a32_t16_reg_kinds[FIELD(hw, 9, 3)], FIELD(hw, 0, 3), FIELD(hw, 3, 3));
    in->rm = (uint8_t)FIELD(hw, 6, 3);
    in->aux = A32_AUX_SHIFT(A32_SHIFT_LSL, 0);
    in->imm = 0;
    return VF_OK;
}

/* STR/LDR/STRB/LDRB Rt, [Rn, #imm5 * size]. */
static vf_error_t load_store_imm5(uint32_t hw, vf_insn_t *in)
{
    uint32_t byte = FIELD(hw, 12, 1), load = FIELD(hw, 11, 1);
    const a32_kind_t *k = byte ? (load ? &k_ldrb : &k_strb) : (load ? &k_ldr : &k_str);
    a32_set_single(in, k, FIELD(hw, 0, 3), FIELD(hw, 3, 3));
    in->imm = (int64_t)(FIELD(hw, 6, 5) * k->size);
    return VF_OK;
}

/* STRH/LDRH Rt, [Rn, #imm5 * 2]. */
static vf_error_t load_store_half(uint32_t hw, vf_insn_t *in)
{
    a32_set_single(in, FIELD(hw, 11, 1) ? &k_ldrh : &k_strh, FIELD(hw, 0, 3), FIELD(hw, 3, 3));
    in->imm = (int64_t)(FIELD(hw, 6, 5) * 2u);
    return VF_OK;
}

/* STR/LDR Rt, [SP, #imm8 * 4]. */
static vf_error_t load_store_sp(uint32_t hw, vf_insn_t *in)
{
    a32_set_single(in, FIELD(hw, 11, 1) ? &k_ldr : &k_str, FIELD(hw, 8, 3), A32_SP);
    in->imm = (int64_t)(FIELD(hw, 0, 8) * 4u);
    return VF_OK;
}

/* PUSH {list, LR} = STMDB SP!; POP {list, PC} = LDMIA SP!. */
static vf_error_t push_pop(uint32_t hw, vf_insn_t *in, const char **why)
{
    uint32_t pop = FIELD(hw, 11, 1);
    uint32_t list = FIELD(hw, 0, 8) | FIELD(hw, 8, 1) << (pop ? 15 : 14);
    if (list == 0)
        return undef(why, "PUSH/POP with an empty register list");
    a32_set_multi(in, list, A32_SP, !pop, pop, 1, pop);
    return VF_OK;
}

/* STMIA Rn!, {list}; LDMIA Rn{!}, {list} (writeback unless Rn is loaded). */
static vf_error_t load_store_multiple(uint32_t hw, vf_insn_t *in, const char **why)
{
    uint32_t load = FIELD(hw, 11, 1), n = FIELD(hw, 8, 3), list = FIELD(hw, 0, 8);
    uint32_t in_list = (list >> n) & 1u;
    if (list == 0)
        return undef(why, "LDM/STM with an empty register list");
    if (!load && in_list && (list & ((1u << n) - 1u)) != 0)
        return undef(why, "STM with Rn in the list, not the lowest register");
    a32_set_multi(in, list, n, 0, 1, load ? !in_list : 1, load);
    return VF_OK;
}

vf_error_t vf_a32_decode_t16(uint32_t hw, vf_insn_t *in, const char **why)
{
    in->length = 2;
    hw &= 0xffffu;
    if (FIELD(hw, 11, 5) == 0x09u)
        return load_literal(hw, in);
    if (FIELD(hw, 12, 4) == 0x5u)
        return load_store_register(hw, in);
    if (FIELD(hw, 13, 3) == 0x3u)
        return load_store_imm5(hw, in);
    if (FIELD(hw, 12, 4) == 0x8u)
        return load_store_half(hw, in);
    if (FIELD(hw, 12, 4) == 0x9u)
        return load_store_sp(hw, in);
    if ((hw & 0xf600u) == 0xb400u)
        return push_pop(hw, in, why);
    if (FIELD(hw, 12, 4) == 0xcu)
        return load_store_multiple(hw, in, why);
    return undef(why, "not a 16-bit Thumb load/store");
}
