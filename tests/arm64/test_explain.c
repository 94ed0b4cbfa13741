/*
 * `vcpufault explain`: the words it prints for syndromes and instructions
 * whose meaning is worked out here from the Arm ARM.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static char cli[4096];

/* Run the CLI (next to this test program) and return its output. */
static char *run(const char *args)
{
    char cmd[8192];
    static char out[65536];
    snprintf(cmd, sizeof(cmd), "%s explain %s", cli, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    return out;
}

static void has(const char *text, const char *want)
{
    if (strstr(text, want) == NULL)
        fail_msg("output lacks \"%s\":\n%s", want, text);
}

/* ESR 0x92000047: EC 0x24, IL, ISV = 0, WnR = 1, DFSC 0x07; str w8, [x10], #4 = 0xb8004548. */
static void test_isv0_command_line(void **s)
{
    (void)s;
    char *o = run("--esr 0x92000047 --far 0x9000010 --hpfar 0x90000 --insn 0xb8004548");
    has(o, "EC 0x24, data abort from a lower exception level");
    has(o, "no instruction syndrome");
    has(o, "SRT    [20:16]  = 0x0    not valid (ISV = 0)");
    has(o, "WnR    [6]      = 0x1    write");
    has(o, "translation fault, level 3");
    has(o, "IPA       = 0x9000010");
    has(o, "str w8, [x10], #4");
    has(o, "address: x10, then x10 += 4");
    has(o, "update the base register x10");
}

/* ESR 0x93a78007: ISV, SAS = 2, SSE, SRT = 7, SF: ldrsw x7. */
static void test_isv1_command_line(void **s)
{
    (void)s;
    char *o = run("--esr 0x93a78007 --far 0x9000010 --hpfar 0x90000");
    has(o, "access size: word (4 bytes)");
    has(o, "load sign-extends");
    has(o, "transfer register x7 / w7");
    has(o, "64-bit register (Xt)");
    has(o, "set x7 to the 4-byte value read, sign-extended");
}

/* HSR 0x93830007 of an AArch32 guest: ISV, SAS = 2, SRT = 3 (4 bits), read, translation fault L3. */
static void test_aarch32_hsr(void **s)
{
    (void)s;
    char *o = run("--arch aarch32 --hsr 0x93830007 --hdfar 0x9000000");
    has(o, "HSR = 0x93830007");
    has(o, "SRT    [19:16]  = 0x3    transfer register r3");
    has(o, "access size: word (4 bytes)");
    has(o, "WnR    [6]      = 0x0    read");
    has(o, "HDFAR     = 0x9000000");
    /* T16 LDR r0, [r0] is 0x6800; T32 LDR.W r1, [r0, #4] is f8d0 1004 */
    has(run("--arch aarch32 --hsr 0x93830007 --insn 0x6800 --thumb"), "ldr r0, [r0]");
    has(run("--arch aarch32 --hsr 0x93830007 --insn 0xf8d01004 --thumb"), "ldr.w r1, [r0, #4]");
}

static void test_records(void **s)
{
    (void)s;
    char args[4096];
    snprintf(args, sizeof(args), "%s/tests/replay/a64-isv0-basic.jsonl", VF_SOURCE_DIR);
    char *o = run(args);
    has(o, "== ldp-w (aarch64)");
    has(o, "ldp w3, w4, [x5, #8]");
    has(o, "read 4 bytes from 0x900000c: 0x7fffffff");
    has(o, "x4 becomes 0x7fffffff");
    has(o, "== ldxr (aarch64)");
    has(o, "inject: exclusive");
    snprintf(args, sizeof(args), "%s/tests/replay/a64-isv0-mmu.jsonl", VF_SOURCE_DIR);
    o = run(args);
    has(o, "Instruction at PC 0x40001000 (physical 0x80005000): b8404420");
    has(o, "cannot translate: permission fault");
}

int main(int argc, char **argv)
{
    (void)argc;
    ssize_t n = readlink("/proc/self/exe", cli, sizeof(cli) - 16);
    if (n <= 0)
        snprintf(cli, sizeof(cli), "%s", argv[0]);
    else
        cli[n] = '\0';
    char *slash = strrchr(cli, '/');
    if (slash != NULL)
        strcpy(slash + 1, "vcpufault");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isv0_command_line),
        cmocka_unit_test(test_isv1_command_line),
        cmocka_unit_test(test_aarch32_hsr),
        cmocka_unit_test(test_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
