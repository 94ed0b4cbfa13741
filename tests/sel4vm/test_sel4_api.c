/*
 * The libsel4vm interface: mask, shift, set/get data and emulate for every
 * access size at every offset, checked byte by byte against a model of the
 * device's memory rather than against the formulas.
 */
#include <sel4vm/guest_vcpu_fault.h>
#include <string.h>
#include <vcpufault/aarch64.h>

#include "vf_test.h"

#define DEVICE 0x9000000ull
#define PC 0x40002000ull

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ldr/str of 1 << sas bytes with Rt = rt: W registers except for 8 bytes. */
static vf_aarch64_exit_t exit_ldst(unsigned sas, unsigned rt, unsigned write, uint64_t addr)
{
    uint64_t esr = (0x24ull << 26) | (1ull << 25) | (1ull << 24) | ((uint64_t)sas << 22) |
                   ((uint64_t)rt << 16) | ((uint64_t)(sas == 3) << 15) | ((uint64_t)write << 6) | 0x06u;
    vf_aarch64_exit_t e = {esr, addr, (addr >> 12) << 4, 0, 0};
    return e;
}

static void capture(vm_vcpu_t *vcpu, vf_aarch64_regs_t *regs, unsigned sas, unsigned rt, unsigned write,
                    uint64_t addr)
{
    vf_aarch64_exit_t e = exit_ldst(sas, rt, write, addr);
    assert_int_equal(vf_aarch64_capture(&vcpu->fault, regs, &e, NULL), VF_OK);
}

/* Expected mask: 0xff in every byte lane the access covers within its aligned word. */
static seL4_Word expected_mask(unsigned size, unsigned off)
{
    if (size == 8)
        return ~(seL4_Word)0;
    seL4_Word m = 0;
    for (unsigned i = off; i < off + size; i++)
        m |= (seL4_Word)0xff << (8 * i);
    return m;
}

static void test_reads_every_size_and_offset(void **state)
{
    (void)state;
    vf_rng_t rng = {99};
    vm_vcpu_t vcpu;
    vm_vcpu_fault_init(&vcpu);
    for (unsigned sas = 0; sas < 4; sas++) {
        unsigned size = 1u << sas;
        for (unsigned off = 0; off < 8; off++) {
            uint8_t dev[16];
            for (unsigned i = 0; i < 16; i++)
                dev[i] = (uint8_t)vf_rng_next(&rng);
            vf_aarch64_regs_t regs = {0};
            regs.pc = PC;
            regs.x[4] = 0x1111222233334444ull;
            uint64_t addr = DEVICE + off;
            capture(&vcpu, &regs, sas, 4, 0, addr);

            assert_true(is_vcpu_read_fault(&vcpu));
            assert_int_equal(get_vcpu_fault_size(&vcpu), size);
            assert_int_equal(get_vcpu_fault_address(&vcpu), addr);
            assert_int_equal(get_vcpu_fault_ip(&vcpu), PC);
            unsigned lane = size == 8 ? 0 : (off & 3);
            assert_int_equal(get_vcpu_fault_data_mask(&vcpu), expected_mask(size, lane));
            assert_int_equal(get_vcpu_fault_data(&vcpu), 0);

            /* The device answers with its aligned word (the value itself for 8 bytes). */
            seL4_Word word = size == 8 ? (seL4_Word)le(dev + off, 8) : (seL4_Word)le(dev + (off & ~3u), 8);
            assert_int_equal(set_vcpu_fault_data(&vcpu, word), 0);
            assert_int_equal(get_vcpu_fault_data(&vcpu), word);

            /* emulate: an old register value with the loaded bytes merged into its low bytes. */
            uint8_t old[8] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7};
            uint8_t merged[8];
            memcpy(merged, old, 8);
            memcpy(merged, dev + off, size);
            assert_int_equal(emulate_vcpu_fault(&vcpu, (seL4_Word)le(old, 8)), (seL4_Word)le(merged, 8));

            advance_vcpu_fault(&vcpu);
            assert_int_equal(vf_fault_state(&vcpu.fault), VF_STATE_DONE);
            /* Loads into W zero-extend; the 8-byte one fills X. */
            assert_int_equal(regs.x[4], le(dev + off, size));
            assert_int_equal(regs.pc, PC + 4);
        }
    }
}

static void test_writes_every_size_and_offset(void **state)
{
    (void)state;
    vf_rng_t rng = {7};
    vm_vcpu_t vcpu;
    vm_vcpu_fault_init(&vcpu);
    for (unsigned sas = 0; sas < 4; sas++) {
        unsigned size = 1u << sas;
        for (unsigned off = 0; off < 8; off++) {
            vf_aarch64_regs_t regs = {0};
            regs.pc = PC;
            regs.x[7] = vf_rng_next(&rng);
            uint64_t addr = DEVICE + off;
            capture(&vcpu, &regs, sas, 7, 1, addr);

            assert_false(is_vcpu_read_fault(&vcpu));
            uint8_t src[8];
            for (unsigned i = 0; i < 8; i++)
                src[i] = (uint8_t)(regs.x[7] >> (8 * i));
            assert_int_equal(get_vcpu_fault_data(&vcpu), (seL4_Word)le(src, size));
            unsigned lane = size == 8 ? 0 : (off & 3);
            assert_int_equal(get_vcpu_fault_data_mask(&vcpu), expected_mask(size, lane));
            assert_int_equal(set_vcpu_fault_data(&vcpu, 5), -1);

            /* emulate: the device register word after the store's bytes land in their lanes. */
            uint8_t reg[8] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17};
            uint8_t after[8];
            memcpy(after, reg, 8);
            memcpy(after + lane, src, size);
            assert_int_equal(emulate_vcpu_fault(&vcpu, (seL4_Word)le(reg, 8)), (seL4_Word)le(after, 8));

            uint64_t x7 = regs.x[7];
            advance_vcpu_fault(&vcpu);
            assert_int_equal(vf_fault_state(&vcpu.fault), VF_STATE_DONE);
            assert_int_equal(regs.x[7], x7);
            assert_int_equal(regs.pc, PC + 4);
        }
    }
}

/* str wzr: the device sees zero. ldr xzr: nothing is written. */
static void test_zero_register(void **state)
{
    (void)state;
    vm_vcpu_t vcpu;
    vf_aarch64_regs_t regs = {0}, before;
    vm_vcpu_fault_init(&vcpu);
    for (int i = 0; i < 31; i++)
        regs.x[i] = 0xffffffffffffffffull;
    regs.pc = PC;
    before = regs;
    capture(&vcpu, &regs, 2, 31, 1, DEVICE);
    assert_int_equal(get_vcpu_fault_data(&vcpu), 0);
    advance_vcpu_fault(&vcpu);
    capture(&vcpu, &regs, 3, 31, 0, DEVICE);
    set_vcpu_fault_data(&vcpu, 0x1234);
    advance_vcpu_fault(&vcpu);
    assert_memory_equal(regs.x, before.x, sizeof(regs.x));
}

/* A fault that cannot be emulated: size 0, no crash, the reason on record. */
static void test_unemulatable(void **state)
{
    (void)state;
    vm_vcpu_t vcpu;
    vf_aarch64_regs_t regs = {0};
    vm_vcpu_fault_init(&vcpu);
    regs.pc = PC;
    vf_aarch64_exit_t e = exit_ldst(2, 1, 0, DEVICE);
    e.esr &= ~(1ull << 24); /* ISV = 0 */
    assert_int_not_equal(vf_aarch64_capture(&vcpu.fault, &regs, &e, NULL), VF_OK);
    assert_int_equal(get_vcpu_fault_size(&vcpu), 0);
    assert_int_equal(get_vcpu_fault_data_mask(&vcpu), 0);
    assert_int_equal(get_vcpu_fault_address(&vcpu), DEVICE);
    assert_false(is_vcpu_read_fault(&vcpu));
    assert_int_equal(set_vcpu_fault_data(&vcpu, 1), -1);
    advance_vcpu_fault(&vcpu);
    assert_int_equal(regs.pc, PC);
    assert_int_equal(vm_vcpu_fault_error(&vcpu), VF_ERR_UNSUPPORTED);
    restart_vcpu_fault(&vcpu);
    assert_int_equal(vf_fault_state(&vcpu.fault), VF_STATE_IDLE);
}

/* Native API: a 4-byte access presented as four 1-byte pieces, in address order. */
static void test_pieces(void **state)
{
    (void)state;
    vf_fault_t f;
    vf_aarch64_regs_t regs = {0};
    regs.pc = PC;
    regs.x[3] = 0xa1b2c3d4;
    vf_fault_init(&f);
    assert_int_equal(vf_fault_set_split(&f, 1), VF_OK);
    vf_aarch64_exit_t st = exit_ldst(2, 3, 1, DEVICE + 4);
    assert_int_equal(vf_aarch64_capture(&f, &regs, &st, NULL), VF_OK);
    static const uint8_t want[4] = {0xd4, 0xc3, 0xb2, 0xa1};
    for (unsigned i = 0; i < 4; i++) {
        vf_access_t a = vf_fault_access(&f);
        assert_int_equal(a.addr, DEVICE + 4 + i);
        assert_int_equal(a.size, 1);
        assert_int_equal(vf_fault_write_value(&f), want[i]);
        assert_int_equal(vf_fault_state(&f), VF_STATE_ACCESS);
        assert_int_equal(vf_fault_advance(&f), VF_OK);
    }
    assert_int_equal(vf_fault_state(&f), VF_STATE_DONE);

    vf_aarch64_exit_t ld = exit_ldst(2, 3, 0, DEVICE + 4);
    assert_int_equal(vf_aarch64_capture(&f, &regs, &ld, NULL), VF_OK);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(vf_fault_set_read_value(&f, 0x10u + i), VF_OK);
        assert_int_equal(vf_fault_advance(&f), VF_OK);
    }
    assert_int_equal(regs.x[3], 0x13121110);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_every_size_and_offset),
        cmocka_unit_test(test_writes_every_size_and_offset),
        cmocka_unit_test(test_zero_register),
        cmocka_unit_test(test_unemulatable),
        cmocka_unit_test(test_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
