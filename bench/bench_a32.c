/*
 * AArch32 benchmark: ISV = 0 decode + complete of a Thumb `ldrh r3, [r4, #6]`
 * (MMU off, the instruction fetched through the host callback), and the same
 * access described by the syndrome (ISV = 1) for reference.
 */
#include <string.h>

#include <vcpufault/aarch32.h>

#include "harness.h"

#define PC 0x8000u

static const uint8_t code[2] = {0xe3, 0x88}; /* ldrh r3, [r4, #6] */

static int read_code(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    (void)ctx;
    if (gpa < PC || gpa + len > PC + sizeof(code))
        return -1;
    memcpy(buf, code + (gpa - PC), len);
    return 0;
}

static uint64_t run(uint64_t iters, uint32_t hsr)
{
    vf_fault_t f;
    vf_aarch32_regs_t r;
    vf_aarch32_exit_t x = {hsr, 0x9000016, 0x90000, 0, 0};
    vf_host_t host = {read_code, NULL, NULL, 0};
    uint64_t sum = 0;
    memset(&r, 0, sizeof(r));
    vf_fault_init(&f);
    for (uint64_t i = 0; i < iters; i++) {
        r.r[4] = 0x9000010;
        r.r[15] = PC;
        r.cpsr = 0x30;
        if (vf_aarch32_capture(&f, &r, &x, &host) != VF_OK)
            return 0;
        vf_fault_set_read_value(&f, 0xa5a5);
        vf_fault_advance(&f);
        sum += r.r[3];
    }
    return sum;
}

static uint64_t thumb_ldrh_isv0(uint64_t iters)
{
    return run(iters, 0x92000007u);
}

static uint64_t thumb_ldrh_isv1(uint64_t iters)
{
    return run(iters, 0x91430007u); /* IL = 0, ISV, SAS = 1, SRT = 3 */
}

int main(int argc, char **argv)
{
    static const bench_case_t cases[] = {
        {"a32_thumb_ldrh_isv0", thumb_ldrh_isv0, NULL},
        {"a32_thumb_ldrh_isv1_syndrome", thumb_ldrh_isv1, "a32_thumb_ldrh_isv0"},
    };
    return bench_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
