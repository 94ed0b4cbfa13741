/* Internal: x86 decoder tables, descriptor and emulation helpers. */
#ifndef VF_ARCH_X86_X86I_H
#define VF_ARCH_X86_X86I_H

#include <vcpufault/x86.h>

typedef struct vf_x86_dec x86_dec_t;
typedef struct vf_x86_state x86_state_t;

_Static_assert(sizeof(struct vf_x86_state) <= sizeof(((vf_arch_state_t *)0)->reserve),
               "x86 state must fit the architecture reserve");

/* Register codes in a descriptor. */
#define X86_NOREG 0xffu
#define X86_RIP 16u
#define X86_AH 16u /* 16..19: AH CH DH BH (byte registers 4..7 without REX) */

/* Segments in encoding order. */
enum { X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS };

/* x86_dec_t.flags */
#define X86_D_LOCK 0x01u  /* LOCK prefix */
#define X86_D_REX 0x02u   /* a REX prefix was present (SPL..DIL instead of AH..BH) */
#define X86_D_VEX 0x04u   /* VEX-encoded */
#define X86_D_MEM 0x08u   /* has a memory operand */
#define X86_D_REXW 0x10u  /* REX.W or VEX.W */
#define X86_D_SEGOVR 0x20u/* a segment override prefix was given */

/*
 * Operations. Each one is a family of encodings with the same meaning; the
 * operand form (which side is memory, where the immediate is) is in the table.
 */
enum x86_op {
    X86_OP_NONE = 0,  /* valid, not emulated */
    X86_OP_MOV_LD,    /* reg <- mem (also moffs loads) */
    X86_OP_MOV_ST,    /* mem <- reg (also moffs stores, MOVNTI) */
    X86_OP_MOV_STI,   /* mem <- imm */
    X86_OP_MOVZX,     /* reg <- zero-extended mem (memsize < opsize) */
    X86_OP_MOVSX,     /* reg <- sign-extended mem (also MOVSXD) */
    X86_OP_MOVBE_LD,
    X86_OP_MOVBE_ST,
    X86_OP_ALU_LD,    /* reg op= mem; aux = ALU op */
    X86_OP_ALU_ST,    /* mem op= reg */
    X86_OP_ALU_STI,   /* mem op= imm */
    X86_OP_TEST,      /* mem & reg: flags only */
    X86_OP_TESTI,     /* mem & imm */
    X86_OP_NOT,
    X86_OP_NEG,
    X86_OP_INC,
    X86_OP_DEC,
    X86_OP_SHIFT,     /* aux = ROL ROR RCL RCR SHL SHR SAL SAR; count source in imm/reg */
    X86_OP_SHLD,
    X86_OP_SHRD,
    X86_OP_MUL,       /* rDX:rAX = rAX * mem */
    X86_OP_IMUL1,
    X86_OP_DIV,
    X86_OP_IDIV,
    X86_OP_IMUL2,     /* reg = reg * mem */
    X86_OP_IMUL3,     /* reg = mem * imm */
    X86_OP_SETCC,     /* aux = condition */
    X86_OP_CMOVCC,
    X86_OP_BT,        /* aux = 0 BT, 1 BTS, 2 BTR, 3 BTC; reg form unless imm flagged */
    X86_OP_BSF,
    X86_OP_BSR,
    X86_OP_POPCNT,
    X86_OP_LZCNT,
    X86_OP_TZCNT,
    X86_OP_XCHG,
    X86_OP_XADD,
    X86_OP_CMPXCHG,
    X86_OP_CMPXCHG8B, /* and CMPXCHG16B with REX.W */
    X86_OP_PUSH_M,
    X86_OP_POP_M,
    X86_OP_MOVS,
    X86_OP_STOS,
    X86_OP_LODS,
    X86_OP_CMPS,
    X86_OP_SCAS,
    X86_OP_SSE_LD,    /* xmm/ymm <- mem; aux = X86_SSE_* */
    X86_OP_SSE_ST,    /* mem <- xmm/ymm */
    X86_OP_CACHE,     /* CLFLUSH/CLFLUSHOPT/CLWB: no data access, may be skipped */
    X86_OP_COUNT
};

/* ALU sub-operations in encoding order (the /r of group 1). */
enum { X86_ADD, X86_OR, X86_ADC, X86_SBB, X86_AND, X86_SUB, X86_XOR, X86_CMP };
/* Shift sub-operations (the /r of group 2). */
enum { X86_ROL, X86_ROR, X86_RCL, X86_RCR, X86_SHL, X86_SHR, X86_SAL, X86_SAR };

/* Shift count source, in x86_dec_t.vvvv for SHIFT/SHLD/SHRD. */
enum { X86_COUNT_1, X86_COUNT_CL, X86_COUNT_IMM };

/* SSE move aux bits. */
#define X86_SSE_ALIGN 0x01u  /* aligned move: #GP if the address is not aligned to memsize */
#define X86_SSE_ZERO 0x02u   /* a load zeroes the rest of the xmm register (MOVD/MOVQ/MOVSS/MOVSD) */
#define X86_SSE_Q 0x04u      /* MOVD/MOVQ: 8 bytes with REX.W/VEX.W, else 4 */
#define X86_SSE_MEMONLY 0x08u /* non-temporal moves: no register form */

/* RFLAGS bits. */
#define X86_CF 0x001u
#define X86_PF 0x004u
#define X86_AF 0x010u
#define X86_ZF 0x040u
#define X86_SF 0x080u
#define X86_TF 0x100u
#define X86_DF 0x400u
#define X86_OF 0x800u
#define X86_VM 0x20000u
#define X86_ARITH (X86_CF | X86_PF | X86_AF | X86_ZF | X86_SF | X86_OF)

/* ---- decoder (decode.c, tables.c) ---- */

/* Decoder outcome. */
typedef enum x86_status {
    X86_DEC_OK = 0,
    X86_DEC_UNSUPPORTED,   /* valid, not emulated; len is set when the length is known */
    X86_DEC_UNDEFINED,     /* #UD: not a valid instruction */
    X86_DEC_MORE,          /* ran out of bytes */
} x86_status_t;

typedef struct x86_result {
    x86_status_t status;
    const char *why;
} x86_result_t;

/* Immediate kinds in the opcode tables. */
enum x86_imm {
    X86_I_NONE, X86_I_8, X86_I_16, X86_I_Z, X86_I_V, X86_I_MOFFS, X86_I_16_8, X86_I_PTR,
    X86_I_REL8, X86_I_RELZ, X86_I_S8, X86_I_SZ,
};

/* Tables are internal: hidden, so position-independent code reaches them without a GOT. */
#if defined(__GNUC__)
#define VF_X86_HIDDEN __attribute__((visibility("hidden")))
#else
#define VF_X86_HIDDEN
#endif

/* Opcode table entry: how one opcode's operands are encoded and what it does. */
typedef struct x86_opinfo {
    uint8_t op;    /* enum x86_op, X86_OP_NONE when not emulated */
    uint8_t aux;   /* sub-operation or group / SSE table index */
    uint8_t imm;   /* enum x86_imm */
    uint8_t flags; /* X86_T_* */
    uint8_t size;  /* fixed memory operand size (MOVZX/MOVSX source, SSE moves), 0 = operand size */
} x86_opinfo_t;

#define X86_T_MODRM 0x01u /* ModRM follows */
#define X86_T_BYTE 0x02u  /* byte operand size */
#define X86_T_LOCK 0x04u  /* LOCK allowed (with a memory destination) */
#define X86_T_D64 0x08u   /* operand size defaults to 64 bits in 64-bit mode */
#define X86_T_I64 0x10u   /* invalid in 64-bit mode */
#define X86_T_GRP 0x20u   /* the ModRM reg field selects the entry: aux is the group */
#define X86_T_SSE 0x40u   /* mandatory prefix selects the entry: aux is the SSE row */
#define X86_T_INV 0x80u   /* invalid opcode */

extern const x86_opinfo_t VF_X86_HIDDEN vf_x86_map1[256];
extern const x86_opinfo_t VF_X86_HIDDEN vf_x86_map2[256];

/* Group indices (aux of an X86_T_GRP entry). */
enum {
    X86_G1, X86_G1_S8, X86_G1A, X86_G2_IB, X86_G2, X86_G3, X86_G4, X86_G5, X86_G8, X86_G9,
    X86_G11, X86_G15, X86_NGROUPS
};
extern const x86_opinfo_t VF_X86_HIDDEN vf_x86_groups[X86_NGROUPS][8];

/* SSE rows (aux of an X86_T_SSE entry); columns are no prefix, 66, F3, F2. */
enum {
    X86_S_10, X86_S_11, X86_S_28, X86_S_29, X86_S_2B, X86_S_6E, X86_S_7E, X86_S_6F, X86_S_7F,
    X86_S_D6, X86_S_E7, X86_S_B8, X86_S_BC, X86_S_BD, X86_S_38F0, X86_S_38F1, X86_S_382A, X86_NSSE
};
extern const x86_opinfo_t VF_X86_HIDDEN vf_x86_sse[X86_NSSE][4];

/* Flag or-ed into the decoder's mode: real or virtual-8086 mode (no VEX). */
#define X86_MODE_REAL 0x10u

/*
 * Decode one instruction. Pure: `bytes` (avail of them) and the code size
 * (2, 4 or 8, with X86_MODE_REAL for real/virtual-8086 mode) in, a
 * descriptor out. X86_DEC_MORE when the bytes run out.
 */
x86_result_t vf_x86_decode_bytes(const uint8_t *bytes, unsigned avail, unsigned mode, x86_dec_t *d);
/* The same without the fast path for the commonest shape (the tests compare the two). */
x86_result_t vf_x86_decode_general(const uint8_t *bytes, unsigned avail, unsigned mode, x86_dec_t *d);

/* ---- flags (flags.c) ---- */

/* ADD OR ADC SBB AND SUB XOR CMP of `size`-byte operands; updates the arithmetic bits of *fl. */
uint64_t vf_x86_alu(unsigned op, unsigned size, uint64_t a, uint64_t b, uint64_t *fl);
/* Shift or rotate (count already masked); updates *fl as the manual says (count 0: unchanged). */
uint64_t vf_x86_shift(unsigned op, unsigned size, uint64_t a, unsigned count, uint64_t *fl);
/* SHLD (left = 1) or SHRD of `size` bytes by a masked count. */
uint64_t vf_x86_shxd(int left, unsigned size, uint64_t dst, uint64_t src, unsigned count, uint64_t *fl);
/* ZF SF PF from a result, the others cleared (logic ops). */
uint64_t vf_x86_logic_flags(uint64_t res, unsigned size);
/* Condition code cc (0..15, the low nibble of Jcc) under rflags. */
int vf_x86_cond(unsigned cc, uint64_t rflags);
/* Parity flag of the low byte. */
uint64_t vf_x86_parity(uint64_t res);

/* ---- guest memory (walk.c) ---- */

/* Access kinds for the page walk. */
enum { X86_ACC_READ, X86_ACC_WRITE, X86_ACC_FETCH };

/* Translate a linear address; 0 and *gpa on success, -1 on any failure. */
int vf_x86_translate(const vf_fault_t *f, const vf_x86_regs_t *r, uint64_t lin, unsigned acc,
                     uint64_t *gpa);

/* ---- registers and semantics (exec.c) ---- */

static inline uint64_t vf_x86_mask(unsigned size)
{
    return size >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (size * 8)) - 1;
}

/* A general-purpose register as an operand of `size` bytes (codes 16..19 are AH CH DH BH). */
static inline uint64_t vf_x86_get(const vf_x86_regs_t *r, unsigned code, unsigned size)
{
    if (code >= X86_AH)
        return (r->gpr[(code - X86_AH) & 3u] >> 8) & 0xffu;
    return r->gpr[code & 15u] & vf_x86_mask(size);
}

/*
 * The one register write-back: 8- and 16-bit writes keep the other bits,
 * 32-bit writes clear bits 63:32, AH..BH are bits 15:8 of RAX..RBX.
 */
static inline void vf_x86_set(vf_x86_regs_t *r, unsigned code, unsigned size, uint64_t v)
{
    uint64_t *g = &r->gpr[code >= X86_AH ? (code - X86_AH) & 3u : code & 15u];
    if (code >= X86_AH)
        *g = (*g & ~(uint64_t)0xff00u) | ((v & 0xffu) << 8);
    else if (size == 4)
        *g = v & 0xffffffffu;
    else if (size >= 8)
        *g = v;
    else
        *g = (*g & ~vf_x86_mask(size)) | (v & vf_x86_mask(size));
}

/* Operation classes: which accesses an instruction makes. */
enum { X86_C_LOAD, X86_C_STORE, X86_C_RMW, X86_C_STRING, X86_C_OTHER };
/* Class of each operation (a few depend on the sub-operation: see vf_x86_class). */
extern const uint8_t VF_X86_HIDDEN vf_x86_op_class[X86_OP_COUNT];

static inline unsigned vf_x86_class(const x86_dec_t *d)
{
    if (d->op >= X86_OP_COUNT)
        return X86_C_OTHER;
    /* CMP and BT only read their memory operand. */
    if ((d->op == X86_OP_ALU_ST || d->op == X86_OP_ALU_STI) && d->aux == X86_CMP)
        return X86_C_LOAD;
    if (d->op == X86_OP_BT && d->aux == 0)
        return X86_C_LOAD;
    return vf_x86_op_class[d->op];
}

/*
 * Compute the instruction's results from its memory data (`mem`, the read
 * data in access order, in a buffer of VF_READ_MAX bytes: whole quadwords are
 * loaded; `ram` for a RAM side) and the registers, into the state: write
 * data, register values, flags, #DE. Writes nothing else.
 */
void vf_x86_execute(x86_state_t *s, const vf_x86_regs_t *r, const uint8_t *mem);

#endif
