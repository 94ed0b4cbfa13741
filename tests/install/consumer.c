/* A VMM-side program built only from the installed package. */
#include <sel4vm/guest_vcpu_fault.h>
#include <stdio.h>
#include <vcpufault/aarch64.h>

int main(void)
{
    vm_vcpu_t vcpu;
    vf_aarch64_regs_t regs = {0};
    vf_aarch64_exit_t exit = {0x93030007u, 0x9000000u, 0x90000u, 0, 0}; /* ldrb w3, [x0] */
    regs.pc = 0x40001000u;
    vm_vcpu_fault_init(&vcpu);
    if (vf_aarch64_capture(&vcpu.fault, &regs, &exit, NULL) != VF_OK)
        return 1;
    set_vcpu_fault_data(&vcpu, 0xab);
    advance_vcpu_fault(&vcpu);
    printf("x3=0x%llx pc=0x%llx\n", (unsigned long long)regs.x[3], (unsigned long long)regs.pc);
    return regs.x[3] == 0xab && regs.pc == 0x40001004u ? 0 : 1;
}
