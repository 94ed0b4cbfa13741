/*
 * x86 differential test against Unicorn 2 (QEMU's x86 CPU model) in 16-bit
 * real mode, 32-bit protected mode and 64-bit mode.
 *
 * For every instruction form the library emulates, random cases are
 * generated: prefixes (66, 67, REX, segment overrides, LOCK, REP), operand
 * sizes, addressing modes (16-bit ModRM, SIB, RIP-relative, moffs) and
 * register values. Each runs one instruction in Unicorn with the device page
 * mapped as RAM (once with memory hooks to see the accesses, once without to
 * take registers and flags: see ANCHORS.md on hooks and flags), then through
 * the library with the device page served from the same bytes. Accesses,
 * every GPR, RIP, RFLAGS (minus the bits the manual leaves undefined for the
 * form), XMM registers and memory must agree. Known Unicorn divergences from
 * hardware (ANCHORS.md) are corrected for explicitly below.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <unicorn/unicorn.h>

#include "x86_env.h"
#include "vf_test.h"

#define CASES_PER_FORM 40

/* ---- random numbers (fixed seed: reproducible) ---- */
static vf_rng_t rng = {0x9e3779b97f4a7c15ull};
static uint64_t rnd(void) { return vf_rng_next(&rng); }
static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

/* ---- the machine per mode ---- */
enum { PG_NONE, PG_2LEVEL, PG_PSE, PG_PAE, PG_4LEVEL };
typedef struct mode_cfg {
    const char *name;
    uc_mode uc;
    unsigned bytes;             /* code size */
    uint64_t code, device, ram; /* linear addresses */
    uint16_t cs, ds, es, ss;    /* real-mode selectors */
    unsigned paging;            /* PG_*: the guest's own page tables map the linear addresses */
    uint64_t code_pa, device_pa, ram_pa;
} mode_cfg_t;

#define PT_BASE 0x100000u      /* page tables live here (physical), 64 KiB */

static const mode_cfg_t modes[] = {
    {"real16", UC_MODE_16, 2, 0x1000, 0x8000, 0x9000, 0x0000, 0x0700, 0x0800, 0x0600, PG_NONE, 0, 0, 0},
    {"prot32", UC_MODE_32, 4, 0x1000, 0x8000, 0x9000, 0, 0, 0, 0, PG_NONE, 0, 0, 0},
    {"long64", UC_MODE_64, 8, 0x10000, 0x200000, 0x300000, 0, 0, 0, 0, PG_NONE, 0, 0, 0},
    /* Paged: code at 4 MiB + 4 KiB, device and RAM below 64 KiB (16-bit addressing reaches them),
       all at other physical addresses. */
    {"prot32-2level", UC_MODE_32, 4, 0x401000, 0x7000, 0x6000, 0, 0, 0, 0, PG_2LEVEL, 0x205000, 0x8000, 0x9000},
    {"prot32-pse", UC_MODE_32, 4, 0x401000, 0x7000, 0x6000, 0, 0, 0, 0, PG_PSE, 0xc01000, 0x8000, 0x9000},
    {"prot32-pae", UC_MODE_32, 4, 0x401000, 0x7000, 0x6000, 0, 0, 0, 0, PG_PAE, 0x205000, 0x8000, 0x9000},
    {"long64-4level", UC_MODE_64, 8, 0x401000, 0x7000, 0x6000, 0, 0, 0, 0, PG_4LEVEL, 0x205000, 0x8000, 0x9000},
};

/* Physical address of a linear address in one of the mode's pages. */
static uint64_t phys(const mode_cfg_t *m, uint64_t lin)
{
    if (m->paging == PG_NONE)
        return lin;
    uint64_t page = lin & ~0xfffull, off = lin & 0xfff;
    if (page == m->code || page == m->code + 0x1000)
        return m->code_pa + (page - m->code) + off;
    if (page == m->device)
        return m->device_pa + off;
    if (page == m->ram)
        return m->ram_pa + off;
    return ~0ull;
}

static void put32(uint8_t *pt, uint64_t pa, uint64_t v) { for (unsigned i = 0; i < 4; i++) pt[pa - PT_BASE + i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *pt, uint64_t pa, uint64_t v) { for (unsigned i = 0; i < 8; i++) pt[pa - PT_BASE + i] = (uint8_t)(v >> (8 * i)); }

/* The guest's page tables (64 KiB at PT_BASE) and control registers for m. */
static void build_tables(const mode_cfg_t *m, uint8_t *pt, uint64_t *cr0, uint64_t *cr3, uint64_t *cr4, uint64_t *efer)
{
    memset(pt, 0, 0x10000);
    *cr3 = PT_BASE;
    *cr4 = 0;
    *efer = 0;
    *cr0 = 0x80000011;
    uint64_t lo_pages[2][2] = {{m->device, m->device_pa}, {m->ram, m->ram_pa}};
    switch (m->paging) {
    case PG_2LEVEL: case PG_PSE:
        put32(pt, PT_BASE + 0, (PT_BASE + 0x1000) | 7);               /* PDE 0 -> PT0 */
        for (unsigned i = 0; i < 2; i++)
            put32(pt, PT_BASE + 0x1000 + ((lo_pages[i][0] >> 12) & 0x3ff) * 4, lo_pages[i][1] | 7);
        if (m->paging == PG_PSE) {
            *cr4 = 0x10;
            put32(pt, PT_BASE + 4, (m->code_pa & ~0x3fffffull) | 0x87); /* 4 MiB page */
        } else {
            put32(pt, PT_BASE + 4, (PT_BASE + 0x2000) | 7);
            put32(pt, PT_BASE + 0x2000 + ((m->code >> 12) & 0x3ff) * 4, m->code_pa | 7);
            put32(pt, PT_BASE + 0x2000 + (((m->code >> 12) + 1) & 0x3ff) * 4, (m->code_pa + 0x1000) | 7);
        }
        break;
    case PG_PAE:
        *cr4 = 0x20;
        put64(pt, PT_BASE, (PT_BASE + 0x1000) | 1);                    /* PDPTE 0 */
        put64(pt, PT_BASE + 0x1000, (PT_BASE + 0x2000) | 7);           /* PDE 0: 0-2 MiB */
        put64(pt, PT_BASE + 0x1000 + 2 * 8, (PT_BASE + 0x3000) | 7);   /* PDE 2: 4-6 MiB */
        for (unsigned i = 0; i < 2; i++)
            put64(pt, PT_BASE + 0x2000 + ((lo_pages[i][0] >> 12) & 0x1ff) * 8, lo_pages[i][1] | 7);
        put64(pt, PT_BASE + 0x3000 + ((m->code >> 12) & 0x1ff) * 8, m->code_pa | 7);
        put64(pt, PT_BASE + 0x3000 + (((m->code >> 12) + 1) & 0x1ff) * 8, (m->code_pa + 0x1000) | 7);
        break;
    case PG_4LEVEL:
        *cr4 = 0x20;
        *efer = 0x500;
        put64(pt, PT_BASE, (PT_BASE + 0x1000) | 7);                    /* PML4E 0 */
        put64(pt, PT_BASE + 0x1000, (PT_BASE + 0x2000) | 7);           /* PDPTE 0 */
        put64(pt, PT_BASE + 0x2000, (PT_BASE + 0x3000) | 7);           /* PDE 0 */
        put64(pt, PT_BASE + 0x2000 + 2 * 8, (PT_BASE + 0x4000) | 7);   /* PDE 2 */
        /* The stack and other pages tests touch in 64-bit mode: identity for FS/GS tests is not needed. */
        for (unsigned i = 0; i < 2; i++)
            put64(pt, PT_BASE + 0x3000 + ((lo_pages[i][0] >> 12) & 0x1ff) * 8, lo_pages[i][1] | 7);
        put64(pt, PT_BASE + 0x4000 + ((m->code >> 12) & 0x1ff) * 8, m->code_pa | 7);
        put64(pt, PT_BASE + 0x4000 + (((m->code >> 12) + 1) & 0x1ff) * 8, (m->code_pa + 0x1000) | 7);
        break;
    default:
        break;
    }
}

/* ---- instruction forms ---- */
enum { K_RM, K_MOFFS, K_STR };
enum { SP_NONE, SP_BTREG, SP_CMPXCHG, SP_CX8, SP_DIV, SP_MUL, SP_XMM, SP_PUSH, SP_POP, SP_SHIFT, SP_SHXD, SP_SHXD_CL, SP_BSX };
#define U_ALL (0x8d5u)       /* CF PF AF ZF SF OF */
#define U_AF 0x10u
#define U_MUL (0x4u | 0x10u | 0x40u | 0x80u)
#define U_BT (0x800u | 0x80u | 0x10u | 0x4u)
#define U_BSX (0x1u | 0x800u | 0x80u | 0x10u | 0x4u)
#define U_LZ (0x800u | 0x80u | 0x10u | 0x4u)

typedef struct form {
    const char *name;
    uint8_t kind;
    uint8_t mpfx;        /* mandatory prefix */
    uint8_t op[3], oplen;
    int8_t digit;        /* ModRM /digit, -1 = any register */
    uint8_t imm;         /* 0, 1, 2, 'z' */
    uint8_t byte;        /* byte operands */
    uint8_t fixsize;     /* no 66/REX.W variation */
    uint8_t lock;        /* LOCK allowed */
    uint16_t undef;      /* flags the manual leaves undefined */
    uint8_t memsz;       /* fixed memory size, 0 = operand size */
    uint8_t align;       /* align the operand to memsz */
    uint8_t mode64;      /* 1 = 64-bit only */
    uint8_t special;
} form_t;

#define F(name, kind, mp, o0, o1, o2, n, dg, im, by, fx, lk, un, ms, al, m64, sp) \
    {name, kind, mp, {o0, o1, o2}, n, dg, im, by, fx, lk, un, ms, al, m64, sp}
/* ModRM form with 1-byte opcode */
#define R1(name, o, dg, im, by, lk, un, sp) F(name, K_RM, 0, o, 0, 0, 1, dg, im, by, 0, lk, un, 0, 0, 0, sp)
/* ModRM form with 0F opcode */
#define R2(name, o, dg, im, by, lk, un, sp) F(name, K_RM, 0, 0x0f, o, 0, 2, dg, im, by, 0, lk, un, 0, 0, 0, sp)
#define ALU(n, b) R1(n " Eb,Gb", b, -1, 0, 1, b != 0x38, 0, 0), R1(n " Ev,Gv", b + 1, -1, 0, 0, b != 0x38, 0, 0), \
    R1(n " Gb,Eb", b + 2, -1, 0, 1, 0, 0, 0), R1(n " Gv,Ev", b + 3, -1, 0, 0, 0, 0, 0),                       \
    R1(n " Eb,Ib", 0x80, b >> 3, 1, 1, b != 0x38, 0, 0), R1(n " Ev,Iz", 0x81, b >> 3, 'z', 0, b != 0x38, 0, 0), \
    R1(n " Ev,Ib", 0x83, b >> 3, 1, 0, b != 0x38, 0, 0)
#define SHIFT(n, dg) R1(n " Eb,1", 0xd0, dg, 0, 1, 0, 0x810, SP_SHIFT), R1(n " Ev,1", 0xd1, dg, 0, 0, 0, 0x810, SP_SHIFT), \
    R1(n " Eb,CL", 0xd2, dg, 0, 1, 0, 0x810, SP_SHIFT), R1(n " Ev,CL", 0xd3, dg, 0, 0, 0, 0x810, SP_SHIFT),                  \
    R1(n " Eb,Ib", 0xc0, dg, 1, 1, 0, 0x810, SP_SHIFT), R1(n " Ev,Ib", 0xc1, dg, 1, 0, 0, 0x810, SP_SHIFT)
#define SSE(name, mp, o, ms, al) F(name, K_RM, mp, 0x0f, o, 0, 2, -1, 0, 0, 1, 0, 0, ms, al, 0, SP_XMM)

static const form_t forms[] = {
    R1("mov Eb,Gb", 0x88, -1, 0, 1, 0, 0, 0), R1("mov Ev,Gv", 0x89, -1, 0, 0, 0, 0, 0),
    R1("mov Gb,Eb", 0x8a, -1, 0, 1, 0, 0, 0), R1("mov Gv,Ev", 0x8b, -1, 0, 0, 0, 0, 0),
    R1("mov Eb,Ib", 0xc6, 0, 1, 1, 0, 0, 0), R1("mov Ev,Iz", 0xc7, 0, 'z', 0, 0, 0, 0),
    F("mov AL,Ob", K_MOFFS, 0, 0xa0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    F("mov rAX,Ov", K_MOFFS, 0, 0xa1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    F("mov Ob,AL", K_MOFFS, 0, 0xa2, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    F("mov Ov,rAX", K_MOFFS, 0, 0xa3, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    F("movzx Gv,Eb", K_RM, 0, 0x0f, 0xb6, 0, 2, -1, 0, 0, 0, 0, 0, 1, 0, 0, 0),
    F("movzx Gv,Ew", K_RM, 0, 0x0f, 0xb7, 0, 2, -1, 0, 0, 0, 0, 0, 2, 0, 0, 0),
    F("movsx Gv,Eb", K_RM, 0, 0x0f, 0xbe, 0, 2, -1, 0, 0, 0, 0, 0, 1, 0, 0, 0),
    F("movsx Gv,Ew", K_RM, 0, 0x0f, 0xbf, 0, 2, -1, 0, 0, 0, 0, 0, 2, 0, 0, 0),
    F("movsxd Gq,Ed", K_RM, 0, 0x63, 0, 0, 1, -1, 0, 0, 0, 0, 0, 0, 0, 1, 0),
    /* MOVBE and POPCNT: Unicorn 2.0.1 raises #UD / makes no access for them; see test_x86_golden.c */
    F("movnti My,Gy", K_RM, 0, 0x0f, 0xc3, 0, 2, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    ALU("add", 0x00), ALU("or", 0x08), ALU("adc", 0x10), ALU("sbb", 0x18),
    ALU("and", 0x20), ALU("sub", 0x28), ALU("xor", 0x30), ALU("cmp", 0x38),
    R1("test Eb,Gb", 0x84, -1, 0, 1, 0, 0, 0), R1("test Ev,Gv", 0x85, -1, 0, 0, 0, 0, 0),
    R1("test Eb,Ib", 0xf6, 0, 1, 1, 0, 0, 0), R1("test Ev,Iz", 0xf7, 0, 'z', 0, 0, 0, 0),
    R1("not Eb", 0xf6, 2, 0, 1, 1, 0, 0), R1("not Ev", 0xf7, 2, 0, 0, 1, 0, 0),
    /* LOCK NEG: Unicorn adds a read (its cmpxchg loop), so NEG is generated without LOCK */
    R1("neg Eb", 0xf6, 3, 0, 1, 0, 0, 0), R1("neg Ev", 0xf7, 3, 0, 0, 0, 0, 0),
    R1("inc Eb", 0xfe, 0, 0, 1, 1, 0, 0), R1("inc Ev", 0xff, 0, 0, 0, 1, 0, 0),
    R1("dec Eb", 0xfe, 1, 0, 1, 1, 0, 0), R1("dec Ev", 0xff, 1, 0, 0, 1, 0, 0),
    SHIFT("rol", 0), SHIFT("ror", 1), SHIFT("rcl", 2), SHIFT("rcr", 3), SHIFT("shl", 4),
    SHIFT("shr", 5), SHIFT("sar", 7),
    R2("shld Ev,Gv,Ib", 0xa4, -1, 1, 0, 0, 0x810, SP_SHXD), R2("shld Ev,Gv,CL", 0xa5, -1, 0, 0, 0, 0x810, SP_SHXD_CL),
    R2("shrd Ev,Gv,Ib", 0xac, -1, 1, 0, 0, 0x810, SP_SHXD), R2("shrd Ev,Gv,CL", 0xad, -1, 0, 0, 0, 0x810, SP_SHXD_CL),
    R1("mul Eb", 0xf6, 4, 0, 1, 0, U_MUL, SP_MUL), R1("mul Ev", 0xf7, 4, 0, 0, 0, U_MUL, SP_MUL),
    R1("imul Eb", 0xf6, 5, 0, 1, 0, U_MUL, SP_MUL), R1("imul Ev", 0xf7, 5, 0, 0, 0, U_MUL, SP_MUL),
    R1("div Eb", 0xf6, 6, 0, 1, 0, U_ALL, SP_DIV), R1("div Ev", 0xf7, 6, 0, 0, 0, U_ALL, SP_DIV),
    R1("idiv Eb", 0xf6, 7, 0, 1, 0, U_ALL, SP_DIV), R1("idiv Ev", 0xf7, 7, 0, 0, 0, U_ALL, SP_DIV),
    R2("imul Gv,Ev", 0xaf, -1, 0, 0, 0, U_MUL, 0), R1("imul Gv,Ev,Iz", 0x69, -1, 'z', 0, 0, U_MUL, 0),
    R1("imul Gv,Ev,Ib", 0x6b, -1, 1, 0, 0, U_MUL, 0),
    R2("seto", 0x90, 0, 0, 1, 0, 0, 0), R2("setb", 0x92, 0, 0, 1, 0, 0, 0), R2("setz", 0x94, 0, 0, 1, 0, 0, 0),
    R2("setbe", 0x96, 0, 0, 1, 0, 0, 0), R2("sets", 0x98, 0, 0, 1, 0, 0, 0), R2("setp", 0x9a, 0, 0, 1, 0, 0, 0),
    R2("setl", 0x9c, 0, 0, 1, 0, 0, 0), R2("setle", 0x9e, 0, 0, 1, 0, 0, 0), R2("setnle", 0x9f, 0, 0, 1, 0, 0, 0),
    R2("cmovo", 0x40, -1, 0, 0, 0, 0, 0), R2("cmovnb", 0x43, -1, 0, 0, 0, 0, 0), R2("cmovz", 0x44, -1, 0, 0, 0, 0, 0),
    R2("cmova", 0x47, -1, 0, 0, 0, 0, 0), R2("cmovns", 0x49, -1, 0, 0, 0, 0, 0), R2("cmovnp", 0x4b, -1, 0, 0, 0, 0, 0),
    R2("cmovge", 0x4d, -1, 0, 0, 0, 0, 0), R2("cmovg", 0x4f, -1, 0, 0, 0, 0, 0),
    R2("bt Ev,Gv", 0xa3, -1, 0, 0, 0, U_BT, SP_BTREG), R2("bts Ev,Gv", 0xab, -1, 0, 0, 1, U_BT, SP_BTREG),
    R2("btr Ev,Gv", 0xb3, -1, 0, 0, 1, U_BT, SP_BTREG), R2("btc Ev,Gv", 0xbb, -1, 0, 0, 1, U_BT, SP_BTREG),
    R2("bt Ev,Ib", 0xba, 4, 1, 0, 0, U_BT, 0), R2("bts Ev,Ib", 0xba, 5, 1, 0, 1, U_BT, 0),
    R2("btr Ev,Ib", 0xba, 6, 1, 0, 1, U_BT, 0), R2("btc Ev,Ib", 0xba, 7, 1, 0, 1, U_BT, 0),
    R2("bsf", 0xbc, -1, 0, 0, 0, U_BSX, SP_BSX), R2("bsr", 0xbd, -1, 0, 0, 0, U_BSX, SP_BSX),
    F("tzcnt", K_RM, 0xf3, 0x0f, 0xbc, 0, 2, -1, 0, 0, 0, 0, U_LZ, 0, 0, 0, 0),
    F("lzcnt", K_RM, 0xf3, 0x0f, 0xbd, 0, 2, -1, 0, 0, 0, 0, U_LZ, 0, 0, 0, 0),
    R1("xchg Eb,Gb", 0x86, -1, 0, 1, 1, 0, 0), R1("xchg Ev,Gv", 0x87, -1, 0, 0, 1, 0, 0),
    R2("cmpxchg Eb,Gb", 0xb0, -1, 0, 1, 1, 0, SP_CMPXCHG), R2("cmpxchg Ev,Gv", 0xb1, -1, 0, 0, 1, 0, SP_CMPXCHG),
    F("cmpxchg8b", K_RM, 0, 0x0f, 0xc7, 0, 2, 1, 0, 0, 1, 1, 0, 8, 0, 0, SP_CX8),
    F("cmpxchg16b", K_RM, 0, 0x0f, 0xc7, 0, 2, 1, 0, 0, 1, 1, 0, 16, 1, 1, SP_CX8),
    R2("xadd Eb,Gb", 0xc0, -1, 0, 1, 1, 0, 0), R2("xadd Ev,Gv", 0xc1, -1, 0, 0, 1, 0, 0),
    R1("push Ev", 0xff, 6, 0, 0, 0, 0, SP_PUSH), R1("pop Ev", 0x8f, 0, 0, 0, 0, 0, SP_POP),
    F("movsb", K_STR, 0, 0xa4, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    F("movs", K_STR, 0, 0xa5, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    F("cmpsb", K_STR, 0, 0xa6, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    F("cmps", K_STR, 0, 0xa7, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    F("stosb", K_STR, 0, 0xaa, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    F("stos", K_STR, 0, 0xab, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    F("lodsb", K_STR, 0, 0xac, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    F("lods", K_STR, 0, 0xad, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    F("scasb", K_STR, 0, 0xae, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    F("scas", K_STR, 0, 0xaf, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    SSE("movups load", 0, 0x10, 16, 0), SSE("movupd load", 0x66, 0x10, 16, 0),
    SSE("movss load", 0xf3, 0x10, 4, 0), SSE("movsd load", 0xf2, 0x10, 8, 0),
    SSE("movups store", 0, 0x11, 16, 0), SSE("movupd store", 0x66, 0x11, 16, 0),
    SSE("movss store", 0xf3, 0x11, 4, 0), SSE("movsd store", 0xf2, 0x11, 8, 0),
    SSE("movaps load", 0, 0x28, 16, 1), SSE("movapd load", 0x66, 0x28, 16, 1),
    SSE("movaps store", 0, 0x29, 16, 1), SSE("movapd store", 0x66, 0x29, 16, 1),
    SSE("movntps", 0, 0x2b, 16, 1),
    SSE("movd load", 0x66, 0x6e, 4, 0), SSE("movd store", 0x66, 0x7e, 4, 0),
    SSE("movq load", 0xf3, 0x7e, 8, 0), SSE("movq store", 0x66, 0xd6, 8, 0),
    SSE("movdqa load", 0x66, 0x6f, 16, 1), SSE("movdqu load", 0xf3, 0x6f, 16, 0),
    SSE("movdqa store", 0x66, 0x7f, 16, 1), SSE("movdqu store", 0xf3, 0x7f, 16, 0),
    SSE("movntdq", 0x66, 0xe7, 16, 1),
    F("movntdqa", K_RM, 0x66, 0x0f, 0x38, 0x2a, 3, -1, 0, 0, 1, 0, 0, 16, 1, 0, SP_XMM),
    F("movq load (W)", K_RM, 0x66, 0x0f, 0x6e, 0, 2, -1, 0, 0, 1, 0, 0, 8, 0, 1, SP_XMM),
    F("movq store (W)", K_RM, 0x66, 0x0f, 0x7e, 0, 2, -1, 0, 0, 1, 0, 0, 8, 0, 1, SP_XMM),
};

/* ---- one generated case ---- */
typedef struct gen {
    uint8_t code[16];
    unsigned len;
    uint64_t gpr[16];
    uint64_t rflags;
    uint64_t xmm[16][2];
    uint64_t fs_base, gs_base;
    unsigned opsize, addrsize, memsize;
    uint16_t undef;
    unsigned rep;          /* REP prefix used */
} gen_t;

static uint64_t mask_of(unsigned bytes)
{
    return bytes >= 8 ? ~0ull : (1ull << (bytes * 8)) - 1;
}

/* Register values of the mode's width, with random upper garbage where the mode has 64-bit registers. */
static uint64_t rand_reg(const mode_cfg_t *m)
{
    uint64_t v = rnd();
    switch (rn(4)) {
    case 0: v &= 0xff; break;
    case 1: v &= 0xffff; break;
    case 2: v = (v & 1) ? 0 : ~0ull; break;
    default: break;
    }
    return m->bytes == 8 ? v : v & 0xffffffffu;
}

static uint64_t seg_base_of(const mode_cfg_t *m, const gen_t *g, unsigned seg)
{
    if (m->bytes == 2) {
        uint16_t sel[6] = {m->es, m->cs, m->ss, m->ds, 0, 0};
        return (uint64_t)sel[seg] << 4;
    }
    if (m->bytes == 8)
        return seg == 4 ? g->fs_base : seg == 5 ? g->gs_base : 0;
    return 0;
}

static const uint8_t seg_prefix[6] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};

/* Set a register so that it holds `v` in the address-size bits, with garbage above them. */
static uint64_t with_garbage(const mode_cfg_t *m, unsigned addrsize, uint64_t v)
{
    uint64_t hi = rand_reg(m) & ~mask_of(addrsize);
    return (v & mask_of(addrsize)) | hi;
}

/*
 * Emit ModRM (+SIB, disp) addressing `lin` (a linear address); sets the
 * address registers in g. `avoid` is a mask of registers that must not be
 * used for addressing. Returns the number of bytes, or 0.
 */
static unsigned gen_modrm(const mode_cfg_t *m, gen_t *g, uint8_t *p, unsigned reg, uint64_t lin,
                          unsigned seg_ovr, uint32_t avoid, unsigned *rex, unsigned *seg_used,
                          unsigned *disp_pos, unsigned *disp_kind)
{
    unsigned n = 0;
    *disp_kind = 0;
    if (g->addrsize == 2) {
        static const int base16[8] = {3, 3, 5, 5, -1, -1, 5, 3};
        static const int idx16[8] = {6, 7, 6, 7, 6, 7, -1, -1};
        unsigned rm, mod;
        for (;;) {
            rm = rn(8);
            mod = rn(3);
            int b = (mod == 0 && rm == 6) ? -1 : base16[rm];
            int i = idx16[rm];
            if (rm == 4 || rm == 5) { b = i; i = -1; }
            if ((b >= 0 && (avoid >> b) & 1) || (i >= 0 && (avoid >> i) & 1))
                continue;
            unsigned seg = seg_ovr != 6 ? seg_ovr : (b == 5 ? 2u : 3u);
            *seg_used = seg;
            uint64_t off = (lin - seg_base_of(m, g, seg)) & 0xffff;
            int64_t disp = mod == 1 ? (int8_t)rnd() : mod == 2 || (mod == 0 && rm == 6) ? (int16_t)rnd() : 0;
            if (mod == 0 && rm == 6) {
                disp = (int64_t)off;
            } else {
                uint64_t iv = i >= 0 ? rnd() & 0xffff : 0;
                if (i >= 0)
                    g->gpr[i] = with_garbage(m, 2, iv);
                if (b >= 0)
                    g->gpr[b] = with_garbage(m, 2, off - (uint64_t)disp - iv);
            }
            p[n++] = (uint8_t)((mod << 6) | ((reg & 7) << 3) | rm);
            *disp_pos = n;
            if (mod == 1) p[n++] = (uint8_t)disp;
            if (mod == 2 || (mod == 0 && rm == 6)) { p[n++] = (uint8_t)disp; p[n++] = (uint8_t)(disp >> 8); }
            return n;
        }
    }
    /* 32/64-bit addressing */
    unsigned nregs = m->bytes == 8 ? 16 : 8;
    for (;;) {
        unsigned shape = rn(m->bytes == 8 && !(avoid >> 31) ? 6 : 5); /* 0 [b] 1 [b+d8] 2 [b+d32] 3 SIB 4 [d32] 5 RIP */
        int b = (int)rn(nregs), i = -1;
        unsigned scale = 0, mod;
        if (shape == 4 || shape == 5)
            b = -1;
        if (shape == 3) {
            i = (int)rn(nregs);
            if (i == 4) i = -1;
            scale = rn(4);
            if (rn(4) == 0) b = -1;
        }
        if ((b >= 0 && (avoid >> b) & 1) || (i >= 0 && (avoid >> i) & 1))
            continue;
        unsigned seg = seg_ovr != 6 ? seg_ovr : ((b & 7) == 4 || (b & 7) == 5) && b >= 0 && b < 8 ? 2u : 3u;
        if (b == 4 || b == 5) seg = seg_ovr != 6 ? seg_ovr : 2u;
        *seg_used = seg;
        uint64_t off = (lin - seg_base_of(m, g, seg)) & mask_of(g->addrsize);
        mod = shape == 0 ? 0 : shape == 1 ? 1 : shape == 2 ? 2 : shape == 3 ? rn(3) : 0;
        if (b < 0) mod = 0;
        if (mod == 0 && b >= 0 && (b & 7) == 5) mod = 1;
        int64_t disp = mod == 1 ? (int8_t)rnd() : mod == 2 || b < 0 ? (int32_t)(rnd() & 0xfffff) - 0x80000 : 0;
        uint64_t iv = 0;
        if (i >= 0 && i == b) {
            uint64_t v = rnd() & 0xfff;
            mod = 2;
            disp = (int64_t)(off - v - (v << scale));
            if (g->addrsize == 8 && (disp > INT32_MAX || disp < INT32_MIN))
                continue;
            g->gpr[b] = with_garbage(m, g->addrsize, v);
        } else {
            if (i >= 0) {
                iv = rnd() & 0xfff;
                g->gpr[i] = with_garbage(m, g->addrsize, iv);
            }
            if (b >= 0) {
                g->gpr[b] = with_garbage(m, g->addrsize, off - (uint64_t)disp - (iv << scale));
            } else if (shape != 5) {
                disp = (int64_t)(off - (iv << scale));
                if (g->addrsize == 8 && (disp > INT32_MAX || disp < INT32_MIN))
                    continue;
                if (g->addrsize == 4)
                    disp = (int32_t)(uint32_t)disp;
            }
        }
        if (shape == 5) {
            *disp_kind = 1; /* RIP-relative: caller fixes disp when the length is known */
            p[n++] = (uint8_t)(((reg & 7) << 3) | 5);
            *disp_pos = n;
            n += 4;
            return n;
        }
        unsigned need_sib = shape == 3 || (b >= 0 && (b & 7) == 4) || (b < 0 && m->bytes == 8);
        if (b >= 0 && b >= 8) *rex |= 1;
        if (i >= 0 && i >= 8) *rex |= 2;
        if (need_sib) {
            unsigned base_f = b < 0 ? 5u : (unsigned)b & 7u;
            unsigned idx_f = i < 0 ? 4u : (unsigned)i & 7u;
            p[n++] = (uint8_t)((mod << 6) | ((reg & 7) << 3) | 4);
            p[n++] = (uint8_t)((scale << 6) | (idx_f << 3) | base_f);
        } else {
            p[n++] = (uint8_t)((mod << 6) | ((reg & 7) << 3) | (b < 0 ? 5u : (unsigned)b & 7u));
        }
        *disp_pos = n;
        if (mod == 1) p[n++] = (uint8_t)disp;
        if (mod == 2 || b < 0)
            for (unsigned k = 0; k < 4; k++) p[n++] = (uint8_t)((uint64_t)disp >> (8 * k));
        return n;
    }
}

/* ---- Unicorn side ---- */
typedef struct uc_acc {
    uint64_t addr;
    int size, write;
    uint64_t value;
} uc_acc_t;

typedef struct uc_run {
    uc_acc_t acc[16];
    unsigned n;
    int intno;
    uint64_t dev_lo, dev_hi;
} uc_run_t;

static void hook_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ud)
{
    uc_run_t *r = ud;
    (void)uc;
    if (addr < r->dev_lo || addr >= r->dev_hi || r->n >= 16)
        return;
    r->acc[r->n].addr = addr;
    r->acc[r->n].size = size;
    r->acc[r->n].write = type == UC_MEM_WRITE;
    r->acc[r->n].value = (uint64_t)value;
    r->n++;
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *ud)
{
    ((uc_run_t *)ud)->intno = (int)intno;
    uc_emu_stop(uc);
}

typedef struct machine {
    uc_engine *uc;
    uc_run_t run;
} machine_t;

static void machine_open(machine_t *mc, const mode_cfg_t *m, int hooks)
{
    assert_int_equal(uc_open(UC_ARCH_X86, m->uc, &mc->uc), UC_ERR_OK);
    assert_int_equal(uc_ctl_set_cpu_model(mc->uc, UC_CPU_X86_HASWELL), UC_ERR_OK);
    /* Unicorn 2.0.1 ignores the guest's paging (it runs at linear = physical), so it runs the
       linear layout; the library gets the physical layout behind page tables built from the
       manual, and the two must agree once addresses are mapped back through those tables. */
    assert_int_equal(uc_mem_map(mc->uc, m->code, 0x2000, UC_PROT_ALL), UC_ERR_OK);
    assert_int_equal(uc_mem_map(mc->uc, m->device, 0x1000, UC_PROT_ALL), UC_ERR_OK);
    assert_int_equal(uc_mem_map(mc->uc, m->ram, 0x1000, UC_PROT_ALL), UC_ERR_OK);
    mc->run.dev_lo = m->device;
    mc->run.dev_hi = m->device + 0x1000;
    uc_hook h;
    if (hooks) {
        assert_int_equal(uc_hook_add(mc->uc, &h, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, (void *)(uintptr_t)hook_mem,
                                     &mc->run, 1, 0), UC_ERR_OK);
    }
    assert_int_equal(uc_hook_add(mc->uc, &h, UC_HOOK_INTR, (void *)(uintptr_t)hook_intr, &mc->run, 1, 0), UC_ERR_OK);
}

static const int uc_gpr64[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};
static const int uc_gpr32[8] = {
    UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX, UC_X86_REG_ESP, UC_X86_REG_EBP,
    UC_X86_REG_ESI, UC_X86_REG_EDI,
};

typedef struct state {
    uint64_t gpr[16], rip, rflags, xmm[16][2];
    uint8_t dev[4096], ram[4096];
} state_t;

/* Run the case in Unicorn; returns the uc_emu_start error. */
static uc_err machine_run(machine_t *mc, const mode_cfg_t *m, const gen_t *g, const uint8_t *dev,
                          const uint8_t *ram, state_t *out)
{
    uc_engine *uc = mc->uc;
    uint8_t code[0x2000];
    memset(code, 0x90, sizeof(code));
    memcpy(code, g->code, g->len);
    uc_mem_write(uc, m->code, code, sizeof(code));
    uc_ctl_remove_cache(uc, m->code, m->code + 0x2000);
    uc_mem_write(uc, m->device, dev, 4096);
    uc_mem_write(uc, m->ram, ram, 4096);
    unsigned nregs = m->bytes == 8 ? 16 : 8;
    for (unsigned i = 0; i < nregs; i++) {
        if (m->bytes == 8) {
            uc_reg_write(uc, uc_gpr64[i], &g->gpr[i]);
        } else {
            uint32_t v = (uint32_t)g->gpr[i];
            uc_reg_write(uc, uc_gpr32[i], &v);
        }
    }
    if (m->bytes == 2) {
        uint16_t cs = m->cs, ds = m->ds, es = m->es, ss = m->ss;
        uc_reg_write(uc, UC_X86_REG_CS, &cs);
        uc_reg_write(uc, UC_X86_REG_DS, &ds);
        uc_reg_write(uc, UC_X86_REG_ES, &es);
        uc_reg_write(uc, UC_X86_REG_SS, &ss);
    }
    if (m->bytes == 8) {
        uc_reg_write(uc, UC_X86_REG_FS_BASE, &g->fs_base);
        uc_reg_write(uc, UC_X86_REG_GS_BASE, &g->gs_base);
    }
    uint64_t fl = g->rflags;
    uc_reg_write(uc, m->bytes == 8 ? UC_X86_REG_RFLAGS : UC_X86_REG_EFLAGS, &fl);
    for (unsigned i = 0; i < nregs; i++)
        uc_reg_write(uc, UC_X86_REG_XMM0 + (int)i, g->xmm[i]);
    mc->run.n = 0;
    mc->run.intno = -1;
    uint64_t begin = m->code;
    uc_err err = uc_emu_start(uc, begin, begin + 0x1000, 0, 1);
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < nregs; i++) {
        if (m->bytes == 8) {
            uc_reg_read(uc, uc_gpr64[i], &out->gpr[i]);
        } else {
            uint32_t v = 0;
            uc_reg_read(uc, uc_gpr32[i], &v);
            out->gpr[i] = v;
        }
        uc_reg_read(uc, UC_X86_REG_XMM0 + (int)i, out->xmm[i]);
    }
    if (m->bytes == 8) {
        uc_reg_read(uc, UC_X86_REG_RIP, &out->rip);
        uc_reg_read(uc, UC_X86_REG_RFLAGS, &out->rflags);
    } else {
        uint32_t v = 0;
        uc_reg_read(uc, UC_X86_REG_EIP, &v);
        out->rip = v;
        v = 0;
        uc_reg_read(uc, UC_X86_REG_EFLAGS, &v);
        out->rflags = v;
    }
    uc_mem_read(uc, m->device, out->dev, 4096);
    uc_mem_read(uc, m->ram, out->ram, 4096);
    return err;
}

/* ---- case generation ---- */

static uint64_t vf_le_load_test(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n > 8 ? 8 : n; i > 0; i--)
        v = (v << 8) | p[i - 1];
    return v;
}

/* Build one case of form fm in mode m. Returns 0 if this form/mode combination does not apply. */
static int generate(const mode_cfg_t *m, const form_t *fm, gen_t *g, uint8_t *dev, uint8_t *ram)
{
    unsigned n = 0, rex = 0, seg_ovr = 6, reg;
    int w = 0;
    uint8_t *c = g->code;
    memset(g, 0, sizeof(*g));
    if (fm->mode64 && m->bytes != 8)
        return 0;
    if (fm->special == SP_XMM && m->bytes == 2)
        return 0; /* Unicorn's real mode raises #UD for SSE (CR4.OSFXSR cannot be set there) */
    for (unsigned i = 0; i < 16; i++)
        g->gpr[i] = i < (m->bytes == 8 ? 16u : 8u) ? rand_reg(m) : 0;
    for (unsigned i = 0; i < 16; i++) {
        g->xmm[i][0] = i < (m->bytes == 8 ? 16u : 8u) ? rnd() : 0;
        g->xmm[i][1] = i < (m->bytes == 8 ? 16u : 8u) ? rnd() : 0;
    }
    g->rflags = 0x2 | (rnd() & 0x8d5) | (fm->kind == K_STR && rn(3) == 0 ? 0x400 : 0);
    if (m->bytes == 8) {
        g->fs_base = m->paging ? 0x1000 + (rnd() & 0x3000) : 0x100000 + (rnd() & 0xff000);
        g->gs_base = m->paging ? 0x5000 - (rnd() & 0x3000) : 0x180000 - (rnd() & 0x7f000);
    }
    for (unsigned i = 0; i < 4096; i++) {
        dev[i] = (uint8_t)rnd();
        ram[i] = (uint8_t)rnd();
    }

    /* sizes */
    unsigned p66 = !fm->fixsize && !fm->byte && rn(3) == 0;
    unsigned p67 = rn(4) == 0;
    if (m->bytes == 8 && !fm->fixsize && !fm->byte && rn(2) == 0)
        w = 1;
    if (fm->special == SP_CX8 && fm->memsz == 16)
        w = 1;
    if (fm->mode64 && fm->special == SP_XMM)
        w = 1;
    if (fm->mode64 && fm->special != SP_XMM)
        w = (int)rn(2); /* MOVSXD with and without REX.W */
    if ((fm->special == SP_PUSH || fm->special == SP_POP) && m->bytes == 8)
        w = 0;
    if (strncmp(fm->name, "movnti", 6) == 0 || strncmp(fm->name, "movsxd", 6) == 0)
        p66 = 0; /* MOVSXD r16: Unicorn reads 4 bytes, Intel's manual says 2 (left to the host-CPU test) */
    unsigned def = m->bytes == 8 ? 4 : m->bytes;
    g->opsize = fm->byte ? 1 : w ? 8 : p66 ? (def == 2 ? 4 : 2) : def;
    if ((fm->special == SP_PUSH || fm->special == SP_POP) && m->bytes == 8)
        g->opsize = p66 ? 2 : 8;
    g->addrsize = m->bytes == 8 ? (p67 ? 4 : 8) : p67 ? 6 - m->bytes : m->bytes;
    g->memsize = fm->memsz ? fm->memsz : g->opsize;
    if (strncmp(fm->name, "movsxd", 6) == 0)
        g->memsize = g->opsize == 8 ? 4 : g->opsize;
    if (fm->special == SP_CX8)
        g->memsize = w ? 16 : 8;
    if (strncmp(fm->name, "movnti", 6) == 0)
        g->memsize = w ? 8 : 4;
    g->undef = fm->undef;

    /* prefixes */
    if (rn(3) == 0 && fm->kind != K_STR)
        seg_ovr = m->bytes == 8 ? 3 + rn(3) : rn(4) == 0 ? 0 : rn(6) == 1 ? 1 : rn(4); /* avoid CS in 16-bit targets */
    if (fm->kind == K_STR && rn(3) == 0)
        seg_ovr = m->bytes == 8 ? 4 + rn(2) : 3;
    if (m->bytes == 2 && seg_ovr < 4 && seg_ovr != 6 && seg_ovr == 1)
        seg_ovr = 3;
    if (m->bytes != 8 && seg_ovr >= 4 && seg_ovr != 6)
        seg_ovr = 3;
    if (seg_ovr != 6) c[n++] = seg_prefix[seg_ovr];
    if (p66) c[n++] = 0x66;
    if (p67) c[n++] = 0x67;
    if (fm->lock && rn(3) == 0) c[n++] = 0xf0;
    if (fm->kind == K_STR && rn(2) == 0) {
        g->rep = (fm->op[0] & 0xf6) == 0xa6 && rn(2) ? 0xf2 : 0xf3;
        c[n++] = (uint8_t)g->rep;
    }
    if (fm->mpfx) c[n++] = fm->mpfx;

    /* memory target: inside the device page, aligned when required */
    unsigned span = g->memsize;
    uint64_t lin;
    if (fm->align)
        lin = m->device + ((rnd() % (4096 / span)) * span);
    else
        lin = m->device + rn(4096 - span + 1);
    if (g->memsize >= 4 && rn(2))
        lin &= ~(uint64_t)(g->memsize > 8 ? 7 : g->memsize - 1);

    reg = rn(m->bytes == 8 ? 16 : 8);
    if (fm->digit >= 0)
        reg = (unsigned)fm->digit;
    uint32_t avoid = 0;
    switch (fm->special) {
    case SP_DIV: case SP_MUL: avoid = 0x5; break;   /* RAX RDX */
    case SP_CMPXCHG: avoid = 0x1; break;
    case SP_CX8: avoid = 0xf; break;
    case SP_PUSH: case SP_POP: avoid = 0x10; break; /* RSP is the stack */
    case SP_BTREG: avoid = 1u << reg; break;
    case SP_SHIFT: case SP_SHXD_CL: avoid = 0x2; break;
    case SP_SHXD: avoid = 1u << 31; break; /* Unicorn forgets the imm8 in RIP-relative SHLD/SHRD */
    default: break;
    }
    if (fm->special == SP_BTREG && g->opsize == 1)
        return 0;
    if (fm->special == SP_BTREG) {
        /* bit offset register: keep the displaced access inside the device page */
        int64_t bitoff = (int64_t)rn(1024) - 512;
        lin = m->device + 0x800 + (rnd() & 0x3f);
        uint64_t v = (uint64_t)bitoff;
        if (reg >= 8 && m->bytes != 8) reg &= 7;
        g->gpr[reg] = (v & mask_of(g->opsize)) | (rand_reg(m) & ~mask_of(g->opsize));
        if (m->bytes != 8) g->gpr[reg] &= 0xffffffffu;
    }

    if (fm->kind == K_STR) {
        /* device on the source or destination side (both for CMPS sometimes) */
        unsigned has_src = fm->op[0] != 0xaa && fm->op[0] != 0xab && fm->op[0] != 0xae && fm->op[0] != 0xaf;
        unsigned has_dst = fm->op[0] != 0xac && fm->op[0] != 0xad;
        unsigned dev_src = has_src && (!has_dst || rn(2));
        uint64_t other = m->ram + 0x100 + rn(0xe00);
        uint64_t src = dev_src ? lin : other, dst = dev_src ? other : lin;
        unsigned sseg = seg_ovr != 6 ? seg_ovr : 3;
        g->gpr[6] = with_garbage(m, g->addrsize, src - seg_base_of(m, g, sseg));
        g->gpr[7] = with_garbage(m, g->addrsize, dst - seg_base_of(m, g, 0));
        if (g->rep)
            g->gpr[1] = with_garbage(m, g->addrsize, 1 + rn(4));
        if (rn(2))
            g->gpr[0] = (g->gpr[0] & ~mask_of(g->memsize)) | (vf_le_load_test(dev + (lin - m->device), g->memsize));
        if (m->bytes == 8 && w)
            c[n++] = 0x48;
        c[n++] = fm->op[0];
        g->len = n;
        return 1;
    }

    if (m->bytes == 8) {
        if (w) rex |= 8;
        if (reg >= 8) rex |= 4;
    }
    unsigned rex_pos = n;
    if (m->bytes == 8) n++; /* reserve; dropped if unused */
    for (unsigned i = 0; i < fm->oplen; i++) c[n++] = fm->op[i];

    unsigned disp_pos = 0, disp_kind = 0, seg_used = 3;
    if (fm->kind == K_MOFFS) {
        unsigned seg = seg_ovr != 6 ? seg_ovr : 3;
        uint64_t off = (lin - seg_base_of(m, g, seg)) & mask_of(g->addrsize);
        for (unsigned k = 0; k < g->addrsize; k++) c[n++] = (uint8_t)(off >> (8 * k));
    } else {
        unsigned k = gen_modrm(m, g, c + n, reg, lin, seg_ovr, avoid, &rex, &seg_used, &disp_pos, &disp_kind);
        disp_pos += n;
        n += k;
    }
    /* immediate */
    unsigned imm = fm->imm == 'z' ? (g->opsize == 2 ? 2 : g->opsize == 1 ? 1 : 4) : fm->imm;
    for (unsigned k = 0; k < imm; k++) c[n++] = (uint8_t)rnd();
    if (fm->special == SP_SHXD && g->opsize == 2)
        c[n - 1] &= 0x0f; /* counts above 16 are undefined for 16-bit SHLD/SHRD */
    if (m->bytes == 8) {
        if (rex || (fm->byte && rn(2)) || rn(4) == 0) {
            c[rex_pos] = (uint8_t)(0x40 | rex);
        } else {
            memmove(c + rex_pos, c + rex_pos + 1, n - rex_pos - 1);
            n--;
            disp_pos--;
        }
    }
    g->len = n;
    if (disp_kind == 1) {
        uint64_t next = m->code + n, target = lin - seg_base_of(m, g, seg_used);
        int64_t d = (int64_t)(target - next);
        if (g->addrsize == 4)
            d = (int64_t)(int32_t)(uint32_t)(target - next);
        for (unsigned k = 0; k < 4; k++) c[disp_pos + k] = (uint8_t)((uint64_t)d >> (8 * k));
    }

    /* operation-specific register setup */
    switch (fm->special) {
    case SP_DIV:
        if (rn(4)) { /* keep the quotient in range most of the time */
            g->gpr[2] = g->opsize == 1 ? g->gpr[2] : g->gpr[2] & ~mask_of(g->opsize);
            if (g->opsize == 1)
                g->gpr[0] &= ~0xff00ull;
            if (fm->digit == 7 && rn(2)) { /* negative dividend */
                if (g->opsize == 1) g->gpr[0] |= 0xff80;
                else { g->gpr[2] |= mask_of(g->opsize); g->gpr[0] |= 1ull << (g->opsize * 8 - 1); }
            } else if (fm->digit == 7) {
                g->gpr[0] &= ~(1ull << (g->opsize * 8 - 1));
            }
        }
        break;
    case SP_CMPXCHG:
        if (rn(2))
            g->gpr[0] = (g->gpr[0] & ~mask_of(g->opsize)) | vf_le_load_test(dev + (lin - m->device), g->opsize);
        break;
    case SP_CX8: {
        unsigned half = g->memsize / 2;
        if (rn(2)) {
            g->gpr[0] = (g->gpr[0] & ~mask_of(half)) | vf_le_load_test(dev + (lin - m->device), half);
            g->gpr[2] = (g->gpr[2] & ~mask_of(half)) | vf_le_load_test(dev + (lin - m->device) + half, half);
        }
        break;
    }
    case SP_PUSH: case SP_POP: {
        unsigned ss = m->bytes == 8 ? 8 : m->bytes;
        uint64_t sp = m->ram + 0x800 + (rn(64) * 8) - seg_base_of(m, g, 2);
        g->gpr[4] = m->bytes == 8 ? sp : (g->gpr[4] & ~mask_of(ss)) | (sp & mask_of(ss));
        if (m->bytes != 8) g->gpr[4] &= 0xffffffffu;
        break;
    }
    default:
        break;
    }
    if (m->bytes != 8)
        for (unsigned i = 0; i < 8; i++)
            g->gpr[i] &= 0xffffffffu;
    (void)seg_used;
    return 1;
}

/* ---- comparison ---- */

static unsigned cases_run, cases_de;

static void fail_case(const mode_cfg_t *m, const form_t *fm, const gen_t *g, const char *what,
                      uint64_t want, uint64_t got)
{
    char hex[64] = "";
    for (unsigned i = 0; i < g->len; i++)
        snprintf(hex + 2 * i, 3, "%02x", g->code[i]);
    print_error("%s %s [%s]: %s: unicorn 0x%llx, vcpufault 0x%llx\n", m->name, fm->name, hex, what,
                (unsigned long long)want, (unsigned long long)got);
}

/* One case: 0 on agreement. */
static int run_case(machine_t *hooked, machine_t *plain, const mode_cfg_t *m, const form_t *fm)
{
    static gen_t g;
    static uint8_t dev[4096], ram[4096];
    static state_t uh, un;
    static x86_env_t env;
    int ok;
    do {
        ok = generate(m, fm, &g, dev, ram);
    } while (ok && g.len > 15);
    if (!ok)
        return -1;
    uc_err e1 = machine_run(hooked, m, &g, dev, ram, &uh);
    uc_err e2 = machine_run(plain, m, &g, dev, ram, &un);
    if (e1 != UC_ERR_OK || e2 != UC_ERR_OK) {
        fail_case(m, fm, &g, "unicorn failed to run the case", (uint64_t)e1, (uint64_t)e2);
        return 1;
    }
    uc_run_t *ur = &hooked->run;
    if (ur->n == 0 && ur->intno < 0) {
        fail_case(m, fm, &g, "generated case made no device access", 0, 0);
        return 1;
    }

    /* The library's side */
    vf_x86_regs_t r;
    memset(&r, 0, sizeof(r));
    memcpy(r.gpr, g.gpr, sizeof(r.gpr));
    r.rflags = g.rflags;
    r.rip = m->code;
    if (m->bytes == 2) {
        r.cs_base = (uint64_t)m->cs << 4;
        r.ds_base = (uint64_t)m->ds << 4;
        r.es_base = (uint64_t)m->es << 4;
        r.ss_base = (uint64_t)m->ss << 4;
    } else if (m->bytes == 4) {
        r.cr0 = 0x11;
        r.cs_d = 1;
    }
    if (m->paging != PG_NONE) {
        static uint8_t pt[0x10000];
        build_tables(m, pt, &r.cr0, &r.cr3, &r.cr4, &r.efer);
    }
    if (m->bytes == 8 && m->paging == PG_NONE) {
        r.cr0 = 0x80000011;
        r.cr4 = 0x20;
        r.efer = 0x500;
        r.cs_l = 1;
    }
    if (m->bytes == 8) {
        r.cs_l = 1;
        r.fs_base = g.fs_base;
        r.gs_base = g.gs_base;
    }
    for (unsigned i = 0; i < 16; i++) {
        r.ymm[i][0] = g.xmm[i][0];
        r.ymm[i][1] = g.xmm[i][1];
    }
    vf_x86_regs_t before = r;
    x86_env_init(&env, phys(m, m->device));
    uint8_t *cp = x86_env_page(&env, phys(m, m->code));
    memset(cp, 0x90, 4096);
    memcpy(cp + (m->code & 0xfff), g.code, g.len);
    memcpy(x86_env_page(&env, phys(m, m->device)), dev, 4096);
    memcpy(x86_env_page(&env, phys(m, m->ram)), ram, 4096);
    memset(x86_env_page(&env, phys(m, m->code + 0x1000)), 0x90, 4096);
    if (m->paging != PG_NONE) {
        static uint8_t pt[0x10000];
        uint64_t a, b, c2, d2;
        build_tables(m, pt, &a, &b, &c2, &d2);
        for (unsigned i = 0; i < 5; i++)
            memcpy(x86_env_page(&env, PT_BASE + i * 0x1000u), pt + i * 0x1000u, 0x1000);
    }

    vf_x86_exit_t x;
    uint64_t first = ur->n ? ur->acc[0].addr : 0;
    x.gpa = phys(m, first);
    x.gla = first;
    x.qualification = (ur->n && ur->acc[0].write ? VF_X86_QUAL_WRITE : VF_X86_QUAL_READ) |
                      (rn(4) ? VF_X86_QUAL_GLA_VALID : 0);
    if (ur->intno >= 0 && ur->n == 0) {
        /* #DE before any access cannot happen on hardware for a memory divisor: it reads first. */
        fail_case(m, fm, &g, "unicorn exception before an access", (uint64_t)ur->intno, 0);
        return 1;
    }
    vf_fault_t f;
    vf_error_t err = x86_env_run(&env, &f, &r, &x, m->paging == PG_NONE ? VF_HOST_IDENTITY : 0, 8);
    cases_run++;

    /* Unicorn reports #DE by not moving (the count=1 run ends before the exception is delivered). */
    int de = (fm->special == SP_DIV && un.rip == m->code) || hooked->run.intno >= 0 || plain->run.intno >= 0;
    if (de) {
        vf_inject_t inj = vf_fault_injection(&f);
        if (fm->special != SP_DIV || err != VF_ERR_INJECT || inj.code != 0 ||
            memcmp(&r, &before, sizeof(r)) != 0) {
            fail_case(m, fm, &g, "exception: unicorn vector vs library error", (uint64_t)plain->run.intno, err);
            return 1;
        }
        cases_de++;
        return 0;
    }
    if (err != VF_OK) {
        fail_case(m, fm, &g, vf_fault_message(&f), 0, err);
        print_error("  rax 0x%llx rdx 0x%llx mem 0x%llx -> unicorn rax 0x%llx rdx 0x%llx\n",
                    (unsigned long long)g.gpr[0], (unsigned long long)g.gpr[2],
                    (unsigned long long)vf_le_load_test(env.acc[0].data, 8), (unsigned long long)un.gpr[0],
                    (unsigned long long)un.gpr[2]);
        return 1;
    }
    /* accesses */
    unsigned k = 0;
    for (unsigned i = 0; i < env.n_acc; i++) {
        for (unsigned off = 0; off < env.acc[i].size; off += 8, k++) {
            unsigned sz = env.acc[i].size - off < 8 ? env.acc[i].size - off : 8;
            if (k >= ur->n) {
                fail_case(m, fm, &g, "library made more accesses", ur->n, k + 1);
                return 1;
            }
            if (phys(m, ur->acc[k].addr) != env.acc[i].addr + off || (unsigned)ur->acc[k].size != sz ||
                ur->acc[k].write != (env.acc[i].dir == VF_DIR_WRITE)) {
                fail_case(m, fm, &g, "access address/size/direction", ur->acc[k].addr * 256 + (uint64_t)ur->acc[k].size * 2 + (uint64_t)ur->acc[k].write,
                          (env.acc[i].addr + off) * 256 + sz * 2 + (env.acc[i].dir == VF_DIR_WRITE));
                return 1;
            }
            uint64_t v = vf_le_load_test(env.acc[i].data + off, sz);
            if (ur->acc[k].write && (ur->acc[k].value & mask_of(sz)) != v) {
                fail_case(m, fm, &g, "write value", ur->acc[k].value & mask_of(sz), v);
                return 1;
            }
        }
    }
    if (k != ur->n) {
        fail_case(m, fm, &g, "library made fewer accesses", ur->n, k);
        return 1;
    }
    /* registers: Unicorn's known divergences first */
    unsigned nregs = m->bytes == 8 ? 16 : 8;
    uint64_t want_rip = un.rip;
    if (fm->kind == K_STR && g.rep && (r.gpr[1] & mask_of(g.addrsize)) == 0)
        want_rip = m->code + g.len; /* REP's last element moves past (ANCHORS.md) */
    if (want_rip != r.rip) {
        fail_case(m, fm, &g, "rip", want_rip, r.rip);
        return 1;
    }
    for (unsigned i = 0; i < nregs; i++) {
        uint64_t want = un.gpr[i], got = r.gpr[i];
        if ((fm->special == SP_CMPXCHG || fm->special == SP_CX8) && (r.rflags & 0x40) && (i == 0 || i == 2)) {
            /* Unicorn rewrites rAX/rDX on success; hardware leaves them (ANCHORS.md) */
            want = g.gpr[i];
        }
        if (want != got) {
            char what[32];
            snprintf(what, sizeof(what), "gpr %u", i);
            fail_case(m, fm, &g, what, want, got);
            return 1;
        }
    }
    uint64_t fmask = 0x8d5u & ~(uint64_t)g.undef;
    if (fm->special == SP_SHIFT || fm->special == SP_SHXD || fm->special == SP_SHXD_CL) {
        /* CF of SHL/SHR/SAR is undefined once the count reaches the operand width */
        unsigned cnt = fm->imm ? g.code[g.len - 1] : fm->op[0] >= 0xd2 && fm->op[0] <= 0xd3 ? (unsigned)g.gpr[1] : 1;
        if (fm->special == SP_SHXD_CL) cnt = (unsigned)g.gpr[1];
        cnt &= g.opsize == 8 ? 0x3f : 0x1f;
        if (cnt >= g.opsize * 8u) fmask &= ~1ull;
        if (cnt == 1) fmask |= 0x800u & ~(uint64_t)(fm->special == SP_SHIFT ? 0 : 0x800);
        if (fm->special != SP_SHIFT && g.opsize == 2 && cnt > 16) fmask = 0;
    }
    if ((un.rflags & fmask) != (r.rflags & fmask) || (un.rflags & ~0x8d5ull & 0xfff) != (r.rflags & ~0x8d5ull & 0xfff)) {
        fail_case(m, fm, &g, "rflags", un.rflags, r.rflags);
        return 1;
    }
    for (unsigned i = 0; i < nregs; i++) {
        if (un.xmm[i][0] != r.ymm[i][0] || un.xmm[i][1] != r.ymm[i][1]) {
            fail_case(m, fm, &g, "xmm (low quadword)", un.xmm[i][0], r.ymm[i][0]);
            return 1;
        }
    }
    if (memcmp(un.dev, x86_env_at(&env, phys(m, m->device), 4096), 4096) != 0) {
        fail_case(m, fm, &g, "device memory", 0, 0);
        return 1;
    }
    if (memcmp(un.ram, x86_env_at(&env, phys(m, m->ram), 4096), 4096) != 0) {
        fail_case(m, fm, &g, "RAM", 0, 0);
        return 1;
    }
    return 0;
}

static void run_mode(const mode_cfg_t *m)
{
    /* Paged modes exercise the walks; fewer cases each keep the suite quick. */
    unsigned per_form = m->paging != PG_NONE ? CASES_PER_FORM / 4 : CASES_PER_FORM;
    machine_t hooked, plain;
    memset(&hooked, 0, sizeof(hooked));
    memset(&plain, 0, sizeof(plain));
    machine_open(&hooked, m, 1);
    machine_open(&plain, m, 0);
    unsigned bad = 0, ran = 0;
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        unsigned form_bad = 0;
        for (unsigned c = 0; c < per_form && form_bad < 3; c++) {
            int rc = run_case(&hooked, &plain, m, &forms[i]);
            if (rc < 0)
                break;
            ran++;
            form_bad += rc != 0;
        }
        bad += form_bad;
    }
    uc_close(hooked.uc);
    uc_close(plain.uc);
    print_message("%s: %u cases, %u disagreements\n", m->name, ran, bad);
    assert_int_equal(bad, 0);
    assert_true(ran > 1000);
}

static void test_real16(void **state) { (void)state; run_mode(&modes[0]); }
static void test_prot32(void **state) { (void)state; run_mode(&modes[1]); }
static void test_long64(void **state) { (void)state; run_mode(&modes[2]); }
static void test_paged_2level(void **state) { (void)state; run_mode(&modes[3]); }
static void test_paged_pse(void **state) { (void)state; run_mode(&modes[4]); }
static void test_paged_pae(void **state) { (void)state; run_mode(&modes[5]); }
static void test_paged_4level(void **state) { (void)state; run_mode(&modes[6]); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long64),
        cmocka_unit_test(test_prot32),
        cmocka_unit_test(test_real16),
        cmocka_unit_test(test_paged_2level),
        cmocka_unit_test(test_paged_pse),
        cmocka_unit_test(test_paged_pae),
        cmocka_unit_test(test_paged_4level),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    print_message("unicorn differential: %u cases compared (%u #DE)\n", cases_run, cases_de);
    return rc;
}
