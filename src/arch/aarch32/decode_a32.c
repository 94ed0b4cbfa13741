/*
 * A32 load/store decoding (ARMv7-A ARM A5.2.7 extra load/store, A5.3
 * load/store word and unsigned byte, A5.5 block transfer). One function per
 * encoding family; UNPREDICTABLE forms are refused as undefined.
 */
#include "a32.h"

#define BIT(w, n) (((w) >> (n)) & 1u)
#define FIELD(w, lo, bits) (((w) >> (lo)) & ((1u << (bits)) - 1u))

static vf_error_t undef(const char **why, const char *text)
{
    *why = text;
    return VF_ERR_UNDEFINED;
}

/* LDRH/STRH/LDRSB/LDRSH/LDRD/STRD and the unprivileged LDRHT/STRHT/LDRSBT/LDRSHT. */
static vf_error_t extra_load_store(uint32_t w, vf_insn_t *in, const char **why)
{
    uint32_t p = BIT(w, 24), u = BIT(w, 23), imm_form = BIT(w, 22), wb = BIT(w, 21), l = BIT(w, 20);
    uint32_t n = FIELD(w, 16, 4), t = FIELD(w, 12, 4), m = FIELD(w, 0, 4);
    const a32_kind_t *k = &vf_a32_extra_kinds[FIELD(w, 5, 2) << 1 | l];
    int unpriv = !p && wb;

    if (unpriv && k->dual)
        return undef(why, "LDRD/STRD with P = 0, W = 1");
    if (k->dual && (t & 1u))
        return undef(why, "LDRD/STRD with an odd Rt");
    a32_set_single(in, k, t, n);
    a32_set_index(in, p, u, wb, FIELD(w, 8, 4) << 4 | m);
    if (!imm_form) {
        in->rm = (uint8_t)m;
        in->imm = 0;
        in->aux = (uint8_t)((u ? 0u : A32_AUX_SUB) | A32_AUX_SHIFT(A32_SHIFT_LSL, 0));
        if (m == A32_PC)
            return undef(why, "register offset Rm = PC");
        if (FIELD(w, 8, 4) != 0)
            return undef(why, "register offset with should-be-zero bits 11:8 set");
        if (k->dual && (m == t || m == t + 1u) && !k->write)
            return undef(why, "LDRD register offset Rm is Rt or Rt2");
    }
    if (unpriv) {
        in->op = VF_A32_OP_SINGLE_UNPRIV;
        if (t == A32_PC || n == A32_PC || n == t)
            return undef(why, "unprivileged load/store with Rt = PC, Rn = PC or Rn = Rt");
        return VF_OK;
    }
    int wback = !p || wb;
    if (k->dual) {
        if (t + 1u == A32_PC)
            return undef(why, "LDRD/STRD with Rt2 = PC");
        if (wback && (n == A32_PC || n == t || n == t + 1u))
            return undef(why, "LDRD/STRD writeback with Rn = PC, Rt or Rt2");
        return VF_OK;
    }
    if (t == A32_PC)
        return undef(why, "halfword or signed byte transfer of PC");
    if (wback && (n == A32_PC || n == t))
        return undef(why, "writeback with Rn = PC or Rn = Rt");
    return VF_OK;
}

/* LDR/STR/LDRB/STRB (immediate or scaled register offset) and LDRT/STRT/LDRBT/STRBT. */
static vf_error_t load_store_word_byte(uint32_t w, vf_insn_t *in, const char **why)
{
    uint32_t reg_form = BIT(w, 25), p = BIT(w, 24), u = BIT(w, 23), b = BIT(w, 22);
    uint32_t wb = BIT(w, 21), l = BIT(w, 20);
    uint32_t n = FIELD(w, 16, 4), t = FIELD(w, 12, 4), m = FIELD(w, 0, 4);
    a32_kind_t k = {(uint8_t)(b ? 1 : 4), 0, (uint8_t)!l, 0};
    int unpriv = !p && wb;

    if (reg_form && BIT(w, 4))
        return undef(why, "media instruction, not a load/store");
    a32_set_single(in, &k, t, n);
    a32_set_index(in, p, u, wb, reg_form ? 0u : FIELD(w, 0, 12));
    if (reg_form) {
        in->rm = (uint8_t)m;
        in->imm = 0;
        in->aux = (uint8_t)((u ? 0u : A32_AUX_SUB) | A32_AUX_SHIFT(FIELD(w, 5, 2), FIELD(w, 7, 5)));
        if (m == A32_PC)
            return undef(why, "register offset Rm = PC");
    }
    if (b && t == A32_PC)
        return undef(why, "byte transfer of PC");
    if (unpriv) {
        in->op = VF_A32_OP_SINGLE_UNPRIV;
        if (n == A32_PC || n == t || (l && t == A32_PC))
            return undef(why, "unprivileged load/store with Rn = PC, Rn = Rt or LDRT to PC");
        return VF_OK;
    }
    if ((!p || wb) && (n == A32_PC || n == t))
        return undef(why, "writeback with Rn = PC or Rn = Rt");
    return VF_OK;
}

/* LDM/STM IA/IB/DA/DB (PUSH/POP are STMDB/LDMIA on SP). */
static vf_error_t block_transfer(uint32_t w, vf_insn_t *in, const char **why)
{
    uint32_t p = BIT(w, 24), u = BIT(w, 23), s = BIT(w, 22), wb = BIT(w, 21), l = BIT(w, 20);
    uint32_t n = FIELD(w, 16, 4), list = FIELD(w, 0, 16);

    if (s) {
        *why = "LDM/STM of user-mode registers or exception return";
        return VF_ERR_UNSUPPORTED;
    }
    if (n == A32_PC || list == 0)
        return undef(why, "LDM/STM with Rn = PC or an empty register list");
    if (wb && BIT(list, n)) {
        /* STM stores the original base if it is the lowest register; anything else is UNPREDICTABLE. */
        if (l || (list & ((1u << n) - 1u)) != 0)
            return undef(why, "LDM/STM writeback with Rn in the list");
    }
    a32_set_multi(in, list, n, p, u, wb, l);
    return VF_OK;
}

/* SWP/SWPB and the exclusives: bits 27:24 = 0001, bits 7:4 = 1001. */
static vf_error_t synchronization(uint32_t w, const char **why)
{
    if (BIT(w, 24)) {
        *why = "exclusive or swap on device memory: inject a data abort";
        return VF_ERR_INJECT;
    }
    (void)w;
    return undef(why, "multiply, not a load/store");
}

vf_error_t vf_a32_decode_arm(uint32_t w, vf_insn_t *in, const char **why)
{
    in->length = 4;
    if ((w >> 28) == 0xfu) {
        *why = "unconditional instruction space (PLD, SRS, RFE, LDC2...): not emulated";
        return VF_ERR_UNSUPPORTED;
    }
    switch (FIELD(w, 25, 3)) {
    case 0:
        if ((w & 0x90u) != 0x90u)
            return undef(why, "data processing, not a load/store");
        if (FIELD(w, 5, 2) == 0)
            return synchronization(w, why);
        return extra_load_store(w, in, why);
    case 2:
    case 3:
        return load_store_word_byte(w, in, why);
    case 4:
        return block_transfer(w, in, why);
    case 6:
        *why = "coprocessor or VFP/Advanced SIMD load/store: not emulated";
        return VF_ERR_UNSUPPORTED;
    default:
        return undef(why, "not a load/store instruction");
    }
}
