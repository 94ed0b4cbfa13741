/* The libsel4vm VCPU fault interface on top of the native API. */
#include <sel4vm/guest_vcpu_fault.h>

#include "../core/engine.h"

#define WORD_BYTES ((unsigned)sizeof(seL4_Word))

void vm_vcpu_fault_init(vm_vcpu_t *vcpu)
{
    vf_memset(vcpu, 0, sizeof(*vcpu));
    vf_fault_init(&vcpu->fault);
    (void)vf_fault_set_split(&vcpu->fault, WORD_BYTES < 8 ? WORD_BYTES : 8);
}

vf_error_t vm_vcpu_fault_error(vm_vcpu_t *vcpu)
{
    if (vf_fault_state(&vcpu->fault) == VF_STATE_ACCESS)
        (void)vf_fault_decode(&vcpu->fault);
    return vf_fault_error(&vcpu->fault);
}

/* Bit offset of the access within its aligned word; 0 for 8-byte accesses. */
static unsigned shift_of(const vf_access_t *a)
{
    return a->size >= 8 ? 0 : (unsigned)(a->addr & 3u) * 8u;
}

static seL4_Word mask_of(const vf_access_t *a)
{
    if (a->size == 0)
        return 0;
    return (seL4_Word)vf_bytes_mask(a->size) << shift_of(a);
}

seL4_Word get_vcpu_fault_address(vm_vcpu_t *vcpu)
{
    vf_access_t a = vf_fault_access(&vcpu->fault);
    return (seL4_Word)(a.size != 0 ? a.addr : vf_fault_reported_address(&vcpu->fault));
}

seL4_Word get_vcpu_fault_ip(vm_vcpu_t *vcpu)
{
    return (seL4_Word)vf_fault_pc(&vcpu->fault);
}

seL4_Word get_vcpu_fault_data(vm_vcpu_t *vcpu)
{
    vf_access_t a = vf_fault_access(&vcpu->fault);
    if (a.size != 0 && a.dir == VF_DIR_WRITE)
        return (seL4_Word)vf_fault_write_value(&vcpu->fault);
    return vcpu->data;
}

seL4_Word get_vcpu_fault_data_mask(vm_vcpu_t *vcpu)
{
    vf_access_t a = vf_fault_access(&vcpu->fault);
    return mask_of(&a);
}

size_t get_vcpu_fault_size(vm_vcpu_t *vcpu)
{
    return vf_fault_access(&vcpu->fault).size;
}

bool is_vcpu_read_fault(vm_vcpu_t *vcpu)
{
    vf_access_t a = vf_fault_access(&vcpu->fault);
    return a.size != 0 && a.dir == VF_DIR_READ;
}

int set_vcpu_fault_data(vm_vcpu_t *vcpu, seL4_Word data)
{
    vf_access_t a = vf_fault_access(&vcpu->fault);
    if (a.size == 0 || a.dir != VF_DIR_READ)
        return -1;
    vcpu->data = data;
    return 0;
}

seL4_Word emulate_vcpu_fault(vm_vcpu_t *vcpu, seL4_Word data)
{
    vf_access_t a = vf_fault_access(&vcpu->fault);
    seL4_Word mask = mask_of(&a);
    unsigned shift = shift_of(&a);
    if (a.size != 0 && a.dir == VF_DIR_WRITE) {
        seL4_Word value = (seL4_Word)vf_fault_write_value(&vcpu->fault);
        return (data & ~mask) | ((value << shift) & mask);
    }
    return (data & ~(mask >> shift)) | ((vcpu->data & mask) >> shift);
}

void advance_vcpu_fault(vm_vcpu_t *vcpu)
{
    vf_access_t a = vf_fault_access(&vcpu->fault);
    if (a.size == 0)
        return;
    if (a.dir == VF_DIR_READ) {
        uint64_t value = (uint64_t)((vcpu->data & mask_of(&a)) >> shift_of(&a));
        (void)vf_fault_set_read_value(&vcpu->fault, value & vf_bytes_mask(a.size));
    }
    vcpu->data = 0;
    (void)vf_fault_advance(&vcpu->fault);
}

void restart_vcpu_fault(vm_vcpu_t *vcpu)
{
    vcpu->data = 0;
    vf_fault_restart(&vcpu->fault);
}
