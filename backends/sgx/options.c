/* SPDX-License-Identifier: MIT */
/* The sgx backend's policy (options.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "../tsm/crl.h"
#include "../tsm/crypto.h"
#include "policyopts.h"
#include "ebcc-base.h"
#include "options.h"

#define ERR EBCC_ERR_VERIFY
#define WHERE "policy: backend_options.sgx"

void ebcc__sgx_policy_clear(struct ebcc__sgx_policy *p)
{
	ebcc__x509_list_free(p->roots);
	ebcc__crl_list_free(p->crls);
	ebcc__policy_keys_free(p->keys, p->n_keys);
	ebcc__collateral_text_clear(&p->collateral);
	*p = (struct ebcc__sgx_policy){ 0 };
}

static int u16_member(struct json_object *o, const char *key, uint16_t *out, bool *has)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < 0 || n > UINT16_MAX)
		return ebcc__error(ERR, WHERE ".%s must be an integer from 0 to 65535", key);
	*out = (uint16_t)n;
	*has = true;
	return 0;
}

static int parse_sgx(struct json_object *o, struct ebcc__sgx_policy *p)
{
	struct json_object *v;
	const char *text = NULL;
	size_t len = 0;
	int r;

	r = ebcc__policy_string(o, "sgx", "root_ca", &text, &len);
	if (r == 0 && text != NULL)
		r = ebcc__x509_list_from_pem(text, len, WHERE ".root_ca", ERR, &p->roots);
	if (r == 0)
		r = ebcc__policy_string(o, "sgx", "crl", &text, &len);
	if (r == 0 && text != NULL)
		r = ebcc__crl_list_from_pem(text, len, WHERE ".crl", ERR, &p->crls);
	if (r == 0)
		r = ebcc__policy_hex(o, "sgx", "mrenclave", p->mrenclave, 32, &p->has_mrenclave);
	if (r == 0)
		r = ebcc__policy_hex(o, "sgx", "mrsigner", p->mrsigner, 32, &p->has_mrsigner);
	if (r == 0)
		r = ebcc__policy_hex(o, "sgx", "report_data", p->report_data, 64, &p->has_report_data);
	if (r == 0)
		r = u16_member(o, "isv_prod_id", &p->isv_prod_id, &p->has_isv_prod_id);
	if (r == 0)
		r = u16_member(o, "min_isv_svn", &p->min_isv_svn, &p->has_min_isv_svn);
	if (r == 0)
		r = ebcc__policy_bool(o, "sgx", "allow_debug", &p->allow_debug);
	if (r == 0)
		r = ebcc__policy_bool(o, "sgx", "allow_unverified_signature", &p->allow_unverified_signature);
	if (r == 0 && json_object_object_get_ex(o, "collateral", &v)) {
		r = ebcc__collateral_text_parse(v, WHERE ".collateral", &p->collateral);
		p->has_collateral = r == 0;
	}
	if (r == 0 && json_object_object_get_ex(o, "tcb_status", &v))
		r = ebcc__collateral_status_parse(v, WHERE ".tcb_status", &p->tcb_status_accepted);
	return r;
}

int ebcc__sgx_policy_parse(const struct ebcc_backend_report_check *check,
			   struct ebcc__sgx_policy *ret)
{
	static const char *const known[] = { "root_ca", "crl", "mrenclave", "mrsigner",
					     "isv_prod_id", "min_isv_svn", "report_data",
					     "allow_debug", "allow_unverified_signature",
					     "collateral", "tcb_status", NULL };
	struct ebcc__sgx_policy p = { .tcb_status_accepted = 1u << EBCC_TCB_UP_TO_DATE };
	struct ebcc__policy_part part = { 0 };
	int r;

	r = ebcc__policy_keys_load(check->trusted_keys, check->trusted_keys_count, &p.keys,
				   &p.n_keys);
	if (r == 0)
		r = ebcc__policy_part_get(check, "sgx", known, &part);
	if (r == 0 && part.mine != NULL)
		r = parse_sgx(part.mine, &p);
	p.has_verification_time = part.has_verification_time;
	p.verification_time = part.verification_time;
	ebcc__policy_part_clear(&part);
	if (r < 0) {
		ebcc__sgx_policy_clear(&p);
		return r;
	}
	*ret = p;
	return 0;
}
