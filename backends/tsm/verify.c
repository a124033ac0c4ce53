/* SPDX-License-Identifier: MIT */
/* The tsm backend's verify_report: rules in verify.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "bytes.h"
#include "report.h"
#include "ebcc-base.h"
#include "options.h"
#include "snp.h"
#include "snp_tcb.h"
#include "tdx.h"
#include "tdx_collateral.h"
#include "verify.h"

#define ERR EBCC_ERR_VERIFY

static int verify_evidence(const struct ebcc_backend_report_check *check, char **ret_verdict);

/* What both report kinds come to. */
struct facts {
	enum ebcc__tsm_provider provider;
	const uint8_t *report_data;
	const uint8_t *measurement; /* 48 */
	const char *measurement_name;
	bool debug;
	struct ebcc__tsm_signature sig;
	bool tcb_checked; /* the TCB against the vendor's statement (certificate, collateral) */
	struct json_object *extra; /* provider-specific fields for the verdict */
};

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

static void add_u32(struct json_object *o, const char *key, uint32_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static void tdx_claims(const struct ebcc__tdx_quote *q, struct json_object *o)
{
	struct json_object *rtmr = json_object_new_array();
	char svn[16];

	json_object_object_add(o, "quote_version", json_object_new_int(q->version));
	json_object_object_add(o, "body_type",
			       json_object_new_string(q->body_type == EBCC_TDX_BODY_TYPE_TD15
							      ? "TD report 1.5"
							      : "TD report 1.0"));
	add_u32(o, "quote_size", (uint32_t)q->quote_len);
	add_u32(o, "padding", (uint32_t)q->padding);
	add_u64_hex(o, "td_attributes", q->td_attributes);
	add_u64_hex(o, "xfam", q->xfam);
	add_u64_hex(o, "seam_attributes", q->seam_attributes);
	add_hex(o, "tee_tcb_svn", q->tee_tcb_svn, 16);
	/* TEE_TCB_SVN bytes 0 and 1: the TDX module's minor and major SVN. */
	snprintf(svn, sizeof(svn), "%u.%u", q->tee_tcb_svn[1], q->tee_tcb_svn[0]);
	json_object_object_add(o, "tdx_module_svn", json_object_new_string(svn));
	if (q->tee_tcb_svn2 != NULL)
		add_hex(o, "tee_tcb_svn2", q->tee_tcb_svn2, 16);
	add_hex(o, "mrseam", q->mrseam, 48);
	add_hex(o, "mrsignerseam", q->mrsignerseam, 48);
	add_hex(o, "mrconfigid", q->mrconfigid, 48);
	add_hex(o, "mrowner", q->mrowner, 48);
	add_hex(o, "mrownerconfig", q->mrownerconfig, 48);
	for (int i = 0; i < 4 && rtmr != NULL; i++) {
		char hex[97];

		ebcc__hex_encode(q->rtmr[i], 48, hex);
		json_object_array_add(rtmr, json_object_new_string(hex));
	}
	json_object_object_add(o, "rtmr", rtmr);
	if (q->mrservicetd != NULL)
		add_hex(o, "mrservicetd", q->mrservicetd, 48);
	add_u32(o, "qe_svn", q->sig.qe_report_isvsvn);
	add_u32(o, "qe_prodid", q->sig.qe_report_isvprodid);
	add_hex(o, "qe_vendor_id", q->qe_vendor_id, 16);
}

/* The quote's TCB against the policy's collateral, and what it came to as claims. */
static int tcb_claims(const struct ebcc__tdx_quote *q, const struct ebcc__tsm_policy *p,
		      struct facts *f)
{
	struct ebcc__tcb_result res;
	struct json_object *o = f->extra;
	int r = ebcc__tdx_collateral_check(q, p, &res);

	if (r < 0)
		return r;
	json_object_object_add(o, "tcb_status",
			       json_object_new_string(ebcc__tcb_status_name(res.status)));
	json_object_object_add(o, "tcb_date", json_object_new_string(res.tcb_date));
	json_object_object_add(o, "advisory_ids", res.advisory_ids);
	json_object_object_add(o, "fmspc", json_object_new_string(res.fmspc));
	json_object_object_add(o, "tcb_evaluation_data_number",
			       json_object_new_int64(res.tcb_evaluation_data_number));
	json_object_object_add(o, "qe_tcb_status",
			       json_object_new_string(ebcc__tcb_status_name(res.qe_status)));
	snprintf(f->sig.revocation, sizeof(f->sig.revocation), "%s", res.revocation);
	f->tcb_checked = true;
	return 0;
}

static int tdx_facts(const uint8_t *blob, size_t len, const struct ebcc__tsm_policy *p,
		     struct facts *f)
{
	struct ebcc__tdx_quote q;
	int r = ebcc__tdx_quote_parse(blob, len, ERR, &q);

	if (r < 0)
		return r;
	f->report_data = q.report_data;
	f->measurement = q.mrtd;
	f->measurement_name = "MRTD";
	f->debug = (q.td_attributes & EBCC_TDX_TD_ATTR_DEBUG) != 0;
	r = ebcc__tdx_quote_verify(&q, p, &f->sig);
	if (r < 0)
		return r;
	tdx_claims(&q, f->extra);
	if (p->has_tdx_collateral)
		r = tcb_claims(&q, p, f);
	return r;
}

static void add_tcb(struct json_object *o, const char *key, uint64_t tcb,
		    enum ebcc__snp_product product)
{
	struct json_object *t = json_object_new_object();
	struct ebcc__snp_tcb d;
	char raw[24];

	if (t == NULL)
		return;
	ebcc__snp_tcb_decode(tcb, product, &d);
	snprintf(raw, sizeof(raw), "0x%016" PRIx64, tcb);
	json_object_object_add(t, "raw", json_object_new_string(raw));
	if (product == EBCC_SNP_PRODUCT_TURIN)
		add_u32(t, "fmc", d.fmc);
	add_u32(t, "bootloader", d.bootloader);
	add_u32(t, "tee", d.tee);
	add_u32(t, "snp", d.snp);
	add_u32(t, "microcode", d.microcode);
	json_object_object_add(o, key, t);
}

static void add_bool(struct json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

/* What the signer's certificate certifies, when one chained to the policy's ARK. */
static void endorsement_claims(const struct ebcc__snp_report *rep,
			       const struct ebcc__snp_endorsement *e, struct json_object *o)
{
	struct json_object *c = json_object_new_object();
	uint64_t tcb = rep->reported_tcb; /* equal to the certificate's, as checked */

	if (c == NULL)
		return;
	json_object_object_add(c, "product", json_object_new_string(e->product));
	add_tcb(c, "tcb", tcb, rep->product);
	if (e->has_hwid)
		json_object_object_add(c, "hwid",
				       json_object_new_string(ebcc__snp_chip_id_masked(rep)
								      ? "not compared: CHIP_ID is "
									"masked (zero)"
								      : "equals CHIP_ID"));
	if (e->csp_id[0] != '\0')
		json_object_object_add(c, "csp_id", json_object_new_string(e->csp_id));
	json_object_object_add(o, "endorsement", c);
}

static void snp_claims(const struct ebcc__snp_report *rep, const struct ebcc__snp_endorsement *e,
		       const struct ebcc__tsm_policy *p, struct json_object *o)
{
	struct json_object *flags = json_object_new_object();
	char text[32];

	add_u32(o, "report_version", rep->version);
	add_u32(o, "vmpl", rep->vmpl);
	add_u32(o, "guest_svn", rep->guest_svn);
	add_u64_hex(o, "guest_policy", rep->policy);
	if (flags != NULL) {
		add_bool(flags, "smt", (rep->policy & EBCC_SNP_POLICY_SMT) != 0);
		add_bool(flags, "migrate_ma", (rep->policy & EBCC_SNP_POLICY_MIGRATE_MA) != 0);
		add_bool(flags, "debug", (rep->policy & EBCC_SNP_POLICY_DEBUG) != 0);
		add_bool(flags, "single_socket",
			 (rep->policy & EBCC_SNP_POLICY_SINGLE_SOCKET) != 0);
		json_object_object_add(o, "guest_policy_flags", flags);
	}
	json_object_object_add(o, "signing_key",
			       json_object_new_string(rep->signing_key == EBCC_SNP_SIGNING_KEY_VCEK
							      ? "VCEK"
						      : rep->signing_key == EBCC_SNP_SIGNING_KEY_VLEK
							      ? "VLEK"
							      : "none"));
	json_object_object_add(o, "product",
			       json_object_new_string(ebcc__snp_product_name(rep->product)));
	if (rep->version >= 3) {
		snprintf(text, sizeof(text), "0x%02x 0x%02x 0x%02x", rep->cpuid_family,
			 rep->cpuid_model, rep->cpuid_stepping);
		json_object_object_add(o, "cpuid_family_model_stepping",
				       json_object_new_string(text));
	}
	add_tcb(o, "reported_tcb", rep->reported_tcb, rep->product);
	add_tcb(o, "current_tcb", rep->current_tcb, rep->product);
	add_tcb(o, "committed_tcb", rep->committed_tcb, rep->product);
	add_tcb(o, "launch_tcb", rep->launch_tcb, rep->product);
	snprintf(text, sizeof(text), "%u.%u.%u", rep->current_version[0], rep->current_version[1],
		 rep->current_version[2]);
	json_object_object_add(o, "firmware_version", json_object_new_string(text));
	add_u64_hex(o, "platform_info", rep->platform_info);
	add_hex(o, "host_data", rep->host_data, 32);
	add_hex(o, "chip_id", rep->chip_id, 64);
	json_object_object_add(o, "tcb_status",
			       json_object_new_string(e->present
							      ? "REPORTED_TCB is the TCB its signer "
								"was certified for"
							      : "not checked: no certificate chained "
								"to the policy's snp_ark"));
	json_object_object_add(o, "min_tcb",
			       json_object_new_string(p->has_snp_min_tcb
							      ? "REPORTED_TCB and COMMITTED_TCB meet "
								"snp_min_tcb"
							      : "no snp_min_tcb in the policy"));
	if (e->present)
		endorsement_claims(rep, e, o);
}

static int snp_facts(const uint8_t *blob, size_t len, const uint8_t *aux, size_t aux_len,
		     const struct ebcc__tsm_policy *p, struct facts *f)
{
	struct ebcc__snp_report rep;
	struct ebcc__snp_endorsement e;
	int r = ebcc__snp_report_parse(blob, len, ERR, &rep);

	if (r < 0)
		return r;
	f->report_data = rep.report_data;
	f->measurement = rep.measurement;
	f->measurement_name = "MEASUREMENT";
	f->debug = (rep.policy & EBCC_SNP_POLICY_DEBUG) != 0;
	r = ebcc__snp_report_verify(&rep, aux, aux_len, p, &f->sig, &e);
	if (r < 0)
		return r;
	/* A version 2 report has no CPUID: its signer's certificate names the product. */
	if (rep.product == EBCC_SNP_PRODUCT_UNKNOWN && e.present)
		rep.product = e.product_line;
	r = ebcc__snp_policy_check(&rep, p);
	if (r < 0)
		return r;
	f->tcb_checked = e.present;
	snp_claims(&rep, &e, p, f->extra);
	return 0;
}

static void add_root(struct json_object *o, const struct ebcc__tsm_signature *sig)
{
	if (sig->revocation[0] != '\0')
		json_object_object_add(o, "revocation", json_object_new_string(sig->revocation));
	json_object_object_add(o, "signer", json_object_new_string(sig->signer));
	json_object_object_add(o, "root", sig->root[0] != '\0' ? json_object_new_string(sig->root)
							       : NULL);
	json_object_object_add(o, "root_sha256", sig->root_sha256[0] != '\0'
							 ? json_object_new_string(sig->root_sha256)
							 : NULL);
}

/* What verification does not establish: some entries only while the TCB was not checked
 * against the vendor's statement, or no CRL was. */
enum unless { ALWAYS, UNLESS_TCB, UNLESS_CRL };

struct unverified {
	const char *text;
	enum unless unless;
};

static const struct unverified never_tdx[] = {
	{ "TCB status: the platform's TCB level against Intel's TCB info and the QE identity "
	  "(needs Intel PCS collateral)", UNLESS_TCB },
	{ "revocation of the PCK certificate chain (CRLs)", UNLESS_CRL },
	{ "RTMRs and MRCONFIGID/MROWNER: what ran in the TD after launch", ALWAYS },
	{ "that the evidence's measurement and EID are what ran: they are bound in report_data by "
	  "the library inside the TD, not measured by the hardware", ALWAYS },
	{ NULL, ALWAYS },
};

static const struct unverified never_snp[] = {
	{ "TCB: REPORTED_TCB against the TCB extensions of a VCEK or VLEK that chains to the "
	  "policy's snp_ark", UNLESS_TCB },
	{ "whether AMD still considers the TCB secure (its security bulletins; snp_min_tcb sets "
	  "a floor)", ALWAYS },
	{ "revocation of the ASK or ASVK (AMD KDS's CRL: backend_options.tsm.snp_crl)",
	  UNLESS_CRL },
	{ "HOST_DATA, ID key and author key digests, and the guest policy beyond its debug, "
	  "migration agent and SMT bits", ALWAYS },
	{ "that the evidence's measurement and EID are what ran: they are bound in report_data by "
	  "the library inside the guest, not measured by the hardware", ALWAYS },
	{ NULL, ALWAYS },
};

static void add_unverified(struct json_object *o, const struct facts *f)
{
	const struct unverified *list = f->provider == EBCC_TSM_PROVIDER_TDX ? never_tdx : never_snp;
	struct json_object *never = json_object_new_array();

	if (never == NULL)
		return;
	for (size_t i = 0; list[i].text != NULL; i++)
		if (list[i].unless == ALWAYS || (list[i].unless == UNLESS_TCB && !f->tcb_checked) ||
		    (list[i].unless == UNLESS_CRL && f->sig.revocation[0] == '\0'))
			json_object_array_add(never, json_object_new_string(list[i].text));
	json_object_object_add(o, "not_verified", never);
}

/* The provider-specific fields, into o. */
static void add_extra(struct json_object *o, const struct facts *f)
{
	struct json_object_iterator it = json_object_iter_begin(f->extra);
	struct json_object_iterator end = json_object_iter_end(f->extra);

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		json_object_object_add(o, json_object_iter_peek_name(&it),
				       json_object_get(json_object_iter_peek_value(&it)));
}

static int verdict(const struct ebcc_backend_report_check *check, const struct facts *f,
		   const struct ebcc__tsm_policy *p, char **ret)
{
	struct json_object *o = json_object_new_object();
	char hex[2 * EBCC_TSM_LAUNCH_MEASUREMENT_SIZE + 1];
	int r;

	if (o == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	ebcc__hex_encode(f->measurement, EBCC_TSM_LAUNCH_MEASUREMENT_SIZE, hex);
	json_object_object_add(o, "format", json_object_new_string(EBCC_TSM_FORMAT));
	json_object_object_add(o, "provider",
			       json_object_new_string(ebcc__tsm_provider_name(f->provider)));
	json_object_object_add(o, "tee", json_object_new_string(ebcc__tsm_provider_tee(f->provider)));
	json_object_object_add(o, "simulated", json_object_new_boolean(0));
	json_object_object_add(o, "hardware_root_of_trust", json_object_new_boolean(f->sig.verified));
	json_object_object_add(o, "report_data",
			       json_object_new_string("bound: the hardware report's REPORTDATA "
						      "equals the evidence's report_data"));
	json_object_object_add(o, "signature", json_object_new_string(f->sig.detail));
	add_root(o, &f->sig);
	json_object_object_add(o, "launch_measurement_name",
			       json_object_new_string(f->measurement_name));
	json_object_object_add(o, "launch_measurement", json_object_new_string(hex));
	json_object_object_add(o, "launch_measurement_pinned",
			       json_object_new_string(p->has_launch_measurement
							      ? "matches the policy"
							      : "not pinned by the policy"));
	json_object_object_add(o, "debug", json_object_new_boolean(f->debug));
	json_object_object_add(o, "stage_measurement",
			       json_object_new_string(check->measurement != NULL ? check->measurement
										 : ""));
	add_extra(o, f);
	add_unverified(o, f);
	r = ebcc__json_to_string(o, JSON_C_TO_STRING_PLAIN, ret);
	json_object_put(o);
	return r;
}

static int check_facts(const struct ebcc_backend_report_check *check, const struct facts *f,
		       const struct ebcc__tsm_policy *p)
{
	const char *tee = ebcc__tsm_provider_tee(f->provider);

	if (p->has_report_data && memcmp(f->report_data, p->report_data, 64) != 0) {
		char e[129], g[129];

		ebcc__hex_encode(p->report_data, 64, e);
		ebcc__hex_encode(f->report_data, 64, g);
		return ebcc__error(ERR, "%s report: REPORTDATA expected %s (backend_options.tsm."
				   "report_data), found %s", tee, e, g);
	}
	if (check->report_data != NULL &&
	    memcmp(f->report_data, check->report_data, EBCC_REPORT_DATA_SIZE) != 0)
		return ebcc__error(ERR, "%s report: its REPORTDATA is not the evidence's report_data "
				   "(the report was made for other instance, stage, EID, sequence, "
				   "measurement, nonce or digests)",
				   tee);
	if (!f->sig.verified && !p->allow_unverified_signature)
		return ebcc__error(ERR, "%s report: signature %s; set "
				   "backend_options.tsm.allow_unverified_signature to accept it "
				   "anyway",
				   tee, f->sig.detail);
	if (p->has_launch_measurement &&
	    memcmp(p->launch_measurement, f->measurement, EBCC_TSM_LAUNCH_MEASUREMENT_SIZE) != 0) {
		char e[2 * EBCC_TSM_LAUNCH_MEASUREMENT_SIZE + 1], g[sizeof(e)];

		ebcc__hex_encode(p->launch_measurement, EBCC_TSM_LAUNCH_MEASUREMENT_SIZE, e);
		ebcc__hex_encode(f->measurement, EBCC_TSM_LAUNCH_MEASUREMENT_SIZE, g);
		return ebcc__error(ERR, "%s report: %s expected %s (backend_options.tsm."
				   "launch_measurement), found %s",
				   tee, f->measurement_name, e, g);
	}
	if (f->debug && !p->allow_debug)
		return ebcc__error(ERR, "%s report: the %s is debuggable (%s), so its memory is open "
				   "to the host; set backend_options.tsm.allow_debug to accept it",
				   tee, f->provider == EBCC_TSM_PROVIDER_TDX ? "TD" : "guest",
				   f->provider == EBCC_TSM_PROVIDER_TDX ? "TDATTRIBUTES.DEBUG"
									 : "POLICY.DEBUG");
	return 0;
}

/* The claims of a raw report that verified (verify.h). */
static int claims(const struct facts *f, char **ret)
{
	struct json_object *o = json_object_new_object();
	int r;

	if (o == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	json_object_object_add(o, "backend", json_object_new_string("tsm"));
	json_object_object_add(o, "provider",
			       json_object_new_string(ebcc__tsm_provider_name(f->provider)));
	json_object_object_add(o, "tee", json_object_new_string(ebcc__tsm_provider_tee(f->provider)));
	json_object_object_add(o, "verified", json_object_new_boolean(f->sig.verified));
	add_hex(o, "report_data", f->report_data, 64);
	json_object_object_add(o, "measurement_name", json_object_new_string(f->measurement_name));
	add_hex(o, "measurement", f->measurement, EBCC_TSM_LAUNCH_MEASUREMENT_SIZE);
	json_object_object_add(o, "debug", json_object_new_boolean(f->debug));
	json_object_object_add(o, "signature", json_object_new_string(f->sig.detail));
	add_root(o, &f->sig);
	add_extra(o, f);
	add_unverified(o, f);
	r = ebcc__json_to_string(o, JSON_C_TO_STRING_PLAIN, ret);
	json_object_put(o);
	return r;
}

/* Which provider's report the bytes are: a TDX quote's header, or an SNP report's size. */
static int sniff(const uint8_t *data, size_t len, enum ebcc__tsm_provider *ret)
{
	if (len >= EBCC_TDX_HEADER_SIZE && ebcc__le32(data + 4) == EBCC_TDX_TEE_TYPE) {
		*ret = EBCC_TSM_PROVIDER_TDX;
		return 0;
	}
	if (len == EBCC_SNP_REPORT_SIZE) {
		*ret = EBCC_TSM_PROVIDER_SNP;
		return 0;
	}
	return ebcc__error(ERR, "raw report of %zu bytes: neither a TDX quote (TEE type 0x%x at "
			   "offset 4) nor an SEV-SNP attestation report (%d bytes); "
			   "backend_options.tsm.provider names which it is",
			   len, EBCC_TDX_TEE_TYPE, EBCC_SNP_REPORT_SIZE);
}

static int verify_raw(const struct ebcc_backend_report_check *check, char **ret_claims)
{
	struct ebcc__tsm_policy p;
	struct ebcc__tsm_container c = { .outblob = check->report, .outblob_len = check->report_len };
	struct facts f = { 0 };
	int r;

	if (check->report == NULL || check->report_len == 0)
		return ebcc__error(ERR, "raw report: empty");
	r = ebcc__tsm_policy_parse(check, &p);
	if (r < 0)
		return r;
	/* An ebcc.tsm.v1 report (from evidence) is unwrapped; otherwise the bytes are the
	 * hardware's, of the policy's provider or the one they look like. */
	if (check->report_len >= 4 && memcmp(check->report, EBCC_TSM_CONTAINER_MAGIC, 4) == 0)
		r = ebcc__tsm_container_decode(check->report, check->report_len, &c);
	else if (p.provider != EBCC_TSM_PROVIDER_UNKNOWN)
		c.provider = p.provider;
	else
		r = sniff(check->report, check->report_len, &c.provider);
	if (r == 0 && p.provider != EBCC_TSM_PROVIDER_UNKNOWN && p.provider != c.provider)
		r = ebcc__error(ERR, "report from provider %s, the policy accepts only %s",
				ebcc__tsm_provider_name(c.provider),
				ebcc__tsm_provider_name(p.provider));
	if (r < 0)
		goto out;
	f.provider = c.provider;
	f.extra = json_object_new_object();
	if (f.extra == NULL) {
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		goto out;
	}
	r = c.provider == EBCC_TSM_PROVIDER_TDX
		    ? tdx_facts(c.outblob, c.outblob_len, &p, &f)
		    : snp_facts(c.outblob, c.outblob_len, c.auxblob, c.auxblob_len, &p, &f);
	if (r == 0)
		r = check_facts(check, &f, &p);
	if (r == 0)
		r = claims(&f, ret_claims);
out:
	json_object_put(f.extra);
	ebcc__tsm_policy_clear(&p);
	return r;
}

int ebcc__tsm_verify(const struct ebcc_backend_report_check *check, char **ret_verdict)
{
	if (check->format != NULL && strcmp(check->format, EBCC_BACKEND_FORMAT_RAW) == 0 &&
	    check->report_data == NULL)
		return verify_raw(check, ret_verdict);
	return verify_evidence(check, ret_verdict);
}

static int verify_evidence(const struct ebcc_backend_report_check *check, char **ret_verdict)
{
	struct ebcc__tsm_policy p;
	struct ebcc__tsm_container c;
	struct facts f = { 0 };
	int r;

	if (check->format == NULL || strcmp(check->format, EBCC_TSM_FORMAT) != 0)
		return ebcc__error(ERR, "report format \"%s\" is not " EBCC_TSM_FORMAT,
				   check->format != NULL ? check->format : "(none)");
	if (check->report_data == NULL || check->report_data_len != EBCC_REPORT_DATA_SIZE ||
	    check->report == NULL)
		return ebcc__error(ERR, "no report, or report_data of %zu bytes (%d expected)",
				   check->report_data_len, EBCC_REPORT_DATA_SIZE);
	r = ebcc__tsm_container_decode(check->report, check->report_len, &c);
	if (r < 0)
		return r;
	r = ebcc__tsm_policy_parse(check, &p);
	if (r < 0)
		return r;
	if (p.provider != EBCC_TSM_PROVIDER_UNKNOWN && p.provider != c.provider) {
		r = ebcc__error(ERR, "report from provider %s, the policy accepts only %s",
				ebcc__tsm_provider_name(c.provider), ebcc__tsm_provider_name(p.provider));
		goto out;
	}
	f.provider = c.provider;
	f.extra = json_object_new_object();
	if (f.extra == NULL) {
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		goto out;
	}
	r = c.provider == EBCC_TSM_PROVIDER_TDX
		    ? tdx_facts(c.outblob, c.outblob_len, &p, &f)
		    : snp_facts(c.outblob, c.outblob_len, c.auxblob, c.auxblob_len, &p, &f);
	if (r == 0)
		r = check_facts(check, &f, &p);
	if (r == 0)
		r = verdict(check, &f, &p, ret_verdict);
out:
	json_object_put(f.extra);
	ebcc__tsm_policy_clear(&p);
	return r;
}
