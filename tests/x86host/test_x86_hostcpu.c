/*
 * x86-64 instructions against the host CPU.
 *
 * Every case is one generated instruction with a memory operand. It runs
 * twice from the same machine-code buffer with the same registers: natively
 * with its data page as ordinary RAM, and again with the page trapped by the
 * Linux trap host, whose device model is a RAM buffer holding the same bytes.
 * The CPU is the oracle: every GPR, RFLAGS (minus the bits the manual leaves
 * undefined for that instruction, listed per generator), XMM/YMM0-15, the
 * device bytes and the RAM bytes must come out the same.
 *
 * The encoder is ours (no assembler at run time). A class is run only when
 * the decoder implements it: its first case is captured through
 * vf_x86_capture() on a RAM host; VF_ERR_UNSUPPORTED there disables the class,
 * which is reported as skipped (never as passed). Inside an enabled class
 * every case must pass.
 */
#define _GNU_SOURCE
#if defined(__x86_64__) && defined(__linux__)
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <asm/prctl.h>

#include <cmocka.h>

#include <cpuid.h>
#include <vcpufault/trap_linux.h>
#include <vcpufault/x86.h>

#define DEV_SIZE 8192u   /* trapped device region: two pages */
#define RAM_SIZE 8192u   /* the RAM side of string instructions and the PUSH/POP stack */
#define EDGE 160u        /* operands stay this far from the ends */

/* ---------------------------------------------------------- CPU state */

typedef struct cpu_state {
    uint64_t gpr[16];
    uint64_t rflags;
    uint64_t pad;
    uint8_t ymm[16][32];
} cpu_state_t;

typedef struct harness_mem {
    cpu_state_t in, out;
    uint64_t host_rsp;
} harness_mem_t;

static harness_mem_t *hm;      /* RW page the stub loads from and stores to */
static uint8_t *code;          /* RWX buffer: prologue, instruction, epilogue */
static uint8_t *dev;           /* the trapped region */
static uint8_t *ram;           /* RAM for string instructions / stack */
static uint8_t backing[DEV_SIZE + 8]; /* the device model's memory (+8: aligned-word reads at the end) */
static size_t insn_at;         /* offset of the instruction in `code` */
static int force_a32;          /* generate with the address-size prefix (67): 32-bit addressing */
static int have_avx;

/* ---------------------------------------------------------- random */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t seed_extra; /* VF_SEED=n explores other cases; the default set is fixed */

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

/* ---------------------------------------------------------- device model: RAM */

static unsigned long dev_accesses; /* device accesses of the trapped runs */

static int corrupt_reads; /* the self-check: a device that returns wrong data */

static void dev_read(void *ctx, uint64_t off, void *data, unsigned size)
{
    (void)ctx;
    dev_accesses++;
    memcpy(data, backing + off, size);
    if (corrupt_reads)
        ((uint8_t *)data)[size - 1] ^= 0x10;
}

static void dev_write(void *ctx, uint64_t off, const void *data, unsigned size)
{
    (void)ctx;
    dev_accesses++;
    memcpy(backing + off, data, size);
}

/*
 * The same RAM device written as libsel4vm device code is: pieces of at most
 * 8 bytes, the aligned 32-bit word (or the 8-byte access itself) and its mask.
 */
static int dev_sel4(vm_vcpu_t *vcpu, uintptr_t paddr, size_t len, void *ctx)
{
    (void)ctx;
    dev_accesses++;
    uint64_t off = paddr - (uintptr_t)dev, at = len >= 8 ? off : off & ~3ull, old;
    memcpy(&old, backing + at, 8);
    if (is_vcpu_read_fault(vcpu)) {
        set_vcpu_fault_data(vcpu, old);
    } else {
        uint64_t now = emulate_vcpu_fault(vcpu, old);
        memcpy(backing + at, &now, 8);
    }
    advance_vcpu_fault(vcpu);
    return 0;
}

static sigjmp_buf trap_env;
static int trap_armed;
static char trap_message[400];

static vf_trap_error_info_t trap_info; /* the last refusal */

static void dev_error(void *ctx, const vf_trap_error_info_t *info)
{
    (void)ctx;
    trap_info = *info;
    snprintf(trap_message, sizeof(trap_message), "%s", info->message);
    if (trap_armed)
        siglongjmp(trap_env, 1);
}

/* ---------------------------------------------------------- stub emitter */

typedef struct buf {
    uint8_t *p;
    size_t n;
} buf_t;

static void b1(buf_t *b, unsigned v) { b->p[b->n++] = (uint8_t)v; }
static void b4(buf_t *b, uint32_t v) { for (int i = 0; i < 4; i++) b1(b, (v >> (8 * i)) & 0xff); }
static void b8(buf_t *b, uint64_t v) { for (int i = 0; i < 8; i++) b1(b, (unsigned)(v >> (8 * i)) & 0xff); }

/* mov r64, [rax + disp32] / mov [rax + disp32], r64 */
static void mov_rax_rel(buf_t *b, unsigned reg, uint32_t disp, int store)
{
    b1(b, 0x48 | (reg >= 8 ? 4 : 0));
    b1(b, store ? 0x89 : 0x8b);
    b1(b, 0x80 | ((reg & 7) << 3));
    b4(b, disp);
}

/* vmovdqu ymm, [rax + disp32] / store */
static void vmov_rax_rel(buf_t *b, unsigned reg, uint32_t disp, int store)
{
    b1(b, 0xc5);
    b1(b, (reg >= 8 ? 0x00 : 0x80) | 0x7e); /* R', vvvv=1111, L=1, pp=F3 */
    b1(b, store ? 0x7f : 0x6f);
    b1(b, 0x80 | ((reg & 7) << 3));
    b4(b, disp);
}

static void movdqu_rax_rel(buf_t *b, unsigned reg, uint32_t disp, int store)
{
    b1(b, 0xf3);
    if (reg >= 8)
        b1(b, 0x44);
    b1(b, 0x0f);
    b1(b, store ? 0x7f : 0x6f);
    b1(b, 0x80 | ((reg & 7) << 3));
    b4(b, disp);
}

static void prologue(buf_t *b)
{
    b1(b, 0x53); b1(b, 0x55);                       /* push rbx, rbp */
    b1(b, 0x41); b1(b, 0x54); b1(b, 0x41); b1(b, 0x55); /* push r12, r13 */
    b1(b, 0x41); b1(b, 0x56); b1(b, 0x41); b1(b, 0x57); /* push r14, r15 */
    b1(b, 0x48); b1(b, 0xb8); b8(b, (uint64_t)(uintptr_t)&hm->host_rsp); /* movabs rax, &host_rsp */
    b1(b, 0x48); b1(b, 0x89); b1(b, 0x20);          /* mov [rax], rsp */
    b1(b, 0x48); b1(b, 0xb8); b8(b, (uint64_t)(uintptr_t)&hm->in);
    b1(b, 0x48); b1(b, 0x8d); b1(b, 0xa0); b4(b, offsetof(cpu_state_t, rflags)); /* lea rsp, [rax+rflags] */
    b1(b, 0x9d);                                    /* popfq */
    for (unsigned i = 0; i < 16; i++) {
        uint32_t d = (uint32_t)(offsetof(cpu_state_t, ymm) + 32 * i);
        if (have_avx)
            vmov_rax_rel(b, i, d, 0);
        else
            movdqu_rax_rel(b, i, d, 0);
    }
    for (unsigned i = 1; i < 16; i++)
        mov_rax_rel(b, i, 8 * i, 0);
    b1(b, 0x48); b1(b, 0x8b); b1(b, 0x00);          /* mov rax, [rax] */
}

static void epilogue(buf_t *b)
{
    b1(b, 0x48); b1(b, 0xa3); b8(b, (uint64_t)(uintptr_t)&hm->out.gpr[0]); /* mov [abs], rax */
    b1(b, 0x48); b1(b, 0xb8); b8(b, (uint64_t)(uintptr_t)&hm->out);
    for (unsigned i = 1; i < 16; i++)
        mov_rax_rel(b, i, 8 * i, 1);
    b1(b, 0x48); b1(b, 0x8d); b1(b, 0xa0); b4(b, offsetof(cpu_state_t, rflags) + 8);
    b1(b, 0x9c);                                    /* pushfq */
    for (unsigned i = 0; i < 16; i++) {
        uint32_t d = (uint32_t)(offsetof(cpu_state_t, ymm) + 32 * i);
        if (have_avx)
            vmov_rax_rel(b, i, d, 1);
        else
            movdqu_rax_rel(b, i, d, 1);
    }
    b1(b, 0x48); b1(b, 0xb8); b8(b, (uint64_t)(uintptr_t)&hm->host_rsp);
    b1(b, 0x48); b1(b, 0x8b); b1(b, 0x20);          /* mov rsp, [rax] */
    b1(b, 0xfc);                                    /* cld */
    if (have_avx) {
        b1(b, 0xc5); b1(b, 0xf8); b1(b, 0x77);      /* vzeroupper */
    }
    b1(b, 0x41); b1(b, 0x5f); b1(b, 0x41); b1(b, 0x5e);
    b1(b, 0x41); b1(b, 0x5d); b1(b, 0x41); b1(b, 0x5c);
    b1(b, 0x5d); b1(b, 0x5b); b1(b, 0xc3);
}

/* ---------------------------------------------------------- cases */

#define F_CF 0x001u
#define F_PF 0x004u
#define F_AF 0x010u
#define F_ZF 0x040u
#define F_SF 0x080u
#define F_DF 0x400u
#define F_OF 0x800u
#define F_STATUS (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

typedef struct gcase {
    uint8_t insn[16];
    unsigned len;
    cpu_state_t in;
    uint8_t mem[DEV_SIZE];
    uint8_t ram[RAM_SIZE];
    uint64_t undef;      /* RFLAGS bits the manual leaves undefined here */
    uint32_t dest_undef; /* GPRs whose value is undefined (BSF/BSR of 0) */
    uint64_t gs_base;    /* GS base while the case runs (0 = leave it) */
} gcase_t;

/* Addressing modes of a ModRM memory operand (64-bit addressing). */
enum { AM_BASE, AM_BASE_D8, AM_BASE_D32, AM_SIB_D8, AM_SIB_D32, AM_SIB_NOBASE, AM_RIP, AM_COUNT };

typedef struct amode {
    int mode, base, index, scale;
    int32_t disp;
    uint64_t target;
} amode_t;

/*
 * An offset in a region of DEV_SIZE bytes, at least EDGE from both ends and
 * from the page boundary in the middle: the decoder refuses a device access
 * that straddles two pages (their guest-physical addresses need not be
 * contiguous), so the differential cases keep every access inside one page.
 */
static uint64_t rand_offset(void)
{
    uint64_t off;
    do
        off = EDGE + rn(DEV_SIZE - 2 * EDGE);
    while (off > 4096 - EDGE && off < 4096 + EDGE);
    return off;
}

/* Addresses in the device region, aligned to `align`. */
static uint64_t dev_target(unsigned align)
{
    uint64_t off = rand_offset() & ~(uint64_t)(align - 1);
    return (uint64_t)(uintptr_t)dev + off;
}

static unsigned pick_reg(uint32_t excl)
{
    for (;;) {
        unsigned r = rn(16);
        if (!(excl & (1u << r)))
            return r;
    }
}

static void pick_amode(amode_t *am, uint64_t target, uint32_t excl)
{
    am->target = target;
    int64_t rel = (int64_t)(target - (uint64_t)(uintptr_t)code);
    for (;;) {
        am->mode = (int)rn(AM_COUNT);
        if (am->mode == AM_RIP && (rel > 0x40000000 || rel < -0x40000000))
            continue;
        break;
    }
    am->base = (int)pick_reg(excl);
    am->index = (int)pick_reg(excl | (1u << 4) | (1u << am->base));
    am->scale = 1 << rn(4);
    switch (am->mode) {
    case AM_BASE_D8: case AM_SIB_D8: am->disp = (int8_t)rn(256); break;
    case AM_BASE_D32: case AM_SIB_D32: case AM_RIP: am->disp = (int32_t)(rnd() % 200000) - 100000; break;
    case AM_SIB_NOBASE: am->disp = 0; break;
    default: am->disp = 0;
    }
    if (am->mode == AM_BASE && (am->base & 7) == 5) {
        am->mode = AM_BASE_D8; /* [rbp]/[r13] has no mod=00 form */
    }
}

static void emit_modrm(gcase_t *c, buf_t *b, unsigned reg, amode_t *am, size_t *disp_at)
{
    unsigned r = (reg & 7) << 3;
    *disp_at = 0;
    switch (am->mode) {
    case AM_BASE:
    case AM_BASE_D8:
    case AM_BASE_D32: {
        unsigned mod = am->mode == AM_BASE ? 0 : am->mode == AM_BASE_D8 ? 1 : 2;
        if ((am->base & 7) == 4) {
            b1(b, (mod << 6) | r | 4);
            b1(b, 0x24); /* no index, base rsp/r12 */
        } else {
            b1(b, (mod << 6) | r | (unsigned)(am->base & 7));
        }
        if (mod == 1) b1(b, (uint8_t)am->disp);
        if (mod == 2) b4(b, (uint32_t)am->disp);
        c->in.gpr[am->base] = am->target - (uint64_t)(int64_t)am->disp;
        break;
    }
    case AM_SIB_D8:
    case AM_SIB_D32: {
        unsigned ss = am->scale == 1 ? 0 : am->scale == 2 ? 1 : am->scale == 4 ? 2 : 3;
        b1(b, ((am->mode == AM_SIB_D8 ? 1u : 2u) << 6) | r | 4);
        b1(b, (ss << 6) | ((unsigned)(am->index & 7) << 3) | (unsigned)(am->base & 7));
        if (am->mode == AM_SIB_D8) b1(b, (uint8_t)am->disp); else b4(b, (uint32_t)am->disp);
        uint64_t idx = (uint64_t)(int64_t)((int)rn(512) - 128);
        c->in.gpr[am->index] = idx;
        c->in.gpr[am->base] = am->target - (uint64_t)(int64_t)am->disp - idx * (uint64_t)am->scale;
        break;
    }
    case AM_SIB_NOBASE: {
        /* [index*scale + disp32]: the index carries the address. */
        unsigned ss = am->scale == 1 ? 0 : am->scale == 2 ? 1 : am->scale == 4 ? 2 : 3;
        int32_t disp = (int32_t)(am->target % (uint64_t)am->scale) + am->scale * (int32_t)rn(64);
        am->disp = disp;
        b1(b, r | 4);
        b1(b, (ss << 6) | ((unsigned)(am->index & 7) << 3) | 5);
        b4(b, (uint32_t)disp);
        c->in.gpr[am->index] = (am->target - (uint64_t)(int64_t)disp) / (uint64_t)am->scale;
        break;
    }
    case AM_RIP:
        b1(b, r | 5);
        *disp_at = b->n;
        b4(b, 0);
        break;
    }
}

/* With 32-bit addressing only the low halves of base and index count: make the high halves noise. */
static void a32_garble(gcase_t *c, const amode_t *am)
{
    if (!force_a32)
        return;
    uint64_t hi = rnd() << 32;
    if (am->mode == AM_SIB_D8 || am->mode == AM_SIB_D32 || am->mode == AM_SIB_NOBASE)
        c->in.gpr[am->index] = (c->in.gpr[am->index] & 0xffffffffull) | (rnd() << 32);
    if (am->mode != AM_RIP && am->mode != AM_SIB_NOBASE)
        c->in.gpr[am->base] = (c->in.gpr[am->base] & 0xffffffffull) | hi;
}

/* Prefixes, REX, opcode, ModRM memory operand, immediate; fixes up RIP-relative displacements. */
typedef struct insn_spec {
    uint8_t pfx[8];
    unsigned npfx;
    unsigned w;        /* REX.W */
    int force_rex;     /* emit REX even if empty (SPL..DIL) */
    unsigned reg;      /* ModRM.reg, 0..15 */
    uint8_t op[3];
    unsigned nop;
    uint64_t imm;
    unsigned immlen;
} insn_spec_t;

static void emit_insn(gcase_t *c, const insn_spec_t *s, amode_t *am)
{
    buf_t b = {c->insn, 0};
    /* Null segment overrides now and then: 64-bit mode ignores CS/DS/ES/SS. */
    if (rn(8) == 0)
        b1(&b, (const uint8_t[]){0x2e, 0x3e, 0x26, 0x36}[rn(4)]);
    if (force_a32)
        b1(&b, 0x67);
    for (unsigned i = 0; i < s->npfx; i++)
        b1(&b, s->pfx[i]);
    unsigned rex = (s->w ? 8u : 0u) | (s->reg >= 8 ? 4u : 0u);
    if (am->mode == AM_SIB_D8 || am->mode == AM_SIB_D32 || am->mode == AM_SIB_NOBASE)
        rex |= am->index >= 8 ? 2u : 0u;
    if (am->mode != AM_RIP && am->mode != AM_SIB_NOBASE)
        rex |= am->base >= 8 ? 1u : 0u;
    if (rex != 0 || s->force_rex)
        b1(&b, 0x40 | rex);
    for (unsigned i = 0; i < s->nop; i++)
        b1(&b, s->op[i]);
    size_t disp_at;
    emit_modrm(c, &b, s->reg, am, &disp_at);
    a32_garble(c, am);
    for (unsigned i = 0; i < s->immlen; i++)
        b1(&b, (unsigned)(s->imm >> (8 * i)) & 0xff);
    c->len = (unsigned)b.n;
    if (am->mode == AM_RIP) {
        uint64_t next = (uint64_t)(uintptr_t)(code + insn_at + b.n);
        uint32_t d = (uint32_t)(int32_t)(int64_t)(am->target - next);
        memcpy(c->insn + disp_at, &d, 4);
    }
}

/* Operand-size prefix / REX.W for a size of 2, 4 or 8. */
static void size_prefix(insn_spec_t *s, unsigned size)
{
    /* 66 together with REX.W: REX.W wins, the operand is 64-bit. */
    if (size == 2 || (size == 8 && rn(8) == 0))
        s->pfx[s->npfx++] = 0x66;
    if (size == 8)
        s->w = 1;
}

static unsigned rand_size(void) { return 1u << rn(4); }
static unsigned rand_size_nobyte(void) { return 2u << rn(3); }

/* A register-memory instruction on a random device address. */
static void rm_insn(gcase_t *c, insn_spec_t *s, unsigned align, uint32_t excl)
{
    amode_t am;
    pick_amode(&am, dev_target(align), excl);
    if (s->nop > 0 && rn(4) == 0 && s->reg < 8 && !s->w)
        s->force_rex = 1;
    emit_insn(c, s, &am);
}

static void set_op(insn_spec_t *s, const uint8_t *op, unsigned n)
{
    memcpy(s->op, op, n);
    s->nop = n;
}

/* ---------------------------------------------------------- generators */

static void gen_mov_load(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size();
    size_prefix(&s, size);
    set_op(&s, (const uint8_t[]){size == 1 ? 0x8a : 0x8b}, 1);
    s.reg = rn(16);
    rm_insn(c, &s, 1, 0);
}

static void gen_mov_store(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size();
    size_prefix(&s, size);
    set_op(&s, (const uint8_t[]){size == 1 ? 0x88 : 0x89}, 1);
    s.reg = rn(16);
    rm_insn(c, &s, 1, 0);
}

static void gen_mov_imm(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size();
    size_prefix(&s, size);
    set_op(&s, (const uint8_t[]){size == 1 ? 0xc6 : 0xc7}, 1);
    s.imm = rnd();
    s.immlen = size == 1 ? 1 : size == 2 ? 2 : 4;
    rm_insn(c, &s, 1, 0);
}

static void gen_mov_moffs(gcase_t *c)
{
    buf_t b = {c->insn, 0};
    unsigned size = rand_size();
    unsigned store = rn(2);
    if (force_a32) b1(&b, 0x67);
    if (size == 2) b1(&b, 0x66);
    if (size == 8) b1(&b, 0x48);
    b1(&b, (store ? 0xa2 : 0xa0) + (size == 1 ? 0 : 1));
    if (force_a32)
        b4(&b, (uint32_t)dev_target(1)); /* moffs32 */
    else
        b8(&b, dev_target(1));
    c->len = (unsigned)b.n;
}

static void gen_movx(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned k = rn(5);
    if (k == 4) { /* MOVSXD r64, m32 (or, without REX.W, a 32-bit load) */
        s.w = rn(4) != 0;
        set_op(&s, (const uint8_t[]){0x63}, 1);
    } else {
        size_prefix(&s, rand_size_nobyte());
        set_op(&s, (const uint8_t[]){0x0f, (const uint8_t[]){0xb6, 0xb7, 0xbe, 0xbf}[k]}, 2);
    }
    s.reg = rn(16);
    rm_insn(c, &s, 1, 0);
}

static void gen_movbe(gcase_t *c)
{
    insn_spec_t s = {0};
    size_prefix(&s, rand_size_nobyte());
    set_op(&s, (const uint8_t[]){0x0f, 0x38, 0xf0 + rn(2)}, 3);
    s.reg = rn(16);
    rm_insn(c, &s, 1, 0);
}

static const uint64_t logic_undef = F_AF;

static void alu_flags(gcase_t *c, unsigned op)
{
    if (op == 1 || op == 4 || op == 6) /* OR AND XOR */
        c->undef = logic_undef;
}

static void gen_alu_load(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size(), op = rn(8);
    size_prefix(&s, size);
    set_op(&s, (const uint8_t[]){(uint8_t)(op * 8 + 2 + (size != 1))}, 1);
    s.reg = rn(16);
    rm_insn(c, &s, 1, 0);
    alu_flags(c, op);
}

static void gen_alu_store(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size(), op = rn(8);
    size_prefix(&s, size);
    set_op(&s, (const uint8_t[]){(uint8_t)(op * 8 + (size != 1))}, 1);
    s.reg = rn(16);
    rm_insn(c, &s, 1, 0);
    alu_flags(c, op);
}

static void gen_alu_imm(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size(), op = rn(8), form = size == 1 ? 0 : 1 + rn(2);
    size_prefix(&s, size);
    set_op(&s, (const uint8_t[]){(const uint8_t[]){0x80, 0x81, 0x83}[form]}, 1);
    s.reg = op;
    s.imm = rnd();
    s.immlen = form != 1 ? 1 : size == 2 ? 2 : 4;
    rm_insn(c, &s, 1, 0);
    alu_flags(c, op);
}

static void gen_test(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size();
    size_prefix(&s, size);
    if (rn(2)) {
        set_op(&s, (const uint8_t[]){size == 1 ? 0x84 : 0x85}, 1);
        s.reg = rn(16);
    } else {
        set_op(&s, (const uint8_t[]){size == 1 ? 0xf6 : 0xf7}, 1);
        s.imm = rnd();
        s.immlen = size == 1 ? 1 : size == 2 ? 2 : 4;
    }
    rm_insn(c, &s, 1, 0);
    c->undef = F_AF;
}

static void gen_not_neg(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size();
    size_prefix(&s, size);
    set_op(&s, (const uint8_t[]){size == 1 ? 0xf6 : 0xf7}, 1);
    s.reg = 2 + rn(2);
    rm_insn(c, &s, 1, 0);
}

static void gen_inc_dec(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size();
    size_prefix(&s, size);
    set_op(&s, (const uint8_t[]){size == 1 ? 0xfe : 0xff}, 1);
    s.reg = rn(2);
    rm_insn(c, &s, 1, 0);
}

static void gen_lock(gcase_t *c)
{
    /* LOCK on every lockable read-modify-write form with a memory destination. */
    insn_spec_t s = {0};
    unsigned size = rand_size(), k = rn(6);
    s.pfx[s.npfx++] = 0xf0;
    size_prefix(&s, size);
    s.reg = rn(16);
    switch (k) {
    case 0: { unsigned op = rn(7); /* not CMP */
        set_op(&s, (const uint8_t[]){(uint8_t)(op * 8 + (size != 1))}, 1); alu_flags(c, op); break; }
    case 1: { unsigned op = rn(7);
        set_op(&s, (const uint8_t[]){size == 1 ? 0x80 : 0x83}, 1); s.reg = op; s.imm = rnd(); s.immlen = 1;
        alu_flags(c, op); break; }
    case 2: set_op(&s, (const uint8_t[]){size == 1 ? 0xf6 : 0xf7}, 1); s.reg = 2 + rn(2); break;
    case 3: set_op(&s, (const uint8_t[]){size == 1 ? 0xfe : 0xff}, 1); s.reg = rn(2); break;
    case 4: set_op(&s, (const uint8_t[]){0x0f, size == 1 ? 0xc0 : 0xc1}, 2); break; /* XADD */
    case 5: set_op(&s, (const uint8_t[]){size == 1 ? 0x86 : 0x87}, 1); break;       /* XCHG */
    }
    rm_insn(c, &s, 1, 0);
}

/* Shifts and rotates: /0 ROL /1 ROR /2 RCL /3 RCR /4 SHL /5 SHR /7 SAR. */
static void shift_undef(gcase_t *c, unsigned op, unsigned size, unsigned count)
{
    unsigned bits = size * 8;
    unsigned masked = count & (size == 8 ? 63u : 31u);
    if (masked == 0)
        return; /* flags unchanged: defined */
    if (op <= 3) { /* rotates touch CF and OF only; OF is defined for a count of 1 */
        if (masked != 1)
            c->undef |= F_OF;
        return;
    }
    c->undef |= F_AF;
    if (masked != 1)
        c->undef |= F_OF;
    if (masked >= bits)
        c->undef |= F_CF | F_OF;
}

static void gen_shift(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size(), form = rn(3), op = (const unsigned[]){0, 1, 2, 3, 4, 5, 7}[rn(7)];
    size_prefix(&s, size);
    unsigned count;
    s.reg = op;
    if (form == 0) {
        set_op(&s, (const uint8_t[]){size == 1 ? 0xd0 : 0xd1}, 1);
        count = 1;
    } else if (form == 1) {
        set_op(&s, (const uint8_t[]){size == 1 ? 0xd2 : 0xd3}, 1);
        count = rn(72);
    } else {
        set_op(&s, (const uint8_t[]){size == 1 ? 0xc0 : 0xc1}, 1);
        count = rn(72);
        s.imm = count;
        s.immlen = 1;
    }
    rm_insn(c, &s, 1, form == 1 ? (1u << 1) : 0);
    if (form == 1)
        c->in.gpr[1] = (c->in.gpr[1] & ~0xffull) | count;
    shift_undef(c, op, size, count);
}

static void gen_shld(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size_nobyte(), cl = rn(2), right = rn(2);
    size_prefix(&s, size);
    set_op(&s, (const uint8_t[]){0x0f, (uint8_t)((right ? 0xac : 0xa4) + cl)}, 2);
    unsigned count = size == 2 ? rn(17) : rn(72);
    if (!cl) {
        s.imm = count;
        s.immlen = 1;
    }
    s.reg = cl ? pick_reg(1u << 1) : rn(16);
    rm_insn(c, &s, 1, (cl ? 1u << 1 : 0) | (1u << s.reg));
    if (cl)
        c->in.gpr[1] = (c->in.gpr[1] & ~0xffull) | count;
    unsigned masked = count & (size == 8 ? 63u : 31u);
    if (masked != 0) {
        c->undef |= F_AF;
        if (masked != 1)
            c->undef |= F_OF;
    }
}

static void gen_muldiv(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size(), k = rn(6);
    size_prefix(&s, size);
    uint32_t excl = (1u << 0) | (1u << 2);
    if (k < 4) { /* F6/F7 /4 MUL /5 IMUL /6 DIV /7 IDIV */
        set_op(&s, (const uint8_t[]){size == 1 ? 0xf6 : 0xf7}, 1);
        s.reg = 4 + k;
    } else {
        if (size == 1) size = 4;
        s.npfx = 0; s.w = 0;
        size_prefix(&s, size);
        s.reg = rn(16);
        if (k == 4) {
            set_op(&s, (const uint8_t[]){0x0f, 0xaf}, 2);
        } else {
            unsigned ib = rn(2);
            set_op(&s, (const uint8_t[]){ib ? 0x6b : 0x69}, 1);
            s.imm = rnd();
            s.immlen = ib ? 1 : size == 2 ? 2 : 4;
        }
        excl = 0;
    }
    amode_t am;
    uint64_t t = dev_target(1);
    pick_amode(&am, t, excl);
    emit_insn(c, &s, &am);
    uint8_t *m = c->mem + (t - (uint64_t)(uintptr_t)dev);
    c->undef = k >= 2 && k <= 3 ? F_STATUS : F_SF | F_ZF | F_AF | F_PF;
    if (k == 2 || k == 3) {
        /* A dividend whose quotient fits: no #DE natively. */
        uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
        uint64_t d = rnd() & mask;
        if (d == 0) d = 1;
        if (k == 3 && d == mask) d = 3;
        for (unsigned i = 0; i < size; i++)
            m[i] = (uint8_t)(d >> (8 * i));
        uint64_t hi;
        if (k == 2) {
            hi = rnd() % d;
        } else {
            unsigned bits = 8 * size;
            uint64_t lo = size == 1 ? (c->in.gpr[0] & 0xff) : (c->in.gpr[0] & mask);
            hi = (lo >> (bits - 1)) & 1 ? mask : 0;
        }
        if (size == 1)
            c->in.gpr[0] = (c->in.gpr[0] & ~0xff00ull) | ((hi & 0xff) << 8);
        else
            c->in.gpr[2] = (c->in.gpr[2] & ~mask) | hi;
    }
}

/*
 * DIV/IDIV with any dividend and divisor, zero included: the CPU decides
 * which raise #DE (SIGFPE natively); the library must inject vector 0 for
 * exactly those and complete the others.
 */
static void gen_divfault(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size(), idiv = rn(2);
    size_prefix(&s, size);
    set_op(&s, (const uint8_t[]){size == 1 ? 0xf6 : 0xf7}, 1);
    s.reg = 6 + idiv;
    amode_t am;
    uint64_t t = dev_target(1);
    pick_amode(&am, t, (1u << 0) | (1u << 2));
    emit_insn(c, &s, &am);
    uint8_t *m = c->mem + (t - (uint64_t)(uintptr_t)dev);
    unsigned k = rn(4);
    uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
    uint64_t d = k == 0 ? 0 : k == 1 ? mask : (rnd() >> rn(64)) & mask; /* 0, -1, anything */
    for (unsigned i = 0; i < size; i++)
        m[i] = (uint8_t)(d >> (8 * i));
    if (rn(2)) { /* small dividends too, so some divisions succeed */
        c->in.gpr[0] = rnd() >> rn(64);
        c->in.gpr[2] = rn(2) ? 0 : ~0ull;
    }
    if (k == 1 && idiv && rn(2)) {
        /* The most negative single-width dividend (sign-extended) by -1: the quotient does not
           fit, #DE; one more than that fits. */
        unsigned bits = 8 * size;
        uint64_t lo = (1ull << (bits - 1)) + rn(2);
        if (size == 1) {
            c->in.gpr[0] = (c->in.gpr[0] & ~0xffffull) | 0xff00u | lo;
        } else {
            c->in.gpr[0] = (c->in.gpr[0] & ~mask) | lo;
            c->in.gpr[2] |= mask;
        }
    }
    c->undef = F_STATUS;
}

static void gen_setcc(gcase_t *c)
{
    insn_spec_t s = {0};
    set_op(&s, (const uint8_t[]){0x0f, (uint8_t)(0x90 + rn(16))}, 2);
    s.reg = 0;
    rm_insn(c, &s, 1, 0);
}

static void gen_cmovcc(gcase_t *c)
{
    insn_spec_t s = {0};
    size_prefix(&s, rand_size_nobyte());
    set_op(&s, (const uint8_t[]){0x0f, (uint8_t)(0x40 + rn(16))}, 2);
    s.reg = rn(16);
    rm_insn(c, &s, 1, 0);
}

static void gen_bt(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size_nobyte(), op = rn(4), imm = rn(2);
    int locked = op != 0 && rn(4) == 0;
    if (locked)
        s.pfx[s.npfx++] = 0xf0;
    size_prefix(&s, size);
    if (imm) {
        set_op(&s, (const uint8_t[]){0x0f, 0xba}, 2);
        s.reg = 4 + op;
        s.imm = rn(256);
        s.immlen = 1;
        rm_insn(c, &s, 1, 0);
    } else {
        /*
         * A register bit offset is signed and moves the access: the CPU touches the
         * operand-size word at EA + (offset >> log2(bits)) * size. Pick that word in the
         * device, near or far from EA (up to the offset register's range).
         */
        set_op(&s, (const uint8_t[]){0x0f, (uint8_t)(0xa3 + 8 * op)}, 2);
        s.reg = rn(16);
        unsigned bits = 8 * size;
        uint64_t a = dev_target(1);
        int64_t k = rn(2) ? (int64_t)rn(64) - 32
                  : size == 2 ? (int64_t)rn(4096) - 2048 : (int64_t)(rnd() % (1u << 24)) - (1 << 23);
        int64_t off = k * (int64_t)bits + (int64_t)rn(bits);
        amode_t am;
        pick_amode(&am, a - (uint64_t)(k * (int64_t)size), 1u << s.reg);
        emit_insn(c, &s, &am);
        uint64_t keep = size == 8 ? ~0ull : (1ull << bits) - 1;
        c->in.gpr[s.reg] = (rnd() & ~keep) | ((uint64_t)off & keep);
    }
    c->undef = F_OF | F_SF | F_AF | F_PF;
}

static void gen_bitscan(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size_nobyte(), k = rn(5);
    static const uint8_t ops[5][2] = {{0, 0xbc}, {0, 0xbd}, {0xf3, 0xb8}, {0xf3, 0xbd}, {0xf3, 0xbc}};
    if (ops[k][0])
        s.pfx[s.npfx++] = ops[k][0];
    size_prefix(&s, size);
    set_op(&s, (const uint8_t[]){0x0f, ops[k][1]}, 2);
    s.reg = rn(16);
    amode_t am;
    uint64_t t = dev_target(1);
    pick_amode(&am, t, 0);
    emit_insn(c, &s, &am);
    uint8_t *m = c->mem + (t - (uint64_t)(uintptr_t)dev);
    if (rn(8) == 0)
        memset(m, 0, size);
    int zero = 1;
    for (unsigned i = 0; i < size; i++)
        zero &= m[i] == 0;
    if (k <= 1) {
        c->undef = F_CF | F_OF | F_SF | F_AF | F_PF;
        if (zero)
            c->dest_undef = 1u << s.reg;
    } else if (k >= 3) {
        c->undef = F_OF | F_SF | F_AF | F_PF;
    }
}

static void gen_xchg(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned size = rand_size(), k = rn(2);
    size_prefix(&s, size);
    if (k == 0)
        set_op(&s, (const uint8_t[]){size == 1 ? 0x86 : 0x87}, 1);
    else
        set_op(&s, (const uint8_t[]){0x0f, size == 1 ? 0xc0 : 0xc1}, 2);
    s.reg = rn(16);
    rm_insn(c, &s, 1, 0);
}

static void gen_cmpxchg(gcase_t *c)
{
    insn_spec_t s = {0};
    unsigned k = rn(4), size = 0, align = 1;
    if (rn(4) == 0)
        s.pfx[s.npfx++] = 0xf0;
    if (k < 2) {
        size = rand_size();
        size_prefix(&s, size);
        set_op(&s, (const uint8_t[]){0x0f, size == 1 ? 0xb0 : 0xb1}, 2);
        s.reg = rn(16);
    } else {
        size = k == 2 ? 8 : 16;
        align = size == 16 ? 16 : 1;
        s.w = size == 16;
        set_op(&s, (const uint8_t[]){0x0f, 0xc7}, 2);
        s.reg = 1;
    }
    amode_t am;
    uint64_t t = dev_target(align);
    uint32_t excl = (1u << 0) | (1u << 2) | (size >= 8 && k >= 2 ? (1u << 1) | (1u << 3) : 0);
    if (k < 2) excl = 1u << 0;
    pick_amode(&am, t, excl);
    emit_insn(c, &s, &am);
    uint8_t *m = c->mem + (t - (uint64_t)(uintptr_t)dev);
    if (rn(2)) { /* make the comparison succeed */
        if (k < 2) {
            uint64_t v = 0;
            memcpy(&v, m, size);
            uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
            c->in.gpr[0] = (c->in.gpr[0] & ~mask) | v;
        } else {
            unsigned h = size / 2;
            uint64_t lo = 0, hi = 0;
            memcpy(&lo, m, h);
            memcpy(&hi, m + h, h);
            uint64_t mask = h == 8 ? ~0ull : 0xffffffffull;
            c->in.gpr[0] = (c->in.gpr[0] & ~mask) | lo;
            c->in.gpr[2] = (c->in.gpr[2] & ~mask) | hi;
        }
    }
}

/*
 * PUSH m / POP m with the stack in RAM. With RSP as the base, PUSH computes
 * the address before RSP moves and POP after it (SDM, POP).
 */
static void gen_pushpop_at(gcase_t *c, int stack_on_device)
{
    insn_spec_t s = {0};
    unsigned pop = rn(2), size = rn(4) == 0 ? 2 : 8;
    if (size == 2)
        s.pfx[s.npfx++] = 0x66;
    set_op(&s, (const uint8_t[]){pop ? 0x8f : 0xff}, 1);
    s.reg = pop ? 0 : 6;
    uint64_t sp = stack_on_device ? dev_target(8) : (uint64_t)(uintptr_t)ram + RAM_SIZE / 2 + 8 * rn(16);
    if (force_a32 || stack_on_device || rn(3) != 0) {
        rm_insn(c, &s, 1, 1u << 4);
    } else {
        /* [rsp + disp] reaching the device from a RAM stack (both below 4 GiB, close). */
        amode_t am = {rn(2) ? AM_BASE_D8 : AM_BASE_D32, 4, 0, 1, 0, 0};
        uint64_t ea = dev_target(1);
        am.disp = (int32_t)(int64_t)(ea - sp - (pop ? size : 0));
        if (am.disp != (int8_t)am.disp)
            am.mode = AM_BASE_D32;
        am.target = ea;
        emit_insn(c, &s, &am);
    }
    c->in.gpr[4] = sp;
}

static void gen_pushpop(gcase_t *c) { gen_pushpop_at(c, 0); }
static void gen_pushpop_devstack(gcase_t *c) { gen_pushpop_at(c, 1); }

/* String instructions: one side or both on the device; REP runs take one trap per element. */
static void gen_string(gcase_t *c)
{
    buf_t b = {c->insn, 0};
    unsigned k = rn(5); /* movs stos lods cmps scas */
    static const uint8_t base_op[5] = {0xa4, 0xaa, 0xac, 0xa6, 0xae};
    unsigned size = rand_size();
    unsigned rep = rn(3); /* none, F3, F2 (F2 only for cmps/scas) */
    if (rep == 2 && k != 3 && k != 4)
        rep = 1;
    if (force_a32) b1(&b, 0x67);
    if (rep == 1) b1(&b, 0xf3);
    if (rep == 2) b1(&b, 0xf2);
    if (size == 2) b1(&b, 0x66);
    if (size == 8) b1(&b, 0x48);
    b1(&b, base_op[k] + (size != 1));
    c->len = (unsigned)b.n;
    int df = (int)rn(2);
    c->in.rflags = (c->in.rflags & ~(uint64_t)F_DF) | (df ? F_DF : 0);
    /* Which side is the device: source (RSI) and destination (RDI). */
    unsigned sides = rn(3); /* 0 both device, 1 source device, 2 destination device */
    int src_dev = k == 2 || sides != 2, dst_dev = k == 1 || k == 4 || sides != 1;
    if (k == 2) dst_dev = 0;
    if (k == 1 || k == 4) src_dev = 0;
    uint64_t so = rand_offset(), dof = rand_offset();
    c->in.gpr[6] = (src_dev ? (uint64_t)(uintptr_t)dev : (uint64_t)(uintptr_t)ram) + so;
    c->in.gpr[7] = (dst_dev ? (uint64_t)(uintptr_t)dev : (uint64_t)(uintptr_t)ram) + dof;
    c->in.gpr[1] = rep ? rn(7) : rnd();
    if (force_a32) /* ESI, EDI and ECX: the high halves must not matter */
        for (unsigned r = 1; r <= 7; r += (r == 1 ? 5 : 1))
            c->in.gpr[r] = (c->in.gpr[r] & 0xffffffffull) | (rnd() << 32);
    /* Small alphabets so REPE/REPNE comparisons stop at varied places. */
    if (k >= 3) {
        for (unsigned i = 0; i < DEV_SIZE; i++) c->mem[i] = (uint8_t)rn(2);
        for (unsigned i = 0; i < RAM_SIZE; i++) c->ram[i] = (uint8_t)rn(2);
        c->in.gpr[0] = (c->in.gpr[0] & ~0xffffffffffffffffull) | (rnd() & 0x0101010101010101ull);
    }
}

/* SSE moves: legacy encodings keep YMM bits 255:128. */
typedef struct vform {
    uint8_t pfx;      /* 0, 0x66, 0xf3, 0xf2 */
    uint8_t map;      /* 1 = 0F, 2 = 0F38 */
    uint8_t op;
    uint8_t w;        /* REX.W / VEX.W */
    uint8_t align;    /* required alignment (legacy/VEX.128) */
    uint8_t vex_l1;   /* the VEX form allows L=1 */
    uint8_t gpr;      /* ModRM.reg is a GPR (MOVNTI) */
} vform_t;

static const vform_t sse_forms[] = {
    {0x66, 1, 0x6e, 0, 1, 0, 0}, {0x66, 1, 0x6e, 1, 1, 0, 0}, /* movd/movq xmm, m */
    {0x66, 1, 0x7e, 0, 1, 0, 0}, {0x66, 1, 0x7e, 1, 1, 0, 0}, /* movd/movq m, xmm */
    {0xf3, 1, 0x7e, 0, 1, 0, 0}, {0x66, 1, 0xd6, 0, 1, 0, 0}, /* movq load, movq store */
    {0x66, 1, 0x6f, 0, 16, 1, 0}, {0x66, 1, 0x7f, 0, 16, 1, 0}, /* movdqa */
    {0xf3, 1, 0x6f, 0, 1, 1, 0}, {0xf3, 1, 0x7f, 0, 1, 1, 0},  /* movdqu */
    {0x00, 1, 0x10, 0, 1, 1, 0}, {0x00, 1, 0x11, 0, 1, 1, 0},  /* movups */
    {0x00, 1, 0x28, 0, 16, 1, 0}, {0x00, 1, 0x29, 0, 16, 1, 0}, /* movaps */
    {0x66, 1, 0x10, 0, 1, 1, 0}, {0x66, 1, 0x11, 0, 1, 1, 0},  /* movupd */
    {0x66, 1, 0x28, 0, 16, 1, 0}, {0x66, 1, 0x29, 0, 16, 1, 0}, /* movapd */
    {0xf3, 1, 0x10, 0, 1, 0, 0}, {0xf3, 1, 0x11, 0, 1, 0, 0},  /* movss */
    {0xf2, 1, 0x10, 0, 1, 0, 0}, {0xf2, 1, 0x11, 0, 1, 0, 0},  /* movsd */
    {0x66, 1, 0xe7, 0, 16, 1, 0}, {0x66, 2, 0x2a, 0, 16, 1, 0}, /* movntdq, movntdqa */
    {0x00, 1, 0xc3, 0, 1, 0, 1}, {0x00, 1, 0xc3, 1, 1, 0, 1},  /* movnti m32/m64 (legacy only) */
};
#define N_SSE_FORMS (sizeof(sse_forms) / sizeof(sse_forms[0]))

static void gen_sse(gcase_t *c)
{
    const vform_t *f = &sse_forms[rn(N_SSE_FORMS)];
    insn_spec_t s = {0};
    if (f->pfx)
        s.pfx[s.npfx++] = f->pfx;
    s.w = f->w;
    if (f->map == 1)
        set_op(&s, (const uint8_t[]){0x0f, f->op}, 2);
    else
        set_op(&s, (const uint8_t[]){0x0f, 0x38, f->op}, 3);
    s.reg = rn(16);
    amode_t am;
    pick_amode(&am, dev_target(f->align), 0);
    emit_insn(c, &s, &am);
}

static void gen_avx(gcase_t *c)
{
    const vform_t *f;
    do
        f = &sse_forms[rn(N_SSE_FORMS)];
    while (f->gpr || (f->map == 2 && !f->vex_l1));
    unsigned l = f->vex_l1 ? rn(2) : 0;
    unsigned reg = rn(16);
    amode_t am;
    pick_amode(&am, dev_target(f->align == 16 ? (l ? 32 : 16) : 1), 0);
    buf_t b = {c->insn, 0};
    if (force_a32)
        b1(&b, 0x67);
    unsigned pp = f->pfx == 0x66 ? 1 : f->pfx == 0xf3 ? 2 : f->pfx == 0xf2 ? 3 : 0;
    unsigned x = (am.mode == AM_SIB_D8 || am.mode == AM_SIB_D32 || am.mode == AM_SIB_NOBASE) && am.index >= 8;
    unsigned bb = am.mode != AM_RIP && am.mode != AM_SIB_NOBASE && am.base >= 8;
    unsigned r = reg >= 8;
    if (f->map == 1 && !x && !bb && !f->w && rn(2)) {
        b1(&b, 0xc5);
        b1(&b, ((r ? 0u : 1u) << 7) | (0xfu << 3) | (l << 2) | pp);
    } else {
        b1(&b, 0xc4);
        b1(&b, ((r ? 0u : 1u) << 7) | ((x ? 0u : 1u) << 6) | ((bb ? 0u : 1u) << 5) | f->map);
        b1(&b, ((unsigned)f->w << 7) | (0xfu << 3) | (l << 2) | pp);
    }
    b1(&b, f->op);
    size_t disp_at;
    emit_modrm(c, &b, reg, &am, &disp_at);
    a32_garble(c, &am);
    c->len = (unsigned)b.n;
    if (am.mode == AM_RIP) {
        uint64_t next = (uint64_t)(uintptr_t)(code + insn_at + b.n);
        uint32_t d = (uint32_t)(int32_t)(int64_t)(am.target - next);
        memcpy(c->insn + disp_at, &d, 4);
    }
}

static void gen_string(gcase_t *c);

/*
 * Legacy prefixes in any order, repeated, with a stray REX among them: a REX
 * counts only right before the opcode, so `48 66 89 07` is a 16-bit store.
 * Forms: MOV load/store, ALU to memory (LOCK now and then), MOVZX.
 */
static void gen_prefixes(gcase_t *c)
{
    insn_spec_t s = {0};
    c->undef = 0;
    unsigned size = 1u << rn(4), k = rn(4);
    uint8_t legacy[8];
    unsigned n = 0;
    if (size == 2)
        for (unsigned i = 0, reps = 1 + rn(3); i < reps; i++)
            legacy[n++] = 0x66;
    if (size == 8 && rn(2))
        legacy[n++] = 0x66; /* REX.W wins over it */
    for (unsigned i = 0, segs = rn(3); i < segs; i++)
        legacy[n++] = (const uint8_t[]){0x2e, 0x3e, 0x26, 0x36}[rn(4)];
    if (k == 2 && rn(3) == 0)
        legacy[n++] = 0xf0;
    for (unsigned i = n; i > 1; i--) { /* shuffle */
        unsigned j = rn(i);
        uint8_t t = legacy[i - 1];
        legacy[i - 1] = legacy[j];
        legacy[j] = t;
    }
    if (n > 0 && rn(2)) { /* a REX that a later legacy prefix cancels */
        unsigned at = rn(n);
        memmove(legacy + at + 1, legacy + at, n - at);
        legacy[at] = (uint8_t)(0x40 | rn(16));
        n++;
    }
    memcpy(s.pfx, legacy, n);
    s.npfx = n;
    s.w = size == 8;
    s.reg = rn(16);
    if (k == 0)
        set_op(&s, (const uint8_t[]){size == 1 ? 0x8a : 0x8b}, 1);
    else if (k == 1)
        set_op(&s, (const uint8_t[]){size == 1 ? 0x88 : 0x89}, 1);
    else if (k == 3)
        set_op(&s, (const uint8_t[]){0x0f, size == 1 ? 0xb6 : 0xb7}, 2);
    unsigned op = rn(7);
    if (k == 2)
        set_op(&s, (const uint8_t[]){(uint8_t)(op * 8 + (size != 1))}, 1);
    rm_insn(c, &s, 1, 0);
    if (k == 2)
        alu_flags(c, op);
    if (c->len > 15)
        gen_prefixes(c); /* too long for the CPU: draw again */
}

/*
 * FS and GS overrides: the only segments with a base in 64-bit mode. FS keeps
 * the C library's thread pointer (the trap host reads it with arch_prctl);
 * GS gets a random base for the case.
 */
static void gen_segment(gcase_t *c)
{
    int gs = (int)rn(2);
    uint64_t seg;
    if (gs) {
        seg = (uint64_t)(uintptr_t)dev - 0x100000 + 16 * (uint64_t)rn(0x20000);
        c->gs_base = seg;
    } else {
        unsigned long fs = 0;
        syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
        seg = fs;
    }
    if (rn(4) == 0) {
        /* String instructions: the override applies to the source (DS:RSI) only, never ES:RDI. */
        gen_string(c);
        memmove(c->insn + 1, c->insn, c->len);
        c->insn[0] = gs ? 0x65 : 0x64;
        c->len++;
        c->in.gpr[6] -= seg;
        return;
    }
    insn_spec_t s = {0};
    s.pfx[s.npfx++] = gs ? 0x65 : 0x64;
    unsigned size = rand_size_nobyte(), k = rn(5);
    size_prefix(&s, size);
    static const uint8_t ops[5][2] = {{0x8b, 0}, {0x89, 0}, {0x03, 0}, {0x01, 0}, {0x0f, 0xb6}};
    set_op(&s, ops[k], ops[k][1] ? 2 : 1);
    s.reg = rn(16);
    amode_t am;
    uint64_t t = dev_target(1);
    pick_amode(&am, t - seg, 0);
    if (am.mode == AM_RIP)
        am.mode = AM_BASE_D32;
    emit_insn(c, &s, &am);
}

static void gen_mov_load(gcase_t *c);
static void gen_mov_store(gcase_t *c);
static void gen_mov_imm(gcase_t *c);
static void gen_mov_moffs(gcase_t *c);
static void gen_movx(gcase_t *c);
static void gen_alu_load(gcase_t *c);
static void gen_alu_store(gcase_t *c);
static void gen_alu_imm(gcase_t *c);
static void gen_shift(gcase_t *c);
static void gen_bt(gcase_t *c);
static void gen_cmpxchg(gcase_t *c);
static void gen_pushpop(gcase_t *c);
static void gen_string(gcase_t *c);
static void gen_sse(gcase_t *c);
static void gen_avx(gcase_t *c);

/* The address-size prefix on the other generators' forms: EA, moffs, ESI/EDI/ECX are 32-bit. */
static void gen_addr32(gcase_t *c)
{
    static void (*const gens[])(gcase_t *) = {
        gen_mov_load, gen_mov_store, gen_mov_imm, gen_mov_moffs, gen_movx, gen_alu_load,
        gen_alu_store, gen_alu_imm, gen_shift, gen_bt, gen_cmpxchg, gen_pushpop, gen_string,
        gen_sse, gen_avx,
    };
    unsigned k;
    do
        k = rn(sizeof(gens) / sizeof(gens[0]));
    while (gens[k] == gen_avx && !have_avx);
    force_a32 = 1;
    gens[k](c);
    force_a32 = 0;
}

/* ---------------------------------------------------------- running */

typedef struct gclass {
    const char *name;
    void (*gen)(gcase_t *c);
    unsigned cases;
    unsigned flags; /* CL_* */
} gclass_t;

#define CL_AVX 1u        /* needs AVX on the host CPU */
#define CL_REFUSAL_OK 2u /* the library may refuse a case (counted, never as passed); what it completes must match */

static const gclass_t classes[] = {
    {"mov load (8A/8B)", gen_mov_load, 1200, 0},
    {"mov store (88/89)", gen_mov_store, 1200, 0},
    {"mov imm (C6/C7)", gen_mov_imm, 600, 0},
    {"mov moffs (A0-A3)", gen_mov_moffs, 400, 0},
    {"movzx/movsx/movsxd", gen_movx, 1000, 0},
    {"movbe", gen_movbe, 400, 0},
    {"alu r, m", gen_alu_load, 1200, 0},
    {"alu m, r", gen_alu_store, 1200, 0},
    {"alu m, imm", gen_alu_imm, 1200, 0},
    {"test", gen_test, 600, 0},
    {"not/neg", gen_not_neg, 400, 0},
    {"inc/dec", gen_inc_dec, 400, 0},
    {"lock rmw", gen_lock, 800, 0},
    {"shift/rotate", gen_shift, 1600, 0},
    {"shld/shrd", gen_shld, 800, 0},
    {"mul/imul/div/idiv", gen_muldiv, 1200, 0},
    {"setcc", gen_setcc, 400, 0},
    {"cmovcc", gen_cmovcc, 600, 0},
    {"bt/bts/btr/btc", gen_bt, 1000, 0},
    {"bsf/bsr/popcnt/lzcnt/tzcnt", gen_bitscan, 800, 0},
    {"xchg/xadd", gen_xchg, 600, 0},
    {"cmpxchg/8b/16b", gen_cmpxchg, 800, 0},
    {"push/pop m", gen_pushpop, 400, 0},
    {"string (rep) movs/stos/lods/cmps/scas", gen_string, 1600, 0},
    {"sse moves", gen_sse, 1200, 0},
    {"avx moves (vex)", gen_avx, 1200, CL_AVX},
    {"fs/gs segment override", gen_segment, 600, 0},
    {"div/idiv raising #DE (or not)", gen_divfault, 1000, 0},
    {"address-size override (67)", gen_addr32, 1500, 0},
    {"prefix order, repeats, stray REX", gen_prefixes, 1000, 0},
    {"push/pop m, stack on the device", gen_pushpop_devstack, 300, CL_REFUSAL_OK},
};
#define N_CLASSES (sizeof(classes) / sizeof(classes[0]))

static void random_state(gcase_t *c)
{
    memset(c, 0, sizeof(*c));
    for (unsigned i = 0; i < 16; i++)
        c->in.gpr[i] = rnd();
    /* Status flags random; IF and the reserved bit 1 as user code has them; no TF/AC. */
    c->in.rflags = 0x202u | (rnd() & F_STATUS);
    for (unsigned i = 0; i < 16; i++)
        for (unsigned j = 0; j < 32; j += 8) {
            uint64_t v = rnd();
            memcpy(&c->in.ymm[i][j], &v, 8);
        }
    for (unsigned i = 0; i < DEV_SIZE; i += 8) {
        uint64_t v = rnd();
        memcpy(c->mem + i, &v, 8);
    }
    for (unsigned i = 0; i < RAM_SIZE; i += 8) {
        uint64_t v = rnd();
        memcpy(c->ram + i, &v, 8);
    }
}

static void build_code(const gcase_t *c)
{
    buf_t b = {code, 0};
    prologue(&b);
    if (b.n != insn_at)
        fail_msg("prologue length changed");
    memcpy(code + b.n, c->insn, c->len);
    b.n += c->len;
    epilogue(&b);
    __builtin___clear_cache((char *)code, (char *)code + b.n);
}

typedef struct result {
    cpu_state_t out;
    uint8_t mem[DEV_SIZE];
    uint8_t ram[RAM_SIZE];
} result_t;

static void call_code(const gcase_t *c)
{
    if (c->gs_base != 0)
        syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)c->gs_base);
    ((void (*)(void))(uintptr_t)code)();
    if (c->gs_base != 0)
        syscall(SYS_arch_prctl, ARCH_SET_GS, 0ul);
}

static sigjmp_buf native_env;
static volatile sig_atomic_t native_sig;

static void native_handler(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    native_sig = sig;
    siglongjmp(native_env, 1);
}

/* Run on RAM; returns the signal the CPU raised (SIGFPE for #DE), or 0. */
static int run_native(const gcase_t *c, result_t *r)
{
    /* The same addresses as the trapped run: open the region up as RAM for a moment. */
    assert_int_equal(mprotect(dev, DEV_SIZE, PROT_READ | PROT_WRITE), 0);
    memcpy(dev, c->mem, DEV_SIZE);
    memcpy(ram, c->ram, RAM_SIZE);
    hm->in = c->in;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = native_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGFPE, &sa, &old);
    native_sig = 0;
    if (sigsetjmp(native_env, 1) == 0)
        call_code(c);
    else if (c->gs_base != 0)
        syscall(SYS_arch_prctl, ARCH_SET_GS, 0ul);
    sigaction(SIGFPE, &old, NULL);
    r->out = hm->out;
    memcpy(r->mem, dev, DEV_SIZE);
    memcpy(r->ram, ram, RAM_SIZE);
    assert_int_equal(mprotect(dev, DEV_SIZE, PROT_NONE), 0);
    return native_sig;
}

/* 0, or 1 with trap_message set when the trap host refused the instruction. */
static int run_trapped(const gcase_t *c, result_t *r)
{
    memcpy(backing, c->mem, DEV_SIZE);
    memcpy(ram, c->ram, RAM_SIZE);
    hm->in = c->in;
    trap_message[0] = 0;
    if (sigsetjmp(trap_env, 1) != 0) {
        trap_armed = 0;
        if (c->gs_base != 0)
            syscall(SYS_arch_prctl, ARCH_SET_GS, 0ul);
        return 1;
    }
    trap_armed = 1;
    call_code(c);
    trap_armed = 0;
    r->out = hm->out;
    memcpy(r->mem, backing, DEV_SIZE);
    memcpy(r->ram, ram, RAM_SIZE);
    return 0;
}

static void hexbytes(char *out, size_t cap, const uint8_t *p, unsigned n)
{
    size_t o = 0;
    for (unsigned i = 0; i < n && o + 4 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%02x", i ? " " : "", p[i]);
}

static const char *const gpr_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};

/* Compare; print the first difference. Returns 1 when they agree. */
static int same(const gcase_t *c, const result_t *n, const result_t *t, const char *cls)
{
    char bytes[64], what[200] = "";
    hexbytes(bytes, sizeof(bytes), c->insn, c->len);
    for (unsigned i = 0; i < 16 && !what[0]; i++)
        if (n->out.gpr[i] != t->out.gpr[i] && !(c->dest_undef & (1u << i)))
            snprintf(what, sizeof(what), "%s: cpu 0x%llx, emulated 0x%llx (in 0x%llx)", gpr_names[i],
                     (unsigned long long)n->out.gpr[i], (unsigned long long)t->out.gpr[i],
                     (unsigned long long)c->in.gpr[i]);
    uint64_t fd = (n->out.rflags ^ t->out.rflags) & ~c->undef;
    if (!what[0] && fd)
        snprintf(what, sizeof(what), "rflags: cpu 0x%llx, emulated 0x%llx (in 0x%llx, undefined 0x%llx)",
                 (unsigned long long)n->out.rflags, (unsigned long long)t->out.rflags,
                 (unsigned long long)c->in.rflags, (unsigned long long)c->undef);
    for (unsigned i = 0; i < 16 && !what[0]; i++)
        if (memcmp(n->out.ymm[i], t->out.ymm[i], have_avx ? 32 : 16) != 0) {
            char a[100], e[100];
            hexbytes(a, sizeof(a), n->out.ymm[i], 32);
            hexbytes(e, sizeof(e), t->out.ymm[i], 32);
            snprintf(what, sizeof(what), "ymm%u: cpu %.60s, emulated %.60s", i, a, e);
        }
    for (unsigned i = 0; i < DEV_SIZE && !what[0]; i++)
        if (n->mem[i] != t->mem[i])
            snprintf(what, sizeof(what), "device byte +%u: cpu 0x%02x, emulated 0x%02x", i, n->mem[i],
                     t->mem[i]);
    for (unsigned i = 0; i < RAM_SIZE && !what[0]; i++)
        if (n->ram[i] != t->ram[i])
            snprintf(what, sizeof(what), "ram byte +%u: cpu 0x%02x, emulated 0x%02x", i, n->ram[i],
                     t->ram[i]);
    if (what[0] && cls != NULL)
        printf("  FAIL [%s] %s: %s\n", cls, bytes, what);
    return what[0] == 0;
}

/* Does the decoder implement this case at all? Capture it from a RAM host without signals. */
static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    (void)ctx;
    uint64_t lo = (uint64_t)(uintptr_t)code;
    if (gpa < lo || gpa + len > lo + 4096)
        return -1;
    memcpy(buf, (const void *)(uintptr_t)gpa, len);
    return 0;
}

static vf_error_t probe(const gcase_t *c)
{
    vf_error_t best = VF_ERR_UNSUPPORTED;
    for (unsigned q = 0; q < 2; q++) {
        vf_x86_regs_t regs;
        memset(&regs, 0, sizeof(regs));
        memcpy(regs.gpr, c->in.gpr, sizeof(regs.gpr));
        regs.rip = (uint64_t)(uintptr_t)(code + insn_at);
        regs.rflags = c->in.rflags;
        regs.cr0 = 0x80050033u;
        regs.cr4 = 0x6a0u;
        regs.efer = 0x500u;
        regs.cs_l = 1;
        regs.cpl = 3;
        vf_x86_exit_t ex = {0, 0, q ? VF_X86_QUAL_WRITE : VF_X86_QUAL_READ};
        vf_host_t host = {ram_read, NULL, NULL, VF_HOST_IDENTITY};
        vf_fault_t f;
        vf_fault_init(&f);
        vf_error_t e = vf_x86_capture(&f, &regs, &ex, &host);
        if (e == VF_OK)
            e = vf_fault_decode(&f);
        if (e != VF_ERR_UNSUPPORTED && e != VF_ERR_UNDEFINED)
            return VF_OK; /* decoded (a mismatch with the made-up exit is fine here) */
        best = e;
    }
    return best;
}

static unsigned total_ran, total_classes_run;
static struct sigaction trap_action; /* our handler, as vf_trap_init() installed it */

/* cmocka points SIGSEGV at its own handler around every test: put the trap host's back. */
static void with_trap_handler(int on)
{
    static struct sigaction cmocka_action;
    if (on)
        sigaction(SIGSEGV, &trap_action, &cmocka_action);
    else
        sigaction(SIGSEGV, &cmocka_action, NULL);
}

/* Which device API serves the trapped region: remap it at the same address when it changes. */
static int dev_is_sel4;

static void set_device_api(int sel4)
{
    if (sel4 == dev_is_sel4)
        return;
    vf_trap_device_t native = {.read = dev_read, .write = dev_write, .error = dev_error};
    vf_trap_device_t s4 = {.sel4_fault = dev_sel4, .error = dev_error};
    void *at = dev;
    assert_int_equal(vf_trap_unmap(dev), 0);
    dev = vf_trap_map_at(at, DEV_SIZE, sel4 ? &s4 : &native);
    assert_ptr_equal(dev, at);
    dev_is_sel4 = sel4;
}

typedef struct run_spec {
    const gclass_t *cl;
    int sel4;          /* served through the libsel4vm API (8-byte pieces) */
    char name[80];
} run_spec_t;

static void run_class(void **state)
{
    const run_spec_t *spec = *state;
    const gclass_t *cl = spec->cl;
    unsigned ncases = spec->sel4 ? cl->cases / 4 : cl->cases;
    const char *name = spec->name;
    set_device_api(spec->sel4);
    static gcase_t c;
    static result_t rn_, rt_;
    if ((cl->flags & CL_AVX) && !have_avx) {
        printf("  %-40s skipped: the host CPU has no AVX\n", name);
        skip();
    }
    /* Enabled when any of the first 16 cases decodes; from then on every case counts. */
    int enabled = 0;
    vf_error_t why = VF_ERR_UNSUPPORTED;
    char first[64] = "";
    for (unsigned p = 0; p < 16 && !enabled; p++) {
        rng_state = (0x1234567ull ^ seed_extra ^ (spec->sel4 ? 0x5e14ull : 0)) + (uint64_t)(cl - classes) * 0x100000001ull + p * 7919u;
        random_state(&c);
        cl->gen(&c);
        build_code(&c);
        why = probe(&c);
        enabled = why == VF_OK;
        if (p == 0)
            hexbytes(first, sizeof(first), c.insn, c.len);
    }
    if (!enabled) {
        printf("  %-40s skipped: not implemented by the decoder (e.g. %s: %s), 0 ran\n", name,
               first, vf_error_name(why));
        skip();
    }
    rng_state = (0x1234567ull ^ seed_extra ^ (spec->sel4 ? 0x5e14ull : 0)) + (uint64_t)(cl - classes) * 0x100000001ull;
    random_state(&c);
    cl->gen(&c);
    build_code(&c);
    unsigned ran = 0, failed = 0, faulted = 0, refusals = 0;
    dev_accesses = 0;
    with_trap_handler(1);
    for (unsigned i = 0; i < ncases; i++) {
        if (i > 0) {
            random_state(&c);
            cl->gen(&c);
            build_code(&c);
        }
        int sig = run_native(&c, &rn_);
        int refused = run_trapped(&c, &rt_);
        if (sig != 0) {
            /* The CPU raised #DE: the library must ask for the same exception, vector 0. */
            int ok = sig == SIGFPE && refused && trap_info.error == VF_ERR_INJECT &&
                     trap_info.inject.kind == VF_INJECT_X86_EXCEPTION && trap_info.inject.code == 0;
            if (!ok && failed++ < 8) {
                char bytes[64];
                hexbytes(bytes, sizeof(bytes), c.insn, c.len);
                printf("  FAIL [%s] %s: the CPU raised signal %d; emulation: %s\n", name, bytes, sig,
                       refused ? trap_message : "completed");
            }
            faulted++;
        } else if (refused && (cl->flags & CL_REFUSAL_OK)) {
            if (refusals++ == 0)
                printf("  refused (allowed here): %s\n", trap_message);
        } else if (refused) {
            if (failed++ < 8)
                printf("  FAIL [%s] %s\n", name, trap_message);
        } else if (!same(&c, &rn_, &rt_, name)) {
            failed++;
        }
        ran++;
    }
    with_trap_handler(0);
    printf("  %-40s %u ran, %u failed, %lu device accesses emulated", name, ran, failed,
           dev_accesses);
    if (faulted)
        printf(", %u raised #DE", faulted);
    if (refusals)
        printf(", %u refused by the library (not passed)", refusals);
    printf("\n");
    /* Every case of a class touches the device (REP with RCX = 0 aside): the trap really ran. */
    assert_true(dev_accesses >= (ran - refusals) / 2);
    if (refusals == ran) {
        /* A class that may be refused asserts only "refused or right": say plainly it was all refusals. */
        if (!(cl->flags & CL_REFUSAL_OK)) {
            printf("  %-40s skipped: the library refused every case\n", name);
            skip();
        }
        printf("  %-40s all %u refused, as docs/x86.md says; none gave a wrong result\n", name, ran);
    }
    total_ran += ran - refusals; /* compared with the CPU */
    total_classes_run++;
    assert_int_equal(failed, 0);
}

/* The comparison can fail: a device model that flips one bit of every read is caught every time. */
static void self_check(void **state)
{
    (void)state;
    static gcase_t c;
    static result_t rn_, rt_;
    unsigned caught = 0, n = 200;
    set_device_api(0);
    rng_state = 99;
    with_trap_handler(1);
    corrupt_reads = 1;
    for (unsigned i = 0; i < n; i++) {
        random_state(&c);
        gen_mov_load(&c);
        build_code(&c);
        run_native(&c, &rn_);
        if (run_trapped(&c, &rt_) != 0 || !same(&c, &rn_, &rt_, NULL))
            caught++;
    }
    corrupt_reads = 0;
    with_trap_handler(0);
    printf("  self-check: a corrupting device model was caught in %u of %u cases\n", caught, n);
    assert_int_equal(caught, n);
}

static int setup(void **state)
{
    (void)state;
    const char *seed = getenv("VF_SEED");
    if (seed != NULL)
        seed_extra = strtoull(seed, NULL, 0) * 0x9e3779b97f4a7c15ull;
    unsigned a, b, c2, d;
    if (__get_cpuid(1, &a, &b, &c2, &d))
        have_avx = (c2 & (1u << 28)) && (c2 & (1u << 27)); /* AVX and OSXSAVE */
    if (vf_trap_init() != 0)
        return -1;
    sigaction(SIGSEGV, NULL, &trap_action);
    /* Everything below 4 GiB, so 32-bit addressing (67) reaches it: the first free window. */
    vf_trap_device_t devm = {.read = dev_read, .write = dev_write, .error = dev_error};
    for (uintptr_t w = 0x20000000u; w < 0x60000000u && dev == NULL; w += 0x1000000u) {
        int fl = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
        hm = mmap((void *)w, 4096, PROT_READ | PROT_WRITE, fl, -1, 0);
        code = mmap((void *)(w + 0x10000), 4096, PROT_READ | PROT_WRITE | PROT_EXEC, fl, -1, 0);
        ram = mmap((void *)(w + 0x20000), RAM_SIZE, PROT_READ | PROT_WRITE, fl, -1, 0);
        if (hm == (void *)w && code == (void *)(w + 0x10000) && ram == (void *)(w + 0x20000))
            dev = vf_trap_map_at((void *)(w + 0x30000), DEV_SIZE, &devm);
        if (dev == NULL) {
            if (hm != MAP_FAILED) munmap(hm, 4096);
            if (code != MAP_FAILED) munmap(code, 4096);
            if (ram != MAP_FAILED) munmap(ram, RAM_SIZE);
        }
    }
    if (dev == NULL)
        return -1;
    buf_t bb = {code, 0};
    prologue(&bb);
    insn_at = bb.n;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    printf("host-CPU differential: %u cases compared with the CPU in %u of %zu class runs (native and libsel4vm API)\n",
           total_ran, total_classes_run, 2 * N_CLASSES);
    vf_trap_unmap(dev);
    return 0;
}

int main(void)
{
    /* Every class with the native device API, then a quarter as many through the libsel4vm API. */
    static run_spec_t specs[2 * N_CLASSES];
    struct CMUnitTest tests[2 * N_CLASSES + 1];
    for (unsigned i = 0; i < 2 * N_CLASSES; i++) {
        specs[i].cl = &classes[i % N_CLASSES];
        specs[i].sel4 = i >= N_CLASSES;
        snprintf(specs[i].name, sizeof(specs[i].name), "%s%s", specs[i].sel4 ? "seL4 API: " : "",
                 specs[i].cl->name);
        tests[i] = (struct CMUnitTest)cmocka_unit_test_prestate(run_class, &specs[i]);
        tests[i].name = specs[i].name;
    }
    tests[2 * N_CLASSES] = (struct CMUnitTest)cmocka_unit_test(self_check);
    return cmocka_run_group_tests(tests, setup, teardown);
}

#else
#include <stdio.h>

int main(void)
{
    puts("this test needs the Linux trap host: x86-64 Linux only");
    return 77; /* skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt) */
}
#endif
