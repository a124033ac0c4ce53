/* SPDX-License-Identifier: MIT */
/*
 * Verification policies: what a verifier trusts (keys) and expects (measurement, nonce,
 * digests, whether simulated evidence will do). Strict like the envelope: an unknown key or a
 * value of the wrong shape is refused, never ignored, so that a typo cannot weaken a check.
 */
#include <string.h>

#include <json-c/json.h>

#include "ebcc-private.h"

#define ERR EBCC_ERR_VERIFY

static const char *const policy_keys[] = {
	"trusted_keys",	     "measurement",	"nonce",	     "request_digest",
	"response_digest",   "image_digest",	"allow_simulated",   "allow_evidence_v1",
	"backend_options",   "verification_time", NULL,
};

/* An optional member of the given type; *ret stays NULL when it is absent. */
static int member(struct json_object *obj, const char *key, enum json_type type,
		  const char *type_text, struct json_object **ret)
{
	struct json_object *value = NULL;

	*ret = NULL;
	if (!json_object_object_get_ex(obj, key, &value))
		return 0;
	if (!json_object_is_type(value, type))
		return ebcc__error(ERR, "policy: \"%s\" must be %s, not %s", key, type_text,
				   ebcc__json_type_article(value));
	*ret = value;
	return 0;
}

static int string_member(struct json_object *obj, const char *key, const char **ret,
			 size_t *ret_len)
{
	struct json_object *value;
	int r = member(obj, key, json_type_string, "a string", &value);

	*ret = NULL;
	if (r < 0 || value == NULL)
		return r;
	*ret_len = (size_t)json_object_get_string_len(value);
	*ret = json_object_get_string(value);
	if (strlen(*ret) != *ret_len)
		return ebcc__error(ERR, "policy: \"%s\" contains a NUL character", key);
	return 0;
}

static int parse_trusted_keys(struct json_object *root, struct ebcc__policy *p)
{
	struct json_object *keys;
	size_t n;
	int r = member(root, "trusted_keys", json_type_array, "an array of PEM strings", &keys);

	if (r < 0 || keys == NULL)
		return r;
	n = json_object_array_length(keys);
	if (n > EBCC_POLICY_KEYS_MAX)
		return ebcc__error(ERR, "policy: \"trusted_keys\" has %zu keys; at most %d are "
				   "allowed", n, EBCC_POLICY_KEYS_MAX);
	p->trusted_keys = calloc(n > 0 ? n : 1, sizeof(*p->trusted_keys));
	if (p->trusted_keys == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory reading the policy");
	for (size_t i = 0; i < n; i++) {
		struct json_object *key = json_object_array_get_idx(keys, i);
		size_t len;

		if (!json_object_is_type(key, json_type_string))
			return ebcc__error(ERR, "policy: \"trusted_keys\"[%zu] must be a PEM string, "
					   "not %s", i, ebcc__json_type_article(key));
		len = (size_t)json_object_get_string_len(key);
		if (len == 0 || len > EBCC_POLICY_KEY_PEM_MAX ||
		    strlen(json_object_get_string(key)) != len)
			return ebcc__error(ERR, "policy: \"trusted_keys\"[%zu] is %zu bytes: it must "
					   "be 1..%zu bytes of PEM text without NUL characters",
					   i, len, EBCC_POLICY_KEY_PEM_MAX);
		p->trusted_keys[i] = json_object_get_string(key);
	}
	p->n_trusted_keys = n;
	return 0;
}

/* An optional "sha256:<hex>" pin: *has says whether it was given. */
static int digest_pin(struct json_object *root, const char *key, uint8_t out[EBCC_SHA256_SIZE],
		      bool *has)
{
	char shown[EBCC_EVIDENCE_SHOW_SIZE];
	const char *text = NULL;
	size_t len = 0;
	int r = string_member(root, key, &text, &len);

	if (r < 0 || text == NULL)
		return r;
	if (ebcc__evidence_digest_parse(text, len, out) < 0) {
		ebcc__evidence_show(text, len, shown);
		return ebcc__error(ERR, "policy: \"%s\" is \"%s\": it must be \"sha256:\" and 64 "
				   "lowercase hex digits", key, shown);
	}
	*has = true;
	return 0;
}

static int parse_fields(struct json_object *root, struct ebcc__policy *p)
{
	char shown[EBCC_EVIDENCE_SHOW_SIZE];
	struct json_object *value;
	const char *text;
	size_t len = 0;
	int r;

	r = ebcc__json_refuse_unknown(root, policy_keys, ERR, "policy");
	if (r < 0)
		return r;

	r = parse_trusted_keys(root, p);
	if (r < 0)
		return r;

	r = string_member(root, "measurement", &text, &len);
	if (r < 0)
		return r;
	if (text != NULL && !ebcc__evidence_measurement_valid(text)) {
		ebcc__evidence_show(text, len, shown);
		return ebcc__error(ERR, "policy: \"measurement\" is \"%s\": it must be <alg>:<hex> "
				   "(for example sha256: and 64 lowercase hex digits)",
				   shown);
	}
	p->measurement = text;

	r = string_member(root, "nonce", &text, &len);
	if (r < 0)
		return r;
	if (text != NULL) {
		if (len > 2 * EBCC_NONCE_MAX ||
		    ebcc__hex_decode(text, len, p->nonce, sizeof(p->nonce), &p->nonce_len) < 0) {
			ebcc__evidence_show(text, len, shown);
			return ebcc__error(ERR, "policy: \"nonce\" is \"%s\": it must be lowercase hex "
					   "of at most %d bytes",
					   shown, EBCC_NONCE_MAX);
		}
		p->has_nonce = true;
	}

	r = digest_pin(root, "request_digest", p->request_digest, &p->has_request_digest);
	if (r == 0)
		r = digest_pin(root, "response_digest", p->response_digest,
			       &p->has_response_digest);
	if (r == 0)
		r = digest_pin(root, "image_digest", p->image_digest, &p->has_image_digest);
	if (r < 0)
		return r;

	r = member(root, "allow_simulated", json_type_boolean, "a boolean (true or false)",
		   &value);
	if (r < 0)
		return r;
	p->allow_simulated = value != NULL && json_object_get_boolean(value);

	r = member(root, "allow_evidence_v1", json_type_boolean, "a boolean (true or false)",
		   &value);
	if (r < 0)
		return r;
	p->allow_evidence_v1 = value != NULL && json_object_get_boolean(value);

	r = string_member(root, "verification_time", &text, &len);
	if (r < 0)
		return r;
	if (text != NULL) {
		if (ebcc__rfc3339_parse(text, len, &p->verification_time) < 0) {
			ebcc__evidence_show(text, len, shown);
			return ebcc__error(ERR, "policy: \"verification_time\" is \"%s\": it must be "
					   "an RFC 3339 date-time such as \"2024-05-01T12:00:00Z\"",
					   shown);
		}
		p->has_verification_time = true;
	}

	/* Read by the backend from the policy text: its own object's keys are its business, the
	 * shape and which backends are named the core's (ebcc__policy_check()). */
	return member(root, "backend_options", json_type_object, "an object",
		      &p->backend_options);
}

int ebcc__policy_parse(const char *json, struct ebcc__policy *ret)
{
	struct ebcc__policy p = { 0 };
	size_t len;
	int r;

	if (json == NULL || json[0] == '\0') {
		*ret = p;
		return 0;
	}
	len = strnlen(json, EBCC_EVIDENCE_TEXT_MAX + 1);
	if (len > EBCC_EVIDENCE_TEXT_MAX)
		return ebcc__error(ERR, "policy: more than %zu bytes", EBCC_EVIDENCE_TEXT_MAX);
	r = ebcc__json_parse_document(json, len, ERR, "policy", &p.root);
	if (r >= 0)
		r = parse_fields(p.root, &p);
	if (r < 0) {
		ebcc__policy_clear(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void ebcc__policy_clear(struct ebcc__policy *p)
{
	free(p->trusted_keys);
	json_object_put(p->root);
	*p = (struct ebcc__policy){ 0 };
}

static int digest_mismatch(const char *field, const uint8_t expected[EBCC_SHA256_SIZE],
			   const uint8_t found[EBCC_SHA256_SIZE])
{
	char e[2 * EBCC_SHA256_SIZE + 1], f[2 * EBCC_SHA256_SIZE + 1];

	ebcc__hex_encode(expected, EBCC_SHA256_SIZE, e);
	ebcc__hex_encode(found, EBCC_SHA256_SIZE, f);
	return ebcc__error(ERR, "policy: %s expected \"sha256:%s\", found \"sha256:%s\"", field, e,
			   f);
}

/* Options that no backend will read are a check the verifier believes in and nobody makes:
 * every entry must be for the backend that produced the evidence. */
int ebcc__policy_check_backend(const struct ebcc__policy *p, const char *backend)
{
	struct json_object_iter it;

	if (p->backend_options == NULL)
		return 0;
	json_object_object_foreachC(p->backend_options, it) {
		char shown[EBCC_EVIDENCE_SHOW_SIZE];

		if (strcmp(it.key, backend) == 0)
			continue;
		ebcc__evidence_show(it.key, strlen(it.key), shown);
		return ebcc__error(ERR, "policy: backend_options.%s would be read by no backend: "
				   "the evidence is from backend %s, which reads only "
				   "backend_options.%s",
				   shown, backend, backend);
	}
	return 0;
}

int ebcc__policy_fill_check(const struct ebcc__policy *p, const char *policy_json,
			    const char *backend, struct ebcc_backend_report_check *check,
			    char **ret_part)
{
	struct json_object *part = NULL;

	*ret_part = NULL;
	check->trusted_keys = p->trusted_keys;
	check->trusted_keys_count = p->n_trusted_keys;
	check->policy_json = policy_json != NULL && policy_json[0] != '\0' ? policy_json : NULL;
	check->has_verification_time = p->has_verification_time;
	check->verification_time = p->verification_time;
	if (p->backend_options != NULL &&
	    json_object_object_get_ex(p->backend_options, backend, &part)) {
		int r = ebcc__json_to_string(part, JSON_C_TO_STRING_PLAIN, ret_part);

		if (r < 0)
			return r;
	}
	check->backend_options_json = *ret_part;
	return 0;
}

int ebcc__policy_check(const struct ebcc__policy *p, const struct ebcc_evidence_fields *f)
{
	const struct ebcc_binding *b = &f->binding;
	int r = ebcc__policy_check_backend(p, f->backend);

	if (r < 0)
		return r;

	if (b->version == EBCC_EVIDENCE_VERSION_HOST_BOUND && !p->allow_evidence_v1)
		return ebcc__error(ERR, "policy: the evidence is version 1, whose request and "
				   "response digests the host bound outside the TEE, and "
				   "allow_evidence_v1 is not true");
	if (f->simulated && !p->allow_simulated)
		return ebcc__error(ERR, "policy: the evidence is simulated (backend %s, format %s) "
				   "and allow_simulated is not true",
				   f->backend, f->format);
	if (p->measurement != NULL && strcmp(p->measurement, b->measurement) != 0)
		return ebcc__error(ERR, "policy: measurement expected \"%s\", found \"%s\"",
				   p->measurement, b->measurement);
	if (p->has_nonce && (p->nonce_len != b->nonce_len ||
			     (p->nonce_len > 0 && memcmp(p->nonce, b->nonce, p->nonce_len) != 0))) {
		char e[2 * EBCC_NONCE_MAX + 1], g[2 * EBCC_NONCE_MAX + 1];

		ebcc__hex_encode(p->nonce, p->nonce_len, e);
		ebcc__hex_encode(b->nonce, b->nonce_len, g);
		return ebcc__error(ERR, "policy: nonce expected \"%s\" (%zu bytes), found \"%s\" "
				   "(%zu bytes)", e, p->nonce_len, g, b->nonce_len);
	}
	if (p->has_request_digest &&
	    memcmp(p->request_digest, b->request_digest, EBCC_SHA256_SIZE) != 0)
		return digest_mismatch("request_digest", p->request_digest, b->request_digest);
	if (p->has_response_digest &&
	    memcmp(p->response_digest, b->response_digest, EBCC_SHA256_SIZE) != 0)
		return digest_mismatch("response_digest", p->response_digest, b->response_digest);
	if (p->has_image_digest && b->image_digest == NULL) {
		char e[2 * EBCC_SHA256_SIZE + 1];

		ebcc__hex_encode(p->image_digest, EBCC_SHA256_SIZE, e);
		return ebcc__error(ERR, "policy: image_digest expected \"sha256:%s\", but the "
				   "evidence (version %d) binds no loaded image", e, b->version);
	}
	if (p->has_image_digest && memcmp(p->image_digest, b->image_digest, EBCC_SHA256_SIZE) != 0)
		return digest_mismatch("image_digest", p->image_digest, b->image_digest);
	return 0;
}
