/* A flat guest RAM for tests. */
#include <string.h>

#include "vf_test.h"

static int in_range(const vf_test_ram_t *r, uint64_t gpa, size_t len)
{
    return gpa >= r->base && len <= r->size && gpa - r->base <= r->size - len;
}

int vf_test_ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    const vf_test_ram_t *r = ctx;
    if (!in_range(r, gpa, len))
        return -1;
    memcpy(buf, r->bytes + (gpa - r->base), len);
    return 0;
}

int vf_test_ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    vf_test_ram_t *r = ctx;
    if (!in_range(r, gpa, len))
        return -1;
    memcpy(r->bytes + (gpa - r->base), buf, len);
    return 0;
}
