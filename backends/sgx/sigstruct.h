/* SPDX-License-Identifier: MIT */
/*
 * SIGSTRUCT (Intel SDM vol. 3D, "Enclave Signature Structure"; the kernel's struct
 * sgx_sigstruct), 1808 bytes, little endian:
 *
 *   header     128  @0     header1 (16) = 06000000 E1000000 00000100 00000000, vendor u32
 *                          @16 (0 or 0x8086), date u32 @20 (BCD yyyymmdd), header2 (16) @24 =
 *                          01010000 60000000 60000000 01000000, swdefined u32 @40, 84 zero
 *   modulus    384  @128   RSA-3072 modulus, little endian
 *   exponent     4  @512   3
 *   signature  384  @516   RSASSA-PKCS1-v1_5 with SHA-256 over header || body, little endian
 *   body       128  @900   miscselect, misc_mask, 20 reserved, attributes u64 @928, xfrm @936,
 *                          attributes_mask @944, xfrm_mask @952, ENCLAVEHASH (32) @960,
 *                          32 reserved, isvprodid u16 @1024, isvsvn u16 @1026
 *   reserved    12  @1028
 *   q1, q2     384  @1040, @1424: floor(s^2 / n) and floor(s * (s^2 mod n) / n), little endian
 *                          (EINIT checks the signature with them)
 *
 * MRSIGNER is SHA-256 of the 384 modulus bytes as stored.
 */
#ifndef EBCC_SGX_SIGSTRUCT_H
#define EBCC_SGX_SIGSTRUCT_H

#include <stdint.h>

#include <openssl/evp.h>

#define EBCC_SGX_SIGSTRUCT_SIZE 1808
#define EBCC_SGX_MODULUS_SIZE 384
#define EBCC_SGX_SS_VENDOR 16
#define EBCC_SGX_SS_DATE 20
#define EBCC_SGX_SS_MODULUS 128
#define EBCC_SGX_SS_EXPONENT 512
#define EBCC_SGX_SS_SIGNATURE 516
#define EBCC_SGX_SS_BODY 900
#define EBCC_SGX_SS_ATTRIBUTES 928
#define EBCC_SGX_SS_MRENCLAVE 960
#define EBCC_SGX_SS_ISVPRODID 1024
#define EBCC_SGX_SS_ISVSVN 1026
#define EBCC_SGX_SS_Q1 1040
#define EBCC_SGX_SS_Q2 1424
#define EBCC_SGX_VENDOR_INTEL 0x8086

/* What the signer puts in the body and header. */
struct ebcc__sgx_sigstruct_params {
	uint32_t vendor; /* 0 or EBCC_SGX_VENDOR_INTEL */
	uint32_t date;   /* BCD: 0x20261207 */
	uint32_t miscselect, misc_mask;
	uint64_t attributes, xfrm, attributes_mask, xfrm_mask;
	uint8_t mrenclave[32];
	uint16_t isv_prod_id, isv_svn;
};

/* Whether key is an enclave signing key: RSA, 3072 bits, public exponent 3. EBCC_ERR_INVALID_ARG
 * naming what differs. */
int ebcc__sgx_signing_key_check(EVP_PKEY *key);

/* Builds and signs a SIGSTRUCT with the operator's enclave signing key. Errors: as
 * ebcc__sgx_signing_key_check(), EBCC_ERR_NO_MEMORY, EBCC_ERR_BACKEND (OpenSSL failed). */
int ebcc__sgx_sigstruct_sign(const struct ebcc__sgx_sigstruct_params *p, EVP_PKEY *key,
			     uint8_t ret[EBCC_SGX_SIGSTRUCT_SIZE]);

/*
 * Checks a SIGSTRUCT as EINIT would before its MRENCLAVE comparison: header constants, vendor,
 * exponent 3, the signature under its modulus, q1 and q2. With mrenclave (may be NULL), its
 * ENCLAVEHASH must be that. *ret_mrsigner (may be NULL) is SHA-256 of the modulus.
 * EBCC_ERR_VERIFY naming the field at fault, EBCC_ERR_NO_MEMORY.
 */
int ebcc__sgx_sigstruct_check(const uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE], const uint8_t *mrenclave,
			      uint8_t *ret_mrsigner);

#endif
