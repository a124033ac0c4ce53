/* SPDX-License-Identifier: MIT */
/*
 * What an SEV-SNP report's signer certificate says of the chip and TCB it was issued for, and
 * the checks of a report's TCB and guest policy against it and against the verifier's policy.
 *
 * AMD's "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface Specification"
 * (57230) and its VLEK counterpart put these X.509 extensions (non-critical, each value the DER
 * of the type named) under 1.3.6.1.4.1.3704.1 in every VCEK and VLEK:
 *
 *   .2      productName  IA5String: "Milan-B0", "Genoa", "Turin-B0" ... (product, stepping)
 *   .3.1    blSPL        INTEGER: the BOOT_LOADER of the TCB_VERSION the key was derived for
 *   .3.2    teeSPL       INTEGER: TEE
 *   .3.3    snpSPL       INTEGER: SNP
 *   .3.8    ucodeSPL     INTEGER: MICROCODE
 *   .3.9    fmcSPL       INTEGER: FMC (Turin and later)
 *   .4      hwID         the 64-byte CHIP_ID, raw (AMD KDS before 2023) or as the DER of an
 *                        OCTET STRING (since): VCEK only
 *   .5      csp_id       IA5String or UTF8String: the cloud provider a VLEK was issued to
 *
 * A VCEK or VLEK is derived from the chip's secrets and one TCB_VERSION, so a report it signs
 * must carry exactly that TCB as REPORTED_TCB; otherwise the host handed over a certificate for
 * another TCB (an older one, of firmware with known flaws).
 */
#ifndef EBCC_TSM_SNP_TCB_H
#define EBCC_TSM_SNP_TCB_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "options.h"
#include "snp.h"

#define EBCC_SNP_CHIP_ID_SIZE 64

struct ebcc__snp_endorsement {
	bool present;         /* a certificate signed the report (not a pinned key alone) */
	const char *key_name; /* "VCEK" or "VLEK" */
	char product[32];     /* productName as written, e.g. "Milan-B0" */
	enum ebcc__snp_product product_line;
	struct ebcc__snp_tcb tcb;
	bool has_fmc;
	bool has_hwid;
	uint8_t hwid[EBCC_SNP_CHIP_ID_SIZE];
	char csp_id[128]; /* VLEK only, else "" */
};

/* Reads the extensions above from cert. A missing TCB extension or productName, a value that
 * is not the DER of its type, an SPL outside 0..255 or a hwID of another size fails with
 * EBCC_ERR_VERIFY naming the extension by OID. */
int ebcc__snp_endorsement_parse(X509 *cert, const char *key_name,
				struct ebcc__snp_endorsement *ret);

/*
 * The report against its signer's certificate: REPORTED_TCB equals the certificate's SPLs,
 * CHIP_ID its hwID (VCEK; a report with CHIP_ID masked to zeros is let through: the
 * signature already proves the chip), and the product of the report's CPUID, the
 * certificate's productName and the trust anchor's name ("ARK-<product>", when the anchor is
 * named so) agree. root_name is the anchor's subject ("" when trusted by key).
 */
int ebcc__snp_endorsement_check(const struct ebcc__snp_report *rep,
				const struct ebcc__snp_endorsement *e, const char *root_name);

/* Whether the report's CHIP_ID is all zeros (the guest asked for it masked). */
bool ebcc__snp_chip_id_masked(const struct ebcc__snp_report *rep);

/* The policy's floor and guest policy rules: REPORTED_TCB and COMMITTED_TCB at least
 * snp_min_tcb, component by component; the migration agent bit only with
 * snp_allow_migration_agent; the SMT bit not when snp_allow_smt is false. */
int ebcc__snp_policy_check(const struct ebcc__snp_report *rep, const struct ebcc__tsm_policy *p);

#endif
