/* SPDX-License-Identifier: MIT */
/* The sgx backend's verify_report: rules in verify.h. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../tsm/collateral.h"
#include "../tsm/crl.h"
#include "../tsm/crypto.h"
#include "ebcc-base.h"
#include "options.h"
#include "quote.h"
#include "verify.h"

#define ERR EBCC_ERR_VERIFY
#define WHAT "SGX quote"

static void add_hex(struct json_object *o, const char *key, const uint8_t *data, size_t len)
{
	char hex[2 * 64 + 1];

	ebcc__hex_encode(data, len, hex);
	json_object_object_add(o, key, json_object_new_string(hex));
}

static void add_u64_hex(struct json_object *o, const char *key, uint64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "0x%016" PRIx64, v);
	json_object_object_add(o, key, json_object_new_string(text));
}

static void add_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s[0] != '\0' ? json_object_new_string(s) : NULL);
}

/* With a CRL list: each CA of the chain (the root's own certificate included) has a current
 * CRL and the certificate below it is not on it. */
static int check_revocation(STACK_OF(X509) *chain, const struct ebcc__sgx_policy *p,
			    struct ebcc__tsm_signature *sig)
{
	size_t used = 0;

	for (int i = 1; i < sk_X509_num(chain); i++) {
		X509 *below = sk_X509_value(chain, i - 1);
		char detail[256];
		int r = ebcc__crl_check(p->crls, sk_X509_value(chain, i), &below, 1,
					ebcc__sgx_policy_time(p), WHAT ": the PCK certificate chain",
					detail, sizeof(detail));

		if (r < 0)
			return r;
		used += (size_t)snprintf(sig->revocation + used, sizeof(sig->revocation) - used,
					 "%s%s", used > 0 ? "; " : "", detail);
		if (used >= sizeof(sig->revocation))
			used = sizeof(sig->revocation) - 1;
	}
	return 0;
}

/* What the collateral's CRLs were checked for, after what backend_options.sgx.crl's were (cut
 * at the buffer's end). */
static void add_revocation(struct ebcc__tsm_signature *sig, const char *detail)
{
	const size_t room = sizeof(sig->revocation) - 1;
	size_t used = strlen(sig->revocation), n = strlen(detail);

	if (used > 0 && used + 2 <= room) {
		memcpy(sig->revocation + used, "; ", 2);
		used += 2;
	}
	n = n < room - used ? n : room - used;
	memcpy(sig->revocation + used, detail, n);
	sig->revocation[used + n] = '\0';
}

static int hex_mismatch(const char *name, const char *option, const uint8_t *want,
			const uint8_t *got, size_t n)
{
	char w[129], g[129];

	ebcc__hex_encode(want, n, w);
	ebcc__hex_encode(got, n, g);
	return ebcc__error(ERR, WHAT ": %s expected %s (backend_options.sgx.%s), found %s", name,
			   w, option, g);
}

static int check_pins(const struct ebcc__sgx_quote *q, const struct ebcc__tsm_signature *sig,
		      const struct ebcc__sgx_policy *p)
{
	const struct ebcc__sgx_report_body *b = &q->body;

	if (p->has_report_data && memcmp(b->report_data, p->report_data, 64) != 0)
		return hex_mismatch("REPORTDATA", "report_data", p->report_data, b->report_data, 64);
	if (!sig->verified && !p->allow_unverified_signature)
		return ebcc__error(ERR, WHAT ": signature %s; set backend_options.sgx."
				   "allow_unverified_signature to accept it anyway", sig->detail);
	if (p->has_mrenclave && memcmp(b->mrenclave, p->mrenclave, 32) != 0)
		return hex_mismatch("MRENCLAVE", "mrenclave", p->mrenclave, b->mrenclave, 32);
	if (p->has_mrsigner && memcmp(b->mrsigner, p->mrsigner, 32) != 0)
		return hex_mismatch("MRSIGNER", "mrsigner", p->mrsigner, b->mrsigner, 32);
	if (p->has_isv_prod_id && b->isv_prod_id != p->isv_prod_id)
		return ebcc__error(ERR, WHAT ": ISVPRODID expected %u (backend_options.sgx."
				   "isv_prod_id), found %u", p->isv_prod_id, b->isv_prod_id);
	if (p->has_min_isv_svn && b->isv_svn < p->min_isv_svn)
		return ebcc__error(ERR, WHAT ": ISVSVN %u is below backend_options.sgx.min_isv_svn "
				   "%u", b->isv_svn, p->min_isv_svn);
	if ((b->flags & EBCC_SGX_FLAG_DEBUG) != 0 && !p->allow_debug)
		return ebcc__error(ERR, WHAT ": the enclave is a debug enclave (ATTRIBUTES.FLAGS "
				   "0x%" PRIx64 " has DEBUG, bit 1), so its memory is open to the "
				   "host; set backend_options.sgx.allow_debug to accept it",
				   b->flags);
	return 0;
}

static void add_body(struct json_object *o, const struct ebcc__sgx_report_body *b)
{
	add_hex(o, "mrenclave", b->mrenclave, 32);
	add_hex(o, "mrsigner", b->mrsigner, 32);
	json_object_object_add(o, "isv_prod_id", json_object_new_int(b->isv_prod_id));
	json_object_object_add(o, "isv_svn", json_object_new_int(b->isv_svn));
	add_u64_hex(o, "attributes", b->flags);
	add_u64_hex(o, "xfrm", b->xfrm);
	json_object_object_add(o, "debug",
			       json_object_new_boolean((b->flags & EBCC_SGX_FLAG_DEBUG) != 0));
}

/* Without backend_options.sgx.collateral. */
static const char *const never_collateral[] = {
	"TCB status: the platform's CPUSVN and PCESVN against Intel's TCB info "
	"(backend_options.sgx.collateral)",
	"the QE report against Intel's QE identity (its MRSIGNER, ISVPRODID, ISVSVN): the QE is "
	"trusted because the PCK certificate signed its report",
	NULL,
};

static const char *const never[] = {
	"CONFIGID, CONFIGSVN, ISVEXTPRODID and ISVFAMILYID (reported, not compared)",
	NULL,
};

/* The quote's TCB against the policy's collateral. */
static int check_collateral(const struct ebcc__sgx_quote *q, const struct ebcc__sgx_policy *p,
			    struct ebcc__tcb_result *ret)
{
	const int64_t *at = ebcc__sgx_policy_time(p);
	const struct ebcc__collateral c = {
		.tee = EBCC_COLLATERAL_SGX,
		.name = "collateral",
		.option = "backend_options.sgx.collateral",
		.root_option = "backend_options.sgx.root_ca",
		.status_option = "backend_options.sgx.tcb_status",
		.quote = WHAT,
		.text = &p->collateral,
		.roots = p->roots,
		.accepted = p->tcb_status_accepted,
		.at = at != NULL ? *at : (int64_t)time(NULL),
	};

	return ebcc__collateral_check(&c, &q->sig, NULL, ret);
}

/* What the collateral said, as the tsm backend says it for TDX. */
static void add_tcb(struct json_object *o, struct ebcc__tcb_result *tcb)
{
	json_object_object_add(o, "tcb_status",
			       json_object_new_string(ebcc__tcb_status_name(tcb->status)));
	json_object_object_add(o, "tcb_date", json_object_new_string(tcb->tcb_date));
	json_object_object_add(o, "advisory_ids", tcb->advisory_ids);
	tcb->advisory_ids = NULL;
	json_object_object_add(o, "fmspc", json_object_new_string(tcb->fmspc));
	json_object_object_add(o, "tcb_evaluation_data_number",
			       json_object_new_int64(tcb->tcb_evaluation_data_number));
	json_object_object_add(o, "qe_tcb_status",
			       json_object_new_string(ebcc__tcb_status_name(tcb->qe_status)));
}

/* tcb: what the collateral said (its advisory_ids taken), NULL without collateral. */
static int claims(const struct ebcc__sgx_quote *q, const struct ebcc__tsm_signature *sig,
		  struct ebcc__tcb_result *tcb, char **ret)
{
	struct json_object *o = json_object_new_object(), *qe = json_object_new_object();
	struct json_object *list = json_object_new_array();
	int r;

	if (o == NULL || qe == NULL || list == NULL) {
		json_object_put(o);
		json_object_put(qe);
		json_object_put(list);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	json_object_object_add(o, "backend", json_object_new_string("sgx"));
	json_object_object_add(o, "tee", json_object_new_string("SGX"));
	json_object_object_add(o, "verified", json_object_new_boolean(sig->verified));
	json_object_object_add(o, "quote_version", json_object_new_int(q->version));
	json_object_object_add(o, "quote_size", json_object_new_int64((int64_t)q->quote_len));
	json_object_object_add(o, "padding", json_object_new_int64((int64_t)q->padding));
	add_hex(o, "report_data", q->body.report_data, 64);
	json_object_object_add(o, "measurement_name", json_object_new_string("MRENCLAVE"));
	add_hex(o, "measurement", q->body.mrenclave, 32);
	add_body(o, &q->body);
	json_object_object_add(o, "miscselect", json_object_new_int64(q->body.miscselect));
	add_hex(o, "cpu_svn", q->body.cpu_svn, 16);
	json_object_object_add(o, "config_svn", json_object_new_int(q->body.config_svn));
	add_hex(o, "config_id", q->body.config_id, 64);
	json_object_object_add(o, "qe_svn", json_object_new_int(q->qe_svn));
	json_object_object_add(o, "pce_svn", json_object_new_int(q->pce_svn));
	add_hex(o, "qe_vendor_id", q->qe_vendor_id, 16);
	add_body(qe, &q->qe);
	json_object_object_add(o, "qe_report", qe);
	json_object_object_add(o, "signature", json_object_new_string(sig->detail));
	json_object_object_add(o, "signer", json_object_new_string(sig->signer));
	add_str(o, "root", sig->root);
	add_str(o, "root_sha256", sig->root_sha256);
	if (sig->revocation[0] != '\0')
		json_object_object_add(o, "revocation", json_object_new_string(sig->revocation));
	else
		json_object_array_add(list, json_object_new_string(
						    "revocation of the PCK certificate chain "
						    "(backend_options.sgx.crl)"));
	if (tcb != NULL)
		add_tcb(o, tcb);
	for (size_t i = 0; tcb == NULL && never_collateral[i] != NULL; i++)
		json_object_array_add(list, json_object_new_string(never_collateral[i]));
	for (size_t i = 0; never[i] != NULL; i++)
		json_object_array_add(list, json_object_new_string(never[i]));
	json_object_object_add(o, "not_verified", list);
	r = ebcc__json_to_string(o, JSON_C_TO_STRING_PLAIN, ret);
	json_object_put(o);
	return r;
}

/* Evidence: the quote is of the enclave the envelope names, over its report_data. */
static int check_evidence(const struct ebcc__sgx_quote *q,
			  const struct ebcc_backend_report_check *check)
{
	char measurement[4 + 65];

	memcpy(measurement, "sgx:", 4);
	ebcc__hex_encode(q->body.mrenclave, 32, measurement + 4);
	if (check->measurement == NULL || strcmp(check->measurement, measurement) != 0)
		return ebcc__error(ERR, WHAT ": MRENCLAVE %s is not the evidence's measurement %s",
				   measurement + 4,
				   check->measurement != NULL ? check->measurement : "(none)");
	if (memcmp(q->body.report_data, check->report_data, 64) != 0)
		return ebcc__error(ERR, WHAT ": its REPORTDATA is not the evidence's report_data "
				   "(a quote of another answer)");
	return 0;
}

static int verify_quote(const struct ebcc_backend_report_check *check, bool evidence,
			char **ret)
{
	struct ebcc__sgx_policy p;
	struct ebcc__sgx_quote q;
	struct ebcc__tsm_signature sig = { 0 };
	struct ebcc__tcb_result tcb = { 0 };
	STACK_OF(X509) *chain = NULL;
	int r = ebcc__sgx_policy_parse(check, &p);

	if (r < 0)
		return r;
	r = ebcc__sgx_quote_parse(check->report, check->report_len, ERR, &q);
	if (r == 0) {
		const struct ebcc__dcap_trust t = {
			.roots = p.roots,
			.keys = p.keys,
			.n_keys = p.n_keys,
			.at = ebcc__sgx_policy_time(&p),
			.root_option = "backend_options.sgx.root_ca",
		};

		r = ebcc__dcap_verify(WHAT, q.signed_part, EBCC_SGX_SIGNED_SIZE, &q.sig, &t, &sig,
				      &chain);
	}
	if (r == 0 && p.crls != NULL)
		r = check_revocation(chain, &p, &sig);
	if (r == 0 && evidence)
		r = check_evidence(&q, check);
	if (r == 0)
		r = check_pins(&q, &sig, &p);
	if (r == 0 && p.has_collateral)
		r = check_collateral(&q, &p, &tcb);
	if (r == 0 && p.has_collateral)
		add_revocation(&sig, tcb.revocation);
	if (r == 0)
		r = claims(&q, &sig, p.has_collateral ? &tcb : NULL, ret);
	json_object_put(tcb.advisory_ids);
	ebcc__x509_list_free(chain);
	ebcc__sgx_policy_clear(&p);
	return r;
}

int ebcc__sgx_verify(const struct ebcc_backend_report_check *check, char **ret)
{
	bool raw = check->format != NULL && strcmp(check->format, EBCC_BACKEND_FORMAT_RAW) == 0 &&
		   check->report_data == NULL;

	if (!raw && (check->format == NULL || strcmp(check->format, EBCC_SGX_FORMAT) != 0))
		return ebcc__error(ERR, "report format \"%s\" is not " EBCC_SGX_FORMAT,
				   check->format != NULL ? check->format : "(none)");
	if (!raw && (check->report_data == NULL || check->report_data_len != EBCC_REPORT_DATA_SIZE))
		return ebcc__error(ERR, "report_data of %zu bytes (%d expected)",
				   check->report_data_len, EBCC_REPORT_DATA_SIZE);
	if (check->report == NULL || check->report_len == 0)
		return ebcc__error(ERR, "%s: empty", raw ? "raw report" : "the evidence's report");
	return verify_quote(check, !raw, ret);
}
