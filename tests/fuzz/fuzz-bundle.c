/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the bundle loader, ebcc__bundle_load(), over a real directory. The input (as for
 * fuzz-config: config.json, a NUL byte, ebcc.json) is written into a temporary bundle.
 *
 * Property: the loader agrees with the parsers it is built on. It fails exactly when
 * ebcc__oci_config_parse() or ebcc__manifest_parse() fails on the same text, with the same
 * code and the same message, and what it loads is what they parse.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "fuzz-common.h"
#include "fuzz-split.h"

static char bundle_dir[PATH_MAX];

static void write_file(const char *name, const char *data, size_t len)
{
	char path[PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", bundle_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ebcc__write_all(fd, data, len) < 0) {
		perror(path);
		abort();
	}
	close(fd);
}

static void remove_bundle(void)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/config.json", bundle_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ebcc.json", bundle_dir);
	unlink(path);
	rmdir(bundle_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char tmpl[] = "/tmp/ebcc-fuzz-bundle-XXXXXX";

	(void)argc;
	(void)argv;
	/* The loader resolves the bundle's path: give it the resolved one to compare messages. */
	if (mkdtemp(tmpl) == NULL || realpath(tmpl, bundle_dir) == NULL) {
		perror("temporary bundle directory");
		abort();
	}
	atexit(remove_bundle);
	return 0;
}

/* The manifest the loader will read: 0 and its file name, or -1 when the config names one
 * outside the bundle directory (an absolute path, a path with components, or one inside the
 * container's image, rootfs:...), which this harness does not follow (test-imageroot does). */
static int manifest_name(const char *config, size_t len, const char **ret)
{
	struct ebcc_oci_config *c = NULL;
	const char *name;
	int r = ebcc__oci_config_parse(config, len, "config.json", &c);

	*ret = "ebcc.json";
	if (r < 0)
		return 0;
	name = ebcc__oci_config_annotation(c, "org.ebcc.manifest");
	if (name != NULL && (strchr(name, '/') != NULL || name[0] == '\0' ||
			     strncmp(name, "rootfs:", 7) == 0 ||
			     strcmp(name, ".") == 0 || strcmp(name, "..") == 0)) {
		ebcc__oci_config_free(c);
		return -1;
	}
	if (name != NULL)
		*ret = strcmp(name, "config.json") == 0 ? "config.json"
		       : strcmp(name, "ebcc.json") == 0 ? "ebcc.json"
							 : "absent";
	ebcc__oci_config_free(c);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_split in = fuzz_split(data, size);
	char display[PATH_MAX + 64], expected_msg[EBCC_ERROR_MESSAGE_MAX];
	struct ebcc_oci_config *c = NULL;
	struct ebcc_manifest *m = NULL;
	struct ebcc_bundle *b = NULL;
	const char *name;
	int expected, r;

	fuzz_begin(data, size);

	if (manifest_name(in.first, in.first_len, &name) < 0) {
		fuzz_split_free(&in);
		return -1; /* not worth keeping in the corpus */
	}
	write_file("config.json", in.first, in.first_len);
	write_file("ebcc.json", in.second, in.second_len);

	/* What the parsers say about the same texts, under the names the loader gives them. */
	snprintf(display, sizeof(display), "%s/config.json", bundle_dir);
	expected = ebcc__oci_config_parse(in.first, in.first_len, display, &c);
	if (expected == 0 && strcmp(name, "absent") == 0) {
		expected = EBCC_ERR_NOT_FOUND;
	} else if (expected == 0) {
		snprintf(display, sizeof(display), "%s/%s", bundle_dir, name);
		if (strcmp(name, "config.json") == 0)
			expected = ebcc__manifest_parse(in.first, in.first_len, display, &m);
		else
			expected = ebcc__manifest_parse(in.second, in.second_len, display, &m);
	}
	ebcc__error_save(expected_msg);

	fuzz_message_reset();
	r = ebcc__bundle_load(bundle_dir, &b);
	FUZZ_RESULT("ebcc__bundle_load", r, NULL, EBCC_ERR_INVALID_ARG, EBCC_ERR_NOT_FOUND,
		    EBCC_ERR_TOO_BIG, EBCC_ERR_NO_MEMORY);
	FUZZ_CHECK(r == expected, "the loader says %s, the parsers %s", ebcc_error_name(r),
		   ebcc_error_name(expected));
	if (r == EBCC_ERR_NOT_FOUND)
		FUZZ_CHECK(strstr(ebcc_last_error_message(), bundle_dir) != NULL,
			   "a missing manifest's message does not name the bundle");
	else if (r < 0)
		FUZZ_CHECK(strcmp(ebcc_last_error_message(), expected_msg) == 0,
			   "the loader's message differs from the parser's: %s", expected_msg);
	if (r == 0) {
		FUZZ_CHECK(b->config_len == in.first_len &&
				   memcmp(b->config_text, in.first, in.first_len) == 0 &&
				   b->config_text[b->config_len] == '\0',
			   "config.json text not kept as it was read");
		FUZZ_CHECK(strcmp(b->config->oci_version, c->oci_version) == 0 &&
				   (b->config->process == NULL) == (c->process == NULL) &&
				   json_object_equal(b->config->annotations, c->annotations),
			   "the loaded config differs from the parsed one");
		FUZZ_CHECK(b->manifest->n_stages == m->n_stages, "stage counts differ");
		for (size_t i = 0; i < m->n_stages; i++)
			FUZZ_CHECK(strcmp(b->manifest->stages[i].name, m->stages[i].name) == 0 &&
					   strcmp(b->manifest->stages[i].image, m->stages[i].image) == 0,
				   "stage %zu differs", i);
		ebcc__bundle_free(b);
	}
	ebcc__oci_config_free(c);
	ebcc__manifest_free(m);
	fuzz_split_free(&in);
	return 0;
}
