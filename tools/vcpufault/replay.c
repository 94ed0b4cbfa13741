/* vcpufault replay [FILE|-] */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "replay/replay.h"

int cmd_replay(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "-";
    FILE *in = stdin;
    if (argc > 2) {
        fputs("usage: vcpufault replay [FILE|-]\n", stderr);
        return 2;
    }
    if (strcmp(path, "-") != 0) {
        in = fopen(path, "r");
        if (in == NULL) {
            fprintf(stderr, "vcpufault replay: %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    int rc = replay_stream(in, stdout);
    if (in != stdin)
        fclose(in);
    if (rc != 0) {
        fprintf(stderr, "vcpufault replay: %s: read error\n", path);
        return 1;
    }
    return 0;
}
