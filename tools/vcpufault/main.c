/* The vcpufault command line. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *out)
{
    fputs("usage: vcpufault COMMAND [ARGS]\n"
          "  replay [FILE|-]   run fault records (one JSON object per line) and print results\n"
          "  demo [FILE]       a PL011 UART device model handles a guest's console faults\n"
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
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(argc - 1, argv + 1);
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
