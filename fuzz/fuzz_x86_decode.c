/*
 * libFuzzer target: the x86 decoder on arbitrary bytes in every mode, and a
 * whole capture/access/complete cycle with guest memory (instruction bytes
 * and page tables) taken from the input. Nothing a guest controls may crash,
 * read out of bounds or loop.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <vcpufault/x86.h>

#include "arch/x86/x86i.h"

#include "fuzz_input.h"

typedef struct image {
    const uint8_t *mem;
    size_t len;
} image_t;

static int img_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    const image_t *im = ctx;
    if (gpa >= im->len || len > im->len - gpa)
        return -1;
    memcpy(buf, im->mem + gpa, len);
    return 0;
}

static int img_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    (void)buf;
    const image_t *im = ctx;
    return gpa < im->len && len <= im->len - gpa ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    /* Pure decoder in all modes. */
    static const unsigned modes[] = {2 | X86_MODE_REAL, 2, 4, 8};
    for (unsigned m = 0; m < 4; m++) {
        x86_dec_t d;
        x86_result_t r = vf_x86_decode_bytes(data + 1, (unsigned)(size - 1 < 16 ? size - 1 : 16), modes[m], &d);
        if ((r.status == X86_DEC_OK && (d.len == 0 || d.len > 15)) || r.why == NULL)
            __builtin_trap();
    }

    /* Whole fault: control byte, registers, then memory (instruction at its RIP, tables at CR3). */
    uint8_t ctl = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    vf_x86_regs_t r;
    memset(&r, 0, sizeof(r));
    for (unsigned i = 0; i < 4; i++)
        r.gpr[i * 2 + (ctl & 1)] = take64(&p, &n);
    r.gpr[VF_X86_RCX] = take64(&p, &n) & 0xff;
    uint64_t misc = take64(&p, &n);
    static const uint64_t cr0s[4] = {0, 0x11, 0x80000011, 0x80000011};
    unsigned mode = (ctl >> 1) & 3u;
    r.cr0 = cr0s[mode];
    r.cs_d = mode >= 1;
    r.cs_l = mode == 3;
    r.efer = mode == 3 ? 0x500 : (misc & 0x800);
    r.cr4 = (misc >> 8) & 0x1030;
    r.cpl = (misc >> 16) & 3;
    r.rflags = 2 | ((misc >> 24) & 0x20cd5);
    r.cr3 = (misc >> 32) & 0xff000;
    r.rip = (misc >> 44) & 0xfff;
    r.cs_base = (ctl & 0x80) ? 0x10 : 0;
    image_t im = {p, n};
    vf_host_t host = {img_read, img_write, &im, (ctl & 0x40) ? VF_HOST_IDENTITY : 0};
    vf_x86_exit_t x = {misc & 0xffff, (misc >> 8) & 0xffff, (misc >> 56) | ((ctl & 0x20) ? 0x80 : 0)};
    vf_fault_t f;
    vf_fault_init(&f);
    vf_fault_set_split(&f, (ctl & 0x10) ? 8 : 0);
    vf_error_t err = vf_x86_capture(&f, &r, &x, &host);
    for (unsigned step = 0; err == VF_OK && vf_fault_state(&f) == VF_STATE_ACCESS; step++) {
        if (step > 64)
            __builtin_trap(); /* an instruction never makes this many accesses */
        vf_access_t a = vf_fault_access(&f);
        if (a.size == 0 || a.size > 32)
            __builtin_trap();
        if (a.dir == VF_DIR_READ) {
            uint8_t buf[32];
            memset(buf, (int)step * 37, sizeof(buf));
            err = vf_fault_set_read(&f, buf, a.size);
        } else {
            uint8_t buf[32];
            err = vf_fault_write_data(&f, buf, sizeof(buf));
        }
        if (err == VF_OK)
            err = vf_fault_advance(&f);
    }
    return 0;
}
