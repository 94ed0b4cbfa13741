/*
 * x86 decode + complete through vf_x86_capture() with a RAM-backed host (no
 * signals): MOV load, MOV store, MOVZX, an ALU read-modify-write and one REP
 * STOS element. Zydis's full decode (ZydisDecoderDecodeFull) of the same
 * bytes runs in the same program as the reference; the ratio is printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vcpufault/x86.h>

#include "harness.h"

#if __has_include(<Zydis/Zydis.h>)
#include <Zydis/Zydis.h>
#define HAVE_ZYDIS 1
#endif

#define CODE_GPA 0x1000u
#define DEV_GPA 0xfee00000u

typedef struct bench_insn {
    uint8_t bytes[16];
    uint8_t len;
    uint8_t write;    /* the exit reports a write */
} bench_insn_t;

/* mov eax, [rdi+0x10]; mov [rdi+0x10], eax; movzx eax, byte [rdi+0x10]; or [rdi+0x10], eax; rep stosq */
static const bench_insn_t insns[] = {
    {{0x8b, 0x47, 0x10}, 3, 0},
    {{0x89, 0x47, 0x10}, 3, 1},
    {{0x0f, 0xb6, 0x47, 0x10}, 4, 0},
    {{0x09, 0x47, 0x10}, 3, 0},
    {{0xf3, 0x48, 0xab}, 3, 1},
};

/* Guest memory: one page of code at CODE_GPA (the instruction, then NOPs). */
static uint8_t page[5][4096];

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    const uint8_t *p = ctx;
    if (gpa < CODE_GPA || gpa - CODE_GPA > sizeof(page[0]) || len > sizeof(page[0]) - (gpa - CODE_GPA))
        return -1;
    memcpy(buf, p + (gpa - CODE_GPA), len);
    return 0;
}

static uint64_t run_vf(unsigned k, uint64_t iters)
{
    const bench_insn_t *in = &insns[k];
    memset(page[k], 0x90, sizeof(page[k]));
    memcpy(page[k], in->bytes, in->len);
    vf_x86_regs_t regs;
    memset(&regs, 0, sizeof(regs));
    regs.cr0 = 0x80050033u;
    regs.cr4 = 0x6a0u;
    regs.efer = 0x500u;
    regs.cs_l = 1;
    regs.rflags = 0x202;
    vf_host_t host = {ram_read, NULL, page[k], VF_HOST_IDENTITY};
    vf_x86_exit_t ex = {DEV_GPA + 0x10, DEV_GPA + 0x10,
                        VF_X86_QUAL_GLA_VALID | (in->write ? VF_X86_QUAL_WRITE : VF_X86_QUAL_READ)};
    vf_fault_t f;
    vf_fault_init(&f);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        regs.rip = CODE_GPA;
        regs.gpr[VF_X86_RDI] = DEV_GPA;
        regs.gpr[VF_X86_RCX] = 100;
        regs.gpr[VF_X86_RAX] = i;
        if (in->bytes[0] == 0xf3) /* rep stosq: the element at rdi */
            ex.gpa = ex.gla = DEV_GPA;
        vf_x86_capture(&f, &regs, &ex, &host);
        while (vf_fault_state(&f) == VF_STATE_ACCESS) {
            vf_access_t a = vf_fault_access(&f);
            if (a.dir == VF_DIR_READ)
                vf_fault_set_read_value(&f, (i * 0x9e3779b9u) & (a.size >= 8 ? ~0ull : ((1ull << (8 * a.size)) - 1)));
            else
                sum += vf_fault_write_value(&f);
            vf_fault_advance(&f);
        }
        sum += regs.gpr[VF_X86_RAX] + regs.rip + vf_fault_state(&f);
    }
    /* A figure for an operation that failed would mean nothing. */
    /* One REP element leaves RIP on the instruction with RCX one less. */
    int stepped = in->bytes[0] == 0xf3 ? regs.gpr[VF_X86_RCX] == 99 && regs.gpr[VF_X86_RDI] == DEV_GPA + 8
                                       : regs.rip == CODE_GPA + in->len;
    if (iters > 0 && (vf_fault_state(&f) != VF_STATE_DONE || !stepped)) {
        fprintf(stderr, "bench_x86: case %u did not complete: %s: %s\n", k,
                vf_error_name(vf_fault_error(&f)), vf_fault_message(&f));
        exit(1);
    }
    return sum;
}

static uint64_t vf_mov_load(uint64_t n) { return run_vf(0, n); }
static uint64_t vf_mov_store(uint64_t n) { return run_vf(1, n); }
static uint64_t vf_movzx(uint64_t n) { return run_vf(2, n); }
static uint64_t vf_alu_rmw(uint64_t n) { return run_vf(3, n); }
static uint64_t vf_rep_stos(uint64_t n) { return run_vf(4, n); }

#ifdef HAVE_ZYDIS
static uint64_t run_zydis(unsigned k, uint64_t iters)
{
    ZydisDecoder dec;
    ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    uint8_t buf[16];
    memset(buf, 0x90, sizeof(buf));
    memcpy(buf, insns[k].bytes, insns[k].len);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        __asm__ volatile("" ::"r"(buf) : "memory"); /* bytes as if fetched anew */
        if (ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, buf, sizeof(buf), &insn, ops)))
            sum += insn.length + ops[0].size;
    }
    return sum;
}

static uint64_t zy_mov_load(uint64_t n) { return run_zydis(0, n); }
static uint64_t zy_mov_store(uint64_t n) { return run_zydis(1, n); }
static uint64_t zy_movzx(uint64_t n) { return run_zydis(2, n); }
static uint64_t zy_alu_rmw(uint64_t n) { return run_zydis(3, n); }
static uint64_t zy_rep_stos(uint64_t n) { return run_zydis(4, n); }
#endif

static const bench_case_t cases[] = {
#ifdef HAVE_ZYDIS
    {"zydis_full_decode_mov_load", zy_mov_load, NULL},
    {"x86_mov_load", vf_mov_load, "zydis_full_decode_mov_load"},
    {"zydis_full_decode_mov_store", zy_mov_store, NULL},
    {"x86_mov_store", vf_mov_store, "zydis_full_decode_mov_store"},
    {"zydis_full_decode_movzx", zy_movzx, NULL},
    {"x86_movzx", vf_movzx, "zydis_full_decode_movzx"},
    {"zydis_full_decode_alu_rmw", zy_alu_rmw, NULL},
    {"x86_alu_rmw_or", vf_alu_rmw, "zydis_full_decode_alu_rmw"},
    {"zydis_full_decode_rep_stos", zy_rep_stos, NULL},
    {"x86_rep_stosq_element", vf_rep_stos, "zydis_full_decode_rep_stos"},
#else
    {"x86_mov_load", vf_mov_load, NULL},
    {"x86_mov_store", vf_mov_store, NULL},
    {"x86_movzx", vf_movzx, NULL},
    {"x86_alu_rmw_or", vf_alu_rmw, NULL},
    {"x86_rep_stosq_element", vf_rep_stos, NULL},
#endif
};

int main(int argc, char **argv)
{
    return bench_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
