/*
 * vcpufault: the Linux trap host (x86-64).
 *
 * Runs ordinary code of this process as if it were a guest whose device
 * pages are emulated: vf_trap_map() maps a range with no access; every load
 * or store the code makes there raises SIGSEGV; the handler builds an x86
 * fault from the signal context (general registers, RIP, RFLAGS, XMM and YMM
 * from the kernel's XSAVE frame), captures it with vf_x86_capture(), lets the
 * region's device model serve each access, writes the completed registers
 * back into the signal context and returns: the code continues after the
 * instruction as if the device were memory.
 *
 *     static void uart_read(void *ctx, uint64_t off, void *data, unsigned size) {...}
 *     static void uart_write(void *ctx, uint64_t off, const void *data, unsigned size) {...}
 *     vf_trap_device_t dev = {.read = uart_read, .write = uart_write, .ctx = &uart};
 *     vf_trap_init();
 *     volatile uint8_t *regs = vf_trap_map(4096, &dev);
 *     regs[0] = 'A';   // uart_write(&uart, 0, "A", 1)
 *
 * A device is served either through the native API (`read`/`write`, whole
 * accesses of 1 to 32 bytes) or through the libsel4vm API (`sel4_fault`, one
 * piece of at most 8 bytes at a time, the way libsel4vm device code expects:
 * the callback calls set_vcpu_fault_data()/advance_vcpu_fault()).
 *
 * Threads: every thread that touches a trapped region is its own vCPU. The
 * fault object lives on the signal handler's stack, so several threads trap
 * at once without sharing anything but the region table; device callbacks
 * must be safe to call from several threads if several threads use them.
 * Each thread should call vf_trap_thread_init() once (vf_trap_init() does it
 * for its caller) so the handler runs on an alternate signal stack.
 *
 * Register state: RAX..R15, RIP, RFLAGS, XMM0..15 and the upper halves of
 * YMM0..15 (from the XSAVE frame when the kernel saved one; otherwise YMM
 * uppers read as zero and a write to them is refused). FS/GS bases come from
 * RDFSBASE/RDGSBASE (or arch_prctl). AVX-512 state (ZMM upper halves, ZMM16..31, opmasks) is not
 * offered to the library; the host zeroes bits 511:256 of the destination of
 * a VEX-encoded load as the CPU does, and leaves that state alone otherwise.
 * The guest is 64-bit user code: CPL 3, long mode, identity translation.
 *
 * An access that cannot be emulated (unsupported instruction, an access that
 * leaves the trapped regions, an instruction fetch from trapped memory, an
 * exception the guest would have to take such as #DE, given in `inject`) is reported to the
 * faulting region's `error` callback with the instruction bytes and the
 * reason. If there is no callback, or it returns, the host writes the message
 * to stderr and calls abort(): a deliberate, explained crash, never a hang.
 * The callback may leave with siglongjmp() instead (tests do).
 *
 * Signals and sanitizers: the handler is installed with SA_SIGINFO |
 * SA_ONSTACK. A SIGSEGV outside every trapped region goes to the handler
 * that was installed before vf_trap_init(), or is re-raised with the default
 * action. AddressSanitizer installs its own SIGSEGV handler; run with
 * ASAN_OPTIONS=handle_segv=0 (or call vf_trap_init() after it started,
 * which replaces it).
 */
#ifndef VCPUFAULT_TRAP_LINUX_H
#define VCPUFAULT_TRAP_LINUX_H

#include <stddef.h>
#include <stdint.h>
#include <sel4vm/guest_vcpu_fault.h>
#include <vcpufault/vcpufault.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most regions mapped at the same time. */
#define VF_TRAP_MAX_REGIONS 32u

/** Everything known about an access the host could not emulate. */
typedef struct vf_trap_error_info {
    uint64_t rip;          /**< address of the instruction */
    uint64_t addr;         /**< faulting address (from the page fault) */
    uint64_t region_base;  /**< base of the trapped region that faulted */
    uint8_t bytes[15];     /**< instruction bytes at rip (as many as were readable) */
    uint8_t nbytes;        /**< how many of `bytes` are valid */
    uint8_t is_write;      /**< the page fault was a write */
    vf_error_t error;      /**< why: the library's error code */
    const char *reason;    /**< the library's (or host's) static explanation */
    vf_inject_t inject;    /**< with VF_ERR_INJECT: the exception the guest must take (x86 vector 0 #DE...) */
    char message[320];     /**< one line naming all of the above, no newline */
} vf_trap_error_info_t;

/** After an instruction completed on a trapped region (for statistics and tracing). */
typedef struct vf_trap_event {
    uint64_t rip;          /**< address of the instruction */
    uint8_t bytes[15];     /**< its bytes */
    uint8_t length;        /**< its decoded length */
    uint8_t accesses;      /**< device accesses it made (pieces) */
    uint8_t size;          /**< bytes per access as the instruction makes them (before any split) */
    uint8_t is_write;      /**< the page fault was a write */
} vf_trap_event_t;

/**
 * A device model behind a trapped region. Give `read` and `write` (native
 * API) or `sel4_fault` (libsel4vm API); the others are optional.
 */
typedef struct vf_trap_device {
    /** Read `size` bytes (1..32) at byte `offset` of the region into `data` (little-endian). */
    void (*read)(void *ctx, uint64_t offset, void *data, unsigned size);
    /** Write `size` bytes (1..32) from `data` at byte `offset` of the region. */
    void (*write)(void *ctx, uint64_t offset, const void *data, unsigned size);
    /**
     * libsel4vm-style handler: called once per piece (at most 8 bytes) with
     * the guest-physical address and size; it uses get_vcpu_fault_*(),
     * set_vcpu_fault_data() and advance_vcpu_fault() (or restart_vcpu_fault()
     * to run the instruction again). `vcpu->cookie` is `ctx`. Return 0, or
     * non-zero to report an error.
     */
    int (*sel4_fault)(vm_vcpu_t *vcpu, uintptr_t paddr, size_t len, void *ctx);
    /** Called when an access cannot be emulated; see the file comment. */
    void (*error)(void *ctx, const vf_trap_error_info_t *info);
    /** Called after each emulated instruction. */
    void (*trace)(void *ctx, const vf_trap_event_t *event);
    /** Passed to the callbacks. */
    void *ctx;
} vf_trap_device_t;

/** Install the SIGSEGV handler (once per process) and this thread's signal stack. Returns 0 or -1. */
int vf_trap_init(void);

/** Give the calling thread an alternate signal stack if it has none. Returns 0 or -1. */
int vf_trap_thread_init(void);

/** Free the signal stack vf_trap_thread_init() gave the calling thread, if any. */
void vf_trap_thread_fini(void);

/**
 * Map `len` bytes (rounded up to pages) with no access and attach `dev`
 * (copied). Returns the base address, or NULL (no free slot, mmap failed,
 * or `dev` gives neither read/write nor sel4_fault).
 */
void *vf_trap_map(size_t len, const vf_trap_device_t *dev);

/**
 * Like vf_trap_map(), at exactly `addr` (page-aligned, e.g. a device's guest-physical address
 * or an address below 4 GiB for 32-bit addressing). NULL if anything is mapped there already.
 */
void *vf_trap_map_at(void *addr, size_t len, const vf_trap_device_t *dev);

/** Unmap a region returned by vf_trap_map() or vf_trap_map_at(); no thread may be using it. Returns 0 or -1. */
int vf_trap_unmap(void *base);

#ifdef __cplusplus
}
#endif

#endif
