/*
 * x86 through the native API: whole wide accesses, injections, skipping a
 * cache flush, restart, string instructions with both sides on devices, and
 * the register write-back rules, each worked out by hand from the manual.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "x86_env.h"

#define CODE 0x1000u
#define DEV 0x9000u
#define RAM 0x20000u

static x86_env_t env;

/* 64-bit mode registers with code at CODE. */
static vf_x86_regs_t regs64(void)
{
    vf_x86_regs_t r;
    memset(&r, 0, sizeof(r));
    r.rip = CODE;
    r.rflags = 2;
    r.cr0 = 0x80000011;
    r.efer = 0x500;
    r.cs_l = 1;
    return r;
}

static void setup_mem(const uint8_t *code, size_t n)
{
    x86_env_init(&env, DEV);
    memcpy(x86_env_page(&env, CODE), code, n);
    x86_env_page(&env, DEV);
    x86_env_page(&env, RAM);
}

static vf_x86_exit_t exit_at(uint64_t gpa, uint64_t qual)
{
    vf_x86_exit_t x = {gpa, gpa, qual | VF_X86_QUAL_GLA_VALID};
    return x;
}

/* VMOVDQU ymm0 load as one 32-byte access (no split). */
static void test_whole_32_byte_access(void **state)
{
    (void)state;
    static const uint8_t code[] = {0xc5, 0xfe, 0x6f, 0x03}; /* vmovdqu ymm0, [rbx] */
    setup_mem(code, sizeof(code));
    uint8_t *dev = x86_env_at(&env, DEV, 32);
    for (unsigned i = 0; i < 32; i++)
        dev[i] = (uint8_t)(i + 1);
    vf_x86_regs_t r = regs64();
    r.gpr[VF_X86_RBX] = DEV;
    vf_x86_exit_t x = exit_at(DEV, VF_X86_QUAL_READ);
    vf_fault_t f;
    assert_int_equal(x86_env_run(&env, &f, &r, &x, VF_HOST_IDENTITY, 0), VF_OK);
    assert_int_equal(env.n_acc, 1);
    assert_int_equal(env.acc[0].size, 32);
    assert_int_equal(r.ymm[0][0], 0x0807060504030201ull);
    assert_int_equal(r.ymm[0][3], 0x201f1e1d1c1b1a19ull);
    assert_int_equal(r.rip, CODE + 4);
}

/* Divide error: nothing written, injection of vector 0. */
static void test_divide_error_injects_de(void **state)
{
    (void)state;
    static const uint8_t code[] = {0x48, 0xf7, 0x33}; /* div qword [rbx] */
    setup_mem(code, sizeof(code));
    vf_x86_regs_t r = regs64();
    r.gpr[VF_X86_RBX] = DEV;
    r.gpr[VF_X86_RDX] = 5; /* rdx:rax / 5 with rdx = 5: quotient needs 65 bits */
    vf_x86_regs_t before = r;
    vf_x86_exit_t x = exit_at(DEV, VF_X86_QUAL_READ);
    memcpy(x86_env_at(&env, DEV, 8), "\x05\0\0\0\0\0\0\0", 8);
    vf_fault_t f;
    assert_int_equal(x86_env_run(&env, &f, &r, &x, VF_HOST_IDENTITY, 8), VF_ERR_INJECT);
    vf_inject_t inj = vf_fault_injection(&f);
    assert_int_equal(inj.kind, VF_INJECT_X86_EXCEPTION);
    assert_int_equal(inj.code, 0);
    assert_memory_equal(&r, &before, sizeof(r));
}

/* Misaligned MOVAPS: #GP(0) before any access. */
static void test_misaligned_movaps_injects_gp(void **state)
{
    (void)state;
    static const uint8_t code[] = {0x0f, 0x28, 0x03}; /* movaps xmm0, [rbx] */
    setup_mem(code, sizeof(code));
    vf_x86_regs_t r = regs64();
    r.gpr[VF_X86_RBX] = DEV + 4;
    vf_x86_exit_t x = exit_at(DEV + 4, VF_X86_QUAL_READ);
    vf_fault_t f;
    assert_int_equal(x86_env_run(&env, &f, &r, &x, VF_HOST_IDENTITY, 8), VF_ERR_INJECT);
    assert_int_equal(vf_fault_injection(&f).code, 13);
    assert_int_equal(env.n_acc, 0);
}

/* CLFLUSH on device memory: not an access, may be skipped (RIP moves by its length). */
static void test_clflush_skip(void **state)
{
    (void)state;
    static const uint8_t code[] = {0x0f, 0xae, 0x7b, 0x10}; /* clflush [rbx+0x10] */
    setup_mem(code, sizeof(code));
    vf_x86_regs_t r = regs64();
    r.gpr[VF_X86_RBX] = DEV;
    vf_x86_exit_t x = exit_at(DEV + 0x10, VF_X86_QUAL_READ);
    vf_host_t h = x86_env_host(&env, VF_HOST_IDENTITY);
    vf_fault_t f;
    vf_fault_init(&f);
    assert_int_equal(vf_x86_capture(&f, &r, &x, &h), VF_ERR_NOT_MMIO);
    assert_int_equal(vf_fault_skip(&f), VF_OK);
    assert_int_equal(r.rip, CODE + 4);
}

/* Restart leaves everything as it was. */
static void test_restart(void **state)
{
    (void)state;
    static const uint8_t code[] = {0x8b, 0x03}; /* mov eax, [rbx] */
    setup_mem(code, sizeof(code));
    vf_x86_regs_t r = regs64();
    r.gpr[VF_X86_RBX] = DEV;
    vf_x86_regs_t before = r;
    vf_x86_exit_t x = exit_at(DEV, VF_X86_QUAL_READ);
    vf_host_t h = x86_env_host(&env, VF_HOST_IDENTITY);
    vf_fault_t f;
    vf_fault_init(&f);
    assert_int_equal(vf_x86_capture(&f, &r, &x, &h), VF_OK);
    assert_int_equal(vf_fault_access(&f).size, 4);
    vf_fault_restart(&f);
    assert_int_equal(vf_fault_state(&f), VF_STATE_IDLE);
    assert_memory_equal(&r, &before, sizeof(r));
}

/* MOVSW from one device page to another: a read, then a write of the same value. */
static void test_movs_device_to_device(void **state)
{
    (void)state;
    static const uint8_t code[] = {0x66, 0xa5}; /* movsw */
    x86_env_init(&env, DEV);
    memcpy(x86_env_page(&env, CODE), code, sizeof(code));
    x86_env_page(&env, DEV);
    vf_x86_regs_t r = regs64();
    r.gpr[VF_X86_RSI] = DEV + 0x10;
    r.gpr[VF_X86_RDI] = DEV + 0x20; /* the same device page: read_phys refuses it */
    memcpy(x86_env_at(&env, DEV + 0x10, 2), "\x34\x12", 2);
    vf_x86_exit_t x = exit_at(DEV + 0x10, VF_X86_QUAL_READ);
    vf_fault_t f;
    assert_int_equal(x86_env_run(&env, &f, &r, &x, VF_HOST_IDENTITY, 8), VF_OK);
    assert_int_equal(env.n_acc, 2);
    assert_int_equal(env.acc[0].dir, VF_DIR_READ);
    assert_int_equal(env.acc[0].addr, DEV + 0x10);
    assert_int_equal(env.acc[1].dir, VF_DIR_WRITE);
    assert_int_equal(env.acc[1].addr, DEV + 0x20);
    assert_int_equal(env.acc[1].data[0], 0x34);
    assert_int_equal(env.acc[1].data[1], 0x12);
    assert_int_equal(r.gpr[VF_X86_RSI], DEV + 0x12);
    assert_int_equal(r.gpr[VF_X86_RDI], DEV + 0x22);
    assert_int_equal(env.ram_writes, 0);
    assert_string_equal(vf_x86_insn_name(vf_fault_insn(&f)), "MOVS");
}

/* REP STOSB in 32-bit code with 16-bit addressing: CX and DI count at 16 bits, the rest stays. */
static void test_rep_stos_addr16(void **state)
{
    (void)state;
    static const uint8_t code[] = {0x67, 0xf3, 0xaa}; /* addr16 rep stosb */
    setup_mem(code, sizeof(code));
    vf_x86_regs_t r;
    memset(&r, 0, sizeof(r));
    r.rip = CODE;
    r.cr0 = 0x11;
    r.cs_d = 1;
    r.gpr[VF_X86_RDI] = 0xabcd0000u | (DEV & 0xffff); /* only DI counts */
    r.gpr[VF_X86_RCX] = 0x55550001u;                 /* CX = 1: last element */
    r.gpr[VF_X86_RAX] = 0x7e;
    vf_x86_exit_t x = exit_at(DEV, VF_X86_QUAL_WRITE);
    vf_fault_t f;
    assert_int_equal(x86_env_run(&env, &f, &r, &x, VF_HOST_IDENTITY, 8), VF_OK);
    assert_int_equal(env.acc[0].data[0], 0x7e);
    assert_string_equal(vf_x86_insn_name(vf_fault_insn(&f)), "REP STOS");
    assert_int_equal(r.gpr[VF_X86_RCX], 0x55550000u);
    assert_int_equal(r.gpr[VF_X86_RDI], 0xabcd0000u | ((DEV + 1) & 0xffff));
    assert_int_equal(r.rip, CODE + 3);
}

/* The register-write rules, one instruction each. */
static void test_partial_register_writes(void **state)
{
    (void)state;
    static const struct {
        uint8_t code[4];
        unsigned len;
        unsigned reg;
        uint64_t before, value, after;
    } cases[] = {
        {{0x8a, 0x3b}, 2, VF_X86_RBX, 0x1111111111111111ull, 0xee, 0x111111111111ee11ull},   /* mov bh,[rbx] */
        {{0x40, 0x8a, 0x3b}, 3, VF_X86_RDI, 0x1111111111111111ull, 0xee, 0x11111111111111eeull}, /* mov dil,[rbx] */
        {{0x44, 0x8a, 0x3b}, 3, VF_X86_R15, 0x1111111111111111ull, 0xee, 0x11111111111111eeull}, /* mov r15b,[rbx] */
        {{0x66, 0x8b, 0x3b}, 3, VF_X86_RDI, 0x1111111111111111ull, 0xeeee, 0x111111111111eeeeull}, /* mov di,[rbx] */
        {{0x8b, 0x3b}, 2, VF_X86_RDI, 0x1111111111111111ull, 0xeeeeeeee, 0xeeeeeeeeull},         /* mov edi,[rbx] */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setup_mem(cases[i].code, cases[i].len);
        vf_x86_regs_t r = regs64();
        r.gpr[cases[i].reg] = cases[i].before;
        r.gpr[VF_X86_RBX] = cases[i].reg == VF_X86_RBX ? cases[i].before : DEV;
        uint64_t addr = r.gpr[VF_X86_RBX];
        if (cases[i].reg == VF_X86_RBX) {
            /* mov bh,[rbx] with rbx as the address: put the device there */
            x86_env_init(&env, addr & ~0xfffull);
            memcpy(x86_env_page(&env, CODE), cases[i].code, cases[i].len);
            x86_env_page(&env, addr);
        }
        memcpy(x86_env_at(&env, addr, 4), &cases[i].value, 4);
        vf_x86_exit_t x = exit_at(addr, VF_X86_QUAL_READ);
        vf_fault_t f;
        assert_int_equal(x86_env_run(&env, &f, &r, &x, VF_HOST_IDENTITY, 8), VF_OK);
        assert_int_equal(r.gpr[cases[i].reg], cases[i].after);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_32_byte_access),
        cmocka_unit_test(test_divide_error_injects_de),
        cmocka_unit_test(test_misaligned_movaps_injects_gp),
        cmocka_unit_test(test_clflush_skip),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_movs_device_to_device),
        cmocka_unit_test(test_rep_stos_addr16),
        cmocka_unit_test(test_partial_register_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
