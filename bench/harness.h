/*
 * Benchmark harness. A bench program lists cases (names without spaces); each case runs `iters`
 * operations and returns a checksum so the work cannot be optimised away.
 *   bench_x                      median ns per operation of every case
 *   bench_x --list               case names
 *   bench_x --case NAME --iters N  run one case N times (bench/run.sh counts
 *                                instructions with callgrind this way)
 */
#ifndef VF_BENCH_HARNESS_H
#define VF_BENCH_HARNESS_H

#include <stdint.h>

typedef struct bench_case {
    const char *name;
    uint64_t (*run)(uint64_t iters);
    /* Name of a reference case in the same program to print a ratio against, or NULL. */
    const char *reference;
} bench_case_t;

/* Parse argv and do what it says; returns the exit code. */
int bench_main(int argc, char **argv, const bench_case_t *cases, unsigned n);

/* Keep a value alive. */
void bench_sink(uint64_t v);

#endif
