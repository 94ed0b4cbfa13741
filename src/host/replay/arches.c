/* Replay: the architectures it knows. */
#include <string.h>

#include "replay.h"

extern const replay_arch_t replay_arch_aarch64;
extern const replay_arch_t replay_arch_x86;
extern const replay_arch_t replay_arch_aarch32;

static const replay_arch_t *const arches[] = {
    &replay_arch_aarch64,
    &replay_arch_aarch32,
    &replay_arch_x86,
};

static const char *const planned[] = {"riscv64", "riscv32"};

const replay_arch_t *replay_find_arch(const char *name)
{
    for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
        if (strcmp(arches[i]->name, name) == 0)
            return arches[i];
    return NULL;
}

int replay_arch_planned(const char *name)
{
    for (size_t i = 0; i < sizeof(planned) / sizeof(planned[0]); i++)
        if (strcmp(planned[i], name) == 0)
            return 1;
    return 0;
}
