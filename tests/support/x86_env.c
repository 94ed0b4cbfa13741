/* Test support for x86: see x86_env.h. */
#include "x86_env.h"

#include <string.h>

void x86_env_init(x86_env_t *e, uint64_t device)
{
    e->n_pages = 0;
    e->device = device;
    e->n_acc = 0;
    e->ram_writes = 0;
}

uint8_t *x86_env_page(x86_env_t *e, uint64_t addr)
{
    if (e->n_pages >= X86_ENV_PAGES)
        return NULL;
    e->page_addr[e->n_pages] = addr & ~0xfffull;
    memset(e->page[e->n_pages], 0, 4096);
    return e->page[e->n_pages++];
}

uint8_t *x86_env_at(x86_env_t *e, uint64_t addr, unsigned len)
{
    for (unsigned i = 0; i < e->n_pages; i++)
        if (addr >= e->page_addr[i] && addr - e->page_addr[i] + len <= 4096)
            return e->page[i] + (addr - e->page_addr[i]);
    return NULL;
}

static uint8_t *ram_at(x86_env_t *e, uint64_t addr, size_t len)
{
    if ((addr & ~0xfffull) == e->device || ((addr + len - 1) & ~0xfffull) == e->device)
        return NULL;
    return len > 4096 ? NULL : x86_env_at(e, addr, (unsigned)len);
}

static int env_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    uint8_t *p = ram_at(ctx, gpa, len);
    if (p == NULL)
        return -1;
    memcpy(buf, p, len);
    return 0;
}

static int env_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    x86_env_t *e = ctx;
    uint8_t *p = ram_at(e, gpa, len);
    if (p == NULL)
        return -1;
    memcpy(p, buf, len);
    e->ram_writes++;
    return 0;
}

vf_host_t x86_env_host(x86_env_t *e, uint32_t flags)
{
    vf_host_t h = {env_read, env_write, e, flags};
    return h;
}

vf_error_t x86_env_run(x86_env_t *e, vf_fault_t *f, vf_x86_regs_t *r, const vf_x86_exit_t *x,
                       uint32_t host_flags, unsigned split)
{
    vf_host_t h = x86_env_host(e, host_flags);
    vf_fault_init(f);
    vf_fault_set_split(f, split);
    vf_error_t err = vf_x86_capture(f, r, x, &h);
    for (unsigned step = 0; err == VF_OK && vf_fault_state(f) == VF_STATE_ACCESS; step++) {
        vf_access_t a = vf_fault_access(f);
        uint8_t *dev = x86_env_at(e, a.addr, a.size);
        if (step >= 16 || a.size == 0 || a.size > 32 || dev == NULL)
            return VF_ERR_INVALID;
        if (e->n_acc < X86_ENV_ACCESSES) {
            x86_env_access_t *rec = &e->acc[e->n_acc++];
            rec->addr = a.addr;
            rec->dir = a.dir;
            rec->size = a.size;
            if (a.dir == VF_DIR_READ)
                memcpy(rec->data, dev, a.size);
            else
                vf_fault_write_data(f, rec->data, sizeof(rec->data));
        }
        if (a.dir == VF_DIR_READ) {
            err = vf_fault_set_read(f, dev, a.size);
        } else {
            err = vf_fault_write_data(f, dev, a.size);
        }
        if (err == VF_OK)
            err = vf_fault_advance(f);
    }
    if (err == VF_OK && vf_fault_state(f) != VF_STATE_DONE)
        err = vf_fault_error(f);
    return err;
}
