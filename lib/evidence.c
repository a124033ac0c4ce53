/* SPDX-License-Identifier: MIT */
/*
 * The evidence envelope: an immutable, reference-counted object built by an invocation or
 * parsed from JSON, and its one compact JSON spelling. Parsing is strict so that a text has
 * one meaning: every field present with its type, nothing unknown or repeated, canonical hex
 * and base64, limits on every length.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ebcc-private.h"

#define ALG_MAX 16
#define MEASUREMENT_HEX_MIN 32  /* a digest of at least 16 bytes */
#define MEASUREMENT_HEX_MAX 128 /* and at most 64 */
#define DIGEST_TEXT_LEN (7 + 2 * EBCC_SHA256_SIZE)
#define REPORT_B64_MAX (4 * ((EBCC_EVIDENCE_REPORT_MAX + 2) / 3))

/* The envelope's keys, in the order they are written. */
static const char *const envelope_keys[] = {
	"version",	  "format",	     "backend", "simulated",      "instance",
	"stage",	  "eid",	     "seq",     "measurement",    "nonce",
	"request_digest", "response_digest", "image_digest", "public_key", "report_data",
	"report", NULL,
};

/* ---- field syntax ------------------------------------------------------------------------- */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool format_valid(const char *s)
{
	size_t len = strnlen(s, EBCC_EVIDENCE_FORMAT_MAX + 1);

	if (len == 0 || len > EBCC_EVIDENCE_FORMAT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

bool ebcc__evidence_measurement_valid(const char *s)
{
	size_t alg = 0, hex = 0;

	while (alg <= ALG_MAX && is_lower_alnum(s[alg]))
		alg++;
	if (alg == 0 || alg > ALG_MAX || s[alg] != ':')
		return false;
	while (hex <= MEASUREMENT_HEX_MAX && is_hex_digit(s[alg + 1 + hex]))
		hex++;
	return s[alg + 1 + hex] == '\0' && hex % 2 == 0 && hex >= MEASUREMENT_HEX_MIN &&
	       hex <= MEASUREMENT_HEX_MAX;
}

int ebcc__evidence_digest_parse(const char *text, size_t len, uint8_t out[EBCC_SHA256_SIZE])
{
	size_t n;

	if (len != DIGEST_TEXT_LEN || memcmp(text, "sha256:", 7) != 0 ||
	    ebcc__hex_decode(text + 7, len - 7, out, EBCC_SHA256_SIZE, &n) < 0)
		return -1;
	return 0;
}

static int bad_string(int err, const char *field, const char *value, const char *rule)
{
	char shown[EBCC_EVIDENCE_SHOW_SIZE];

	ebcc__evidence_show(value, strnlen(value, EBCC_EVIDENCE_SHOW_MAX + 1), shown);
	return ebcc__error(err, "evidence: \"%s\" is \"%s\": it must be %s", field, shown, rule);
}

/* The checks shared by the constructor and the parser. */
static int fields_check(const struct ebcc_evidence_fields *f, int err)
{
	const struct ebcc_binding *b = &f->binding;
	const struct {
		const char *field;
		const char *value;
	} strings[] = {
		{ "backend", f->backend },   { "format", f->format },
		{ "instance", b->instance }, { "stage", b->stage },
		{ "measurement", b->measurement },
	};

	for (size_t i = 0; i < EBCC_ARRAY_SIZE(strings); i++)
		if (strings[i].value == NULL)
			return ebcc__error(err, "evidence: \"%s\" is missing", strings[i].field);
	if (!ebcc__backend_name_valid(f->backend))
		return bad_string(err, "backend", f->backend, "1..32 characters of [a-z0-9_-]");
	if (!format_valid(f->format))
		return bad_string(err, "format", f->format,
				  "1..128 printable ASCII characters other than '\"' and '\\'");
	if (!ebcc__instance_id_valid(b->instance))
		return bad_string(err, "instance", b->instance,
				  "1..1024 characters of [A-Za-z0-9_.+-], not \".\" or \"..\"");
	if (!ebcc__stage_name_valid(b->stage))
		return bad_string(err, "stage", b->stage, "1..64 characters of [a-z0-9_-]");
	if (!ebcc__evidence_measurement_valid(b->measurement))
		return bad_string(err, "measurement", b->measurement,
				  "<alg>:<hex>, alg 1..16 of [a-z0-9], hex 16..64 bytes in "
				  "lowercase");
	if (b->eid > INT64_MAX)
		return ebcc__error(err, "evidence: \"eid\" is %" PRIu64 ": it must be in 0..%" PRId64,
				   b->eid, INT64_MAX);
	if (b->seq < 1 || b->seq > INT64_MAX)
		return ebcc__error(err, "evidence: \"seq\" is %" PRIu64 ": it must be in 1..%" PRId64,
				   b->seq, INT64_MAX);
	if (b->nonce_len > EBCC_NONCE_MAX || (b->nonce == NULL && b->nonce_len > 0))
		return ebcc__error(err, "evidence: \"nonce\" is %zu bytes: it must be at most %d",
				   b->nonce_len, EBCC_NONCE_MAX);
	if ((b->version == EBCC_EVIDENCE_VERSION_KEYED && b->public_key == NULL) ||
	    (b->version < EBCC_EVIDENCE_VERSION_KEYED && b->public_key != NULL))
		return ebcc__error(err, "evidence: version %d %s \"public_key\"", b->version,
				   b->public_key != NULL ? "binds no" : "needs its");
	if ((b->version == EBCC_EVIDENCE_VERSION_IMAGE) != (b->image_digest != NULL))
		return ebcc__error(err, "evidence: version %d %s \"image_digest\"", b->version,
				   b->image_digest != NULL ? "binds no" : "needs its");
	if (f->report == NULL || f->report_len == 0 || f->report_len > EBCC_EVIDENCE_REPORT_MAX)
		return ebcc__error(err, "evidence: \"report\" is %zu bytes: it must be 1..%zu",
				   f->report != NULL ? f->report_len : 0, EBCC_EVIDENCE_REPORT_MAX);
	return 0;
}

/* ---- the object --------------------------------------------------------------------------- */

static void evidence_free(struct ebcc_evidence *ev)
{
	free(ev->backend);
	free(ev->format);
	free(ev->instance);
	free(ev->stage);
	free(ev->measurement);
	free(ev->report);
	free(ev);
}

static int evidence_build(const struct ebcc_evidence_fields *f, int err,
			  struct ebcc_evidence **ret)
{
	struct ebcc_evidence *ev;
	int r = fields_check(f, err);

	if (r < 0)
		return r;
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory building evidence");
	ev->refcount = 1;
	ev->backend = strdup(f->backend);
	ev->format = strdup(f->format);
	ev->instance = strdup(f->binding.instance);
	ev->stage = strdup(f->binding.stage);
	ev->measurement = strdup(f->binding.measurement);
	ev->report = malloc(f->report_len);
	if (ev->backend == NULL || ev->format == NULL || ev->instance == NULL ||
	    ev->stage == NULL || ev->measurement == NULL || ev->report == NULL) {
		evidence_free(ev);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory building evidence");
	}
	if (f->binding.nonce_len > 0)
		memcpy(ev->nonce, f->binding.nonce, f->binding.nonce_len);
	memcpy(ev->report, f->report, f->report_len);
	if (f->binding.public_key != NULL)
		memcpy(ev->public_key, f->binding.public_key, EBCC_PUBLIC_KEY_SIZE);
	if (f->binding.image_digest != NULL)
		memcpy(ev->image_digest, f->binding.image_digest, EBCC_SHA256_SIZE);

	ev->f = *f;
	ev->f.backend = ev->backend;
	ev->f.format = ev->format;
	ev->f.binding.instance = ev->instance;
	ev->f.binding.stage = ev->stage;
	ev->f.binding.measurement = ev->measurement;
	ev->f.binding.nonce = ev->nonce;
	ev->f.report = ev->report;
	if (f->binding.public_key != NULL)
		ev->f.binding.public_key = ev->public_key;
	if (f->binding.image_digest != NULL)
		ev->f.binding.image_digest = ev->image_digest;
	/* Constructed without a version: the one this library makes. */
	if (ev->f.binding.version == 0)
		ev->f.binding.version = EBCC_EVIDENCE_VERSION;
	*ret = ev;
	return 0;
}

int ebcc__evidence_new(const struct ebcc_evidence_fields *f, struct ebcc_evidence **ret)
{
	if (f == NULL || ret == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc__evidence_new: %s is NULL",
				   f == NULL ? "f" : "ret");
	return evidence_build(f, EBCC_ERR_INVALID_ARG, ret);
}

const struct ebcc_evidence_fields *ebcc__evidence_fields(const struct ebcc_evidence *ev)
{
	return &ev->f;
}

EBCC_EXPORT struct ebcc_evidence *ebcc_evidence_ref(struct ebcc_evidence *ev)
{
	if (ev != NULL)
		__atomic_add_fetch(&ev->refcount, 1, __ATOMIC_RELAXED);
	return ev;
}

EBCC_EXPORT struct ebcc_evidence *ebcc_evidence_unref(struct ebcc_evidence *ev)
{
	if (ev == NULL || __atomic_sub_fetch(&ev->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return NULL;
	evidence_free(ev);
	return NULL;
}

/* ---- serialising -------------------------------------------------------------------------- */

int ebcc__evidence_serialize(const struct ebcc_evidence *ev, char **ret_json, size_t *ret_len)
{
	const struct ebcc_evidence_fields *f = &ev->f;
	_cleanup_free_ char *report = ebcc__base64_encode(f->report, f->report_len);
	char nonce[2 * EBCC_NONCE_MAX + 1], request[2 * EBCC_SHA256_SIZE + 1];
	char response[2 * EBCC_SHA256_SIZE + 1], report_data[2 * EBCC_REPORT_DATA_SIZE + 1];
	char public_key[sizeof("\"public_key\":\"\",") + 2 * EBCC_PUBLIC_KEY_SIZE] = "";
	char image[sizeof("\"image_digest\":\"sha256:\",") + 2 * EBCC_SHA256_SIZE] = "";
	char *text = NULL;
	int n;

	if (report == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory serialising evidence");
	ebcc__hex_encode(f->binding.nonce, f->binding.nonce_len, nonce);
	ebcc__hex_encode(f->binding.request_digest, EBCC_SHA256_SIZE, request);
	ebcc__hex_encode(f->binding.response_digest, EBCC_SHA256_SIZE, response);
	ebcc__hex_encode(f->report_data, EBCC_REPORT_DATA_SIZE, report_data);
	if (f->binding.public_key != NULL) {
		char hex[2 * EBCC_PUBLIC_KEY_SIZE + 1];

		ebcc__hex_encode(f->binding.public_key, EBCC_PUBLIC_KEY_SIZE, hex);
		snprintf(public_key, sizeof(public_key), "\"public_key\":\"%s\",", hex);
	}
	if (f->binding.image_digest != NULL) {
		char hex[2 * EBCC_SHA256_SIZE + 1];

		ebcc__hex_encode(f->binding.image_digest, EBCC_SHA256_SIZE, hex);
		snprintf(image, sizeof(image), "\"image_digest\":\"sha256:%s\",", hex);
	}
	/* Written directly, in the order of envelope_keys[]: construction has checked that no
	 * field holds a character JSON would escape (quote, backslash, control), so this is
	 * the one compact spelling a JSON library would print too. */
	n = asprintf(&text,
		     "{\"version\":%d,\"format\":\"%s\",\"backend\":\"%s\",\"simulated\":%s,"
		     "\"instance\":\"%s\",\"stage\":\"%s\",\"eid\":%" PRIu64 ",\"seq\":%" PRIu64 ","
		     "\"measurement\":\"%s\",\"nonce\":\"%s\",\"request_digest\":\"sha256:%s\","
		     "\"response_digest\":\"sha256:%s\",%s%s\"report_data\":\"%s\",\"report\":\"%s\"}",
		     f->binding.version, f->format, f->backend, f->simulated ? "true" : "false",
		     f->binding.instance, f->binding.stage, f->binding.eid, f->binding.seq,
		     f->binding.measurement, nonce, request, response, image, public_key, report_data,
		     report);
	if (n < 0)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory serialising evidence");
	if (ret_len != NULL)
		*ret_len = (size_t)n;
	*ret_json = text;
	return 0;
}

EBCC_EXPORT int ebcc_evidence_serialize(struct ebcc_evidence *ev, char **ret_json)
{
	if (ev == NULL || ret_json == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_evidence_serialize: %s is NULL",
				   ev == NULL ? "ev" : "ret_json");
	return ebcc__evidence_serialize(ev, ret_json, NULL);
}

/* ---- parsing ------------------------------------------------------------------------------ */

static int member(struct json_object *obj, const char *key, enum json_type type,
		  const char *type_text, int err, struct json_object **ret)
{
	struct json_object *value = NULL;

	if (!json_object_object_get_ex(obj, key, &value))
		return ebcc__error(err, "evidence: \"%s\" is missing", key);
	if (!json_object_is_type(value, type))
		return ebcc__error(err, "evidence: \"%s\" must be %s, not %s", key, type_text,
				   ebcc__json_type_article(value));
	*ret = value;
	return 0;
}

/* A string member without NUL characters; *ret_len is its length. */
static int string_member(struct json_object *obj, const char *key, int err, const char **ret,
			 size_t *ret_len)
{
	struct json_object *value = NULL;
	int r = member(obj, key, json_type_string, "a string", err, &value);
	size_t len;

	if (r < 0)
		return r;
	len = (size_t)json_object_get_string_len(value);
	if (strlen(json_object_get_string(value)) != len)
		return ebcc__error(err, "evidence: \"%s\" contains a NUL character", key);
	*ret = json_object_get_string(value);
	if (ret_len != NULL)
		*ret_len = len;
	return 0;
}

/* A JSON integer in [min, INT64_MAX]; json-c saturates larger ones, which are refused. */
static int int_member(struct json_object *obj, const char *key, uint64_t min, int err,
		      uint64_t *ret)
{
	struct json_object *value = NULL;
	int r = member(obj, key, json_type_int, "an integer", err, &value);
	int64_t v;

	if (r < 0)
		return r;
	v = json_object_get_int64(value);
	if (v < 0 || (uint64_t)v != json_object_get_uint64(value) || (uint64_t)v < min)
		return ebcc__error(err, "evidence: \"%s\" is %s: it must be an integer in "
				   "%" PRIu64 "..%" PRId64,
				   key, json_object_to_json_string(value), min, INT64_MAX);
	*ret = (uint64_t)v;
	return 0;
}

static int hex_member(struct json_object *obj, const char *key, size_t min_bytes,
		      size_t max_bytes, int err, uint8_t *out, size_t *ret_len)
{
	char shown[EBCC_EVIDENCE_SHOW_SIZE];
	const char *text;
	size_t len, n = 0;
	int r = string_member(obj, key, err, &text, &len);

	if (r < 0)
		return r;
	if (len > 2 * max_bytes || ebcc__hex_decode(text, len, out, max_bytes, &n) < 0 ||
	    n < min_bytes) {
		ebcc__evidence_show(text, len, shown);
		if (min_bytes == max_bytes)
			return ebcc__error(err, "evidence: \"%s\" is \"%s\" (%zu characters): it must "
					   "be %zu lowercase hex digits",
					   key, shown, len, 2 * max_bytes);
		return ebcc__error(err, "evidence: \"%s\" is \"%s\" (%zu characters): it must be "
				   "lowercase hex of at most %zu bytes",
				   key, shown, len, max_bytes);
	}
	if (ret_len != NULL)
		*ret_len = n;
	return 0;
}

static int digest_member(struct json_object *obj, const char *key, int err,
			 uint8_t out[EBCC_SHA256_SIZE])
{
	char shown[EBCC_EVIDENCE_SHOW_SIZE];
	const char *text = NULL;
	size_t len = 0;
	int r = string_member(obj, key, err, &text, &len);

	if (r < 0)
		return r;
	if (ebcc__evidence_digest_parse(text, len, out) < 0) {
		ebcc__evidence_show(text, len, shown);
		return ebcc__error(err, "evidence: \"%s\" is \"%s\": it must be \"sha256:\" and 64 "
				   "lowercase hex digits",
				   key, shown);
	}
	return 0;
}

static int parse_object(struct json_object *root, int err, struct ebcc_evidence **ret)
{
	struct ebcc_evidence_fields f = { 0 };
	struct json_object *version = NULL, *simulated = NULL;
	_cleanup_free_ uint8_t *report = NULL;
	uint8_t nonce[EBCC_NONCE_MAX], public_key[EBCC_PUBLIC_KEY_SIZE];
	uint8_t image_digest[EBCC_SHA256_SIZE];
	const char *report_text, *unknown;
	size_t report_text_len;
	int r;

	if (!json_object_is_type(root, json_type_object))
		return ebcc__error(err, "evidence: the envelope must be a JSON object, not %s",
				   ebcc__json_type_article(root));
	/* The version first: a newer envelope is "unsupported", not "has unknown fields". */
	r = member(root, "version", json_type_int, "an integer", err, &version);
	if (r < 0)
		return r;
	if (json_object_get_int64(version) < EBCC_EVIDENCE_VERSION_HOST_BOUND ||
	    json_object_get_int64(version) > EBCC_EVIDENCE_VERSION_IMAGE ||
	    json_object_get_uint64(version) > EBCC_EVIDENCE_VERSION_IMAGE)
		return ebcc__error(err, "evidence: \"version\" is %s: this library reads versions "
				   "%d to %d", json_object_to_json_string(version),
				   EBCC_EVIDENCE_VERSION_HOST_BOUND, EBCC_EVIDENCE_VERSION_IMAGE);
	f.binding.version = (int)json_object_get_int64(version);
	unknown = ebcc__json_unknown_key(root, envelope_keys);
	if (unknown != NULL) {
		char shown[EBCC_EVIDENCE_SHOW_SIZE];

		ebcc__evidence_show(unknown, strlen(unknown), shown);
		return ebcc__error(err, "evidence: unknown field \"%s\"", shown);
	}

	r = string_member(root, "format", err, &f.format, NULL);
	if (r >= 0)
		r = string_member(root, "backend", err, &f.backend, NULL);
	if (r >= 0)
		r = member(root, "simulated", json_type_boolean, "a boolean", err, &simulated);
	if (r >= 0)
		r = string_member(root, "instance", err, &f.binding.instance, NULL);
	if (r >= 0)
		r = string_member(root, "stage", err, &f.binding.stage, NULL);
	if (r >= 0)
		r = int_member(root, "eid", 0, err, &f.binding.eid);
	if (r >= 0)
		r = int_member(root, "seq", 1, err, &f.binding.seq);
	if (r >= 0)
		r = string_member(root, "measurement", err, &f.binding.measurement, NULL);
	if (r >= 0)
		r = hex_member(root, "nonce", 0, EBCC_NONCE_MAX, err, nonce, &f.binding.nonce_len);
	if (r >= 0)
		r = digest_member(root, "request_digest", err, f.binding.request_digest);
	if (r >= 0)
		r = digest_member(root, "response_digest", err, f.binding.response_digest);
	if (r >= 0 && f.binding.version == EBCC_EVIDENCE_VERSION_IMAGE) {
		r = json_object_object_get_ex(root, "image_digest", NULL)
			    ? digest_member(root, "image_digest", err, image_digest)
			    : ebcc__error(err, "evidence: \"image_digest\" is missing: evidence of "
					  "version %d binds the loaded image",
					  EBCC_EVIDENCE_VERSION_IMAGE);
		f.binding.image_digest = image_digest;
	} else if (r >= 0 && json_object_object_get_ex(root, "image_digest", NULL)) {
		r = ebcc__error(err, "evidence: \"image_digest\" in evidence of version %d: only "
				"version %d binds one", f.binding.version,
				EBCC_EVIDENCE_VERSION_IMAGE);
	}
	if (r >= 0 && json_object_object_get_ex(root, "public_key", NULL) &&
	    f.binding.version >= EBCC_EVIDENCE_VERSION_KEYED) {
		r = hex_member(root, "public_key", EBCC_PUBLIC_KEY_SIZE, EBCC_PUBLIC_KEY_SIZE, err,
			       public_key, NULL);
		f.binding.public_key = public_key;
	} else if (r >= 0 && f.binding.version == EBCC_EVIDENCE_VERSION_KEYED) {
		r = ebcc__error(err, "evidence: \"public_key\" is missing: evidence of version %d "
				"binds the stage's key", EBCC_EVIDENCE_VERSION_KEYED);
	} else if (r >= 0 && json_object_object_get_ex(root, "public_key", NULL)) {
		r = ebcc__error(err, "evidence: \"public_key\" in evidence of version %d: only "
				"versions %d and %d bind one", f.binding.version,
				EBCC_EVIDENCE_VERSION_KEYED, EBCC_EVIDENCE_VERSION_IMAGE);
	}
	if (r >= 0)
		r = hex_member(root, "report_data", EBCC_REPORT_DATA_SIZE, EBCC_REPORT_DATA_SIZE,
			       err, f.report_data, NULL);
	if (r >= 0)
		r = string_member(root, "report", err, &report_text, &report_text_len);
	if (r < 0)
		return r;
	f.simulated = json_object_get_boolean(simulated);
	f.binding.nonce = nonce;

	if (report_text_len > REPORT_B64_MAX)
		return ebcc__error(err, "evidence: \"report\" is %zu characters of base64: at most "
				   "%zu (%zu bytes) are allowed",
				   report_text_len, (size_t)REPORT_B64_MAX, EBCC_EVIDENCE_REPORT_MAX);
	r = ebcc__base64_decode(report_text, report_text_len, &report, &f.report_len);
	if (r == -ENOMEM)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory decoding the evidence report");
	if (r < 0)
		return ebcc__error(err, "evidence: \"report\" is not canonical base64 (RFC 4648, "
				   "padded, no whitespace, no bits beyond the data)");
	f.report = report;
	return evidence_build(&f, err, ret);
}

int ebcc__evidence_parse(const char *data, size_t len, int err, struct ebcc_evidence **ret)
{
	struct json_object *root = NULL;
	int r;

	if (data == NULL || ret == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc__evidence_parse: %s is NULL",
				   data == NULL ? "data" : "ret");
	if (len > EBCC_EVIDENCE_TEXT_MAX)
		return ebcc__error(EBCC_ERR_TOO_BIG, "evidence: %zu bytes is more than the %zu "
				   "allowed", len, EBCC_EVIDENCE_TEXT_MAX);
	r = ebcc__json_parse(data, len, err, "evidence", &root);
	if (r < 0)
		return r;
	r = ebcc__json_check_text(data, len, root, err, "evidence");
	if (r >= 0)
		r = parse_object(root, err, ret);
	json_object_put(root);
	return r;
}

EBCC_EXPORT int ebcc_evidence_parse(struct ebcc_context *ctx, const char *data, size_t len,
				    struct ebcc_evidence **ret_ev)
{
	int r;

	if (ctx == NULL || data == NULL || ret_ev == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_evidence_parse: %s is NULL",
				   ctx == NULL ? "ctx" : data == NULL ? "data" : "ret_ev");
	r = ebcc__evidence_parse(data, len, EBCC_ERR_VERIFY, ret_ev);
	if (r < 0)
		ebcc__log_debug(ctx, "evidence refused: %s", ebcc_last_error_message());
	return r;
}
