/*
 * vcpufault: the libsel4vm VCPU fault interface.
 *
 * Device code written against libsel4vm's guest_vcpu_fault.h builds against
 * this header unchanged: the ten functions keep their names, parameter and
 * return types. A VMM captures a fault into vcpu->fault with the native API
 * (vcpufault/aarch64.h...) and hands the vcpu to its device code.
 *
 * The current fault is one access of at most sizeof(seL4_Word) bytes. Wider
 * accesses (SIMD, x86 AVX moves, LDP of X registers...) and instructions with
 * several accesses are presented one piece at a time: after
 * advance_vcpu_fault() the same vcpu describes the next piece, and the device
 * code handles it like a new fault, until the instruction is complete.
 *
 * Deliberate differences from libsel4vm, where its behaviour was a bug:
 * - a completed load zero- or sign-extends exactly as the instruction does
 *   (libsel4vm merged the loaded bytes into the old register value, keeping
 *   its upper bits, and ignored sign extension and 32-bit W destinations);
 * - a load or store naming register 31 on AArch64 uses XZR: a load discards
 *   the value, a store writes zero;
 * - an 8-byte access has mask all ones and shift 0 even at an address that is
 *   not 4-byte aligned (libsel4vm shifted the mask and lost bytes);
 * - nothing a guest controls asserts: a fault that cannot be emulated leaves
 *   get_vcpu_fault_size() at 0 and vm_vcpu_fault_error() says why.
 */
#ifndef SEL4VM_GUEST_VCPU_FAULT_H
#define SEL4VM_GUEST_VCPU_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <vcpufault/vcpufault.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * seL4's own headers (sel4/sel4_arch/types.h) define seL4_Word together with
 * the macro seL4_WordBits; use theirs when they came first.
 */
#ifndef seL4_WordBits
/** An unsigned machine word, as seL4 defines it. */
typedef uintptr_t seL4_Word;
#endif

/**
 * The vCPU handle device code receives. The VMM owns it and captures each
 * fault into `fault` with the native API; `cookie` is the VMM's.
 */
typedef struct vm_vcpu {
    vf_fault_t fault; /**< the current fault; split into word-sized pieces */
    seL4_Word data;   /**< read data set so far for the current piece (aligned word) */
    void *cookie;     /**< free for the VMM */
} vm_vcpu_t;

/**
 * Prepare a vcpu for its first capture: zero it and split accesses into
 * sizeof(seL4_Word) pieces. Not part of libsel4vm.
 */
void vm_vcpu_fault_init(vm_vcpu_t *vcpu);

/** Why the current fault cannot be emulated, VF_OK if it can. Not part of libsel4vm. */
vf_error_t vm_vcpu_fault_error(vm_vcpu_t *vcpu);

/***
 * @function get_vcpu_fault_address(vcpu)
 * Guest-physical address of the current access (piece).
 * @param {vm_vcpu_t *} vcpu    The faulting vcpu
 * @return                      The address, or the reported address if the fault cannot be decoded
 */
seL4_Word get_vcpu_fault_address(vm_vcpu_t *vcpu);

/***
 * @function get_vcpu_fault_ip(vcpu)
 * Guest program counter of the instruction that faulted.
 * @param {vm_vcpu_t *} vcpu    The faulting vcpu
 * @return                      The instruction's address
 */
seL4_Word get_vcpu_fault_ip(vm_vcpu_t *vcpu);

/***
 * @function get_vcpu_fault_data(vcpu)
 * For a write: the value being stored, lsb-aligned. For a read: the word
 * given to set_vcpu_fault_data() so far (0 before any).
 * @param {vm_vcpu_t *} vcpu    The faulting vcpu
 * @return                      The data
 */
seL4_Word get_vcpu_fault_data(vm_vcpu_t *vcpu);

/***
 * @function get_vcpu_fault_data_mask(vcpu)
 * The bytes the access covers within its naturally aligned 32-bit word:
 * (all ones of the access size) << ((address & 3) * 8); all ones for an
 * access of 8 bytes.
 * @param {vm_vcpu_t *} vcpu    The faulting vcpu
 * @return                      The mask, 0 if there is no access
 */
seL4_Word get_vcpu_fault_data_mask(vm_vcpu_t *vcpu);

/***
 * @function get_vcpu_fault_size(vcpu)
 * Bytes in the current access: 1, 2, 4 or 8.
 * @param {vm_vcpu_t *} vcpu    The faulting vcpu
 * @return                      The size, 0 if the fault cannot be emulated
 */
size_t get_vcpu_fault_size(vm_vcpu_t *vcpu);

/***
 * @function is_vcpu_read_fault(vcpu)
 * Whether the current access reads the device.
 * @param {vm_vcpu_t *} vcpu    The faulting vcpu
 * @return                      True for a read, false for a write
 */
bool is_vcpu_read_fault(vm_vcpu_t *vcpu);

/***
 * @function set_vcpu_fault_data(vcpu, data)
 * Give the value a read returns, as the aligned 32-bit word the access lies
 * in (for 8 bytes: the value itself); completion takes
 * (data & mask) >> ((address & 3) * 8).
 * @param {vm_vcpu_t *} vcpu    The faulting vcpu
 * @param {seL4_Word} data      The word read from the device
 * @return                      0, or -1 if the current access is not a read
 */
int set_vcpu_fault_data(vm_vcpu_t *vcpu, seL4_Word data);

/***
 * @function emulate_vcpu_fault(vcpu, data)
 * Merge the access into a device register value. For a write:
 * (data & ~mask) | ((fault data << shift) & mask), the register after the
 * store. For a read: (data & ~(mask >> shift)) | ((fault data & mask) >> shift).
 * Changes nothing in the vcpu.
 * @param {vm_vcpu_t *} vcpu    The faulting vcpu
 * @param {seL4_Word} data      The old value
 * @return                      The merged value
 */
seL4_Word emulate_vcpu_fault(vm_vcpu_t *vcpu, seL4_Word data);

/***
 * @function advance_vcpu_fault(vcpu)
 * Finish the current access. If the instruction makes more accesses, the
 * vcpu now describes the next one; after the last, the guest's registers are
 * updated and its PC moves past the instruction.
 * @param {vm_vcpu_t *} vcpu    The faulting vcpu
 */
void advance_vcpu_fault(vm_vcpu_t *vcpu);

/***
 * @function restart_vcpu_fault(vcpu)
 * Let the guest run the same instruction again: nothing is changed.
 * @param {vm_vcpu_t *} vcpu    The faulting vcpu
 */
void restart_vcpu_fault(vm_vcpu_t *vcpu);

#ifdef __cplusplus
}
#endif

#endif
