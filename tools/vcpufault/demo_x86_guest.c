/*
 * The x86 demo's guest: an ordinary device driver in C, compiled with the
 * rest of the tool at its normal optimisation. It knows nothing of
 * vcpufault: it dereferences device registers like any driver. On the trap
 * host each of those accesses faults and is emulated.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "demo_x86.h"

/* ASan would turn the mailbox memcpy into a call into the C library; keep it the compiler's own. */
#if defined(__clang__)
#define GUEST_CODE __attribute__((noinline, no_sanitize("address")))
#else
#define GUEST_CODE __attribute__((noinline))
#endif

GUEST_CODE static void uart_init(volatile struct ns16550 *u)
{
    u->ier = 0;
    u->lcr |= UART_LCR_DLAB;   /* read-modify-write of a byte register */
    u->rbr_thr = 1;            /* divisor 1: 115200 baud */
    u->ier = 0;
    u->lcr = 0x03;             /* 8N1, DLAB off */
    u->iir_fcr = 0x07;         /* FIFOs on and cleared */
    u->mcr |= 0x03;            /* DTR, RTS */
    u->scr = 0x5a;
}

GUEST_CODE static void uart_putc(volatile struct ns16550 *u, char c)
{
    while (!(u->lsr & UART_LSR_THRE))
        ;
    u->rbr_thr = (uint8_t)c;
}

GUEST_CODE static void uart_puts(volatile struct ns16550 *u, const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            uart_putc(u, '\r');
        uart_putc(u, *s);
    }
}

GUEST_CODE static void uart_putu(volatile struct ns16550 *u, uint64_t v, unsigned width)
{
    char buf[24];
    unsigned n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n < width)
        buf[n++] = '0';
    while (n > 0)
        uart_putc(u, buf[--n]);
}

GUEST_CODE void demo_x86_guest(volatile struct ns16550 *uart, volatile struct rtc_timer *rtc)
{
    uart_init(uart);
    uart_puts(uart, "Hello from an x86 guest driver: 16550 console, every register access trapped.\n");

    uint32_t id = rtc->id; /* dword load */
    uart_puts(uart, "timer block id: ");
    for (unsigned i = 0; i < 4; i++)
        uart_putc(uart, (char)(id >> (8 * i)));
    uart_puts(uart, "\n");

    rtc->prescale = 2;                              /* word store */
    rtc->compare = 5;                               /* dword store */
    rtc->ctrl |= RTC_CTRL_ENABLE | RTC_CTRL_PERIODIC; /* dword read-modify-write */
    unsigned polls = 0;
    uint64_t last = 0;
    while (!(rtc->status & RTC_STATUS_EXPIRED)) {   /* word load */
        last = rtc->counter;                        /* qword load */
        polls++;
    }
    rtc->status = RTC_STATUS_EXPIRED;               /* write 1 to clear */
    uart_puts(uart, "timer expired after ");
    uart_putu(uart, polls, 1);
    uart_puts(uart, " polls, counter ");
    uart_putu(uart, last, 1);
    uart_puts(uart, "\n");

    uart_puts(uart, "rtc time ");
    uart_putu(uart, rtc->hour, 2);                  /* byte loads */
    uart_putc(uart, ':');
    uart_putu(uart, rtc->min, 2);
    uart_putc(uart, ':');
    uart_putu(uart, rtc->sec, 2);
    uart_puts(uart, ", day ");
    uart_putu(uart, rtc->day, 1);
    uart_puts(uart, "\n");

    static const char note[32] = "mailbox: written with memcpy!!";
    memcpy((void *)rtc->mailbox, note, sizeof(note)); /* a compiled memcpy into device memory */
    /* Without volatile the compiler folds |= into one OR on memory: also an MMIO access. */
    uint32_t *scratch = (uint32_t *)(uintptr_t)&rtc->scratch;
    *scratch |= 0x100;
    atomic_signal_fence(memory_order_seq_cst); /* the driver's wmb(): mailbox before doorbell */
    rtc->ctrl |= RTC_CTRL_DOORBELL;
    rtc->ctrl &= ~(uint32_t)RTC_CTRL_ENABLE;
    uart_puts(uart, "bye\n");
}
