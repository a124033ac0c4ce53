/* SPDX-License-Identifier: MIT */
/*
 * Which bundles become composites: those that name a stage manifest as libebcc finds one (the
 * annotation org.ebcc.manifest in config.json, else ebcc.json in the bundle). Everything else
 * is a plain container and passes through, as does a Kubernetes sandbox: the pause container
 * of a pod carries the pod's annotations, org.ebcc.* included, but runs no stages, and so
 * does a container that ebcc-oci-hook serves already (podman's hooks.d precreate stage named
 * its socket directory in org.ebcc.socketDir).
 *
 * A composite's config.json is rewritten before the low-level create to mount the container's
 * own socket directory at /run/ebcc, as nvidia-container-runtime adds its hook: a temporary
 * file in the bundle, renamed over config.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../hook/hook.h"
#include "../hook/protocol.h"
#include "runtime.h"

#define CONFIG_MAX (4u << 20) /* libebcc's limit for config.json */
#define MANIFEST_ANNOTATION "org.ebcc.manifest"
#define MANIFEST_DEFAULT "ebcc.json"

/* The annotations that mark a pod's sandbox: containerd's CRI plugin, CRI-O. */
static const char *const sandbox_annotations[] = {
	"io.kubernetes.cri.container-type",
	"io.kubernetes.cri-o.ContainerType",
};

/* config.json's annotations object, or NULL when the file cannot be read as JSON. */
static struct json_object *read_annotations(const char *bundle)
{
	struct json_object *config, *annotations = NULL;
	struct json_tokener *tok;
	char path[4096], *text;
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/config.json", bundle) >= sizeof(path))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	text = malloc(CONFIG_MAX + 1);
	if (text == NULL) {
		close(fd);
		return NULL;
	}
	while (len <= CONFIG_MAX && ((n = read(fd, text + len, CONFIG_MAX + 1 - len)) > 0 ||
				     (n < 0 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	close(fd);
	if (len > CONFIG_MAX) {
		free(text);
		return NULL;
	}
	tok = json_tokener_new();
	config = tok != NULL ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
	json_tokener_free(tok);
	free(text);
	if (config != NULL && json_object_object_get_ex(config, "annotations", &annotations) &&
	    json_object_is_type(annotations, json_type_object))
		json_object_get(annotations);
	else
		annotations = NULL;
	json_object_put(config);
	return annotations;
}

static const char *annotation(struct json_object *annotations, const char *key)
{
	struct json_object *value;

	if (annotations == NULL || !json_object_object_get_ex(annotations, key, &value) ||
	    !json_object_is_type(value, json_type_string))
		return NULL;
	return json_object_get_string(value);
}

void rt_bundle_kind(const char *bundle, struct rt_bundle_kind *ret)
{
	char path[4096];
	struct stat st;

	*ret = (struct rt_bundle_kind){ .annotations = read_annotations(bundle) };
	for (size_t i = 0; i < sizeof(sandbox_annotations) / sizeof(sandbox_annotations[0]); i++) {
		const char *type = annotation(ret->annotations, sandbox_annotations[i]);

		if (type != NULL && strcmp(type, "sandbox") == 0) {
			ret->why = "a Kubernetes sandbox (pause) container";
			return;
		}
	}
	if (annotation(ret->annotations, HOOK_SOCKDIR_ANNOTATION) != NULL) {
		ret->why = "ebcc-oci-hook serves it (its precreate stage set the annotation "
			   HOOK_SOCKDIR_ANNOTATION ")";
		return;
	}
	if (annotation(ret->annotations, MANIFEST_ANNOTATION) != NULL) {
		ret->composite = 1;
		ret->why = "the annotation " MANIFEST_ANNOTATION " names its stage manifest";
		return;
	}
	/* Whatever is there (a symlink, a directory): libebcc says what is wrong with it. */
	if ((size_t)snprintf(path, sizeof(path), "%s/" MANIFEST_DEFAULT, bundle) < sizeof(path) &&
	    lstat(path, &st) == 0) {
		ret->composite = 1;
		ret->why = "the bundle has " MANIFEST_DEFAULT;
		return;
	}
	ret->why = "no stage manifest (no " MANIFEST_DEFAULT ", no annotation " MANIFEST_ANNOTATION
		   ")";
}

void rt_bundle_kind_clear(struct rt_bundle_kind *k)
{
	json_object_put(k->annotations);
	k->annotations = NULL;
}

/* Reads <bundle>/config.json whole, at most CONFIG_MAX bytes, with its mode and owner. */
static int read_config(const char *path, const char *id, char **ret_text, size_t *ret_len,
		       struct stat *ret_st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	size_t len = 0;
	char *text;
	ssize_t n = 0;

	if (fd < 0)
		return rt_fail_plain("create %s: %s: %s", id, path, strerror(errno)), -1;
	if (fstat(fd, ret_st) < 0 || !S_ISREG(ret_st->st_mode)) {
		close(fd);
		return rt_fail_plain("create %s: %s: not a regular file", id, path), -1;
	}
	text = malloc(CONFIG_MAX + 1);
	if (text == NULL) {
		close(fd);
		return rt_fail_plain("create %s: out of memory", id), -1;
	}
	while (len <= CONFIG_MAX && ((n = read(fd, text + len, CONFIG_MAX + 1 - len)) > 0 ||
				     (n < 0 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	close(fd);
	if (n < 0 || len > CONFIG_MAX) {
		free(text);
		if (n < 0)
			return rt_fail_plain("create %s: reading %s: %s", id, path, strerror(errno)),
			       -1;
		return rt_fail_plain("create %s: %s: more than %u bytes", id, path, CONFIG_MAX), -1;
	}
	text[len] = '\0';
	*ret_text = text;
	*ret_len = len;
	return 0;
}

/* Replaces <bundle>/config.json by len bytes of text: written and renamed from a temporary
 * file beside it with the mode and owner of st. Not synced: a reader sees the old file or the
 * new one, and after a crash the container is gone anyway. */
static int replace_config(const char *bundle, const char *id, const char *text, size_t len,
			  const struct stat *st)
{
	char tmp[4096], path[4096];
	int fd, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.config.json.ebcc-XXXXXX", bundle) >=
		    sizeof(tmp) ||
	    (size_t)snprintf(path, sizeof(path), "%s/config.json", bundle) >= sizeof(path))
		return rt_fail_plain("create %s: bundle path %s too long", id, bundle), -1;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return rt_fail_plain("create %s: a temporary file in %s: %s", id, bundle,
				     strerror(errno)),
		       -1;
	ok = fd_write_all(fd, text, len) == 0 && fchmod(fd, st->st_mode & 07777) == 0 &&
	     (fchown(fd, st->st_uid, st->st_gid) == 0 || errno == EPERM);
	if (close(fd) < 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0) {
		int saved = errno;

		unlink(tmp);
		return rt_fail_plain("create %s: rewriting %s: %s", id, path, strerror(saved)), -1;
	}
	return 0;
}

int rt_bundle_mount_socket(const char *bundle, const char *id, const char *dir,
			   char **ret_original, size_t *ret_len)
{
	struct json_object *config = NULL;
	char path[4096], *text = NULL;
	const char *out;
	struct stat st;
	size_t len;
	int r = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/config.json", bundle) >= sizeof(path))
		return rt_fail_plain("create %s: bundle path %s too long", id, bundle), -1;
	if (read_config(path, id, &text, &len, &st) < 0)
		return -1;
	/* Strict, duplicate keys refused: what runc reads must be what was checked. */
	if (hook_json_parse(text, len, path, &config) < 0 ||
	    hook_config_mount_socket(config, dir, path) < 0) {
		rt_fail_plain("create %s: %s", id, hook_error_message());
		goto out;
	}
	out = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (out == NULL) {
		rt_fail_plain("create %s: out of memory", id);
		goto out;
	}
	if (replace_config(bundle, id, out, strlen(out), &st) < 0)
		goto out;
	*ret_original = text;
	*ret_len = len;
	text = NULL;
	r = 0;
out:
	json_object_put(config);
	free(text);
	return r;
}

int rt_bundle_restore(const char *bundle, const char *id, const char *original, size_t len)
{
	char path[4096];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/config.json", bundle) >= sizeof(path) ||
	    stat(path, &st) < 0)
		return rt_fail_plain("create %s: restoring %s/config.json: %s", id, bundle,
				     strerror(errno)),
		       -1;
	return replace_config(bundle, id, original, len, &st);
}
