/*
 * AArch64 ISV = 0 by hand: refusals (UNPREDICTABLE, exclusives/atomics,
 * DC ZVA, prefetch), cross-checks with the exit, SP selection, big-endian
 * data, fetch failures. Encodings and results worked out from the Arm ARM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <vcpufault/aarch64.h>

#define PC 0x80001000ull
#define DEVA 0x9000010ull

typedef struct ctx {
    uint32_t insn;
    int fail_fetch;
} ctx_t;

static int read_phys(void *c, uint64_t gpa, void *buf, size_t len)
{
    ctx_t *x = c;
    if (x->fail_fetch || gpa != PC || len != 4)
        return -1;
    memcpy(buf, &x->insn, 4);
    return 0;
}

static vf_aarch64_regs_t base_regs(void)
{
    vf_aarch64_regs_t r;
    memset(&r, 0, sizeof(r));
    r.pc = PC;
    r.pstate = 0x3c5; /* EL1h */
    return r;
}

static uint64_t esr(int write)
{
    return (0x24ull << 26) | (1ull << 25) | (write ? 1ull << 6 : 0) | 0x06u;
}

/* Capture a fault at DEVA (FAR and IPA) with the given instruction. */
static vf_error_t capture(vf_fault_t *f, vf_aarch64_regs_t *r, uint32_t insn, int write, uint64_t far,
                          ctx_t *c)
{
    static vf_host_t host;
    host.read_phys = read_phys;
    host.ctx = c;
    host.flags = VF_HOST_IDENTITY;
    c->insn = insn;
    vf_aarch64_exit_t e = {esr(write), far, (DEVA >> 12) << 4, 0, 0};
    vf_fault_init(f);
    vf_fault_set_split(f, 8);
    return vf_aarch64_capture(f, r, &e, &host);
}

/* Windows drivers: str w8, [x10], #4 (post-index: ISV = 0). */
static void test_str_post_index(void **s)
{
    (void)s;
    ctx_t c = {0, 0};
    vf_fault_t f;
    vf_aarch64_regs_t r = base_regs();
    r.x[8] = 0x11223344aabbccddull;
    r.x[10] = DEVA;
    assert_int_equal(capture(&f, &r, 0xb8004548, 1, DEVA, &c), VF_OK);
    vf_access_t a = vf_fault_access(&f);
    assert_int_equal(a.addr, DEVA);
    assert_int_equal(a.size, 4);
    assert_int_equal(a.dir, VF_DIR_WRITE);
    assert_int_equal(vf_fault_write_value(&f), 0xaabbccdd);
    assert_int_equal(vf_fault_advance(&f), VF_OK);
    assert_int_equal(vf_fault_state(&f), VF_STATE_DONE);
    assert_int_equal(r.x[10], DEVA + 4);
    assert_int_equal(r.pc, PC + 4);
}

static void expect(uint32_t insn, int write, vf_error_t want, uint64_t x1)
{
    ctx_t c = {0, 0};
    vf_fault_t f;
    vf_aarch64_regs_t r = base_regs(), before;
    for (int i = 0; i < 31; i++)
        r.x[i] = DEVA;
    r.x[1] = x1;
    before = r;
    assert_int_equal(capture(&f, &r, insn, write, DEVA, &c), want);
    assert_int_equal(vf_fault_state(&f), VF_STATE_ERROR);
    assert_memory_equal(&r, &before, sizeof(r)); /* nothing written on failure */
    if (want == VF_ERR_INJECT) {
        vf_inject_t inj = vf_fault_injection(&f);
        assert_int_equal(inj.kind, VF_INJECT_ARM_DATA_ABORT);
        assert_int_equal(inj.code, 0x35);
    }
}

static void test_refusals(void **s)
{
    (void)s;
    expect(0xf8408c21, 0, VF_ERR_UNDEFINED, DEVA - 8);  /* ldr x1, [x1, #8]! : writeback into Rt */
    expect(0xf8008c21, 1, VF_ERR_UNDEFINED, DEVA - 8);  /* str x1, [x1, #8]! */
    expect(0xf8408421, 0, VF_ERR_UNDEFINED, DEVA);      /* ldr x1, [x1], #8 */
    expect(0xa9400802, 0, VF_ERR_UNDEFINED, DEVA);      /* ldp x2, x2, [x0] */
    expect(0xa8c10420, 0, VF_ERR_UNDEFINED, DEVA);      /* ldp x0, x1, [x1], #16 */
    expect(0xa9800420, 1, VF_ERR_UNDEFINED, DEVA);      /* stp x0, x1, [x1, #0]! */
    expect(0xc85f7c20, 0, VF_ERR_INJECT, DEVA);         /* ldxr x0, [x1] */
    expect(0xc8007c20, 1, VF_ERR_INJECT, DEVA);         /* stxr w0, x0, [x1] */
    expect(0xc87f0c20, 0, VF_ERR_INJECT, DEVA);         /* ldxp x0, x3, [x1] */
    expect(0xf8200041, 0, VF_ERR_INJECT, DEVA);         /* ldadd x0, x1, [x2] */
    expect(0xf8208041, 0, VF_ERR_INJECT, DEVA);         /* swp x0, x1, [x2] */
    expect(0xc8a07c41, 0, VF_ERR_INJECT, DEVA);         /* cas x0, x1, [x2] */
    expect(0x48207c82, 0, VF_ERR_INJECT, DEVA);         /* casp w0, w1, w2, w3, [x4] */
    expect(0xd50b7420, 1, VF_ERR_UNSUPPORTED, DEVA);    /* dc zva, x0 */
    expect(0xf9800020, 0, VF_ERR_MISMATCH, DEVA);       /* prfm pldl1keep, [x1] */
    expect(0x91000400, 0, VF_ERR_MISMATCH, DEVA);       /* add x0, x0, #1 */
    expect(0xf8200c20, 0, VF_ERR_UNSUPPORTED, DEVA);    /* ldraa x0, [x1] */
    expect(0xf8600820, 0, VF_ERR_UNDEFINED, DEVA);      /* ldr x0, [x1, x0, uxtb]: option 000 reserved */
}

static void test_cross_checks(void **s)
{
    (void)s;
    ctx_t c = {0, 0};
    vf_fault_t f;
    vf_aarch64_regs_t r = base_regs();
    r.x[1] = DEVA;
    /* ldr x0, [x1] reported as a write */
    assert_int_equal(capture(&f, &r, 0xf9400020, 1, DEVA, &c), VF_ERR_MISMATCH);
    /* FAR elsewhere: the guest rewrote the instruction or the register */
    assert_int_equal(capture(&f, &r, 0xf9400020, 0, DEVA + 8, &c), VF_ERR_MISMATCH);
    /* ldp x2, x3, [x1]: FAR may name either element */
    assert_int_equal(capture(&f, &r, 0xa9400c22, 0, DEVA + 8, &c), VF_OK);
    assert_int_equal(vf_fault_access(&f).addr, DEVA);
    /* a tagged base (TBI): FAR's top byte may differ, bits 55:0 must agree */
    r.x[1] = 0x5a00000000000000ull | DEVA;
    assert_int_equal(capture(&f, &r, 0xf9400020, 0, DEVA, &c), VF_OK);
    assert_int_equal(capture(&f, &r, 0xf9400020, 0, DEVA + 0x1000, &c), VF_ERR_MISMATCH);
    r.x[1] = DEVA;
    /* accesses crossing the page boundary */
    r.x[1] = DEVA | 0xffc;
    assert_int_equal(capture(&f, &r, 0xf9400020, 0, DEVA | 0xffc, &c), VF_ERR_UNSUPPORTED);
    /* the IPA's page offset must agree (FnV set: FAR not valid, only the IPA is compared) */
    r.x[1] = DEVA + 0x20;
    vf_host_t host = {read_phys, NULL, &c, VF_HOST_IDENTITY};
    vf_aarch64_exit_t e = {esr(0) | (1u << 10), 0, (DEVA >> 12) << 4, 0, 0};
    c.insn = 0xf9400020;
    vf_fault_init(&f);
    assert_int_equal(vf_aarch64_capture(&f, &r, &e, &host), VF_ERR_MISMATCH);
    e.far = DEVA + 0x20;
    e.hpfar = (DEVA >> 12) << 4;
    assert_int_equal(vf_aarch64_capture(&f, &r, &e, &host), VF_OK);
}

static void test_fetch_failures(void **s)
{
    (void)s;
    ctx_t c = {0, 1};
    vf_fault_t f;
    vf_aarch64_regs_t r = base_regs();
    r.x[1] = DEVA;
    assert_int_equal(capture(&f, &r, 0xf9400020, 0, DEVA, &c), VF_ERR_FETCH);
    vf_aarch64_exit_t e = {esr(0), DEVA, (DEVA >> 12) << 4, 0, 0};
    assert_int_equal(vf_aarch64_capture(&f, &r, &e, NULL), VF_ERR_UNSUPPORTED); /* no host: syndrome only */
    r.pc = PC + 2;
    c.fail_fetch = 0;
    assert_int_equal(capture(&f, &r, 0xf9400020, 0, DEVA, &c), VF_ERR_FETCH);
}

/* str x0, [sp, #-16]! : PSTATE.M selects SP_EL1 (EL1h) or SP_EL0 (EL1t, EL0). */
static void test_sp_selection(void **s)
{
    (void)s;
    static const uint64_t pstates[3] = {0x3c5, 0x3c4, 0x3c0};
    for (int i = 0; i < 3; i++) {
        ctx_t c = {0, 0};
        vf_fault_t f;
        vf_aarch64_regs_t r = base_regs();
        r.pstate = pstates[i];
        r.sp_el0 = i == 0 ? 0x1000 : DEVA + 16;
        r.sp_el1 = i == 0 ? DEVA + 16 : 0x2000;
        r.x[0] = 0x55;
        assert_int_equal(capture(&f, &r, 0xf81f0fe0, 1, DEVA, &c), VF_OK);
        assert_int_equal(vf_fault_write_value(&f), 0x55);
        assert_int_equal(vf_fault_advance(&f), VF_OK);
        assert_int_equal(i == 0 ? r.sp_el1 : r.sp_el0, DEVA);
        assert_int_equal(i == 0 ? r.sp_el0 : r.sp_el1, i == 0 ? 0x1000 : 0x2000);
    }
    ctx_t c = {0, 0};
    vf_fault_t f;
    vf_aarch64_regs_t r = base_regs();
    r.pstate = 0x3c9; /* EL2h: no syndrome, not emulated */
    r.x[1] = DEVA;
    assert_int_equal(capture(&f, &r, 0xf9400020, 0, DEVA, &c), VF_ERR_UNSUPPORTED);
}

/* SCTLR_EL1.EE = 1 at EL1: data is big-endian; E0E governs EL0. */
static void test_big_endian(void **s)
{
    (void)s;
    ctx_t c = {0, 0};
    vf_fault_t f;
    vf_aarch64_regs_t r = base_regs();
    r.sctlr_el1 = 1ull << 25;
    r.x[1] = DEVA;
    /* ldrh w0, [x1], #2: memory bytes 34 12 (value 0x1234 lsb-aligned) read big-endian: 0x3412 */
    assert_int_equal(capture(&f, &r, 0x78402420, 0, DEVA, &c), VF_OK);
    assert_int_equal(vf_fault_set_read_value(&f, 0x1234), VF_OK);
    assert_int_equal(vf_fault_advance(&f), VF_OK);
    assert_int_equal(r.x[0], 0x3412);
    assert_int_equal(r.x[1], DEVA + 2);
    /* stp x2, x3, [x1, #-2]!... kept simple: str x2, [x1], #8 writes the bytes of x2 most significant first */
    r = base_regs();
    r.sctlr_el1 = 1ull << 25;
    r.x[1] = DEVA;
    r.x[2] = 0x0102030405060708ull;
    assert_int_equal(capture(&f, &r, 0xf8008422, 1, DEVA, &c), VF_OK);
    assert_int_equal(vf_fault_write_value(&f), 0x0807060504030201ull);
    /* ldr q0, [x1], #16: 16 bytes reversed as a whole */
    r = base_regs();
    r.sctlr_el1 = 1ull << 25;
    r.x[1] = DEVA;
    assert_int_equal(capture(&f, &r, 0x3cc10420, 0, DEVA, &c), VF_OK);
    assert_int_equal(vf_fault_set_read_value(&f, 0x0706050403020100ull), VF_OK); /* bytes at +0..7 */
    assert_int_equal(vf_fault_advance(&f), VF_OK);
    assert_int_equal(vf_fault_set_read_value(&f, 0x0f0e0d0c0b0a0908ull), VF_OK); /* +8..15 */
    assert_int_equal(vf_fault_advance(&f), VF_OK);
    assert_int_equal(vf_fault_state(&f), VF_STATE_DONE);
    assert_int_equal(r.v[0].hi, 0x0001020304050607ull);
    assert_int_equal(r.v[0].lo, 0x08090a0b0c0d0e0full);
    /* at EL0 E0E decides: EE alone leaves EL0 little-endian */
    r = base_regs();
    r.pstate = 0x3c0;
    r.sctlr_el1 = 1ull << 25;
    r.x[1] = DEVA;
    assert_int_equal(capture(&f, &r, 0x78402420, 0, DEVA, &c), VF_OK);
    assert_int_equal(vf_fault_set_read_value(&f, 0x1234), VF_OK);
    assert_int_equal(vf_fault_advance(&f), VF_OK);
    assert_int_equal(r.x[0], 0x1234);
}

/* Pure decoder: what the descriptor says for a few well-known encodings. */
static void test_decoder_fields(void **s)
{
    (void)s;
    vf_insn_t in;
    vf_a64_ldst_t x;
    /* ldpsw x3, x4, [sp, #-8]! : opc 01, pre-index, imm7 = -2 (scaled by 4) */
    assert_int_equal(vf_aarch64_decode(0x69ff13e3, &in, &x, NULL), VF_OK);
    assert_int_equal(in.op, VF_A64_OP_PAIR);
    assert_int_equal(in.size, 4);
    assert_int_equal(in.count, 2);
    assert_int_equal(in.imm, -8);
    assert_int_equal(in.rt, 3);
    assert_int_equal(in.rt2, 4);
    assert_int_equal(in.rn, 31);
    assert_int_equal(in.flags & (VF_INSN_SIGNED | VF_INSN_WRITEBACK | VF_INSN_POSTINDEX),
                     VF_INSN_SIGNED | VF_INSN_WRITEBACK);
    /* ld4 {v0.4s-v3.4s}, [x1], #64 */
    assert_int_equal(vf_aarch64_decode(0x4cdf0820, &in, &x, NULL), VF_OK);
    assert_int_equal(in.op, VF_A64_OP_STRUCT_MULTI);
    assert_int_equal(in.count, 4);
    assert_int_equal(in.size, 16);
    assert_int_equal(x.selem, 4);
    assert_int_equal(x.esize, 4);
    assert_int_equal(in.imm, 64);
    /* ld3r {v0.8h-v2.8h}, [x1] */
    assert_int_equal(vf_aarch64_decode(0x4d40e420, &in, &x, NULL), VF_OK);
    assert_int_equal(in.op, VF_A64_OP_STRUCT_REPL);
    assert_int_equal(in.count, 3);
    assert_int_equal(in.size, 2);
    /* ld2 {v0.1d, v1.1d}: reserved */
    assert_int_equal(vf_aarch64_decode(0x0c408c20, &in, &x, NULL), VF_ERR_UNDEFINED);
    /* LDTR-form with V = 1 (bits 11:10 = 10): no unprivileged SIMD&FP load */
    assert_int_equal(vf_aarch64_decode(0x3c400820, &in, &x, NULL), VF_ERR_UNDEFINED);
    /* LDNP with opc = 01 (LDPSW has no non-temporal form) */
    assert_int_equal(vf_aarch64_decode(0x68400c22, &in, &x, NULL), VF_ERR_UNDEFINED);
    /* ld1 {v0.h}[0] with size<0> = 1: unallocated */
    assert_int_equal(vf_aarch64_decode(0x0d404420, &in, &x, NULL), VF_ERR_UNDEFINED);
    /* ldr q0, [x1, #16] with opc = 11, size = 01: unallocated */
    assert_int_equal(vf_aarch64_decode(0x7dc00420, &in, &x, NULL), VF_ERR_UNDEFINED);
    /* ldr x0, [x1, w2, sxtw #3] */
    assert_int_equal(vf_aarch64_decode(0xf862d820, &in, &x, NULL), VF_OK);
    assert_int_equal(x.mode, VF_A64_AM_REG);
    assert_int_equal(x.extend, 6);
    assert_int_equal(x.shift, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str_post_index), cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_cross_checks),   cmocka_unit_test(test_fetch_failures),
        cmocka_unit_test(test_sp_selection),   cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_decoder_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
