/*
 * Instruction fetch through the guest's EL1&0 stage-1 translation (VMSAv8-64).
 *
 * The walk is bounded (at most five levels, one descriptor read each) and
 * reads guest memory only through host->read_phys. What it checks: valid
 * bits, descriptor types per level, the access flag (unless TCR_EL1.HA), the
 * execute-never bits of the leaf and of the tables above it (UXN at EL0,
 * PXN at EL1, and EL1 may not execute what EL0 may write), and address
 * sizes. Anything else wrong is a `fetch` error too, never a guess.
 */
#include "a64.h"
#include "ldst.h"
#include "../../core/engine.h"

#define SCTLR_M (1ull << 0)
#define SCTLR_EE (1ull << 25)
#define TCR_HA (1ull << 39)
#define TCR_DS (1ull << 59)

#define D_VALID 1ull
#define D_AF (1ull << 10)
#define D_PXN (1ull << 53)
#define D_UXN (1ull << 54)
#define D_PXNTABLE (1ull << 59)
#define D_UXNTABLE (1ull << 60)

typedef struct walk_cfg {
    unsigned gbits;  /* 12, 14 or 16: the granule */
    unsigned vabits; /* 64 - TxSZ */
    unsigned pabits; /* TCR_EL1.IPS */
    int lpa2;        /* TCR_EL1.DS with 4K/16K (FEAT_LPA2): OA[51:50] in descriptor bits 9:8 */
    int lpa64k;      /* 64K granule with 52-bit IPS (FEAT_LPA): OA[51:48] in descriptor bits 15:12 */
    int ttbr52;      /* TTBR BADDR[51:48] in bits 5:2 */
    uint64_t ttbr;
} walk_cfg_t;

static vf_error_t fail(const char **why, const char *text)
{
    if (why != NULL)
        *why = text;
    return VF_ERR_FETCH;
}

/* Output address held by a table/block/page descriptor or a TTBR. */
static uint64_t desc_oa(const walk_cfg_t *c, uint64_t d)
{
    uint64_t oa = d & 0x0000fffffffff000ull;
    if (c->lpa64k)
        oa |= ((d >> 12) & 0xfu) << 48;
    else if (c->lpa2)
        oa = (d & 0x0003fffffffff000ull) | ((d >> 8) & 3u) << 50;
    return oa & ~(((uint64_t)1 << c->gbits) - 1);
}

static int block_allowed(const walk_cfg_t *c, int level)
{
    if (level == 2)
        return 1;
    if (level == 1)
        return c->gbits == 12 || c->lpa2 || c->lpa64k;
    return level == 0 && c->gbits == 12 && c->lpa2;
}

/* Which TTBR, granule and sizes apply to va; VF_OK or a fetch error. */
static vf_error_t configure(const vf_aarch64_regs_t *r, uint64_t va, walk_cfg_t *c, const char **why)
{
    static const uint8_t tg0_bits[4] = {12, 16, 14, 0};
    static const uint8_t tg1_bits[4] = {0, 14, 12, 16};
    static const uint8_t ips_bits[8] = {32, 36, 40, 42, 44, 48, 52, 0};
    uint64_t tcr = r->tcr_el1;
    unsigned upper = (unsigned)(va >> 55) & 1u;
    unsigned tsz = (unsigned)(tcr >> (upper ? 16 : 0)) & 0x3fu;
    unsigned epd = (unsigned)(tcr >> (upper ? 23 : 7)) & 1u;
    unsigned tg = (unsigned)(tcr >> (upper ? 30 : 14)) & 3u;
    int ds = (tcr & TCR_DS) != 0;

    c->gbits = upper ? tg1_bits[tg] : tg0_bits[tg];
    c->pabits = ips_bits[(tcr >> 32) & 7u];
    c->ttbr = upper ? r->ttbr1_el1 : r->ttbr0_el1;
    if (c->gbits == 0 || c->pabits == 0)
        return fail(why, "reserved granule or IPS value in TCR_EL1");
    c->lpa2 = ds && c->gbits != 16;
    c->lpa64k = c->pabits == 52 && c->gbits == 16;
    c->ttbr52 = c->lpa2 || c->lpa64k;
    if (c->pabits == 52 && !c->ttbr52)
        c->pabits = 48; /* 52-bit IPS needs a 52-bit descriptor format */
    if (tsz < (c->gbits == 16 || ds ? 12u : 16u) || tsz > 48u)
        return fail(why, "T0SZ/T1SZ out of range");
    c->vabits = 64u - tsz;
    uint64_t top = va >> c->vabits; /* bits above the VA range: all 0 (TTBR0) or all 1 (TTBR1) */
    uint64_t want = upper ? ((uint64_t)1 << tsz) - 1u : 0;
    if (top != want)
        return fail(why, "PC outside the TTBR0/TTBR1 address range");
    if (epd)
        return fail(why, "translation table walk disabled (EPD0/EPD1)");
    return VF_OK;
}

vf_error_t vf_aarch64_translate(const vf_host_t *host, const vf_aarch64_regs_t *r, uint64_t va,
                                uint64_t *pa, const char **why)
{
    walk_cfg_t c;
    if (host == NULL || host->read_phys == NULL)
        return fail(why, "no guest memory to fetch the instruction from");
    if ((host->flags & VF_HOST_IDENTITY) || !(r->sctlr_el1 & SCTLR_M)) {
        *pa = va;
        return VF_OK;
    }
    unsigned el = (unsigned)(r->pstate >> 2) & 3u;
    if (el > 1)
        return fail(why, "guest at EL2 or EL3: only the EL1&0 regime is walked");
    vf_error_t err = configure(r, va, &c, why);
    if (err != VF_OK)
        return err;

    unsigned stride = c.gbits - 3u;
    int level = 3; /* start where the remaining VA bits fit one table (no division: arm32 has none) */
    for (unsigned covered = c.gbits + stride; covered < c.vabits; covered += stride)
        level--;
    unsigned idx_bits = c.vabits - (c.gbits + stride * (unsigned)(3 - level));
    /* TTBR BADDR[47:1]; with 52-bit output BADDR[51:48] sits in bits 5:2. Low bits below the table's size are RES0. */
    uint64_t table = c.ttbr52 ? (c.ttbr & 0x0000ffffffffffc0ull) | ((c.ttbr >> 2) & 0xfu) << 48
                             : c.ttbr & 0x0000fffffffffffeull;
    table &= ~((((uint64_t)8) << idx_bits) - 1u);
    uint64_t xn_table = 0;

    for (; level <= 3; level++) { /* at most five iterations: the walk is bounded */
        unsigned shift = c.gbits + stride * (unsigned)(3 - level);
        uint64_t idx = (va >> shift) & (((uint64_t)1 << idx_bits) - 1u);
        uint8_t raw[8];
        if ((table >> c.pabits) != 0)
            return fail(why, "address size fault: table beyond the output address size");
        if (host->read_phys(host->ctx, table + idx * 8u, raw, 8) != 0)
            return fail(why, "page table not readable in guest memory");
        uint64_t d = vf_le_load(raw, 8);
        if (r->sctlr_el1 & SCTLR_EE)
            d = vf_bswap(d, 8); /* walks use the EL1 data endianness */
        if (!(d & D_VALID))
            return fail(why, "translation fault: invalid descriptor");
        uint64_t oa = desc_oa(&c, d);
        if ((oa >> c.pabits) != 0)
            return fail(why, "address size fault: output address too wide");
        int is_table = level < 3 && (d & 2u);
        if (is_table) {
            xn_table |= d & (D_PXNTABLE | D_UXNTABLE);
            table = oa;
            idx_bits = stride;
            continue;
        }
        if (level == 3 ? !(d & 2u) : !block_allowed(&c, level))
            return fail(why, "translation fault: reserved descriptor type at this level");
        if (!(d & D_AF) && !(r->tcr_el1 & TCR_HA))
            return fail(why, "access flag fault on the instruction's page");
        int el0_writable = ((d >> 6) & 3u) == 1u; /* AP[2:1] = 01: EL0 read/write */
        int xn = el == 0 ? (d & D_UXN) || (xn_table & D_UXNTABLE)
                         : (d & D_PXN) || (xn_table & D_PXNTABLE) || el0_writable;
        if (xn)
            return fail(why, "permission fault: the instruction's page is execute-never");
        uint64_t span = ((uint64_t)1 << shift) - 1u;
        *pa = (oa & ~span) | (va & span);
        return VF_OK;
    }
    return fail(why, "translation fault: walk did not end in a page");
}

vf_error_t vf_a64_fetch(const vf_host_t *host, const vf_aarch64_regs_t *r, uint64_t pc,
                        uint32_t *word, const char **why)
{
    uint64_t pa = pc;
    uint8_t raw[4];
    if (pc & 3u)
        return fail(why, "PC not aligned to 4 bytes");
    if (host == NULL || host->read_phys == NULL || (!(host->flags & VF_HOST_IDENTITY) && (r->sctlr_el1 & SCTLR_M))) {
        vf_error_t err = vf_aarch64_translate(host, r, pc, &pa, why);
        if (err != VF_OK)
            return err;
    }
    if (host->read_phys(host->ctx, pa, raw, 4) != 0)
        return fail(why, "instruction not in readable guest memory");
    /* A64 instructions are always little-endian. */
    *word = (uint32_t)raw[0] | (uint32_t)raw[1] << 8 | (uint32_t)raw[2] << 16 | (uint32_t)raw[3] << 24;
    return VF_OK;
}
