/*
 * vcpufault: native API.
 *
 * A fault object describes one trapped guest memory access and the
 * instruction that made it. The VMM captures it from its architecture's exit
 * information (see vcpufault/aarch64.h and the other architecture headers),
 * asks for the current access, supplies read data or takes write data, and
 * advances until the instruction is complete. The library then has updated
 * the guest registers exactly as the CPU would have.
 *
 *     vf_fault_t f;
 *     if (vf_aarch64_capture(&f, &regs, &exit, &host) != VF_OK) ...;
 *     while (vf_fault_state(&f) == VF_STATE_ACCESS) {
 *         vf_access_t a = vf_fault_access(&f);
 *         if (a.dir == VF_DIR_READ) vf_fault_set_read_value(&f, dev_read(a.addr, a.size));
 *         else dev_write(a.addr, a.size, vf_fault_write_value(&f));
 *         vf_fault_advance(&f);
 *     }
 *
 * The core is freestanding: no heap, no global state, no libc beyond
 * memcpy/memset/memcmp/memmove. A fault object is plain memory owned by the
 * caller; one per vCPU. Nothing a guest controls can make a call assert or
 * read out of bounds: every problem is an error code.
 */
#ifndef VCPUFAULT_VCPUFAULT_H
#define VCPUFAULT_VCPUFAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VF_VERSION_MAJOR 0
#define VF_VERSION_MINOR 1

/** Result of a call. The names match the `error` codes of the fault-record format. */
typedef enum vf_error {
    VF_OK = 0,
    /** A valid instruction or exit that the library does not emulate. */
    VF_ERR_UNSUPPORTED = 1,
    /** Not a valid instruction, or architecturally UNPREDICTABLE/UNDEFINED. */
    VF_ERR_UNDEFINED = 2,
    /** The instruction could not be read (not in guest memory, translation failed). */
    VF_ERR_FETCH = 3,
    /** The decoded access disagrees with what the hardware reported. */
    VF_ERR_MISMATCH = 4,
    /** The exit is not a data access the VMM should emulate. */
    VF_ERR_NOT_MMIO = 5,
    /** The guest must take an exception instead: see vf_fault_injection(). */
    VF_ERR_INJECT = 6,
    /** Malformed input, or a call made in the wrong state. */
    VF_ERR_INVALID = 7,
} vf_error_t;

/** Direction of an access, as the device sees it. */
typedef enum vf_dir {
    VF_DIR_READ = 0,
    VF_DIR_WRITE = 1,
} vf_dir_t;

/** Where a fault object stands. */
typedef enum vf_state {
    /** Nothing captured, or the fault was restarted. */
    VF_STATE_IDLE = 0,
    /** An access is waiting for the VMM: vf_fault_access() describes it. */
    VF_STATE_ACCESS = 1,
    /** The instruction is complete: registers and PC are updated. */
    VF_STATE_DONE = 2,
    /** Capture, decode or completion failed: vf_fault_error() says why. Registers are untouched. */
    VF_STATE_ERROR = 3,
} vf_state_t;

/** Largest single access the native API presents (an AVX 32-byte move). */
#define VF_ACCESS_MAX 32u
/** Largest total of read data one instruction gathers (LDM of 16 registers, LD4 of four Q registers). */
#define VF_READ_MAX 64u

/** One device access. Data is lsb-aligned: byte i of the data is the byte at addr + i. */
typedef struct vf_access {
    uint64_t addr;    /**< guest-physical address */
    uint8_t size;     /**< bytes, 1..VF_ACCESS_MAX (1..split with vf_fault_set_split) */
    uint8_t dir;      /**< vf_dir_t */
    uint8_t is_signed;/**< the instruction sign-extends this load (informational) */
    uint8_t index;    /**< which access of the instruction this is, from 0 */
} vf_access_t;

/** An exception the VMM should deliver to the guest instead of completing the access. */
typedef enum vf_inject_kind {
    VF_INJECT_NONE = 0,
    /** Arm synchronous data abort; `code` is the DFSC to report (0x21 alignment, 0x35 unsupported exclusive/atomic). */
    VF_INJECT_ARM_DATA_ABORT = 1,
    /** Arm undefined instruction. */
    VF_INJECT_ARM_UNDEF = 2,
    /** x86 exception; `code` is the vector (0 #DE, 6 #UD, 13 #GP), `error_code` its error code. */
    VF_INJECT_X86_EXCEPTION = 3,
    /** RISC-V exception; `code` is the scause value (4 load misaligned, 6 store/AMO misaligned...). */
    VF_INJECT_RISCV_EXCEPTION = 4,
} vf_inject_kind_t;

/** Injection decision, valid when a call returned VF_ERR_INJECT. */
typedef struct vf_inject {
    uint32_t kind;       /**< vf_inject_kind_t */
    uint32_t code;       /**< fault status, vector or cause, by kind */
    uint32_t error_code; /**< x86 error code, else 0 */
    uint64_t addr;       /**< faulting virtual address to report, if any */
} vf_inject_t;

/**
 * Guest memory as the host lets the library see it. Used only to fetch
 * instructions and walk the guest's page tables (and, for x86 string
 * instructions, to move data to or from RAM).
 */
typedef struct vf_host {
    /** Copy `len` bytes of guest-physical memory at `gpa` to `buf`. Return 0, or non-zero if any byte is not readable RAM. */
    int (*read_phys)(void *ctx, uint64_t gpa, void *buf, size_t len);
    /** Optional: write guest RAM. Return 0, or non-zero on failure. */
    int (*write_phys)(void *ctx, uint64_t gpa, const void *buf, size_t len);
    /** Passed to the callbacks. */
    void *ctx;
    /** VF_HOST_* flags. */
    uint32_t flags;
} vf_host_t;

/** Guest virtual addresses equal guest-physical ones, whatever the guest's control registers say. */
#define VF_HOST_IDENTITY 0x1u

/** Decoded instruction, architecture-neutral part (an access descriptor). */
typedef struct vf_insn {
    uint16_t op;       /**< architecture-specific operation */
    uint8_t length;    /**< bytes: the PC step */
    uint8_t size;      /**< bytes per access */
    uint8_t count;     /**< accesses the instruction makes */
    uint8_t flags;     /**< VF_INSN_* */
    uint8_t dst_bytes; /**< width of the destination register, for extension */
    uint8_t rt, rt2, rn, rm; /**< register operands, architecture numbering */
    uint8_t aux;       /**< architecture-specific */
    uint8_t fixed;     /**< 1: exactly `count` accesses, so the engine completes after the last without asking for more */
    uint16_t reglist;  /**< register list (A32 LDM/STM) */
    int64_t imm;       /**< offset or immediate */
} vf_insn_t;

#define VF_INSN_SIGNED    0x01u /**< loads sign-extend */
#define VF_INSN_WRITEBACK 0x02u /**< base register is updated */
#define VF_INSN_POSTINDEX 0x04u /**< access at the base, then add the offset */
#define VF_INSN_ACQREL    0x08u /**< acquire or release ordering */
#define VF_INSN_FP        0x10u /**< SIMD&FP / vector register */
#define VF_INSN_WRITE     0x20u /**< the (first) access writes */
#define VF_INSN_SKIPPABLE 0x40u /**< may be skipped without any access (cache maintenance) */
#define VF_INSN_BIGENDIAN 0x80u /**< data is big-endian in the register */

struct vf_fault;

/*
 * Architecture-private decode state that does not fit vf_insn_t. Each
 * architecture adds one member; the reserve fixes the size.
 */
typedef union vf_arch_state {
    uint64_t reserve[16];
    struct {
        uint8_t el;       /* exception level the guest was at */
        uint8_t mode;     /* ISV = 0 decode: vf_a64_ldst_t fields (vcpufault/aarch64.h) */
        uint8_t extend, shift, selem, nregs, lane, vbytes, esize;
        uint8_t far_valid; /* FAR_EL2 holds the faulting virtual address */
        uint8_t pad_[6];
        uint64_t va;      /* guest virtual address of the first access */
        uint64_t base;    /* base register value after writeback */
    } a64;
    /* x86: the decoded instruction and the pending result (src/arch/x86/x86i.h). */
    struct vf_x86_state {
        struct vf_x86_dec {
            int64_t disp;      /* displacement, or the moffs address */
            uint64_t imm;      /* immediate, sign- or zero-extended as the opcode says */
            uint8_t op;        /* x86 operation (src/arch/x86/x86i.h) */
            uint8_t aux;       /* sub-operation: ALU op, condition, shift kind, SSE form */
            uint8_t len;       /* instruction length in bytes */
            uint8_t mode;      /* code size in bytes: 2, 4 or 8 */
            uint8_t opsize;    /* operand size in bytes */
            uint8_t addrsize;  /* address size in bytes: 2, 4 or 8 */
            uint8_t memsize;   /* bytes of one memory access */
            uint8_t seg;       /* segment of the memory operand: 0 ES 1 CS 2 SS 3 DS 4 FS 5 GS */
            uint8_t base;      /* base register, 0xff none, 16 RIP */
            uint8_t index;     /* index register, 0xff none */
            uint8_t scale;     /* index shift 0..3 */
            uint8_t reg;       /* register operand: 0..15, 16..19 AH CH DH BH, xmm number */
            uint8_t rep;       /* 0, 0xf3 (REP/REPE) or 0xf2 (REPNE) */
            uint8_t flags;     /* X86_D_* */
            uint8_t vvvv;      /* VEX.vvvv, inverted back */
            uint8_t dstsize;   /* destination register bytes when it differs from opsize */
        } d;
        uint64_t lin;          /* linear address of the memory operand (the trapped side) */
        uint64_t other;        /* guest-physical address of a string instruction's other side */
        uint64_t out[2];       /* memory result of the write access */
        uint64_t val[2];       /* register results */
        uint64_t rflags;       /* flags after the instruction */
        uint64_t ram;          /* value read from RAM (string instructions, POP) */
        uint8_t cls;           /* operation class (load, store, read-modify-write, string) */
        uint8_t done;          /* result computed */
        uint8_t fault;         /* exception found while computing (#DE) */
        uint8_t side;          /* string instructions: bit 0 source, bit 1 destination is the device */
        uint8_t wdir;          /* bit i: access i writes */
        uint8_t wother;        /* bit i: access i is at `other`, not at the reported address */
        uint8_t wreg[2];       /* registers to write on completion */
        uint8_t wsize[2];      /* their write sizes, 0 = none */
    } x86;
    struct {
        uint64_t ipa;     /* guest-physical address of the first access */
        uint32_t va;      /* guest virtual address of the first access */
        uint32_t wb;      /* base register value after writeback */
        uint32_t word;    /* the instruction: A32 word, T16 halfword, or T32 hw1 << 16 | hw2 */
        uint8_t thumb;    /* the guest was in Thumb state */
    } a32;
} vf_arch_state_t;

/** Architecture operations behind a fault; internal, one constant table per architecture. */
typedef struct vf_arch_ops vf_arch_ops_t;

/**
 * One fault, one per vCPU. Plain memory owned by the caller; treat the
 * fields as private and use the functions below.
 */
typedef struct vf_fault {
    const vf_arch_ops_t *ops;
    void *regs;           /* the caller's register file, written on completion */
    vf_host_t host;
    uint64_t pc;          /* guest PC of the faulting instruction */
    uint64_t ipa;         /* guest-physical address reported by the hardware */
    uint64_t gva;         /* guest virtual address reported, if known */
    uint8_t state;        /* vf_state_t */
    uint8_t error;        /* vf_error_t */
    uint8_t split;        /* largest piece presented, 0 = whole accesses */
    uint8_t decoded;      /* insn is valid */
    uint8_t stage;        /* index of the current access */
    uint8_t off;          /* offset of the current piece within the access */
    uint8_t rtotal;       /* read bytes gathered before the current access */
    const char *message;  /* static text explaining an error */
    vf_access_t acc;      /* current whole access */
    vf_access_t cur;      /* current piece */
    vf_insn_t insn;
    vf_inject_t inject;
    uint64_t exit_info[4];/* architecture exit words (syndrome...) */
    vf_arch_state_t arch; /* architecture-private decode state */
    uint64_t wbuf[VF_ACCESS_MAX / 8];  /* write data of the current access */
    uint64_t rbuf[VF_READ_MAX / 8];    /* read data gathered so far */
} vf_fault_t;

/** Reset a fault object to VF_STATE_IDLE. */
void vf_fault_init(vf_fault_t *f);

/**
 * Present accesses wider than `bytes` as successive pieces of at most `bytes`
 * (8 for a device model behind the seL4 API; 0 for whole accesses). Must be a
 * power of two from 1 to 32, or 0. Applies from the next capture on.
 */
vf_error_t vf_fault_set_split(vf_fault_t *f, unsigned bytes);

/** Decode the instruction if not done yet. Capture and the queries call it as needed. */
vf_error_t vf_fault_decode(vf_fault_t *f);

/** Where the fault stands. */
vf_state_t vf_fault_state(const vf_fault_t *f);

/** The error that put the fault in VF_STATE_ERROR, else VF_OK. */
vf_error_t vf_fault_error(const vf_fault_t *f);

/** A short static sentence explaining the error or injection ("" if none). */
const char *vf_fault_message(const vf_fault_t *f);

/** The current access (piece), decoding first if needed. Zeroed when no access is pending. */
vf_access_t vf_fault_access(vf_fault_t *f);

/** The decoded instruction (decoding first if needed), or NULL if it could not be decoded. */
const vf_insn_t *vf_fault_insn(vf_fault_t *f);

/** Guest PC of the faulting instruction. */
uint64_t vf_fault_pc(const vf_fault_t *f);

/** Guest-physical address the hardware reported. */
uint64_t vf_fault_reported_address(const vf_fault_t *f);

/** Copy the current write piece's data (lsb-aligned, little-endian) to buf; len must be >= its size. */
vf_error_t vf_fault_write_data(vf_fault_t *f, void *buf, size_t len);

/** The first (up to) 8 bytes of the current write piece as an integer; 0 for a read. */
uint64_t vf_fault_write_value(vf_fault_t *f);

/** Supply the current read piece's data (lsb-aligned, little-endian); len must equal its size. */
vf_error_t vf_fault_set_read(vf_fault_t *f, const void *data, size_t len);

/** Supply the current read piece's data as an integer (its low `size` bytes are used; the rest must be 0). */
vf_error_t vf_fault_set_read_value(vf_fault_t *f, uint64_t value);

/**
 * Finish the current piece. If the instruction has more, the fault stays in
 * VF_STATE_ACCESS with the next one; after the last it completes the
 * instruction (registers, writeback, flags, PC) and moves to VF_STATE_DONE.
 * A read piece that was given no data reads 0.
 */
vf_error_t vf_fault_advance(vf_fault_t *f);

/** Skip the instruction with no access: only the PC moves. Allowed for cache maintenance faults. */
vf_error_t vf_fault_skip(vf_fault_t *f);

/** Leave the guest at the same instruction with nothing changed; the fault becomes idle. */
void vf_fault_restart(vf_fault_t *f);

/** The injection decision after VF_ERR_INJECT; kind VF_INJECT_NONE otherwise. */
vf_inject_t vf_fault_injection(const vf_fault_t *f);

/** Name of an error code as in the fault-record format ("ok", "unsupported", ...). */
const char *vf_error_name(vf_error_t e);

#ifdef __cplusplus
}
#endif

#endif
