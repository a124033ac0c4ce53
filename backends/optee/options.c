/* SPDX-License-Identifier: MIT */
/* The optee backend's stage options and its part of a verification policy (see options.h). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "policyopts.h"
#include "ebcc-base.h"
#include "options.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ebcc__optee_uuid_parse(const char *text, uint8_t out[16])
{
	size_t n = 0;

	if (text == NULL || strlen(text) != 36)
		return -1;
	for (size_t i = 0; i < 36;) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (text[i] != '-')
				return -1;
			i++;
			continue;
		}
		hi = hex_value(text[i]);
		lo = hex_value(text[i + 1]);
		if (hi < 0 || lo < 0 || i + 1 == 8 || i + 1 == 13 || i + 1 == 18 || i + 1 == 23)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return n == 16 ? 0 : -1;
}

void ebcc__optee_uuid_format(const uint8_t u[16], char out[EBCC_OPTEE_UUID_TEXT])
{
	snprintf(out, EBCC_OPTEE_UUID_TEXT,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
}

const char *ebcc__optee_attestation_name(enum ebcc__optee_attestation a)
{
	return a == EBCC_OPTEE_ATTEST_TA_MEMORY	   ? "ta-memory"
	       : a == EBCC_OPTEE_ATTEST_TA_BINDING ? "ta-binding"
						   : "ta-digest";
}

static int u32_member(struct json_object *o, const char *key, const char *stage, bool *present,
		      uint32_t *ret)
{
	struct json_object *v;
	int64_t n;

	*present = json_object_object_get_ex(o, key, &v);
	if (!*present)
		return 0;
	if (!json_object_is_type(v, json_type_int) || (n = json_object_get_int64(v)) < 0 ||
	    n > UINT32_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage %s: backendOptions.%s must be an "
				   "integer 0..4294967295 (a TA command id)", stage, key);
	*ret = (uint32_t)n;
	return 0;
}

int ebcc__optee_stage_options_parse(const char *json, const char *stage,
				    struct ebcc__optee_stage_options *ret)
{
	static const char *const known[] = { "uuid", "command", "attestation", "attestCommand",
					      NULL };
	struct ebcc__optee_stage_options o = { .attestation = EBCC_OPTEE_ATTEST_TA_DIGEST };
	struct json_object *root = NULL, *v;
	const char *unknown;
	bool present = false, have_attest = false;
	int r;

	r = ebcc__json_parse(json != NULL ? json : "{}", json != NULL ? strlen(json) : 2,
			     EBCC_ERR_INVALID_ARG, "backendOptions", &root);
	if (r < 0)
		return ebcc__error_prefix(r, "stage %s", stage);
	if (!json_object_is_type(root, json_type_object)) {
		r = ebcc__error(EBCC_ERR_INVALID_ARG, "stage %s: backendOptions must be an object",
				stage);
		goto out;
	}
	unknown = ebcc__json_unknown_key(root, known);
	if (unknown != NULL) {
		r = ebcc__error(EBCC_ERR_INVALID_ARG, "stage %s: backendOptions has unknown key "
				"\"%.64s\" (the optee backend knows uuid, command, attestation, "
				"attestCommand)", stage, unknown);
		goto out;
	}
	if (!json_object_object_get_ex(root, "uuid", &v) || !json_object_is_type(v, json_type_string) ||
	    ebcc__optee_uuid_parse(json_object_get_string(v), o.uuid) < 0) {
		r = ebcc__error(EBCC_ERR_INVALID_ARG, "stage %s: backendOptions.uuid must name the "
				"trusted application as \"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\"",
				stage);
		goto out;
	}
	r = u32_member(root, "command", stage, &present, &o.command);
	if (r < 0)
		goto out;
	if (json_object_object_get_ex(root, "attestation", &v)) {
		const char *a = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
									 : "";

		if (strcmp(a, "ta-digest") == 0)
			o.attestation = EBCC_OPTEE_ATTEST_TA_DIGEST;
		else if (strcmp(a, "ta-memory") == 0)
			o.attestation = EBCC_OPTEE_ATTEST_TA_MEMORY;
		else if (strcmp(a, "ta-binding") == 0)
			o.attestation = EBCC_OPTEE_ATTEST_TA_BINDING;
		else {
			r = ebcc__error(EBCC_ERR_INVALID_ARG, "stage %s: backendOptions.attestation "
					"must be \"ta-digest\", \"ta-memory\" or \"ta-binding\"",
					stage);
			goto out;
		}
	}
	r = u32_member(root, "attestCommand", stage, &have_attest, &o.attest_command);
	if (r < 0)
		goto out;
	if (o.attestation == EBCC_OPTEE_ATTEST_TA_MEMORY && !have_attest) {
		r = ebcc__error(EBCC_ERR_INVALID_ARG, "stage %s: backendOptions.attestation "
				"\"ta-memory\" needs attestCommand, the TA command that forwards "
				"report_data to the attestation PTA", stage);
		goto out;
	}
	if (o.attestation != EBCC_OPTEE_ATTEST_TA_MEMORY && have_attest) {
		r = ebcc__error(EBCC_ERR_INVALID_ARG, "stage %s: backendOptions.attestCommand is "
				"only for attestation \"ta-memory\"", stage);
		goto out;
	}
	*ret = o;
out:
	json_object_put(root);
	return r;
}

/* ---- policy ------------------------------------------------------------------------------- */

#define ERR EBCC_ERR_VERIFY
#define WHERE "policy: backend_options.optee"

void ebcc__optee_policy_clear(struct ebcc__optee_policy *p)
{
	ebcc__policy_keys_free(p->keys, p->n_keys);
	*p = (struct ebcc__optee_policy){ 0 };
}

static int parse_optee(struct json_object *o, struct ebcc__optee_policy *p)
{
	struct json_object *v;
	int r;

	r = ebcc__policy_hex(o, "optee", "ta_digest", p->ta_digest, sizeof(p->ta_digest),
			     &p->has_ta_digest);
	if (r == 0)
		r = ebcc__policy_bool(o, "optee", "allow_unverified_signature",
				      &p->allow_unverified_signature);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(o, "attestation", &v)) {
		const char *a = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
									 : "";

		p->attestation = strcmp(a, "ta-digest") == 0	 ? EBCC_OPTEE_ATTEST_TA_DIGEST
				 : strcmp(a, "ta-memory") == 0	 ? EBCC_OPTEE_ATTEST_TA_MEMORY
				 : strcmp(a, "ta-binding") == 0 ? EBCC_OPTEE_ATTEST_TA_BINDING
								 : 0;
		if (p->attestation == 0)
			return ebcc__error(ERR, WHERE ".attestation must be \"ta-digest\", "
					   "\"ta-memory\" or \"ta-binding\"");
	}
	return 0;
}

int ebcc__optee_policy_parse(const struct ebcc_backend_report_check *check,
			     struct ebcc__optee_policy *ret)
{
	static const char *const known[] = { "ta_digest", "allow_unverified_signature",
					     "attestation", NULL };
	struct ebcc__optee_policy p = { 0 };
	struct ebcc__policy_part part = { 0 };
	int r;

	r = ebcc__policy_keys_load(check->trusted_keys, check->trusted_keys_count, &p.keys,
				   &p.n_keys);
	if (r == 0)
		r = ebcc__policy_part_get(check, "optee", known, &part);
	if (r == 0 && part.mine != NULL)
		r = parse_optee(part.mine, &p);
	ebcc__policy_part_clear(&part);
	if (r < 0) {
		ebcc__optee_policy_clear(&p);
		return r;
	}
	*ret = p;
	return 0;
}
