/*
 * Stage-1 translation of the PC (vf_aarch64_translate), with page tables
 * built here by hand; every expected address is assembled from the indices
 * the VA was built from (Arm ARM D8 "The AArch64 Virtual Memory System").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <vcpufault/aarch64.h>

/* Sparse guest memory: 8-byte words at given addresses. */
typedef struct word {
    uint64_t addr, value;
} word_t;

typedef struct mem {
    word_t w[16];
    unsigned n;
    unsigned reads;
} mem_t;

static void put(mem_t *m, uint64_t addr, uint64_t value)
{
    m->w[m->n].addr = addr;
    m->w[m->n].value = value;
    m->n++;
}

static int read_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    mem_t *m = ctx;
    m->reads++;
    for (unsigned i = 0; i < m->n; i++)
        if (m->w[i].addr == gpa && len == 8) {
            uint8_t *b = buf;
            for (unsigned k = 0; k < 8; k++)
                b[k] = (uint8_t)(m->w[i].value >> (8 * k));
            return 0;
        }
    return -1;
}

#define TBL 3ull    /* table descriptor */
#define PAGE 0x403ull /* page descriptor, AF set */
#define BLOCK 0x401ull /* block descriptor, AF set */

static vf_aarch64_regs_t regs4k(void)
{
    vf_aarch64_regs_t r;
    memset(&r, 0, sizeof(r));
    r.sctlr_el1 = 1;                      /* M */
    r.tcr_el1 = 16 | (5ull << 32);         /* T0SZ = 16 (48-bit VA), TG0 = 4K, IPS = 48 bits */
    r.ttbr0_el1 = 0x10000;
    r.pstate = 0x3c5;                      /* EL1h */
    return r;
}

/* L0 idx 1, L1 idx 2, L2 idx 3, L3 idx 4, offset 0x234. */
static const uint64_t VA4K = (1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12) | 0x234;

static void tables4k(mem_t *m, uint64_t l3)
{
    memset(m, 0, sizeof(*m));
    put(m, 0x10000 + 1 * 8, 0x11000 | TBL);
    put(m, 0x11000 + 2 * 8, 0x12000 | TBL);
    put(m, 0x12000 + 3 * 8, 0x13000 | TBL);
    put(m, 0x13000 + 4 * 8, l3);
}

static vf_error_t xlate(mem_t *m, const vf_aarch64_regs_t *r, uint64_t va, uint64_t *pa)
{
    vf_host_t h = {read_phys, NULL, m, 0};
    const char *why = NULL;
    vf_error_t e = vf_aarch64_translate(&h, r, va, pa, &why);
    assert_non_null(why == NULL ? "" : why);
    return e;
}

static void test_4k_page(void **s)
{
    (void)s;
    mem_t m;
    uint64_t pa = 0;
    vf_aarch64_regs_t r = regs4k();
    tables4k(&m, 0x80000 | PAGE);
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_OK);
    assert_int_equal(pa, 0x80234);
    assert_int_equal(m.reads, 4);
}

static void test_4k_block_l2(void **s)
{
    (void)s;
    mem_t m;
    uint64_t pa = 0;
    vf_aarch64_regs_t r = regs4k();
    tables4k(&m, 0);
    m.w[2].value = 0x40000000 | BLOCK; /* L2 entry 3: 2 MiB block */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_OK);
    assert_int_equal(pa, 0x40000000 | (4 << 12) | 0x234);
}

static void test_4k_block_l1(void **s)
{
    (void)s;
    mem_t m;
    uint64_t pa = 0;
    vf_aarch64_regs_t r = regs4k();
    tables4k(&m, 0);
    m.w[1].value = 0x80000000 | BLOCK; /* L1 entry 2: 1 GiB block */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_OK);
    assert_int_equal(pa, 0x80000000 | (3 << 21) | (4 << 12) | 0x234);
}

static void test_4k_faults(void **s)
{
    (void)s;
    mem_t m;
    uint64_t pa;
    vf_aarch64_regs_t r = regs4k();
    tables4k(&m, 0x80000 | (PAGE & ~1ull)); /* invalid */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
    tables4k(&m, 0x80003); /* AF clear */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
    r.tcr_el1 |= 1ull << 39; /* HA: hardware manages AF: fine */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_OK);
    r = regs4k();
    tables4k(&m, 0x80000 | PAGE | (1ull << 53)); /* PXN at EL1 */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
    r.pstate = 0; /* at EL0 PXN does not apply */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_OK);
    tables4k(&m, 0x80000 | PAGE | (1ull << 54)); /* UXN at EL0 */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
    tables4k(&m, 0x80000 | PAGE);
    m.w[0].value |= 1ull << 60; /* UXNTable in L0 */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
    r = regs4k();
    tables4k(&m, 0x80000 | PAGE | (1ull << 6)); /* AP = 01: EL0-writable, so never EL1-executable */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
    tables4k(&m, 0x80000 | 1); /* level 3 descriptor type 01 is reserved */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
    tables4k(&m, 0x80000 | PAGE);
    m.w[0].value = 0x40000000 | BLOCK; /* no L0 blocks with 4K granule */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
    tables4k(&m, 0x80000 | PAGE);
    m.w[2].value = 0x14000 | TBL; /* L3 table not in memory */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
    tables4k(&m, 0x1000000000ull | PAGE); /* 36 bits wide output, IPS = 32 bits */
    r.tcr_el1 = 16;
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
    r = regs4k();
    tables4k(&m, 0x80000 | PAGE);
    assert_int_equal(xlate(&m, &r, VA4K | (1ull << 50), &pa), VF_ERR_FETCH); /* outside 48-bit range */
    r.tcr_el1 |= 1ull << 7; /* EPD0 */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
    r = regs4k();
    r.tcr_el1 = (r.tcr_el1 & ~0x3full) | 8; /* T0SZ = 8: out of range */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
    r = regs4k();
    r.pstate = 0x3c9; /* EL2 */
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH);
}

/* A table that points at itself ends after at most four levels. */
static void test_self_reference_bounded(void **s)
{
    (void)s;
    mem_t m;
    uint64_t pa;
    vf_aarch64_regs_t r = regs4k();
    memset(&m, 0, sizeof(m));
    put(&m, 0x10000, 0x10000 | TBL); /* entry 0 at every level: itself */
    assert_int_equal(xlate(&m, &r, 0x234, &pa), VF_ERR_FETCH); /* level 3 sees 0x10003: AF clear */
    assert_int_equal(m.reads, 4);
    m.w[0].value = 0x10000 | PAGE;
    m.reads = 0;
    assert_int_equal(xlate(&m, &r, 0x234, &pa), VF_OK); /* a table at L0-L2, a page at L3 */
    assert_int_equal(pa, 0x10234);
    assert_int_equal(m.reads, 4);
}

static void test_mmu_off_and_identity(void **s)
{
    (void)s;
    mem_t m;
    uint64_t pa = 0;
    vf_aarch64_regs_t r = regs4k();
    memset(&m, 0, sizeof(m));
    vf_host_t h = {read_phys, NULL, &m, VF_HOST_IDENTITY};
    assert_int_equal(vf_aarch64_translate(&h, &r, 0x123456789ull, &pa, NULL), VF_OK);
    assert_int_equal(pa, 0x123456789ull);
    assert_int_equal(m.reads, 0);
    r.sctlr_el1 = 0;
    h.flags = 0;
    assert_int_equal(vf_aarch64_translate(&h, &r, 0xabcdef0ull, &pa, NULL), VF_OK);
    assert_int_equal(pa, 0xabcdef0ull);
    assert_int_equal(vf_aarch64_translate(NULL, &r, 0, &pa, NULL), VF_ERR_FETCH);
}

/* 64K granule, T0SZ = 22 (42-bit VA): the walk starts at level 2 with 13 index bits. */
static void test_64k(void **s)
{
    (void)s;
    mem_t m;
    uint64_t pa = 0;
    vf_aarch64_regs_t r = regs4k();
    r.tcr_el1 = 22 | (1ull << 14) | (5ull << 32); /* TG0 = 01: 64K */
    r.ttbr0_el1 = 0x20000;
    uint64_t va = (5ull << 29) | (6ull << 16) | 0x1234;
    memset(&m, 0, sizeof(m));
    put(&m, 0x20000 + 5 * 8, 0x30000 | TBL);
    put(&m, 0x30000 + 6 * 8, 0x1230000 | PAGE);
    assert_int_equal(xlate(&m, &r, va, &pa), VF_OK);
    assert_int_equal(pa, 0x1231234);
    /* 52-bit output (FEAT_LPA): OA[51:48] from descriptor bits 15:12. */
    r.tcr_el1 = 22 | (1ull << 14) | (6ull << 32);
    m.w[1].value = 0x1230000 | (0xfull << 12) | PAGE;
    assert_int_equal(xlate(&m, &r, va, &pa), VF_OK);
    assert_int_equal(pa, 0xf000001231234ull);
    /* The same descriptor with a 48-bit IPS: bits 15:12 are ignored in that format. */
    r.tcr_el1 = 22 | (1ull << 14) | (5ull << 32);
    assert_int_equal(xlate(&m, &r, va, &pa), VF_OK);
    assert_int_equal(pa, 0x1231234);
    /* A 512 MiB block at level 2. */
    m.w[0].value = 0x60000000 | BLOCK;
    assert_int_equal(xlate(&m, &r, va, &pa), VF_OK);
    assert_int_equal(pa, 0x60000000 | (6 << 16) | 0x1234);
}

/* 16K granule, T0SZ = 17 (47-bit VA): levels 1, 2, 3 with 11, 11, 11 index bits. */
static void test_16k(void **s)
{
    (void)s;
    mem_t m;
    uint64_t pa = 0;
    vf_aarch64_regs_t r = regs4k();
    r.tcr_el1 = 17 | (2ull << 14) | (5ull << 32); /* TG0 = 10: 16K */
    r.ttbr0_el1 = 0x40000;
    uint64_t va = (0x7ffull << 36) | (1ull << 25) | (2ull << 14) | 0x3ab;
    memset(&m, 0, sizeof(m));
    put(&m, 0x40000 + 0x7ff * 8, 0x44000 | TBL);
    put(&m, 0x44000 + 1 * 8, 0x48000 | TBL);
    put(&m, 0x48000 + 2 * 8, 0x9c000 | PAGE);
    assert_int_equal(xlate(&m, &r, va, &pa), VF_OK);
    assert_int_equal(pa, 0x9c3ab);
}

/* 4K with TCR.DS (FEAT_LPA2), T0SZ = 12: 52-bit VA, the walk starts at level -1. */
static void test_4k_lpa2(void **s)
{
    (void)s;
    mem_t m;
    uint64_t pa = 0;
    vf_aarch64_regs_t r = regs4k();
    r.tcr_el1 = 12 | (6ull << 32) | (1ull << 59); /* T0SZ 12, IPS 52 bits, DS */
    uint64_t va = (1ull << 48) | (2ull << 39) | (3ull << 30) | (4ull << 21) | (5ull << 12) | 0x678;
    memset(&m, 0, sizeof(m));
    put(&m, 0x10000 + 1 * 8, 0x11000 | TBL);
    put(&m, 0x11000 + 2 * 8, 0x12000 | TBL);
    put(&m, 0x12000 + 3 * 8, 0x13000 | TBL);
    put(&m, 0x13000 + 4 * 8, 0x14000 | TBL);
    put(&m, 0x14000 + 5 * 8, 0x80000 | (3ull << 8) | PAGE); /* OA[51:50] = 11 in bits 9:8 */
    assert_int_equal(xlate(&m, &r, va, &pa), VF_OK);
    assert_int_equal(pa, (3ull << 50) | 0x80678);
    assert_int_equal(m.reads, 5);
    /* The same tables with a 48-bit IPS: OA[51:50] set is an address size fault. */
    r.tcr_el1 = 12 | (5ull << 32) | (1ull << 59);
    assert_int_equal(xlate(&m, &r, va, &pa), VF_ERR_FETCH);
}

/* TTBR1: VA bit 55 set, T1SZ = 16, TG1 = 10 (4K). */
static void test_ttbr1(void **s)
{
    (void)s;
    mem_t m;
    uint64_t pa = 0;
    vf_aarch64_regs_t r = regs4k();
    r.tcr_el1 = (16ull << 16) | (2ull << 30) | (5ull << 32) | (1ull << 7); /* TTBR0 walks disabled */
    r.ttbr1_el1 = 0x10000;
    tables4k(&m, 0x80000 | PAGE);
    assert_int_equal(xlate(&m, &r, 0xffff000000000000ull | VA4K, &pa), VF_OK);
    assert_int_equal(pa, 0x80234);
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_ERR_FETCH); /* TTBR0 side: EPD0 */
    r.tcr_el1 &= ~(3ull << 30); /* TG1 = 00 is reserved */
    assert_int_equal(xlate(&m, &r, 0xffff000000000000ull | VA4K, &pa), VF_ERR_FETCH);
}

/* Big-endian tables (SCTLR_EL1.EE): descriptors are read byte-reversed. */
static void test_big_endian_tables(void **s)
{
    (void)s;
    mem_t m;
    uint64_t pa = 0;
    vf_aarch64_regs_t r = regs4k();
    r.sctlr_el1 |= 1ull << 25;
    tables4k(&m, __builtin_bswap64(0x80000 | PAGE));
    for (unsigned i = 0; i < 3; i++)
        m.w[i].value = __builtin_bswap64(m.w[i].value);
    assert_int_equal(xlate(&m, &r, VA4K, &pa), VF_OK);
    assert_int_equal(pa, 0x80234);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_4k_page),      cmocka_unit_test(test_4k_block_l2),
        cmocka_unit_test(test_4k_block_l1),  cmocka_unit_test(test_4k_faults),
        cmocka_unit_test(test_self_reference_bounded), cmocka_unit_test(test_mmu_off_and_identity),
        cmocka_unit_test(test_64k),          cmocka_unit_test(test_16k),
        cmocka_unit_test(test_ttbr1),        cmocka_unit_test(test_4k_lpa2),        cmocka_unit_test(test_big_endian_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
