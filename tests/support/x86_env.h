/*
 * Test support for x86: a small guest-physical memory of 4 KiB pages, one of
 * which is the "device" (not readable through read_phys, like MMIO), and a
 * runner that captures a fault, serves its reads from the device page's
 * bytes, applies its writes to them and records every access.
 */
#ifndef VF_TEST_X86_ENV_H
#define VF_TEST_X86_ENV_H

#include <stdint.h>
#include <vcpufault/x86.h>

#define X86_ENV_PAGES 16
#define X86_ENV_ACCESSES 8

typedef struct x86_env_access {
    uint64_t addr;
    uint8_t dir, size;
    uint8_t data[32];
} x86_env_access_t;

typedef struct x86_env {
    uint64_t page_addr[X86_ENV_PAGES];
    uint8_t page[X86_ENV_PAGES][4096];
    unsigned n_pages;
    uint64_t device;          /* guest-physical address of the device page */
    x86_env_access_t acc[X86_ENV_ACCESSES];
    unsigned n_acc;
    unsigned ram_writes;      /* write_phys calls */
} x86_env_t;

/* Empty memory; `device` is the device page's address. */
void x86_env_init(x86_env_t *e, uint64_t device);
/* Add a zeroed 4 KiB page (RAM, or the device page); returns its bytes. */
uint8_t *x86_env_page(x86_env_t *e, uint64_t addr);
/* Bytes at a guest-physical address (any page, the device page included), or NULL. */
uint8_t *x86_env_at(x86_env_t *e, uint64_t addr, unsigned len);
/* A host whose read_phys/write_phys see the RAM pages (not the device page). */
vf_host_t x86_env_host(x86_env_t *e, uint32_t flags);
/*
 * Capture and run a fault to completion with 8-byte pieces when split is 8
 * (0: whole accesses). Returns the capture/advance error, VF_OK when done.
 */
vf_error_t x86_env_run(x86_env_t *e, vf_fault_t *f, vf_x86_regs_t *r, const vf_x86_exit_t *x,
                       uint32_t host_flags, unsigned split);

#endif
