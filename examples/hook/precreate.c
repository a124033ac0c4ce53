/* SPDX-License-Identifier: MIT */
/*
 * precreate (podman's hooks.d stage before the runtime is called): the OCI configuration on
 * stdin, the one to use on stdout. The container's id is not known yet, so the socket
 * directory gets a random name, <run-dir>/sockets/<32 hex>; the configuration bind-mounts it
 * at /run/ebcc and names it in the annotation org.ebcc.socketDir, which createRuntime and
 * ebcc-runtime read from the container's state (hook_sockdir_from_state); poststop finds it in
 * the hook's record (podman runs poststop itself, with the annotations it was given). A
 * precreate that fails leaves no directory; one whose container never got to createRuntime
 * is swept by a later precreate.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "hook.h"
#include "protocol.h"

#define CONFIG_MAX (4u << 20) /* libebcc's limit for config.json */
#define WHAT "the OCI configuration on stdin"
#define SWEEP_AGE_S 600

int hook_input_read(int fd, char **ret_text, size_t *ret_len)
{
	char *text = malloc(CONFIG_MAX + 1);
	size_t len = 0;
	ssize_t n = 0;

	if (text == NULL)
		return hook_error("out of memory");
	while (len <= CONFIG_MAX && ((n = read(fd, text + len, CONFIG_MAX + 1 - len)) > 0 ||
				     (n < 0 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	if (n < 0 || len > CONFIG_MAX) {
		int saved = errno;

		free(text);
		return n < 0 ? hook_error_errno(saved, "reading stdin")
			     : hook_error("stdin: more than %u bytes", CONFIG_MAX);
	}
	text[len] = '\0';
	*ret_text = text;
	*ret_len = len;
	return 0;
}

static int random_name(char name[HOOK_SOCKDIR_NAME_LEN + 1])
{
	unsigned char bytes[HOOK_SOCKDIR_NAME_LEN / 2];

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		return hook_error_errno(errno, "getrandom");
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(name + 2 * i, 3, "%02x", bytes[i]);
	return 0;
}

static int sockets_base(const struct hook_options *o, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/sockets", o->run_dir);

	return n > 0 && (size_t)n < size ? 0 : hook_error("run directory %s: too long", o->run_dir);
}

int hook_phase_of(const char *text, size_t len, enum hook_phase *ret)
{
	struct json_object *obj = NULL, *status;
	int r = hook_json_parse(text, len, "stdin", &obj);

	if (r < 0)
		return -1;
	if (!json_object_is_type(obj, json_type_object))
		r = hook_error("stdin: not a JSON object (an OCI configuration or state)");
	else if (!json_object_object_get_ex(obj, "status", &status))
		*ret = HOOK_PRECREATE;
	else if (json_object_is_type(status, json_type_string) &&
		 strcmp(json_object_get_string(status), "stopped") == 0)
		*ret = HOOK_POSTSTOP;
	else
		*ret = HOOK_CREATE_RUNTIME;
	json_object_put(obj);
	return r;
}

/* Directories whose container never reached createRuntime (the engine failed after this hook)
 * are empty; after SWEEP_AGE_S they are removed. rmdir takes only an empty one, so a
 * directory whose broker serves is never touched. */
static void sweep(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;
	struct stat st;
	time_t now = time(NULL);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (hook_sockdir_name_valid(e->d_name) &&
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) && st.st_mtime + SWEEP_AGE_S < now)
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	closedir(d);
}

int hook_precreate(const struct hook_options *o, const char *text, size_t len, int out_fd)
{
	struct json_object *config = NULL, *annotations;
	char name[HOOK_SOCKDIR_NAME_LEN + 1], base[4096], *dir = NULL;
	const char *out;
	int r;

	if (hook_json_parse(text, len, WHAT, &config) < 0)
		return -1;
	r = -1;
	if (!json_object_is_type(config, json_type_object)) {
		hook_error(WHAT ": not a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(config, "annotations", &annotations) ||
	    !json_object_is_type(annotations, json_type_object)) {
		hook_error(WHAT ": no \"annotations\" object (the hook runs for containers "
			   "annotated org.ebcc.manifest)");
		goto out;
	}
	if (sockets_base(o, base, sizeof(base)) < 0 || random_name(name) < 0)
		goto out;
	sweep(base);
	if (hook_sockdir_make(base, name, &dir) < 0)
		goto out;
	if (hook_config_mount_socket(config, dir, WHAT) < 0)
		goto out;
	/* Replaces whatever the user may have put there: only this hook names the directory. */
	json_object_object_add(annotations, HOOK_SOCKDIR_ANNOTATION, json_object_new_string(dir));
	out = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (out == NULL) {
		hook_error("out of memory");
		goto out;
	}
	if (fd_write_all(out_fd, out, strlen(out)) < 0) {
		hook_error_errno(errno, "writing the OCI configuration to stdout");
		goto out;
	}
	r = 0;
out:
	if (r < 0 && dir != NULL) {
		hook_error_hold();
		hook_sockdir_remove(dir);
		hook_error_release();
	}
	free(dir);
	json_object_put(config);
	return r;
}

int hook_sockdir_owned(const struct hook_options *o, const char *dir)
{
	char base[4096];
	size_t len;

	if (sockets_base(o, base, sizeof(base)) < 0)
		return 0;
	len = strlen(base);
	return strncmp(dir, base, len) == 0 && dir[len] == '/' &&
	       hook_sockdir_name_valid(dir + len + 1);
}

int hook_sockdir_from_state(const struct hook_options *o, const struct hook_state *s,
			    char **ret_dir)
{
	const char *dir = NULL;
	char base[4096];

	*ret_dir = NULL;
	if (s->annotations != NULL &&
	    hook_json_string(s->annotations, HOOK_SOCKDIR_ANNOTATION, "annotations", &dir) < 0)
		return -1;
	if (dir == NULL)
		return 0;
	if (sockets_base(o, base, sizeof(base)) < 0)
		return -1;
	/* Only a directory this hook makes: an annotation naming another would have the broker
	 * bind and poststop remove there. */
	if (!hook_sockdir_owned(o, dir))
		return hook_error("annotation " HOOK_SOCKDIR_ANNOTATION " \"%s\" is no socket "
				  "directory of the precreate hook (%s/<%d hex digits>)",
				  dir, base, HOOK_SOCKDIR_NAME_LEN);
	*ret_dir = strdup(dir);
	return *ret_dir != NULL ? 1 : hook_error("out of memory");
}
