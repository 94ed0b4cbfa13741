/*
 * x86 instruction lengths against Zydis 4 over random byte strings in 16-,
 * 32- and 64-bit modes. The library decodes the length of every instruction
 * it can describe (emulated or not); wherever both decoders accept a byte
 * string their lengths must agree, and every instruction the library would
 * emulate must be one Zydis accepts. Strings are biased towards prefixes,
 * REX, VEX and the 0F maps so that the interesting encodings come up often.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <Zydis/Zydis.h>

#include "arch/x86/x86i.h"
#include "vf_test.h"

#define CASES 300000

static vf_rng_t rng = {0x243f6a8885a308d3ull};
static uint64_t rnd(void) { return vf_rng_next(&rng); }

static unsigned gen(uint8_t *b, unsigned mode)
{
    static const uint8_t pfx[] = {0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65};
    unsigned n = 0;
    unsigned np = (unsigned)(rnd() % 4);
    for (unsigned i = 0; i < np; i++)
        b[n++] = pfx[rnd() % sizeof(pfx)];
    if (mode == 8 && rnd() % 2)
        b[n++] = (uint8_t)(0x40 | (rnd() & 15));
    switch (rnd() % 6) {
    case 0: case 1:
        b[n++] = 0x0f;
        break;
    case 2:
        b[n++] = 0x0f;
        b[n++] = rnd() % 2 ? 0x38 : 0x3a;
        break;
    case 3:
        b[n++] = rnd() % 2 ? 0xc4 : 0xc5;
        if (mode != 8)
            b[n++] = (uint8_t)(0xc0 | (rnd() & 0x3f));
        break;
    default:
        break;
    }
    while (n < 15)
        b[n++] = (uint8_t)rnd();
    return 15;
}

static void run_mode(unsigned mode, ZydisMachineMode zm, ZydisStackWidth sw)
{
    ZydisDecoder dec;
    assert_int_equal(ZydisDecoderInit(&dec, zm, sw), ZYAN_STATUS_SUCCESS);
    ZydisDecoderEnableMode(&dec, ZYDIS_DECODER_MODE_LZCNT, ZYAN_TRUE);
    ZydisDecoderEnableMode(&dec, ZYDIS_DECODER_MODE_TZCNT, ZYAN_TRUE);
    unsigned compared = 0, emulated = 0, bad = 0;
    for (unsigned i = 0; i < CASES && bad < 20; i++) {
        uint8_t b[16];
        unsigned n = gen(b, mode);
        x86_dec_t d;
        x86_result_t r = vf_x86_decode_bytes(b, n, mode | (zm == ZYDIS_MACHINE_MODE_REAL_16 ? X86_MODE_REAL : 0u), &d);
        int have_len = r.status == X86_DEC_OK || (r.status == X86_DEC_UNSUPPORTED && d.len > 0);
        x86_dec_t g;
        x86_result_t rg = vf_x86_decode_general(b, n, mode | (zm == ZYDIS_MACHINE_MODE_REAL_16 ? X86_MODE_REAL : 0u), &g);
        if (rg.status != r.status || (r.status == X86_DEC_OK && memcmp(&g, &d, sizeof(d)) != 0)) {
            print_error("mode %u: fast and general decode differ\n", mode * 8);
            bad++;
        }
        ZydisDecodedInstruction zi;
        ZyanStatus zs = ZydisDecoderDecodeInstruction(&dec, NULL, b, n, &zi);
        int zok = ZYAN_SUCCESS(zs);
        if (r.status == X86_DEC_OK && (d.flags & X86_D_MEM)) {
            emulated++;
            if (!zok) {
                char hex[40];
                for (unsigned k = 0; k < n; k++)
                    snprintf(hex + 2 * k, 3, "%02x", b[k]);
                print_error("mode %u: %s: emulated by the library (len %u), invalid for Zydis\n", mode * 8, hex, d.len);
                bad++;
                continue;
            }
        }
        if (have_len && zok) {
            compared++;
            if (zi.length != d.len) {
                char hex[40];
                for (unsigned k = 0; k < n; k++)
                    snprintf(hex + 2 * k, 3, "%02x", b[k]);
                print_error("mode %u: %s: length %u, Zydis %u (%s)\n", mode * 8, hex, d.len, zi.length, r.why);
                bad++;
            }
        }
    }
    print_message("mode %u: %u lengths compared, %u emulated instructions accepted by Zydis\n", mode * 8,
                  compared, emulated);
    assert_int_equal(bad, 0);
    assert_true(compared > CASES / 4);
    assert_true(emulated > CASES / 50);
}

static void test_len64(void **s) { (void)s; run_mode(8, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64); }
static void test_len32(void **s) { (void)s; run_mode(4, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32); }
static void test_len16(void **s) { (void)s; run_mode(2, ZYDIS_MACHINE_MODE_REAL_16, ZYDIS_STACK_WIDTH_16); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_len64),
        cmocka_unit_test(test_len32),
        cmocka_unit_test(test_len16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
