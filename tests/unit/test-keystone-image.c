/* SPDX-License-Identifier: MIT */
/*
 * Keystone stage images (backends/keystone/image.c): ustar archives of loader.bin, eyrie-rt and
 * eapp as GNU tar writes them (ustar and its default format), their measurement (Keystone's
 * enclave hash of the three files), every malformed archive refused with its reason, and, at
 * ebcc_instance_create(), the keystone: pin accepted, compared, and refused where it is of the
 * wrong kind.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../backends/keystone/image.h"
#include "../api/bundleutil.h"
#include "ebcc-private.h"

static uint8_t loader[5000], runtime[8192], eapp_file[300];

static void fill(void)
{
	for (size_t i = 0; i < sizeof(loader); i++)
		loader[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(runtime); i++)
		runtime[i] = (uint8_t)(i * 13 + 5);
	for (size_t i = 0; i < sizeof(eapp_file); i++)
		eapp_file[i] = (uint8_t)(i ^ 0x5a);
}

static void write_bytes(const char *dir, const char *name, const void *data, size_t len)
{
	write_file(dir, name, data, len);
}

/* tar in dir of the named members (a space-separated list) with options, into dir/out. */
static void run_tar(const char *dir, const char *options, const char *members, const char *out)
{
	char *cmd;

	assert_true(asprintf(&cmd, "cd '%s' && tar %s -cf '%s' %s", dir, options, out,
			     members) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void write_files(const char *dir)
{
	fill();
	write_bytes(dir, "loader.bin", loader, sizeof(loader));
	write_bytes(dir, "eyrie-rt", runtime, sizeof(runtime));
	write_bytes(dir, "eapp", eapp_file, sizeof(eapp_file));
}

static void read_whole(const char *dir, const char *name, uint8_t **ret, size_t *ret_len)
{
	char *path, *data = NULL;
	size_t len = 0;
	int fd;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ebcc__read_all(fd, 1 << 24, path, &data, &len), 0);
	close(fd);
	free(path);
	*ret = (uint8_t *)data;
	*ret_len = len;
}

static void expected_measurement(char out[EBCC_KS_MEASUREMENT_SIZE])
{
	const uint8_t *const files[] = { loader, runtime, eapp_file };
	const size_t lens[] = { sizeof(loader), sizeof(runtime), sizeof(eapp_file) };
	uint8_t hash[64];

	assert_int_equal(ebcc__ks_measure(files, lens, hash), 0);
	memcpy(out, "keystone:", 9);
	ebcc__hex_encode(hash, 64, out + 9);
}

static void parses_what_tar_writes(void **state)
{
	static const char *const formats[] = { "--format=ustar", "--format=gnu", "" };
	char *dir = scratch_dir("ks-image");
	char want[EBCC_KS_MEASUREMENT_SIZE];

	(void)state;
	write_files(dir);
	expected_measurement(want);
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		/* Any order of the members. */
		static const char *const orders[] = { "loader.bin eyrie-rt eapp",
						      "eapp loader.bin eyrie-rt" };

		for (size_t o = 0; o < 2; o++) {
			struct ebcc__ks_image im = { 0 };
			uint8_t *buf;
			size_t len;

			run_tar(dir, formats[f], orders[o], "stage.tar");
			read_whole(dir, "stage.tar", &buf, &len);
			assert_int_equal(ebcc__ks_image_parse(buf, len, "stage.tar", &im), 0);
			assert_int_equal(im.lens[EBCC_KS_FILE_LOADER], sizeof(loader));
			assert_memory_equal(im.files[EBCC_KS_FILE_LOADER], loader, sizeof(loader));
			assert_memory_equal(im.files[EBCC_KS_FILE_RUNTIME], runtime, sizeof(runtime));
			assert_memory_equal(im.files[EBCC_KS_FILE_EAPP], eapp_file, sizeof(eapp_file));
			assert_string_equal(im.measurement, want);
			free(buf);
		}
	}
	scratch_remove(dir);
}

/* What each malformed archive must be refused for. */
static void refuse(const uint8_t *buf, size_t len, const char *why)
{
	struct ebcc__ks_image im = { 0 };
	int r = ebcc__ks_image_parse(buf, len, "img", &im);

	if (r != EBCC_ERR_INVALID_ARG || strstr(ebcc_last_error_message(), why) == NULL)
		fail_msg("wanted \"%s\", got %s: %s", why, ebcc_error_name(r),
			 ebcc_last_error_message());
}

static void refuses_malformed(void **state)
{
	char *dir = scratch_dir("ks-image");
	uint8_t *buf, *copy;
	size_t len;

	(void)state;
	write_files(dir);
	write_bytes(dir, "extra", "x", 1);
	run_tar(dir, "--format=ustar", "loader.bin eyrie-rt", "two.tar");
	read_whole(dir, "two.tar", &buf, &len);
	refuse(buf, len, "img: no member eapp (a keystone stage image holds");
	free(buf);
	run_tar(dir, "--format=ustar", "loader.bin eyrie-rt eapp extra", "four.tar");
	read_whole(dir, "four.tar", &buf, &len);
	refuse(buf, len, "non-zero bytes at byte");
	free(buf);
	run_tar(dir, "--format=ustar", "loader.bin extra eapp", "other.tar");
	read_whole(dir, "other.tar", &buf, &len);
	refuse(buf, len, "img: member \"extra\" at byte 5632 is not one of loader.bin, eyrie-rt, eapp");
	free(buf);
	run_tar(dir, "--format=ustar --hard-dereference", "loader.bin loader.bin eapp", "twice.tar");
	read_whole(dir, "twice.tar", &buf, &len);
	refuse(buf, len, "img: member loader.bin appears twice");
	free(buf);
	run_tar(dir, "--format=pax", "loader.bin eyrie-rt eapp", "pax.tar");
	read_whole(dir, "pax.tar", &buf, &len);
	refuse(buf, len, "of tar type 'x', not a regular file");
	free(buf);

	run_tar(dir, "--format=ustar", "loader.bin eyrie-rt eapp", "good.tar");
	read_whole(dir, "good.tar", &buf, &len);
	copy = malloc(len);
	assert_non_null(copy);
	/* One byte of a header: the checksum no longer holds. */
	memcpy(copy, buf, len);
	copy[1]++;
	refuse(copy, len, "has a wrong checksum");
	/* Not tar at all. */
	memset(copy, 'A', 1024);
	refuse(copy, len, "img: the header at byte 0 is not a ustar header");
	/* Cut inside the eapp's data. */
	refuse(buf, 512 * 29, "img: member eapp is 300 bytes, past the end of the 14848-byte image");
	/* Junk after the last member. */
	memcpy(copy, buf, len);
	copy[len - 1] = 1;
	refuse(copy, len, "non-zero bytes at byte");
	/* An empty image. */
	refuse(buf, 0, "img: no member loader.bin");
	free(copy);
	free(buf);
	write_bytes(dir, "eapp", "", 0);
	run_tar(dir, "--format=ustar", "loader.bin eyrie-rt eapp", "empty.tar");
	read_whole(dir, "empty.tar", &buf, &len);
	refuse(buf, len, "img: member eapp is empty");
	free(buf);
	scratch_remove(dir);
}

/* ---- the pin, at ebcc_instance_create() ------------------------------------------------------ */

static int create_with(const char *root, const char *bundle, const char *pin)
{
	struct ebcc_context *ctx = context_at(root);
	struct ebcc_instance *inst = NULL;
	char *stages;
	int r;

	assert_true(asprintf(&stages, "[{\"name\": \"k\", \"image\": \"stages/k.tar\"%s%s%s}]",
			     pin != NULL ? ", \"measurement\": \"" : "", pin != NULL ? pin : "",
			     pin != NULL ? "\"" : "") > 0);
	make_bundle(bundle, NULL, stages);
	free(stages);
	/* make_bundle's manifest names no backend: the keystone one is chosen by option. */
	assert_int_equal(ebcc_context_set_option(ctx, "default_backend", "keystone"), 0);
	r = ebcc_instance_create(ctx, "ks1", bundle, &inst);
	if (r == 0) {
		if (ebcc_instance_delete(inst, EBCC_DELETE_FORCE) < 0)
			fail_msg("delete: %s", ebcc_last_error_message());
		ebcc_instance_unref(inst);
	}
	ebcc_context_unref(ctx);
	return r;
}

static void pin_at_create(void **state)
{
	char *root = scratch_dir("ks-root"), *bundle = scratch_dir("ks-bundle");
	char want[EBCC_KS_MEASUREMENT_SIZE], wrong[EBCC_KS_MEASUREMENT_SIZE], *stages;

	(void)state;
	assert_true(asprintf(&stages, "%s/stages", bundle) > 0);
	assert_int_equal(mkdir(stages, 0755), 0);
	write_files(stages);
	run_tar(stages, "--format=ustar", "loader.bin eyrie-rt eapp", "k.tar");
	free(stages);
	expected_measurement(want);
	assert_int_equal(create_with(root, bundle, NULL), 0);
	assert_int_equal(create_with(root, bundle, want), 0);
	memcpy(wrong, want, sizeof(wrong));
	wrong[20] = wrong[20] == '0' ? '1' : '0';
	assert_int_equal(create_with(root, bundle, wrong), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "but the manifest pins keystone:"));
	assert_non_null(strstr(ebcc_last_error_message(), want));
	assert_int_equal(create_with(root, bundle, "sha256:0000000000000000000000000000000000000"
					   "000000000000000000000000000"),
			 EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "backend keystone measures "
				"keystone:<128 lowercase hex digits>"));
	assert_int_equal(create_with(root, bundle, "keystone:00"), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "is not sha256:<64 lowercase hex "
				"digits>, keystone:<128 lowercase hex digits> or sgx:<64 lowercase "
				"hex digits>"));
	scratch_remove(root);
	scratch_remove(bundle);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_what_tar_writes),
		cmocka_unit_test(refuses_malformed),
		cmocka_unit_test(pin_at_create),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
