/* SPDX-License-Identifier: MIT */
/*
 * Asking a backend about itself: ebcc_backend_probe() and ebcc_backend_attestation_key().
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ebcc-private.h"

static int probe_json(struct ebcc_context *ctx, const struct ebcc_backend *b, char **ret_json)
{
	struct ebcc_backend_session s;
	struct json_object *obj = NULL, *reason = NULL;
	char *details = NULL;
	int available, r;

	r = ebcc__backend_session_open(&s, ctx, b, -1);
	if (r < 0)
		return r;
	available = ebcc__call_probe(&s, &details);
	ebcc__backend_session_close(&s);
	if (available < 0)
		return available;

	if (details != NULL) {
		r = ebcc__json_parse(details, strlen(details), EBCC_ERR_BACKEND, "probe details", &obj);
		free(details);
		if (r < 0)
			return ebcc__error_prefix(r, "backend %s", b->name);
		if (!json_object_is_type(obj, json_type_object)) {
			json_object_put(obj);
			return ebcc__error(EBCC_ERR_BACKEND,
					   "backend %s: probe details are not a JSON object", b->name);
		}
	} else {
		obj = json_object_new_object();
		if (obj == NULL)
			return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	if (!available && !json_object_object_get_ex(obj, "reason", &reason))
		json_object_object_add(obj, "reason", json_object_new_string("not available"));
	/* The core's fields come last so that a backend cannot misstate them. */
	json_object_object_add(obj, "name", json_object_new_string(b->name));
	json_object_object_add(obj, "available", json_object_new_boolean(available > 0));
	json_object_object_add(obj, "isolation",
			       json_object_new_string(ebcc__isolation_name(b->ops.isolation)));
	json_object_object_add(obj, "simulated",
			       json_object_new_boolean(b->ops.flags & EBCC_BACKEND_SIMULATED));
	json_object_object_add(obj, "evidence_format",
			       json_object_new_string(b->ops.evidence_format));
	json_object_object_add(obj, "max_report_data", json_object_new_int64(b->ops.max_report_data));
	json_object_object_add(obj, "concurrent_invoke",
			       json_object_new_boolean(b->ops.flags & EBCC_BACKEND_CONCURRENT_INVOKE));
	/* Who binds request and response: the stage on the protected side, or a host the backend
	 * declares inside the TEE. */
	json_object_object_add(obj, "host_in_tcb",
			       json_object_new_boolean(b->ops.flags & EBCC_BACKEND_HOST_IN_TCB));
	json_object_object_add(obj, "plugin", json_object_new_boolean(b->dl_handle != NULL));
	r = ebcc__json_to_string(obj, JSON_C_TO_STRING_PLAIN, ret_json);
	json_object_put(obj);
	return r;
}

EBCC_EXPORT int ebcc_backend_probe(struct ebcc_context *ctx, const char *name, char **ret_json)
{
	const struct ebcc_backend *b = NULL;
	int r;

	if (ctx == NULL || name == NULL || ret_json == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_backend_probe: %s is NULL",
				   ctx == NULL ? "ctx" : name == NULL ? "name" : "ret_json");
	r = ebcc__backend_find(ctx, name, &b);
	if (r < 0)
		return r;
	return probe_json(ctx, b, ret_json);
}

EBCC_EXPORT int ebcc_backend_attestation_key(struct ebcc_context *ctx, const char *name,
					     char **ret_pem)
{
	const struct ebcc_backend *b = NULL;
	struct ebcc_backend_session s;
	char *pem = NULL;
	int root_fd = -1, r;

	if (ctx == NULL || name == NULL || ret_pem == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_backend_attestation_key: %s is NULL",
				   ctx == NULL ? "ctx" : name == NULL ? "name" : "ret_pem");
	r = ebcc__backend_find(ctx, name, &b);
	if (r < 0)
		return r;
	r = ebcc__state_root_open(ctx, true, &root_fd, NULL);
	if (r < 0)
		return r;
	r = ebcc__backend_session_open(&s, ctx, b, root_fd);
	close(root_fd);
	if (r < 0)
		return r;
	r = ebcc__call_attestation_key(&s, &pem);
	if (r == 0)
		*ret_pem = pem;
	ebcc__backend_session_close(&s);
	return r;
}
