/* SPDX-License-Identifier: MIT */
/*
 * Hardware reports through configfs-tsm (Documentation/ABI/testing/configfs-tsm in the kernel),
 * the interface Linux guests of Intel TDX (provider "tdx_guest") and AMD SEV-SNP ("sev_guest")
 * share. One report:
 *
 *   mkdir <configfs>/tsm/report/<name>         a private report instance (ENXIO: no provider)
 *   read  provider                             "tdx_guest\n" or "sev_guest\n"
 *   read  generation                           g, before anything is written
 *   write inblob                               the 64 bytes of report_data (EFBIG above 64)
 *   read  outblob                              the quote (TDX) or attestation report (SNP)
 *   read  auxblob                              when the provider shows it: SNP's certificate table
 *   read  generation                           must be g + 1: one write, ours
 *   rmdir <configfs>/tsm/report/<name>
 *
 * A generation other than g + 1 means another writer used the instance in between: the report
 * may cover its inblob, so it is made again, at most EBCC_TSM_ATTEMPTS times, then
 * EBCC_ERR_BUSY. An empty or short outblob, or one whose REPORTDATA is not what was written, is
 * an error, never a report. Every kernel interaction goes through the host operations.
 */
#ifndef EBCC_TSM_CONFIGFS_H
#define EBCC_TSM_CONFIGFS_H

#include <stddef.h>
#include <stdint.h>

#include "hostops.h"

#define EBCC_TSM_REPORT_DIR "/sys/kernel/config/tsm/report"
#define EBCC_TSM_INBLOB_MAX 64                /* TSM_INBLOB_MAX */
#define EBCC_TSM_OUTBLOB_MAX ((size_t)32 << 10) /* TSM_OUTBLOB_MAX, also for auxblob */
#define EBCC_TSM_ATTEMPTS 3
#define EBCC_TSM_ATTR_MAX 64 /* provider, generation */

enum ebcc__tsm_provider {
	EBCC_TSM_PROVIDER_UNKNOWN = 0,
	EBCC_TSM_PROVIDER_TDX = 1, /* "tdx_guest": outblob is a TDX quote (v4 or v5) */
	EBCC_TSM_PROVIDER_SNP = 2, /* "sev_guest": outblob is an SEV-SNP attestation report */
};

/* "tdx_guest", "sev_guest", or NULL. */
const char *ebcc__tsm_provider_name(enum ebcc__tsm_provider p);
/* "Intel TDX", "AMD SEV-SNP", or NULL. */
const char *ebcc__tsm_provider_tee(enum ebcc__tsm_provider p);
enum ebcc__tsm_provider ebcc__tsm_provider_parse(const char *name);

struct ebcc__tsm_blobs {
	enum ebcc__tsm_provider provider;
	uint8_t *outblob; /* malloc */
	size_t outblob_len;
	uint8_t *auxblob; /* malloc; NULL when the provider shows none */
	size_t auxblob_len;
	unsigned attempts; /* how many reports it took (> 1 after a generation race) */
};

void ebcc__tsm_blobs_clear(struct ebcc__tsm_blobs *b);

/*
 * Makes one report over report_data (1..64 bytes). Errors, each naming the file and the cause:
 * EBCC_ERR_UNAVAILABLE (no configfs-tsm, no provider, a provider this backend does not know),
 * EBCC_ERR_PERMISSION, EBCC_ERR_TOO_BIG (inblob refused: EFBIG; a blob above its limit),
 * EBCC_ERR_BUSY (generation races on every attempt; the kernel's EBUSY/EAGAIN),
 * EBCC_ERR_BACKEND (empty, short or malformed outblob, or one that covers other report_data),
 * EBCC_ERR_IO, EBCC_ERR_NO_MEMORY.
 */
int ebcc__tsm_configfs_report(const struct ebcc__hostops *host, const uint8_t *report_data,
			      size_t report_data_len, struct ebcc__tsm_blobs *ret);

/*
 * Whether configfs-tsm is usable here: 0 with the provider, or the error (as
 * ebcc__tsm_configfs_report()) naming what is missing. Creates and removes one report instance
 * to learn the provider.
 */
int ebcc__tsm_configfs_check(const struct ebcc__hostops *host,
			     enum ebcc__tsm_provider *ret_provider);

/*
 * The same for a probe: 1 with the provider, 0 with the reason in reason (this thread's last
 * error message is left as it was), < 0 only when out of memory.
 */
int ebcc__tsm_configfs_probe(const struct ebcc__hostops *host,
			     enum ebcc__tsm_provider *ret_provider, char *reason,
			     size_t reason_size);

#endif
