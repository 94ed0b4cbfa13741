/* Subcommands of the vcpufault tool: each takes argv with argv[0] its own name. */
#ifndef VF_TOOLS_COMMANDS_H
#define VF_TOOLS_COMMANDS_H

#include <vcpufault/vcpufault.h>

int cmd_replay(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_demo_x86(int argc, char **argv);
int cmd_explain(int argc, char **argv);

#endif
