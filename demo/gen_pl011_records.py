#!/usr/bin/env python3
"""Write demo/pl011-console.jsonl: the fault records of an AArch64 guest's PL011
console driver (QEMU virt's UART at 0x9000000) printing a message.

Each record is one trapped access with ISV = 1, as KVM or seL4 would report it.
The ESR values are built here from the Arm ARM's ISS layout for data aborts."""

UART = 0x9000000
MESSAGE = "Hello from an AArch64 guest!\n"


def esr(sas, srt, wnr, sse=0, sf=0, dfsc=0x07):
    """ESR_EL2: EC 0x24 (data abort, lower EL), IL, ISV, SAS, SSE, SRT, SF, WnR, DFSC."""
    return (0x24 << 26) | (1 << 25) | (1 << 24) | (sas << 22) | (sse << 21) | (srt << 16) \
        | (sf << 15) | (wnr << 6) | dfsc


records = []
pc = 0x40080000


def access(comment, off, sas, srt, wnr, regs, sse=0, sf=0):
    global pc
    addr = UART + off
    r = {"x0": hex(UART), "pc": hex(pc), "pstate": "0x3c5"}
    r.update({k: hex(v) for k, v in regs.items()})
    records.append({"id": comment, "arch": "aarch64", "regs": r,
                    "exit": {"esr": hex(esr(sas, srt, wnr, sse, sf)), "far": hex(addr),
                             "hpfar": hex((addr >> 12) << 4)}})
    pc += 8


# Initialisation: disable, baud rate divisors, 8N1 with FIFOs, enable TX/RX.
access("str wzr, [x0, #0x30]", 0x30, 2, 31, 1, {})
access("str w1, [x0, #0x24]", 0x24, 2, 1, 1, {"x1": 26})
access("strb w1, [x0, #0x28]", 0x28, 0, 1, 1, {"x1": 3})
access("strh w1, [x0, #0x2c]", 0x2C, 1, 1, 1, {"x1": 0x70})
access("str w1, [x0, #0x30]", 0x30, 2, 1, 1, {"x1": 0x301})
# Identify the cell: UARTPCellID1 reads 0xF0; the driver compares it as a signed byte.
access("ldrsb w2, [x0, #0xff4]", 0xFF4, 0, 2, 0, {"x2": 0xFFFFFFFFFFFFFFFF}, sse=1)

stores = [("strb w4", 0, 0), ("strh w4", 1, 0), ("str w4", 2, 0), ("str x4", 3, 1)]
for i, ch in enumerate(MESSAGE):
    # Poll UARTFR until TXFF clears: the device reports a full FIFO after every 8th character.
    for _ in range(2 if i > 0 and i % 8 == 0 else 1):
        access("ldr w3, [x0, #0x18]", 0x18, 2, 3, 0, {"x3": 0})
    name, sas, sf = stores[i % 4]
    access(name + ", [x0]", 0x0, sas, 4, 1, {"x4": ord(ch)}, sf=sf)

if __name__ == "__main__":
    import json
    import os
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pl011-console.jsonl")
    with open(out, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
