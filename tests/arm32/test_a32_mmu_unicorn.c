/*
 * Instruction fetch through the guest's stage-1 tables, against Unicorn 2
 * (QEMU's Cortex-A15 MMU). Each case builds random translation tables
 * (short descriptors: sections, supersections, large and small pages, with
 * TTBCR.N splitting TTBR0/TTBR1; LPAE: 1 GiB and 2 MiB blocks and 4 KiB pages,
 * T0SZ/T1SZ, level-1 and level-2 starts), places `ldr r0, [r1]` (A32, T16, or a
 * T32 one straddling two pages that map to unrelated frames) at a random
 * virtual address, runs it in Unicorn with the MMU on, and then lets the
 * library fetch and complete the same fault from the same tables. Unused
 * table entries are invalid, so a walk that reads the wrong entry fails.
 *
 * Unicorn 2.0.1 quirk: it refuses to start at a virtual address that is not
 * also a mapped region, so the virtual windows are mapped as dummy RAM; the
 * instruction bytes really come from the translated physical address (the
 * dummy windows are zero, which is not `ldr r0, [r1]`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unicorn/unicorn.h>
#include <vcpufault/aarch32.h>

#define PHYS_SIZE 0x800000u   /* physical RAM 0..8 MiB: tables and code frames */
#define DEV 0x40000000u       /* device: identity-mapped 1 MiB section / 1 GiB block */
#define DEV_SIZE 0x10000u
#define VA_LO 0x20400000u     /* virtual windows for code (dummy-mapped, see above) */
#define VA_HI 0x80400000u
#define VA_SIZE 0x400000u
#define FRAMES 0x400000u      /* code frames live in physical 4..8 MiB */
#define PREAMBLE 0x1000u      /* TLBIALL, run with the MMU off */
#define T_L1_0 0x10000u       /* table locations */
#define T_L1_1 0x20000u
#define T_NEXT 0x30000u
#define T_END 0x40000u        /* tables never reach past this */
#define CASES 3000

static uint8_t *phys; /* the test's copy of physical RAM; also written to Unicorn */
static uint64_t rng = 0xabcdef12345ull;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void put32(uint32_t pa, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        phys[pa + i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint32_t pa, uint64_t v)
{
    put32(pa, (uint32_t)v);
    put32(pa + 4, (uint32_t)(v >> 32));
}

static void put16(uint32_t pa, uint32_t v)
{
    phys[pa] = (uint8_t)v;
    phys[pa + 1] = (uint8_t)(v >> 8);
}

typedef struct setup {
    uint32_t ttbcr;
    uint64_t ttbr0, ttbr1;
    uint32_t next; /* next free 4 KiB for a table */
} setup_t;

static uint32_t alloc_table(setup_t *s)
{
    uint32_t t = s->next;
    s->next += 0x1000u;
    return t;
}

/* ---- short descriptors (ARMv7 ARM B3.5) ---- */

/* L1 entry address for va, per TTBCR.N. */
static uint32_t short_l1(const setup_t *s, uint32_t va)
{
    uint32_t n = s->ttbcr & 7u;
    if (n != 0 && (va >> (32 - n)) != 0)
        return (uint32_t)s->ttbr1 + (va >> 20) * 4;
    return (uint32_t)s->ttbr0 + ((va >> 20) & (0xfffu >> n)) * 4;
}

/* Map one 4 KiB virtual page to frame pa through a small page (kind 0) or within a large page (kind 1). */
static void short_map_page(setup_t *s, uint32_t va, uint32_t pa, int large)
{
    uint32_t l1 = short_l1(s, va), l2;
    uint32_t d1 = (uint32_t)phys[l1] | (uint32_t)phys[l1 + 1] << 8 | (uint32_t)phys[l1 + 2] << 16 |
                  (uint32_t)phys[l1 + 3] << 24;
    if ((d1 & 3u) == 1u) {
        l2 = d1 & 0xfffffc00u;
    } else {
        l2 = alloc_table(s);
        put32(l1, l2 | 0x1u);
    }
    if (large) /* 64 KiB large page: AP = 0b11, type 0b01 */
        put32(l2 + ((va >> 12) & 0xffu) * 4, (pa & 0xffff0000u) | 0x31u);
    else       /* small page: AP = 0b11, type 0b10 */
        put32(l2 + ((va >> 12) & 0xffu) * 4, (pa & 0xfffff000u) | 0x32u);
}

/* ---- LPAE (ARMv7 ARM B3.6) ---- */

static int lpae_in_ttbr1(const setup_t *s, uint32_t va)
{
    uint32_t t0 = s->ttbcr & 7u, t1 = (s->ttbcr >> 16) & 7u;
    if (t1 != 0)
        return va >= (uint32_t)(0x100000000ull - (1ull << (32 - t1)));
    return t0 != 0 && va >= (1u << (32 - t0));
}

/* Walk to the entry for va at `level`, creating tables on the way; returns its physical address. */
static uint32_t lpae_entry(setup_t *s, uint32_t va, unsigned level)
{
    int one = lpae_in_ttbr1(s, va);
    uint32_t tsz = one ? (s->ttbcr >> 16) & 7u : s->ttbcr & 7u;
    uint32_t table = (uint32_t)(one ? s->ttbr1 : s->ttbr0);
    unsigned l = tsz <= 1 ? 1 : 2;
    for (;; l++) {
        unsigned shift = 39 - 9 * l;
        uint32_t bits = l == (tsz <= 1 ? 1u : 2u) ? 32 - tsz - shift : 9;
        uint32_t e = table + ((va >> shift) & ((1u << bits) - 1)) * 8;
        if (l == level)
            return e;
        if (l > level || l >= 3)
            fail_msg("no level-%u entry for %#x", level, va);
        uint32_t d = (uint32_t)phys[e] | (uint32_t)phys[e + 1] << 8 | (uint32_t)phys[e + 2] << 16 |
                     (uint32_t)phys[e + 3] << 24;
        if ((d & 3u) == 3u) {
            table = d & 0xfffff000u;
        } else {
            table = alloc_table(s);
            put64(e, (uint64_t)table | 3u);
        }
    }
}

/* ---- one case ---- */

typedef struct mcase {
    int thumb, t32, lpae;
    uint32_t va;
    setup_t s;
    const char *kind;
} mcase_t;

static uint32_t frame(void)
{
    return FRAMES + (rnd() % (FRAMES >> 12)) * 0x1000u;
}

static void build(mcase_t *c)
{
    memset(phys + T_L1_0, 0, T_END - T_L1_0);
    setup_t *s = &c->s;
    memset(s, 0, sizeof(*s));
    s->next = T_NEXT;
    s->ttbr0 = T_L1_0;
    s->ttbr1 = T_L1_1;
    c->thumb = (int)(rnd() % 3);   /* 0 A32, 1 T16, 2 T32 */
    c->t32 = c->thumb == 2;
    c->lpae = (int)(rnd() & 1);
    uint32_t window = (rnd() & 1) ? VA_HI : VA_LO;
    unsigned kind = rnd() % 4;
    c->va = window + (rnd() % VA_SIZE & ~3u);
    if (c->thumb)
        c->va += (rnd() & 1) * 2;
    int straddle = c->t32 && (rnd() & 1) && ((c->lpae && kind == 2) || (!c->lpae && kind >= 2));
    if (straddle)
        c->va = (c->va & ~0xfffu) | 0xffeu;
    if (c->va + 4 > window + VA_SIZE)
        c->va -= 0x1000;

    if (!c->lpae) {
        static const uint32_t ns[3] = {0, 1, 2};
        s->ttbcr = ns[rnd() % 3];
        put32(short_l1(s, DEV), DEV | 0xc02u); /* device: identity section */
        uint32_t pa;
        switch (kind) {
        case 0: /* section */
            pa = (FRAMES + (rnd() % 4) * 0x100000u) | (c->va & 0xfffffu);
            put32(short_l1(s, c->va), (pa & 0xfff00000u) | 0xc02u);
            c->kind = "section";
            break;
        case 1: /* supersection at PA 0 (the windows sit at 4 MiB into a 16 MiB span) */
            pa = c->va & 0xffffffu;
            put32(short_l1(s, c->va), 0x00040c02u);
            c->kind = "supersection";
            break;
        case 2: /* small pages */
            pa = frame() | (c->va & 0xfffu);
            short_map_page(s, c->va, pa, 0);
            if (straddle)
                short_map_page(s, c->va + 2, frame(), 0);
            c->kind = "small page";
            break;
        default: /* large page */
            pa = FRAMES + (rnd() % (FRAMES >> 16)) * 0x10000u + (c->va & 0xffffu);
            short_map_page(s, c->va, pa, 1);
            if (straddle)
                short_map_page(s, c->va + 2, FRAMES + (rnd() % (FRAMES >> 16)) * 0x10000u + ((c->va + 2) & 0xffffu), 1);
            c->kind = "large page";
            break;
        }
        (void)pa;
        return;
    }
    static const uint32_t tsz[4][2] = {{0, 0}, {1, 1}, {2, 0}, {0, 2}};
    unsigned pick = rnd() % 4;
    s->ttbcr = 0x80000000u | tsz[pick][0] | tsz[pick][1] << 16;
    /* The device's 1 GiB region is always in a table that starts at level 1 (see the choices above). */
    put64(lpae_entry(s, DEV, 1), (uint64_t)DEV | 0x401u);
    uint32_t start = lpae_in_ttbr1(s, c->va) ? tsz[pick][1] : tsz[pick][0];
    if (kind == 0 && start <= 1 && c->va >= VA_HI) { /* 1 GiB block at PA 0 */
        put64(lpae_entry(s, c->va, 1), 0x401u);
        c->kind = "lpae 1G block";
    } else if (kind != 2) { /* 2 MiB block */
        uint32_t base = FRAMES + (rnd() & 1) * 0x200000u;
        put64(lpae_entry(s, c->va, 2), (uint64_t)base | 0x401u);
        c->kind = "lpae 2M block";
    } else { /* 4 KiB pages */
        put64(lpae_entry(s, c->va, 3), (uint64_t)frame() | 0x403u);
        if (straddle)
            put64(lpae_entry(s, c->va + 2, 3), (uint64_t)frame() | 0x403u);
        c->kind = "lpae 4K page";
    }
}

/* Translate as the test built it, to place the instruction bytes: a tiny walker over the same rules. */
static int test_translate(const mcase_t *c, uint32_t va, uint32_t *pa)
{
    const setup_t *s = &c->s;
    if (!c->lpae) {
        uint32_t l1 = short_l1(s, va);
        uint32_t d = (uint32_t)phys[l1] | (uint32_t)phys[l1 + 1] << 8 | (uint32_t)phys[l1 + 2] << 16 |
                     (uint32_t)phys[l1 + 3] << 24;
        if ((d & 3u) == 2u) {
            *pa = (d & (1u << 18)) ? (d & 0xff000000u) | (va & 0xffffffu) : (d & 0xfff00000u) | (va & 0xfffffu);
            return 0;
        }
        if ((d & 3u) != 1u)
            return -1;
        uint32_t e = (d & 0xfffffc00u) + ((va >> 12) & 0xffu) * 4;
        uint32_t d2 = (uint32_t)phys[e] | (uint32_t)phys[e + 1] << 8 | (uint32_t)phys[e + 2] << 16 |
                      (uint32_t)phys[e + 3] << 24;
        if ((d2 & 3u) == 1u)
            *pa = (d2 & 0xffff0000u) | (va & 0xffffu);
        else if (d2 & 2u)
            *pa = (d2 & 0xfffff000u) | (va & 0xfffu);
        else
            return -1;
        return 0;
    }
    int one = lpae_in_ttbr1(s, va);
    uint32_t tsz = one ? (s->ttbcr >> 16) & 7u : s->ttbcr & 7u;
    uint32_t table = (uint32_t)(one ? s->ttbr1 : s->ttbr0);
    for (unsigned l = tsz <= 1 ? 1 : 2; l <= 3; l++) {
        unsigned shift = 39 - 9 * l;
        uint32_t bits = l == (tsz <= 1 ? 1u : 2u) ? 32 - tsz - shift : 9;
        uint32_t e = table + ((va >> shift) & ((1u << bits) - 1)) * 8;
        uint32_t d = (uint32_t)phys[e] | (uint32_t)phys[e + 1] << 8 | (uint32_t)phys[e + 2] << 16 |
                     (uint32_t)phys[e + 3] << 24;
        if (!(d & 1u))
            return -1;
        if (l < 3 && (d & 2u)) {
            table = d & 0xfffff000u;
            continue;
        }
        *pa = (d & 0xfffff000u & ~((1u << shift) - 1)) | (va & ((1u << shift) - 1));
        return 0;
    }
    return -1;
}

static int read_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    (void)ctx;
    if (gpa >= PHYS_SIZE || gpa + len > PHYS_SIZE)
        return -1;
    memcpy(buf, phys + gpa, len);
    return 0;
}

static uint32_t hook_addr, hook_n;

static void hook(uc_engine *uc, uc_mem_type t, uint64_t a, int size, int64_t v, void *u)
{
    (void)uc, (void)t, (void)size, (void)v, (void)u;
    hook_addr = (uint32_t)a;
    hook_n++;
}

static void cp15(uc_engine *uc, unsigned crn, unsigned crm, unsigned opc1, unsigned opc2, uint64_t v, int is64)
{
    uc_arm_cp_reg r = {15, (uint32_t)is64, 0, crn, crm, opc1, opc2, v};
    assert_int_equal(uc_reg_write(uc, UC_ARM_REG_CP_REG, &r), UC_ERR_OK);
}

static uc_engine *open_uc(int thumb)
{
    uc_engine *uc;
    uc_hook h;
    void *cb;
    uc_cb_hookmem_t fn = hook;
    memcpy(&cb, &fn, sizeof(cb));
    assert_int_equal(uc_open(UC_ARCH_ARM, thumb ? UC_MODE_THUMB : UC_MODE_ARM, &uc), UC_ERR_OK);
    uc_ctl_set_cpu_model(uc, UC_CPU_ARM_CORTEX_A15);
    assert_int_equal(uc_mem_map(uc, 0, PHYS_SIZE, UC_PROT_ALL), UC_ERR_OK);
    assert_int_equal(uc_mem_map(uc, DEV, DEV_SIZE, UC_PROT_ALL), UC_ERR_OK);
    assert_int_equal(uc_mem_map(uc, VA_LO, VA_SIZE, UC_PROT_ALL), UC_ERR_OK);
    assert_int_equal(uc_mem_map(uc, VA_HI, VA_SIZE, UC_PROT_ALL), UC_ERR_OK);
    assert_int_equal(uc_hook_add(uc, &h, UC_HOOK_MEM_READ, cb, NULL, DEV, DEV + DEV_SIZE - 1), UC_ERR_OK);
    /* mcr p15, 0, r0, c8, c7, 0 (TLBIALL): A32 word, or T32 halfwords 0xee08 0x0f17. */
    static const uint8_t tlbiall_a32[4] = {0x17, 0x0f, 0x08, 0xee}, tlbiall_t32[4] = {0x08, 0xee, 0x17, 0x0f};
    assert_int_equal(uc_mem_write(uc, PREAMBLE, thumb ? tlbiall_t32 : tlbiall_a32, 4), UC_ERR_OK);
    return uc;
}

static void test_fetch_through_tables(void **state)
{
    (void)state;
    uc_engine *ucs[2] = {open_uc(0), open_uc(1)};
    unsigned done = 0, straddles = 0, lpae = 0;
    uint32_t dirty_end[2] = {T_END, T_END};
    phys = calloc(1, PHYS_SIZE);
    assert_non_null(phys);
    for (unsigned i = 0; i < CASES; i++) {
        mcase_t c;
        build(&c);
        uint32_t pa0, pa2;
        assert_int_equal(test_translate(&c, c.va, &pa0), 0);
        pa2 = pa0 + 2;
        if (c.t32)
            assert_int_equal(test_translate(&c, c.va + 2, &pa2), 0);
        if (c.thumb == 0) {
            put32(pa0, 0xe5910000u); /* ldr r0, [r1] */
        } else if (c.thumb == 1) {
            put16(pa0, 0x6808u);     /* ldr r0, [r1] */
        } else {
            put16(pa0, 0xf8d1u);     /* ldr.w r0, [r1] */
            put16(pa2, 0x0000u);
        }
        straddles += pa2 != pa0 + 2;
        lpae += c.lpae;
        uc_engine *uc = ucs[c.thumb != 0];
        assert_true(c.s.next <= T_END);
        /* Tables: everything this case or the last one of this engine used. */
        uint32_t *dirty = &dirty_end[c.thumb != 0], end = c.s.next > *dirty ? c.s.next : *dirty;
        assert_int_equal(uc_mem_write(uc, T_L1_0, phys + T_L1_0, end - T_L1_0), UC_ERR_OK);
        *dirty = c.s.next;
        unsigned len0 = c.thumb == 0 ? 4u : 2u; /* bytes at pa0; a T32's second halfword is at pa2 */
        assert_int_equal(uc_mem_write(uc, pa0, phys + pa0, len0), UC_ERR_OK);
        if (c.t32)
            assert_int_equal(uc_mem_write(uc, pa2, phys + pa2, 2), UC_ERR_OK);
        uint32_t cpsr = 0x13, r1 = DEV + (rnd() % (DEV_SIZE / 4)) * 4, zero = 0;
        uc_reg_write(uc, UC_ARM_REG_CPSR, &cpsr);
        uc_reg_write(uc, UC_ARM_REG_R1, &r1);
        uc_reg_write(uc, UC_ARM_REG_R0, &zero);
        cp15(uc, 1, 0, 0, 0, 0x00c50078u, 0); /* MMU off while the tables change */
        cp15(uc, 2, 0, 0, 2, c.s.ttbcr, 0);
        if (c.lpae) {
            cp15(uc, 0, 2, 0, 0, c.s.ttbr0, 1);
            cp15(uc, 0, 2, 1, 0, c.s.ttbr1, 1);
        } else {
            cp15(uc, 2, 0, 0, 0, c.s.ttbr0, 0);
            cp15(uc, 2, 0, 0, 1, c.s.ttbr1, 0);
        }
        cp15(uc, 3, 0, 0, 0, 0x55555555u, 0); /* every domain a client: AP is checked */
        /*
         * Register writes through the API do not flush QEMU's TLB, so the
         * guest does it: TLBIALL at PREAMBLE with the MMU still off.
         */
        assert_int_equal(uc_emu_start(uc, PREAMBLE | (c.thumb ? 1u : 0u), PREAMBLE + 0x100, 0, 1), UC_ERR_OK);
        cp15(uc, 1, 0, 0, 0, 0x00c50079u, 0); /* MMU on */
        uc_ctl_remove_cache(uc, c.va & ~0xfffu, (c.va & ~0xfffu) + 0x2000);
        uint32_t value = rnd();
        assert_int_equal(uc_mem_write(uc, r1, &value, 4), UC_ERR_OK);
        hook_n = 0;
        uc_err e = uc_emu_start(uc, c.va | (c.thumb ? 1u : 0u), c.va + 0x100, 0, 1);
        uint32_t r0, pc;
        uc_reg_read(uc, UC_ARM_REG_R0, &r0);
        uc_reg_read(uc, UC_ARM_REG_PC, &pc);
        /* A fetch fault on the page after the instruction can stop Unicorn once the instruction is done. */
        unsigned len = c.thumb == 1 ? 2u : 4u;
        int completed = hook_n == 1 && hook_addr == r1 && r0 == value && pc == c.va + len;
        if (!completed || (e != UC_ERR_OK && e != UC_ERR_EXCEPTION)) {
            uint8_t back[4] = {0};
            uc_mem_read(uc, pa0, back, 4);
            fprintf(stderr, "case %u (%s, ttbcr %#x, va %#x, pa %#x/%#x thumb %d): Unicorn did not run it: %s, r0 %#x pc %#x hooks %u bytes %02x%02x%02x%02x\n", i, c.kind,
                    c.s.ttbcr, c.va, pa0, pa2, c.thumb, uc_strerror(e), r0, pc, hook_n, back[0], back[1], back[2], back[3]);
            fail();
        }
        /* The library, from the same tables. */
        vf_aarch32_regs_t regs;
        memset(&regs, 0, sizeof(regs));
        regs.r[1] = r1;
        regs.r[15] = c.va;
        regs.cpsr = 0x13u | (c.thumb ? 0x20u : 0u);
        regs.sctlr = 0x00c50079u;
        regs.ttbcr = c.s.ttbcr;
        regs.ttbr0 = c.s.ttbr0;
        regs.ttbr1 = c.s.ttbr1;
        vf_aarch32_exit_t x = {0x92000007u, r1, (r1 >> 12) << 4, 0, 0};
        vf_host_t host = {read_phys, NULL, NULL, 0};
        vf_fault_t f;
        vf_fault_init(&f);
        vf_error_t err = vf_aarch32_capture(&f, &regs, &x, &host);
        if (err != VF_OK) {
            fprintf(stderr, "case %u (%s, ttbcr %#x, va %#x): library: %s (%s)\n", i, c.kind, c.s.ttbcr, c.va,
                    vf_error_name(err), vf_fault_message(&f));
            fail();
        }
        vf_access_t a = vf_fault_access(&f);
        assert_int_equal(a.addr, r1);
        assert_int_equal(a.size, 4);
        assert_int_equal(vf_fault_set_read_value(&f, value), VF_OK);
        assert_int_equal(vf_fault_advance(&f), VF_OK);
        assert_int_equal(regs.r[0], r0);
        assert_int_equal(regs.r[15], pc);
        /* Remove the instruction so that a later wrong walk cannot find it. */
        memset(phys + pa0, 0, len0);
        assert_int_equal(uc_mem_write(uc, pa0, phys + pa0, len0), UC_ERR_OK);
        if (c.t32) {
            memset(phys + pa2, 0, 2);
            assert_int_equal(uc_mem_write(uc, pa2, phys + pa2, 2), UC_ERR_OK);
        }
        done++;
    }
    printf("stage-1 fetch: %u cases agree with Unicorn's MMU (%u LPAE, %u T32 straddling two frames)\n", done,
           lpae, straddles);
    free(phys);
    uc_close(ucs[0]);
    uc_close(ucs[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fetch_through_tables)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
