/* The vcpufault command line. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

#if defined(__linux__) && defined(__x86_64__)
#define VF_DEMO_X86_DEFAULT 1
#else
#define VF_DEMO_X86_DEFAULT 0
#endif

static void usage(FILE *out)
{
    fputs("usage: vcpufault COMMAND [ARGS]\n"
          "  replay [FILE|-]   run fault records (one JSON object per line) and print results\n"
          "  demo [x86]        a guest driver in C runs on the Linux trap host (x86-64)\n"
          "  demo pl011 [FILE] a PL011 UART device model handles a guest's console faults\n"
          "  explain [FILE|-]  describe fault records in words (or --esr/--far/--hpfar/--insn HEX)\n"
          "  version           print the library version\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "replay") == 0)
        return cmd_replay(argc - 1, argv + 1);
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0) {
        /* `demo x86` (the default on x86-64 Linux) or `demo pl011 [FILE]`. */
        if (argc > 2 ? strcmp(argv[2], "x86") == 0 : VF_DEMO_X86_DEFAULT)
            return cmd_demo_x86(argc - 1, argv + 1);
        return cmd_demo(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "version") == 0) {
        printf("vcpufault %d.%d\n", VF_VERSION_MAJOR, VF_VERSION_MINOR);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "vcpufault: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
