/*
 * The Linux trap host: several threads trapping at once, accesses it cannot
 * emulate (the message names the instruction bytes; never a hang), and
 * libsel4vm-API device handlers behind trapped pages. Expected values are
 * worked out here from the instruction and the seL4 interface contract.
 */
#define _GNU_SOURCE
#if defined(__x86_64__) && defined(__linux__)
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <vcpufault/trap_linux.h>

static struct sigaction trap_action, cmocka_action;

/* cmocka points SIGSEGV at its own handler around every test: put the trap host's back. */
static void trap_on(void)
{
    sigaction(SIGSEGV, &trap_action, &cmocka_action);
}

static void trap_off(void)
{
    sigaction(SIGSEGV, &cmocka_action, NULL);
}

/* Exact instructions, so the expected accesses are known. */
static inline void st8(volatile void *p, uint8_t v) { __asm__ volatile("movb %b1, (%0)" ::"r"(p), "q"(v) : "memory"); }
static inline void st16(volatile void *p, uint16_t v) { __asm__ volatile("movw %w1, (%0)" ::"r"(p), "r"(v) : "memory"); }
static inline void st32(volatile void *p, uint32_t v) { __asm__ volatile("movl %k1, (%0)" ::"r"(p), "r"(v) : "memory"); }
static inline void st64(volatile void *p, uint64_t v) { __asm__ volatile("movq %1, (%0)" ::"r"(p), "r"(v) : "memory"); }
static inline uint64_t ld8(volatile void *p) { uint64_t v = ~0ull; __asm__ volatile("movzbl (%1), %k0" : "=r"(v) : "r"(p) : "memory"); return v; }
static inline uint64_t ld32(volatile void *p) { uint64_t v = ~0ull; __asm__ volatile("movl (%1), %k0" : "+r"(v) : "r"(p) : "memory"); return v; }
static inline uint64_t ld64(volatile void *p) { uint64_t v; __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(p) : "memory"); return v; }
static inline uint16_t ld16_keep(volatile void *p, uint64_t *reg)
{
    /* movw into a 64-bit register that holds other bits: they must survive. */
    uint64_t v = *reg;
    __asm__ volatile("movw (%1), %w0" : "+r"(v) : "r"(p) : "memory");
    *reg = v;
    return (uint16_t)v;
}

/* ------------------------------------------------------------- threads */

#define THREADS 4
#define ROUNDS 3000

static uint8_t mt_mem[4096];
static atomic_uint mt_in_flight, mt_max_in_flight, mt_accesses;

static void mt_read(void *ctx, uint64_t off, void *data, unsigned size)
{
    (void)ctx;
    unsigned now = atomic_fetch_add(&mt_in_flight, 1) + 1;
    unsigned seen = atomic_load(&mt_max_in_flight);
    while (now > seen && !atomic_compare_exchange_weak(&mt_max_in_flight, &seen, now))
        ;
    memcpy(data, mt_mem + off, size); /* each thread has its own slots: no race */
    atomic_fetch_add(&mt_accesses, 1);
    atomic_fetch_sub(&mt_in_flight, 1);
}

static void mt_write(void *ctx, uint64_t off, const void *data, unsigned size)
{
    (void)ctx;
    memcpy(mt_mem + off, data, size);
    atomic_fetch_add(&mt_accesses, 1);
}

typedef struct mt_arg {
    uint8_t *dev;
    unsigned id;
    unsigned bad;
} mt_arg_t;

static void *mt_thread(void *p)
{
    mt_arg_t *a = p;
    if (vf_trap_thread_init() != 0) {
        a->bad = ~0u;
        return NULL;
    }
    volatile uint8_t *slot = a->dev + 256 * a->id;
    for (unsigned i = 0; i < ROUNDS; i++) {
        uint64_t v = ((uint64_t)a->id << 56) ^ (i * 0x9e3779b97f4a7c15ull);
        st64(slot, v);
        st32(slot + 8, (uint32_t)i);
        if (ld64(slot) != v || ld32(slot + 8) != i)
            a->bad++;
    }
    vf_trap_thread_fini();
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    vf_trap_device_t d = {.read = mt_read, .write = mt_write};
    uint8_t *dev = vf_trap_map(4096, &d);
    assert_non_null(dev);
    trap_on();
    pthread_t t[THREADS];
    mt_arg_t args[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        args[i] = (mt_arg_t){dev, i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, mt_thread, &args[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    trap_off();
    for (unsigned i = 0; i < THREADS; i++)
        assert_int_equal(args[i].bad, 0);
    assert_int_equal(atomic_load(&mt_accesses), THREADS * ROUNDS * 4);
    printf("  %u threads x %u rounds: %u emulated accesses, up to %u device reads at once\n", THREADS,
           ROUNDS, atomic_load(&mt_accesses), atomic_load(&mt_max_in_flight));
    assert_int_equal(vf_trap_unmap(dev), 0);
}

/* ------------------------------------------------------------- errors */

static sigjmp_buf err_env;
static vf_trap_error_info_t err_info;
static int err_calls;

static void on_error(void *ctx, const vf_trap_error_info_t *info)
{
    (void)ctx;
    err_info = *info;
    err_calls++;
    siglongjmp(err_env, 1);
}

static void ram_read(void *ctx, uint64_t off, void *data, unsigned size)
{
    memcpy(data, (uint8_t *)ctx + off, size);
}

static void ram_write(void *ctx, uint64_t off, const void *data, unsigned size)
{
    memcpy((uint8_t *)ctx + off, data, size);
}

static uint8_t err_backing[4096];

/* x87 FLD of a trapped float: a memory access no device emulation covers. */
__attribute__((noinline)) static void do_fld(volatile void *p)
{
    __asm__ volatile("flds (%0)\n\tfstp %%st(0)" ::"r"(p) : "memory");
}

static void test_unemulatable_callback(void **state)
{
    (void)state;
    vf_trap_device_t d = {.read = ram_read, .write = ram_write, .error = on_error, .ctx = err_backing};
    uint8_t *dev = vf_trap_map(4096, &d);
    assert_non_null(dev);
    err_calls = 0;
    trap_on();
    if (sigsetjmp(err_env, 1) == 0)
        do_fld(dev + 0x40);
    trap_off();
    assert_int_equal(err_calls, 1);
    assert_true(err_info.addr == (uint64_t)(uintptr_t)(dev + 0x40));
    assert_true(err_info.region_base == (uint64_t)(uintptr_t)dev);
    assert_int_equal(err_info.is_write, 0);
    assert_true(err_info.error == VF_ERR_UNSUPPORTED || err_info.error == VF_ERR_UNDEFINED);
    /* flds (%reg) is d9 /0 with a register base: d9 followed by a ModRM with mod 00, reg 000. */
    assert_true(err_info.nbytes >= 2);
    assert_int_equal(err_info.bytes[0], 0xd9);
    assert_int_equal(err_info.bytes[1] & 0xf8, 0x00);
    char want[16];
    snprintf(want, sizeof(want), "bytes d9 %02x", err_info.bytes[1]);
    assert_non_null(strstr(err_info.message, want));
    printf("  %s\n", err_info.message);
    assert_int_equal(vf_trap_unmap(dev), 0);
}

static void test_fetch_from_trapped(void **state)
{
    (void)state;
    vf_trap_device_t d = {.read = ram_read, .write = ram_write, .error = on_error, .ctx = err_backing};
    uint8_t *dev = vf_trap_map(4096, &d);
    assert_non_null(dev);
    err_calls = 0;
    trap_on();
    if (sigsetjmp(err_env, 1) == 0)
        ((void (*)(void))(uintptr_t)(dev + 16))();
    trap_off();
    assert_int_equal(err_calls, 1);
    assert_true(err_info.rip == (uint64_t)(uintptr_t)(dev + 16));
    assert_int_equal(err_info.nbytes, 0);
    assert_int_equal(err_info.error, VF_ERR_NOT_MMIO);
    assert_non_null(strstr(err_info.message, "instruction fetch"));
    assert_int_equal(vf_trap_unmap(dev), 0);
}

/* With no error callback: the message goes to stderr and the process aborts (in a child). */
static void test_unemulatable_aborts(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        vf_trap_device_t d = {.read = ram_read, .write = ram_write, .ctx = err_backing};
        uint8_t *dev = vf_trap_map(4096, &d);
        trap_on();
        if (dev != NULL)
            do_fld(dev + 8);
        _exit(0); /* not reached if the host does its job */
    }
    close(fds[1]);
    char out[2048];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fds[0], out + n, sizeof(out) - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    out[n] = 0;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(out, "vcpufault trap: cannot emulate the read"));
    assert_non_null(strstr(out, "(bytes d9 "));
}

/* --------------------------------------------------------- seL4 API */

typedef struct sel4_piece {
    uint64_t addr;
    size_t size;
    int read;
    uint64_t data;  /* write: get_vcpu_fault_data() */
    uint64_t mask;
    uint64_t ip;
} sel4_piece_t;

static uint8_t sel4_mem[4096 + 8];
static uintptr_t sel4_base;
static sel4_piece_t pieces[16];
static unsigned n_pieces, restarts_wanted;

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i > 0; i--)
        v = (v << 8) | p[i - 1];
    return v;
}

/* Device code as libsel4vm device code is written: aligned words, masks, emulate_vcpu_fault. */
static int sel4_ram_fault(vm_vcpu_t *vcpu, uintptr_t paddr, size_t len, void *cookie)
{
    assert_ptr_equal(cookie, sel4_mem);
    assert_ptr_equal(vcpu->cookie, sel4_mem);
    if (restarts_wanted > 0) {
        restarts_wanted--;
        restart_vcpu_fault(vcpu);
        return 0;
    }
    sel4_piece_t *p = &pieces[n_pieces < 16 ? n_pieces++ : 15];
    p->addr = get_vcpu_fault_address(vcpu);
    p->size = get_vcpu_fault_size(vcpu);
    p->read = is_vcpu_read_fault(vcpu);
    p->mask = get_vcpu_fault_data_mask(vcpu);
    p->ip = get_vcpu_fault_ip(vcpu);
    assert_int_equal(p->addr, paddr);
    assert_int_equal(p->size, len);
    uint64_t off = paddr - sel4_base, at = len >= 8 ? off : off & ~3ull;
    uint64_t old = le(sel4_mem + at, 8);
    if (p->read) {
        set_vcpu_fault_data(vcpu, old);
    } else {
        p->data = get_vcpu_fault_data(vcpu);
        uint64_t now = emulate_vcpu_fault(vcpu, old);
        for (unsigned i = 0; i < 8; i++)
            sel4_mem[at + i] = (uint8_t)(now >> (8 * i));
    }
    advance_vcpu_fault(vcpu);
    return 0;
}

static void test_sel4_api(void **state)
{
    (void)state;
    vf_trap_device_t d = {.sel4_fault = sel4_ram_fault, .ctx = sel4_mem};
    uint8_t *dev = vf_trap_map(4096, &d);
    assert_non_null(dev);
    sel4_base = (uintptr_t)dev;
    for (unsigned i = 0; i < sizeof(sel4_mem); i++)
        sel4_mem[i] = (uint8_t)(0xa0 + i);
    trap_on();

    /* Byte store at offset 0x13: one piece, mask 0xff << 24 (addr & 3 == 3). */
    n_pieces = 0;
    st8(dev + 0x13, 0x5c);
    assert_int_equal(n_pieces, 1);
    assert_int_equal(pieces[0].addr, sel4_base + 0x13);
    assert_int_equal(pieces[0].size, 1);
    assert_false(pieces[0].read);
    assert_int_equal(pieces[0].data, 0x5c);
    assert_int_equal(pieces[0].mask, 0xff000000u);
    assert_int_equal(sel4_mem[0x13], 0x5c);
    assert_int_equal(sel4_mem[0x12], 0xa0 + 0x12);
    assert_int_equal(sel4_mem[0x14], 0xa0 + 0x14);

    /* Word store at 0x22: mask 0xffff0000; the neighbours keep their bytes. */
    n_pieces = 0;
    st16(dev + 0x22, 0xbeef);
    assert_int_equal(n_pieces, 1);
    assert_int_equal(pieces[0].mask, 0xffff0000u);
    assert_int_equal(pieces[0].data, 0xbeef);
    assert_int_equal(sel4_mem[0x22], 0xef);
    assert_int_equal(sel4_mem[0x23], 0xbe);
    assert_int_equal(sel4_mem[0x21], 0xa0 + 0x21);

    /* Dword store then load at 0x40. */
    n_pieces = 0;
    st32(dev + 0x40, 0x12345678u);
    assert_int_equal(pieces[0].mask, 0xffffffffu);
    assert_int_equal(ld32(dev + 0x40), 0x12345678u); /* movl zero-extends into the 64-bit register */
    assert_int_equal(n_pieces, 2);
    assert_true(pieces[1].read);
    assert_int_equal(pieces[1].size, 4);

    /* Qword at 0x101 (not 4-aligned): mask all ones, shift 0. */
    n_pieces = 0;
    st64(dev + 0x101, 0x0102030405060708ull);
    assert_int_equal(pieces[0].size, 8);
    assert_int_equal(pieces[0].mask, ~0ull);
    assert_int_equal(pieces[0].data, 0x0102030405060708ull);
    assert_int_equal(ld64(dev + 0x101), 0x0102030405060708ull);
    assert_int_equal(sel4_mem[0x100], (uint8_t)(0xa0 + 0x100));
    assert_int_equal(sel4_mem[0x109], (uint8_t)(0xa0 + 0x109));

    /* Byte load with zero extension; word load into a register keeps bits 63:16. */
    assert_int_equal(ld8(dev + 0x13), 0x5c);
    uint64_t reg = 0x1111222233334444ull;
    ld16_keep(dev + 0x22, &reg);
    assert_int_equal(reg, 0x111122223333beefull);

    /* restart_vcpu_fault(): the instruction runs again; the second time the device serves it. */
    n_pieces = 0;
    restarts_wanted = 2;
    st32(dev + 0x80, 0xcafef00du);
    assert_int_equal(restarts_wanted, 0);
    assert_int_equal(n_pieces, 1);
    assert_int_equal(le(sel4_mem + 0x80, 4), 0xcafef00du);

    trap_off();
    assert_int_equal(vf_trap_unmap(dev), 0);
}

/* A libsel4vm handler that forgets advance_vcpu_fault(): an error, not a hang. */
static int sel4_lazy(vm_vcpu_t *vcpu, uintptr_t paddr, size_t len, void *cookie)
{
    (void)vcpu; (void)paddr; (void)len; (void)cookie;
    return 0;
}

static void test_sel4_no_advance(void **state)
{
    (void)state;
    vf_trap_device_t d = {.sel4_fault = sel4_lazy, .error = on_error};
    uint8_t *dev = vf_trap_map(4096, &d);
    assert_non_null(dev);
    err_calls = 0;
    trap_on();
    if (sigsetjmp(err_env, 1) == 0)
        st32(dev, 1);
    trap_off();
    assert_int_equal(err_calls, 1);
    assert_non_null(strstr(err_info.message, "neither advanced nor restarted"));
    assert_int_equal(vf_trap_unmap(dev), 0);
}

/*
 * Vector state through the signal frame: a VEX.128 load into XMM3 zeroes bits
 * 511:128 of ZMM3 (YMM upper half from the XSAVE frame's YMM component, bits
 * 511:256 from its ZMM_Hi256 component); a legacy SSE load keeps them. Needs
 * AVX-512 to see bits 511:256; the expected values are the SDM's rules.
 */
static int have_avx512(void)
{
    unsigned a, b, c, d;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 27)))
        return 0; /* no OSXSAVE */
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xe6u) != 0xe6u)
        return 0;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    return (b & (1u << 16)) != 0;
}

__attribute__((target("avx512f"), noinline)) static void zmm_after_load(volatile void *p, uint8_t out[64], int vex)
{
    if (vex)
        __asm__ volatile("vpternlogd $0xff, %%zmm3, %%zmm3, %%zmm3\n\t"
                         "vmovdqu (%0), %%xmm3\n\t"
                         "vmovdqu64 %%zmm3, (%1)" ::"r"(p), "r"(out) : "xmm3", "memory");
    else
        __asm__ volatile("vpternlogd $0xff, %%zmm3, %%zmm3, %%zmm3\n\t"
                         "movdqu (%0), %%xmm3\n\t"
                         "vmovdqu64 %%zmm3, (%1)" ::"r"(p), "r"(out) : "xmm3", "memory");
}

static void test_vector_state(void **state)
{
    (void)state;
    if (!have_avx512()) {
        printf("  no AVX-512 on this CPU: ZMM upper bits cannot be observed\n");
        skip();
    }
    static uint8_t backing[4096];
    for (unsigned i = 0; i < sizeof(backing); i++)
        backing[i] = (uint8_t)(i * 7 + 1);
    vf_trap_device_t d = {.read = ram_read, .write = ram_write, .ctx = backing};
    uint8_t *dev = vf_trap_map(4096, &d);
    assert_non_null(dev);
    uint8_t out[64];
    trap_on();
    zmm_after_load(dev + 0x100, out, 1);
    trap_off();
    assert_memory_equal(out, backing + 0x100, 16);
    for (unsigned i = 16; i < 64; i++)
        assert_int_equal(out[i], 0); /* VEX: zeroed up to bit 511 */
    trap_on();
    zmm_after_load(dev + 0x200, out, 0);
    trap_off();
    assert_memory_equal(out, backing + 0x200, 16);
    for (unsigned i = 16; i < 64; i++)
        assert_int_equal(out[i], 0xff); /* legacy SSE: bits 511:128 kept */
    assert_int_equal(vf_trap_unmap(dev), 0);
}

/*
 * Instruction bytes at page edges: `mov eax, [rdi]; ret` (8b 07 c3) split
 * across two code pages, and ending on the last byte of a code page whose
 * successor is not mapped (a fetch must not read past the instruction's page).
 */
static uint32_t call_at(uint8_t *fn, volatile void *arg)
{
    return ((uint32_t(*)(volatile void *))(uintptr_t)fn)(arg);
}

static void test_code_at_page_edges(void **state)
{
    (void)state;
    static uint8_t backing[4096];
    for (unsigned i = 0; i < sizeof(backing); i++)
        backing[i] = (uint8_t)(i ^ 0x5a);
    vf_trap_device_t d = {.read = ram_read, .write = ram_write, .ctx = backing};
    uint8_t *dev = vf_trap_map(4096, &d);
    assert_non_null(dev);
    uint8_t *code = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(code != MAP_FAILED);
    assert_int_equal(munmap(code + 2 * 4096, 4096), 0); /* nothing after the second page */
    static const uint8_t fn[3] = {0x8b, 0x07, 0xc3};
    uint8_t *split = code + 4096 - 1, *last = code + 2 * 4096 - 3;
    memcpy(split, fn, 3);
    memcpy(last, fn, 3);
    __builtin___clear_cache((char *)code, (char *)code + 2 * 4096);
    uint32_t want = (uint32_t)backing[0x40] | (uint32_t)backing[0x41] << 8 | (uint32_t)backing[0x42] << 16 |
                    (uint32_t)backing[0x43] << 24;
    trap_on();
    uint32_t a = call_at(split, dev + 0x40);
    uint32_t b = call_at(last, dev + 0x40);
    trap_off();
    assert_int_equal(a, want);
    assert_int_equal(b, want);
    munmap(code, 2 * 4096);
    assert_int_equal(vf_trap_unmap(dev), 0);
}

static void test_map_arguments(void **state)
{
    (void)state;
    vf_trap_device_t none = {0};
    assert_null(vf_trap_map(4096, &none));
    assert_null(vf_trap_map(0, &none));
    vf_trap_device_t half = {.read = ram_read};
    assert_null(vf_trap_map(4096, &half));
    assert_int_equal(vf_trap_unmap((void *)0x1000), -1);
}

static int setup(void **state)
{
    (void)state;
    if (vf_trap_init() != 0)
        return -1;
    sigaction(SIGSEGV, NULL, &trap_action);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_unemulatable_callback),
        cmocka_unit_test(test_fetch_from_trapped),
        cmocka_unit_test(test_unemulatable_aborts),
        cmocka_unit_test(test_sel4_api),
        cmocka_unit_test(test_sel4_no_advance),
        cmocka_unit_test(test_vector_state),
        cmocka_unit_test(test_code_at_page_edges),
        cmocka_unit_test(test_map_arguments),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

#else
#include <stdio.h>

int main(void)
{
    puts("this test needs the Linux trap host: x86-64 Linux only");
    return 77; /* skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt) */
}
#endif
