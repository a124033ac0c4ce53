/* SPDX-License-Identifier: MIT */
/*
 * Where a composite's stage images are: the bundle, the directory of a manifest named by an
 * absolute host path, or a directory inside the container's rootfs. The last is written by
 * the container itself, so files there are opened beneath the rootfs without following any
 * symlink (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_SYMLINKS, or a walk that
 * refuses every symlink where openat2 is missing) and only as regular files.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ebcc-private.h"

void ebcc__image_root_clear(struct ebcc_image_root *ir)
{
	free(ir->path);
	free(ir->dir);
	*ir = (struct ebcc_image_root){ 0 };
}

static const char *const kind_names[] = {
	[EBCC_IMAGE_ROOT_BUNDLE] = "bundle",
	[EBCC_IMAGE_ROOT_DIRECTORY] = "directory",
	[EBCC_IMAGE_ROOT_ROOTFS] = "rootfs",
};

const char *ebcc__image_root_kind_name(enum ebcc_image_root_kind kind)
{
	return (size_t)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind]
									: "bundle";
}

int ebcc__image_root_kind_parse(const char *name, enum ebcc_image_root_kind *ret)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strcmp(name, kind_names[i]) == 0) {
			*ret = (enum ebcc_image_root_kind)i;
			return 0;
		}
	return -1;
}

bool ebcc__image_root_dir_valid(const char *dir)
{
	const char *p = dir;

	if (dir[0] == '\0')
		return true;
	if (dir[0] == '/' || strlen(dir) >= EBCC_PATH_MAX)
		return false;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (p[n] == '\0')
			return true;
		p += n + 1;
	}
}

int ebcc__image_root_open(const struct ebcc_image_root *ir, const char *stage, int *ret_fd)
{
	int fd = open(ir->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "stage %s: %s %s",
					 stage,
					 ir->kind == EBCC_IMAGE_ROOT_ROOTFS ? "rootfs"
					 : ir->kind == EBCC_IMAGE_ROOT_BUNDLE ? "bundle"
									       : "image directory",
					 ir->path);
	*ret_fd = fd;
	return 0;
}

static const char *file_type(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a plain file";
}

/* Why name in dir_fd could not be opened as a directory: a symlink, or something else. */
static int component_error(int dir_fd, const char *name, int e, const char *what,
			   const char *root_path)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "%s: beneath rootfs %s: \"%s\" is a symbolic link, which is not "
				   "followed inside the image",
				   what, root_path, name);
	if (e == ENOTDIR || e == ELOOP)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "%s: beneath rootfs %s: \"%s\" is not a directory", what,
				   root_path, name);
	return ebcc__error_errno(ebcc__error_from_errno(e), e, "%s: beneath rootfs %s", what,
				 root_path);
}

/* The fallback: one component at a time below root_fd, O_NOFOLLOW everywhere. The path has no
 * "." or ".." components, so nothing above root_fd is ever reached. */
static int walk(int root_fd, const char *root_path, const char *relpath, const char *what,
		int *ret_fd)
{
	char path[EBCC_PATH_MAX];
	char *slash, *name = path;
	_cleanup_close_ int cur = -1;
	int fd;

	snprintf(path, sizeof(path), "%s", relpath);
	cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "dup");
	while ((slash = strchr(name, '/')) != NULL) {
		int next;

		*slash = '\0';
		next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return component_error(cur, name, errno, what, root_path);
		close(cur);
		cur = next;
		name = slash + 1;
	}
	fd = openat(cur, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int e = errno;

		if (e == ELOOP)
			return component_error(cur, name, e, what, root_path);
		if (e == ENOENT)
			return ebcc__error(EBCC_ERR_NOT_FOUND, "%s: beneath rootfs %s: not found",
					   what, root_path);
		return ebcc__error_errno(ebcc__error_from_errno(e), e, "%s: beneath rootfs %s",
					 what, root_path);
	}
	*ret_fd = fd;
	return 0;
}

/* openat2 beneath the root; -errno as the kernel gave it. */
static int open_in_root(int root_fd, const char *relpath)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
	};
	long fd = -1;

	/* EAGAIN: a rename raced the lookup; the kernel asks to try again. */
	for (int i = 0; i < 8; i++) {
		fd = syscall(SYS_openat2, root_fd, relpath, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd >= 0 ? (int)fd : -errno;
}

int ebcc__rootfs_open_file(int root_fd, const char *root_path, const char *path,
			   const char *what, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int e, r;

	if (strlen(path) >= EBCC_PATH_MAX)
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s: path too long", what);
	fd = open_in_root(root_fd, path);
	e = fd >= 0 ? 0 : -fd;
	if (fd < 0)
		fd = -1;
	switch (e) {
	case 0:
		break;
	/* No openat2 (before Linux 5.6), or a seccomp filter that refuses it: the walk is as
	 * strict, one syscall per component. */
	case ENOSYS:
	case EPERM:
		r = walk(root_fd, root_path, path, what, &fd);
		if (r < 0)
			return r;
		break;
	case ENOENT:
		return ebcc__error(EBCC_ERR_NOT_FOUND, "%s: beneath rootfs %s: not found", what,
				   root_path);
	case ELOOP:
	case ENOTDIR:
	case EXDEV:
		/* The walk names the component at fault; should it succeed (the path changed
		 * meanwhile), the kernel's answer stands. */
		r = walk(root_fd, root_path, path, what, &fd);
		if (r < 0)
			return r;
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "%s: beneath rootfs %s: a path component is %s", what, root_path,
				   e == ELOOP	 ? "a symbolic link, which is not followed"
				   : e == EXDEV ? "a link leaving the root"
						: "not a directory");
	default:
		return ebcc__error_errno(ebcc__error_from_errno(e), e, "%s: beneath rootfs %s",
					 what, root_path);
	}
	if (fstat(fd, &st) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "%s: beneath rootfs %s: stat", what,
					 root_path);
	if (!S_ISREG(st.st_mode))
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "%s: beneath rootfs %s: not a regular file (%s)", what, root_path,
				   file_type(st.st_mode));
	fcntl(fd, F_SETFL, 0); /* drop O_NONBLOCK, used only against FIFOs */
	*ret_fd = fd;
	fd = -1;
	return 0;
}

/* The image's path relative to the root's descriptor. */
static int image_path(const struct ebcc_image_root *ir, const char *stage, const char *rel,
		      char *buf, size_t size)
{
	int n = ir->kind == EBCC_IMAGE_ROOT_ROOTFS && ir->dir[0] != '\0'
			? snprintf(buf, size, "%s/%s", ir->dir, rel)
			: snprintf(buf, size, "%s", rel);

	return n < 0 || (size_t)n >= size
		       ? ebcc__error(EBCC_ERR_TOO_BIG, "stage %s: image path too long", stage)
		       : 0;
}

static void describe_path(const struct ebcc_image_root *ir, const char *rel, char *buf,
			  size_t size)
{
	if (ir->kind == EBCC_IMAGE_ROOT_ROOTFS)
		snprintf(buf, size, "rootfs:/%s%s%s", ir->dir, ir->dir[0] != '\0' ? "/" : "", rel);
	else
		snprintf(buf, size, "%s/%s", ir->path, rel);
}

void ebcc__image_root_describe(const struct ebcc_image_root *ir,
			       const struct ebcc_stage_decl *s, char *buf, size_t size)
{
	describe_path(ir, s->image, buf, size);
}

int ebcc__image_root_open_file(const struct ebcc_image_root *ir, int root_fd, const char *stage,
			       const char *rel, const char *label, int *ret_fd)
{
	char path[EBCC_PATH_MAX], where[2 * EBCC_PATH_MAX + 16], what[2 * EBCC_PATH_MAX + 96];
	int r = image_path(ir, stage, rel, path, sizeof(path));

	if (r < 0)
		return r;
	describe_path(ir, rel, where, sizeof(where));
	snprintf(what, sizeof(what), "stage %s: %s %s", stage, label, where);
	if (ir->kind == EBCC_IMAGE_ROOT_ROOTFS)
		return ebcc__rootfs_open_file(root_fd, ir->path, path, what, ret_fd);
	return ebcc__bundle_open_file(root_fd, path, what, ret_fd);
}

int ebcc__image_root_open_image(const struct ebcc_image_root *ir, int root_fd,
				const struct ebcc_stage_decl *s, int *ret_fd)
{
	return ebcc__image_root_open_file(ir, root_fd, s->name, s->image, "image", ret_fd);
}
