/*
 * Guest linear to guest-physical translation through the guest's own page
 * tables: paging off, 32-bit 2-level (4 MiB pages with CR4.PSE), PAE,
 * 4-level and 5-level. At most five table reads, each through
 * host.read_phys; nothing is written (accessed/dirty bits stay as they are:
 * the hardware set them when it ran the instruction).
 */
#include "x86i.h"

#define CR0_PG (1ull << 31)
#define CR0_WP (1ull << 16)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)
/* Physical address bits 51:12 of an entry (MAXPHYADDR taken as 52). */
#define PTE_ADDR 0x000ffffffffff000ull

/* What the walk accumulates across levels. */
typedef struct walk {
    unsigned user, write, nx;
} walk_t;

static int read_entry(const vf_fault_t *f, uint64_t gpa, unsigned bytes, uint64_t *e)
{
    uint8_t b[8] = {0};
    if (f->host.read_phys == NULL || f->host.read_phys(f->host.ctx, gpa, b, bytes) != 0)
        return -1;
    uint64_t v = 0;
    for (unsigned i = bytes; i > 0; i--)
        v = (v << 8) | b[i - 1];
    *e = v;
    return 0;
}

/* Fold one level's permission bits into the walk. */
static void level(walk_t *w, uint64_t e)
{
    w->user &= (unsigned)((e & PTE_U) != 0);
    w->write &= (unsigned)((e & PTE_W) != 0);
    w->nx |= (unsigned)((e & PTE_NX) != 0);
}

/* Access rights of the final translation (SDM 4.6). */
static int allowed(const vf_x86_regs_t *r, const walk_t *w, unsigned acc)
{
    int user_mode = r->cpl == 3;
    if (user_mode && !w->user)
        return 0;
    if (acc == X86_ACC_FETCH) {
        if (w->nx && (r->efer & EFER_NXE))
            return 0;
        if (!user_mode && w->user && (r->cr4 & CR4_SMEP))
            return 0;
    }
    if (acc == X86_ACC_WRITE && !w->write && (user_mode || (r->cr0 & CR0_WP)))
        return 0;
    return 1;
}

/* 32-bit paging: 2 levels of 4-byte entries, 4 MiB pages with PSE (PSE-36 high bits). */
static int walk32(const vf_fault_t *f, const vf_x86_regs_t *r, uint32_t lin, walk_t *w, uint64_t *gpa)
{
    uint64_t pde, pte;
    if (read_entry(f, (r->cr3 & 0xfffff000u) | ((lin >> 22) << 2), 4, &pde) != 0 || !(pde & PTE_P))
        return -1;
    level(w, pde);
    if ((pde & PTE_PS) && (r->cr4 & CR4_PSE)) {
        if (pde & (1u << 21))
            return -1; /* reserved bit of a 4 MiB entry */
        *gpa = (pde & 0xffc00000u) | ((pde & 0x1fe000u) << 19) | (lin & 0x3fffffu);
        return 0;
    }
    if (read_entry(f, (pde & 0xfffff000u) | (((lin >> 12) & 0x3ffu) << 2), 4, &pte) != 0 ||
        !(pte & PTE_P))
        return -1;
    level(w, pte);
    *gpa = (pte & 0xfffff000u) | (lin & 0xfffu);
    return 0;
}

/* Reserved bits of a 64-bit entry at a level (0 = PTE, 1 = PDE, ...), with `leaf` for large pages. */
static int reserved64(const vf_x86_regs_t *r, uint64_t e, unsigned lvl, int leaf)
{
    if ((e & PTE_NX) && !(r->efer & EFER_NXE))
        return 1;
    if (leaf && lvl == 1 && (e & 0x1fe000ull))
        return 1; /* 2 MiB page: bits 20:13 */
    if (leaf && lvl == 2 && (e & 0x3fffe000ull))
        return 1; /* 1 GiB page: bits 29:13 */
    return 0;
}

/* PAE, 4-level and 5-level paging: 8-byte entries, 9 index bits a level. */
static int walk64(const vf_fault_t *f, const vf_x86_regs_t *r, uint64_t lin, unsigned levels,
                  walk_t *w, uint64_t *gpa)
{
    uint64_t table = r->cr3 & PTE_ADDR, e;
    unsigned lvl = levels;
    if (levels == 3) {
        /* PAE: the 4 PDPTEs at CR3[31:5]; they carry no permission bits. */
        uint64_t pdpte;
        if (read_entry(f, (r->cr3 & 0xffffffe0u) + ((lin >> 30) & 3u) * 8u, 8, &pdpte) != 0 ||
            !(pdpte & PTE_P) || (pdpte & 0x1e6u) || ((pdpte & PTE_NX)))
            return -1;
        table = pdpte & PTE_ADDR;
        lvl = 2;
    }
    while (lvl-- > 0) {
        unsigned shift = 12u + 9u * lvl;
        if (read_entry(f, table + ((lin >> shift) & 0x1ffu) * 8u, 8, &e) != 0 || !(e & PTE_P))
            return -1;
        int leaf = lvl == 0 || (lvl <= 2 && (e & PTE_PS));
        if (lvl >= 3 && (e & PTE_PS))
            return -1; /* PS is reserved in PML4E/PML5E */
        if (reserved64(r, e, lvl, leaf && lvl > 0))
            return -1;
        level(w, e);
        if (leaf) {
            uint64_t off = ((uint64_t)1 << shift) - 1;
            *gpa = (e & PTE_ADDR & ~off) | (lin & off);
            return 0;
        }
        table = e & PTE_ADDR;
    }
    return -1;
}

int vf_x86_translate(const vf_fault_t *f, const vf_x86_regs_t *r, uint64_t lin, unsigned acc,
                     uint64_t *gpa)
{
    walk_t w = {1, 1, 0};
    int rc;
    if ((f->host.flags & VF_HOST_IDENTITY) || !(r->cr0 & CR0_PG) || !(r->cr0 & 1u)) {
        *gpa = lin;
        return 0;
    }
    if (r->efer & EFER_LMA) {
        unsigned bits = (r->cr4 & CR4_LA57) ? 57 : 48;
        int64_t s = (int64_t)(lin << (64 - bits)) >> (64 - bits);
        if ((uint64_t)s != lin)
            return -1; /* not canonical */
        rc = walk64(f, r, lin, bits == 57 ? 5 : 4, &w, gpa);
    } else if (r->cr4 & CR4_PAE) {
        rc = walk64(f, r, lin & 0xffffffffu, 3, &w, gpa);
    } else {
        rc = walk32(f, r, (uint32_t)lin, &w, gpa);
    }
    if (rc != 0 || !allowed(r, &w, acc))
        return -1;
    return 0;
}
