/* SPDX-License-Identifier: MIT */
/*
 * A state root another user could write to is not trusted (StrictModes, libebcc(7)): not the
 * root itself, not a non-sticky ancestor, not a composite directory, not the backends' data
 * directory, not the device key. Each refusal is EBCC_ERR_PERMISSION naming path, owner and
 * mode. Needs root, to give files to another user.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <ebcc/backend.h>
#include <ebcc/ebcc.h>

#include "bundleutil.h"

#define ONE_STAGE "[{\"name\": \"echo\", \"image\": \"stages/echo\"}]"
#define NOBODY 65534

struct fixture {
	char *top;    /* a scratch directory holding the state root */
	char root[4200];
	char *bundle;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (geteuid() != 0) {
		free(f);
		skip();
	}
	f->top = scratch_dir("strict");
	snprintf(f->root, sizeof(f->root), "%s/root", f->top);
	assert_int_equal(mkdir(f->root, 0700), 0);
	f->bundle = scratch_dir("strict-bundle");
	make_bundle(f->bundle, NULL, ONE_STAGE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	scratch_remove(f->top);
	scratch_remove(f->bundle);
	free(f);
	return 0;
}

static void path_of(const struct fixture *f, const char *rel, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", f->root, rel);
}

static void refused(int r, const char *what, const char *m1, const char *m2)
{
	const char *msg = ebcc_last_error_message();

	if (r != EBCC_ERR_PERMISSION)
		fail_msg("%s: %s instead of EBCC_ERR_PERMISSION: %s", what, ebcc_error_name(r), msg);
	if (strstr(msg, m1) == NULL || (m2 != NULL && strstr(msg, m2) == NULL))
		fail_msg("%s: \"%s\" lacks \"%s\" or \"%s\"", what, msg, m1, m2 ? m2 : "");
}

/* create in a fresh context: 0 or the error. */
static int try_create(struct fixture *f, const char *id)
{
	struct ebcc_context *ctx = context_at(f->root);
	struct ebcc_instance *inst = NULL;
	int r = ebcc_instance_create(ctx, id, f->bundle, &inst);

	if (r == 0) {
		assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
		ebcc_instance_unref(inst);
	}
	ebcc_context_unref(ctx);
	return r;
}

static void root_of_another_user(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(try_create(f, "ok"), 0);
	assert_int_equal(chown(f->root, NOBODY, NOBODY), 0);
	refused(try_create(f, "c"), "root owned by nobody", f->root, "owned by uid 65534");
	assert_int_equal(chown(f->root, 0, 0), 0);
	assert_int_equal(chmod(f->root, 0777), 0);
	refused(try_create(f, "c"), "root mode 0777", f->root, "mode 0777");
	assert_int_equal(chmod(f->root, 0700), 0);
	assert_int_equal(try_create(f, "ok"), 0);
}

static void ancestors(void **state)
{
	struct fixture *f = *state;

	/* Writable by all without the sticky bit: the root could be swapped for another. */
	assert_int_equal(chmod(f->top, 0777), 0);
	refused(try_create(f, "c"), "ancestor 0777", f->top, "ancestor");
	/* As /tmp is: sticky, so nobody else can rename what is in it. */
	assert_int_equal(chmod(f->top, 01777), 0);
	assert_int_equal(try_create(f, "c"), 0);
	assert_int_equal(chmod(f->top, 0700), 0);
}

static void planted_composite(void **state)
{
	struct fixture *f = *state;
	struct ebcc_context *ctx = context_at(f->root);
	struct ebcc_instance *inst = NULL;
	char path[4300];

	assert_int_equal(ebcc_instance_create(ctx, "planted", f->bundle, &inst), 0);
	ebcc_instance_unref(inst);
	inst = NULL;
	/* As if another user had made it: its state could name any process as the anchor. */
	path_of(f, "planted", path, sizeof(path));
	assert_int_equal(chown(path, NOBODY, NOBODY), 0);
	refused(ebcc_instance_open(ctx, "planted", &inst), "open", "planted",
		"owned by uid 65534");
	assert_null(inst);
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(chmod(path, 0722), 0);
	refused(ebcc_instance_open(ctx, "planted", &inst), "open", "planted", "mode 0722");
	assert_int_equal(chmod(path, 0700), 0);
	assert_int_equal(ebcc_instance_open(ctx, "planted", &inst), 0);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);
}

static int key_in_fresh_context(struct fixture *f)
{
	struct ebcc_context *ctx = context_at(f->root);
	char *pem = NULL;
	int r = ebcc_backend_attestation_key(ctx, "sim", &pem);

	ebcc_free(pem);
	ebcc_context_unref(ctx);
	return r;
}

static void device_key_and_data_dir(void **state)
{
	struct fixture *f = *state;
	char key[4300], dir[4300];

	/* The first use makes both: the data directory 0700, the key 0600. */
	assert_int_equal(key_in_fresh_context(f), 0);
	path_of(f, ".ebcc/backends/sim/device-key-ed25519.pem", key, sizeof(key));
	path_of(f, ".ebcc/backends/sim", dir, sizeof(dir));
	/* A key others could read or write signs nothing. */
	assert_int_equal(chmod(key, 0644), 0);
	refused(key_in_fresh_context(f), "key 0644", "device-key-ed25519.pem", "mode 0644");
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(chown(key, NOBODY, NOBODY), 0);
	refused(key_in_fresh_context(f), "key of nobody", "device-key-ed25519.pem", "uid 65534");
	assert_int_equal(chown(key, 0, 0), 0);
	assert_int_equal(key_in_fresh_context(f), 0);
	/* Nor a data directory others could plant a key in. */
	assert_int_equal(chmod(dir, 0770), 0);
	refused(key_in_fresh_context(f), "data dir 0770", "backends/sim", "mode 0770");
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(key_in_fresh_context(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(root_of_another_user, setup, teardown),
		cmocka_unit_test_setup_teardown(ancestors, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_composite, setup, teardown),
		cmocka_unit_test_setup_teardown(device_key_and_data_dir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
