/* SPDX-License-Identifier: MIT */
/*
 * The example stage images: where they are, and copying them into the demo's bundle. The copy
 * is hashed as it is written, so the measurement the manifest pins is that of the very bytes
 * the library will measure again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "demo.h"

/* Set by meson: where the stages are installed, and where this program and the stages are
 * built. The build tree's stages are used only by the binary in the build tree. */
#ifndef EBCC_DEMO_INSTALLED_STAGES_DIR
#error "EBCC_DEMO_INSTALLED_STAGES_DIR must be defined (the installed example stages)"
#endif
#ifndef EBCC_DEMO_BUILD_DIR
#define EBCC_DEMO_BUILD_DIR ""
#endif
#ifndef EBCC_DEMO_BUILD_STAGES_DIR
#define EBCC_DEMO_BUILD_STAGES_DIR ""
#endif

/* Whether this process's executable lives in the build directory it was compiled for. */
static int running_from_build_tree(void)
{
	char exe[PATH_MAX], build[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0 || EBCC_DEMO_BUILD_DIR[0] == '\0' || realpath(EBCC_DEMO_BUILD_DIR, build) == NULL)
		return 0;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return 0;
	*slash = '\0';
	return strcmp(exe, build) == 0;
}

const char *demo_stages_dir(const char *option, const char **ret_origin)
{
	const char *env = getenv("EBCC_DEMO_STAGES");

	if (option != NULL) {
		*ret_origin = "--stages";
		return option;
	}
	if (env != NULL && env[0] != '\0') {
		*ret_origin = "$EBCC_DEMO_STAGES";
		return env;
	}
	if (running_from_build_tree()) {
		*ret_origin = "the build tree";
		return EBCC_DEMO_BUILD_STAGES_DIR;
	}
	*ret_origin = "the installed stages";
	return EBCC_DEMO_INSTALLED_STAGES_DIR;
}

/* "sha256:<hex>" of a 32-byte digest, as libebcc writes measurements and digests. */
static void format_sha256(const unsigned char md[32], char out[DEMO_SHA256_TEXT])
{
	static const char digits[] = "0123456789abcdef";

	memcpy(out, "sha256:", 7);
	for (size_t i = 0; i < 32; i++) {
		out[7 + 2 * i] = digits[md[i] >> 4];
		out[7 + 2 * i + 1] = digits[md[i] & 15];
	}
	out[DEMO_SHA256_TEXT - 1] = '\0';
}

void demo_sha256_text(const void *data, size_t len, char out[DEMO_SHA256_TEXT])
{
	unsigned char md[32];
	unsigned int md_len = 0;

	EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL);
	format_sha256(md, out);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* "a/b", from malloc(); NULL when out of memory. */
static char *path_join(const char *a, const char *b)
{
	size_t len = strlen(a) + 1 + strlen(b) + 1;
	char *out = malloc(len);

	if (out != NULL)
		snprintf(out, len, "%s/%s", a, b);
	return out;
}

int demo_image_copy(const char *dir, const char *name, const char *bundle, uint64_t *ret_size,
		    char measurement[DEMO_SHA256_TEXT])
{
	char *src = NULL, *stages = NULL, *dst = NULL, buf[65536];
	unsigned char md[32];
	unsigned int md_len = 0;
	EVP_MD_CTX *sha = NULL;
	int in = -1, out = -1, r = -1, saved;
	uint64_t size = 0;

	src = path_join(dir, name);
	stages = path_join(bundle, "stages");
	dst = stages != NULL ? path_join(stages, name) : NULL;
	if (src == NULL || dst == NULL) {
		errno = ENOMEM;
		goto out;
	}
	if (mkdir(stages, 0755) < 0 && errno != EEXIST)
		goto out;
	in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (in < 0)
		goto out;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0755);
	if (out < 0)
		goto out;
	sha = EVP_MD_CTX_new();
	if (sha == NULL || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1) {
		errno = ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (write_all(out, buf, (size_t)n) < 0)
			goto out;
		EVP_DigestUpdate(sha, buf, (size_t)n);
		size += (uint64_t)n;
	}
	r = close(out);
	out = -1;
	if (r < 0)
		goto out;
	EVP_DigestFinal_ex(sha, md, &md_len);
	format_sha256(md, measurement);
	*ret_size = size;
	r = 0;
out:
	saved = errno;
	EVP_MD_CTX_free(sha);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(src);
	free(stages);
	free(dst);
	errno = saved;
	return r;
}
