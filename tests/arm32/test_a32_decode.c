/*
 * AArch32 decoders and capture: encodings the ARMv7-A ARM makes
 * UNPREDICTABLE, UNDEFINED or otherwise not emulable, each worked out by hand
 * from the encoding diagrams, and the syndrome checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <arch/aarch32/a32.h>

enum { A32, T16, T32 };

typedef struct dcase {
    int set;
    uint32_t insn; /* T32: hw1 << 16 | hw2 */
    vf_error_t want;
    const char *what;
} dcase_t;

static const dcase_t cases[] = {
    /* A32 single */
    {A32, 0xe4900004, VF_ERR_UNDEFINED, "LDR r0, [r0], #4: writeback with Rn == Rt"},
    {A32, 0xe5bf0004, VF_ERR_UNDEFINED, "LDR r0, [pc, #4]!: writeback of PC"},
    {A32, 0xe5dff000, VF_ERR_UNDEFINED, "LDRB pc, [pc]"},
    {A32, 0xe790f00f, VF_ERR_UNDEFINED, "LDR pc, [r0, pc]: Rm = PC"},
    {A32, 0xe4b0f004, VF_ERR_UNDEFINED, "LDRT pc, [r0], #4"},
    {A32, 0xe4a00004, VF_ERR_UNDEFINED, "STRT r0, [r0], #4: Rn == Rt"},
    {A32, 0xe0f010b2, VF_OK, "LDRHT r1, [r0], #2"},
    {A32, 0xe59ff004, VF_OK, "LDR pc, [pc, #4]: interworking load"},
    {A32, 0xe58ff000, VF_OK, "STR pc, [pc]: stores PC + 8"},
    /* A32 extra and dual */
    {A32, 0xe1c010d0, VF_ERR_UNDEFINED, "LDRD r1, r2: odd Rt"},
    {A32, 0xe1c0e0d0, VF_ERR_UNDEFINED, "LDRD r14, pc: Rt2 = PC"},
    {A32, 0xe1e000d8, VF_ERR_UNDEFINED, "LDRD r0, r1, [r0, #8]!: writeback with Rn == Rt"},
    {A32, 0xe08200d1, VF_ERR_UNDEFINED, "LDRD r0, r1, [r2], r1: Rm == Rt2"},
    {A32, 0xe1d0f0b0, VF_ERR_UNDEFINED, "LDRH pc, [r0]"},
    {A32, 0xe0e000f0, VF_ERR_UNDEFINED, "STRD with P = 0, W = 1"},
    /* A32 block transfer */
    {A32, 0xe8900000, VF_ERR_UNDEFINED, "LDM r0, {}: empty list"},
    {A32, 0xe8b00003, VF_ERR_UNDEFINED, "LDMIA r0!, {r0, r1}: Rn in the list"},
    {A32, 0xe8a00003, VF_OK, "STMIA r0!, {r0, r1}: Rn lowest, stores the original"},
    {A32, 0xe8a10003, VF_ERR_UNDEFINED, "STMIA r1!, {r0, r1}: Rn not lowest"},
    {A32, 0xe89f0003, VF_ERR_UNDEFINED, "LDM pc, {r0, r1}"},
    {A32, 0xe8d00006, VF_ERR_UNSUPPORTED, "LDM r0, {r1, r2}^: user registers"},
    /* A32 other */
    {A32, 0xe1000091, VF_ERR_INJECT, "SWP r0, r1, [r0]"},
    {A32, 0xe1910f9f, VF_ERR_INJECT, "LDREX r0, [r1]"},
    {A32, 0xe0000091, VF_ERR_UNDEFINED, "MUL r0, r1, r0"},
    {A32, 0xe0800001, VF_ERR_UNDEFINED, "ADD r0, r0, r1"},
    {A32, 0xed900a00, VF_ERR_UNSUPPORTED, "VLDR s0, [r0]"},
    {A32, 0xf5d0f000, VF_ERR_UNSUPPORTED, "PLD [r0]: unconditional space"},
    {A32, 0xe7f000f0, VF_ERR_UNDEFINED, "UDF (media space)"},
    /* T16 */
    {T16, 0xbc00, VF_ERR_UNDEFINED, "POP {}"},
    {T16, 0xb400, VF_ERR_UNDEFINED, "PUSH {}"},
    {T16, 0xc000, VF_ERR_UNDEFINED, "STMIA r0!, {}"},
    {T16, 0xc006, VF_OK, "STMIA r0!, {r1, r2}"},
    {T16, 0xc103, VF_ERR_UNDEFINED, "STMIA r1!, {r0, r1}: Rn not lowest"},
    {T16, 0xc803, VF_OK, "LDMIA r0, {r0, r1}: no writeback"},
    {T16, 0x4408, VF_ERR_UNDEFINED, "ADD r0, r1"},
    {T16, 0xbd00, VF_OK, "POP {pc}"},
    /* T32 block transfer */
    {T32, 0xe8bd0001, VF_ERR_UNDEFINED, "LDMIA sp!, {r0}: fewer than two registers"},
    {T32, 0xe8bdc003, VF_ERR_UNDEFINED, "LDMIA sp!, {r0, r1, lr, pc}"},
    {T32, 0xe8ad8003, VF_ERR_UNDEFINED, "STMIA sp!, {r0, r1, pc}"},
    {T32, 0xe8b02003, VF_ERR_UNDEFINED, "LDMIA r0!, {r0, r1, sp}"},
    {T32, 0xe8b00003, VF_ERR_UNDEFINED, "LDMIA r0!, {r0, r1}: Rn in the list"},
    {T32, 0xe92d4003, VF_OK, "PUSH.W {r0, r1, lr}"},
    {T32, 0xe9900003, VF_ERR_UNSUPPORTED, "RFEIA r0"},
    /* T32 dual, exclusive, table branch */
    {T32, 0xe8500f00, VF_ERR_INJECT, "LDREX r0, [r0]"},
    {T32, 0xe8d0f000, VF_ERR_UNSUPPORTED, "TBB [r0, r0]"},
    {T32, 0xe9d00000, VF_ERR_UNDEFINED, "LDRD r0, r0, [r0]: Rt == Rt2"},
    {T32, 0xe9d0d100, VF_ERR_UNDEFINED, "LDRD sp, r1, [r0]"},
    {T32, 0xe9f00100, VF_ERR_UNDEFINED, "LDRD r0, r1, [r0, #0]!: Rn == Rt"},
    {T32, 0xe9cf0100, VF_ERR_UNDEFINED, "STRD r0, r1, [pc]"},
    {T32, 0xe9df0102, VF_OK, "LDRD r0, r1, [pc, #8] (literal)"},
    /* T32 single */
    {T32, 0xf8500d04, VF_ERR_UNDEFINED, "LDR r0, [r0, #-4]!: Rn == Rt"},
    {T32, 0xf810f000, VF_ERR_MISMATCH, "LDRB pc, [r0, r0] = PLD: no access"},
    {T32, 0xf800f000, VF_ERR_UNDEFINED, "STRB pc, [r0, r0]"},
    {T32, 0xf8dff004, VF_OK, "LDR pc, [pc, #4]"},
    {T32, 0xf80f0000, VF_ERR_UNDEFINED, "STRB r0, [pc, ...]"},
    {T32, 0xf8700000, VF_ERR_UNDEFINED, "size 0b11"},
    {T32, 0xf8500800, VF_ERR_UNDEFINED, "LDR imm8 with P = 0, W = 0"},
    {T32, 0xf8500e04, VF_OK, "LDRT r0, [r0, #4]"},
    {T32, 0xf850fe04, VF_ERR_UNDEFINED, "LDRT pc, [r0, #4]"},
    {T32, 0xf850d00d, VF_ERR_UNDEFINED, "LDR sp, [r0, sp]: Rm = SP"},
    {T32, 0xf9b0d000, VF_ERR_UNDEFINED, "LDRSH sp, [r0]"},
    {T32, 0xf9100000, VF_OK, "LDRSB r0, [r0, r0]"},
    {T32, 0xf9500000, VF_ERR_UNDEFINED, "LDRSW does not exist"},
    {T32, 0xed900a00, VF_ERR_UNSUPPORTED, "VLDR s0, [r0]"},
    {T32, 0xfb00f000, VF_ERR_UNDEFINED, "MUL: not a load/store"},
};

static void test_decode_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const dcase_t *c = &cases[i];
        vf_insn_t in;
        const char *why = "";
        vf_error_t e;
        memset(&in, 0, sizeof(in));
        if (c->set == A32)
            e = vf_a32_decode_arm(c->insn, &in, &why);
        else if (c->set == T16)
            e = vf_a32_decode_t16(c->insn, &in, &why);
        else
            e = vf_a32_decode_t32(c->insn >> 16, c->insn & 0xffff, &in, &why);
        if (e != c->want) {
            fprintf(stderr, "%#x %s: got %s (%s), want %s\n", c->insn, c->what, vf_error_name(e), why,
                    vf_error_name(c->want));
            fail();
        }
    }
}

/* Hand-worked descriptors for a few forms. */
static void test_decode_fields(void **state)
{
    (void)state;
    vf_insn_t in;
    const char *why;
    memset(&in, 0, sizeof(in));
    /* LDMDB r5!, {r1, r3, r7}: lowest address r5 - 12, writeback r5 - 12. */
    assert_int_equal(vf_a32_decode_arm(0xe935008a, &in, &why), VF_OK);
    assert_int_equal(in.op, VF_A32_OP_MULTI);
    assert_int_equal(in.count, 3);
    assert_int_equal(in.imm, -12);
    assert_int_equal(in.aux & A32_AUX_SUB, A32_AUX_SUB);
    assert_int_equal(in.flags & VF_INSN_WRITEBACK, VF_INSN_WRITEBACK);
    /* LDRSH r2, [r3, -r4]!: sign, register offset subtracted, pre-index writeback. */
    memset(&in, 0, sizeof(in));
    assert_int_equal(vf_a32_decode_arm(0xe13320f4, &in, &why), VF_OK);
    assert_int_equal(in.size, 2);
    assert_int_equal(in.flags & (VF_INSN_SIGNED | VF_INSN_WRITEBACK | VF_INSN_POSTINDEX),
                     VF_INSN_SIGNED | VF_INSN_WRITEBACK);
    assert_int_equal(in.rm, 4);
    assert_int_equal(in.aux, A32_AUX_SUB);
    /* T32 LDRH.W r1, [r2, r3, LSL #2]. */
    memset(&in, 0, sizeof(in));
    assert_int_equal(vf_a32_decode_t32(0xf832, 0x1023, &in, &why), VF_OK);
    assert_int_equal(in.size, 2);
    assert_int_equal(in.rt, 1);
    assert_int_equal(in.rn, 2);
    assert_int_equal(in.rm, 3);
    assert_int_equal(in.aux, A32_AUX_SHIFT(A32_SHIFT_LSL, 2));
    assert_int_equal(in.length, 4);
    /* 32-bit Thumb prefixes. */
    assert_true(vf_a32_is_t32(0xe800));
    assert_true(vf_a32_is_t32(0xf000));
    assert_true(vf_a32_is_t32(0xffff));
    assert_false(vf_a32_is_t32(0xe7ff));
}

/* Syndrome fields no AArch32 instruction produces. */
static void test_syndrome(void **state)
{
    (void)state;
    vf_insn_t in;
    const char *why;
    memset(&in, 0, sizeof(in));
    assert_int_equal(vf_a32_decode_syndrome(0x93c00007, 0, 0, 0x13, &in, &why), VF_ERR_UNDEFINED); /* SAS = 3 */
    assert_int_equal(vf_a32_decode_syndrome(0x93200047, 0, 0, 0x13, &in, &why), VF_ERR_UNDEFINED); /* SSE store */
    assert_int_equal(vf_a32_decode_syndrome(0x93a00007, 0, 0, 0x13, &in, &why), VF_ERR_UNDEFINED); /* SSE word */
    assert_int_equal(vf_a32_decode_syndrome(0x91000007, 0, 0, 0x13, &in, &why), VF_ERR_INVALID);   /* IL = 0 in ARM */
    assert_int_equal(vf_a32_decode_syndrome(0x91000007, 1, 0, 0x13, &in, &why), VF_OK);
    assert_int_equal(in.length, 2);
    /* ESR_EL2 view: X24 is R8_fiq, seen as r8 only in FIQ mode; X8 is then another bank. */
    assert_int_equal(vf_a32_decode_syndrome(0x93980007, 0, 1, 0x11, &in, &why), VF_OK);
    assert_int_equal(in.rt, 8);
    assert_int_equal(vf_a32_decode_syndrome(0x93880007, 0, 1, 0x11, &in, &why), VF_ERR_UNSUPPORTED);
    assert_int_equal(vf_a32_decode_syndrome(0x938e0007, 0, 1, 0x1f, &in, &why), VF_OK); /* LR in SYS */
    assert_int_equal(in.rt, 14);
}

static int no_mem(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    (void)ctx, (void)gpa, (void)buf, (void)len;
    return -1;
}

/* Capture-level behaviour: ISV = 1 load of PC interworks; a Thumb CM skip advances IT. */
static void test_capture(void **state)
{
    (void)state;
    vf_fault_t f;
    vf_aarch32_regs_t r;
    vf_aarch32_exit_t x = {0x93cf0007 & ~0x00400000u, 0x9000000, 0x90000, 0, 0}; /* LDR pc (SAS 2), ISV */
    memset(&r, 0, sizeof(r));
    r.r[15] = 0x8000;
    r.cpsr = 0x13;
    vf_fault_init(&f);
    assert_int_equal(vf_aarch32_capture(&f, &r, &x, NULL), VF_OK);
    assert_int_equal(vf_fault_set_read_value(&f, 0x4001), VF_OK);
    assert_int_equal(vf_fault_advance(&f), VF_OK);
    assert_int_equal(r.r[15], 0x4000);
    assert_int_equal(r.cpsr, 0x33);

    /* CM = 1 in Thumb inside IT (IT = 0x04: two more): skip moves PC by 4 and advances IT to 0x08. */
    vf_aarch32_exit_t cm = {0x92000107, 0x9000000, 0x90000, 0, 0};
    memset(&r, 0, sizeof(r));
    r.r[15] = 0x8000;
    r.cpsr = 0x40000430;
    vf_fault_init(&f);
    assert_int_equal(vf_aarch32_capture(&f, &r, &cm, NULL), VF_ERR_NOT_MMIO);
    assert_int_equal(vf_fault_skip(&f), VF_OK);
    assert_int_equal(r.r[15], 0x8004);
    assert_int_equal(r.cpsr, 0x40000830);

    /* ISV = 0 with no host memory: fetch; registers untouched. */
    vf_aarch32_exit_t nisv = {0x92000007, 0x9000000, 0x90000, 0, 0};
    vf_host_t h = {no_mem, NULL, NULL, 0};
    r.cpsr = 0x13;
    vf_fault_init(&f);
    assert_int_equal(vf_aarch32_capture(&f, &r, &nisv, NULL), VF_ERR_FETCH);
    assert_int_equal(vf_aarch32_capture(&f, &r, &nisv, &h), VF_ERR_FETCH);
    assert_int_equal(r.r[15], 0x8004);

    /* Jazelle state is refused. */
    r.cpsr = 0x01000013;
    assert_int_equal(vf_aarch32_capture(&f, &r, &nisv, &h), VF_ERR_UNSUPPORTED);
    /* IPA reported as HPFAR.FIPA << 12 | HDFAR[11:0]. */
    assert_int_equal(vf_aarch32_ipa(0x00123450, 0xdeadbabe), 0x12345abeull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_table),
        cmocka_unit_test(test_decode_fields),
        cmocka_unit_test(test_syndrome),
        cmocka_unit_test(test_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
