/* SPDX-License-Identifier: MIT */
/* The tsm backend's part of a verification policy (see options.h for the keys). */
#include <string.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "crl.h"
#include "crypto.h"
#include "policyopts.h"
#include "ebcc-base.h"
#include "options.h"

#define ERR EBCC_ERR_VERIFY
#define WHERE "policy: backend_options.tsm"

static const char *const known_keys[] = {
	"tdx_root_ca",	"snp_ark", "snp_certs", "launch_measurement", "report_data", "provider",
	"allow_unverified_signature", "allow_debug",
	"snp_crl", "snp_min_tcb", "snp_allow_migration_agent", "snp_allow_smt",
	"tdx_collateral", "tdx_tcb_status", NULL,
};

void ebcc__tsm_policy_clear(struct ebcc__tsm_policy *p)
{
	ebcc__x509_list_free(p->tdx_roots);
	ebcc__x509_list_free(p->snp_roots);
	ebcc__x509_list_free(p->snp_certs);
	ebcc__crl_list_free(p->snp_crls);
	ebcc__policy_keys_free(p->keys, p->n_keys);
	ebcc__collateral_text_clear(&p->tdx_collateral);
	*p = (struct ebcc__tsm_policy){ 0 };
}

bool ebcc__tsm_policy_has_trust(const struct ebcc__tsm_policy *p,
				enum ebcc__tsm_provider provider)
{
	if (p->n_keys > 0)
		return true;
	return provider == EBCC_TSM_PROVIDER_TDX ? p->tdx_roots != NULL : p->snp_roots != NULL;
}

static int certs_member(struct json_object *o, const char *key, STACK_OF(X509) **ret)
{
	char what[96];
	const char *text;
	size_t len = 0;
	int r = ebcc__policy_string(o, "tsm", key, &text, &len);

	if (r < 0 || text == NULL)
		return r;
	snprintf(what, sizeof(what), WHERE ".%s", key);
	return ebcc__x509_list_from_pem(text, len, what, ERR, ret);
}

/* snp_min_tcb: {"bootloader": N, ...}, each 0..255, absent ones 0. */
static int min_tcb_member(struct json_object *o, struct ebcc__tsm_policy *p)
{
	static const char *const names[] = { "fmc", "bootloader", "tee", "snp", "microcode", NULL };
	uint8_t *fields[] = { &p->snp_min_tcb.fmc, &p->snp_min_tcb.bootloader,
			      &p->snp_min_tcb.tee, &p->snp_min_tcb.snp,
			      &p->snp_min_tcb.microcode };
	struct json_object *t, *v;

	if (!json_object_object_get_ex(o, "snp_min_tcb", &t))
		return 0;
	if (!json_object_is_type(t, json_type_object))
		return ebcc__error(ERR, WHERE ".snp_min_tcb must be an object, not %s",
				   ebcc__json_type_article(t));
	if (ebcc__json_refuse_unknown(t, names, ERR, WHERE ".snp_min_tcb") < 0)
		return ERR;
	for (size_t i = 0; names[i] != NULL; i++) {
		int64_t n;

		if (!json_object_object_get_ex(t, names[i], &v))
			continue;
		n = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || n < 0 || n > 255)
			return ebcc__error(ERR, WHERE ".snp_min_tcb.%s must be an integer from 0 to "
					   "255", names[i]);
		*fields[i] = (uint8_t)n;
	}
	p->has_snp_min_tcb = true;
	return 0;
}

/* The SEV-SNP TCB floor and guest policy rules. */
static int parse_snp_rules(struct json_object *o, struct ebcc__tsm_policy *p)
{
	struct json_object *v;
	const char *text;
	size_t len = 0;
	int r = min_tcb_member(o, p);

	if (r == 0)
		r = ebcc__policy_string(o, "tsm", "snp_crl", &text, &len);
	if (r == 0 && text != NULL)
		r = ebcc__crl_list_from_pem(text, len, WHERE ".snp_crl", ERR, &p->snp_crls);
	if (r == 0)
		r = ebcc__policy_bool(o, "tsm", "snp_allow_migration_agent", &p->snp_allow_migration_agent);
	if (r == 0 && json_object_object_get_ex(o, "snp_allow_smt", &v))
		r = ebcc__policy_bool(o, "tsm", "snp_allow_smt", &p->snp_allow_smt);
	return r;
}

/* backend_options.tsm.tdx_collateral: every item a string, copied; checked when a quote is. */
static int parse_collateral(struct json_object *o, struct ebcc__tsm_policy *p)
{
	int r = ebcc__collateral_text_parse(o, WHERE ".tdx_collateral", &p->tdx_collateral);

	if (r == 0)
		p->has_tdx_collateral = true;
	return r;
}

static int parse_tsm(struct json_object *o, struct ebcc__tsm_policy *p)
{
	struct json_object *v;
	const char *text;
	size_t len = 0;
	int r;

	r = certs_member(o, "tdx_root_ca", &p->tdx_roots);
	if (r == 0 && json_object_object_get_ex(o, "tdx_collateral", &v))
		r = parse_collateral(v, p);
	if (r == 0 && json_object_object_get_ex(o, "tdx_tcb_status", &v))
		r = ebcc__collateral_status_parse(v, WHERE ".tdx_tcb_status",
						  &p->tdx_tcb_status_accepted);
	if (r == 0)
		r = parse_snp_rules(o, p);
	if (r == 0)
		r = certs_member(o, "snp_ark", &p->snp_roots);
	if (r == 0)
		r = certs_member(o, "snp_certs", &p->snp_certs);
	if (r == 0)
		r = ebcc__policy_bool(o, "tsm", "allow_unverified_signature", &p->allow_unverified_signature);
	if (r == 0)
		r = ebcc__policy_bool(o, "tsm", "allow_debug", &p->allow_debug);
	if (r == 0)
		r = ebcc__policy_string(o, "tsm", "launch_measurement", &text, &len);
	if (r < 0)
		return r;
	if (text != NULL) {
		size_t n = 0;

		if (len != 2 * EBCC_TSM_LAUNCH_MEASUREMENT_SIZE ||
		    ebcc__hex_decode(text, len, p->launch_measurement,
				     sizeof(p->launch_measurement), &n) < 0)
			return ebcc__error(ERR, WHERE ".launch_measurement must be %d lowercase hex "
					   "digits (the 48-byte MRTD or MEASUREMENT)",
					   2 * EBCC_TSM_LAUNCH_MEASUREMENT_SIZE);
		p->has_launch_measurement = true;
	}
	r = ebcc__policy_string(o, "tsm", "report_data", &text, &len);
	if (r < 0)
		return r;
	if (text != NULL) {
		size_t n = 0;
		bool lower = true;

		for (size_t i = 0; i < len; i++)
			lower = lower && !(text[i] >= 'A' && text[i] <= 'F');
		if (len != 128 || !lower ||
		    ebcc__hex_decode(text, len, p->report_data, sizeof(p->report_data), &n) < 0)
			return ebcc__error(ERR, WHERE ".report_data must be 128 lowercase hex digits "
					   "(the 64-byte REPORTDATA)");
		p->has_report_data = true;
	}
	r = ebcc__policy_string(o, "tsm", "provider", &text, &len);
	if (r < 0)
		return r;
	if (text != NULL) {
		p->provider = ebcc__tsm_provider_parse(text);
		if (p->provider == EBCC_TSM_PROVIDER_UNKNOWN)
			return ebcc__error(ERR, WHERE ".provider is \"%.32s\": it must be tdx_guest "
					   "or sev_guest", text);
	}
	return 0;
}

int ebcc__tsm_policy_parse(const struct ebcc_backend_report_check *check,
			   struct ebcc__tsm_policy *ret)
{
	struct ebcc__tsm_policy p = { .snp_allow_smt = true,
				      .tdx_tcb_status_accepted = 1u << EBCC_TCB_UP_TO_DATE };
	struct ebcc__policy_part part = { 0 };
	int r;

	r = ebcc__policy_keys_load(check->trusted_keys, check->trusted_keys_count, &p.keys,
				   &p.n_keys);
	if (r == 0)
		r = ebcc__policy_part_get(check, "tsm", known_keys, &part);
	if (r == 0 && part.mine != NULL)
		r = parse_tsm(part.mine, &p);
	p.has_verification_time = part.has_verification_time;
	p.verification_time = part.verification_time;
	ebcc__policy_part_clear(&part);
	if (r < 0) {
		ebcc__tsm_policy_clear(&p);
		return r;
	}
	*ret = p;
	return 0;
}
