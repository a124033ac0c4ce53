/* SPDX-License-Identifier: MIT */
/*
 * White-box: ebcc__file_write_atomic on the disk the build is on and on tmpfs (/dev/shm), with
 * and without durability. A replaced file is a new file (a hard link to the old one keeps the
 * old bytes), no temporary is left behind, a symbolic link at the name is replaced and not
 * followed, and a directory at the name is refused with nothing changed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <ebcc/ebcc.h>

#include "ebcc-base.h"

struct fx {
	char path[256];
	int dir_fd;
};

static int setup_in(void **state, const char *parent)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/test-fileio.XXXXXX", parent);
	if (mkdtemp(f->path) == NULL) {
		free(f);
		return -1;
	}
	f->dir_fd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return f->dir_fd < 0 ? -1 : 0;
}

static int setup_disk(void **state)
{
	return setup_in(state, ".");
}

static int setup_tmpfs(void **state)
{
	return setup_in(state, "/dev/shm");
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ebcc__remove_tree_at(AT_FDCWD, f->path);
	close(f->dir_fd);
	free(f);
	return 0;
}

static void expect_content(int dir_fd, const char *name, const char *want)
{
	char buf[64] = { 0 };
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_int_equal(n, (ssize_t)strlen(want));
	assert_string_equal(buf, want);
}

/* The directory holds exactly the names given: no temporary is left. */
static void expect_names(int dir_fd, const char *const *names, size_t n)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(fd);
	struct dirent *e;
	size_t seen = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		bool known = false;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		for (size_t i = 0; i < n; i++)
			known |= strcmp(e->d_name, names[i]) == 0;
		if (!known)
			fail_msg("unexpected %s in the directory", e->d_name);
		seen++;
	}
	closedir(d);
	assert_int_equal(seen, n);
}

static void write_text(int dir_fd, const char *name, const char *text, bool durable)
{
	assert_int_equal(ebcc__file_write_atomic(dir_fd, name, text, strlen(text), 0600, durable,
						 name),
			 0);
}

static void replace_both_ways(void **state)
{
	struct fx *f = *state;
	static const char *const names[] = { "state.json", "old" };
	struct stat st;

	for (int durable = 0; durable <= 1; durable++) {
		write_text(f->dir_fd, "state.json", "first", durable);
		assert_int_equal(fstatat(f->dir_fd, "state.json", &st, 0), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(linkat(f->dir_fd, "state.json", f->dir_fd, "old", 0), 0);

		write_text(f->dir_fd, "state.json", "second, longer", durable);
		expect_content(f->dir_fd, "state.json", "second, longer");
		/* The old file was not written through: the new one took its place. */
		expect_content(f->dir_fd, "old", "first");
		assert_int_equal(fstatat(f->dir_fd, "old", &st, 0), 0);
		assert_int_equal(st.st_nlink, 1);
		expect_names(f->dir_fd, names, 2);

		write_text(f->dir_fd, "state.json", "3", durable);
		expect_content(f->dir_fd, "state.json", "3");
		expect_names(f->dir_fd, names, 2);
		assert_int_equal(unlinkat(f->dir_fd, "old", 0), 0);
		assert_int_equal(unlinkat(f->dir_fd, "state.json", 0), 0);
	}
}

static void symlink_replaced_not_followed(void **state)
{
	struct fx *f = *state;
	static const char *const names[] = { "state.json", "target" };

	for (int durable = 0; durable <= 1; durable++) {
		write_text(f->dir_fd, "target", "untouched", false);
		assert_int_equal(symlinkat("target", f->dir_fd, "state.json"), 0);
		write_text(f->dir_fd, "state.json", "mine", durable);
		expect_content(f->dir_fd, "target", "untouched");
		expect_content(f->dir_fd, "state.json", "mine");
		expect_names(f->dir_fd, names, 2);
		assert_int_equal(unlinkat(f->dir_fd, "state.json", 0), 0);
		assert_int_equal(unlinkat(f->dir_fd, "target", 0), 0);
	}
}

static void directory_refused(void **state)
{
	struct fx *f = *state;
	static const char *const names[] = { "state.json" };
	int sub;

	assert_int_equal(mkdirat(f->dir_fd, "state.json", 0700), 0);
	sub = openat(f->dir_fd, "state.json", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(sub >= 0);
	write_text(sub, "inside", "kept", false);
	for (int durable = 0; durable <= 1; durable++) {
		int r = ebcc__file_write_atomic(f->dir_fd, "state.json", "x", 1, 0600, durable,
						"victim/state.json");

		assert_true(r < 0);
		assert_non_null(strstr(ebcc_last_error_message(), "write victim/state.json"));
		assert_non_null(strstr(ebcc_last_error_message(), strerror(EISDIR)));
		expect_names(f->dir_fd, names, 1);
		expect_content(sub, "inside", "kept");
	}
	close(sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(replace_both_ways, setup_disk, teardown),
		cmocka_unit_test_setup_teardown(replace_both_ways, setup_tmpfs, teardown),
		cmocka_unit_test_setup_teardown(symlink_replaced_not_followed, setup_disk, teardown),
		cmocka_unit_test_setup_teardown(symlink_replaced_not_followed, setup_tmpfs, teardown),
		cmocka_unit_test_setup_teardown(directory_refused, setup_disk, teardown),
		cmocka_unit_test_setup_teardown(directory_refused, setup_tmpfs, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
