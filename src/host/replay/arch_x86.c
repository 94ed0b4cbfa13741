/*
 * Replay: the x86 register file and EPT-violation exit fields.
 *
 * xmmN is the low 128 bits of ymmN (both name the same bytes). replay.c
 * prints a changed register once, under the narrowest of its names that
 * covers every changed byte: xmmN when only bits 127:0 changed, ymmN when
 * bits 255:128 changed too (a VEX.128 load that clears a non-zero upper half).
 */
#include <stddef.h>
#include <vcpufault/x86.h>

#include "replay.h"

#define R(name, field, bits) {name, (uint16_t)offsetof(vf_x86_regs_t, field), bits}
#define G(name, n) R(name, gpr[n], 64)
#define XMM(n) R("xmm" #n, ymm[n], 128)
#define YMM(n) R("ymm" #n, ymm[n], 256)

static const replay_field_t x86_regs[] = {
    R("rip", rip, 64),
    G("rax", 0), G("rcx", 1), G("rdx", 2), G("rbx", 3), G("rsp", 4), G("rbp", 5), G("rsi", 6),
    G("rdi", 7), G("r8", 8), G("r9", 9), G("r10", 10), G("r11", 11), G("r12", 12), G("r13", 13),
    G("r14", 14), G("r15", 15),
    R("rflags", rflags, 64), R("cr0", cr0, 64), R("cr3", cr3, 64), R("cr4", cr4, 64),
    R("efer", efer, 64), R("cs_base", cs_base, 64), R("ds_base", ds_base, 64),
    R("es_base", es_base, 64), R("ss_base", ss_base, 64), R("fs_base", fs_base, 64),
    R("gs_base", gs_base, 64), R("cs_l", cs_l, 1), R("cs_d", cs_d, 1), R("cpl", cpl, 2),
    XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7), XMM(8), XMM(9), XMM(10),
    XMM(11), XMM(12), XMM(13), XMM(14), XMM(15),
    YMM(0), YMM(1), YMM(2), YMM(3), YMM(4), YMM(5), YMM(6), YMM(7), YMM(8), YMM(9), YMM(10),
    YMM(11), YMM(12), YMM(13), YMM(14), YMM(15),
};

#define E(name, field) {name, (uint16_t)offsetof(vf_x86_exit_t, field), 64}
enum { EXIT_GPA, EXIT_GLA, EXIT_QUAL };
static const replay_field_t x86_exit[] = {
    [EXIT_GPA] = E("gpa", gpa), [EXIT_GLA] = E("gla", gla), [EXIT_QUAL] = E("qualification", qualification),
};

static vf_error_t x86_capture(vf_fault_t *f, void *regs, const void *exit, replay_present_t present,
                              const vf_host_t *host)
{
    (void)present;
    return vf_x86_capture(f, regs, exit, host);
}

const replay_arch_t replay_arch_x86 = {
    "x86",
    sizeof(vf_x86_regs_t), x86_regs, sizeof(x86_regs) / sizeof(x86_regs[0]),
    sizeof(vf_x86_exit_t), x86_exit, sizeof(x86_exit) / sizeof(x86_exit[0]),
    (1u << EXIT_GPA) | (1u << EXIT_QUAL),
    x86_capture,
};
