/* The fault engine: stages, pieces, data buffers; architecture-neutral. */
#include "engine.h"

/* The layout promises: architecture state within its reserve, a fault well under 1 KiB per vCPU. */
_Static_assert(sizeof(vf_arch_state_t) == sizeof(((vf_arch_state_t *)0)->reserve),
               "an architecture's private state outgrew vf_arch_state_t's reserve");
_Static_assert(sizeof(vf_fault_t) <= 1024, "vf_fault_t must stay under 1 KiB");

static const char *const error_names[] = {
    "ok", "unsupported", "undefined", "fetch", "mismatch", "not_mmio", "inject", "invalid",
};

const char *vf_error_name(vf_error_t e)
{
    if ((unsigned)e < sizeof(error_names) / sizeof(error_names[0]))
        return error_names[e];
    return "invalid";
}

void vf_fault_init(vf_fault_t *f)
{
    vf_memset(f, 0, sizeof(*f));
    f->message = "";
}

vf_error_t vf_fault_set_split(vf_fault_t *f, unsigned bytes)
{
    if (bytes > VF_ACCESS_MAX || (bytes & (bytes - 1)) != 0)
        return VF_ERR_INVALID;
    f->split = (uint8_t)bytes;
    return VF_OK;
}

vf_error_t vf_fail(vf_fault_t *f, vf_error_t err, const char *message)
{
    f->state = VF_STATE_ERROR;
    f->error = (uint8_t)err;
    f->message = message;
    vf_memset(&f->cur, 0, sizeof(f->cur));
    return err;
}

vf_error_t vf_fail_inject(vf_fault_t *f, uint32_t kind, uint32_t code, uint64_t addr,
                          const char *message)
{
    f->inject.kind = kind;
    f->inject.code = code;
    f->inject.error_code = 0;
    f->inject.addr = addr;
    return vf_fail(f, VF_ERR_INJECT, message);
}

void vf_engine_begin(vf_fault_t *f, const vf_arch_ops_t *ops, void *regs, const vf_host_t *host)
{
    f->ops = ops;
    f->regs = regs;
    if (host != NULL)
        f->host = *host;
    else
        vf_memset(&f->host, 0, sizeof(f->host));
    f->state = VF_STATE_ACCESS;
    f->error = VF_OK;
    f->decoded = 0;
    f->stage = 0;
    f->off = 0;
    f->rtotal = 0;
    f->message = "";
    f->inject.kind = VF_INJECT_NONE;
    vf_memset(&f->insn, 0, sizeof(f->insn));
}

/* Present the piece of the current access that starts at f->off. */
static void expose_piece(vf_fault_t *f)
{
    unsigned left = f->acc.size - f->off;
    f->cur = f->acc;
    f->cur.addr = f->acc.addr + f->off;
    f->cur.size = (uint8_t)(f->split != 0 && left > f->split ? f->split : left);
}

/* Ask the architecture for access number idx and make it current; VF_END when there is none. */
static int start_access(vf_fault_t *f, uint32_t idx)
{
    int rc = f->ops->access(f, idx);
    if (rc != VF_OK)
        return rc;
    if (f->acc.size == 0 || f->acc.size > VF_ACCESS_MAX)
        return (int)vf_fail(f, VF_ERR_UNSUPPORTED, "access size out of range");
    if (f->acc.dir == VF_DIR_READ) {
        if ((unsigned)f->rtotal + f->acc.size > VF_READ_MAX)
            return (int)vf_fail(f, VF_ERR_UNSUPPORTED, "instruction reads more than 64 bytes");
        vf_rbuf_zero(f, f->rtotal, f->acc.size);
    }
    f->acc.index = (uint8_t)idx;
    f->stage = (uint8_t)idx;
    f->off = 0;
    expose_piece(f);
    return VF_OK;
}

vf_error_t vf_fault_decode(vf_fault_t *f)
{
    if (f->decoded)
        return VF_OK;
    if (f->state != VF_STATE_ACCESS)
        return f->state == VF_STATE_ERROR ? (vf_error_t)f->error : VF_ERR_INVALID;
    vf_error_t err = f->ops->decode(f);
    if (err != VF_OK)
        return f->state == VF_STATE_ERROR ? err : vf_fail(f, err, "decode failed");
    f->decoded = 1;
    f->rtotal = 0;
    int rc = start_access(f, 0);
    if (rc == VF_END)
        return vf_fail(f, VF_ERR_UNSUPPORTED, "instruction makes no access");
    return (vf_error_t)rc;
}

vf_state_t vf_fault_state(const vf_fault_t *f)
{
    return (vf_state_t)f->state;
}

vf_error_t vf_fault_error(const vf_fault_t *f)
{
    return f->state == VF_STATE_ERROR ? (vf_error_t)f->error : VF_OK;
}

const char *vf_fault_message(const vf_fault_t *f)
{
    return f->state == VF_STATE_ERROR && f->message != NULL ? f->message : "";
}

/* pending() when the fault is not decoded yet: kept out of line so the hot calls stay leaf-like. */
__attribute__((noinline, cold)) static bool pending_decode(vf_fault_t *f)
{
    return f->state == VF_STATE_ACCESS && vf_fault_decode(f) == VF_OK;
}

/* Decode if needed; true when an access is pending. */
static inline bool pending(vf_fault_t *f)
{
    return (f->state == VF_STATE_ACCESS && f->decoded) || pending_decode(f);
}

vf_access_t vf_fault_access(vf_fault_t *f)
{
    vf_access_t none = {0, 0, 0, 0, 0};
    return pending(f) ? f->cur : none;
}

const vf_insn_t *vf_fault_insn(vf_fault_t *f)
{
    if (f->state == VF_STATE_ACCESS)
        (void)vf_fault_decode(f);
    return f->decoded ? &f->insn : NULL;
}

uint64_t vf_fault_pc(const vf_fault_t *f)
{
    return f->pc;
}

uint64_t vf_fault_reported_address(const vf_fault_t *f)
{
    return f->ipa;
}

vf_error_t vf_fault_write_data(vf_fault_t *f, void *buf, size_t len)
{
    if (!pending(f) || f->cur.dir != VF_DIR_WRITE || len < f->cur.size)
        return VF_ERR_INVALID;
    vf_memcpy(buf, vf_wbytes(f) + f->off, f->cur.size);
    return VF_OK;
}

/* vf_fault_write_value() before decoding: decode, then the call proper (out of line, like pending_decode). */
__attribute__((noinline, cold)) static uint64_t write_value_undecoded(vf_fault_t *f)
{
    return pending_decode(f) ? vf_fault_write_value(f) : 0;
}

uint64_t vf_fault_write_value(vf_fault_t *f)
{
    if (f->state != VF_STATE_ACCESS || !f->decoded) /* a tail call: the usual path saves no registers */
        return write_value_undecoded(f);
    if (f->cur.dir != VF_DIR_WRITE)
        return 0;
    unsigned n = f->cur.size > 8 ? 8 : f->cur.size;
    const uint8_t *p = vf_wbytes(f) + f->off;
    return f->off <= VF_ACCESS_MAX - 8 ? vf_le_load8(p, n) : vf_le_load(p, n); /* one load inside wbuf */
}

vf_error_t vf_fault_set_read(vf_fault_t *f, const void *data, size_t len)
{
    if (!pending(f) || f->cur.dir != VF_DIR_READ || len != f->cur.size)
        return VF_ERR_INVALID;
    vf_memcpy(vf_rbytes(f) + f->rtotal + f->off, data, len);
    return VF_OK;
}

/* vf_fault_set_read_value() before decoding: decode, then the call proper (out of line, like pending_decode). */
__attribute__((noinline, cold)) static vf_error_t set_read_value_undecoded(vf_fault_t *f, uint64_t value)
{
    return pending_decode(f) ? vf_fault_set_read_value(f, value) : VF_ERR_INVALID;
}

vf_error_t vf_fault_set_read_value(vf_fault_t *f, uint64_t value)
{
    if (f->state != VF_STATE_ACCESS || !f->decoded) /* a tail call: the usual path saves no registers */
        return set_read_value_undecoded(f, value);
    if (f->cur.dir != VF_DIR_READ || f->cur.size > 8)
        return VF_ERR_INVALID;
    if ((value & ~vf_bytes_mask(f->cur.size)) != 0)
        return VF_ERR_INVALID;
    unsigned at = (unsigned)f->rtotal + f->off;
    /* The bytes past the piece are zero in value: they clear what later pieces would set. */
    if (at <= VF_READ_MAX - 8)
        vf_le_store8(vf_rbytes(f) + at, value);
    else
        vf_le_store(vf_rbytes(f) + at, value, f->cur.size);
    return VF_OK;
}

vf_error_t vf_fault_advance(vf_fault_t *f)
{
    if (!pending(f))
        return f->state == VF_STATE_ERROR ? (vf_error_t)f->error : VF_ERR_INVALID;
    f->off = (uint8_t)(f->off + f->cur.size);
    if (f->off < f->acc.size) {
        expose_piece(f);
        return VF_OK;
    }
    if (f->acc.dir == VF_DIR_READ)
        f->rtotal = (uint8_t)(f->rtotal + f->acc.size);
    if (!f->insn.fixed || (uint32_t)f->stage + 1u < f->insn.count) {
        int rc = start_access(f, (uint32_t)f->stage + 1u);
        if (rc != VF_END)
            return (vf_error_t)rc;
    }
    vf_error_t err = f->ops->complete(f);
    if (err != VF_OK)
        return f->state == VF_STATE_ERROR ? err : vf_fail(f, err, "completion failed");
    f->state = VF_STATE_DONE;
    vf_memset(&f->cur, 0, sizeof(f->cur));
    return VF_OK;
}

vf_error_t vf_fault_skip(vf_fault_t *f)
{
    bool skippable = (f->insn.flags & VF_INSN_SKIPPABLE) != 0 && f->ops != NULL;
    if (!skippable || (f->state != VF_STATE_ERROR && f->state != VF_STATE_ACCESS))
        return VF_ERR_INVALID;
    f->ops->skip(f);
    f->state = VF_STATE_DONE;
    f->error = VF_OK;
    vf_memset(&f->cur, 0, sizeof(f->cur));
    return VF_OK;
}

void vf_fault_restart(vf_fault_t *f)
{
    f->state = VF_STATE_IDLE;
    f->decoded = 0;
    vf_memset(&f->cur, 0, sizeof(f->cur));
}

vf_inject_t vf_fault_injection(const vf_fault_t *f)
{
    vf_inject_t none = {VF_INJECT_NONE, 0, 0, 0};
    return f->state == VF_STATE_ERROR && f->error == VF_ERR_INJECT ? f->inject : none;
}
