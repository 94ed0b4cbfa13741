/*
 * ISV = 0 instructions through the libsel4vm interface: a device model that
 * sees one piece at a time (at most 8 bytes) drives LDP, STP with writeback
 * and a 16-byte LDR Q. Expected registers are worked out from the device's
 * bytes as the Arm ARM defines the instructions.
 */
#include <sel4vm/guest_vcpu_fault.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <vcpufault/aarch64.h>

#define DEVICE 0x9000100ull
#define PC 0x40002000ull

static uint32_t insn_word;
static uint8_t dev[32]; /* device registers at DEVICE */

static int read_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    (void)ctx;
    if (gpa != PC || len != 4)
        return -1;
    memcpy(buf, &insn_word, 4);
    return 0;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Capture `word` faulting at `far`, then serve every piece from dev[] as a seL4 device model would. */
static unsigned run(vf_aarch64_regs_t *r, uint32_t word, uint64_t far, int write)
{
    vm_vcpu_t vcpu;
    vf_host_t host = {read_phys, NULL, NULL, VF_HOST_IDENTITY};
    uint64_t esr = (0x24ull << 26) | (1ull << 25) | (write ? 1ull << 6 : 0) | 0x06u;
    vf_aarch64_exit_t e = {esr, far, (far >> 12) << 4, 0, 0};
    unsigned pieces = 0;
    insn_word = word;
    r->pc = PC;
    r->pstate = 0x3c5;
    vm_vcpu_fault_init(&vcpu);
    assert_int_equal(vf_aarch64_capture(&vcpu.fault, r, &e, &host), VF_OK);
    while (vf_fault_state(&vcpu.fault) == VF_STATE_ACCESS) {
        seL4_Word addr = get_vcpu_fault_address(&vcpu);
        size_t size = get_vcpu_fault_size(&vcpu);
        assert_true(addr >= DEVICE && addr + size <= DEVICE + sizeof(dev));
        assert_int_equal(get_vcpu_fault_ip(&vcpu), PC);
        unsigned off = (unsigned)(addr - DEVICE);
        if (is_vcpu_read_fault(&vcpu)) {
            assert_false(write);
            /* the aligned 32-bit word (or the whole 8 bytes) holding the access */
            unsigned base = size == 8 ? off : off & ~3u;
            assert_int_equal(set_vcpu_fault_data(&vcpu, (seL4_Word)le(dev + base, size == 8 ? 8 : 4)), 0);
        } else {
            assert_true(write);
            seL4_Word v = get_vcpu_fault_data(&vcpu);
            for (unsigned i = 0; i < size; i++)
                dev[off + i] = (uint8_t)(v >> (8 * i));
        }
        advance_vcpu_fault(&vcpu);
        pieces++;
    }
    assert_int_equal(vf_fault_state(&vcpu.fault), VF_STATE_DONE);
    return pieces;
}

static void fill_dev(void)
{
    for (unsigned i = 0; i < sizeof(dev); i++)
        dev[i] = (uint8_t)(0xa0 + i);
}

/* ldp x2, x3, [x1], #16 */
static void test_ldp_post(void **s)
{
    (void)s;
    vf_aarch64_regs_t r;
    memset(&r, 0, sizeof(r));
    fill_dev();
    r.x[1] = DEVICE;
    assert_int_equal(run(&r, 0xa8c10c22, DEVICE, 0), 2);
    assert_int_equal(r.x[2], le(dev, 8));
    assert_int_equal(r.x[3], le(dev + 8, 8));
    assert_int_equal(r.x[1], DEVICE + 16);
    assert_int_equal(r.pc, PC + 4);
}

/* stp w4, w5, [x1, #-8]! */
static void test_stp_pre(void **s)
{
    (void)s;
    vf_aarch64_regs_t r;
    memset(&r, 0, sizeof(r));
    memset(dev, 0, sizeof(dev));
    r.x[1] = DEVICE + 16;
    r.x[4] = 0xffffffff11223344ull;
    r.x[5] = 0xeeeeeeee55667788ull;
    assert_int_equal(run(&r, 0x29bf1424, DEVICE + 8, 1), 2);
    assert_int_equal(le(dev + 8, 4), 0x11223344);
    assert_int_equal(le(dev + 12, 4), 0x55667788);
    assert_int_equal(le(dev + 16, 8), 0);
    assert_int_equal(r.x[1], DEVICE + 8);
}

/* ldr q0, [x1]: one 16-byte access, two 8-byte pieces; the whole V0 is replaced. */
static void test_ldr_q(void **s)
{
    (void)s;
    vf_aarch64_regs_t r;
    memset(&r, 0, sizeof(r));
    fill_dev();
    r.x[1] = DEVICE;
    r.v[0].lo = r.v[0].hi = ~0ull;
    assert_int_equal(run(&r, 0x3dc00020, DEVICE, 0), 2);
    assert_int_equal(r.v[0].lo, le(dev, 8));
    assert_int_equal(r.v[0].hi, le(dev + 8, 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ldp_post),
        cmocka_unit_test(test_stp_pre),
        cmocka_unit_test(test_ldr_q),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
