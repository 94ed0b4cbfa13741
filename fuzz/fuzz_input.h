/* Shared by the fuzz targets: carve fixed-width fields off the fuzzer's input. */
#ifndef VF_FUZZ_INPUT_H
#define VF_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* The next (up to) 8 input bytes as a little-endian integer; 0-padded when the input runs out. */
static inline uint64_t take64(const uint8_t **p, size_t *n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8 && *n > 0; i++, (*p)++, (*n)--)
        v |= (uint64_t)**p << (8 * i);
    return v;
}

#endif
