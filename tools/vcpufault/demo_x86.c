/*
 * vcpufault demo x86: a guest driver in ordinary C (demo_x86_guest.c) runs
 * natively in this process on the Linux trap host. Its two device pages are
 * mapped with no access: a 16550 UART served through the native API and a
 * timer/RTC block served through the libsel4vm API. Every register access
 * faults, is decoded and completed by the library, and the driver carries on.
 * Prints the guest's console, the devices' log and the faults per
 * instruction class.
 */
#define _POSIX_C_SOURCE 200809L
#include "commands.h"

#if defined(__linux__) && defined(__x86_64__)

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <vcpufault/trap_linux.h>

#include "demo_x86.h"

/* ------------------------------------------------------ 16550 (native API) */

typedef struct uart {
    uint8_t dll, dlm, ier, lcr, mcr, scr, fcr;
    char out[1024];
    size_t n_out;
} uart_t;

static uint8_t uart_reg_read(uart_t *u, uint64_t off)
{
    int dlab = (u->lcr & UART_LCR_DLAB) != 0;
    switch (off) {
    case 0: return dlab ? u->dll : 0; /* nothing received */
    case 1: return dlab ? u->dlm : u->ier;
    case 2: return 0xc1;              /* FIFOs enabled, no interrupt pending */
    case 3: return u->lcr;
    case 4: return u->mcr;
    case 5: return 0x60;              /* THRE | TEMT: always ready to send */
    case 6: return 0xb0;              /* DCD DSR CTS */
    case 7: return u->scr;
    default: return 0xff;
    }
}

static void uart_reg_write(uart_t *u, uint64_t off, uint8_t v)
{
    int dlab = (u->lcr & UART_LCR_DLAB) != 0;
    switch (off) {
    case 0:
        if (dlab)
            u->dll = v;
        else if (u->n_out + 1 < sizeof(u->out))
            u->out[u->n_out++] = (char)v;
        break;
    case 1: if (dlab) u->dlm = v; else u->ier = v; break;
    case 2: u->fcr = v; break;
    case 3: u->lcr = v; break;
    case 4: u->mcr = v; break;
    case 7: u->scr = v; break;
    default: break;
    }
}

static void uart_read(void *ctx, uint64_t off, void *data, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        ((uint8_t *)data)[i] = uart_reg_read(ctx, off + i);
}

static void uart_write(void *ctx, uint64_t off, const void *data, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        uart_reg_write(ctx, off + i, ((const uint8_t *)data)[i]);
}

/* ---------------------------------------------------- timer/RTC (seL4 API) */

typedef struct rtc {
    uint8_t regs[sizeof(struct rtc_timer) + 8]; /* register file, little-endian; +8 for word reads */
    uintptr_t base;
    uint64_t reads_of_counter;
    char log[512];
    size_t n_log;
} rtc_t;

static uint64_t le_get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i > 0; i--)
        v = (v << 8) | p[i - 1];
    return v;
}

static void le_put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

#define R(field) offsetof(struct rtc_timer, field)

static void rtc_logf(rtc_t *t, const char *s)
{
    int n = snprintf(t->log + t->n_log, sizeof(t->log) - t->n_log, "%s\n", s);
    if (n > 0 && (size_t)n < sizeof(t->log) - t->n_log)
        t->n_log += (size_t)n;
}

/* Side effects of reading the register at `off`. */
static void rtc_before_read(rtc_t *t, uint64_t off)
{
    uint32_t ctrl = (uint32_t)le_get(t->regs + R(ctrl), 4);
    if (off == R(counter) && (ctrl & RTC_CTRL_ENABLE)) {
        uint64_t pre = le_get(t->regs + R(prescale), 2);
        uint64_t c = ++t->reads_of_counter / (pre != 0 ? pre : 1);
        le_put(t->regs + R(counter), c, 8);
        if (c >= le_get(t->regs + R(compare), 4))
            t->regs[R(status)] |= RTC_STATUS_EXPIRED;
    }
    if (off >= R(hour) && off <= R(day)) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        t->regs[R(hour)] = (uint8_t)tm.tm_hour;
        t->regs[R(min)] = (uint8_t)tm.tm_min;
        t->regs[R(sec)] = (uint8_t)tm.tm_sec;
        t->regs[R(day)] = (uint8_t)tm.tm_mday;
    }
}

/* After a write of the bytes `mask` selects in the word at `at` (their old values in `old`). */
static void rtc_after_write(rtc_t *t, uint64_t at, const uint8_t old[8], uint64_t mask)
{
    uint8_t *r = t->regs;
    for (unsigned i = 0; i < 8; i++) {
        uint64_t o = at + i;
        if (((mask >> (8 * i)) & 0xff) == 0 || o >= sizeof(struct rtc_timer))
            continue;
        if (o < R(ctrl) || (o >= R(counter) && o < R(counter) + 8))
            r[o] = old[i];                   /* read-only */
        else if (o >= R(status) && o < R(status) + 2)
            r[o] = (uint8_t)(old[i] & ~r[o]); /* write 1 to clear */
    }
    uint32_t ctrl = (uint32_t)le_get(r + R(ctrl), 4);
    if (ctrl & RTC_CTRL_DOORBELL) {
        char msg[sizeof(((struct rtc_timer *)0)->mailbox) + 1];
        memcpy(msg, r + R(mailbox), sizeof(msg) - 1);
        msg[sizeof(msg) - 1] = 0;
        char line[96];
        snprintf(line, sizeof(line), "rtc: doorbell, mailbox holds \"%s\"", msg);
        rtc_logf(t, line);
        le_put(r + R(ctrl), ctrl & ~RTC_CTRL_DOORBELL, 4);
    }
}

/* A libsel4vm-style fault handler: one piece of at most 8 bytes. */
static int rtc_fault(vm_vcpu_t *vcpu, uintptr_t paddr, size_t len, void *cookie)
{
    rtc_t *t = cookie;
    uint64_t off = paddr - t->base;
    if (off + len > sizeof(struct rtc_timer))
        return -1;
    /* The aligned 32-bit word the access lies in (the access itself when it is 8 bytes). */
    uint64_t at = len >= 8 ? off : off & ~3ull;
    if (is_vcpu_read_fault(vcpu)) {
        rtc_before_read(t, off);
        set_vcpu_fault_data(vcpu, (seL4_Word)le_get(t->regs + at, 8));
    } else {
        uint8_t old[8];
        memcpy(old, t->regs + at, 8);
        uint64_t mask = get_vcpu_fault_data_mask(vcpu);
        le_put(t->regs + at, emulate_vcpu_fault(vcpu, (seL4_Word)le_get(old, 8)), 8);
        rtc_after_write(t, at, old, mask);
    }
    advance_vcpu_fault(vcpu);
    return 0;
}

/* ------------------------------------------------------ faults by class */

static const char *const class_names[] = {
    "mov load", "mov store", "movzx/movsx", "alu read-modify-write", "alu/cmp read", "test",
    "shift/rotate", "mul/div", "string", "rep string", "sse move", "avx move", "other",
};
enum { C_COUNT = sizeof(class_names) / sizeof(class_names[0]) };

/* Instruction class from the bytes: prefixes, REX, opcode (and ModRM.reg for group opcodes). */
static unsigned classify(const uint8_t *b, unsigned n)
{
    unsigned i = 0, rep = 0;
    while (i < n && strchr("\xf0\xf2\xf3\x2e\x36\x3e\x26\x64\x65\x66\x67", b[i]) != NULL && b[i] != 0) {
        rep |= b[i] == 0xf2 || b[i] == 0xf3;
        i++;
    }
    if (i < n && (b[i] & 0xf0) == 0x40)
        i++;
    if (i >= n)
        return C_COUNT - 1;
    unsigned op = b[i], reg = i + 1 < n ? (b[i + 1] >> 3) & 7u : 0;
    if (op == 0xc4 || op == 0xc5)
        return 11;
    if (op == 0x0f && i + 1 < n) {
        unsigned op2 = b[i + 1];
        if (op2 == 0xb6 || op2 == 0xb7 || op2 == 0xbe || op2 == 0xbf)
            return 2;
        if (strchr("\x10\x11\x28\x29\x2b\x6e\x6f\x7e\x7f\xd6\xe7", (int)op2) != NULL && op2 != 0)
            return 10;
        return C_COUNT - 1;
    }
    if (op == 0x88 || op == 0x89 || op == 0xa2 || op == 0xa3 || op == 0xc6 || op == 0xc7)
        return 1;
    if (op == 0x8a || op == 0x8b || op == 0xa0 || op == 0xa1 || op == 0x63)
        return op == 0x63 ? 2 : 0;
    if (op >= 0xa4 && op <= 0xaf && op != 0xa8 && op != 0xa9)
        return rep ? 9 : 8;
    if (op < 0x40 && (op & 7) < 4)
        return (op & 7) < 2 && (op >> 3) != 7 ? 3 : 4;
    if (op >= 0x80 && op <= 0x83)
        return reg == 7 ? 4 : 3;
    if (op == 0x84 || op == 0x85 || ((op == 0xf6 || op == 0xf7) && reg < 2))
        return 5;
    if (op == 0xf6 || op == 0xf7)
        return reg < 4 ? 3 : 7;
    if ((op == 0xfe || op == 0xff) && reg < 2)
        return 3;
    if ((op >= 0xd0 && op <= 0xd3) || op == 0xc0 || op == 0xc1)
        return 6;
    return C_COUNT - 1;
}

typedef struct stats {
    unsigned faults[C_COUNT], accesses[C_COUNT], uart[C_COUNT];
    unsigned by_size[33];
    uint8_t example[C_COUNT][15];
    uint8_t example_len[C_COUNT];
} stats_t;

static stats_t stats;
static uart_t uart;
static rtc_t rtc;

static void trace(void *ctx, const vf_trap_event_t *ev)
{
    unsigned c = classify(ev->bytes, ev->length != 0 ? ev->length : 15);
    stats.faults[c]++;
    stats.accesses[c] += ev->accesses;
    if (ev->size <= 32)
        stats.by_size[ev->size]++;
    if (ctx == &uart)
        stats.uart[c]++;
    if (stats.example_len[c] == 0) {
        stats.example_len[c] = ev->length;
        memcpy(stats.example[c], ev->bytes, ev->length);
    }
}

int cmd_demo_x86(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (vf_trap_init() != 0) {
        perror("vf_trap_init");
        return 1;
    }
    vf_trap_device_t uart_dev = {.read = uart_read, .write = uart_write, .trace = trace, .ctx = &uart};
    vf_trap_device_t rtc_dev = {.sel4_fault = rtc_fault, .trace = trace, .ctx = &rtc};
    volatile struct ns16550 *u = vf_trap_map(4096, &uart_dev);
    volatile struct rtc_timer *t = vf_trap_map(4096, &rtc_dev);
    if (u == NULL || t == NULL) {
        fprintf(stderr, "demo: cannot map the device pages\n");
        return 1;
    }
    rtc.base = (uintptr_t)t;
    memcpy(rtc.regs + offsetof(struct rtc_timer, id), "RTC1", 4);

    printf("x86 demo: the guest driver (tools/vcpufault/demo_x86_guest.c, compiled normally) runs\n"
           "natively; its device pages are trapped and every access is emulated by vcpufault:\n"
           "  16550 UART  at %p (native API)\n  timer/RTC   at %p (libsel4vm API)\n\n",
           (void *)u, (void *)t);
    fflush(stdout);
    demo_x86_guest(u, t);

    uart.out[uart.n_out] = 0;
    printf("guest console:\n");
    for (size_t i = 0; i < uart.n_out; i++)
        if (uart.out[i] != '\r')
            putchar(uart.out[i]);
    printf("\ndevice log:\n%s", rtc.log);
    printf("UART state: divisor %u, LCR 0x%02x, MCR 0x%02x, FCR 0x%02x, SCR 0x%02x\n\n",
           uart.dll | (uart.dlm << 8), uart.lcr, uart.mcr, uart.fcr, uart.scr);
    printf("faults handled per instruction class\n");
    printf("  %-24s %8s %8s %8s  %s\n", "class", "faults", "uart", "accesses", "first instruction");
    unsigned total = 0, total_acc = 0;
    for (unsigned c = 0; c < C_COUNT; c++) {
        if (stats.faults[c] == 0)
            continue;
        char hex[48] = "";
        for (unsigned i = 0; i < stats.example_len[c]; i++)
            snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", stats.example[c][i]);
        printf("  %-24s %8u %8u %8u  %s\n", class_names[c], stats.faults[c], stats.uart[c],
               stats.accesses[c], hex);
        total += stats.faults[c];
        total_acc += stats.accesses[c];
    }
    printf("  %-24s %8u %8s %8u\n", "total", total, "", total_acc);
    printf("by access width:");
    for (unsigned w = 1; w <= 32; w *= 2)
        if (stats.by_size[w] != 0)
            printf("  %u byte%s: %u", w, w == 1 ? "" : "s", stats.by_size[w]);
    printf("\n");
    vf_trap_unmap((void *)(uintptr_t)u);
    vf_trap_unmap((void *)(uintptr_t)t);
    return 0;
}

#else

#include <stdio.h>

int cmd_demo_x86(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "demo x86: needs the Linux trap host, which runs on x86-64 Linux only\n");
    return 0;
}

#endif
