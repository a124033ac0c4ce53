/* SPDX-License-Identifier: MIT */
/*
 * The hook's settings live in the bundle's stage manifest, under the top-level "tools" object
 * that libebcc keeps for programs built on it:
 *
 *   "tools": { "ociHook": { "socketDir": "ebcc" } }
 *
 * socketDir is the directory that config.json bind-mounts into the container: absolute, or
 * relative to the bundle. The manifest is found as libebcc finds it: the annotation
 * org.ebcc.manifest (absolute, or relative to the bundle), else <bundle>/ebcc.json. A manifest
 * inside the container's image (rootfs:/path) is not read here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "hook.h"

#define MANIFEST_MAX (1 << 20)
#define MANIFEST_ANNOTATION "org.ebcc.manifest"
#define MANIFEST_DEFAULT "ebcc.json"

static int read_manifest(const char *path, char **ret_text, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	size_t len = 0;
	char *text;
	ssize_t n;

	if (fd < 0)
		return hook_error_errno(errno, "stage manifest %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return hook_error("stage manifest %s: not a regular file", path);
	}
	if (st.st_size > MANIFEST_MAX) {
		close(fd);
		return hook_error("stage manifest %s: more than %d bytes", path, MANIFEST_MAX);
	}
	/* One byte more than the limit, in case the file grew since fstat. */
	text = malloc(MANIFEST_MAX + 1);
	if (text == NULL) {
		close(fd);
		return hook_error("stage manifest %s: out of memory", path);
	}
	while ((n = read(fd, text + len, MANIFEST_MAX + 1 - len)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			len += (size_t)n;
	if (n < 0 || len > MANIFEST_MAX) {
		int saved = errno;

		close(fd);
		free(text);
		return n < 0 ? hook_error_errno(saved, "reading stage manifest %s", path)
			     : hook_error("stage manifest %s: more than %d bytes", path,
					  MANIFEST_MAX);
	}
	close(fd);
	*ret_text = text;
	*ret_len = len;
	return 0;
}

static int manifest_path(const struct hook_state *s, char *path, size_t size)
{
	const char *name = NULL;
	int n;

	if (s->annotations != NULL &&
	    hook_json_string(s->annotations, MANIFEST_ANNOTATION, "annotations", &name) < 0)
		return -1;
	if (name == NULL)
		name = MANIFEST_DEFAULT;
	if (name[0] == '\0')
		return hook_error("annotation " MANIFEST_ANNOTATION " is empty");
	n = name[0] == '/' ? snprintf(path, size, "%s", name)
			   : snprintf(path, size, "%s/%s", s->bundle, name);
	if (n < 0 || (size_t)n >= size)
		return hook_error("stage manifest path of bundle %s is too long", s->bundle);
	return 0;
}

static int has_dotdot(const char *path)
{
	for (const char *p = path; *p != '\0';) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		p += len;
		p += strspn(p, "/");
	}
	return 0;
}

static int socket_dir(const struct hook_state *s, struct json_object *hook, const char *what,
		      struct hook_config *c)
{
	static const char *const known[] = { "socketDir", NULL };
	struct json_object_iter it;
	const char *dir;
	char path[PATH_MAX];
	int n;

	json_object_object_foreachC(hook, it) {
		size_t i = 0;

		while (known[i] != NULL && strcmp(known[i], it.key) != 0)
			i++;
		if (known[i] == NULL)
			return hook_error("%s: tools.ociHook: unknown key \"%s\" (known: socketDir)",
					  what, it.key);
	}
	if (hook_json_string(hook, "socketDir", what, &dir) < 0)
		return -1;
	if (dir == NULL || dir[0] == '\0')
		return hook_error("%s: tools.ociHook has no socketDir (the directory config.json "
				  "bind-mounts into the container for the stages' socket)",
				  what);
	if (has_dotdot(dir))
		return hook_error("%s: tools.ociHook.socketDir \"%s\" has a \"..\" component", what,
				  dir);
	n = dir[0] == '/' ? snprintf(path, sizeof(path), "%s", dir)
			  : snprintf(path, sizeof(path), "%s/%s", s->bundle, dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return hook_error("%s: tools.ociHook.socketDir is too long", what);
	c->socket_dir = strdup(path);
	return c->socket_dir != NULL ? 0 : hook_error("out of memory");
}

static int read_config(const struct hook_state *s, int required, struct hook_config *ret)
{
	struct hook_config c = { 0 };
	struct json_object *root = NULL, *tools, *hook;
	char path[PATH_MAX];
	char *text = NULL;
	const char *name = NULL;
	size_t len = 0;
	int r;

	/* A manifest inside the container's image ("rootfs:/path") is the container's to write:
	 * only libebcc opens it, beneath the rootfs, and it names no socket directory here. */
	if (s->annotations != NULL &&
	    hook_json_string(s->annotations, MANIFEST_ANNOTATION, "annotations", &name) == 0 &&
	    name != NULL && strncmp(name, "rootfs:", 7) == 0) {
		if (required)
			return hook_error("stage manifest %s is inside the container's image, where "
					  "tools.ociHook.socketDir is not read (podman's hooks.d entry "
					  "50-ebcc.json runs the precreate stage, which makes a socket "
					  "directory)",
					  name);
		*ret = c;
		return 0;
	}
	r = manifest_path(s, path, sizeof(path));
	if (r == 0)
		r = read_manifest(path, &text, &len);
	if (r < 0)
		return r;
	r = hook_json_parse(text, len, path, &root);
	free(text);
	if (r < 0)
		return r;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "tools", &tools) ||
	    !json_object_is_type(tools, json_type_object) ||
	    !json_object_object_get_ex(tools, "ociHook", &hook))
		r = required ? hook_error("stage manifest %s: no object tools.ociHook (it names the "
					  "socketDir that config.json bind-mounts into the "
					  "container)",
					  path)
			     : 0;
	else if (!json_object_is_type(hook, json_type_object))
		r = hook_error("stage manifest %s: no object tools.ociHook (it names the socketDir "
			       "that config.json bind-mounts into the container)",
			       path);
	else
		r = socket_dir(s, hook, path, &c);
	json_object_put(root);
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

int hook_config_read(const struct hook_state *s, struct hook_config *ret)
{
	return read_config(s, 1, ret);
}

int hook_config_read_optional(const struct hook_state *s, struct hook_config *ret)
{
	return read_config(s, 0, ret);
}

void hook_config_clear(struct hook_config *c)
{
	free(c->socket_dir);
	c->socket_dir = NULL;
}
