/* Replay: the AArch32 register file and exit fields. */
#include <stddef.h>
#include <vcpufault/aarch32.h>

#include "replay.h"

#define R(name, field, bits) {name, (uint16_t)offsetof(vf_aarch32_regs_t, field), bits}
#define RN(n) R("r" #n, r[n], 32)

static const replay_field_t a32_regs[] = {
    RN(15),
    RN(0), RN(1), RN(2), RN(3), RN(4), RN(5), RN(6), RN(7), RN(8), RN(9), RN(10), RN(11), RN(12),
    RN(13), RN(14),
    R("cpsr", cpsr, 32), R("sctlr", sctlr, 32), R("ttbcr", ttbcr, 32),
    R("ttbr0", ttbr0, 64), R("ttbr1", ttbr1, 64),
};

#define E(name, field, bits) {name, (uint16_t)offsetof(vf_aarch32_exit_t, field), bits}
/* "esr" (an extension): ESR_EL2 of an AArch64 hypervisor, whose SRT uses the AArch64 register view. */
enum { EXIT_HSR, EXIT_HDFAR, EXIT_HPFAR, EXIT_IPA, EXIT_ESR };
static const replay_field_t a32_exit[] = {
    [EXIT_HSR] = E("hsr", hsr, 32), [EXIT_HDFAR] = E("hdfar", hdfar, 32),
    [EXIT_HPFAR] = E("hpfar", hpfar, 32), [EXIT_IPA] = E("ipa", ipa, 64),
    [EXIT_ESR] = E("esr", hsr, 32),
};

static vf_error_t a32_capture(vf_fault_t *f, void *regs, const void *exit, replay_present_t present,
                              const vf_host_t *host)
{
    vf_aarch32_exit_t e = *(const vf_aarch32_exit_t *)exit;
    int hsr = (present & (1u << EXIT_HSR)) != 0, esr = (present & (1u << EXIT_ESR)) != 0;
    if (hsr == esr) {
        vf_fault_init(f);
        f->state = VF_STATE_ERROR;
        f->error = VF_ERR_INVALID;
        f->message = "exit needs exactly one of hsr and esr";
        return VF_ERR_INVALID;
    }
    if (esr)
        e.flags |= VF_AARCH32_EXIT_ESR_EL2;
    if (present & (1u << EXIT_IPA))
        e.flags |= VF_AARCH32_EXIT_IPA;
    return vf_aarch32_capture(f, regs, &e, host);
}

const replay_arch_t replay_arch_aarch32 = {
    "aarch32",
    sizeof(vf_aarch32_regs_t), a32_regs, sizeof(a32_regs) / sizeof(a32_regs[0]),
    sizeof(vf_aarch32_exit_t), a32_exit, sizeof(a32_exit) / sizeof(a32_exit[0]),
    0,
    a32_capture,
};
