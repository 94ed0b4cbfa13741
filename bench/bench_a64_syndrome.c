/* AArch64 data aborts with ISV = 1: capture, one access, complete. */
#include <stdio.h>
#include <vcpufault/aarch64.h>

#include "harness.h"

#define DEVICE 0x9000000ull

static vf_aarch64_regs_t regs;
static vf_fault_t fault;

static uint64_t run(uint64_t iters, uint64_t esr)
{
    vf_aarch64_exit_t e = {esr, DEVICE, (DEVICE >> 12) << 4, 0, 0};
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        regs.pc = 0x40001000;
        e.far = DEVICE + (i & 0xff8);
        vf_aarch64_capture(&fault, &regs, &e, NULL);
        if (!(esr & (1u << 6)))
            vf_fault_set_read_value(&fault, i & 0xffffffff);
        else
            sum += vf_fault_write_value(&fault);
        vf_fault_advance(&fault);
        sum += regs.x[3];
    }
    return sum;
}

/* ldr w3, [x0]: SAS = 2, SRT = 3, WnR = 0; str w3, [x0]: WnR = 1. */
static uint64_t ldr_w(uint64_t iters) { return run(iters, 0x93830007ull); }
static uint64_t str_w(uint64_t iters) { return run(iters, 0x93830047ull); }
/* ldrsh x3, [x0]: SAS = 1, SSE, SF. */
static uint64_t ldrsh_x(uint64_t iters) { return run(iters, 0x93638007ull); }

static const bench_case_t cases[] = {
    {"a64_isv1_ldr_w", ldr_w, NULL},
    {"a64_isv1_str_w", str_w, NULL},
    {"a64_isv1_ldrsh_x", ldrsh_x, NULL},
};

int main(int argc, char **argv)
{
    vf_fault_init(&fault);
    if (argc == 1)
        printf("capture+complete of one ISV=1 fault; per-vCPU fault state: %zu bytes\n", sizeof(vf_fault_t));
    return bench_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
