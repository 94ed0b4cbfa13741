/* Internal: what an architecture provides to the fault engine. */
#ifndef VF_CORE_ENGINE_H
#define VF_CORE_ENGINE_H

#include <vcpufault/vcpufault.h>

/* Freestanding: the compiler lowers these to inline code or to the four libc symbols we allow. */
#define vf_memcpy __builtin_memcpy
#define vf_memset __builtin_memset
#define vf_memcmp __builtin_memcmp

/* access() return when the instruction has no access with that index. */
#define VF_END 0x100

struct vf_arch_ops {
    /* Fill f->insn (fetching the instruction if needed) and cross-check it with the exit. */
    vf_error_t (*decode)(vf_fault_t *f);
    /* Fill f->acc, and f->wbuf for a write, for access number idx; VF_OK, VF_END or an error. */
    int (*access)(vf_fault_t *f, uint32_t idx);
    /* Commit registers and PC from f->rbuf. Must check everything before writing anything. */
    vf_error_t (*complete)(vf_fault_t *f);
    /* Move the PC past the instruction without any access. */
    void (*skip)(vf_fault_t *f);
};

/* Put the fault in VF_STATE_ERROR; returns err. */
vf_error_t vf_fail(vf_fault_t *f, vf_error_t err, const char *message);

/* Put the fault in VF_STATE_ERROR with an injection decision; returns VF_ERR_INJECT. */
vf_error_t vf_fail_inject(vf_fault_t *f, uint32_t kind, uint32_t code, uint64_t addr,
                          const char *message);

/* Start a captured fault: common fields, state VF_STATE_ACCESS, not yet decoded. */
void vf_engine_begin(vf_fault_t *f, const vf_arch_ops_t *ops, void *regs, const vf_host_t *host);

/* Bytes of the read buffer as the architecture sees them. */
static inline uint8_t *vf_rbytes(vf_fault_t *f) { return (uint8_t *)f->rbuf; }
static inline uint8_t *vf_wbytes(vf_fault_t *f) { return (uint8_t *)f->wbuf; }

/* Little-endian load/store of n <= 8 bytes, independent of host byte order. */
static inline uint64_t vf_le_load(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i > 0; i--)
        v = (v << 8) | p[i - 1];
    return v;
}

static inline void vf_le_store(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* Store v as 8 little-endian bytes (p has room for 8). */
static inline void vf_le_store8(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    vf_memcpy(p, &v, 8);
#else
    vf_le_store(p, v, 8);
#endif
}

/* Load 8 little-endian bytes and keep the low n (n = 1..8; p has 8 readable bytes). */
static inline uint64_t vf_le_load8(const uint8_t *p, unsigned n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    vf_memcpy(&v, p, 8);
    return n >= 8 ? v : v & (((uint64_t)1 << (n * 8)) - 1);
#else
    return vf_le_load(p, n);
#endif
}

/* Zero n = 1..VF_ACCESS_MAX read-buffer bytes at off: a read access not given data reads 0. */
static inline void vf_rbuf_zero(vf_fault_t *f, unsigned off, unsigned n)
{
    if (n <= 8 && off <= VF_READ_MAX - 8)
        vf_le_store8(vf_rbytes(f) + off, 0); /* one store for the usual access */
    else
        vf_memset(vf_rbytes(f) + off, 0, n);
}

/*
 * Make access 0, just filled in f->acc by the architecture, the current one:
 * what vf_fault_decode() ends with, for the one-step captures that decode and
 * present in a single pass. The access must be 1..VF_ACCESS_MAX bytes.
 */
static inline void vf_engine_present_first(vf_fault_t *f)
{
    f->stage = 0;
    f->off = 0;
    f->rtotal = 0;
    f->acc.index = 0;
    if (f->acc.dir == VF_DIR_READ)
        vf_rbuf_zero(f, 0, f->acc.size);
    f->cur = f->acc;
    if (f->split != 0 && f->cur.size > f->split)
        f->cur.size = f->split;
}

/* Read data at byte offset off of f->rbuf, n = 1..8 bytes: one 8-byte load when it stays inside. */
static inline uint64_t vf_rbuf_load(const vf_fault_t *f, unsigned off, unsigned n)
{
    const uint8_t *p = (const uint8_t *)f->rbuf + off;
    return off <= VF_READ_MAX - 8 ? vf_le_load8(p, n) : vf_le_load(p, n);
}

/* Sign-extend the low `bits` bits of v (1..64). */
static inline uint64_t vf_sext(uint64_t v, unsigned bits)
{
    uint64_t m = (uint64_t)1 << (bits - 1);
    if (bits >= 64)
        return v;
    v &= (m << 1) - 1;
    return (v ^ m) - m;
}

/* Mask of the low n bytes (n = 1..8). */
static inline uint64_t vf_bytes_mask(unsigned n)
{
    return n >= 8 ? ~(uint64_t)0 : (((uint64_t)1 << (n * 8)) - 1);
}

/* Reverse the low n bytes of v (n = 1..8). */
static inline uint64_t vf_bswap(uint64_t v, unsigned n)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < n; i++) {
        r = (r << 8) | (v & 0xff);
        v >>= 8;
    }
    return r;
}

#endif
