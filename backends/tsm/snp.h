/* SPDX-License-Identifier: MIT */
/*
 * AMD SEV-SNP attestation reports (what the sev_guest provider returns as outblob): the
 * ATTESTATION_REPORT structure of the "SEV Secure Nested Paging Firmware ABI Specification",
 * 1184 bytes, integers little endian:
 *
 *   0x000 VERSION (2: Milan/Genoa firmware before 1.55; 3: with CPUID; 5: Turin and later
 *         firmware, with mitigation vectors)   0x004 GUEST_SVN   0x008 POLICY (bit 19: DEBUG)
 *   0x030 VMPL   0x034 SIGNATURE_ALGO (1: ECDSA P-384 with SHA-384)   0x038 CURRENT_TCB
 *   0x040 PLATFORM_INFO   0x048 flags (bits 4:2 SIGNING_KEY: 0 VCEK, 1 VLEK, 7 none)
 *   0x050 REPORT_DATA (64)   0x090 MEASUREMENT (48)   0x0C0 HOST_DATA (32)
 *   0x0E0 ID_KEY_DIGEST (48)   0x110 AUTHOR_KEY_DIGEST (48)   0x140 REPORT_ID (32)
 *   0x180 REPORTED_TCB   0x188 CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP (version >= 3)
 *   0x1A0 CHIP_ID (64)   0x1E0 COMMITTED_TCB   0x1E8 CURRENT build, minor, major
 *   0x1EC COMMITTED build, minor, major   0x1F0 LAUNCH_TCB
 *   0x2A0 SIGNATURE: R (72), S (72), little endian, over bytes 0x000..0x29F
 *
 * A TCB_VERSION (8 bytes) is, on Milan and Genoa, BOOT_LOADER (byte 0), TEE (1), SNP (6),
 * MICROCODE (7); on Turin (CPUID family 0x1A) FMC (0), BOOT_LOADER (1), TEE (2), SNP (3),
 * MICROCODE (7).
 *
 * The auxblob of sev_guest is the certificate table of the GHCB specification's extended
 * guest request, as the host handed it to the guest (snphost import: ARK, ASK, VCEK), in whole
 * pages: entries of GUID (16, RFC 4122 byte order), offset (4), length (4), ended by an
 * all-zero entry, followed by the DER certificates the offsets (from the start of the table)
 * point at, in any order, then zero bytes to the end of the last page: VCEK 63da758d-e664-4564-adc5-f4b93be8accd, VLEK
 * a8074bc2-a25a-483e-aae6-39c045a0b8a1, ASK 4ab7b379-bbac-4fe4-a02f-05aef327c782, ARK
 * c0b406a4-a803-4952-9743-3fb6014cd0ae.
 */
#ifndef EBCC_TSM_SNP_H
#define EBCC_TSM_SNP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "options.h"

#define EBCC_SNP_REPORT_SIZE 0x4a0
#define EBCC_SNP_SIGNED_SIZE 0x2a0
#define EBCC_SNP_SIG_COMPONENT 72
#define EBCC_SNP_REPORT_DATA 0x50
#define EBCC_SNP_MEASUREMENT 0x90
#define EBCC_SNP_MEASUREMENT_SIZE 48
#define EBCC_SNP_SIG_ALGO_ECDSA_P384_SHA384 1
#define EBCC_SNP_POLICY_SMT (UINT64_C(1) << 16)
#define EBCC_SNP_POLICY_MIGRATE_MA (UINT64_C(1) << 18)
#define EBCC_SNP_POLICY_DEBUG (UINT64_C(1) << 19)
#define EBCC_SNP_POLICY_SINGLE_SOCKET (UINT64_C(1) << 20)
#define EBCC_SNP_SIGNING_KEY_VCEK 0
#define EBCC_SNP_SIGNING_KEY_VLEK 1
#define EBCC_SNP_SIGNING_KEY_NONE 7
#define EBCC_SNP_CERT_ENTRIES_MAX 64

enum ebcc__snp_product {
	EBCC_SNP_PRODUCT_UNKNOWN = 0, /* version 2: no CPUID in the report */
	EBCC_SNP_PRODUCT_MILAN,
	EBCC_SNP_PRODUCT_GENOA,
	EBCC_SNP_PRODUCT_TURIN,
	EBCC_SNP_PRODUCT_OTHER, /* a CPUID this backend does not know */
};

struct ebcc__snp_report {
	const uint8_t *raw; /* EBCC_SNP_REPORT_SIZE bytes */
	uint32_t version, guest_svn, vmpl, sig_algo, signing_key, platform_flags;
	uint64_t policy, current_tcb, reported_tcb, committed_tcb, launch_tcb, platform_info;
	uint8_t cpuid_family, cpuid_model, cpuid_stepping; /* version >= 3, else 0 */
	uint8_t current_version[3], committed_version[3];  /* major, minor, build */
	enum ebcc__snp_product product;
	const uint8_t *chip_id;     /* 64 */
	const uint8_t *report_data; /* 64 */
	const uint8_t *measurement; /* 48 */
	const uint8_t *host_data;   /* 32 */
	const uint8_t *sig_r, *sig_s;
};

/* "Milan", "Genoa", "Turin", "unknown" (no CPUID), "other". */
const char *ebcc__snp_product_name(enum ebcc__snp_product p);

/* A TCB_VERSION decoded for the product (Turin's layout for Turin, else Milan's). */
void ebcc__snp_tcb_decode(uint64_t tcb, enum ebcc__snp_product p, struct ebcc__snp_tcb *ret);

/* Parses a report of exactly EBCC_SNP_REPORT_SIZE bytes; otherwise err naming what is wrong. */
int ebcc__snp_report_parse(const uint8_t *data, size_t len, int err,
			   struct ebcc__snp_report *ret);

/* The certificates of an auxblob's table that this backend uses (NULL when absent). */
struct ebcc__snp_certs {
	X509 *vcek, *vlek, *ask, *ark;
};

/* Parses a certificate table in the canonical form ebcc__snp_certs_canonical() writes: the
 * known GUIDs (VCEK, VLEK, ASK, ARK in that order, each at most once), the certificates back to
 * back after the terminator, nothing after them; len 0 is an empty table. Anything else fails
 * with err naming the entry, so that no byte of it is carried along unchecked. */
int ebcc__snp_certs_parse(const uint8_t *aux, size_t len, int err, struct ebcc__snp_certs *ret);
void ebcc__snp_certs_clear(struct ebcc__snp_certs *c);

/* The canonical table (malloc; NULL and 0 for none) of the certificates this backend knows in
 * a table as the host wrote it: page padding, other GUIDs (CRLs, a vendor's own) and repeats
 * dropped. Errors: EBCC_ERR_BACKEND naming what is malformed, EBCC_ERR_NO_MEMORY. */
int ebcc__snp_certs_canonical(const uint8_t *aux, size_t len, uint8_t **ret, size_t *ret_len);

struct ebcc__snp_endorsement;

/*
 * Checks the report's signature with the VCEK or VLEK (from the auxblob's table, or the
 * policy's snp_certs), then whether the policy trusts that key (a chain to snp_ark, or the key
 * itself in trusted_keys), then, for a certificate that chains to snp_ark, the report's TCB,
 * chip and product against the certificate (snp_tcb.h; *ret_e says what it certifies, its
 * present member false when there was no such certificate). 0 with *ret saying whether the
 * signature is verified and how; EBCC_ERR_VERIFY when a check fails.
 */
int ebcc__snp_report_verify(const struct ebcc__snp_report *rep, const uint8_t *aux,
			    size_t aux_len, const struct ebcc__tsm_policy *p,
			    struct ebcc__tsm_signature *ret, struct ebcc__snp_endorsement *ret_e);

#endif
