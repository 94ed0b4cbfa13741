/*
 * AArch64 data aborts with a valid syndrome (ISV = 1): every SAS x SSE x SF x
 * SRT x WnR x AR combination. Expected results come from the instructions
 * themselves (Arm ARM C6: LDRB/LDRSH/LDRSW/STR...), written as C casts, not
 * from the syndrome fields the library reads.
 */
#include <string.h>
#include <vcpufault/aarch64.h>

#include "vf_test.h"

#define DEVICE 0x9000000ull
#define PC 0x40001000ull

/* One instruction that reports ISV = 1, and what it does to a register. */
typedef struct a64_isv_insn {
    const char *name;
    uint32_t sas, sse, sf, wnr;
    uint64_t (*load)(uint64_t device_value); /* register value after a load */
} a64_isv_insn_t;

static uint64_t ld_b_w(uint64_t v) { return (uint8_t)v; }
static uint64_t ld_h_w(uint64_t v) { return (uint16_t)v; }
static uint64_t ld_w_w(uint64_t v) { return (uint32_t)v; }
static uint64_t ld_x_x(uint64_t v) { return v; }
static uint64_t ld_sb_w(uint64_t v) { return (uint32_t)(int32_t)(int8_t)(uint8_t)v; }
static uint64_t ld_sb_x(uint64_t v) { return (uint64_t)(int64_t)(int8_t)(uint8_t)v; }
static uint64_t ld_sh_w(uint64_t v) { return (uint32_t)(int32_t)(int16_t)(uint16_t)v; }
static uint64_t ld_sh_x(uint64_t v) { return (uint64_t)(int64_t)(int16_t)(uint16_t)v; }
static uint64_t ld_sw_x(uint64_t v) { return (uint64_t)(int64_t)(int32_t)(uint32_t)v; }

static const a64_isv_insn_t insns[] = {
    {"ldrb w", 0, 0, 0, 0, ld_b_w},  {"ldrh w", 1, 0, 0, 0, ld_h_w},
    {"ldr w", 2, 0, 0, 0, ld_w_w},   {"ldr x", 3, 0, 1, 0, ld_x_x},
    {"ldrsb w", 0, 1, 0, 0, ld_sb_w}, {"ldrsb x", 0, 1, 1, 0, ld_sb_x},
    {"ldrsh w", 1, 1, 0, 0, ld_sh_w}, {"ldrsh x", 1, 1, 1, 0, ld_sh_x},
    {"ldrsw x", 2, 1, 1, 0, ld_sw_x},
    {"strb w", 0, 0, 0, 1, NULL},    {"strh w", 1, 0, 0, 1, NULL},
    {"str w", 2, 0, 0, 1, NULL},     {"str x", 3, 0, 1, 1, NULL},
};

static const a64_isv_insn_t *find_insn(uint32_t sas, uint32_t sse, uint32_t sf, uint32_t wnr)
{
    for (size_t i = 0; i < sizeof(insns) / sizeof(insns[0]); i++)
        if (insns[i].sas == sas && insns[i].sse == sse && insns[i].sf == sf && insns[i].wnr == wnr)
            return &insns[i];
    return NULL;
}

/* ESR_EL2 for a stage-2 translation fault at level 3 with the given ISS fields. */
static uint64_t esr_isv(uint32_t sas, uint32_t sse, uint32_t srt, uint32_t sf, uint32_t ar, uint32_t wnr)
{
    return (0x24ull << 26) | (1ull << 25) | (1ull << 24) | ((uint64_t)sas << 22) |
           ((uint64_t)sse << 21) | ((uint64_t)srt << 16) | ((uint64_t)sf << 15) |
           ((uint64_t)ar << 14) | ((uint64_t)wnr << 6) | 0x07u;
}

static void random_regs(vf_aarch64_regs_t *r, vf_rng_t *rng)
{
    memset(r, 0, sizeof(*r));
    for (int i = 0; i < 31; i++)
        r->x[i] = vf_rng_next(rng);
    r->sp_el0 = vf_rng_next(rng);
    r->sp_el1 = vf_rng_next(rng);
    r->pc = PC;
    r->pstate = 0x3c5; /* EL1h, interrupts masked */
}

static vf_aarch64_exit_t exit_for(uint64_t esr, uint64_t addr)
{
    vf_aarch64_exit_t e = {esr, 0xffff000000001000ull | (addr & 0xfff), (addr >> 12) << 4, 0, 0};
    return e;
}

/* Run one ISV=1 combination and check it against the instruction table. */
static void check_combination(uint32_t sas, uint32_t sse, uint32_t sf, uint32_t srt, uint32_t ar,
                              uint32_t wnr, vf_rng_t *rng)
{
    vf_aarch64_regs_t regs, before;
    vf_fault_t f;
    const a64_isv_insn_t *insn = find_insn(sas, sse, sf, wnr);
    uint64_t addr = DEVICE + (vf_rng_next(rng) & 0xff8);
    vf_aarch64_exit_t e = exit_for(esr_isv(sas, sse, srt, sf, ar, wnr), addr);

    random_regs(&regs, rng);
    before = regs;
    vf_fault_init(&f);
    vf_error_t err = vf_aarch64_capture(&f, &regs, &e, NULL);
    if (insn == NULL) {
        assert_int_equal(err, VF_ERR_UNDEFINED);
        assert_int_equal(vf_fault_state(&f), VF_STATE_ERROR);
        assert_memory_equal(&regs, &before, sizeof(regs));
        return;
    }
    assert_int_equal(err, VF_OK);
    vf_access_t a = vf_fault_access(&f);
    unsigned size = 1u << sas;
    assert_int_equal(a.addr, addr);
    assert_int_equal(a.size, size);
    assert_int_equal(a.dir, wnr ? VF_DIR_WRITE : VF_DIR_READ);

    uint64_t expect_reg = srt == 31 ? 0 : before.x[srt];
    if (wnr) {
        uint64_t src = srt == 31 ? 0 : before.x[srt]; /* register 31 is XZR */
        uint64_t mask = size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
        assert_int_equal(vf_fault_write_value(&f), src & mask);
    } else {
        uint64_t dev = vf_rng_next(rng);
        if (size < 8)
            dev &= (1ull << (size * 8)) - 1;
        assert_int_equal(vf_fault_set_read_value(&f, dev), VF_OK);
        if (srt != 31)
            expect_reg = insn->load(dev);
    }
    assert_int_equal(vf_fault_advance(&f), VF_OK);
    assert_int_equal(vf_fault_state(&f), VF_STATE_DONE);
    assert_int_equal(regs.pc, PC + 4);
    for (int i = 0; i < 31; i++)
        assert_int_equal(regs.x[i], (uint32_t)i == srt ? expect_reg : before.x[i]);
    assert_int_equal(regs.sp_el0, before.sp_el0);
    assert_int_equal(regs.sp_el1, before.sp_el1);
    assert_int_equal(regs.pstate, before.pstate);
}

static void test_isv_matrix(void **state)
{
    (void)state;
    vf_rng_t rng = {0x1234567};
    unsigned ok = 0;
    for (uint32_t sas = 0; sas < 4; sas++)
        for (uint32_t sse = 0; sse < 2; sse++)
            for (uint32_t sf = 0; sf < 2; sf++)
                for (uint32_t srt = 0; srt < 32; srt++)
                    for (uint32_t ar = 0; ar < 2; ar++)
                        for (uint32_t wnr = 0; wnr < 2; wnr++) {
                            check_combination(sas, sse, sf, srt, ar, wnr, &rng);
                            ok++;
                        }
    assert_int_equal(ok, 4 * 2 * 2 * 32 * 2 * 2);
}

/* The libsel4vm bug: a W load must clear bits 63:32, a sign-extending W load too. */
static void test_w_loads_clear_upper_half(void **state)
{
    (void)state;
    vf_aarch64_regs_t regs = {0};
    vf_fault_t f;
    regs.x[5] = 0xdeadbeefcafef00dull;
    regs.pc = PC;
    vf_aarch64_exit_t e = exit_for(esr_isv(1, 1, 5, 0, 0, 0), DEVICE); /* ldrsh w5 */
    assert_int_equal(vf_aarch64_capture(&f, &regs, &e, NULL), VF_OK);
    assert_int_equal(vf_fault_set_read_value(&f, 0x8001), VF_OK);
    assert_int_equal(vf_fault_advance(&f), VF_OK);
    assert_int_equal(regs.x[5], 0x00000000ffff8001ull);
}

/* SCTLR_EL1.EE (EL1) and .E0E (EL0): register data is byte-reversed against memory. */
static void test_big_endian(void **state)
{
    (void)state;
    vf_aarch64_regs_t regs = {0};
    vf_fault_t f;
    regs.x[2] = 0x1122;
    regs.pc = PC;
    regs.pstate = 0x3c5;
    regs.sctlr_el1 = 1ull << 25;
    vf_aarch64_exit_t st = exit_for(esr_isv(1, 0, 2, 0, 0, 1), DEVICE); /* strh w2 */
    assert_int_equal(vf_aarch64_capture(&f, &regs, &st, NULL), VF_OK);
    assert_int_equal(vf_fault_write_value(&f), 0x2211); /* bytes 0x11, 0x22 in address order */

    /* ldrsh x3 at EL0 with E0E: memory bytes 80 01 are the big-endian halfword 0x8001. */
    regs.pstate = 0x0;
    regs.sctlr_el1 = 1ull << 24;
    vf_aarch64_exit_t ld = exit_for(esr_isv(1, 1, 3, 1, 0, 0), DEVICE);
    assert_int_equal(vf_aarch64_capture(&f, &regs, &ld, NULL), VF_OK);
    uint8_t bytes[2] = {0x80, 0x01};
    assert_int_equal(vf_fault_set_read(&f, bytes, 2), VF_OK);
    assert_int_equal(vf_fault_advance(&f), VF_OK);
    assert_int_equal(regs.x[3], 0xffffffffffff8001ull);

    /* EE set but the guest is at EL0 without E0E: little-endian. */
    regs.sctlr_el1 = 1ull << 25;
    assert_int_equal(vf_aarch64_capture(&f, &regs, &st, NULL), VF_OK);
    assert_int_equal(vf_fault_write_value(&f), 0x1122);
}

/* IPA = HPFAR_EL2.FIPA (bits 43:4) << 12 | FAR_EL2[11:0]; or given directly. */
static void test_ipa(void **state)
{
    (void)state;
    vf_aarch64_regs_t regs = {0};
    vf_fault_t f;
    regs.pc = PC;
    vf_aarch64_exit_t e = {esr_isv(2, 0, 1, 0, 0, 0), 0x7fff12345abcull, 0x000fedcba98765f0ull | 0x8000000000000000ull, 0, 0};
    assert_int_equal(vf_aarch64_capture(&f, &regs, &e, NULL), VF_OK);
    /* FIPA = bits 43:4 of HPFAR = 0xdcba98765f (40 bits), moved to bits 51:12. */
    assert_int_equal(vf_fault_access(&f).addr, 0xdcba98765fabcull);
    assert_int_equal(vf_aarch64_ipa(0x90000, 0x9000123), 0x9000123);
    e.flags = VF_AARCH64_EXIT_IPA;
    e.ipa = 0x123456789;
    assert_int_equal(vf_aarch64_capture(&f, &regs, &e, NULL), VF_OK);
    assert_int_equal(vf_fault_access(&f).addr, 0x123456789);
}

/* Every exception class but 0x24 is not an MMIO access. */
static void test_exception_classes(void **state)
{
    (void)state;
    vf_aarch64_regs_t regs = {0};
    vf_fault_t f;
    for (uint64_t ec = 0; ec < 64; ec++) {
        uint64_t esr = (esr_isv(2, 0, 1, 0, 0, 0) & ~(0x3full << 26)) | (ec << 26);
        vf_aarch64_exit_t e = exit_for(esr, DEVICE);
        vf_error_t err = vf_aarch64_capture(&f, &regs, &e, NULL);
        assert_int_equal(err, ec == 0x24 ? VF_OK : VF_ERR_NOT_MMIO);
        assert_int_equal(vf_fault_error(&f), err);
    }
}

/* Data fault status codes: which ones a VMM emulates, injects or refuses. */
static void test_fault_status(void **state)
{
    (void)state;
    vf_aarch64_regs_t regs = {0};
    vf_fault_t f;
    for (uint64_t dfsc = 0; dfsc < 64; dfsc++) {
        uint64_t esr = (esr_isv(2, 0, 1, 0, 0, 0) & ~0x3full) | dfsc;
        vf_aarch64_exit_t e = exit_for(esr, DEVICE);
        vf_error_t err = vf_aarch64_capture(&f, &regs, &e, NULL);
        /* Arm ARM ISS DFSC: 0b0001LL translation, 0b0010LL access flag, 0b0011LL permission,
         * 0b101011 translation level -1; 0b100001 alignment; 0b110101 unsupported exclusive/atomic. */
        int emulated = (dfsc >= 0x04 && dfsc <= 0x0f) || dfsc == 0x2b;
        if (emulated)
            assert_int_equal(err, VF_OK);
        else if (dfsc == 0x21 || dfsc == 0x35) {
            assert_int_equal(err, VF_ERR_INJECT);
            vf_inject_t inj = vf_fault_injection(&f);
            assert_int_equal(inj.kind, VF_INJECT_ARM_DATA_ABORT);
            assert_int_equal(inj.code, dfsc);
            assert_int_equal(inj.addr, e.far);
        } else
            assert_int_equal(err, VF_ERR_NOT_MMIO);
    }
}

static void test_special_bits(void **state)
{
    (void)state;
    vf_aarch64_regs_t regs = {0}, before;
    vf_fault_t f;
    regs.pc = PC;
    before = regs;
    uint64_t base = esr_isv(2, 0, 1, 0, 0, 0);
    struct {
        uint64_t bits;
        vf_error_t err;
    } cases[] = {
        {1u << 7, VF_ERR_NOT_MMIO},     /* S1PTW: the guest's own table walk */
        {1u << 9, VF_ERR_NOT_MMIO},     /* EA: external abort */
        {1u << 8, VF_ERR_NOT_MMIO},     /* CM: cache maintenance, skip */
        {1u << 13, VF_ERR_UNSUPPORTED}, /* VNCR */
        {1u << 11, VF_ERR_UNSUPPORTED}, /* LST = 1: ST64BV */
        {2u << 11, VF_ERR_UNSUPPORTED}, /* LST = 2: LD64B/ST64B */
        {3u << 11, VF_ERR_UNSUPPORTED}, /* LST = 3: ST64BV0 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vf_aarch64_exit_t e = exit_for(base | cases[i].bits, DEVICE);
        assert_int_equal(vf_aarch64_capture(&f, &regs, &e, NULL), cases[i].err);
        assert_int_equal(vf_fault_access(&f).size, 0);
        assert_memory_equal(&regs, &before, sizeof(regs));
    }
    /* Only cache maintenance may be skipped: PC + 4, nothing else. */
    vf_aarch64_exit_t s1 = exit_for(base | (1u << 7), DEVICE);
    (void)vf_aarch64_capture(&f, &regs, &s1, NULL);
    assert_int_equal(vf_fault_skip(&f), VF_ERR_INVALID);
    vf_aarch64_exit_t cm = exit_for(base | (1u << 8) | (1u << 6), DEVICE);
    assert_int_equal(vf_aarch64_capture(&f, &regs, &cm, NULL), VF_ERR_NOT_MMIO);
    assert_int_equal(vf_fault_skip(&f), VF_OK);
    assert_int_equal(vf_fault_state(&f), VF_STATE_DONE);
    assert_int_equal(regs.pc, PC + 4);
}

static void test_isv0_and_bad_state(void **state)
{
    (void)state;
    vf_aarch64_regs_t regs = {0}, before;
    vf_fault_t f;
    regs.pc = PC;
    regs.x[1] = 7;
    before = regs;
    vf_aarch64_exit_t e = exit_for(esr_isv(2, 0, 1, 0, 0, 1) & ~(1ull << 24), DEVICE);
    assert_int_equal(vf_aarch64_capture(&f, &regs, &e, NULL), VF_ERR_UNSUPPORTED);
    /* IL = 0 cannot describe an A64 instruction. */
    e = exit_for(esr_isv(2, 0, 1, 0, 0, 1) & ~(1ull << 25), DEVICE);
    assert_int_equal(vf_aarch64_capture(&f, &regs, &e, NULL), VF_ERR_INVALID);
    /* PSTATE.nRW: the guest is in AArch32 state. */
    regs.pstate = 0x10;
    e = exit_for(esr_isv(2, 0, 1, 0, 0, 1), DEVICE);
    assert_int_equal(vf_aarch64_capture(&f, &regs, &e, NULL), VF_ERR_INVALID);
    regs.pstate = 0;
    before.pstate = 0;
    assert_memory_equal(&regs, &before, sizeof(regs));

    /* Calls in the wrong state are refused and change nothing. */
    assert_int_equal(vf_aarch64_capture(&f, &regs, &e, NULL), VF_OK);
    assert_int_equal(vf_fault_set_read_value(&f, 1), VF_ERR_INVALID); /* a write */
    assert_int_equal(vf_fault_advance(&f), VF_OK);
    assert_int_equal(vf_fault_advance(&f), VF_ERR_INVALID);           /* already done */
    assert_int_equal(vf_fault_write_value(&f), 0);
    vf_aarch64_exit_t ld = exit_for(esr_isv(0, 0, 1, 0, 0, 0), DEVICE);
    assert_int_equal(vf_aarch64_capture(&f, &regs, &ld, NULL), VF_OK);
    assert_int_equal(vf_fault_set_read_value(&f, 0x100), VF_ERR_INVALID); /* wider than a byte */
    uint8_t two[2] = {1, 2};
    assert_int_equal(vf_fault_set_read(&f, two, 2), VF_ERR_INVALID);
    vf_fault_restart(&f);
    assert_int_equal(vf_fault_state(&f), VF_STATE_IDLE);
    assert_int_equal(vf_fault_advance(&f), VF_ERR_INVALID);
    assert_int_equal(regs.x[1], 7);
    assert_int_equal(regs.pc, PC + 4);
    assert_int_equal(vf_fault_set_split(&f, 3), VF_ERR_INVALID);
    assert_int_equal(vf_fault_set_split(&f, 64), VF_ERR_INVALID);
}

/* A read given no data reads 0; restart leaves the registers alone. */
static void test_unset_read_and_restart(void **state)
{
    (void)state;
    vf_aarch64_regs_t regs = {0};
    vf_fault_t f;
    regs.pc = PC;
    regs.x[9] = 0x55;
    vf_aarch64_exit_t e = exit_for(esr_isv(3, 0, 9, 1, 0, 0), DEVICE);
    assert_int_equal(vf_aarch64_capture(&f, &regs, &e, NULL), VF_OK);
    vf_fault_restart(&f);
    assert_int_equal(regs.x[9], 0x55);
    assert_int_equal(regs.pc, PC);
    assert_int_equal(vf_aarch64_capture(&f, &regs, &e, NULL), VF_OK);
    assert_int_equal(vf_fault_advance(&f), VF_OK);
    assert_int_equal(regs.x[9], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isv_matrix),
        cmocka_unit_test(test_w_loads_clear_upper_half),
        cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_ipa),
        cmocka_unit_test(test_exception_classes),
        cmocka_unit_test(test_fault_status),
        cmocka_unit_test(test_special_bits),
        cmocka_unit_test(test_isv0_and_bad_state),
        cmocka_unit_test(test_unset_read_and_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
