/*
 * AArch64 data aborts with ISV = 0: fetch the instruction (MMU off, through
 * the host callback), decode, cross-check, one or two accesses, complete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vcpufault/aarch64.h>

#include "harness.h"

#define DEVICE 0x9000000ull
#define PC 0x40001000ull

static vf_aarch64_regs_t regs;
static vf_fault_t fault;
static uint32_t insn_word;

/* 4K-granule tables for VA PC -> PA 0x80005000: L0 0x10000, L1 0x11000, L2 0x12000, L3 0x13000. */
static const struct {
    uint64_t addr, desc;
} tables[4] = {
    {0x10000 + 0 * 8, 0x11003}, {0x11000 + 1 * 8, 0x12003}, {0x12000 + 0 * 8, 0x13003}, {0x13000 + 1 * 8, 0x80005403},
};

static int read_insn(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    (void)ctx;
    if ((gpa == PC || gpa == 0x80005000) && len == 4) {
        memcpy(buf, &insn_word, 4);
        return 0;
    }
    for (unsigned i = 0; i < 4; i++)
        if (gpa == tables[i].addr && len == 8) {
            memcpy(buf, &tables[i].desc, 8);
            return 0;
        }
    return -1;
}

static const vf_host_t host = {read_insn, NULL, NULL, 0};

static uint64_t run(uint64_t iters, uint32_t word, int two)
{
    vf_aarch64_exit_t e = {0x92000007ull, DEVICE, (DEVICE >> 12) << 4, 0, 0};
    uint64_t sum = 0;
    insn_word = word;
    for (uint64_t i = 0; i < iters; i++) {
        uint64_t a = DEVICE + (i & 0xff0);
        regs.pc = PC;
        regs.x[1] = a;
        e.far = a;
        vf_aarch64_capture(&fault, &regs, &e, &host);
        vf_fault_set_read_value(&fault, i & 0xffffffff);
        vf_fault_advance(&fault);
        if (two) {
            vf_fault_set_read_value(&fault, i & 0xffff);
            vf_fault_advance(&fault);
        }
        if (i == 0 && vf_fault_state(&fault) != VF_STATE_DONE) {
            fprintf(stderr, "bench_a64: fault did not complete: %s\n", vf_fault_message(&fault));
            exit(1);
        }
        sum += regs.x[3] + regs.x[4];
    }
    return sum;
}

/* ldr w3, [x1], #4 (post-index) */
static uint64_t ldr_post(uint64_t iters) { return run(iters, 0xb8404423u, 0); }
/* ldp x3, x4, [x1] */
static uint64_t ldp_x(uint64_t iters) { return run(iters, 0xa9401023u, 1); }

/* ldr w3, [x1], #4 with the guest MMU on: the PC is translated through four table levels. */
static uint64_t ldr_post_mmu(uint64_t iters)
{
    regs.sctlr_el1 = 1;
    regs.tcr_el1 = 16 | (5ull << 32);
    regs.ttbr0_el1 = 0x10000;
    uint64_t sum = run(iters, 0xb8404423u, 0);
    regs.sctlr_el1 = 0;
    return sum;
}

/* The pure decoder alone, for the same two words. */
static uint64_t decode_only(uint64_t iters, uint32_t word)
{
    vf_insn_t in;
    vf_a64_ldst_t x;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        sum += (uint64_t)vf_aarch64_decode(word ^ (uint32_t)(i & 0x1f), &in, &x, NULL) + in.size;
    }
    return sum;
}
static uint64_t decode_ldr_post(uint64_t iters) { return decode_only(iters, 0xb8404423u); }
static uint64_t decode_ldp_x(uint64_t iters) { return decode_only(iters, 0xa9401023u); }

static const bench_case_t cases[] = {
    {"a64_isv0_ldr_post", ldr_post, NULL},
    {"a64_isv0_ldp_x", ldp_x, NULL},
    {"a64_isv0_ldr_post_mmu4k", ldr_post_mmu, NULL},
    {"a64_decode_ldr_post", decode_ldr_post, NULL},
    {"a64_decode_ldp_x", decode_ldp_x, NULL},
};

int main(int argc, char **argv)
{
    vf_fault_init(&fault);
    regs.pstate = 0x3c5;
    if (argc == 1)
        printf("capture+decode+complete of one ISV=0 fault (instruction fetched through the host)\n");
    return bench_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
