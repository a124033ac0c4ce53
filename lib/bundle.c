/* SPDX-License-Identifier: MIT */
/*
 * An OCI bundle as a composite sees it: config.json, the stage manifest, and the stage images,
 * each opened inside the bundle without following a symlink and measured.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ebcc-private.h"

#define CONFIG_MAX (UINT64_C(4) << 20)
#define MANIFEST_MAX (UINT64_C(1) << 20)
#define MANIFEST_ANNOTATION "org.ebcc.manifest"
#define MANIFEST_DEFAULT "ebcc.json"

void ebcc__bundle_free(struct ebcc_bundle *b)
{
	if (b == NULL)
		return;
	if (b->fd >= 0)
		close(b->fd);
	free(b->path);
	free(b->config_text);
	ebcc__oci_config_free(b->config);
	ebcc__manifest_free(b->manifest);
	free(b);
}

/*
 * Opens relpath below dir_fd for reading: every directory on the way with O_NOFOLLOW, the file
 * itself without following a symlink or blocking on a FIFO, and only if it is a regular file.
 */
int ebcc__bundle_open_file(int dir_fd, const char *relpath, const char *display, int *ret_fd)
{
	char path[EBCC_PATH_MAX];
	char *slash, *name = path;
	int cur, fd;
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s", relpath) >= sizeof(path))
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s: path too long", display);
	cur = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "dup");
	while ((slash = strchr(name, '/')) != NULL) {
		int next;

		*slash = '\0';
		next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int e = errno;

			close(cur);
			if (e == ELOOP || e == ENOTDIR)
				return ebcc__error(EBCC_ERR_INVALID_ARG,
						   "%s: \"%s\" is a symbolic link or not a directory; "
						   "symbolic links are not followed",
						   display, name);
			return ebcc__error_errno(ebcc__error_from_errno(e), e, "%s", display);
		}
		close(cur);
		cur = next;
		name = slash + 1;
	}
	fd = openat(cur, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	close(cur);
	if (fd < 0) {
		if (errno == ELOOP)
			return ebcc__error(EBCC_ERR_INVALID_ARG,
					   "%s is a symbolic link, which is not followed", display);
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "%s", display);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s is not a regular file", display);
	}
	fcntl(fd, F_SETFL, 0); /* drop O_NONBLOCK, used only against FIFOs */
	*ret_fd = fd;
	return 0;
}

static int read_bundle_file(int dir_fd, const char *relpath, const char *display, size_t max,
			    char **ret_text, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	int r = ebcc__bundle_open_file(dir_fd, relpath, display, &fd);

	return r < 0 ? r : ebcc__read_all(fd, max, display, ret_text, ret_len);
}

static int load_manifest(struct ebcc_bundle *b)
{
	const char *name = ebcc__oci_config_annotation(b->config, MANIFEST_ANNOTATION);
	_cleanup_free_ char *text = NULL;
	char display[EBCC_PATH_MAX + 64];
	size_t len;
	int r;

	if (name == NULL)
		name = MANIFEST_DEFAULT;
	snprintf(display, sizeof(display), "%s%s%s", name[0] == '/' ? "" : b->path,
		 name[0] == '/' ? "" : "/", name);
	if (name[0] == '/') {
		_cleanup_close_ int fd = open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
							    O_NOCTTY);

		if (fd < 0)
			return ebcc__error_errno(errno == ELOOP ? EBCC_ERR_INVALID_ARG
								: ebcc__error_from_errno(errno),
						 errno, "stage manifest %s (annotation %s)", display,
						 MANIFEST_ANNOTATION);
		r = ebcc__read_all(fd, MANIFEST_MAX, display, &text, &len);
	} else {
		r = read_bundle_file(b->fd, name, display, MANIFEST_MAX, &text, &len);
		if (r == EBCC_ERR_NOT_FOUND)
			return ebcc__error(EBCC_ERR_NOT_FOUND,
					   "stage manifest %s not found (name another with the "
					   "annotation %s)",
					   display, MANIFEST_ANNOTATION);
	}
	if (r < 0)
		return r;
	return ebcc__manifest_parse(text, len, display, &b->manifest);
}

int ebcc__bundle_load(const char *dir, struct ebcc_bundle **ret)
{
	struct ebcc_bundle *b;
	char display[EBCC_PATH_MAX + 32];
	char real[PATH_MAX];
	int r;

	if (realpath(dir, real) == NULL)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "bundle %s", dir);
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	b->fd = -1;
	b->path = strdup(real);
	if (b->path == NULL) {
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		goto fail;
	}
	b->fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->fd < 0) {
		r = ebcc__error_errno(ebcc__error_from_errno(errno), errno, "bundle %s", real);
		goto fail;
	}
	snprintf(display, sizeof(display), "%s/config.json", real);
	r = read_bundle_file(b->fd, "config.json", display, CONFIG_MAX, &b->config_text,
			     &b->config_len);
	if (r < 0)
		goto fail;
	r = ebcc__oci_config_parse(b->config_text, b->config_len, display, &b->config);
	if (r < 0)
		goto fail;
	r = load_manifest(b);
	if (r < 0)
		goto fail;
	*ret = b;
	return 0;
fail:
	ebcc__bundle_free(b);
	return r;
}

int ebcc__stage_image_open(int bundle_fd, const char *bundle_path,
			   const struct ebcc_stage_decl *s, int *ret_fd)
{
	char display[2 * EBCC_PATH_MAX + 128];

	snprintf(display, sizeof(display), "stage %s: image %s/%s", s->name, bundle_path, s->image);
	return ebcc__bundle_open_file(bundle_fd, s->image, display, ret_fd);
}

int ebcc__bundle_measure(struct ebcc_bundle *b)
{
	for (size_t i = 0; i < b->manifest->n_stages; i++) {
		struct ebcc_stage_decl *s = &b->manifest->stages[i];
		uint8_t digest[EBCC_SHA256_SIZE];
		char display[2 * EBCC_PATH_MAX], what[2 * EBCC_PATH_MAX + 96];
		_cleanup_close_ int fd = -1;
		int r;

		r = ebcc__stage_image_open(b->fd, b->path, s, &fd);
		if (r < 0)
			return r;
		snprintf(display, sizeof(display), "%s/%s", b->path, s->image);
		snprintf(what, sizeof(what), "stage %s: image %s", s->name, display);
		/* Bounded like loading is (EBCC_STAGE_IMAGE_MAX), and checked before hashing. */
		r = ebcc__sha256_fd(fd, what, digest);
		if (r < 0)
			return r;
		ebcc__measurement_format(digest, s->measurement);
		if (s->pinned[0] != '\0' && strcmp(s->pinned, s->measurement) != 0)
			return ebcc__error(EBCC_ERR_VERIFY,
					   "stage %s: image %s measures %s, but the manifest pins %s",
					   s->name, display, s->measurement, s->pinned);
	}
	return 0;
}
