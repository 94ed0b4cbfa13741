/* AArch32 load/store opcode tables (ARMv7-A ARM A5.2.8, A6.2.4, A6.3.7-A6.3.10). */
#include "a32.h"

/* {size, signed, store, dual} */
#define LD(s) {s, 0, 0, 0}
#define LDS(s) {s, 1, 0, 0}
#define ST(s) {s, 0, 1, 0}
#define NONE {0, 0, 0, 0}

/* A32 extra load/store, op2 (bits 6:5) << 1 | L: 01 STRH/LDRH, 10 LDRD/LDRSB, 11 STRD/LDRSH. */
const a32_kind_t vf_a32_extra_kinds[8] = {
    NONE, NONE,
    ST(2), LD(2),
    {4, 0, 0, 1}, LDS(1),
    {4, 0, 1, 1}, LDS(2),
};

/* T16 load/store register offset, opB: STR STRH STRB LDRSB LDR LDRH LDRB LDRSH. */
const a32_kind_t vf_a32_t16_reg_kinds[8] = {
    ST(4), ST(2), ST(1), LDS(1), LD(4), LD(2), LD(1), LDS(2),
};

/* T32 single data item: S (sign, hw1[8]) << 3 | size (hw1[6:5]) << 1 | L (hw1[4]). */
const a32_kind_t vf_a32_t32_kinds[16] = {
    ST(1), LD(1), ST(2), LD(2), ST(4), LD(4), NONE, NONE,
    NONE, LDS(1), NONE, LDS(2), NONE, NONE, NONE, NONE,
};
