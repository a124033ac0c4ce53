/* SPDX-License-Identifier: MIT */
/*
 * The demo's OCI bundle: config.json, whose process is the REE anchor, and ebcc.json, the
 * manifest declaring the confidential stages, each pinned to the measurement of its image.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"

static int write_json(const char *bundle, const char *name, struct json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE);
	char path[4096];
	size_t len;
	int fd, saved;

	if (text == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", bundle, name) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	len = strlen(text);
	for (const char *p = text; len > 0;) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

/* The anchor: an ordinary process that just stays up until the demo kills it. It lets go of
 * the demo's stdio, which it inherits: a reader of the demo's output (a pipe) then sees the end
 * when the demo exits, even if the demo died before it could kill the anchor. Its PATH is its
 * own (the config's env), as in any OCI bundle. */
static struct json_object *config_json(void)
{
	struct json_object *config = json_object_new_object();
	struct json_object *process = json_object_new_object();
	struct json_object *args = json_object_new_array();
	struct json_object *env = json_object_new_array();
	struct json_object *root = json_object_new_object();
	struct json_object *annotations = json_object_new_object();

	if (config == NULL || process == NULL || args == NULL || env == NULL || root == NULL ||
	    annotations == NULL) {
		json_object_put(config);
		json_object_put(process);
		json_object_put(args);
		json_object_put(env);
		json_object_put(root);
		json_object_put(annotations);
		return NULL;
	}
	json_object_array_add(args, json_object_new_string("sh"));
	json_object_array_add(args, json_object_new_string("-c"));
	json_object_array_add(args, json_object_new_string(DEMO_ANCHOR_COMMAND
							   " </dev/null >/dev/null 2>&1"));
	json_object_array_add(env, json_object_new_string("PATH=/usr/local/bin:/usr/bin:/bin"));
	json_object_object_add(process, "args", args);
	json_object_object_add(process, "env", env);
	json_object_object_add(process, "cwd", json_object_new_string("/"));
	json_object_object_add(root, "path", json_object_new_string("rootfs"));
	json_object_object_add(annotations, "org.ebcc.example", json_object_new_string(DEMO_NAME));
	json_object_object_add(config, "ociVersion", json_object_new_string("1.0.2"));
	json_object_object_add(config, "process", process);
	json_object_object_add(config, "root", root);
	json_object_object_add(config, "annotations", annotations);
	return config;
}

static struct json_object *manifest_json(const struct demo_stage_decl *stages, size_t n)
{
	struct json_object *manifest = json_object_new_object();
	struct json_object *list = json_object_new_array();

	if (manifest == NULL || list == NULL) {
		json_object_put(manifest);
		json_object_put(list);
		return NULL;
	}
	json_object_object_add(manifest, "ebccVersion", json_object_new_string("0.1"));
	json_object_object_add(manifest, "backend", json_object_new_string("sim"));
	json_object_object_add(manifest, "stages", list);
	for (size_t i = 0; i < n; i++) {
		struct json_object *stage = json_object_new_object();
		char image[256];

		if (stage == NULL) {
			json_object_put(manifest);
			return NULL;
		}
		snprintf(image, sizeof(image), "stages/%s", stages[i].name);
		json_object_object_add(stage, "name", json_object_new_string(stages[i].name));
		json_object_object_add(stage, "image", json_object_new_string(image));
		json_object_object_add(stage, "lifetime", json_object_new_string(stages[i].lifetime));
		json_object_object_add(stage, "maxRequest", json_object_new_int(65536));
		json_object_object_add(stage, "timeoutMs", json_object_new_int(10000));
		json_object_object_add(stage, "measurement",
				       json_object_new_string(stages[i].measurement));
		json_object_array_add(list, stage);
	}
	return manifest;
}

int demo_bundle_write(const char *bundle, const struct demo_stage_decl *stages, size_t n)
{
	struct json_object *config = config_json(), *manifest = manifest_json(stages, n);
	int r = -1, saved;

	if (config == NULL || manifest == NULL)
		errno = ENOMEM;
	else if (write_json(bundle, "config.json", config) == 0 &&
		 write_json(bundle, "ebcc.json", manifest) == 0)
		r = 0;
	saved = errno;
	json_object_put(config);
	json_object_put(manifest);
	errno = saved;
	return r;
}
