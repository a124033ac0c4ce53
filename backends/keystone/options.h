/* SPDX-License-Identifier: MIT */
/*
 * What the keystone backend reads from a verifier's policy: the top-level trusted_keys, the
 * device public keys, as Ed25519 public keys in PEM (SubjectPublicKeyInfo, OID 1.3.101.112:
 * the 32 bytes of a Keystone device key are an Ed25519 point, only the hash inside the
 * signature scheme differs; `openssl pkey -pubin` reads them), and backend_options.keystone:
 *
 *   sm_hash                 128 lowercase hex digits: the security monitor's measurement the
 *                           report must carry (the boot ROM's SHA3-512 of the firmware image
 *                           zero-padded to 0x1ff000 bytes); required unless allow_any_sm
 *   allow_any_sm            true: accept any SM hash the device key signed (default false)
 *   enclave_hash            128 lowercase hex digits: the enclave measurement, for raw reports
 *                           (evidence pins it through the top-level "measurement")
 *   allow_test_device_key   true: accept Keystone's published test device key among the
 *                           trusted keys (default false; its secret is public)
 */
#ifndef EBCC_KEYSTONE_OPTIONS_H
#define EBCC_KEYSTONE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sig.h"

struct ebcc_backend_report_check;

struct ebcc__ks_policy {
	uint8_t (*keys)[EBCC_KS_PUBLIC_KEY_SIZE];
	size_t n_keys;
	bool has_sm_hash, allow_any_sm, has_enclave_hash, allow_test_device_key;
	uint8_t sm_hash[EBCC_KS_MDSIZE];
	uint8_t enclave_hash[EBCC_KS_MDSIZE];
};

/* Errors: EBCC_ERR_VERIFY naming the key or field, EBCC_ERR_NO_MEMORY. */
int ebcc__ks_policy_parse(const struct ebcc_backend_report_check *check,
			  struct ebcc__ks_policy *ret);
void ebcc__ks_policy_clear(struct ebcc__ks_policy *p);

#endif
