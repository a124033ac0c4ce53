/* SPDX-License-Identifier: MIT */
/*
 * The channel between a keystone stage (an eapp linked with libebcc-stage-keystone.a) and the
 * keystone backend on the host: libebcc's edge calls (edge.h) as Keystone ocalls through the
 * UTM. Eyrie copies an ocall's argument into the UTM and copies back exactly the length the
 * eapp asked for from where the host put its answer.
 */
#ifndef EBCC_STAGE_KEYSTONE_EDGE_H
#define EBCC_STAGE_KEYSTONE_EDGE_H

#include "edge.h"

/* The SM's report (struct report, sm/src/enclave.h) and what Eyrie's attest_enclave copies
 * back into the eapp's buffer. */
#define EBCC_KS_STAGE_REPORT_SIZE 1352
#define EBCC_KS_EYRIE_REPORT_BUF 2048

#endif
