/*
 * The Linux trap host (x86-64): see include/vcpufault/trap_linux.h.
 *
 * Signal handler -> vf_x86_regs_t -> vf_x86_capture() -> device callbacks ->
 * completion -> signal context. The fault object and registers live on the
 * handler's stack (one vCPU per thread); the host's own state is the region
 * table and a few values fixed at vf_trap_init().
 */
#if defined(__linux__) && defined(__x86_64__)

#include <vcpufault/trap_linux.h>
#include <vcpufault/x86.h>

#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include <asm/prctl.h>

/* ------------------------------------------------------------------ state */

typedef struct region {
    _Atomic(uintptr_t) base; /* 0 = free slot */
    size_t len;
    vf_trap_device_t dev;
} region_t;

static region_t regions[VF_TRAP_MAX_REGIONS];
static pthread_mutex_t regions_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = -1;
static struct sigaction previous_action;
static size_t page_size = 4096;
static int have_vm_rw;          /* process_vm_readv works on ourselves */
static int have_fsgsbase;       /* user-mode RDFSBASE/RDGSBASE (AT_HWCAP2 bit 1) */
static uint32_t ymm_hi_offset;  /* XSAVE offset of YMM_Hi128 (component 2), 0 = none */
static uint32_t zmm_hi_offset;  /* XSAVE offset of ZMM_Hi256 (component 6), 0 = none */
static _Thread_local void *thread_altstack;
static _Thread_local size_t thread_altstack_size;

#define FP_MAGIC1 0x46505853u /* "XSFP": the fxsave area's software bytes describe an XSAVE frame */
#define XFEATURE_YMM 2u
#define XFEATURE_ZMM_HI256 6u
#define PF_WRITE 0x2u  /* page-fault error code: the access was a write */
#define PF_FETCH 0x10u /* page-fault error code: instruction fetch */
#define MAX_PIECES 64u /* far more than any instruction makes: a guard against a device that never advances */

/* ---------------------------------------------------------------- regions */

static region_t *find_region(uint64_t addr)
{
    for (unsigned i = 0; i < VF_TRAP_MAX_REGIONS; i++) {
        uintptr_t b = atomic_load_explicit(&regions[i].base, memory_order_acquire);
        if (b != 0 && addr >= b && addr - b < regions[i].len)
            return &regions[i];
    }
    return NULL;
}

static int overlaps_region(uint64_t addr, size_t len)
{
    for (unsigned i = 0; i < VF_TRAP_MAX_REGIONS; i++) {
        uintptr_t b = atomic_load_explicit(&regions[i].base, memory_order_acquire);
        if (b != 0 && addr < b + regions[i].len && b < addr + len)
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------- process memory */

/*
 * The library reaches "guest RAM" (instruction bytes, the RAM side of string
 * instructions) only through these. process_vm_readv/writev on ourselves
 * turn an unmapped or protected address into an error instead of a second
 * SIGSEGV inside the handler; trapped regions are never RAM.
 */
static int mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    if (gpa + len < gpa || overlaps_region(gpa, len))
        return -1;
    /*
     * The page holding the faulting RIP was just executed from (the fault was
     * a data access): it is mapped, and with no protection keys in use,
     * readable. Copy from it directly; anything else goes through the kernel.
     */
    const uint64_t *rip_page = ctx;
    if (rip_page != NULL && gpa >= *rip_page && gpa + len <= *rip_page + page_size) {
        memcpy(buf, (const void *)(uintptr_t)gpa, len);
        return 0;
    }
    if (!have_vm_rw) {
        memcpy(buf, (const void *)(uintptr_t)gpa, len);
        return 0;
    }
    struct iovec local = {buf, len};
    struct iovec remote = {(void *)(uintptr_t)gpa, len};
    ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    return n == (ssize_t)len ? 0 : -1;
}

static int mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    (void)ctx;
    if (len == 0)
        return 0;
    if (gpa + len < gpa || overlaps_region(gpa, len))
        return -1;
    if (!have_vm_rw) {
        memcpy((void *)(uintptr_t)gpa, buf, len);
        return 0;
    }
    struct iovec local = {(void *)(uintptr_t)buf, len};
    struct iovec remote = {(void *)(uintptr_t)gpa, len};
    ssize_t n = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
    return n == (ssize_t)len ? 0 : -1;
}

/* Read up to 15 instruction bytes at rip, stopping at the first unreadable byte. */
static uint8_t read_insn_bytes(uint64_t rip, uint8_t bytes[15])
{
    uint8_t n = 0;
    uint64_t rip_page = rip & ~(uint64_t)(page_size - 1);
    while (n < 15) {
        uint64_t a = rip + n;
        size_t chunk = page_size - (size_t)(a & (page_size - 1));
        if (chunk > (size_t)(15 - n))
            chunk = (size_t)(15 - n);
        if (mem_read(&rip_page, a, bytes + n, chunk) != 0)
            break;
        n = (uint8_t)(n + chunk);
    }
    return n;
}

/* ------------------------------------------------------ signal context */

/* ucontext gregs index of each vf_x86_gpr. */
static const uint8_t greg_of[16] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

/* The XSAVE frame behind the fxsave area, or NULL when the kernel saved only fxsave. */
static uint8_t *xsave_area(ucontext_t *uc, uint32_t *size)
{
    uint8_t *fx = (uint8_t *)uc->uc_mcontext.fpregs;
    if (fx == NULL)
        return NULL;
    uint32_t magic, xstate_size;
    memcpy(&magic, fx + 464, 4);
    memcpy(&xstate_size, fx + 464 + 16, 4);
    if (magic != FP_MAGIC1 || xstate_size < 576)
        return NULL;
    *size = xstate_size;
    return fx;
}

static uint64_t xstate_bv(const uint8_t *xs)
{
    uint64_t bv;
    memcpy(&bv, xs + 512, 8);
    return bv;
}

static uint64_t segment_base(int which)
{
    unsigned long v = 0;
    if (have_fsgsbase) {
        /* The kernel enabled RDFSBASE/RDGSBASE for user mode: no system call. */
        if (which == ARCH_GET_FS)
            __asm__ volatile("rdfsbase %0" : "=r"(v));
        else
            __asm__ volatile("rdgsbase %0" : "=r"(v));
        return v;
    }
    if (syscall(SYS_arch_prctl, which, &v) != 0)
        return 0;
    return v;
}

static void regs_from_context(vf_x86_regs_t *r, ucontext_t *uc)
{
    memset(r, 0, sizeof(*r));
    greg_t *g = uc->uc_mcontext.gregs;
    for (unsigned i = 0; i < 16; i++)
        r->gpr[i] = (uint64_t)g[greg_of[i]];
    r->rip = (uint64_t)g[REG_RIP];
    r->rflags = (uint64_t)g[REG_EFL];
    /* 64-bit user code: protected mode with paging, long mode active, CPL 3. */
    r->cr0 = 0x80050033u;          /* PG WP NE ET MP PE */
    r->cr4 = 0x000006a0u;          /* OSXMMEXCPT OSFXSR PGE PAE */
    r->efer = 0x500u;              /* LMA LME */
    r->cs_l = 1;
    r->cpl = 3;
    r->fs_base = segment_base(ARCH_GET_FS);
    r->gs_base = segment_base(ARCH_GET_GS);
    const uint8_t *fx = (const uint8_t *)uc->uc_mcontext.fpregs;
    if (fx == NULL)
        return;
    for (unsigned i = 0; i < 16; i++)
        memcpy(&r->ymm[i][0], fx + 160 + 16 * i, 16);
    uint32_t size = 0;
    uint8_t *xs = xsave_area(uc, &size);
    if (xs != NULL && ymm_hi_offset != 0 && ymm_hi_offset + 256 <= size &&
        (xstate_bv(xs) & (1u << XFEATURE_YMM)) != 0) {
        for (unsigned i = 0; i < 16; i++)
            memcpy(&r->ymm[i][2], xs + ymm_hi_offset + 16 * i, 16);
    }
}

/* Write the completed registers back. Returns 0, or -1 if YMM uppers changed with nowhere to put them. */
static int regs_to_context(const vf_x86_regs_t *r, const vf_x86_regs_t *before, ucontext_t *uc,
                           int zero_zmm_hi_of)
{
    greg_t *g = uc->uc_mcontext.gregs;
    uint8_t *fx = (uint8_t *)uc->uc_mcontext.fpregs;
    uint32_t size = 0;
    uint8_t *xs = xsave_area(uc, &size);
    int ymm_changed = 0;
    for (unsigned i = 0; i < 16; i++)
        ymm_changed |= memcmp(&r->ymm[i][2], &before->ymm[i][2], 16) != 0;
    int xmm_changed = memcmp(r->ymm, before->ymm, sizeof(r->ymm)) != 0;
    if ((xmm_changed && fx == NULL) ||
        (ymm_changed && (xs == NULL || ymm_hi_offset == 0 || ymm_hi_offset + 256 > size)))
        return -1;
    for (unsigned i = 0; i < 16; i++)
        g[greg_of[i]] = (greg_t)r->gpr[i];
    g[REG_RIP] = (greg_t)r->rip;
    g[REG_EFL] = (greg_t)r->rflags;
    if (xmm_changed) {
        for (unsigned i = 0; i < 16; i++)
            memcpy(fx + 160 + 16 * i, &r->ymm[i][0], 16);
    }
    if (ymm_changed) {
        uint64_t bv = xstate_bv(xs);
        if ((bv & (1u << XFEATURE_YMM)) == 0) {
            /* The component was in its initial state: its bytes in the frame are stale. */
            memset(xs + ymm_hi_offset, 0, 256);
            bv |= 1u << XFEATURE_YMM;
            memcpy(xs + 512, &bv, 8);
        }
        for (unsigned i = 0; i < 16; i++)
            memcpy(xs + ymm_hi_offset + 16 * i, &r->ymm[i][2], 16);
    }
    if (zero_zmm_hi_of >= 0 && xs != NULL && zmm_hi_offset != 0 &&
        zmm_hi_offset + 512 <= size && (xstate_bv(xs) & (1u << XFEATURE_ZMM_HI256)) != 0)
        memset(xs + zmm_hi_offset + 32 * (unsigned)zero_zmm_hi_of, 0, 32);
    return 0;
}

/* A VEX-encoded instruction (after legacy prefixes and in 64-bit mode): its vector destination's bits 511:256 are zeroed. */
static int is_vex(const uint8_t *b, unsigned n)
{
    unsigned i = 0;
    while (i < n && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 || b[i] == 0xf3 ||
                     b[i] == 0x2e || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x36 ||
                     b[i] == 0x64 || b[i] == 0x65 || b[i] == 0xf0))
        i++;
    return i < n && (b[i] == 0xc4 || b[i] == 0xc5);
}

/* ----------------------------------------------------------------- errors */

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void report_error(region_t *r, uint64_t rip, uint64_t addr, int is_write, vf_error_t err,
                         const char *reason, const vf_fault_t *f)
{
    vf_trap_error_info_t info;
    memset(&info, 0, sizeof(info));
    info.rip = rip;
    info.addr = addr;
    info.region_base = r != NULL ? atomic_load(&r->base) : 0;
    info.is_write = (uint8_t)(is_write != 0);
    info.error = err;
    info.reason = reason != NULL ? reason : "";
    info.nbytes = read_insn_bytes(rip, info.bytes);
    if (f != NULL)
        info.inject = vf_fault_injection(f);
    char vector[40] = "";
    if (info.inject.kind == VF_INJECT_X86_EXCEPTION)
        snprintf(vector, sizeof(vector), " (x86 exception vector %u)", info.inject.code);
    static const char digits[] = "0123456789abcdef";
    char hex[15 * 3 + 1] = "";
    for (unsigned i = 0; i < info.nbytes; i++) {
        hex[3 * i] = digits[info.bytes[i] >> 4];
        hex[3 * i + 1] = digits[info.bytes[i] & 15];
        hex[3 * i + 2] = i + 1 < info.nbytes ? ' ' : '\0';
    }
    snprintf(info.message, sizeof(info.message),
             "vcpufault trap: cannot emulate the %s of 0x%llx by the instruction at 0x%llx "
             "(bytes %s): %s: %s%s",
             is_write ? "write" : "read", (unsigned long long)addr, (unsigned long long)rip,
             info.nbytes != 0 ? hex : "unreadable", vf_error_name(err), info.reason, vector);
    if (r != NULL && r->dev.error != NULL)
        r->dev.error(r->dev.ctx, &info);
    /* Nobody took it: stop here, loudly, rather than run on with wrong state. */
    write_all(2, info.message, strlen(info.message));
    write_all(2, "\n", 1);
    abort();
}

/* ---------------------------------------------------------------- serving */

/* Serve the current piece of `f` with the region that holds its address. Returns NULL or an error reason. */
static const char *serve_piece(vf_fault_t *f, vm_vcpu_t *vcpu)
{
    vf_access_t a = vf_fault_access(f);
    region_t *r = find_region(a.addr);
    if (r == NULL || a.addr + a.size - atomic_load(&r->base) > r->len)
        return "the access leaves the trapped region";
    uint64_t off = a.addr - atomic_load(&r->base);
    if (r->dev.sel4_fault != NULL && vcpu != NULL) {
        uint8_t stage = f->stage, poff = f->off;
        vcpu->cookie = r->dev.ctx;
        if (r->dev.sel4_fault(vcpu, (uintptr_t)a.addr, a.size, r->dev.ctx) != 0)
            return "the device's sel4_fault handler reported an error";
        if (vf_fault_state(f) == VF_STATE_ACCESS && f->stage == stage && f->off == poff)
            return "the device's sel4_fault handler neither advanced nor restarted the fault";
        return NULL;
    }
    if (r->dev.read == NULL || r->dev.write == NULL)
        return "the region's device has no read/write callbacks for this access";
    uint8_t buf[VF_ACCESS_MAX];
    memset(buf, 0, sizeof(buf));
    if (a.dir == VF_DIR_READ) {
        r->dev.read(r->dev.ctx, off, buf, a.size);
        if (vf_fault_set_read(f, buf, a.size) != VF_OK)
            return "the library refused the read data";
    } else {
        if (vf_fault_write_data(f, buf, sizeof(buf)) != VF_OK)
            return "the library gave no write data";
        r->dev.write(r->dev.ctx, off, buf, a.size);
    }
    (void)vf_fault_advance(f);
    return NULL;
}

static void handler(int sig, siginfo_t *si, void *ucv)
{
    int saved_errno = errno;
    ucontext_t *uc = ucv;
    uint64_t addr = (uint64_t)(uintptr_t)si->si_addr;
    region_t *r = si->si_code > 0 ? find_region(addr) : NULL;
    if (r == NULL) {
        /* Not ours: the previous handler, or the default action once we return. */
        if (previous_action.sa_flags & SA_SIGINFO) {
            if (previous_action.sa_sigaction != NULL) {
                previous_action.sa_sigaction(sig, si, ucv);
                errno = saved_errno;
                return;
            }
        } else if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN) {
            previous_action.sa_handler(sig);
            errno = saved_errno;
            return;
        }
        signal(SIGSEGV, SIG_DFL);
        errno = saved_errno;
        return;
    }

    uint64_t err = (uint64_t)uc->uc_mcontext.gregs[REG_ERR];
    uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    int is_write = (err & PF_WRITE) != 0;
    if (err & PF_FETCH)
        report_error(r, rip, addr, 0, VF_ERR_NOT_MMIO, "instruction fetch from trapped memory", NULL);

    vf_x86_regs_t regs, before;
    regs_from_context(&regs, uc);
    before = regs;
    vf_x86_exit_t exit = {addr, addr,
                          VF_X86_QUAL_GLA_VALID | (is_write ? VF_X86_QUAL_WRITE : VF_X86_QUAL_READ)};
    uint64_t rip_page = rip & ~(uint64_t)(page_size - 1);
    vf_host_t host = {mem_read, mem_write, &rip_page, VF_HOST_IDENTITY};

    /* seL4-API regions see word-sized pieces through a vm_vcpu_t; native ones whole accesses. */
    vm_vcpu_t vcpu;
    vf_fault_t *f = &vcpu.fault;
    vm_vcpu_t *sel4 = NULL;
    if (r->dev.sel4_fault != NULL) {
        vm_vcpu_fault_init(&vcpu);
        sel4 = &vcpu;
    } else {
        vf_fault_init(f);
    }
    vf_error_t e = vf_x86_capture(f, &regs, &exit, &host);
    if (e == VF_OK)
        e = vf_fault_decode(f);
    if (e != VF_OK)
        report_error(r, rip, addr, is_write, e, vf_fault_message(f), f);

    unsigned pieces = 0;
    while (vf_fault_state(f) == VF_STATE_ACCESS) {
        const char *why = ++pieces > MAX_PIECES ? "too many accesses" : serve_piece(f, sel4);
        if (why != NULL)
            report_error(r, rip, addr, is_write, VF_ERR_UNSUPPORTED, why, NULL);
    }
    if (vf_fault_state(f) == VF_STATE_IDLE) {
        /* restart_vcpu_fault(): run the instruction again, nothing changed. */
        errno = saved_errno;
        return;
    }
    if (vf_fault_state(f) != VF_STATE_DONE)
        report_error(r, rip, addr, is_write, vf_fault_error(f), vf_fault_message(f), f);

    uint8_t bytes[15];
    uint8_t nbytes = 0;
    const vf_insn_t *insn = vf_fault_insn(f);
    int vector_load = insn != NULL && (insn->flags & VF_INSN_FP) && !(insn->flags & VF_INSN_WRITE) &&
                      insn->rt < 16;
    if (vector_load || r->dev.trace != NULL)
        nbytes = read_insn_bytes(rip, bytes);
    int zmm = vector_load && is_vex(bytes, nbytes) ? insn->rt : -1;
    if (regs_to_context(&regs, &before, uc, zmm) != 0)
        report_error(r, rip, addr, is_write, VF_ERR_UNSUPPORTED,
                     "the instruction changed YMM state the signal frame does not hold", NULL);
    if (r->dev.trace != NULL) {
        vf_trap_event_t ev;
        memset(&ev, 0, sizeof(ev));
        ev.rip = rip;
        memcpy(ev.bytes, bytes, nbytes);
        ev.length = insn != NULL ? insn->length : 0;
        ev.accesses = (uint8_t)pieces;
        ev.size = insn != NULL ? insn->size : 0;
        ev.is_write = (uint8_t)is_write;
        r->dev.trace(r->dev.ctx, &ev);
    }
    errno = saved_errno;
}

/* ------------------------------------------------------------------- setup */

static void probe(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    if (ps > 0)
        page_size = (size_t)ps;
    uint8_t src[8] = {1, 2, 3, 4, 5, 6, 7, 8}, dst[8] = {0};
    struct iovec local = {dst, 8}, remote = {src, 8};
    have_vm_rw = process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 8 && dst[7] == 8;
    have_fsgsbase = (getauxval(AT_HWCAP2) & 2u) != 0;
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, NULL) >= 0xd) {
        __cpuid_count(0xd, 0, a, b, c, d);
        uint64_t xcr0_supported = a | ((uint64_t)d << 32);
        if (xcr0_supported & (1u << XFEATURE_YMM)) {
            __cpuid_count(0xd, XFEATURE_YMM, a, b, c, d);
            ymm_hi_offset = b;
        }
        if (xcr0_supported & (1u << XFEATURE_ZMM_HI256)) {
            __cpuid_count(0xd, XFEATURE_ZMM_HI256, a, b, c, d);
            zmm_hi_offset = b;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    init_result = sigaction(SIGSEGV, &sa, &previous_action);
}

int vf_trap_thread_init(void)
{
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
        return 0; /* the thread has one already (perhaps a sanitizer's) */
    size_t size = 256 * 1024; /* the handler, libc and sanitizer runtimes all run on it */
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    stack_t ss = {.ss_sp = p, .ss_flags = 0, .ss_size = size};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(p, size);
        return -1;
    }
    thread_altstack = p;
    thread_altstack_size = size;
    return 0;
}

void vf_trap_thread_fini(void)
{
    if (thread_altstack == NULL)
        return;
    stack_t ss = {.ss_sp = NULL, .ss_flags = SS_DISABLE, .ss_size = 0};
    if (sigaltstack(&ss, NULL) == 0)
        munmap(thread_altstack, thread_altstack_size);
    thread_altstack = NULL;
}

int vf_trap_init(void)
{
    pthread_once(&init_once, probe);
    if (init_result != 0)
        return -1;
    return vf_trap_thread_init();
}

/* Map and register a region; at exactly `at` when it is not NULL. */
static void *map_region(void *at, size_t len, const vf_trap_device_t *dev)
{
    if (len == 0 || dev == NULL || ((uintptr_t)at & (page_size - 1)) != 0 ||
        (dev->sel4_fault == NULL && (dev->read == NULL || dev->write == NULL)))
        return NULL;
    len = (len + page_size - 1) & ~(page_size - 1);
    pthread_mutex_lock(&regions_lock);
    region_t *slot = NULL;
    for (unsigned i = 0; i < VF_TRAP_MAX_REGIONS && slot == NULL; i++)
        if (atomic_load(&regions[i].base) == 0)
            slot = &regions[i];
    void *p = MAP_FAILED;
    if (slot != NULL) {
        int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (at != NULL ? MAP_FIXED_NOREPLACE : 0);
        p = mmap(at, len, PROT_NONE, flags, -1, 0);
        if (p != MAP_FAILED && at != NULL && p != at) { /* a kernel without MAP_FIXED_NOREPLACE took it as a hint */
            munmap(p, len);
            p = MAP_FAILED;
        }
    }
    if (p != MAP_FAILED) {
        slot->len = len;
        slot->dev = *dev;
        atomic_store_explicit(&slot->base, (uintptr_t)p, memory_order_release);
    }
    pthread_mutex_unlock(&regions_lock);
    return p == MAP_FAILED ? NULL : p;
}

void *vf_trap_map(size_t len, const vf_trap_device_t *dev)
{
    return map_region(NULL, len, dev);
}

void *vf_trap_map_at(void *addr, size_t len, const vf_trap_device_t *dev)
{
    return addr != NULL ? map_region(addr, len, dev) : NULL;
}

int vf_trap_unmap(void *base)
{
    int rc = -1;
    pthread_mutex_lock(&regions_lock);
    for (unsigned i = 0; i < VF_TRAP_MAX_REGIONS; i++) {
        if (atomic_load(&regions[i].base) == (uintptr_t)base) {
            atomic_store(&regions[i].base, 0);
            rc = munmap(base, regions[i].len);
            break;
        }
    }
    pthread_mutex_unlock(&regions_lock);
    return rc;
}

#else
/* The trap host needs x86-64 Linux; elsewhere this file is empty. */
typedef int vf_trap_linux_unavailable_t;
#endif
