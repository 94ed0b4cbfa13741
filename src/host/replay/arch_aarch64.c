/* Replay: the AArch64 register file and exit fields. */
#include <stddef.h>
#include <vcpufault/aarch64.h>

#include "replay.h"

#define R(name, field, bits) {name, (uint16_t)offsetof(vf_aarch64_regs_t, field), bits}
#define X(n) R("x" #n, x[n], 64)
#define V(n) R("v" #n, v[n], 128)

static const replay_field_t a64_regs[] = {
    R("pc", pc, 64),
    X(0), X(1), X(2), X(3), X(4), X(5), X(6), X(7), X(8), X(9), X(10), X(11), X(12), X(13), X(14),
    X(15), X(16), X(17), X(18), X(19), X(20), X(21), X(22), X(23), X(24), X(25), X(26), X(27),
    X(28), X(29), X(30),
    R("sp_el0", sp_el0, 64), R("sp_el1", sp_el1, 64), R("pstate", pstate, 64),
    V(0), V(1), V(2), V(3), V(4), V(5), V(6), V(7), V(8), V(9), V(10), V(11), V(12), V(13), V(14),
    V(15), V(16), V(17), V(18), V(19), V(20), V(21), V(22), V(23), V(24), V(25), V(26), V(27),
    V(28), V(29), V(30), V(31),
    R("sctlr_el1", sctlr_el1, 64), R("tcr_el1", tcr_el1, 64),
    R("ttbr0_el1", ttbr0_el1, 64), R("ttbr1_el1", ttbr1_el1, 64),
};

#define E(name, field) {name, (uint16_t)offsetof(vf_aarch64_exit_t, field), 64}
enum { EXIT_ESR, EXIT_FAR, EXIT_HPFAR, EXIT_IPA };
static const replay_field_t a64_exit[] = {
    [EXIT_ESR] = E("esr", esr), [EXIT_FAR] = E("far", far),
    [EXIT_HPFAR] = E("hpfar", hpfar), [EXIT_IPA] = E("ipa", ipa),
};

static vf_error_t a64_capture(vf_fault_t *f, void *regs, const void *exit, replay_present_t present,
                              const vf_host_t *host)
{
    vf_aarch64_exit_t e = *(const vf_aarch64_exit_t *)exit;
    if (present & (1u << EXIT_IPA))
        e.flags |= VF_AARCH64_EXIT_IPA;
    return vf_aarch64_capture(f, regs, &e, host);
}

const replay_arch_t replay_arch_aarch64 = {
    "aarch64",
    sizeof(vf_aarch64_regs_t), a64_regs, sizeof(a64_regs) / sizeof(a64_regs[0]),
    sizeof(vf_aarch64_exit_t), a64_exit, sizeof(a64_exit) / sizeof(a64_exit[0]),
    1u << EXIT_ESR,
    a64_capture,
};
