/* Shared helpers for the cmocka tests. */
#ifndef VF_TEST_H
#define VF_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Deterministic pseudo-random numbers (xorshift64*), so failures reproduce. */
typedef struct vf_rng {
    uint64_t s;
} vf_rng_t;

static inline uint64_t vf_rng_next(vf_rng_t *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

/* A flat guest-physical memory for vf_host_t: [base, base + size). */
typedef struct vf_test_ram {
    uint64_t base;
    size_t size;
    uint8_t *bytes;
} vf_test_ram_t;

int vf_test_ram_read(void *ctx, uint64_t gpa, void *buf, size_t len);
int vf_test_ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len);

#endif
