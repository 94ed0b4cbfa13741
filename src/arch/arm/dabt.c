/* Data abort syndrome checks shared by AArch64 and AArch32 guests. */
#include "dabt.h"

static arm_dabt_class_t outcome(vf_error_t error, const char *why)
{
    arm_dabt_class_t r = {error, 0, 0, why};
    return r;
}

#define DABT_PLAIN_MASK 0xfc003b80ull  /* EC, VNCR, LST, EA, CM, S1PTW */
#define DABT_PLAIN_VALUE 0x90000000ull /* EC 0x24, the others 0 */

/* Translation (levels -1..3), access flag and permission faults: what stage 2 reports for MMIO. */
static int dfsc_is_emulable(uint32_t dfsc)
{
    return (int)((ARM_DABT_EMULABLE_DFSC >> (dfsc & 0x3fu)) & 1u);
}

arm_dabt_class_t vf_arm_dabt_classify(uint64_t s)
{
    uint32_t dfsc = ARM_DABT_DFSC(s);
    arm_dabt_class_t r = outcome(VF_OK, "");

    /* The usual MMIO exit first: EC 0x24, an emulable DFSC, none of VNCR/LST/EA/CM/S1PTW. */
    if ((s & DABT_PLAIN_MASK) == DABT_PLAIN_VALUE && dfsc_is_emulable(dfsc))
        return r;

    if (ARM_DABT_EC(s) != ARM_EC_DABT_LOWER)
        return outcome(VF_ERR_NOT_MMIO, "not a data abort from a lower exception level (EC != 0x24)");
    if (dfsc == ARM_DFSC_ALIGNMENT || dfsc == ARM_DFSC_EXCL_ATOMIC) {
        r = outcome(VF_ERR_INJECT, dfsc == ARM_DFSC_ALIGNMENT
                                       ? "alignment fault: inject a data abort"
                                       : "exclusive or atomic access to device memory: inject a data abort");
        r.inject_dfsc = dfsc;
        return r;
    }
    if (!dfsc_is_emulable(dfsc) || ARM_DABT_EA(s))
        return outcome(VF_ERR_NOT_MMIO, "not a translation, access flag or permission fault");
    if (ARM_DABT_S1PTW(s))
        return outcome(VF_ERR_NOT_MMIO, "stage-1 page-table walk faulted (S1PTW): not the instruction's access");
    if (ARM_DABT_CM(s)) {
        r = outcome(VF_ERR_NOT_MMIO, "cache maintenance on device memory (CM): skip the instruction");
        r.skippable = 1;
        return r;
    }
    if (ARM_DABT_VNCR(s))
        return outcome(VF_ERR_UNSUPPORTED, "VNCR_EL2 register access (VNCR)");
    if (ARM_DABT_LST(s) != 0)
        return outcome(VF_ERR_UNSUPPORTED, "FEAT_LS64 64-byte single-copy atomic access (LST)");
    return r;
}
