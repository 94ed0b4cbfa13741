/*
 * vcpufault demo pl011 [FILE]: a PL011 UART device model, written only
 * against the libsel4vm interface, handles the recorded faults of an AArch64
 * guest's console driver and prints what the guest printed.
 */
#include <sel4vm/guest_vcpu_fault.h>
#include <stdio.h>
#include <string.h>
#include <vcpufault/aarch64.h>

#include "commands.h"
#include "replay/replay.h"

#ifndef VF_DEMO_DIR
#define VF_DEMO_DIR "demo"
#endif

#define UART_BASE 0x9000000u

/* PL011 registers (Arm PrimeCell UART TRM): offsets and the flag bits used. */
enum {
    UARTDR = 0x000, UARTRSR = 0x004, UARTFR = 0x018, UARTIBRD = 0x024, UARTFBRD = 0x028,
    UARTLCR_H = 0x02c, UARTCR = 0x030, UARTIMSC = 0x038, UARTPCELLID1 = 0xff4,
};
#define FR_BUSY (1u << 3)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define FR_TXFE (1u << 7)

typedef struct pl011 {
    uint32_t ibrd, fbrd, lcr_h, cr, imsc;
    unsigned since_drain; /* characters since the FIFO last reported full */
    int report_full;
    char out[512];
    size_t n_out;
} pl011_t;

static const char *reg_name(uint32_t off)
{
    switch (off) {
    case UARTDR: return "UARTDR";
    case UARTRSR: return "UARTRSR";
    case UARTFR: return "UARTFR";
    case UARTIBRD: return "UARTIBRD";
    case UARTFBRD: return "UARTFBRD";
    case UARTLCR_H: return "UARTLCR_H";
    case UARTCR: return "UARTCR";
    case UARTIMSC: return "UARTIMSC";
    case UARTPCELLID1: return "UARTPCellID1";
    default: return "reserved";
    }
}

static uint32_t pl011_read(pl011_t *u, uint32_t off)
{
    switch (off) {
    case UARTFR:
        if (u->report_full) {
            u->report_full = 0;
            return FR_TXFF | FR_BUSY | FR_RXFE;
        }
        return FR_TXFE | FR_RXFE;
    case UARTIBRD: return u->ibrd;
    case UARTFBRD: return u->fbrd;
    case UARTLCR_H: return u->lcr_h;
    case UARTCR: return u->cr;
    case UARTIMSC: return u->imsc;
    case UARTPCELLID1: return 0xf0;
    default: return 0;
    }
}

static void pl011_write(pl011_t *u, uint32_t off, uint32_t v)
{
    switch (off) {
    case UARTDR:
        if (u->n_out + 1 < sizeof(u->out))
            u->out[u->n_out++] = (char)(v & 0xff);
        if (++u->since_drain == 8) {
            u->since_drain = 0;
            u->report_full = 1;
        }
        break;
    case UARTIBRD: u->ibrd = v & 0xffff; break;
    case UARTFBRD: u->fbrd = v & 0x3f; break;
    case UARTLCR_H: u->lcr_h = v & 0xff; break;
    case UARTCR: u->cr = v & 0xffff; break;
    case UARTIMSC: u->imsc = v & 0x7ff; break;
    default: break; /* RSR/ECR writes clear errors; there are none */
    }
}

/*
 * The device's fault handler, as a libsel4vm device would write it. Registers
 * are 32-bit words; an 8-byte access covers two of them.
 */
static void pl011_fault(pl011_t *u, vm_vcpu_t *vcpu)
{
    uint32_t off = (uint32_t)(get_vcpu_fault_address(vcpu) - UART_BASE) & ~3u;
    size_t size = get_vcpu_fault_size(vcpu);
    if (is_vcpu_read_fault(vcpu)) {
        uint64_t word = pl011_read(u, off);
        if (size == 8)
            word |= (uint64_t)pl011_read(u, off + 4) << 32;
        set_vcpu_fault_data(vcpu, (seL4_Word)word);
    } else if (size == 8) {
        uint64_t v = emulate_vcpu_fault(vcpu, 0);
        pl011_write(u, off, (uint32_t)v);
        pl011_write(u, off + 4, (uint32_t)(v >> 32));
    } else {
        pl011_write(u, off, (uint32_t)emulate_vcpu_fault(vcpu, pl011_read(u, off)));
    }
    advance_vcpu_fault(vcpu);
}

/* The registers a completed instruction changed, other than the PC. */
static void print_changes(const vf_aarch64_regs_t *before, const vf_aarch64_regs_t *after)
{
    for (int i = 0; i < 31; i++)
        if (before->x[i] != after->x[i])
            printf("  x%d = 0x%llx", i, (unsigned long long)after->x[i]);
}

typedef struct demo_stats {
    unsigned faults, reads, writes, by_size[9], errors;
} demo_stats_t;

static void run_one(pl011_t *u, vm_vcpu_t *vcpu, replay_record_t *rec, demo_stats_t *st)
{
    vf_aarch64_regs_t *regs = (vf_aarch64_regs_t *)rec->regs_out;
    vf_aarch64_regs_t before = *(const vf_aarch64_regs_t *)rec->regs_in;
    vf_host_t host = replay_record_host(rec);
    *regs = before;
    vf_aarch64_exit_t e = *(const vf_aarch64_exit_t *)rec->exit;
    vf_error_t err = vf_aarch64_capture(&vcpu->fault, regs, &e, &host);
    const char *what = json_is_string(rec->id) ? json_string_value(rec->id) : "?";

    st->faults++;
    printf("%3u  0x%llx  %-24s ", st->faults, (unsigned long long)before.pc, what);
    if (err != VF_OK) {
        st->errors++;
        printf("%s: %s\n", vf_error_name(err), vf_fault_message(&vcpu->fault));
        return;
    }
    uint32_t off = (uint32_t)(get_vcpu_fault_address(vcpu) - UART_BASE);
    size_t size = get_vcpu_fault_size(vcpu);
    int read = is_vcpu_read_fault(vcpu);
    seL4_Word wdata = read ? 0 : get_vcpu_fault_data(vcpu);
    st->by_size[size <= 8 ? size : 0]++;
    read ? st->reads++ : st->writes++;
    pl011_fault(u, vcpu);
    if (read)
        printf("read  %zu %-12s ->", size, reg_name(off & ~3u));
    else
        printf("write %zu %-12s <- 0x%llx", size, reg_name(off & ~3u), (unsigned long long)wdata);
    print_changes(&before, regs);
    if (vf_fault_state(&vcpu->fault) != VF_STATE_DONE)
        printf("  (not complete: %s)", vf_fault_message(&vcpu->fault));
    putchar('\n');
}

int cmd_demo(int argc, char **argv)
{
    const char *path = argc > 2 ? argv[2] : VF_DEMO_DIR "/pl011-console.jsonl";
    if (argc > 1 && strcmp(argv[1], "pl011") != 0) {
        fprintf(stderr, "usage: vcpufault demo [pl011 [FILE]]\n");
        return 2;
    }
    FILE *in = fopen(path, "r");
    if (in == NULL) {
        perror(path);
        return 1;
    }
    pl011_t uart;
    vm_vcpu_t vcpu;
    demo_stats_t st;
    memset(&uart, 0, sizeof(uart));
    memset(&st, 0, sizeof(st));
    vm_vcpu_fault_init(&vcpu);

    printf("PL011 UART at 0x%x, device model on the libsel4vm fault interface\n", UART_BASE);
    printf("  #  pc          guest instruction        access\n");
    char line[4096];
    while (fgets(line, sizeof(line), in) != NULL) {
        replay_record_t rec;
        json_error_t jerr;
        memset(&rec, 0, sizeof(rec));
        rec.root = json_loads(line, 0, &jerr);
        const char *why = rec.root != NULL ? replay_record_parse(&rec) : "not JSON";
        if (why == NULL && strcmp(rec.arch->name, "aarch64") == 0)
            run_one(&uart, &vcpu, &rec, &st);
        else
            fprintf(stderr, "demo: skipping a record: %s\n", why != NULL ? why : "not aarch64");
        replay_record_free(&rec);
    }
    fclose(in);
    uart.out[uart.n_out] = '\0';
    printf("\n%u faults: %u reads, %u writes (by width: 1:%u 2:%u 4:%u 8:%u), %u not emulated\n",
           st.faults, st.reads, st.writes, st.by_size[1], st.by_size[2], st.by_size[4], st.by_size[8],
           st.errors);
    printf("UART: IBRD=%u FBRD=%u LCR_H=0x%x CR=0x%x\n", uart.ibrd, uart.fbrd, uart.lcr_h, uart.cr);
    printf("\nguest console:\n%s", uart.out);
    return st.errors == 0 ? 0 : 1;
}
