/* SPDX-License-Identifier: MIT */
/*
 * The tsm backend's report ("ebcc.tsm.v1"), made through configfs-tsm (configfs.c) and held in
 * a container: what configfs-tsm gave, so that a verifier elsewhere has everything. Integers
 * little endian; nothing may follow:
 *
 *   "EBTS"        magic      4
 *   version = 1              1
 *   provider                 1   1 tdx_guest, 2 sev_guest
 *   reserved = 0             2
 *   outblob_len, outblob     4 + 1..EBCC_TSM_OUTBLOB_MAX   the quote or attestation report
 *   auxblob_len, auxblob     4 + 0..EBCC_TSM_OUTBLOB_MAX   SNP: its certificate table in
 *                                                          canonical form (snp.h)
 */
#ifndef EBCC_TSM_REPORT_H
#define EBCC_TSM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "configfs.h"

#define EBCC_TSM_FORMAT "ebcc.tsm.v1"
#define EBCC_TSM_CONTAINER_MAGIC "EBTS"
#define EBCC_TSM_CONTAINER_VERSION 1
#define EBCC_TSM_CONTAINER_HEADER 8

/* Blobs as the container holds them: pointers into its bytes. */
struct ebcc__tsm_container {
	enum ebcc__tsm_provider provider;
	const uint8_t *outblob;
	size_t outblob_len;
	const uint8_t *auxblob;
	size_t auxblob_len;
};

/* Encodes (malloc). Errors: EBCC_ERR_TOO_BIG (a blob above its limit), EBCC_ERR_NO_MEMORY. */
int ebcc__tsm_container_encode(const struct ebcc__tsm_container *c, uint8_t **ret,
			       size_t *ret_len);

/* Decodes all of len bytes. Errors: EBCC_ERR_VERIFY naming the field. */
int ebcc__tsm_container_decode(const uint8_t *data, size_t len, struct ebcc__tsm_container *ret);

/*
 * The report stage_report() hands the core: a report over report_data through configfs-tsm
 * (configfs.c), as a container, the SNP certificate table in canonical form (the kernel pads
 * it to pages; other entries are dropped). *ret_attempts says how many reports it took. Errors as
 * ebcc__tsm_configfs_report().
 */
int ebcc__tsm_report_make(const struct ebcc__hostops *host, const uint8_t *report_data,
			  size_t report_data_len, uint8_t **ret, size_t *ret_len,
			  unsigned *ret_attempts);

#endif
