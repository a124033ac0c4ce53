/* SPDX-License-Identifier: MIT */
/*
 * Test-only PKI for the fakes of hardware TEEs: keys and certificates generated at run time
 * with OpenSSL, raw ECDSA signatures as TDX quotes (big endian r || s) and SEV-SNP reports
 * (little endian, 72-byte fields) carry them, RSA-PSS as OP-TEE's attestation PTA signs.
 * Every failure aborts: a fake that cannot build its material is a broken test, not a result.
 */
#ifndef EBCC_TEST_FAKE_PKI_H
#define EBCC_TEST_FAKE_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* A new EC key on group ("P-256", "P-384"). */
EVP_PKEY *fake_pki_ec_key(const char *group);
/* A new RSA key of bits. */
EVP_PKEY *fake_pki_rsa_key(int bits);

/* A certificate for key, named cn, issued by issuer/issuer_key (NULL, NULL: self-signed),
 * valid from a day ago for ten years; ca marks a CA (basicConstraints, keyCertSign). */
X509 *fake_pki_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca);

/* A non-critical extension: its OID in dotted form and its value's bytes as they are to appear
 * inside the extension's OCTET STRING. */
struct fake_pki_ext {
	const char *oid;
	const uint8_t *value;
	size_t len;
};

/* fake_pki_cert() with these extensions added (a vendor's own, e.g. AMD's on a VCEK). */
X509 *fake_pki_cert_with(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
			 bool ca, const struct fake_pki_ext *ext, size_t n_ext);

/* What the SGX extension of a PCK certificate (1.2.840.113741.1.13.1) says of the platform. */
struct fake_pki_sgx_tcb {
	uint8_t svn[16]; /* the SGX TCB component SVNs */
	uint16_t pcesvn;
	uint8_t cpusvn[16];
	uint8_t pce_id[2];
	uint8_t fmspc[6];
};

/* That extension's value as Intel's PCK certificates carry it (DER: PPID, TCB with its 16 SVNs,
 * PCESVN and CPUSVN, PCE-ID, FMSPC, SGX type 0), for fake_pki_cert_with(); *ret (malloc). */
size_t fake_pki_sgx_ext(const struct fake_pki_sgx_tcb *tcb, uint8_t **ret);

/* A CRL of issuer, signed with issuer_key, current from now + this_update to now + next_update
 * (seconds), that revokes the n certificates of revoked (by serial), as PEM (malloc). */
char *fake_pki_crl_pem(X509 *issuer, EVP_PKEY *issuer_key, X509 *const *revoked, size_t n,
		       long this_update, long next_update);

/* PEM of a certificate / public key (malloc, NUL-terminated). */
char *fake_pki_cert_pem(X509 *cert);
char *fake_pki_pubkey_pem(EVP_PKEY *key);
/* DER of a certificate (malloc). */
size_t fake_pki_cert_der(X509 *cert, uint8_t **ret);

/* x || y of an EC public key, n bytes each. */
void fake_pki_ec_raw_public(EVP_PKEY *key, uint8_t *xy, size_t n);

/* ECDSA over msg with md ("SHA256", "SHA384"), r and s written as n-byte integers. */
void fake_pki_ecdsa_sign_raw(EVP_PKEY *key, const char *md, const uint8_t *msg, size_t len,
			     uint8_t *r, uint8_t *s, size_t n, bool little_endian);

/* RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt over msg: *ret (malloc) is as long
 * as the modulus. */
size_t fake_pki_rsa_pss_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t **ret);

/* The RSA key's public exponent and modulus, big endian, without leading zeros (malloc). */
void fake_pki_rsa_public(EVP_PKEY *key, uint8_t **e, size_t *e_len, uint8_t **n,
			 size_t *n_len);

#endif
