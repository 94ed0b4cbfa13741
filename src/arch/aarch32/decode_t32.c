/*
 * 32-bit Thumb load/store decoding (ARMv7-A ARM A6.3.5 load/store multiple,
 * A6.3.6 dual/exclusive, A6.3.7-A6.3.10 single data items). hw1 is the first
 * halfword (lower address), hw2 the second.
 */
#include "a32.h"

#define BIT(w, n) (((w) >> (n)) & 1u)
#define FIELD(w, lo, bits) (((w) >> (lo)) & ((1u << (bits)) - 1u))

static vf_error_t fail(const char **why, vf_error_t e, const char *text)
{
    *why = text;
    return e;
}

/* STMIA/STMDB/LDMIA/LDMDB (PUSH.W/POP.W with two or more registers). */
static vf_error_t load_store_multiple(uint32_t hw1, uint32_t hw2, vf_insn_t *in, const char **why)
{
    uint32_t op = FIELD(hw1, 7, 2), wb = BIT(hw1, 5), l = BIT(hw1, 4), n = FIELD(hw1, 0, 4);
    uint32_t list = hw2 & 0xffffu;

    if (op == 0 || op == 3)
        return fail(why, VF_ERR_UNSUPPORTED, "SRS/RFE: not emulated");
    if (n == A32_PC || a32_popcount16(list) < 2)
        return fail(why, VF_ERR_UNDEFINED, "LDM/STM with Rn = PC or fewer than two registers");
    if (BIT(list, 13) || (l ? (BIT(list, 15) && BIT(list, 14)) : BIT(list, 15)))
        return fail(why, VF_ERR_UNDEFINED, "LDM/STM list holds SP, PC and LR, or PC in a store");
    if (wb && BIT(list, n))
        return fail(why, VF_ERR_UNDEFINED, "LDM/STM writeback with Rn in the list");
    a32_set_multi(in, list, n, op == 2, op == 1, wb, l);
    return VF_OK;
}

/* LDRD/STRD (immediate, literal), and the exclusives and table branches sharing the space. */
static vf_error_t load_store_dual(uint32_t hw1, uint32_t hw2, vf_insn_t *in, const char **why)
{
    static const a32_kind_t k_ldrd = {4, 0, 0, 1}, k_strd = {4, 0, 1, 1};
    uint32_t p = BIT(hw1, 8), u = BIT(hw1, 7), wb = BIT(hw1, 5), l = BIT(hw1, 4), n = FIELD(hw1, 0, 4);
    uint32_t t = FIELD(hw2, 12, 4), t2 = FIELD(hw2, 8, 4);

    if (!p && !wb) {
        /* op1 = 0x, op2 = 0x/x0: exclusives or TBB/TBH. */
        if (u && l && FIELD(hw2, 5, 3) == 0)
            return fail(why, VF_ERR_UNSUPPORTED, "TBB/TBH table branch: not emulated");
        return fail(why, VF_ERR_INJECT, "exclusive on device memory: inject a data abort");
    }
    a32_set_single(in, l ? &k_ldrd : &k_strd, t, n);
    in->rt2 = (uint8_t)t2;
    a32_set_index(in, p, u, wb, FIELD(hw2, 0, 8) * 4u);
    if (t == A32_SP || t == A32_PC || t2 == A32_SP || t2 == A32_PC)
        return fail(why, VF_ERR_UNDEFINED, "LDRD/STRD with SP or PC");
    if (wb && (n == t || n == t2 || n == A32_PC))
        return fail(why, VF_ERR_UNDEFINED, "LDRD/STRD writeback with Rn = PC, Rt or Rt2");
    if (l && t == t2)
        return fail(why, VF_ERR_UNDEFINED, "LDRD with Rt = Rt2");
    if (!l && n == A32_PC)
        return fail(why, VF_ERR_UNDEFINED, "STRD with Rn = PC");
    return VF_OK;
}

/*
 * Byte/halfword loads with Rt = PC in a form without writeback are the
 * preload hints PLD/PLI (and NOPs): they make no access and cannot trap.
 */
static vf_error_t hint(const char **why)
{
    return fail(why, VF_ERR_MISMATCH, "preload hint (PLD/PLI): makes no access, cannot have trapped");
}

/* LDR/STR/LDRB/STRB/LDRH/STRH/LDRSB/LDRSH and their T forms: literal, imm12, imm8, register. */
static vf_error_t load_store_single(uint32_t hw1, uint32_t hw2, vf_insn_t *in, const char **why)
{
    uint32_t s = BIT(hw1, 8), size = FIELD(hw1, 5, 2), l = BIT(hw1, 4), n = FIELD(hw1, 0, 4);
    uint32_t t = FIELD(hw2, 12, 4);
    const a32_kind_t *k = &vf_a32_t32_kinds[s << 3 | size << 1 | l];
    int word = k->size == 4;

    if (k->size == 0)
        return fail(why, VF_ERR_UNDEFINED, "undefined load/store encoding");
    a32_set_single(in, k, t, n);
    if (n == A32_PC) {
        if (!l)
            return fail(why, VF_ERR_UNDEFINED, "store with Rn = PC");
        if (!word && t == A32_PC)
            return hint(why);
        a32_set_index(in, 1, BIT(hw1, 7), 0, FIELD(hw2, 0, 12));
        return t == A32_SP && !word ? fail(why, VF_ERR_UNDEFINED, "byte/halfword load into SP") : VF_OK;
    }
    uint32_t hint_form = 1, wback = 0;
    if (BIT(hw1, 7)) {
        a32_set_index(in, 1, 1, 0, FIELD(hw2, 0, 12));
    } else if (FIELD(hw2, 6, 6) == 0) {
        uint32_t m = FIELD(hw2, 0, 4);
        in->rm = (uint8_t)m;
        in->imm = 0;
        in->aux = A32_AUX_SHIFT(A32_SHIFT_LSL, FIELD(hw2, 4, 2));
        if (m == A32_SP || m == A32_PC)
            return fail(why, VF_ERR_UNDEFINED, "register offset Rm = SP or PC");
    } else if (BIT(hw2, 11)) {
        uint32_t p = BIT(hw2, 10), u = BIT(hw2, 9), w = BIT(hw2, 8);
        if (!p && !w)
            return fail(why, VF_ERR_UNDEFINED, "undefined load/store encoding (P = 0, W = 0)");
        a32_set_index(in, p, u, w, FIELD(hw2, 0, 8));
        wback = w;
        hint_form = (uint32_t)(p && !u && !w);
        if (p && u && !w) {
            in->op = VF_A32_OP_SINGLE_UNPRIV;
            if (t == A32_SP || t == A32_PC)
                return fail(why, VF_ERR_UNDEFINED, "unprivileged load/store with Rt = SP or PC");
        }
    } else {
        return fail(why, VF_ERR_UNDEFINED, "undefined load/store encoding");
    }
    if (wback && n == t)
        return fail(why, VF_ERR_UNDEFINED, "writeback with Rn = Rt");
    if (!l) {
        if (t == A32_PC || (!word && t == A32_SP))
            return fail(why, VF_ERR_UNDEFINED, "store of PC, or byte/halfword store of SP");
        return VF_OK;
    }
    if (!word && t == A32_PC)
        return hint_form && !wback ? hint(why) : fail(why, VF_ERR_UNDEFINED, "byte/halfword load into PC");
    if (!word && t == A32_SP)
        return fail(why, VF_ERR_UNDEFINED, "byte/halfword load into SP");
    return VF_OK;
}

vf_error_t vf_a32_decode_t32(uint32_t hw1, uint32_t hw2, vf_insn_t *in, const char **why)
{
    in->length = 4;
    hw1 &= 0xffffu;
    hw2 &= 0xffffu;
    if ((hw1 & 0xfe40u) == 0xe800u)
        return load_store_multiple(hw1, hw2, in, why);
    if ((hw1 & 0xfe40u) == 0xe840u)
        return load_store_dual(hw1, hw2, in, why);
    if ((hw1 & 0xfe00u) == 0xf800u)
        return load_store_single(hw1, hw2, in, why);
    if ((hw1 & 0xee00u) == 0xec00u)
        return fail(why, VF_ERR_UNSUPPORTED, "coprocessor or VFP/Advanced SIMD load/store: not emulated");
    return fail(why, VF_ERR_UNDEFINED, "not a 32-bit Thumb load/store");
}
