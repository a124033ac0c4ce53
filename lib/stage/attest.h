/* SPDX-License-Identifier: MIT */
/*
 * The stage's TEE primitive for reports (attest.c): the stage asks for a report over the
 * report_data it computed, on the protected side, with no help from the host.
 */
#ifndef EBCC_STAGE_ATTEST_H
#define EBCC_STAGE_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "../base/frame.h"

/*
 * A report over report_data from the stage's attestation primitive (frame.h, EBCC_ATTEST_FD)
 * into report (cap bytes). 1 with *ret_len set when there is a report; 0 when the stage has no
 * primitive of its own (its backend's host side, inside the TEE, reports instead); < 0 when
 * the primitive failed or refused (EBCC_ERR_* code).
 */
int ebcc__stage_attest(const uint8_t report_data[EBCC_FRAME_REPORT_DATA_SIZE], uint8_t *report,
		       size_t cap, size_t *ret_len);

#endif
