/* SPDX-License-Identifier: MIT */
/*
 * The container's view of its socket directory: a read-only bind mount at /run/ebcc, added to
 * the OCI configuration (config.json, or what podman passes a precreate hook). Any mount the
 * configuration already has there is replaced, so that the container sees this directory and
 * no other: a bundle written for ebcc-oci-hook's tools.ociHook.socketDir, or one whose earlier
 * create left its mount in config.json, gets the new directory. Nothing else is touched.
 */
#include <string.h>

#include <json-c/json.h>

#include "hook.h"

static int is_socket_mount(struct json_object *m)
{
	struct json_object *dest;
	const char *d;
	size_t len;

	if (!json_object_is_type(m, json_type_object) ||
	    !json_object_object_get_ex(m, "destination", &dest) ||
	    !json_object_is_type(dest, json_type_string))
		return 0;
	d = json_object_get_string(dest);
	len = strlen(d);
	while (len > 1 && d[len - 1] == '/')
		len--;
	return len == strlen(HOOK_SOCKET_MOUNT) && strncmp(d, HOOK_SOCKET_MOUNT, len) == 0;
}

static struct json_object *socket_mount(const char *dir)
{
	static const char *const options[] = { "rbind", "ro", "nosuid", "nodev", "noexec" };
	struct json_object *m = json_object_new_object(), *opts = json_object_new_array();

	if (m == NULL || opts == NULL) {
		json_object_put(m);
		json_object_put(opts);
		return NULL;
	}
	json_object_object_add(m, "destination", json_object_new_string(HOOK_SOCKET_MOUNT));
	json_object_object_add(m, "type", json_object_new_string("bind"));
	json_object_object_add(m, "source", json_object_new_string(dir));
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		json_object_array_add(opts, json_object_new_string(options[i]));
	json_object_object_add(m, "options", opts);
	return m;
}

int hook_config_mount_socket(struct json_object *config, const char *dir, const char *what)
{
	struct json_object *mounts, *m;

	if (!json_object_is_type(config, json_type_object))
		return hook_error("%s: not a JSON object", what);
	if (!json_object_object_get_ex(config, "mounts", &mounts) || mounts == NULL) {
		mounts = json_object_new_array();
		if (mounts == NULL)
			return hook_error("out of memory");
		json_object_object_add(config, "mounts", mounts);
	} else if (!json_object_is_type(mounts, json_type_array)) {
		return hook_error("%s: \"mounts\" is not an array", what);
	}
	/* Last, so that it lands on top of whatever is mounted on /run. */
	for (size_t i = json_object_array_length(mounts); i > 0; i--)
		if (is_socket_mount(json_object_array_get_idx(mounts, i - 1)))
			json_object_array_del_idx(mounts, i - 1, 1);
	m = socket_mount(dir);
	if (m == NULL || json_object_array_add(mounts, m) < 0) {
		json_object_put(m);
		return hook_error("out of memory");
	}
	return 0;
}
