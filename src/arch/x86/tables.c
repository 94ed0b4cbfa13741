/*
 * x86 opcode tables: for every opcode, how its operands are encoded (ModRM,
 * immediate kind, byte size, LOCK) and which operation it is. Every valid
 * opcode is described so that any instruction's length can be decoded; only
 * the ones with an operation are emulated. Facts from the Intel SDM volume 2
 * opcode maps (appendix A).
 */
#include "x86i.h"

/* Shorthands: table cells. */
#define C(op, aux, imm, fl) {X86_OP_##op, aux, X86_I_##imm, fl, 0}
#define N {0, 0, X86_I_NONE, 0, 0}                       /* no operands, not emulated */
#define NI(imm) {0, 0, X86_I_##imm, 0, 0}                /* immediate only, not emulated */
#define NI64(imm) {0, 0, X86_I_##imm, X86_T_I64, 0}      /* same, invalid in 64-bit mode */
#define I64 {0, 0, X86_I_NONE, X86_T_I64, 0}
#define INV {0, 0, X86_I_NONE, X86_T_INV, 0}
#define M {0, 0, X86_I_NONE, X86_T_MODRM, 0}             /* ModRM, not emulated */
#define MI8 {0, 0, X86_I_8, X86_T_MODRM, 0}              /* ModRM and imm8, not emulated */
#define G(g, fl) {0, X86_##g, X86_I_NONE, X86_T_MODRM | X86_T_GRP | (fl), 0}
#define S(row) {0, X86_##row, X86_I_NONE, X86_T_MODRM | X86_T_SSE, 0}
#define MR X86_T_MODRM
#define B X86_T_BYTE
#define L X86_T_LOCK

/* One ALU row (00-05, 08-0D, ...): Eb,Gb Ev,Gv Gb,Eb Gv,Ev AL,Ib rAX,Iz. CMP cannot be locked. */
#define ALU(k, lk)                                                                              \
    C(ALU_ST, X86_##k, NONE, MR | B | (lk)), C(ALU_ST, X86_##k, NONE, MR | (lk)),               \
    C(ALU_LD, X86_##k, NONE, MR | B), C(ALU_LD, X86_##k, NONE, MR), NI(8), NI(Z)

#define N8 N, N, N, N, N, N, N, N
#define M8 M, M, M, M, M, M, M, M
#define M16 M8, M8
#define CC(op, fl) C(op, 0, NONE, MR | (fl)), C(op, 1, NONE, MR | (fl)), C(op, 2, NONE, MR | (fl)), \
    C(op, 3, NONE, MR | (fl)), C(op, 4, NONE, MR | (fl)), C(op, 5, NONE, MR | (fl)),             \
    C(op, 6, NONE, MR | (fl)), C(op, 7, NONE, MR | (fl)), C(op, 8, NONE, MR | (fl)),             \
    C(op, 9, NONE, MR | (fl)), C(op, 10, NONE, MR | (fl)), C(op, 11, NONE, MR | (fl)),           \
    C(op, 12, NONE, MR | (fl)), C(op, 13, NONE, MR | (fl)), C(op, 14, NONE, MR | (fl)),          \
    C(op, 15, NONE, MR | (fl))

/* The one-byte map. Prefixes (26 2E 36 3E 64-67 F0 F2 F3), REX and VEX never reach it. */
const x86_opinfo_t vf_x86_map1[256] = {
    /* 00 */ ALU(ADD, L), I64, I64, ALU(OR, L), I64, N,
    /* 10 */ ALU(ADC, L), I64, I64, ALU(SBB, L), I64, I64,
    /* 20 */ ALU(AND, L), N, I64, ALU(SUB, L), N, I64,
    /* 30 */ ALU(XOR, L), N, I64, ALU(CMP, 0), N, I64,
    /* 40 */ N8, N8,
    /* 50 */ N8, N8,
    /* 60 */ I64, I64, {0, 0, X86_I_NONE, MR | X86_T_I64, 0}, C(MOVSX, 0, NONE, MR),
    /* 64 */ N, N, N, N, NI(Z), C(IMUL3, 0, SZ, MR), NI(8), C(IMUL3, 0, S8, MR),
    /* 6C */ N, N, N, N,
    /* 70 */ NI(REL8), NI(REL8), NI(REL8), NI(REL8), NI(REL8), NI(REL8), NI(REL8), NI(REL8),
    /* 78 */ NI(REL8), NI(REL8), NI(REL8), NI(REL8), NI(REL8), NI(REL8), NI(REL8), NI(REL8),
    /* 80 */ G(G1, B), G(G1, 0), G(G1, B | X86_T_I64), G(G1_S8, 0),
    /* 84 */ C(TEST, 0, NONE, MR | B), C(TEST, 0, NONE, MR), C(XCHG, 0, NONE, MR | B | L),
    /* 87 */ C(XCHG, 0, NONE, MR | L), C(MOV_ST, 0, NONE, MR | B), C(MOV_ST, 0, NONE, MR),
    /* 8A */ C(MOV_LD, 0, NONE, MR | B), C(MOV_LD, 0, NONE, MR), M, M, M, G(G1A, 0),
    /* 90 */ N8,
    /* 98 */ N, N, NI64(PTR), N, N, N, N, N,
    /* A0 */ C(MOV_LD, 0, MOFFS, B), C(MOV_LD, 0, MOFFS, 0), C(MOV_ST, 0, MOFFS, B),
    /* A3 */ C(MOV_ST, 0, MOFFS, 0), C(MOVS, 0, NONE, B), C(MOVS, 0, NONE, 0),
    /* A6 */ C(CMPS, 0, NONE, B), C(CMPS, 0, NONE, 0), NI(8), NI(Z), C(STOS, 0, NONE, B),
    /* AB */ C(STOS, 0, NONE, 0), C(LODS, 0, NONE, B), C(LODS, 0, NONE, 0), C(SCAS, 0, NONE, B),
    /* AF */ C(SCAS, 0, NONE, 0),
    /* B0 */ NI(8), NI(8), NI(8), NI(8), NI(8), NI(8), NI(8), NI(8),
    /* B8 */ NI(V), NI(V), NI(V), NI(V), NI(V), NI(V), NI(V), NI(V),
    /* C0 */ G(G2_IB, B), G(G2_IB, 0), NI(16), N, {0, 0, X86_I_NONE, MR | X86_T_I64, 0},
    /* C5 */ {0, 0, X86_I_NONE, MR | X86_T_I64, 0}, G(G11, B), G(G11, 0),
    /* C8 */ NI(16_8), N, NI(16), N, N, NI(8), I64, N,
    /* D0 */ G(G2, B), G(G2, 0), G(G2, B), G(G2, 0), NI64(8), NI64(8), I64, N,
    /* D8 */ M8,
    /* E0 */ NI(REL8), NI(REL8), NI(REL8), NI(REL8), NI(8), NI(8), NI(8), NI(8),
    /* E8 */ NI(RELZ), NI(RELZ), NI64(PTR), NI(REL8), N, N, N, N,
    /* F0 */ N, N, N, N, N, N, G(G3, B), G(G3, 0),
    /* F8 */ N, N, N, N, N, N, G(G4, B), G(G5, 0),
};

/* The two-byte map (0F xx). 0F 38 and 0F 3A lead to the three-byte maps, handled in decode.c. */
const x86_opinfo_t vf_x86_map2[256] = {
    /* 00 */ M, M, M, M, INV, N, N, N, N, N, INV, N, INV, M, N, INV,
    /* 10 */ S(S_10), S(S_11), M, M, M, M, M, M, M8,
    /* 20 */ M, M, M, M, INV, INV, INV, INV, S(S_28), S(S_29), M, S(S_2B), M, M, M, M,
    /* 30 */ N, N, N, N, N, N, INV, N, INV, INV, INV, INV, INV, INV, INV, INV,
    /* 40 */ CC(CMOVCC, 0),
    /* 50 */ M16,
    /* 60 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, S(S_6E), S(S_6F),
    /* 70 */ MI8, MI8, MI8, MI8, M, M, M, N, M, M, INV, INV, M, M, S(S_7E), S(S_7F),
    /* 80 */ NI(RELZ), NI(RELZ), NI(RELZ), NI(RELZ), NI(RELZ), NI(RELZ), NI(RELZ), NI(RELZ),
    /* 88 */ NI(RELZ), NI(RELZ), NI(RELZ), NI(RELZ), NI(RELZ), NI(RELZ), NI(RELZ), NI(RELZ),
    /* 90 */ CC(SETCC, B),
    /* A0 */ N, N, N, C(BT, 0, NONE, MR), C(SHLD, 0, 8, MR), C(SHLD, 0, NONE, MR), INV, INV,
    /* A8 */ N, N, N, C(BT, 1, NONE, MR | L), C(SHRD, 0, 8, MR), C(SHRD, 0, NONE, MR), G(G15, 0),
    /* AF */ C(IMUL2, 0, NONE, MR),
    /* B0 */ C(CMPXCHG, 0, NONE, MR | B | L), C(CMPXCHG, 0, NONE, MR | L), M, C(BT, 2, NONE, MR | L),
    /* B4 */ M, M, {X86_OP_MOVZX, 0, X86_I_NONE, MR, 1}, {X86_OP_MOVZX, 0, X86_I_NONE, MR, 2},
    /* B8 */ S(S_B8), M, G(G8, 0), C(BT, 3, NONE, MR | L), S(S_BC), S(S_BD),
    /* BE */ {X86_OP_MOVSX, 0, X86_I_NONE, MR, 1}, {X86_OP_MOVSX, 0, X86_I_NONE, MR, 2},
    /* C0 */ C(XADD, 0, NONE, MR | B | L), C(XADD, 0, NONE, MR | L), MI8, C(MOV_ST, 0, NONE, MR),
    /* C4 */ MI8, MI8, MI8, G(G9, 0),
    /* C8 */ N8,
    /* D0 */ M, M, M, M, M, M, S(S_D6), M, M8,
    /* E0 */ M, M, M, M, M, M, M, S(S_E7), M8,
    /* F0 */ M16,
};

/* ModRM.reg-selected groups. Each cell adds its operation, immediate and flags to the opcode's. */
#define A(k, imm, fl) C(ALU_STI, X86_##k, imm, fl)
#define SH(k, imm) C(SHIFT, X86_##k, imm, 0)
const x86_opinfo_t vf_x86_groups[X86_NGROUPS][8] = {
    /* 80 81 82: Eb/Ev, Ib/Iz */
    [X86_G1] = {A(ADD, SZ, L), A(OR, SZ, L), A(ADC, SZ, L), A(SBB, SZ, L), A(AND, SZ, L),
                A(SUB, SZ, L), A(XOR, SZ, L), A(CMP, SZ, 0)},
    /* 83: Ev, sign-extended Ib */
    [X86_G1_S8] = {A(ADD, S8, L), A(OR, S8, L), A(ADC, S8, L), A(SBB, S8, L), A(AND, S8, L),
                   A(SUB, S8, L), A(XOR, S8, L), A(CMP, S8, 0)},
    /* 8F: POP Ev (/1../7 are AMD XOP) */
    [X86_G1A] = {C(POP_M, 0, NONE, X86_T_D64), INV, INV, INV, INV, INV, INV, INV},
    /* C0 C1 */
    [X86_G2_IB] = {SH(ROL, 8), SH(ROR, 8), SH(RCL, 8), SH(RCR, 8), SH(SHL, 8), SH(SHR, 8),
                   SH(SAL, 8), SH(SAR, 8)},
    /* D0-D3: by 1 or by CL */
    [X86_G2] = {SH(ROL, NONE), SH(ROR, NONE), SH(RCL, NONE), SH(RCR, NONE), SH(SHL, NONE),
                SH(SHR, NONE), SH(SAL, NONE), SH(SAR, NONE)},
    /* F6 F7 (/1 is an undocumented alias of TEST) */
    [X86_G3] = {C(TESTI, 0, SZ, 0), C(TESTI, 0, SZ, 0), C(NOT, 0, NONE, L), C(NEG, 0, NONE, L),
                C(MUL, 0, NONE, 0), C(IMUL1, 0, NONE, 0), C(DIV, 0, NONE, 0), C(IDIV, 0, NONE, 0)},
    /* FE */
    [X86_G4] = {C(INC, 0, NONE, L), C(DEC, 0, NONE, L), INV, INV, INV, INV, INV, INV},
    /* FF: INC DEC CALL CALLF JMP JMPF PUSH */
    [X86_G5] = {C(INC, 0, NONE, L), C(DEC, 0, NONE, L), {0, 0, X86_I_NONE, X86_T_D64, 0}, N,
                {0, 0, X86_I_NONE, X86_T_D64, 0}, N, C(PUSH_M, 0, NONE, X86_T_D64), INV},
    /* 0F BA: BT BTS BTR BTC Ev, Ib */
    [X86_G8] = {INV, INV, INV, INV, C(BT, 0, 8, 0), C(BT, 1, 8, L), C(BT, 2, 8, L), C(BT, 3, 8, L)},
    /* 0F C7: /1 CMPXCHG8B/16B; the others (RDRAND, VMPTRLD, XSAVES...) are not emulated */
    [X86_G9] = {INV, C(CMPXCHG8B, 0, NONE, L), INV, N, N, N, N, N},
    /* C6 C7: MOV Eb/Ev, Ib/Iz (/7 with ModRM F8 is XABORT/XBEGIN, not emulated) */
    [X86_G11] = {C(MOV_STI, 0, SZ, 0), INV, INV, INV, INV, INV, INV, INV},
    /* 0F AE: FXSAVE ... CLFLUSH; decode.c picks CLFLUSH(OPT)/CLWB out of /6 /7 */
    [X86_G15] = {N, N, N, N, N, N, N, N},
};

/* SSE moves and the few integer opcodes whose meaning depends on a mandatory prefix. */
#define LD(aux, size) {X86_OP_SSE_LD, aux, X86_I_NONE, 0, size}
#define ST(aux, size) {X86_OP_SSE_ST, aux, X86_I_NONE, 0, size}
#define AL X86_SSE_ALIGN
#define ZR X86_SSE_ZERO
#define Q X86_SSE_Q
#define NT (X86_SSE_ALIGN | X86_SSE_MEMONLY)
const x86_opinfo_t vf_x86_sse[X86_NSSE][4] = {
    /*             none          66            F3             F2 */
    [X86_S_10] = {LD(0, 16), LD(0, 16), LD(ZR, 4), LD(ZR, 8)},          /* MOVUPS MOVUPD MOVSS MOVSD */
    [X86_S_11] = {ST(0, 16), ST(0, 16), ST(0, 4), ST(0, 8)},
    [X86_S_28] = {LD(AL, 16), LD(AL, 16), INV, INV},                    /* MOVAPS MOVAPD */
    [X86_S_29] = {ST(AL, 16), ST(AL, 16), INV, INV},
    [X86_S_2B] = {ST(NT, 16), ST(NT, 16), INV, INV},                    /* MOVNTPS MOVNTPD */
    [X86_S_6E] = {N, LD(ZR | Q, 4), INV, INV},                          /* MMX MOVD; MOVD/MOVQ xmm */
    [X86_S_7E] = {N, ST(Q, 4), LD(ZR, 8), INV},                         /* MOVD/MOVQ store; MOVQ load */
    [X86_S_6F] = {N, LD(AL, 16), LD(0, 16), INV},                       /* MOVDQA MOVDQU */
    [X86_S_7F] = {N, ST(AL, 16), ST(0, 16), INV},
    [X86_S_D6] = {INV, ST(0, 8), N, N},                                 /* MOVQ m64, xmm */
    [X86_S_E7] = {N, ST(NT, 16), INV, INV},                             /* MOVNTQ (MMX); MOVNTDQ */
    [X86_S_B8] = {INV, INV, C(POPCNT, 0, NONE, 0), INV},
    [X86_S_BC] = {C(BSF, 0, NONE, 0), C(BSF, 0, NONE, 0), C(TZCNT, 0, NONE, 0), C(BSF, 0, NONE, 0)},
    [X86_S_BD] = {C(BSR, 0, NONE, 0), C(BSR, 0, NONE, 0), C(LZCNT, 0, NONE, 0), C(BSR, 0, NONE, 0)},
    [X86_S_38F0] = {C(MOVBE_LD, 0, NONE, 0), C(MOVBE_LD, 0, NONE, 0), INV, N}, /* F2: CRC32 */
    [X86_S_38F1] = {C(MOVBE_ST, 0, NONE, 0), C(MOVBE_ST, 0, NONE, 0), INV, N},
    [X86_S_382A] = {N, LD(NT, 16), INV, INV},                           /* MOVNTDQA */
};
