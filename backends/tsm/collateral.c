/* SPDX-License-Identifier: MIT */
/* Intel's TCB info and QE identity documents, and a DCAP quote's TCB against them, for TDX and
 * SGX quotes (rules in collateral.h; the signatures, chains and CRLs in collateral_pki.c). */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "collateral.h"
#include "crypto.h"
#include "dcap.h"
#include "ebcc-base.h"
#include "frame.h"
#include "pck_ext.h"

#define ERR EBCC_ERR_VERIFY
#define DATE_MAX 31

/* ---- JSON members, each error naming the document and the path -------------------------- */

static int member(struct json_object *o, const char *key, json_type type, const char *where,
		  struct json_object **ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return ebcc__error(ERR, "%s: %s is missing", where, key);
	if (!json_object_is_type(v, type))
		return ebcc__error(ERR, "%s: %s must be %s, not %s", where, key,
				   ebcc__json_type_article_of(type), ebcc__json_type_article(v));
	*ret = v;
	return 0;
}

static int string_member(struct json_object *o, const char *key, const char *where,
			 const char **ret)
{
	struct json_object *v = NULL;
	int r = member(o, key, json_type_string, where, &v);

	if (r == 0)
		*ret = json_object_get_string(v);
	return r;
}

static int int_member(struct json_object *o, const char *key, int64_t max, const char *where,
		      int64_t *ret)
{
	struct json_object *v = NULL;
	int r = member(o, key, json_type_int, where, &v);

	if (r < 0)
		return r;
	*ret = json_object_get_int64(v);
	if (*ret < 0 || *ret > max)
		return ebcc__error(ERR, "%s: %s is %" PRId64 ", not 0 to %" PRId64, where, key,
				   *ret, max);
	return 0;
}

/* Exactly 2 * n hex digits of either case (Intel writes upper case, some copies lower). */
static int hex_exact(const char *text, uint8_t *out, size_t n)
{
	size_t got = 0;

	if (strlen(text) != 2 * n)
		return -1;
	return ebcc__hex_decode_either_case(text, 2 * n, out, n, &got) == 0 ? 0 : -1;
}

static int hex_member(struct json_object *o, const char *key, uint8_t *out, size_t n,
		      const char *where)
{
	const char *text = NULL;
	int r = string_member(o, key, where, &text);

	if (r == 0 && hex_exact(text, out, n) < 0)
		r = ebcc__error(ERR, "%s: %s must be %zu hex digits", where, key, 2 * n);
	return r;
}

static int date_member(struct json_object *o, const char *key, const char *where,
		       const char **ret_text, int64_t *ret)
{
	const char *text = NULL;
	int64_t t = 0;
	int r = string_member(o, key, where, &text);

	if (r < 0)
		return r;
	if (strlen(text) > DATE_MAX || ebcc__rfc3339_parse(text, strlen(text), &t) < 0)
		return ebcc__error(ERR, "%s: %s \"%.40s\" is not an RFC 3339 date-time", where, key,
				   text);
	if (ret_text != NULL)
		*ret_text = text;
	if (ret != NULL)
		*ret = t;
	return 0;
}

/* ---- documents --------------------------------------------------------------------------- */

static int parse_status(struct json_object *level, const char *where,
			enum ebcc__tcb_status *ret)
{
	const char *text = NULL;
	int r = string_member(level, "tcbStatus", where, &text);

	if (r == 0 && ebcc__tcb_status_parse(text, ret) < 0)
		r = ebcc__error(ERR, "%s: tcbStatus \"%.48s\" is not a TCB status", where, text);
	return r;
}

/* The part of a tcbLevels entry every document has: tcbDate, tcbStatus, advisoryIDs. */
static int parse_level_common(struct json_object *level, const char *where,
			      struct ebcc__tcb_level *l)
{
	struct json_object *ids;
	int r = date_member(level, "tcbDate", where, &l->date, NULL);

	if (r == 0)
		r = parse_status(level, where, &l->status);
	if (r < 0 || !json_object_object_get_ex(level, "advisoryIDs", &ids))
		return r;
	if (!json_object_is_type(ids, json_type_array))
		return ebcc__error(ERR, "%s: advisoryIDs must be an array", where);
	for (size_t i = 0; i < json_object_array_length(ids); i++)
		if (!json_object_is_type(json_object_array_get_idx(ids, i), json_type_string))
			return ebcc__error(ERR, "%s: advisoryIDs[%zu] must be a string", where, i);
	l->advisory_ids = ids;
	return 0;
}

/* sgxtcbcomponents / tdxtcbcomponents: 16 objects with an svn of 0..255. */
static int parse_components(struct json_object *tcb, const char *key, const char *where,
			    uint8_t svn[16])
{
	struct json_object *list = NULL;
	char at[96];
	int r = member(tcb, key, json_type_array, where, &list);

	if (r < 0)
		return r;
	if (json_object_array_length(list) != 16)
		return ebcc__error(ERR, "%s: %s has %zu entries, not 16", where, key,
				   json_object_array_length(list));
	for (size_t i = 0; i < 16 && r == 0; i++) {
		struct json_object *c = json_object_array_get_idx(list, i);
		int64_t n = 0;

		snprintf(at, sizeof(at), "%s.%s[%zu]", where, key, i);
		if (!json_object_is_type(c, json_type_object))
			return ebcc__error(ERR, "%s must be an object", at);
		r = int_member(c, "svn", 255, at, &n);
		svn[i] = (uint8_t)n;
	}
	return r;
}

/* A tcbLevels array: with isv {"tcb": {"isvsvn": n}}, else TCB info's platform levels (with
 * TDX components when tdx). */
static int parse_levels(struct json_object *o, const char *where, bool isv, bool tdx,
			struct ebcc__tcb_level **ret, size_t *ret_n)
{
	struct json_object *list = NULL;
	struct ebcc__tcb_level *levels;
	size_t n;
	int r = member(o, "tcbLevels", json_type_array, where, &list);

	if (r < 0)
		return r;
	n = json_object_array_length(list);
	if (n == 0 || n > EBCC_TCB_LEVELS_MAX)
		return ebcc__error(ERR, "%s: tcbLevels has %zu entries, 1 to %d are accepted", where,
				   n, EBCC_TCB_LEVELS_MAX);
	levels = calloc(n, sizeof(*levels));
	if (levels == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < n && r == 0; i++) {
		struct json_object *level = json_object_array_get_idx(list, i), *tcb = NULL;
		struct ebcc__tcb_level *l = &levels[i];
		char at[80], tcb_at[96];
		int64_t v = 0;

		snprintf(at, sizeof(at), "%s: tcbLevels[%zu]", where, i);
		snprintf(tcb_at, sizeof(tcb_at), "%s.tcb", at);
		if (!json_object_is_type(level, json_type_object))
			r = ebcc__error(ERR, "%s must be an object", at);
		if (r == 0)
			r = member(level, "tcb", json_type_object, at, &tcb);
		if (r == 0)
			r = parse_level_common(level, at, l);
		if (r == 0 && isv) {
			r = int_member(tcb, "isvsvn", 65535, tcb_at, &v);
			l->isvsvn = (uint16_t)v;
			continue;
		}
		if (r == 0)
			r = parse_components(tcb, "sgxtcbcomponents", tcb_at, l->sgx_svn);
		if (r == 0 && tdx)
			r = parse_components(tcb, "tdxtcbcomponents", tcb_at, l->tdx_svn);
		if (r == 0)
			r = int_member(tcb, "pcesvn", 65535, tcb_at, &v);
		l->pcesvn = (uint16_t)v;
	}
	if (r < 0) {
		free(levels);
		return r;
	}
	*ret = levels;
	*ret_n = n;
	return 0;
}

/* id and version, the first things a reader of an Intel document must check. */
static int check_id(struct json_object *root, const char *id, int64_t version, const char *where)
{
	const char *got = NULL;
	int64_t v = 0;
	int r = string_member(root, "id", where, &got);

	if (r == 0 && strcmp(got, id) != 0)
		return ebcc__error(ERR, "%s: id \"%.32s\" is not \"%s\"", where, got, id);
	if (r == 0)
		r = int_member(root, "version", INT32_MAX, where, &v);
	if (r == 0 && v != version)
		return ebcc__error(ERR, "%s: version %" PRId64 ", only %" PRId64 " is understood",
				   where, v, version);
	return r;
}

static int parse_module_identities(struct json_object *root, const char *what,
				   struct ebcc__tcb_info *t)
{
	struct json_object *list;
	size_t n;
	int r = 0;

	if (!json_object_object_get_ex(root, "tdxModuleIdentities", &list))
		return 0;
	if (!json_object_is_type(list, json_type_array) ||
	    json_object_array_length(list) > EBCC_TDX_MODULE_IDENTITIES_MAX)
		return ebcc__error(ERR, "%s: tdxModuleIdentities must be an array of at most %d "
				   "entries", what, EBCC_TDX_MODULE_IDENTITIES_MAX);
	n = json_object_array_length(list);
	t->modules = calloc(n > 0 ? n : 1, sizeof(*t->modules));
	if (t->modules == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < n && r == 0; i++) {
		struct json_object *m = json_object_array_get_idx(list, i);
		struct ebcc__tdx_module_identity *id = &t->modules[i];
		char at[80];

		snprintf(at, sizeof(at), "%s: tdxModuleIdentities[%zu]", what, i);
		t->n_modules = i + 1;
		if (!json_object_is_type(m, json_type_object))
			r = ebcc__error(ERR, "%s must be an object", at);
		if (r == 0)
			r = string_member(m, "id", at, &id->id);
		if (r == 0)
			r = hex_member(m, "mrsigner", id->mrsigner, 48, at);
		if (r == 0)
			r = hex_member(m, "attributes", id->attributes, 8, at);
		if (r == 0)
			r = hex_member(m, "attributesMask", id->attributes_mask, 8, at);
		if (r == 0)
			r = parse_levels(m, at, true, false, &id->levels, &id->n_levels);
	}
	return r;
}

void ebcc__collateral_tcb_info_clear(struct ebcc__tcb_info *t)
{
	for (size_t i = 0; i < t->n_modules; i++)
		free(t->modules[i].levels);
	free(t->modules);
	free(t->levels);
	json_object_put(t->root);
	*t = (struct ebcc__tcb_info){ 0 };
}

/* tdxModule: the TDX module's signer and attributes. */
static int parse_module(struct json_object *root, const char *what, struct ebcc__tcb_info *t)
{
	struct json_object *module = NULL;
	char where[96];
	int r = member(root, "tdxModule", json_type_object, what, &module);

	snprintf(where, sizeof(where), "%s: tdxModule", what);
	if (r == 0)
		r = hex_member(module, "mrsigner", t->module_mrsigner, 48, where);
	if (r == 0)
		r = hex_member(module, "attributes", t->module_attributes, 8, where);
	if (r == 0)
		r = hex_member(module, "attributesMask", t->module_attributes_mask, 8, where);
	if (r == 0)
		r = parse_module_identities(root, what, t);
	return r;
}

static int parse_tcb_info_fields(struct json_object *root, enum ebcc__collateral_tee tee,
				 const char *what, struct ebcc__tcb_info *t)
{
	bool tdx = tee == EBCC_COLLATERAL_TDX;
	int r = check_id(root, tdx ? "TDX" : "SGX", 3, what);

	if (r == 0)
		r = date_member(root, "issueDate", what, NULL, &t->issue_date);
	if (r == 0)
		r = date_member(root, "nextUpdate", what, NULL, &t->next_update);
	if (r == 0)
		r = hex_member(root, "fmspc", t->fmspc, sizeof(t->fmspc), what);
	if (r == 0)
		r = hex_member(root, "pceId", t->pce_id, sizeof(t->pce_id), what);
	if (r == 0)
		r = int_member(root, "tcbEvaluationDataNumber", INT32_MAX, what,
			       &t->tcb_evaluation_data_number);
	if (r == 0 && tdx)
		r = parse_module(root, what, t);
	if (r == 0)
		r = parse_levels(root, what, false, tdx, &t->levels, &t->n_levels);
	return r;
}

/* A TCB info or QE identity object of at most EBCC_COLLATERAL_ITEM_MAX bytes. */
static int document(const char *text, size_t len, const char *what, struct json_object **ret)
{
	if (len > EBCC_COLLATERAL_ITEM_MAX)
		return ebcc__error(ERR, "%s: %zu bytes, at most %zu are accepted", what, len,
				   EBCC_COLLATERAL_ITEM_MAX);
	return ebcc__json_parse_document(text, len, ERR, what, ret);
}

int ebcc__collateral_tcb_info_parse(enum ebcc__collateral_tee tee, const char *what,
				    const char *text, size_t len, struct ebcc__tcb_info *ret)
{
	struct ebcc__tcb_info t = { 0 };
	int r;

	r = document(text, len, what, &t.root);
	if (r == 0)
		r = parse_tcb_info_fields(t.root, tee, what, &t);
	if (r < 0) {
		ebcc__collateral_tcb_info_clear(&t);
		return r;
	}
	*ret = t;
	return 0;
}

void ebcc__collateral_qe_identity_clear(struct ebcc__qe_identity *q)
{
	free(q->levels);
	json_object_put(q->root);
	*q = (struct ebcc__qe_identity){ 0 };
}

static int parse_qe_fields(struct json_object *root, enum ebcc__collateral_tee tee,
			   const char *what, struct ebcc__qe_identity *q)
{
	uint8_t misc[4] = { 0 }, mask[4] = { 0 };
	int64_t prodid = 0;
	int r = check_id(root, tee == EBCC_COLLATERAL_TDX ? "TD_QE" : "QE", 2, what);

	if (r == 0)
		r = date_member(root, "issueDate", what, NULL, &q->issue_date);
	if (r == 0)
		r = date_member(root, "nextUpdate", what, NULL, &q->next_update);
	if (r == 0)
		r = int_member(root, "tcbEvaluationDataNumber", INT32_MAX, what,
			       &q->tcb_evaluation_data_number);
	if (r == 0)
		r = hex_member(root, "miscselect", misc, 4, what);
	if (r == 0)
		r = hex_member(root, "miscselectMask", mask, 4, what);
	if (r == 0)
		r = hex_member(root, "attributes", q->attributes, 16, what);
	if (r == 0)
		r = hex_member(root, "attributesMask", q->attributes_mask, 16, what);
	if (r == 0)
		r = hex_member(root, "mrsigner", q->mrsigner, 32, what);
	if (r == 0)
		r = int_member(root, "isvprodid", 65535, what, &prodid);
	if (r == 0)
		r = parse_levels(root, what, true, false, &q->levels, &q->n_levels);
	/* MISCSELECT is a 32-bit number, written most significant digit first. */
	q->miscselect = ebcc__frame_get_be32(misc);
	q->miscselect_mask = ebcc__frame_get_be32(mask);
	q->isvprodid = (uint16_t)prodid;
	return r;
}

int ebcc__collateral_qe_identity_parse(enum ebcc__collateral_tee tee, const char *what,
				       const char *text, size_t len,
				       struct ebcc__qe_identity *ret)
{
	struct ebcc__qe_identity q = { 0 };
	int r;

	r = document(text, len, what, &q.root);
	if (r == 0)
		r = parse_qe_fields(q.root, tee, what, &q);
	if (r < 0) {
		ebcc__collateral_qe_identity_clear(&q);
		return r;
	}
	*ret = q;
	return 0;
}

/* ---- the signed part of a PCS response body ------------------------------------------------ */

/* The end (one past the closing brace) of the object starting at text[i] == '{', in a text
 * json-c accepted: strings are skipped so that braces inside them do not count. */
static size_t object_end(const char *text, size_t len, size_t i)
{
	size_t depth = 0;

	for (; i < len; i++) {
		if (text[i] == '"') {
			for (i++; i < len && text[i] != '"'; i++)
				i += text[i] == '\\' ? 1 : 0;
		} else if (text[i] == '{') {
			depth++;
		} else if (text[i] == '}' && --depth == 0) {
			return i + 1;
		}
	}
	return 0;
}

/* Where the value of the top-level key "<inner>" starts: the body is {"<inner>":{...},...}
 * with the key written plainly (not escaped) at depth 1. 0 when it is not found. */
static size_t inner_start(const char *text, size_t len, const char *inner)
{
	char key[32];
	size_t depth = 0, n = (size_t)snprintf(key, sizeof(key), "\"%s\"", inner);

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '"') {
			size_t j = i + 1;

			for (; j < len && text[j] != '"'; j++)
				j += text[j] == '\\' ? 1 : 0;
			if (depth == 1 && j + 1 - i == n && memcmp(text + i, key, n) == 0) {
				for (j++; j < len && strchr(" \t\r\n:", text[j]) != NULL; j++)
					;
				return j < len && text[j] == '{' ? j : 0;
			}
			i = j;
		} else if (text[i] == '{' || text[i] == '[') {
			depth++;
		} else if (text[i] == '}' || text[i] == ']') {
			depth--;
		}
	}
	return 0;
}

static int signature_hex(const char *hex, const char *what, uint8_t sig[64])
{
	if (hex_exact(hex, sig, 64) < 0)
		return ebcc__error(ERR, "%s_signature must be 128 hex digits (r || s of an ECDSA "
				   "P-256 signature)", what);
	return 0;
}

int ebcc__collateral_signed_part(const char *text, size_t len, const char *inner,
				 const char *sig_hex, const char *what, const char **ret_text,
				 size_t *ret_len, uint8_t ret_sig[64])
{
	static const char *const body_keys[] = { "tcbInfo", "enclaveIdentity", "signature", NULL };
	struct json_object *root = NULL, *v;
	const char *sig = NULL;
	size_t start, end;
	int r = ebcc__json_parse_document(text, len, ERR, what, &root);

	if (r < 0)
		return r;
	if (!json_object_object_get_ex(root, inner, &v)) {
		/* The signed object itself. */
		json_object_put(root);
		*ret_text = text;
		*ret_len = len;
		return signature_hex(sig_hex, what, ret_sig);
	}
	if (ebcc__json_unknown_key(root, body_keys) != NULL || json_object_object_length(root) != 2)
		r = ebcc__error(ERR, "%s: a PCS response body has the keys %s and signature only",
				what, inner);
	if (r == 0)
		r = string_member(root, "signature", what, &sig);
	if (r == 0 && sig_hex[0] != '\0' && strcasecmp(sig_hex, sig) != 0)
		r = ebcc__error(ERR, "%s_signature is not the signature of the PCS response body "
				"(leave it empty to use that one)", what);
	if (r == 0)
		r = signature_hex(sig, what, ret_sig);
	start = r == 0 ? inner_start(text, len, inner) : 0;
	end = start > 0 ? object_end(text, len, start) : 0;
	json_object_put(root);
	if (r < 0)
		return r;
	if (end == 0)
		return ebcc__error(ERR, "%s: the PCS response body's %s is not found as a plain "
				   "key with an object value", what, inner);
	*ret_text = text + start;
	*ret_len = end - start;
	return 0;
}

/* ---- the quote against the documents ------------------------------------------------------ */

static bool masked_equal(const uint8_t *got, const uint8_t *want, const uint8_t *mask, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((got[i] & mask[i]) != want[i])
			return false;
	return true;
}

static int check_window(int64_t from, int64_t until, int64_t t, const char *what)
{
	char a[32], b[32], at[32];

	if (t >= from && t <= until)
		return 0;
	ebcc__collateral_format_time(from, a);
	ebcc__collateral_format_time(until, b);
	ebcc__collateral_format_time(t, at);
	return ebcc__error(ERR, "%s is valid from %s to %s (issueDate to nextUpdate), not at %s",
			   what, a, b, at);
}

/* Folds an OutOfDate (or Revoked) QE or TDX module into the platform's status. */
static enum ebcc__tcb_status fold(enum ebcc__tcb_status platform,
				      enum ebcc__tcb_status other)
{
	if (platform == EBCC_TCB_REVOKED || other == EBCC_TCB_REVOKED)
		return EBCC_TCB_REVOKED;
	if (other != EBCC_TCB_OUT_OF_DATE)
		return platform;
	switch (platform) {
	case EBCC_TCB_UP_TO_DATE:
	case EBCC_TCB_SW_HARDENING_NEEDED:
		return EBCC_TCB_OUT_OF_DATE;
	case EBCC_TCB_CONFIGURATION_NEEDED:
	case EBCC_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
		return EBCC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	default:
		return platform;
	}
}

const struct ebcc__tcb_level *
ebcc__collateral_platform_level(const struct ebcc__tcb_info *t,
				const struct ebcc__pck_ext *pck, const uint8_t *tee_tcb_svn)
{
	/* With a TDX module of major version > 0, TEE_TCB_SVN[0..1] are the module's version,
	 * which its tdxModuleIdentities entry grades: Intel's QVL compares from byte 2. SGX
	 * levels have no TDX components: none is graded. */
	int first_tdx = tee_tcb_svn == NULL ? 16 : tee_tcb_svn[1] > 0 ? 2 : 0;

	for (size_t i = 0; i < t->n_levels; i++) {
		const struct ebcc__tcb_level *l = &t->levels[i];
		bool ok = l->pcesvn <= pck->pcesvn;

		for (int j = 0; j < 16 && ok; j++) {
			bool graded_here = j >= first_tdx;

			ok = l->sgx_svn[j] <= pck->sgx_svn[j] &&
			     (!graded_here || l->tdx_svn[j] <= tee_tcb_svn[j]);
		}
		if (ok)
			return l;
	}
	return NULL;
}

static const struct ebcc__tcb_level *isv_level(const struct ebcc__tcb_level *levels,
						    size_t n, uint16_t isvsvn)
{
	for (size_t i = 0; i < n; i++)
		if (levels[i].isvsvn <= isvsvn)
			return &levels[i];
	return NULL;
}

/* The names of the two documents in messages: "<name>.tcb_info", "<name>.qe_identity". */
struct names {
	char tcb_info[64], qe_identity[64];
};

/* The TDX module: tdxModule's signer and attributes; for a major version > 0 the identity
 * "TDX_<major>" and its level for the minor version. *ret: the module's status. */
static int check_module(const struct ebcc__collateral_tdx *q, const struct ebcc__tcb_info *t,
			const char *what, const struct ebcc__tcb_level **ret)
{
	const uint8_t *seam_attributes = q->mrsignerseam + 48; /* raw bytes, as Intel compares */
	const struct ebcc__tdx_module_identity *m = NULL;
	char id[8];

	*ret = NULL;
	if (memcmp(q->mrsignerseam, t->module_mrsigner, 48) != 0 ||
	    !masked_equal(seam_attributes, t->module_attributes, t->module_attributes_mask, 8))
		return ebcc__error(ERR, "%s: tdxModule's mrsigner and attributes are not the "
				   "quote's MRSIGNERSEAM and SEAMATTRIBUTES", what);
	if (q->tee_tcb_svn[1] == 0)
		return 0;
	snprintf(id, sizeof(id), "TDX_%02X", q->tee_tcb_svn[1]);
	for (size_t i = 0; i < t->n_modules && m == NULL; i++)
		if (strcasecmp(t->modules[i].id, id) == 0)
			m = &t->modules[i];
	if (m == NULL)
		return ebcc__error(ERR, "%s: no tdxModuleIdentities entry %s for the quote's TDX "
				   "module (TEE_TCB_SVN[1] = %u)", what, id, q->tee_tcb_svn[1]);
	if (memcmp(q->mrsignerseam, m->mrsigner, 48) != 0 ||
	    !masked_equal(seam_attributes, m->attributes, m->attributes_mask, 8))
		return ebcc__error(ERR, "%s: tdxModuleIdentities %s: mrsigner and attributes are "
				   "not the quote's MRSIGNERSEAM and SEAMATTRIBUTES", what, id);
	*ret = isv_level(m->levels, m->n_levels, q->tee_tcb_svn[0]);
	if (*ret == NULL)
		return ebcc__error(ERR, "%s: no TCB level of tdxModuleIdentities %s matches the "
				   "TDX module's SVN %u (TEE_TCB_SVN[0])", what, id,
				   q->tee_tcb_svn[0]);
	return 0;
}

/* The QE report against the QE identity; *ret: the QE's TCB level. */
static int check_qe(const struct ebcc__dcap_sig *sig, const struct ebcc__qe_identity *id,
		    const char *what, const struct ebcc__tcb_level **ret)
{
	const uint8_t *rep = sig->qe_report;
	uint32_t misc = (uint32_t)rep[16] | (uint32_t)rep[17] << 8 | (uint32_t)rep[18] << 16 |
			(uint32_t)rep[19] << 24;

	if (memcmp(rep + 128, id->mrsigner, 32) != 0)
		return ebcc__error(ERR, "%s: mrsigner is not the QE report's MRSIGNER", what);
	if (sig->qe_report_isvprodid != id->isvprodid)
		return ebcc__error(ERR, "%s: isvprodid %u is not the QE report's %u", what,
				   id->isvprodid, sig->qe_report_isvprodid);
	if ((misc & id->miscselect_mask) != id->miscselect)
		return ebcc__error(ERR, "%s: miscselect %08x (mask %08x) is not the QE report's "
				   "MISCSELECT %08x", what, id->miscselect, id->miscselect_mask,
				   misc);
	if (!masked_equal(rep + 48, id->attributes, id->attributes_mask, 16))
		return ebcc__error(ERR, "%s: attributes (with attributesMask) are not the QE "
				   "report's ATTRIBUTES", what);
	*ret = isv_level(id->levels, id->n_levels, sig->qe_report_isvsvn);
	if (*ret == NULL)
		return ebcc__error(ERR, "%s: no TCB level matches the QE's ISVSVN %u", what,
				   sig->qe_report_isvsvn);
	return 0;
}

static int check_platform_ids(const struct ebcc__tcb_info *t, const struct ebcc__pck_ext *pck,
			      const char *what)
{
	char want[13], got[13];

	if (memcmp(t->fmspc, pck->fmspc, 6) != 0) {
		ebcc__hex_encode(t->fmspc, 6, want);
		ebcc__hex_encode(pck->fmspc, 6, got);
		return ebcc__error(ERR, "%s: fmspc %s is not the PCK certificate's %s", what, want,
				   got);
	}
	if (memcmp(t->pce_id, pck->pce_id, 2) != 0) {
		ebcc__hex_encode(t->pce_id, 2, want);
		ebcc__hex_encode(pck->pce_id, 2, got);
		return ebcc__error(ERR, "%s: pceId %s is not the PCK certificate's %s", what, want,
				   got);
	}
	return 0;
}

static void add_ids(struct json_object *to, const struct ebcc__tcb_level *l)
{
	for (size_t i = 0; l != NULL && l->advisory_ids != NULL &&
			   i < json_object_array_length(l->advisory_ids); i++) {
		struct json_object *id = json_object_array_get_idx(l->advisory_ids, i);
		bool seen = false;

		for (size_t j = 0; j < json_object_array_length(to) && !seen; j++)
			seen = strcmp(json_object_get_string(json_object_array_get_idx(to, j)),
				      json_object_get_string(id)) == 0;
		if (!seen)
			json_object_array_add(to,
					      json_object_new_string(json_object_get_string(id)));
	}
}

/* The platform's level, or the refusal that names what the PCK certificate (and TEE_TCB_SVN)
 * did not reach. */
static int platform_level(const struct ebcc__collateral_tdx *tdx,
			  const struct ebcc__tcb_info *t, const struct ebcc__pck_ext *pck,
			  const char *what, const struct ebcc__tcb_level **ret)
{
	*ret = ebcc__collateral_platform_level(t, pck, tdx != NULL ? tdx->tee_tcb_svn : NULL);
	if (*ret != NULL)
		return 0;
	if (tdx != NULL)
		return ebcc__error(ERR, "%s: no TCB level of TCB info matches the PCK "
				   "certificate's SVNs and the quote's TEE_TCB_SVN", what);
	return ebcc__error(ERR, "%s: no TCB level of TCB info matches the PCK certificate's SGX "
			   "TCB component SVNs and PCESVN %u", what, pck->pcesvn);
}

/* Everything about the documents once they are known to be Intel's and current. */
static int evaluate(const struct ebcc__collateral *c, const struct ebcc__dcap_sig *sig,
		    const struct ebcc__collateral_tdx *tdx, const struct names *n,
		    const struct ebcc__tcb_info *t, const struct ebcc__qe_identity *id,
		    const struct ebcc__pck_ext *pck, struct ebcc__tcb_result *ret)
{
	const struct ebcc__tcb_level *level = NULL, *module = NULL, *qe = NULL;
	char ids[512] = "";
	int r = check_platform_ids(t, pck, n->tcb_info);

	if (r == 0 && tdx != NULL)
		r = check_module(tdx, t, n->tcb_info, &module);
	if (r == 0)
		r = check_qe(sig, id, n->qe_identity, &qe);
	if (r == 0)
		r = platform_level(tdx, t, pck, n->tcb_info, &level);
	if (r < 0)
		return r;
	ret->status = fold(level->status, module != NULL ? module->status : level->status);
	ret->status = fold(ret->status, qe->status);
	ret->qe_status = qe->status;
	snprintf(ret->tcb_date, sizeof(ret->tcb_date), "%s", level->date);
	ebcc__hex_encode(t->fmspc, 6, ret->fmspc);
	ret->tcb_evaluation_data_number = t->tcb_evaluation_data_number;
	ret->advisory_ids = json_object_new_array();
	if (ret->advisory_ids == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	add_ids(ret->advisory_ids, level);
	add_ids(ret->advisory_ids, module);
	add_ids(ret->advisory_ids, qe);
	if ((c->accepted & (1u << ret->status)) != 0 && ret->status != EBCC_TCB_REVOKED)
		return 0;
	for (size_t i = 0; i < json_object_array_length(ret->advisory_ids); i++)
		snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s", i > 0 ? ", " : "",
			 json_object_get_string(json_object_array_get_idx(ret->advisory_ids, i)));
	return ebcc__error(ERR, "%s: the TCB status is %s (TCB level of %s, QE %s; advisories: "
			   "%s), which %s does not accept", c->name,
			   ebcc__tcb_status_name(ret->status), level->date,
			   ebcc__tcb_status_name(qe->status), ids[0] != '\0' ? ids : "none",
			   c->status_option);
}

/* One signed document: its signed text and signature, checked by its issuer chain. */
static int signed_document(const struct ebcc__collateral *coll, int text_item, const char *inner,
			   const char *what, const char **ret_text, size_t *ret_len,
			   X509 **ret_signer)
{
	const struct ebcc__collateral_text *c = coll->text;
	uint8_t sig[64];
	int r = ebcc__collateral_signed_part(c->text[text_item], c->len[text_item], inner,
					     c->text[text_item + 1], what, ret_text, ret_len, sig);

	if (r == 0)
		r = ebcc__collateral_signer_check(*ret_text, *ret_len, sig, c->text[text_item + 2],
						  c->len[text_item + 2], coll->roots, coll->at,
						  what, ret_signer);
	return r;
}

static int pck_leaf(const struct ebcc__collateral *c, const struct ebcc__dcap_sig *sig,
		    X509 **ret)
{
	STACK_OF(X509) *chain = NULL;
	char what[64];
	int r;

	snprintf(what, sizeof(what), "%s: the PCK certificate chain", c->quote);
	r = ebcc__x509_list_from_pem((const char *)sig->pck_chain, sig->pck_chain_len, what, ERR,
				     &chain);
	if (r < 0)
		return r;
	*ret = sk_X509_shift(chain);
	ebcc__x509_list_free(chain);
	return 0;
}

int ebcc__collateral_check(const struct ebcc__collateral *c, const struct ebcc__dcap_sig *sig,
			   const struct ebcc__collateral_tdx *tdx,
			   struct ebcc__tcb_result *ret)
{
	struct ebcc__tcb_info info = { 0 };
	struct ebcc__qe_identity id = { 0 };
	struct ebcc__pck_ext pck;
	X509 *signers[2] = { NULL, NULL }, *leaf = NULL;
	const char *text = NULL;
	struct names n;
	size_t len = 0;
	int r;

	assert((tdx != NULL) == (c->tee == EBCC_COLLATERAL_TDX));
	*ret = (struct ebcc__tcb_result){ 0 };
	if (c->roots == NULL)
		return ebcc__error(ERR, "%s needs %s to check its signers", c->option,
				   c->root_option);
	snprintf(n.tcb_info, sizeof(n.tcb_info), "%s.tcb_info", c->name);
	snprintf(n.qe_identity, sizeof(n.qe_identity), "%s.qe_identity", c->name);
	r = signed_document(c, EBCC_COLL_TCB_INFO, "tcbInfo", n.tcb_info, &text, &len,
			    &signers[0]);
	if (r == 0)
		r = ebcc__collateral_tcb_info_parse(c->tee, n.tcb_info, text, len, &info);
	if (r == 0)
		r = check_window(info.issue_date, info.next_update, c->at, n.tcb_info);
	if (r == 0)
		r = signed_document(c, EBCC_COLL_QE_IDENTITY, "enclaveIdentity", n.qe_identity,
				    &text, &len, &signers[1]);
	if (r == 0)
		r = ebcc__collateral_qe_identity_parse(c->tee, n.qe_identity, text, len, &id);
	if (r == 0)
		r = check_window(id.issue_date, id.next_update, c->at, n.qe_identity);
	if (r == 0)
		r = pck_leaf(c, sig, &leaf);
	if (r == 0)
		r = ebcc__collateral_crls_check(leaf, signers, 2, c, c->at, ret->revocation,
						sizeof(ret->revocation));
	if (r == 0)
		r = ebcc__pck_ext_from_cert(leaf, &pck);
	if (r == 0)
		r = evaluate(c, sig, tdx, &n, &info, &id, &pck, ret);
	if (r < 0) {
		json_object_put(ret->advisory_ids);
		ret->advisory_ids = NULL;
	}
	X509_free(leaf);
	X509_free(signers[0]);
	X509_free(signers[1]);
	ebcc__collateral_tcb_info_clear(&info);
	ebcc__collateral_qe_identity_clear(&id);
	return r;
}
