/* Fuzz the fault-record parser and the whole replay path with arbitrary lines. */
#include <stdio.h>

#include "replay/replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (sink == NULL)
        sink = fopen("/dev/null", "w");
    if (sink != NULL)
        replay_line((const char *)data, size, sink);
    return 0;
}
