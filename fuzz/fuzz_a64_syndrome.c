/*
 * Fuzz AArch64 capture and completion: the input supplies the syndrome, the
 * exit addresses, the registers, the read data and the guest memory the host
 * callback serves. Every call must return cleanly whatever the guest did.
 */
#include <string.h>
#include <vcpufault/aarch64.h>

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_mem {
    const uint8_t *bytes;
    size_t len;
} fuzz_mem_t;

static int fuzz_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    const fuzz_mem_t *m = ctx;
    if (gpa >= m->len || len > m->len - gpa)
        return -1;
    memcpy(buf, m->bytes + gpa, len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vf_aarch64_regs_t regs;
    vf_aarch64_exit_t e;
    vf_fault_t f;
    memset(&regs, 0, sizeof(regs));
    e.esr = take64(&data, &size);
    e.far = take64(&data, &size);
    e.hpfar = take64(&data, &size);
    e.ipa = take64(&data, &size);
    e.flags = (uint32_t)take64(&data, &size) & 1u;
    uint64_t ctl = take64(&data, &size);
    regs.pstate = take64(&data, &size);
    regs.pc = take64(&data, &size) & 0xffff;
    regs.sctlr_el1 = take64(&data, &size);
    regs.tcr_el1 = take64(&data, &size);
    regs.ttbr0_el1 = take64(&data, &size) & 0xfff0;
    for (int i = 0; i < 31; i++)
        regs.x[i] = take64(&data, &size);
    regs.sp_el0 = take64(&data, &size);
    regs.sp_el1 = take64(&data, &size);
    fuzz_mem_t mem = {data, size};
    vf_host_t host = {fuzz_read, NULL, &mem, (uint32_t)(ctl & 1)};

    vf_fault_init(&f);
    (void)vf_fault_set_split(&f, (unsigned)(ctl >> 8) & 0x3f);
    vf_error_t err = vf_aarch64_capture(&f, &regs, &e, (ctl & 2) ? NULL : &host);
    for (unsigned step = 0; err == VF_OK && step < 256 && vf_fault_state(&f) == VF_STATE_ACCESS; step++) {
        vf_access_t a = vf_fault_access(&f);
        if (a.dir == VF_DIR_READ) {
            uint8_t buf[VF_ACCESS_MAX];
            memset(buf, (int)(ctl >> 16) & 0xff, sizeof(buf));
            (void)vf_fault_set_read(&f, buf, a.size);
        } else {
            uint8_t buf[VF_ACCESS_MAX];
            (void)vf_fault_write_data(&f, buf, sizeof(buf));
            (void)vf_fault_write_value(&f);
        }
        err = vf_fault_advance(&f);
    }
    (void)vf_fault_skip(&f);
    (void)vf_fault_injection(&f);
    vf_fault_restart(&f);
    return 0;
}
