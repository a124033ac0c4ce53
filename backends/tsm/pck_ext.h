/* SPDX-License-Identifier: MIT */
/*
 * The Intel SGX extensions of a PCK certificate (Intel's "SGX PCK Certificate and Certificate
 * Revocation List Profile Specification"): the extension 1.2.840.113741.1.13.1 is a DER
 * SEQUENCE of SEQUENCE { OBJECT IDENTIFIER, value } pairs:
 *
 *   ...1.13.1.1  PPID          OCTET STRING (16)
 *   ...1.13.1.2  TCB           SEQUENCE of pairs: ...1.2.1 to ...1.2.16 the SGX TCB
 *                              component SVNs (INTEGER 0..255), ...1.2.17 PCESVN (INTEGER
 *                              0..65535), ...1.2.18 CPUSVN (OCTET STRING, 16)
 *   ...1.13.1.3  PCE-ID        OCTET STRING (2)
 *   ...1.13.1.4  FMSPC         OCTET STRING (6)
 *   ...1.13.1.5  SGX type      ENUMERATED
 *   ...1.13.1.6, .7            platform instance id and configuration (platform CA only)
 *
 * TCB, PCE-ID and FMSPC are required, once each; a pair whose OID is none of these is skipped
 * (Intel adds to the list), but every pair must be well formed.
 */
#ifndef EBCC_TSM_PCK_EXT_H
#define EBCC_TSM_PCK_EXT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define EBCC_PCK_EXT_MAX 4096 /* Intel's are some 550 bytes */

struct ebcc__pck_ext {
	uint8_t sgx_svn[16]; /* the SGX TCB component SVNs */
	uint16_t pcesvn;
	uint8_t cpusvn[16];
	uint8_t pce_id[2];
	uint8_t fmspc[6];
};

/* Parses the extension's DER value (the OCTET STRING's content). EBCC_ERR_VERIFY naming the
 * OID of what is malformed or missing. */
int ebcc__pck_ext_parse(const uint8_t *der, size_t len, struct ebcc__pck_ext *ret);

/* Finds the extension in cert (exactly once) and parses it. */
int ebcc__pck_ext_from_cert(X509 *cert, struct ebcc__pck_ext *ret);

#endif
