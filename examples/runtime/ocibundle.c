/* SPDX-License-Identifier: MIT */
/*
 * Which bundles become composites: those that name a stage manifest as libebcc finds one (the
 * annotation org.ebcc.manifest in config.json, else ebcc.json in the bundle). Everything else
 * is a plain container and passes through, as does a Kubernetes sandbox: the pause container
 * of a pod carries the pod's annotations, org.ebcc.* included, but runs no stages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

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
