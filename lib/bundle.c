/* SPDX-License-Identifier: MIT */
/*
 * An OCI bundle as a composite sees it: config.json, the stage manifest, and the stage images,
 * each opened without following a symlink and measured. The manifest is ebcc.json in the
 * bundle or what the annotation org.ebcc.manifest names: a path relative to the bundle (images
 * in the bundle), an absolute host path (images in the manifest's directory), or
 * "rootfs:/path" inside the container's image (images beneath its rootfs, lib/imageroot.c).
 * An image is measured as its backend defines it (its measure_image callback; SHA-256 of the
 * file for a backend without one).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ebcc-private.h"
#include "imageformat.h"

#define CONFIG_MAX (UINT64_C(4) << 20)
#define MANIFEST_MAX (UINT64_C(1) << 20)
#define MANIFEST_ANNOTATION "org.ebcc.manifest"
#define MANIFEST_DEFAULT "ebcc.json"
#define ROOTFS_PREFIX "rootfs:"

void ebcc__bundle_free(struct ebcc_bundle *b)
{
	if (b == NULL)
		return;
	if (b->fd >= 0)
		close(b->fd);
	if (b->images_fd >= 0)
		close(b->images_fd);
	ebcc__image_root_clear(&b->images);
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

static int images_in(struct ebcc_bundle *b, enum ebcc_image_root_kind kind, const char *path,
		     const char *dir, int fd)
{
	b->images.kind = kind;
	b->images.path = strdup(path);
	b->images.dir = dir != NULL ? strdup(dir) : NULL;
	b->images_fd = fd;
	if (b->images.path == NULL || (dir != NULL && b->images.dir == NULL))
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	return 0;
}

/* ebcc.json or a bundle-relative annotation: the manifest and its images in the bundle. */
static int manifest_in_bundle(struct ebcc_bundle *b, const char *name, char **ret_text,
			      size_t *ret_len)
{
	char display[EBCC_PATH_MAX + 64];
	int fd, r;

	snprintf(display, sizeof(display), "%s/%s", b->path, name);
	fd = fcntl(b->fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "dup");
	r = images_in(b, EBCC_IMAGE_ROOT_BUNDLE, b->path, NULL, fd);
	if (r == 0)
		r = read_bundle_file(b->fd, name, display, MANIFEST_MAX, ret_text, ret_len);
	if (r == EBCC_ERR_NOT_FOUND)
		return ebcc__error(EBCC_ERR_NOT_FOUND,
				   "stage manifest %s not found (name another with the annotation %s)",
				   display, MANIFEST_ANNOTATION);
	return r;
}

/* An absolute host path: the manifest's own directory holds its images. */
static int manifest_on_host(struct ebcc_bundle *b, const char *name, char **ret_text,
			    size_t *ret_len)
{
	char dir[EBCC_PATH_MAX], real[PATH_MAX], what[EBCC_PATH_MAX + 64];
	const char *base = strrchr(name, '/') + 1;
	_cleanup_close_ int fd = -1;
	int dir_fd, r;

	snprintf(what, sizeof(what), "stage manifest %s (annotation %s)", name,
		 MANIFEST_ANNOTATION);
	if (strlen(name) >= sizeof(dir))
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s: path too long", what);
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s: names a directory, not a file", what);
	snprintf(dir, sizeof(dir), "%.*s", base - name > 1 ? (int)(base - name - 1) : 1, name);
	if (realpath(dir, real) == NULL)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "%s: directory %s",
					 what, dir);
	dir_fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "%s: directory %s",
					 what, real);
	r = images_in(b, EBCC_IMAGE_ROOT_DIRECTORY, real, NULL, dir_fd);
	if (r == 0)
		r = ebcc__bundle_open_file(dir_fd, base, what, &fd);
	return r < 0 ? r : ebcc__read_all(fd, MANIFEST_MAX, name, ret_text, ret_len);
}

/* "rootfs:/path": the manifest and its images ship in the container's image. */
static int manifest_in_rootfs(struct ebcc_bundle *b, const char *inner, char *display,
			      size_t display_size, char **ret_text, size_t *ret_len)
{
	char what[EBCC_PATH_MAX + 96], rootfs[2 * EBCC_PATH_MAX], real[PATH_MAX];
	char dir[EBCC_PATH_MAX];
	const char *rel = inner + 1, *root = b->config->root_path, *slash;
	_cleanup_close_ int fd = -1;
	int root_fd, r;

	snprintf(what, sizeof(what), "stage manifest " ROOTFS_PREFIX "%s (annotation %s)", inner,
		 MANIFEST_ANNOTATION);
	if (inner[0] != '/')
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "%s: the path must be absolute inside the image (" ROOTFS_PREFIX
				   "/...)",
				   what);
	if (strlen(rel) >= sizeof(dir))
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s: path too long", what);
	/* Refused rather than resolved: a ".." could climb out of the manifest's directory, and
	 * the images' paths are checked the same way (lib/manifest.c). */
	if (rel[0] == '\0' || !ebcc__image_root_dir_valid(rel))
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "%s: the path must name a file without empty, \".\" or \"..\" "
				   "components",
				   what);
	if (root == NULL || root[0] == '\0')
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "%s: %s/config.json has no root.path to find the image in", what,
				   b->path);
	if ((size_t)snprintf(rootfs, sizeof(rootfs), "%s%s%s", root[0] == '/' ? "" : b->path,
			     root[0] == '/' ? "" : "/", root) >= sizeof(rootfs) ||
	    strlen(rootfs) >= PATH_MAX)
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s: rootfs %s: path too long", what, root);
	if (realpath(rootfs, real) == NULL)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "%s: rootfs %s",
					 what, rootfs);
	root_fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "%s: rootfs %s",
					 what, real);
	slash = strrchr(rel, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash != NULL ? (int)(slash - rel) : 0, rel);
	r = images_in(b, EBCC_IMAGE_ROOT_ROOTFS, real, dir, root_fd);
	if (r == 0)
		r = ebcc__rootfs_open_file(root_fd, real, rel, what, &fd);
	if (r < 0)
		return r;
	snprintf(display, display_size, ROOTFS_PREFIX "%s beneath rootfs %s", inner, real);
	return ebcc__read_all(fd, MANIFEST_MAX, display, ret_text, ret_len);
}

static int load_manifest(struct ebcc_bundle *b)
{
	const char *name = ebcc__oci_config_annotation(b->config, MANIFEST_ANNOTATION);
	_cleanup_free_ char *text = NULL;
	char display[3 * EBCC_PATH_MAX];
	size_t len = 0;
	int r;

	if (name != NULL && strncmp(name, ROOTFS_PREFIX, strlen(ROOTFS_PREFIX)) == 0) {
		r = manifest_in_rootfs(b, name + strlen(ROOTFS_PREFIX), display, sizeof(display),
				       &text, &len);
	} else if (name != NULL && name[0] == '/') {
		snprintf(display, sizeof(display), "%s", name);
		r = manifest_on_host(b, name, &text, &len);
	} else {
		snprintf(display, sizeof(display), "%s/%s", b->path,
			 name != NULL ? name : MANIFEST_DEFAULT);
		r = manifest_in_bundle(b, name != NULL ? name : MANIFEST_DEFAULT, &text, &len);
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
	b->images_fd = -1;
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

/* The kind of a measurement, "sha256" of "sha256:<hex>", as a length. */
static int kind_length(const char *measurement)
{
	const char *colon = strchr(measurement, ':');

	return colon != NULL ? (int)(colon - measurement) : (int)strlen(measurement);
}

/* A stage's encryptedImage makes sense: the file is an encrypted image, and the key's policy
 * (parsed with the manifest), if it pins a measurement, pins this stage's (else the key would
 * never be released to it). */
static int check_encrypted_image(struct ebcc_bundle *b, const struct ebcc_stage_decl *s)
{
	_cleanup_close_ int fd = -1;
	char magic[EBCC_IMAGE_MAGIC_SIZE];
	ssize_t n;
	int r;

	r = ebcc__image_root_open_file(&b->images, b->images_fd, s->name, s->encrypted_image,
				       "encrypted image", &fd);
	if (r < 0)
		return r;
	n = pread(fd, magic, sizeof(magic), 0);
	if (n != (ssize_t)sizeof(magic) || memcmp(magic, EBCC_IMAGE_MAGIC, sizeof(magic)) != 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage %s: encrypted image %s is not one (`ebcc-runtime "
				   "encrypt-image` output begins with %s)",
				   s->name, s->encrypted_image, EBCC_IMAGE_MAGIC);
	if (s->key_policy_measurement != NULL &&
	    strcmp(s->key_policy_measurement, s->measurement) != 0)
		return ebcc__error(EBCC_ERR_VERIFY,
				   "stage %s: encryptedImage.keyPolicy pins measurement %s, but the "
				   "stage's image measures %s: its key would never be released to it",
				   s->name, s->key_policy_measurement, s->measurement);
	return 0;
}

int ebcc__bundle_measure(struct ebcc_bundle *b, const struct ebcc_backend_session *session)
{
	const char *backend = session->backend->name;

	for (size_t i = 0; i < b->manifest->n_stages; i++) {
		struct ebcc_stage_decl *s = &b->manifest->stages[i];
		char display[2 * EBCC_PATH_MAX + 16], what[2 * EBCC_PATH_MAX + 96];
		_cleanup_close_ int fd = -1;
		int r, kind;

		r = ebcc__image_root_open_image(&b->images, b->images_fd, s, &fd);
		if (r < 0)
			return r;
		ebcc__image_root_describe(&b->images, s, display, sizeof(display));
		snprintf(what, sizeof(what), "stage %s: image %s", s->name, display);
		r = ebcc__call_measure_image(session, fd, what, s->measurement);
		if (r == 0 && s->encrypted_image != NULL)
			r = check_encrypted_image(b, s);
		if (r < 0)
			return r;
		if (s->pinned[0] == '\0')
			continue;
		/* A pin of another kind can never match: say which kind this backend measures. */
		kind = kind_length(s->measurement);
		if (kind != kind_length(s->pinned) || strncmp(s->pinned, s->measurement, kind) != 0)
			return ebcc__error(EBCC_ERR_INVALID_ARG,
					   "stage %s: the manifest pins %.16s...; backend %s measures "
					   "%.*s:<%zu lowercase hex digits>",
					   s->name, s->pinned, backend, kind, s->measurement,
					   strlen(s->measurement) - (size_t)kind - 1);
		if (strcmp(s->pinned, s->measurement) != 0)
			return ebcc__error(EBCC_ERR_VERIFY,
					   "stage %s: image %s measures %s, but the manifest pins %s",
					   s->name, display, s->measurement, s->pinned);
	}
	return 0;
}
