/*
 * The replay host: fault records (FAULT-RECORD.md) in, results out.
 * Table-driven: each architecture describes its register file and exit
 * fields once (replay_arch_t); parsing and printing are generic.
 */
#ifndef VF_HOST_REPLAY_H
#define VF_HOST_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <vcpufault/vcpufault.h>

/** One named field of a register file or exit structure: `bits` wide at byte `offset`. */
typedef struct replay_field {
    const char *name;
    uint16_t offset;
    uint16_t bits; /* 1..256; values are stored little-endian */
} replay_field_t;

/** Present-field bits passed to capture: bit i set when exit field i was in the record. */
typedef uint32_t replay_present_t;

/** What replay needs to know about one architecture. */
typedef struct replay_arch {
    const char *name;                 /* the record's "arch" */
    size_t regs_size;                 /* sizeof the register struct */
    const replay_field_t *regs;       /* output order: the PC first */
    size_t n_regs;
    size_t exit_size;                 /* sizeof the exit struct */
    const replay_field_t *exit_fields;
    size_t n_exit;
    replay_present_t required;        /* exit fields a record must give */
    /* Capture a fault; `present` says which exit fields the record gave. */
    vf_error_t (*capture)(vf_fault_t *f, void *regs, const void *exit, replay_present_t present,
                          const vf_host_t *host);
} replay_arch_t;

/** The architecture a record names, or NULL. */
const replay_arch_t *replay_find_arch(const char *name);

/** Known architectures that are not implemented yet (answer `unsupported`). */
int replay_arch_planned(const char *name);

/** Options for a replay run. */
typedef struct replay_options {
    unsigned split; /* piece size for wide accesses; FAULT-RECORD.md says 8 */
} replay_options_t;

/** Run one record (a JSON text line); write one JSON result line (with newline) to out. */
void replay_line(const char *line, size_t len, FILE *out);

/** Run every line of `in`; returns 0, or -1 if `in` could not be read. */
int replay_stream(FILE *in, FILE *out);

#endif
