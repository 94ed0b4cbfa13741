/*
 * Stage-1 translation of an instruction fetch for an AArch32 guest (ARMv7-A
 * ARM B3.5 short-descriptor and B3.6 long-descriptor (LPAE) formats). At most
 * two (short) or three (LPAE) descriptor reads, all through host->read_phys.
 * Checked: validity, execute-never (XN, PXN at PL1, XNTable/PXNTable), PL0
 * access (AP[1], APTable[0]) and the access flag. Not checked: domains (the
 * DACR is not part of the register set), and TEX remap has no effect on a fetch.
 */
#include "a32.h"
#include "../../core/engine.h"

#define FETCH_FAULT(text) (*why = (text), VF_ERR_FETCH)

static vf_error_t read_desc(const vf_host_t *h, uint64_t addr, unsigned n, int big, uint64_t *d,
                            const char **why)
{
    uint8_t b[8];
    if (h->read_phys(h->ctx, addr, b, n) != 0)
        return FETCH_FAULT("translation table entry is not in guest memory");
    *d = vf_le_load(b, n);
    if (big)
        *d = vf_bswap(*d, n);
    return VF_OK;
}

/* Permission checks shared by both formats (ap1 = PL0 may access, af = access flag set). */
static vf_error_t check_perm(int user, uint32_t xn, uint32_t pxn, uint32_t ap1, uint32_t af,
                             const char **why)
{
    if (!af)
        return FETCH_FAULT("access flag fault on the instruction's page");
    if (xn || (pxn && !user))
        return FETCH_FAULT("instruction's page is execute-never");
    if (user && !ap1)
        return FETCH_FAULT("instruction's page is not accessible at PL0");
    return VF_OK;
}

static vf_error_t walk_short(const vf_host_t *h, const vf_aarch32_regs_t *r, uint32_t va,
                             int user, uint64_t *pa, const char **why)
{
    uint32_t n = r->ttbcr & 7u, big = (r->sctlr & A32_SCTLR_EE) != 0;
    int afe = (r->sctlr & A32_SCTLR_AFE) != 0;
    uint64_t d1, d2;
    uint32_t addr;
    vf_error_t e;

    if (n != 0 && (va >> (32u - n)) != 0) {
        if (r->ttbcr & (1u << 5))
            return FETCH_FAULT("TTBR1 walks disabled (TTBCR.PD1)");
        addr = ((uint32_t)r->ttbr1 & 0xffffc000u) | (va >> 20) << 2;
    } else {
        if (r->ttbcr & (1u << 4))
            return FETCH_FAULT("TTBR0 walks disabled (TTBCR.PD0)");
        addr = ((uint32_t)r->ttbr0 & (0xffffc000u << n)) | ((va >> 20) & (0xfffu >> n)) << 2;
    }
    if ((e = read_desc(h, addr, 4, (int)big, &d1, why)) != VF_OK)
        return e;
    switch (d1 & 3u) {
    case 0:
        return FETCH_FAULT("translation fault (first level)");
    case 1: {
        uint32_t pxn = (uint32_t)(d1 >> 2) & 1u;
        addr = ((uint32_t)d1 & 0xfffffc00u) | ((va >> 12) & 0xffu) << 2;
        if ((e = read_desc(h, addr, 4, (int)big, &d2, why)) != VF_OK)
            return e;
        if ((d2 & 3u) == 0)
            return FETCH_FAULT("translation fault (second level)");
        uint32_t ap1 = (uint32_t)(d2 >> 5) & 1u, af = afe ? (uint32_t)(d2 >> 4) & 1u : 1u;
        if ((d2 & 3u) == 1) { /* 64 KB large page */
            *pa = (d2 & 0xffff0000u) | (va & 0xffffu);
            return check_perm(user, (uint32_t)(d2 >> 15) & 1u, pxn, ap1, af, why);
        }
        *pa = (d2 & 0xfffff000u) | (va & 0xfffu);
        return check_perm(user, (uint32_t)d2 & 1u, pxn, ap1, af, why);
    }
    default: { /* section or supersection; bits 1:0 = 0b11 means PXN */
        uint32_t pxn = (uint32_t)d1 & 1u, ap1 = (uint32_t)(d1 >> 11) & 1u;
        uint32_t af = afe ? (uint32_t)(d1 >> 10) & 1u : 1u;
        if (d1 & (1u << 18))
            *pa = (d1 & 0xff000000u) | (va & 0xffffffu) | ((d1 >> 20) & 0xfu) << 32 |
                  ((d1 >> 5) & 0xfu) << 36;
        else
            *pa = (d1 & 0xfff00000u) | (va & 0xfffffu);
        return check_perm(user, (uint32_t)(d1 >> 4) & 1u, pxn, ap1, af, why);
    }
    }
}

#define LPAE_OA_MASK 0x000000fffffff000ull /* output address bits 39:12 */

static vf_error_t walk_lpae(const vf_host_t *h, const vf_aarch32_regs_t *r, uint32_t va,
                            int user, uint64_t *pa, const char **why)
{
    uint32_t t0sz = r->ttbcr & 7u, t1sz = (r->ttbcr >> 16) & 7u, big = (r->sctlr & A32_SCTLR_EE) != 0;
    uint32_t xn = 0, pxn = 0, ap1 = 1, tsz;
    uint64_t ttbr;
    int in1 = t1sz != 0 ? va >= (uint32_t)(0u - (1u << (32u - t1sz)))
                        : t0sz != 0 && va >= (1u << (32u - t0sz));
    if (in1) {
        if (r->ttbcr & (1u << 23))
            return FETCH_FAULT("TTBR1 walks disabled (TTBCR.EPD1)");
        tsz = t1sz;
        ttbr = r->ttbr1;
    } else {
        if (t0sz != 0 && va >= (1u << (32u - t0sz)))
            return FETCH_FAULT("address in neither TTBR0 nor TTBR1 range");
        if (r->ttbcr & (1u << 7))
            return FETCH_FAULT("TTBR0 walks disabled (TTBCR.EPD0)");
        tsz = t0sz;
        ttbr = r->ttbr0;
    }
    /* Start at level 1 (bits 31:30 or 30) when TxSZ <= 1, else at level 2. */
    uint32_t level = tsz <= 1 ? 1u : 2u;
    uint32_t shift = 39u - 9u * level;
    uint32_t bits = 32u - tsz - shift;
    uint64_t base = ttbr & 0xffffffffffull & ~(((uint64_t)8 << bits) - 1u);
    for (;;) {
        uint64_t d;
        vf_error_t e;
        uint32_t idx = (va >> shift) & ((1u << bits) - 1u);
        if ((e = read_desc(h, base + (uint64_t)idx * 8u, 8, (int)big, &d, why)) != VF_OK)
            return e;
        if ((d & 1u) == 0 || (level == 3 && (d & 2u) == 0))
            return FETCH_FAULT("translation fault (LPAE)");
        if (d & 0x0000ff0000000000ull)
            return FETCH_FAULT("address size fault: output address above 40 bits (LPAE)");
        if (level < 3 && (d & 2u) != 0) { /* table */
            xn |= (uint32_t)(d >> 60) & 1u;
            pxn |= (uint32_t)(d >> 59) & 1u;
            ap1 &= ~(uint32_t)(d >> 61) & 1u;
            base = d & LPAE_OA_MASK;
            level++;
            shift -= 9u;
            bits = 9u;
            continue;
        }
        uint64_t low = ((uint64_t)1 << shift) - 1u;
        *pa = (d & LPAE_OA_MASK & ~low) | (va & low);
        xn |= (uint32_t)(d >> 54) & 1u;
        pxn |= (uint32_t)(d >> 53) & 1u;
        ap1 &= (uint32_t)(d >> 6) & 1u;
        return check_perm(user, xn, pxn, ap1, (uint32_t)(d >> 10) & 1u, why);
    }
}

vf_error_t vf_a32_translate(const vf_host_t *h, const vf_aarch32_regs_t *r, uint32_t va,
                            uint64_t *pa, const char **why)
{
    if (h == NULL || h->read_phys == NULL)
        return FETCH_FAULT("guest memory is not reachable (no host read callback)");
    if ((h->flags & VF_HOST_IDENTITY) || !(r->sctlr & A32_SCTLR_M)) {
        *pa = va;
        return VF_OK;
    }
    int user = (r->cpsr & A32_MODE_MASK) == A32_MODE_USR;
    if (r->ttbcr & 0x80000000u)
        return walk_lpae(h, r, va, user, pa, why);
    return walk_short(h, r, va, user, pa, why);
}
