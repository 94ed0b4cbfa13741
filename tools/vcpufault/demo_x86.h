/*
 * The x86 demo's devices, as the guest driver sees them (register layouts),
 * and the guest's entry point. Shared by the guest (demo_x86_guest.c) and the
 * host side (demo_x86.c).
 */
#ifndef VF_TOOLS_DEMO_X86_H
#define VF_TOOLS_DEMO_X86_H

#include <stdint.h>

/* A 16550 UART: eight byte-wide registers (DLAB=1 turns 0/1 into the divisor latch). */
struct ns16550 {
    uint8_t rbr_thr; /* 0 receive / transmit holding; DLL when DLAB */
    uint8_t ier;     /* 1 interrupt enable; DLM when DLAB */
    uint8_t iir_fcr; /* 2 interrupt identification / FIFO control */
    uint8_t lcr;     /* 3 line control; bit 7 DLAB */
    uint8_t mcr;     /* 4 modem control */
    uint8_t lsr;     /* 5 line status; bit 5 THRE, bit 6 TEMT */
    uint8_t msr;     /* 6 modem status */
    uint8_t scr;     /* 7 scratch */
};

#define UART_LCR_DLAB 0x80u
#define UART_LSR_THRE 0x20u

/* A timer with a real-time clock and a message mailbox, of our own design. */
struct rtc_timer {
    uint32_t id;        /* 0x00 RO: "RTC1" */
    uint32_t ctrl;      /* 0x04 bit 0 enable, bit 2 periodic, bit 3 doorbell (mailbox ready) */
    uint16_t prescale;  /* 0x08 counter advances once per `prescale` reads */
    uint16_t status;    /* 0x0a bit 0 expired; write 1 to clear */
    uint32_t compare;   /* 0x0c status bit 0 sets when counter >= compare */
    uint64_t counter;   /* 0x10 RO, 64-bit */
    uint8_t hour, min, sec, day; /* 0x18 RTC, byte registers */
    uint32_t scratch;   /* 0x1c free for the driver */
    uint8_t mailbox[32];/* 0x20 message RAM */
};

#define RTC_CTRL_ENABLE   0x1u
#define RTC_CTRL_PERIODIC 0x4u
#define RTC_CTRL_DOORBELL 0x8u
#define RTC_STATUS_EXPIRED 0x1u

/* The guest driver: initialise both devices, print over the UART, use the timer. */
void demo_x86_guest(volatile struct ns16550 *uart, volatile struct rtc_timer *rtc);

#endif
