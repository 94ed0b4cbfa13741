/*
 * AArch32 decoders against Capstone on random encodings: whenever the library
 * accepts an encoding as a load/store, Capstone (an independent decoder) must
 * see the same instruction class, direction, access size, unprivileged form,
 * register list size, Rt/Rt2, base register and instruction length. This
 * catches a decoder that takes a non-load/store for one, or misreads a field,
 * anywhere in the encoding space (the Unicorn test only generates valid
 * loads/stores). Capstone accepts many UNPREDICTABLE forms the library
 * refuses; those are only counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <capstone/capstone.h>
#include <cmocka.h>
#include <arch/aarch32/a32.h>

#define SAMPLES 150000

static uint64_t rng = 0x5eed;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* What Capstone's instruction id says: direction, bytes per access, multi, unprivileged. */
typedef struct cs_kind {
    unsigned id;
    uint8_t store, size, multi, unpriv;
} cs_kind_t;

static const cs_kind_t kinds[] = {
    {ARM_INS_LDR, 0, 4, 0, 0},   {ARM_INS_LDRB, 0, 1, 0, 0},  {ARM_INS_LDRH, 0, 2, 0, 0},
    {ARM_INS_LDRSB, 0, 1, 0, 0}, {ARM_INS_LDRSH, 0, 2, 0, 0}, {ARM_INS_LDRD, 0, 4, 0, 0},
    {ARM_INS_STR, 1, 4, 0, 0},   {ARM_INS_STRB, 1, 1, 0, 0},  {ARM_INS_STRH, 1, 2, 0, 0},
    {ARM_INS_STRD, 1, 4, 0, 0},  {ARM_INS_LDRT, 0, 4, 0, 1},  {ARM_INS_LDRBT, 0, 1, 0, 1},
    {ARM_INS_LDRHT, 0, 2, 0, 1}, {ARM_INS_LDRSBT, 0, 1, 0, 1}, {ARM_INS_LDRSHT, 0, 2, 0, 1},
    {ARM_INS_STRT, 1, 4, 0, 1},  {ARM_INS_STRBT, 1, 1, 0, 1}, {ARM_INS_STRHT, 1, 2, 0, 1},
    {ARM_INS_LDM, 0, 4, 1, 0},   {ARM_INS_LDMIB, 0, 4, 1, 0}, {ARM_INS_LDMDA, 0, 4, 1, 0},
    {ARM_INS_LDMDB, 0, 4, 1, 0}, {ARM_INS_POP, 0, 4, 1, 0},   {ARM_INS_STM, 1, 4, 1, 0},
    {ARM_INS_STMIB, 1, 4, 1, 0}, {ARM_INS_STMDA, 1, 4, 1, 0}, {ARM_INS_STMDB, 1, 4, 1, 0},
    {ARM_INS_PUSH, 1, 4, 1, 0},
};

static const cs_kind_t *kind_of(unsigned id)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i].id == id)
            return &kinds[i];
    return NULL;
}

static int regno(unsigned reg)
{
    if (reg == ARM_REG_SP)
        return 13;
    if (reg == ARM_REG_LR)
        return 14;
    if (reg == ARM_REG_PC)
        return 15;
    if (reg >= ARM_REG_R0 && reg <= ARM_REG_R12)
        return (int)(reg - ARM_REG_R0);
    return -1;
}

typedef struct tally {
    unsigned accepted, refused_cs_ldst, other, bad;
} tally_t;

/* Compare one accepted encoding with Capstone; returns a static reason or NULL. */
static const char *compare(const vf_insn_t *in, const cs_insn *ci)
{
    const cs_kind_t *k = kind_of(ci->id);
    const cs_arm *d = &ci->detail->arm;
    int store = (in->flags & VF_INSN_WRITE) != 0;
    if (k == NULL)
        return "Capstone says this is not a load/store";
    if (ci->size != in->length)
        return "instruction length differs";
    if (k->store != store)
        return "direction differs";
    if (k->multi) {
        unsigned regs = 0;
        for (unsigned i = (ci->id == ARM_INS_POP || ci->id == ARM_INS_PUSH) ? 0 : 1; i < d->op_count; i++)
            regs += d->operands[i].type == ARM_OP_REG;
        /* A one-register PUSH/POP is the library's LDR/STR [sp], #4 / [sp, #-4]!. */
        if (in->op == VF_A32_OP_SINGLE && regs == 1 && in->size == 4 && in->rn == A32_SP)
            return NULL;
        if (in->op != VF_A32_OP_MULTI)
            return "Capstone says LDM/STM";
        return regs == in->count ? NULL : "register count differs";
    }
    if (in->op == VF_A32_OP_MULTI)
        return "Capstone says a single load/store";
    if (k->size != in->size)
        return "access size differs";
    if (k->unpriv != (in->op == VF_A32_OP_SINGLE_UNPRIV))
        return "unprivileged form differs";
    if (d->op_count < 2 || regno(d->operands[0].reg) != in->rt)
        return "Rt differs";
    unsigned mem = 1;
    if (in->op == VF_A32_OP_DUAL) {
        if (regno(d->operands[1].reg) != in->rt2)
            return "Rt2 differs";
        mem = 2;
    }
    if (mem >= d->op_count || d->operands[mem].type != ARM_OP_MEM)
        return "no memory operand";
    if (regno(d->operands[mem].mem.base) != in->rn)
        return "base register differs";
    return NULL;
}

static void run(int set, tally_t *t)
{
    csh h;
    assert_int_equal(cs_open(CS_ARCH_ARM, set == 0 ? CS_MODE_ARM : CS_MODE_THUMB, &h), CS_ERR_OK);
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    for (unsigned i = 0; i < SAMPLES; i++) {
        uint32_t w = rnd(), hw1 = 0, hw2 = 0;
        uint8_t bytes[4];
        vf_insn_t in;
        const char *why = "";
        vf_error_t e;
        memset(&in, 0, sizeof(in));
        if (set == 0) {
            /* Bias towards the load/store spaces: bits 27:25 in 000, 010, 011, 100. */
            static const uint32_t op[4] = {0u, 2u, 3u, 4u};
            w = (w & ~0x0e000000u) | op[w >> 30 & 3] << 25;
            if ((w >> 28) == 0xf)
                w &= 0xefffffffu;
            e = vf_a32_decode_arm(w, &in, &why);
            for (unsigned b = 0; b < 4; b++)
                bytes[b] = (uint8_t)(w >> (8 * b));
        } else if (set == 1) {
            hw1 = w & 0xffffu;
            if (vf_a32_is_t32(hw1))
                hw1 &= 0x7fffu; /* keep it a 16-bit instruction */
            e = vf_a32_decode_t16(hw1, &in, &why);
            bytes[0] = (uint8_t)hw1, bytes[1] = (uint8_t)(hw1 >> 8), bytes[2] = bytes[3] = 0;
        } else {
            hw1 = 0xe800u | (w & 0x17ffu); /* 0xe800-0xffff in the load/store spaces */
            hw1 |= (w >> 16 & 1) ? 0x1000u : 0;
            if ((w >> 17 & 3) == 0)
                hw1 = 0xf800u | (w & 0x01ffu);
            hw2 = rnd() & 0xffffu;
            e = vf_a32_decode_t32(hw1, hw2, &in, &why);
            bytes[0] = (uint8_t)hw1, bytes[1] = (uint8_t)(hw1 >> 8);
            bytes[2] = (uint8_t)hw2, bytes[3] = (uint8_t)(hw2 >> 8);
        }
        cs_insn *ci = NULL;
        size_t n = cs_disasm(h, bytes, set == 1 ? 2 : 4, 0x10000, 1, &ci);
        if (e == VF_OK) {
            const char *bad = n == 1 ? compare(&in, ci) : "Capstone cannot decode it";
            if (bad != NULL) {
                if (t->bad++ < 20)
                    fprintf(stderr, "%s %#x %#x: %s (Capstone: %s %s)\n", set == 0 ? "A32" : set == 1 ? "T16" : "T32",
                            set == 0 ? w : hw1, hw2, bad, n == 1 ? ci->mnemonic : "-", n == 1 ? ci->op_str : "");
            } else {
                t->accepted++;
            }
        } else if (n == 1 && kind_of(ci->id) != NULL) {
            t->refused_cs_ldst++;
        } else {
            t->other++;
        }
        if (n > 0)
            cs_free(ci, n);
    }
    cs_close(&h);
}

static void test_capstone(void **state)
{
    (void)state;
    static const char *const names[] = {"A32", "T16", "T32"};
    for (int set = 0; set < 3; set++) {
        tally_t t = {0, 0, 0, 0};
        run(set, &t);
        printf("%s: %u accepted and agree with Capstone, %u load/store forms refused "
               "(UNPREDICTABLE or not emulated), %u other\n", names[set], t.accepted, t.refused_cs_ldst, t.other);
        assert_int_equal(t.bad, 0);
        assert_true(t.accepted > SAMPLES / 20);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_capstone)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
