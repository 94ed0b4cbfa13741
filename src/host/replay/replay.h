/*
 * The replay host: fault records (FAULT-RECORD.md) in, results out.
 * Table-driven: each architecture describes its register file and exit
 * fields once (replay_arch_t); parsing and printing are generic.
 */
#ifndef VF_HOST_REPLAY_H
#define VF_HOST_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
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

#define REPLAY_VALUE_BYTES 32 /* widest field: a 256-bit YMM register */
#define REPLAY_MAX_STEPS 1024 /* accesses one record may make before we call it a runaway */


/** A guest-physical memory range a record gives ("mem"). */
typedef struct mem_range {
    uint64_t addr;
    size_t len;
    uint8_t *bytes;
} mem_range_t;

typedef struct ram_write {
    uint64_t addr;
    size_t len;
    uint8_t bytes[REPLAY_VALUE_BYTES];
} ram_write_t;

/** One parsed record; parse into a zeroed struct, free with replay_record_free(). */
typedef struct replay_record {
    json_t *root;
    json_t *id;
    const replay_arch_t *arch;
    uint8_t *regs_in, *regs_out, *exit;
    replay_present_t present;
    mem_range_t *mem;
    size_t n_mem;
    json_t *reads;
    size_t next_read;
    ram_write_t *ram;
    size_t n_ram;
    int ram_overflow;
    uint32_t host_flags;
} replay_record_t;


/** Parse r->root into the rest of r; NULL, "" (architecture not implemented yet) or a static reason. */
const char *replay_record_parse(replay_record_t *r);
void replay_record_free(replay_record_t *r);

/** The host callbacks over a record's memory (reads from "mem"; writes land there and are logged). */
int replay_host_read(void *ctx, uint64_t gpa, void *buf, size_t len);
int replay_host_write(void *ctx, uint64_t gpa, const void *buf, size_t len);
static inline vf_host_t replay_record_host(replay_record_t *r)
{
    vf_host_t h = {replay_host_read, replay_host_write, r, r->host_flags};
    return h;
}

/** An integer string ("0x..." or decimal) of at most `bits` into little-endian bytes; 0 on success. */
int replay_parse_uint(const char *s, unsigned bits, uint8_t out[REPLAY_VALUE_BYTES]);
/** Lower-case hex with no leading zeros. */
json_t *replay_hex_value(const uint8_t *v, size_t n);
json_t *replay_hex_u64(uint64_t v);

/** Run one record (a JSON text line); write one JSON result line (with newline) to out. */
void replay_line(const char *line, size_t len, FILE *out);

/** Run every line of `in`; returns 0, or -1 if `in` could not be read. */
int replay_stream(FILE *in, FILE *out);

#endif
