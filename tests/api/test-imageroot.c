/* SPDX-License-Identifier: MIT */
/*
 * Where stage manifests and images come from, through the public API: an absolute host path
 * (images beside the manifest), "rootfs:/path" inside the container's image (opened beneath its
 * rootfs, no symlink followed, regular files only), images changed between create and start,
 * and state.json files written before the image root was recorded.
 *
 * With --openat2-errno=ENOSYS|EPERM the process first installs a seccomp filter that fails
 * openat2(2) so, as on kernels before 5.6 or under a runtime's filter: the same cases then go
 * through the library's component-by-component walk.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>

#include <ebcc/ebcc.h>

#include "bundleutil.h"

#define MANIFEST_ANNOTATION "org.ebcc.manifest"

struct fixture {
	char *root;    /* the state root */
	char *bundle;  /* config.json (+ rootfs/) */
	char *outside; /* a directory outside the bundle, for host manifests and escape targets */
	struct ebcc_context *ctx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->root = scratch_dir("root");
	f->bundle = scratch_dir("bundle");
	f->outside = scratch_dir("outside");
	f->ctx = context_at(f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ebcc_context_unref(f->ctx);
	scratch_remove(f->root);
	scratch_remove(f->bundle);
	scratch_remove(f->outside);
	free(f);
	return 0;
}

static void skip_without_stage(void)
{
	if (echo_stage_path() == NULL)
		skip();
}

static void assert_message_has(const char *needle)
{
	if (strstr(ebcc_last_error_message(), needle) == NULL)
		fail_msg("message \"%s\" does not name \"%s\"", ebcc_last_error_message(), needle);
}

static char *path_of(const char *dir, const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

/* config.json naming the manifest, with root.path (NULL: none). */
static void write_config(struct fixture *f, const char *manifest, const char *root_path)
{
	char *config, *root = NULL;

	if (root_path != NULL)
		assert_true(asprintf(&root, "\"root\": {\"path\": \"%s\"}, ", root_path) > 0);
	assert_true(asprintf(&config,
			     "{\"ociVersion\": \"1.0.2\", %s\"annotations\": {\"" MANIFEST_ANNOTATION
			     "\": \"%s\"}}",
			     root != NULL ? root : "", manifest) > 0);
	write_file(f->bundle, "config.json", config, strlen(config));
	free(config);
	free(root);
}

static void write_manifest(const char *dir, const char *name, const char *stages)
{
	char *manifest;

	assert_true(asprintf(&manifest, "{\"ebccVersion\": \"0.1\", \"stages\": %s}", stages) > 0);
	write_file(dir, name, manifest, strlen(manifest));
	free(manifest);
}

static void put_stage(const char *dir, const char *name)
{
	const char *stage = echo_stage_path();

	copy_file(stage != NULL ? stage : "/bin/true", dir, name, 0755);
}

/* bundle/rootfs/ebcc/ebcc.json with one stage whose image is rootfs/ebcc/<image>. */
static void rootfs_composite(struct fixture *f, const char *image, const char *lifetime)
{
	char *rootfs = path_of(f->bundle, "rootfs"), *stages;

	assert_true(mkdir(rootfs, 0755) == 0 || errno == EEXIST);
	assert_true(asprintf(&stages,
			     "[{\"name\": \"echo\", \"image\": \"%s\", \"lifetime\": \"%s\"}]", image,
			     lifetime) > 0);
	write_manifest(rootfs, "ebcc/ebcc.json", stages);
	put_stage(rootfs, image[0] == 'b' ? "ebcc/bin/echo" : "ebcc/echo");
	write_config(f, "rootfs:/ebcc/ebcc.json", "rootfs");
	free(stages);
	free(rootfs);
}

static void assert_create_fails(struct fixture *f, int code, const char *needle)
{
	struct ebcc_instance *inst = NULL;
	int before = count_entries(f->root);
	int r = ebcc_instance_create(f->ctx, "bad", f->bundle, &inst);

	if (r != code)
		fail_msg("create gave %s, expected %s: %s", ebcc_error_name(r),
			 ebcc_error_name(code), ebcc_last_error_message());
	assert_message_has(needle);
	assert_null(inst);
	/* Nothing on disk: no composite, not even a state root if there was none. */
	assert_int_equal(count_entries(f->root), before);
}

static void invoke_upper(struct ebcc_instance *inst, const char *text, const char *expected)
{
	struct ebcc_invocation *inv = NULL;
	const void *data;
	size_t len;
	char *request;
	int r;

	assert_true(asprintf(&request, "upper:%s", text) > 0);
	r = ebcc_stage_invoke(inst, "echo", request, strlen(request), NULL, 0, &inv);
	if (r != 0)
		fail_msg("invoke: %s: %s", ebcc_error_name(r), ebcc_last_error_message());
	assert_int_equal(ebcc_invocation_response(inv, &data, &len), 0);
	assert_int_equal(len, strlen(expected));
	assert_memory_equal(data, expected, len);
	ebcc_invocation_unref(inv);
	free(request);
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "re");
	char *text = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(fp);
	n = fread(text, 1, (1 << 20) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	return text;
}

static char *state_json(struct fixture *f, const char *id)
{
	char *name, *text;

	assert_true(asprintf(&name, "%s/%s/state.json", f->root, id) > 0);
	text = slurp(name);
	free(name);
	return text;
}

static void start_ok(struct ebcc_instance *inst)
{
	int r = ebcc_instance_start(inst);

	if (r != 0)
		fail_msg("start: %s: %s", ebcc_error_name(r), ebcc_last_error_message());
}

static void delete_composite(struct ebcc_instance *inst)
{
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
}

/* ---- an absolute host path: images beside the manifest ---------------------------------- */

static void host_manifest_with_images_beside_it(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	char *manifest = path_of(f->outside, "conf/ebcc.json"), *text, *want;
	char real[4096];

	skip_without_stage();
	write_manifest(f->outside, "conf/ebcc.json",
		       "[{\"name\": \"echo\", \"image\": \"stages/echo\"}]");
	put_stage(f->outside, "conf/stages/echo");
	write_config(f, manifest, NULL);
	/* Nothing in the bundle but config.json: the image can only come from beside the
	 * manifest. */
	assert_int_equal(ebcc_instance_create(f->ctx, "host", f->bundle, &inst), 0);
	text = state_json(f, "host");
	assert_non_null(realpath(f->outside, real));
	assert_true(asprintf(&want, "\"path\": \"%s/conf\"", real) > 0);
	assert_non_null(strstr(text, "\"kind\": \"directory\""));
	assert_non_null(strstr(text, want));
	start_ok(inst);
	invoke_upper(inst, "beside", "BESIDE");
	delete_composite(inst);

	free(text);
	/* The manifest itself is not followed through a symlink, and must be a file. */
	text = path_of(f->outside, "conf/real.json");
	assert_int_equal(rename(manifest, text), 0);
	assert_int_equal(symlink(text, manifest), 0);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "is a symbolic link, which is not followed");
	assert_message_has(manifest);
	write_config(f, f->outside, NULL);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "not a regular file");
	free(want);
	free(text);
	free(manifest);
}

static void host_manifest_missing(void **state)
{
	struct fixture *f = *state;
	char *manifest = path_of(f->outside, "absent/ebcc.json");

	write_config(f, manifest, NULL);
	assert_create_fails(f, EBCC_ERR_NOT_FOUND, "annotation " MANIFEST_ANNOTATION);
	assert_message_has(manifest);
	free(manifest);
	write_config(f, "/", NULL);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "names a directory, not a file");
}

/* A relative annotation keeps its meaning: the manifest and its images in the bundle. */
static void relative_annotation_is_bundle_relative(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	char *text;

	skip_without_stage();
	write_manifest(f->bundle, "conf/stages.json",
		       "[{\"name\": \"echo\", \"image\": \"stages/echo\"}]");
	put_stage(f->bundle, "stages/echo");
	write_config(f, "conf/stages.json", NULL);
	assert_int_equal(ebcc_instance_create(f->ctx, "rel", f->bundle, &inst), 0);
	text = state_json(f, "rel");
	assert_non_null(strstr(text, "\"kind\": \"bundle\""));
	start_ok(inst);
	invoke_upper(inst, "relative", "RELATIVE");
	delete_composite(inst);
	free(text);
}

/* ---- rootfs:/path: manifest and images inside the image --------------------------------- */

static void rootfs_manifest_and_images(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	char *text, *want, *rootfs = path_of(f->bundle, "rootfs");
	char real[4096];

	skip_without_stage();
	rootfs_composite(f, "bin/echo", "instance");
	assert_int_equal(ebcc_instance_create(f->ctx, "img", f->bundle, &inst), 0);
	text = state_json(f, "img");
	assert_non_null(realpath(rootfs, real));
	assert_true(asprintf(&want, "\"path\": \"%s\"", real) > 0);
	if (strstr(text, "\"kind\": \"rootfs\"") == NULL || strstr(text, want) == NULL ||
	    strstr(text, "\"dir\": \"ebcc\"") == NULL)
		fail_msg("state.json lacks the rootfs image root %s:\n%s", real, text);
	start_ok(inst);
	invoke_upper(inst, "inside", "INSIDE");
	delete_composite(inst);
	free(want);
	free(text);

	/* root.path absolute, the manifest at the top of the image, per-invocation loads. */
	write_manifest(rootfs, "top.json",
		       "[{\"name\": \"echo\", \"image\": \"ebcc/bin/echo\", "
		       "\"lifetime\": \"invocation\"}]");
	write_config(f, "rootfs:/top.json", real);
	assert_int_equal(ebcc_instance_create(f->ctx, "top", f->bundle, &inst), 0);
	start_ok(inst);
	invoke_upper(inst, "top", "TOP");
	invoke_upper(inst, "again", "AGAIN");
	delete_composite(inst);
	free(rootfs);
}

/* Each way out of the rootfs, for the manifest and for an image. */
static void rootfs_escapes_refused(void **state)
{
	struct fixture *f = *state;
	char *rootfs = path_of(f->bundle, "rootfs"), *p, *target;

	rootfs_composite(f, "bin/echo", "instance");
	write_manifest(f->outside, "ebcc.json", "[{\"name\": \"echo\", \"image\": \"echo\"}]");
	put_stage(f->outside, "echo");
	target = path_of(f->outside, "ebcc.json");
	p = path_of(rootfs, "ebcc/ebcc.json");

	/* The manifest an absolute symlink (RESOLVE_IN_ROOT would resolve it inside; refused). */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink(target, p), 0);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG,
			    "stage manifest rootfs:/ebcc/ebcc.json (annotation " MANIFEST_ANNOTATION
			    "): beneath rootfs ");
	assert_message_has("\"ebcc.json\" is a symbolic link, which is not followed");
	/* A relative one climbing out. */
	free(target);
	assert_int_equal(unlink(p), 0);
	assert_true(asprintf(&target, "../../../%s/ebcc.json", strrchr(f->outside, '/') + 1) > 0);
	assert_int_equal(symlink(target, p), 0);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "\"ebcc.json\" is a symbolic link");
	free(target);
	/* A FIFO (opened without blocking) and a directory. */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "not a regular file (a FIFO)");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "not a regular file (a directory)");
	assert_int_equal(rmdir(p), 0);
	assert_create_fails(f, EBCC_ERR_NOT_FOUND, "rootfs:/ebcc/ebcc.json");
	assert_message_has("not found");
	free(p);

	/* A directory on the way a symlink: absolute, and relative to the top. */
	rootfs_composite(f, "bin/echo", "instance");
	p = path_of(rootfs, "ebcc");
	target = path_of(rootfs, "moved");
	assert_int_equal(rename(p, target), 0);
	assert_int_equal(symlink(target, p), 0);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "\"ebcc\" is a symbolic link");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("moved", p), 0);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "\"ebcc\" is a symbolic link");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rename(target, p), 0);
	free(target);
	free(p);

	/* ".." in the annotation, a relative one, "." and empty components. */
	write_config(f, "rootfs:/ebcc/../../outside/ebcc.json", "rootfs");
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "without empty, \".\" or \"..\" components");
	write_config(f, "rootfs:/ebcc/./ebcc.json", "rootfs");
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "without empty, \".\" or \"..\" components");
	write_config(f, "rootfs://ebcc/ebcc.json", "rootfs");
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "without empty, \".\" or \"..\" components");
	write_config(f, "rootfs:ebcc/ebcc.json", "rootfs");
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "must be absolute inside the image");
	write_config(f, "rootfs:/ebcc/ebcc.json", NULL);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "has no root.path");
	write_config(f, "rootfs:/ebcc/ebcc.json", "no-such-rootfs");
	assert_create_fails(f, EBCC_ERR_NOT_FOUND, "no-such-rootfs");

	/* The image: an absolute symlink, a symlinked directory climbing out, a FIFO. */
	write_config(f, "rootfs:/ebcc/ebcc.json", "rootfs");
	p = path_of(rootfs, "ebcc/bin/echo");
	target = path_of(f->outside, "echo");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink(target, p), 0);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG,
			    "stage echo: image rootfs:/ebcc/bin/echo: beneath rootfs ");
	assert_message_has("\"echo\" is a symbolic link");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "not a regular file (a FIFO)");
	assert_int_equal(unlink(p), 0);
	free(target);
	free(p);
	p = path_of(rootfs, "ebcc/bin");
	assert_int_equal(rmdir(p), 0);
	assert_true(asprintf(&target, "../../../%s", strrchr(f->outside, '/') + 1) > 0);
	assert_int_equal(symlink(target, p), 0);
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "\"bin\" is a symbolic link");
	free(target);
	free(p);
	free(rootfs);
}

/* ---- what start loads is what create measured ------------------------------------------ */

static void append_byte(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static void swapped_image_refused(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	char *rootfs = path_of(f->bundle, "rootfs"), *image = path_of(rootfs, "ebcc/echo");
	char *spare = path_of(f->outside, "echo"), *p;
	int r;

	skip_without_stage();
	/* Changed in place (same inode), as a container writing its own rootfs would. */
	rootfs_composite(f, "echo", "instance");
	assert_int_equal(ebcc_instance_create(f->ctx, "swap", f->bundle, &inst), 0);
	append_byte(image);
	r = ebcc_instance_start(inst);
	assert_int_equal(r, EBCC_ERR_VERIFY);
	/* Refused by the backend before the changed image ran, not after (lib/stageload.c). */
	assert_message_has("stage echo: backend sim: echo: the image measures sha256:");
	assert_message_has("when the composite was created (was the image changed?)");
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_CREATED);
	delete_composite(inst);

	/* Replaced by another file. */
	rootfs_composite(f, "echo", "instance");
	assert_int_equal(ebcc_instance_create(f->ctx, "swap", f->bundle, &inst), 0);
	put_stage(f->outside, "echo");
	append_byte(spare);
	copy_file(spare, rootfs, "ebcc/echo.new", 0755);
	p = path_of(rootfs, "ebcc/echo.new");
	assert_int_equal(rename(p, image), 0);
	free(p);
	assert_int_equal(ebcc_instance_start(inst), EBCC_ERR_VERIFY);
	assert_message_has("(was the image changed?)");
	delete_composite(inst);

	/* Replaced by a symlink to an identical copy: refused by the rules, not the hash. */
	rootfs_composite(f, "echo", "instance");
	assert_int_equal(ebcc_instance_create(f->ctx, "swap", f->bundle, &inst), 0);
	put_stage(f->outside, "echo");
	assert_int_equal(unlink(image), 0);
	assert_int_equal(symlink(spare, image), 0);
	assert_int_equal(ebcc_instance_start(inst), EBCC_ERR_INVALID_ARG);
	assert_message_has("stage echo: image rootfs:/ebcc/echo: beneath rootfs ");
	assert_message_has("\"echo\" is a symbolic link");
	delete_composite(inst);

	/* A per-invocation stage is loaded at every call: changed after start, refused then. */
	assert_int_equal(unlink(image), 0);
	rootfs_composite(f, "echo", "invocation");
	assert_int_equal(ebcc_instance_create(f->ctx, "swap", f->bundle, &inst), 0);
	start_ok(inst);
	invoke_upper(inst, "before", "BEFORE");
	append_byte(image);
	{
		struct ebcc_invocation *inv = NULL;

		assert_int_equal(ebcc_stage_invoke(inst, "echo", "upper:after", 11, NULL, 0, &inv),
				 EBCC_ERR_VERIFY);
		assert_message_has("(was the image changed?)");
		assert_null(inv);
	}
	delete_composite(inst);
	free(spare);
	free(image);
	free(rootfs);
}

/* ---- state.json ------------------------------------------------------------------------- */

/* Removes the "imageRoot" member from a composite's state.json, as an older library wrote it. */
static void strip_image_root(struct fixture *f, const char *id)
{
	char *text = state_json(f, id), *at = strstr(text, ",\n    \"imageRoot\""), *end, *name;

	if (at == NULL)
		fail_msg("no imageRoot in:\n%s", text);
	end = strchr(at, '}');
	assert_non_null(end);
	memmove(at, end + 1, strlen(end + 1) + 1);
	assert_null(strstr(text, "imageRoot"));
	assert_true(asprintf(&name, "%s/state.json", id) > 0);
	write_file(f->root, name, text, strlen(text));
	free(name);
	free(text);
}

static void old_state_without_image_root_loads(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL, *again = NULL;

	skip_without_stage();
	make_bundle(f->bundle, NULL, "[{\"name\": \"echo\", \"image\": \"stages/echo\"}]");
	assert_int_equal(ebcc_instance_create(f->ctx, "old", f->bundle, &inst), 0);
	strip_image_root(f, "old");
	assert_int_equal(ebcc_instance_open(f->ctx, "old", &again), 0);
	assert_int_equal(ebcc_instance_status(again), EBCC_STATUS_CREATED);
	start_ok(again);
	invoke_upper(again, "old", "OLD");
	ebcc_instance_unref(inst);
	delete_composite(again);
}

static void bad_image_root_is_corrupt(void **state)
{
	static const char *const bad[] = {
		"{ \"kind\": \"elsewhere\", \"path\": \"/x\" }",
		"{ \"kind\": \"rootfs\", \"path\": \"/x\" }",
		"{ \"kind\": \"rootfs\", \"path\": \"/x\", \"dir\": \"../..\" }",
		"{ \"kind\": \"directory\", \"path\": \"relative\" }",
		"\"bundle\"",
	};
	struct fixture *f = *state;

	make_bundle(f->bundle, NULL, "[{\"name\": \"echo\", \"image\": \"stages/echo\"}]");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ebcc_instance *inst = NULL;
		char *text, *at, *end, *edited;

		assert_int_equal(ebcc_instance_create(f->ctx, "corrupt", f->bundle, &inst), 0);
		text = state_json(f, "corrupt");
		at = strstr(text, "\"imageRoot\": ");
		assert_non_null(at);
		at += strlen("\"imageRoot\": ");
		end = strchr(at, '}') + 1;
		assert_true(asprintf(&edited, "%.*s%s%s", (int)(at - text), text, bad[i], end) > 0);
		write_file(f->root, "corrupt/state.json", edited, strlen(edited));
		assert_int_equal(ebcc_instance_status(inst), EBCC_ERR_CORRUPT);
		assert_message_has("imageRoot");
		/* Put the good state back to remove the composite. */
		write_file(f->root, "corrupt/state.json", text, strlen(text));
		delete_composite(inst);
		free(edited);
		free(text);
	}
}

/* Makes openat2 fail with errnum in this process and its children (seccomp), and checks it. */
static void fail_openat2(int errnum)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC };
	scmp_filter_ctx filter;

	/* Where openat2 is missing already (an old kernel, or valgrind, which knows neither it
	 * nor seccomp), every run takes the walk: the ENOSYS run is that, another is moot. */
	if (syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how)) < 0 && errno == ENOSYS) {
		if (errnum == ENOSYS)
			return;
		fprintf(stderr, "SKIP: openat2 is unavailable here (ENOSYS): the ENOSYS run covers "
				"the walk\n");
		exit(77);
	}
	filter = seccomp_init(SCMP_ACT_ALLOW);
	if (filter == NULL || seccomp_rule_add(filter, SCMP_ACT_ERRNO(errnum), SCMP_SYS(openat2),
					       0) < 0 ||
	    seccomp_load(filter) < 0) {
		fprintf(stderr, "cannot install the seccomp filter\n");
		exit(1);
	}
	seccomp_release(filter);
	if (syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how)) >= 0 || errno != errnum) {
		fprintf(stderr, "openat2 still works under the filter\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(host_manifest_with_images_beside_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(host_manifest_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(relative_annotation_is_bundle_relative, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rootfs_manifest_and_images, setup, teardown),
		cmocka_unit_test_setup_teardown(rootfs_escapes_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(swapped_image_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(old_state_without_image_root_loads, setup,
						teardown),
		cmocka_unit_test_setup_teardown(bad_image_root_is_corrupt, setup, teardown),
	};

	if (argc == 2 && strcmp(argv[1], "--openat2-errno=ENOSYS") == 0)
		fail_openat2(ENOSYS);
	else if (argc == 2 && strcmp(argv[1], "--openat2-errno=EPERM") == 0)
		fail_openat2(EPERM);
	else if (argc != 1) {
		fprintf(stderr, "usage: %s [--openat2-errno=ENOSYS|EPERM]\n", argv[0]);
		return 2;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
