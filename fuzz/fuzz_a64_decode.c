/*
 * Fuzz the AArch64 ISV = 0 path: instruction word, registers, translation
 * controls and guest memory (page tables) all come from the input. The
 * reported IPA is usually aimed at the address the instruction would use, so
 * that decode, the stage-1 walk, accesses and completion are all reached.
 * Invariants: no crash, no UB, a bounded number of accesses, and registers
 * untouched unless the instruction completed.
 */
#include <string.h>
#include <vcpufault/aarch64.h>

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_mem {
    const uint8_t *bytes;
    size_t len;
    uint32_t word;
} fuzz_mem_t;

/*
 * Guest memory: every 4-byte read is the instruction fetch (wherever the PC
 * translated to; table walks read 8 bytes), the rest of the input is at 0..
 */
static int fuzz_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    const fuzz_mem_t *m = ctx;
    if (len == 4 && (gpa & 3u) == 0) {
        memcpy(buf, &m->word, 4);
        return 0;
    }
    if (gpa >= m->len || len > m->len - gpa)
        return -1;
    memcpy(buf, m->bytes + gpa, len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vf_aarch64_regs_t regs, before;
    vf_aarch64_exit_t e;
    vf_fault_t f;
    fuzz_mem_t mem;
    memset(&regs, 0, sizeof(regs));
    memset(&e, 0, sizeof(e));
    uint64_t ctl = take64(&data, &size);
    mem.word = (uint32_t)take64(&data, &size);
    regs.pstate = take64(&data, &size) & 0x3cf;
    regs.pc = take64(&data, &size);
    regs.sctlr_el1 = take64(&data, &size) & ((1ull << 25) | (1ull << 24) | ((ctl >> 2) & 1));
    regs.tcr_el1 = take64(&data, &size);
    regs.ttbr0_el1 = take64(&data, &size) & 0xffff;
    regs.ttbr1_el1 = take64(&data, &size) & 0xffff;
    for (int i = 0; i < 31; i++)
        regs.x[i] = (ctl & 2) ? take64(&data, &size) : (uint64_t)(uint8_t)(i * 8);
    regs.sp_el0 = take64(&data, &size);
    regs.sp_el1 = take64(&data, &size);
    for (int i = 0; i < 32; i++) {
        regs.v[i].lo = 0x0101010101010101ull * (uint64_t)i;
        regs.v[i].hi = ~regs.v[i].lo;
    }
    mem.bytes = data;
    mem.len = size;

    /* Aim the exit at the decoded base address so the cross-check usually passes. */
    vf_insn_t in;
    vf_a64_ldst_t x;
    uint64_t va = (uint64_t)(ctl >> 16);
    if (vf_aarch64_decode(mem.word, &in, &x, NULL) == VF_OK && (ctl & 8)) {
        uint64_t sp = (regs.pstate & 0xc) && (regs.pstate & 1) ? regs.sp_el1 : regs.sp_el0;
        uint64_t base = x.mode == VF_A64_AM_LITERAL ? regs.pc : in.rn == 31 ? sp : regs.x[in.rn];
        va = (in.flags & VF_INSN_POSTINDEX) || x.mode == VF_A64_AM_REG ? base : base + (uint64_t)in.imm;
        e.esr = (0x24ull << 26) | (1ull << 25) | ((in.flags & VF_INSN_WRITE) ? 0x40u : 0u) | 0x07u;
    } else {
        e.esr = (0x24ull << 26) | (1ull << 25) | (ctl & 0x7c0u) | 0x07u;
    }
    e.far = va;
    e.hpfar = (ctl >> 4) & 0xfffffff0ull;
    vf_host_t host = {fuzz_read, NULL, &mem, (uint32_t)(ctl & 1)};

    before = regs;
    vf_fault_init(&f);
    (void)vf_fault_set_split(&f, (ctl & 16) ? 8 : 0);
    (void)vf_aarch64_capture(&f, &regs, &e, &host);
    for (unsigned step = 0; vf_fault_state(&f) == VF_STATE_ACCESS; step++) {
        if (step > 64)
            __builtin_trap(); /* at most 64 bytes read or written in pieces of >= 1 */
        vf_access_t a = vf_fault_access(&f);
        if (a.size == 0)
            break;
        if (a.dir == VF_DIR_READ) {
            uint8_t buf[32];
            memset(buf, 0xa5 ^ (int)step, sizeof(buf));
            (void)vf_fault_set_read(&f, buf, a.size);
        } else {
            uint8_t buf[32];
            (void)vf_fault_write_data(&f, buf, sizeof(buf));
        }
        (void)vf_fault_advance(&f);
    }
    if (vf_fault_state(&f) != VF_STATE_DONE && memcmp(&regs, &before, sizeof(regs)) != 0)
        __builtin_trap(); /* registers changed without completing */
    (void)vf_fault_insn(&f);
    (void)vf_fault_message(&f);
    return 0;
}
