/*
 * x86 faults: capture from an EPT violation, instruction fetch through the
 * guest's paging, operand addresses and cross-checks, the access plan, and
 * completion (registers, RFLAGS, RIP, string-instruction registers).
 */
#include "x86i.h"
#include "../../core/engine.h"

#define CR0_PE 1ull
#define CR0_PG (1ull << 31)
#define EFER_LMA (1ull << 10)
#define PAGE 4096u

/* Sets of operations, as bit masks over enum x86_op. */
#define OPS(a) ((uint64_t)1 << X86_OP_##a)
/* Operand checks or data of their own when planned (the rest only check address and direction). */
#define PLAN_SPECIAL (OPS(BT) | OPS(POP_M) | OPS(SSE_LD) | OPS(SSE_ST) | OPS(CMPXCHG8B))
/* RAM, stack or vector registers to update on completion. */
#define COMPLETE_SPECIAL (OPS(MOVS) | OPS(PUSH_M) | OPS(POP_M) | OPS(SSE_LD))
#define IN(set, op) ((((set) >> (op)) & 1u) != 0)

/* vf_insn_t flags that follow from the operation alone. */
static const uint8_t insn_flags[X86_OP_COUNT] = {
    [X86_OP_MOVSX] = VF_INSN_SIGNED,
    [X86_OP_SSE_LD] = VF_INSN_FP, [X86_OP_SSE_ST] = VF_INSN_FP,
    [X86_OP_MOVBE_LD] = VF_INSN_BIGENDIAN, [X86_OP_MOVBE_ST] = VF_INSN_BIGENDIAN,
};

static vf_x86_regs_t *regs_of(vf_fault_t *f)
{
    return (vf_x86_regs_t *)f->regs;
}

/*
 * Code size in bytes (2, 4, 8) from CR0.PE, RFLAGS.VM, EFER.LMA and CS.L/D,
 * as the CPU decides; with X86_MODE_REAL in real and virtual-8086 mode.
 */
static unsigned code_size(const vf_x86_regs_t *r)
{
    if (!(r->cr0 & CR0_PE) || (r->rflags & X86_VM))
        return 2 | X86_MODE_REAL;
    if ((r->efer & EFER_LMA) && r->cs_l)
        return 8;
    return r->cs_d ? 4u : 2u;
}

static uint64_t seg_base(const vf_x86_regs_t *r, unsigned seg)
{
    switch (seg) {
    case X86_ES: return r->es_base;
    case X86_CS: return r->cs_base;
    case X86_SS: return r->ss_base;
    case X86_FS: return r->fs_base;
    case X86_GS: return r->gs_base;
    default: return r->ds_base;
    }
}

/* Linear address of seg:offset. In 64-bit mode only FS and GS have a base. */
static uint64_t linear(const vf_x86_regs_t *r, unsigned mode, unsigned seg, uint64_t off)
{
    if (mode == 8)
        return seg >= X86_FS ? seg_base(r, seg) + off : off;
    return (seg_base(r, seg) + off) & 0xffffffffu;
}

/* Effective address of the ModRM/moffs operand, wrapped to the address size. */
static uint64_t effective(const vf_x86_regs_t *r, const x86_dec_t *d)
{
    uint64_t a = (uint64_t)d->disp;
    if (d->base == X86_RIP)
        a += r->rip + d->len;
    else if (d->base != X86_NOREG)
        a += r->gpr[d->base];
    if (d->index != X86_NOREG)
        a += r->gpr[d->index] << d->scale;
    return a & vf_x86_mask(d->addrsize);
}

/* ---- instruction fetch ---- */

/* Read up to n bytes; on a failed block read fall back to single bytes. Returns bytes read. */
static unsigned read_some(const vf_fault_t *f, uint64_t gpa, uint8_t *buf, unsigned n)
{
    if (f->host.read_phys(f->host.ctx, gpa, buf, n) == 0)
        return n;
    unsigned i = 0;
    while (i < n && f->host.read_phys(f->host.ctx, gpa + i, buf + i, 1) == 0)
        i++;
    return i;
}

/* Read the instruction bytes of the page `lin` is on (at most `want`). */
static inline int fetch_page(const vf_fault_t *f, const vf_x86_regs_t *r, uint64_t lin, uint8_t *buf,
                             unsigned want, unsigned *got)
{
    uint64_t gpa = lin;
    unsigned room = PAGE - (unsigned)(lin & (PAGE - 1));
    /* Identity hosts and paging off need no walk (vf_x86_translate says the same, slower). */
    if (!(f->host.flags & VF_HOST_IDENTITY) && (r->cr0 & CR0_PG) &&
        vf_x86_translate(f, r, lin, X86_ACC_FETCH, &gpa) != 0)
        return -1;
    *got = read_some(f, gpa, buf, want < room ? want : room);
    return 0;
}

/* Fetch and decode: never reads past the page the instruction ends on. */
static vf_error_t fetch_decode(vf_fault_t *f, const vf_x86_regs_t *r, unsigned dmode, x86_dec_t *d)
{
    unsigned mode = dmode & 0xfu;
    uint8_t buf[16];
    unsigned n = 0, more = 0;
    uint64_t lin = mode == 8 ? r->rip : (r->cs_base + r->rip) & 0xffffffffu;
    if (f->host.read_phys == NULL)
        return vf_fail(f, VF_ERR_FETCH, "no host read_phys to fetch the instruction");
    if (fetch_page(f, r, lin, buf, 15, &n) != 0)
        return vf_fail(f, VF_ERR_FETCH, "instruction address does not translate (guest page tables)");
    x86_result_t res = vf_x86_decode_bytes(buf, n, dmode, d);
    if (res.status == X86_DEC_MORE && n < 15 && ((lin + n) & (PAGE - 1)) == 0) {
        uint64_t next = lin + n;
        if (mode != 8)
            next &= 0xffffffffu;
        if (fetch_page(f, r, next, buf + n, 15 - n, &more) != 0)
            return vf_fail(f, VF_ERR_FETCH, "instruction straddles into a page that does not translate");
        res = vf_x86_decode_bytes(buf, n + more, dmode, d);
    }
    switch (res.status) {
    case X86_DEC_OK:
        return VF_OK;
    case X86_DEC_MORE:
        return vf_fail(f, VF_ERR_FETCH, "instruction bytes are not all readable guest memory");
    case X86_DEC_UNDEFINED:
        return vf_fail(f, VF_ERR_UNDEFINED, res.why);
    default:
        f->insn.length = d->len;
        return vf_fail(f, VF_ERR_UNSUPPORTED, res.why);
    }
}

/* ---- cross-checks against the exit ---- */

/* The decoded linear address must be the one the hardware reported. */
static inline vf_error_t check_address(vf_fault_t *f, uint64_t lin, unsigned size)
{
    if ((lin & (PAGE - 1)) + size > PAGE)
        return vf_fail(f, VF_ERR_UNSUPPORTED, "device access straddles a page boundary");
    if (f->exit_info[0] & VF_X86_QUAL_GLA_VALID) {
        if (lin != f->gva)
            return vf_fail(f, VF_ERR_MISMATCH, "decoded linear address differs from the reported GLA");
    } else if (f->host.flags & VF_HOST_IDENTITY) {
        if (lin != f->ipa)
            return vf_fail(f, VF_ERR_MISMATCH, "decoded address differs from the reported GPA");
    } else if ((lin ^ f->ipa) & (PAGE - 1)) {
        return vf_fail(f, VF_ERR_MISMATCH, "decoded address is not at the reported GPA's page offset");
    }
    return VF_OK;
}

/* The reported direction must be one the instruction makes. */
static vf_error_t check_direction(vf_fault_t *f, int reads, int writes)
{
    uint64_t q = f->exit_info[0];
    if (((q & VF_X86_QUAL_WRITE) && !writes) || ((q & VF_X86_QUAL_READ) && !(q & VF_X86_QUAL_WRITE) && !reads))
        return vf_fail(f, VF_ERR_MISMATCH, "reported access direction does not match the instruction");
    return VF_OK;
}

static vf_error_t inject_gp(vf_fault_t *f, const char *why)
{
    return vf_fail_inject(f, VF_INJECT_X86_EXCEPTION, 13, 0, why);
}

/* ---- operand plans ---- */

/* Stack pointer width: 8 in 64-bit mode, else taken from CS.D (SS.B is not in the register file). */
static unsigned stack_size(const vf_x86_regs_t *r, unsigned mode)
{
    if (mode == 8)
        return 8;
    if (!(r->cr0 & CR0_PE) || (r->rflags & X86_VM))
        return 2;
    return r->cs_d ? 4u : 2u;
}

/* POP m: the value comes from the stack in RAM. */
static vf_error_t read_stack(vf_fault_t *f, const vf_x86_regs_t *r, x86_state_t *s)
{
    unsigned ss = stack_size(r, s->d.mode);
    uint64_t lin = linear(r, s->d.mode, X86_SS, r->gpr[VF_X86_RSP] & vf_x86_mask(ss)), gpa;
    uint8_t b[8];
    if (vf_x86_translate(f, r, lin, X86_ACC_READ, &gpa) != 0 ||
        f->host.read_phys(f->host.ctx, gpa, b, s->d.memsize) != 0)
        return vf_fail(f, VF_ERR_UNSUPPORTED, "POP: the stack is not readable guest RAM");
    s->ram = vf_le_load(b, s->d.memsize);
    return VF_OK;
}

/* A ModRM or moffs memory operand: one access (two for read-modify-write) at the reported GPA. */
static vf_error_t plan_operand(vf_fault_t *f, const vf_x86_regs_t *r, x86_state_t *s, unsigned cls)
{
    x86_dec_t *d = &s->d;
    uint64_t ea = effective(r, d);
    vf_error_t err;
    unsigned special = IN(PLAN_SPECIAL, d->op);
    if (special && d->op == X86_OP_BT && !d->vvvv) {
        /* Register bit offset: a signed bit string index that can reach other operands. */
        uint64_t off = vf_sext(vf_x86_get(r, d->reg, d->opsize), d->opsize * 8u);
        unsigned sh = d->opsize == 2 ? 4u : d->opsize == 4 ? 5u : 6u; /* log2 of the bits */
        /* floor(off / bits) without a division: complement, shift, complement for negatives */
        uint64_t units = (off >> 63) ? ~(~off >> sh) : off >> sh;
        ea = (ea + units * d->opsize) & vf_x86_mask(d->addrsize);
    }
    if (special && d->op == X86_OP_POP_M && d->base == VF_X86_RSP)
        ea = (ea + d->memsize) & vf_x86_mask(d->addrsize); /* POP computes the address after RSP moves */
    s->lin = linear(r, d->mode, d->seg, ea);
    if ((err = check_address(f, s->lin, d->memsize)) != VF_OK)
        return err;
    if ((err = check_direction(f, cls != X86_C_STORE, cls != X86_C_LOAD)) != VF_OK)
        return err;
    if (special) {
        if (((d->op == X86_OP_SSE_LD || d->op == X86_OP_SSE_ST) && (d->aux & X86_SSE_ALIGN)) ||
            (d->op == X86_OP_CMPXCHG8B && d->memsize == 16)) {
            if (s->lin & (d->memsize - 1u))
                return inject_gp(f, "misaligned operand of an aligned move or CMPXCHG16B: inject #GP(0)");
        }
        if (d->op == X86_OP_POP_M && (err = read_stack(f, r, s)) != VF_OK)
            return err;
    }
    f->insn.count = cls == X86_C_RMW ? 2 : 1;
    s->wdir = (uint8_t)((0x210u >> (cls * 4u)) & 0xfu); /* load 0, store 1 (access 0), RMW 2 (access 1) */
    return VF_OK;
}

/* Is a string operand's other side RAM? Reads it (for a source) into s->ram. */
static int other_side(vf_fault_t *f, const vf_x86_regs_t *r, x86_state_t *s, uint64_t lin, int write)
{
    uint8_t b[8];
    if (vf_x86_translate(f, r, lin, write ? X86_ACC_WRITE : X86_ACC_READ, &s->other) != 0)
        return -1;
    if (f->host.read_phys(f->host.ctx, s->other, b, s->d.memsize) != 0)
        return 0; /* not RAM: a device access of its own */
    if (!write)
        s->ram = vf_le_load(b, s->d.memsize);
    return 1;
}

/* String instructions: source DS:rSI (overridable), destination ES:rDI; one element. */
static vf_error_t plan_string(vf_fault_t *f, const vf_x86_regs_t *r, x86_state_t *s)
{
    x86_dec_t *d = &s->d;
    uint64_t amask = vf_x86_mask(d->addrsize);
    uint64_t src = linear(r, d->mode, d->seg, r->gpr[VF_X86_RSI] & amask);
    uint64_t dst = linear(r, d->mode, X86_ES, r->gpr[VF_X86_RDI] & amask);
    unsigned has_src = d->op == X86_OP_MOVS || d->op == X86_OP_CMPS || d->op == X86_OP_LODS;
    unsigned has_dst = d->op != X86_OP_LODS;
    uint64_t q = f->exit_info[0];
    vf_error_t err;

    if (d->rep && (r->gpr[VF_X86_RCX] & amask) == 0)
        return vf_fail(f, VF_ERR_MISMATCH, "REP string instruction with a zero count makes no access");
    /* Which side trapped: the only one, else the one the direction or address names. */
    unsigned dev_dst = !has_src;
    if (has_src && has_dst) {
        if (d->op == X86_OP_MOVS && !(q & VF_X86_QUAL_GLA_VALID))
            dev_dst = (q & VF_X86_QUAL_WRITE) != 0;
        else if (q & VF_X86_QUAL_GLA_VALID)
            dev_dst = f->gva == dst && f->gva != src;
        else if (f->host.flags & VF_HOST_IDENTITY)
            dev_dst = f->ipa == dst && f->ipa != src;
        else
            dev_dst = ((dst ^ f->ipa) & (PAGE - 1)) == 0 && ((src ^ f->ipa) & (PAGE - 1)) != 0;
    }
    s->lin = dev_dst ? dst : src;
    if ((err = check_address(f, s->lin, d->memsize)) != VF_OK)
        return err;
    int dev_writes = dev_dst && (d->op == X86_OP_MOVS || d->op == X86_OP_STOS);
    if ((err = check_direction(f, !dev_writes, dev_writes)) != VF_OK)
        return err;
    s->side = dev_dst ? 2u : 1u;
    if (has_src && has_dst) {
        int ram = other_side(f, r, s, dev_dst ? src : dst, !dev_dst && d->op == X86_OP_MOVS);
        if (ram < 0)
            return vf_fail(f, VF_ERR_UNSUPPORTED, "string instruction: the other operand does not translate");
        if (!ram)
            s->side = 3;
    }
    /* Accesses in order: source, then destination, for each side that is a device. */
    unsigned n = 0;
    s->wdir = 0;
    s->wother = 0;
    if (s->side & 1u) {
        if (dev_dst)
            s->wother |= 1u;
        n++;
    }
    if (s->side & 2u) {
        if (d->op == X86_OP_MOVS || d->op == X86_OP_STOS)
            s->wdir |= (uint8_t)(1u << n);
        if (!dev_dst)
            s->wother |= (uint8_t)(1u << n);
        n++;
    }
    f->insn.count = (uint8_t)n;
    return VF_OK;
}

/* ---- the engine's operations ---- */

static vf_error_t x86_decode(vf_fault_t *f)
{
    vf_x86_regs_t *r = regs_of(f);
    x86_state_t *s = &f->arch.x86;
    x86_dec_t *d = &s->d;
    vf_error_t err = fetch_decode(f, r, code_size(r), d);
    if (err != VF_OK)
        return err;

    unsigned cls = vf_x86_class(d);
    s->cls = (uint8_t)cls;
    /* The generic descriptor, field by field in its memory order. */
    f->insn.op = d->op;
    f->insn.length = d->len;
    f->insn.size = d->memsize;
    f->insn.flags = (uint8_t)((d->op < X86_OP_COUNT ? insn_flags[d->op] : 0u) |
                              (cls == X86_C_STORE ? VF_INSN_WRITE : 0u));
    f->insn.dst_bytes = d->opsize;
    f->insn.rt = d->reg;
    f->insn.rt2 = d->rep; /* REP/REPE (0xf3) or REPNE (0xf2) of a string instruction */
    f->insn.rn = d->base;
    f->insn.rm = d->index;
    f->insn.aux = d->aux;
    f->insn.fixed = 1; /* count is exact: the engine completes after the last access */
    f->insn.imm = (int64_t)d->imm;
    s->done = 0;
    s->side = 0;
    s->wother = 0;
    if (d->op == X86_OP_CACHE) {
        f->insn.flags |= VF_INSN_SKIPPABLE;
        return vf_fail(f, VF_ERR_NOT_MMIO, "cache line flush or write-back of device memory: skip the instruction");
    }
    if (cls == X86_C_STRING)
        return plan_string(f, r, s);
    if (!(d->flags & X86_D_MEM))
        return vf_fail(f, VF_ERR_MISMATCH, "instruction has no memory operand");
    return plan_operand(f, r, s, cls);
}

/* Register bytes of an SSE store: xmm/ymm as little-endian bytes. */
static void sse_store_data(vf_fault_t *f, const vf_x86_regs_t *r, const x86_state_t *s)
{
    const uint64_t *y = r->ymm[s->d.reg & 15u];
    uint8_t *w = vf_wbytes(f);
    for (unsigned i = 0; i < s->d.memsize; i += 8)
        vf_le_store(w + i, y[i / 8], s->d.memsize - i < 8 ? s->d.memsize - i : 8);
}

static int x86_access(vf_fault_t *f, uint32_t idx)
{
    vf_x86_regs_t *r = regs_of(f);
    x86_state_t *s = &f->arch.x86;
    if (idx >= f->insn.count)
        return VF_END;
    unsigned write = (s->wdir >> idx) & 1u;
    f->acc.addr = ((s->wother >> idx) & 1u) ? s->other : f->ipa;
    f->acc.size = s->d.memsize;
    f->acc.dir = write ? VF_DIR_WRITE : VF_DIR_READ;
    f->acc.is_signed = s->d.op == X86_OP_MOVSX;
    if (!write)
        return VF_OK;
    if (s->d.op == X86_OP_SSE_ST) {
        sse_store_data(f, r, s);
        return VF_OK;
    }
    if (!s->done)
        vf_x86_execute(s, r, vf_rbytes(f));
    /* Whole quadwords (the buffer has 32 bytes); the bytes past the access stay zero. */
    vf_le_store8(vf_wbytes(f), s->out[0] & vf_bytes_mask(s->d.memsize < 8 ? s->d.memsize : 8u));
    if (s->d.memsize > 8)
        vf_le_store8(vf_wbytes(f) + 8, s->out[1]);
    return VF_OK;
}

static void x86_skip(vf_fault_t *f)
{
    unsigned mode = f->arch.x86.d.mode;
    uint64_t ip = f->pc + f->insn.length;
    regs_of(f)->rip = mode == 8 ? ip : ip & vf_x86_mask(mode);
}

/* SSE/AVX load: legacy SSE keeps bits 255:128; VEX zeroes everything above the data. */
static void sse_load(vf_x86_regs_t *r, const x86_state_t *s, const uint8_t *data)
{
    uint64_t *y = r->ymm[s->d.reg & 15u];
    unsigned n = s->d.memsize;
    /* Quadwords cleared above the data: VEX all of them, MOVD/MOVQ/MOVSS/MOVSD up to bit 127. */
    unsigned clear_to = (s->d.flags & X86_D_VEX) ? 4u : (s->d.aux & X86_SSE_ZERO) ? 2u : 0u;
    for (unsigned q = 0; q < 4; q++) {
        if (q * 8 < n)
            y[q] = vf_le_load(data + q * 8, n - q * 8 < 8 ? n - q * 8 : 8);
        else if (q < clear_to)
            y[q] = 0;
    }
}

/* Write RAM for the side of a string instruction or the stack that is not the device. */
static vf_error_t write_ram(vf_fault_t *f, uint64_t gpa, uint64_t v, unsigned size)
{
    uint8_t b[8];
    vf_le_store(b, v, size);
    if (f->host.write_phys == NULL || f->host.write_phys(f->host.ctx, gpa, b, size) != 0)
        return vf_fail(f, VF_ERR_UNSUPPORTED, "guest RAM could not be written (host write_phys)");
    return VF_OK;
}

/* String element done: rSI/rDI step, rCX counts, RIP moves unless REP continues. */
static int string_regs(vf_x86_regs_t *r, const x86_state_t *s, uint64_t *rflags)
{
    const x86_dec_t *d = &s->d;
    unsigned as = d->addrsize;
    uint64_t step = (*rflags & X86_DF) ? (uint64_t)0 - d->memsize : d->memsize;
    if (d->op != X86_OP_STOS && d->op != X86_OP_SCAS)
        vf_x86_set(r, VF_X86_RSI, as, r->gpr[VF_X86_RSI] + step);
    if (d->op != X86_OP_LODS)
        vf_x86_set(r, VF_X86_RDI, as, r->gpr[VF_X86_RDI] + step);
    if (!d->rep)
        return 1;
    uint64_t count = (r->gpr[VF_X86_RCX] - 1) & vf_x86_mask(as);
    vf_x86_set(r, VF_X86_RCX, as, count);
    if (count == 0)
        return 1;
    if (d->op == X86_OP_CMPS || d->op == X86_OP_SCAS)
        return ((*rflags & X86_ZF) != 0) != (d->rep == 0xf3); /* REPE stops on ZF=0, REPNE on ZF=1 */
    return 0;
}

/* RAM sides (the only steps that can still fail), the stack pointer and vector registers. */
static vf_error_t complete_special(vf_fault_t *f, vf_x86_regs_t *r, const x86_state_t *s)
{
    const x86_dec_t *d = &s->d;
    vf_error_t err;
    if (d->op == X86_OP_MOVS && s->side == 1) {
        if ((err = write_ram(f, s->other, s->out[0], d->memsize)) != VF_OK)
            return err;
    }
    if (d->op == X86_OP_PUSH_M) {
        unsigned ss = stack_size(r, d->mode);
        uint64_t sp = (r->gpr[VF_X86_RSP] - d->memsize) & vf_x86_mask(ss), gpa;
        if (vf_x86_translate(f, r, linear(r, d->mode, X86_SS, sp), X86_ACC_WRITE, &gpa) != 0)
            return vf_fail(f, VF_ERR_UNSUPPORTED, "PUSH: the stack does not translate");
        if ((err = write_ram(f, gpa, s->out[0], d->memsize)) != VF_OK)
            return err;
        vf_x86_set(r, VF_X86_RSP, ss, sp);
    }
    if (d->op == X86_OP_POP_M) {
        unsigned ss = stack_size(r, d->mode);
        vf_x86_set(r, VF_X86_RSP, ss, r->gpr[VF_X86_RSP] + d->memsize);
    }

    if (d->op == X86_OP_SSE_LD)
        sse_load(r, s, vf_rbytes(f));
    return VF_OK;
}

static vf_error_t x86_complete(vf_fault_t *f)
{
    vf_x86_regs_t *r = regs_of(f);
    x86_state_t *s = &f->arch.x86;
    const x86_dec_t *d = &s->d;
    vf_error_t err;
    if (!s->done)
        vf_x86_execute(s, r, vf_rbytes(f));
    if (s->fault)
        return vf_fail_inject(f, VF_INJECT_X86_EXCEPTION, 0, 0, "divide error: inject #DE");

    if (IN(COMPLETE_SPECIAL, d->op) && (err = complete_special(f, r, s)) != VF_OK)
        return err;
    for (unsigned i = 0; i < 2; i++)
        if (s->wsize[i])
            vf_x86_set(r, s->wreg[i], s->wsize[i], s->val[i]);
    r->rflags = s->rflags;
    if (s->cls == X86_C_STRING && !string_regs(r, s, &s->rflags))
        return VF_OK; /* REP continues: the same instruction traps again for the next element */
    x86_skip(f);
    return VF_OK;
}

static const vf_arch_ops_t x86_ops = {x86_decode, x86_access, x86_complete, x86_skip};

/*
 * Decode and present access 0: what vf_fault_decode() does, without its
 * generic round trip (as aarch64's capture_fast), with the same checks.
 * x86_decode fails only through vf_fail().
 */
static vf_error_t first_access(vf_fault_t *f)
{
    vf_error_t err = x86_decode(f);
    if (err != VF_OK)
        return err;
    f->decoded = 1;
    if (x86_access(f, 0) != VF_OK)
        return vf_fail(f, VF_ERR_UNSUPPORTED, "instruction makes no access");
    if (f->acc.size == 0 || f->acc.size > VF_ACCESS_MAX)
        return vf_fail(f, VF_ERR_UNSUPPORTED, "access size out of range");
    vf_engine_present_first(f);
    return VF_OK;
}

vf_error_t vf_x86_capture(vf_fault_t *f, vf_x86_regs_t *regs, const vf_x86_exit_t *exit,
                          const vf_host_t *host)
{
    vf_engine_begin(f, &x86_ops, regs, host);
    f->pc = regs->rip;
    f->ipa = exit->gpa;
    f->gva = exit->gla;
    f->exit_info[0] = exit->qualification;
    if (exit->qualification & VF_X86_QUAL_FETCH)
        return vf_fail(f, VF_ERR_NOT_MMIO, "instruction fetch from device memory");
    if (!(exit->qualification & (VF_X86_QUAL_READ | VF_X86_QUAL_WRITE)))
        return vf_fail(f, VF_ERR_NOT_MMIO, "the exit reports neither a read nor a write");
    return first_access(f);
}
