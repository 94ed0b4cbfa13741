/* Benchmark harness: medians of repeated timed batches. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCHES 31
#define BATCH_NS 2000000.0 /* aim for about 2 ms a batch */

static volatile uint64_t sink;

void bench_sink(uint64_t v)
{
    sink += v;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_ns(const bench_case_t *c)
{
    uint64_t iters = 1;
    for (;;) { /* calibrate the batch length */
        double t0 = now_ns();
        bench_sink(c->run(iters));
        if (now_ns() - t0 > BATCH_NS / 4 || iters > (1ull << 30))
            break;
        iters *= 2;
    }
    iters *= 4;
    double t[BATCHES];
    for (unsigned b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        bench_sink(c->run(iters));
        t[b] = (now_ns() - t0) / (double)iters;
    }
    qsort(t, BATCHES, sizeof(t[0]), cmp_double);
    return t[BATCHES / 2];
}

int bench_main(int argc, char **argv, const bench_case_t *cases, unsigned n)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (unsigned i = 0; i < n; i++)
            puts(cases[i].name);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "--case") == 0 && strcmp(argv[3], "--iters") == 0) {
        for (unsigned i = 0; i < n; i++) {
            if (strcmp(cases[i].name, argv[2]) == 0) {
                bench_sink(cases[i].run(strtoull(argv[4], NULL, 10)));
                return 0;
            }
        }
        fprintf(stderr, "no case %s\n", argv[2]);
        return 2;
    }
    double med[64];
    for (unsigned i = 0; i < n && i < 64; i++) {
        med[i] = median_ns(&cases[i]);
        printf("%-40s median %8.1f ns/op", cases[i].name, med[i]);
        for (unsigned j = 0; j < i && cases[i].reference != NULL; j++)
            if (strcmp(cases[j].name, cases[i].reference) == 0)
                printf("   %s is %.1fx this", cases[j].name, med[j] / med[i]);
        putchar('\n');
    }
    return 0;
}
