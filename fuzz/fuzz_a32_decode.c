/*
 * libFuzzer target for the AArch32 path: the A32, T16 and T32 decoders on raw
 * encodings, and whole faults (registers, syndrome, instruction bytes and
 * guest page tables all from the input) through capture, accesses and
 * completion. Any crash, sanitizer report or endless loop is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arch/aarch32/a32.h>

#define MEM_BASE 0x8000u
#define MEM_SIZE 256u

typedef struct fuzz_mem {
    uint8_t bytes[MEM_SIZE];
} fuzz_mem_t;

/* Guest memory: one 256-byte window, mirrored every 64 KiB so page-table walks can land in it. */
static int fuzz_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    const fuzz_mem_t *m = ctx;
    uint8_t *out = buf;
    for (size_t i = 0; i < len; i++) {
        uint64_t a = (gpa + i) & 0xffffu;
        if (a < MEM_BASE || a >= MEM_BASE + MEM_SIZE)
            return -1;
        out[i] = m->bytes[a - MEM_BASE];
    }
    return 0;
}

static uint32_t take32(const uint8_t **p, size_t *n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 4 && *n > 0; i++, (*p)++, (*n)--)
        v |= (uint32_t)**p << (8 * i);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    uint32_t w = take32(&p, &n);
    vf_insn_t in;
    const char *why;

    /* The pure decoders on the first word. */
    memset(&in, 0, sizeof(in));
    (void)vf_a32_decode_arm(w, &in, &why);
    memset(&in, 0, sizeof(in));
    (void)vf_a32_decode_t16(w & 0xffffu, &in, &why);
    memset(&in, 0, sizeof(in));
    (void)vf_a32_decode_t32(w >> 16, w & 0xffffu, &in, &why);

    /* A whole fault. */
    vf_aarch32_regs_t r;
    vf_aarch32_exit_t x;
    fuzz_mem_t m;
    memset(&r, 0, sizeof(r));
    memset(&x, 0, sizeof(x));
    memset(&m, 0, sizeof(m));
    for (unsigned i = 0; i < 16; i++)
        r.r[i] = take32(&p, &n);
    r.cpsr = take32(&p, &n);
    r.sctlr = take32(&p, &n);
    r.ttbcr = take32(&p, &n);
    r.ttbr0 = take32(&p, &n) & 0xffffu;
    r.ttbr1 = take32(&p, &n) & 0xffffu;
    x.hsr = take32(&p, &n) | 0x90000000u; /* EC 0x24 most of the time */
    x.hdfar = take32(&p, &n);
    x.hpfar = take32(&p, &n);
    x.flags = w & 3u;
    x.ipa = x.hdfar;
    /* Point the PC into the window (A32 word bytes = w) and put the rest in memory. */
    r.r[15] = MEM_BASE + (r.r[15] & 0xfcu);
    memcpy(m.bytes, data, size < MEM_SIZE ? size : MEM_SIZE);
    if (r.r[15] + 4 <= MEM_BASE + MEM_SIZE)
        memcpy(&m.bytes[r.r[15] - MEM_BASE], &w, 4);
    vf_host_t host = {fuzz_read, NULL, &m, (w >> 8) & 1u ? VF_HOST_IDENTITY : 0u};

    vf_fault_t f;
    vf_fault_init(&f);
    (void)vf_fault_set_split(&f, (w >> 9) & 1u ? 2 : 0);
    (void)vf_aarch32_capture(&f, &r, &x, &host);
    for (unsigned step = 0; step < 64 && vf_fault_state(&f) == VF_STATE_ACCESS; step++) {
        vf_access_t a = vf_fault_access(&f);
        if (a.dir == VF_DIR_READ)
            (void)vf_fault_set_read_value(&f, take32(&p, &n) & (a.size >= 4 ? 0xffffffffu : (1u << (8 * a.size)) - 1u));
        else
            (void)vf_fault_write_value(&f);
        if (vf_fault_advance(&f) != VF_OK)
            break;
    }
    if (vf_fault_state(&f) == VF_STATE_ERROR)
        (void)vf_fault_skip(&f);
    return 0;
}
