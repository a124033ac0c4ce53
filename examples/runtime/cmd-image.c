/* SPDX-License-Identifier: MIT */
/*
 * encrypt-image and load-request: encrypted stage images (ebcc-secrets(7)). The image owner
 * encrypts a payload with a fresh key and keeps the key; after verifying the loader stage's
 * evidence it seals that key to the stage (`seal`), and the host, which sees neither the key
 * nor the payload, hands the stage the load request made here (`invoke --in`). The stage
 * decrypts it inside the TEE (ebcc_stage_load_image()). The formats are the man page's,
 * written here as any other implementation would (this program uses the public API only).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "runtime.h"

#define IMAGE_MAGIC "EBCCEI01"
#define IMAGE_IV_SIZE 12
#define IMAGE_HEADER_SIZE (8 + IMAGE_IV_SIZE + 8)
#define IMAGE_TAG_SIZE 16
#define IMAGE_KEY_SIZE 32
#define LOAD_MAGIC "EBCCLD01"
#define LOAD_HEADER_SIZE (8 + 4)
#define PAYLOAD_MAX ((size_t)64 << 20) /* read whole into memory, like every input here */
#define SEALED_MAX ((size_t)64 << 10)  /* a sealed 32-byte key is a few hundred bytes */

static void put_be(uint8_t *out, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

/* A new key file (0600): an existing one is never overwritten, since the image it opens would be
 * lost with it. 0 or -1 (reported). */
static int write_new_key(const char *path, const uint8_t *key, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	ssize_t n;
	int saved;

	if (fd < 0)
		return rt_fail_plain("encrypt-image: --key-out %s: %s%s", path, strerror(errno),
				     errno == EEXIST ? " (an existing key is never overwritten)" : ""),
		       -1;
	n = write(fd, key, len);
	saved = errno;
	if (close(fd) < 0 && n == (ssize_t)len) {
		n = -1;
		saved = errno;
	}
	if (n != (ssize_t)len) {
		rt_fail_plain("encrypt-image: writing %s: %s", path,
			      n < 0 ? strerror(saved) : "short write");
		unlink(path);
		return -1;
	}
	return 0;
}

/* AES-256-GCM of plain into image (IMAGE_HEADER_SIZE + len + IMAGE_TAG_SIZE bytes). */
static int encrypt(const uint8_t key[IMAGE_KEY_SIZE], const void *plain, size_t len,
		   uint8_t *image)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	memcpy(image, IMAGE_MAGIC, 8);
	put_be(image + 8 + IMAGE_IV_SIZE, len, 8);
	ok = c != NULL && RAND_bytes(image + 8, IMAGE_IV_SIZE) == 1 &&
	     EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, IMAGE_IV_SIZE, NULL) == 1 &&
	     EVP_EncryptInit_ex(c, NULL, NULL, key, image + 8) == 1 &&
	     EVP_EncryptUpdate(c, NULL, &n, image, IMAGE_HEADER_SIZE) == 1 &&
	     (len == 0 || EVP_EncryptUpdate(c, image + IMAGE_HEADER_SIZE, &n, plain, (int)len) == 1) &&
	     EVP_EncryptFinal_ex(c, image + IMAGE_HEADER_SIZE + len, &n) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, IMAGE_TAG_SIZE,
				 image + IMAGE_HEADER_SIZE + len) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

static int encrypt_image_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "key-out", required_argument, NULL, 'k' },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	const char *in = "-", *out = NULL, *key_out = NULL;
	uint8_t key[IMAGE_KEY_SIZE], digest[32], *image = NULL;
	char *plain = NULL, hex[65];
	size_t len = 0;
	unsigned int digest_len = 0;
	int c, code = RT_EXIT_FAIL;

	while ((c = rt_getopt(rt, argc, argv, "i:o:k:", opts)) != -1) {
		switch (c) {
		case 'i':
			in = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'k':
			key_out = optarg;
			break;
		default:
			return rt_getopt_exit(c);
		}
	}
	if (rt_operands(rt, argc, argv, 0, 0, NULL) < 0)
		return RT_EXIT_FAIL;
	if (out == NULL || key_out == NULL)
		return rt_usage_error(rt, "missing --%s", out == NULL ? "out" : "key-out");
	if (strcmp(out, "-") == 0 || strcmp(key_out, "-") == 0 || strcmp(out, key_out) == 0)
		return rt_usage_error(rt, "--out and --key-out must be two files");
	if (rt_read_file(in, PAYLOAD_MAX, &plain, &len) < 0)
		return RT_EXIT_FAIL;
	image = malloc(IMAGE_HEADER_SIZE + len + IMAGE_TAG_SIZE);
	if (image == NULL) {
		rt_fail_plain("encrypt-image: out of memory for %zu bytes", len);
		goto out;
	}
	if (RAND_bytes(key, sizeof(key)) != 1 || encrypt(key, plain, len, image) < 0 ||
	    EVP_Digest(plain, len, digest, &digest_len, EVP_sha256(), NULL) != 1) {
		rt_fail_plain("encrypt-image: OpenSSL failed");
		goto out;
	}
	/* The key first: an image whose key was lost is worth nothing. */
	if (write_new_key(key_out, key, sizeof(key)) < 0 ||
	    rt_write_file(out, RT_OUT_STREAM, image, IMAGE_HEADER_SIZE + len + IMAGE_TAG_SIZE) < 0)
		goto out;
	rt_hex(digest, sizeof(digest), hex);
	printf("image_digest=sha256:%s\n", hex);
	code = RT_EXIT_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (plain != NULL)
		OPENSSL_cleanse(plain, len);
	free(plain);
	free(image);
	return code;
}

const struct rt_command rt_cmd_encrypt_image = {
	.name = "encrypt-image",
	.args = "--out IMAGE --key-out KEY [--in FILE|-]",
	.summary = "encrypt a payload for a loader stage with a fresh key (ebcc-secrets(7))",
	.help = "  -i, --in FILE       the payload, at most 64 MiB (default: - for stdin)\n"
		"  -o, --out FILE      the encrypted image (created 0600)\n"
		"  -k, --key-out FILE  its AES-256 key, 32 bytes (a new file, 0600; an existing\n"
		"                      one is refused): keep it off the host; release it with\n"
		"                      `seal` to an attested loader only\n"
		"Prints image_digest=sha256:<hex>, the digest the loader's evidence binds once it\n"
		"has loaded the payload (pin it as the policy's \"image_digest\").\n",
	.run = encrypt_image_run,
};

static int load_request_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sealed-key", required_argument, NULL, 's' },
		{ "image", required_argument, NULL, 'm' },
		{ "out", required_argument, NULL, 'o' },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	const char *sealed_path = NULL, *image_path = NULL, *out = "-";
	char *sealed = NULL, *image = NULL;
	uint8_t *request = NULL;
	size_t sealed_len = 0, image_len = 0;
	int c, code = RT_EXIT_FAIL;

	while ((c = rt_getopt(rt, argc, argv, "s:m:o:", opts)) != -1) {
		switch (c) {
		case 's':
			sealed_path = optarg;
			break;
		case 'm':
			image_path = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return rt_getopt_exit(c);
		}
	}
	if (rt_operands(rt, argc, argv, 0, 0, NULL) < 0)
		return RT_EXIT_FAIL;
	if (sealed_path == NULL || image_path == NULL)
		return rt_usage_error(rt, "missing --%s", sealed_path == NULL ? "sealed-key" : "image");
	if (rt_read_file(sealed_path, SEALED_MAX, &sealed, &sealed_len) < 0 ||
	    rt_read_file(image_path, IMAGE_HEADER_SIZE + PAYLOAD_MAX + IMAGE_TAG_SIZE, &image,
			 &image_len) < 0)
		goto out;
	/* Checked here only to name the file at fault; the stage checks everything again. */
	if (image_len < IMAGE_HEADER_SIZE + IMAGE_TAG_SIZE || memcmp(image, IMAGE_MAGIC, 8) != 0) {
		rt_fail_plain("load-request: --image %s is not an encrypted image (encrypt-image)",
			      image_path);
		goto out;
	}
	if (sealed_len < 8 || memcmp(sealed, "EBCCSEAL", 8) != 0) {
		rt_fail_plain("load-request: --sealed-key %s is not a sealed secret (seal)",
			      sealed_path);
		goto out;
	}
	request = malloc(LOAD_HEADER_SIZE + sealed_len + image_len);
	if (request == NULL) {
		rt_fail_plain("load-request: out of memory");
		goto out;
	}
	memcpy(request, LOAD_MAGIC, 8);
	put_be(request + 8, sealed_len, 4);
	memcpy(request + LOAD_HEADER_SIZE, sealed, sealed_len);
	memcpy(request + LOAD_HEADER_SIZE + sealed_len, image, image_len);
	if (rt_write_file(out, RT_OUT_STREAM, request, LOAD_HEADER_SIZE + sealed_len + image_len) < 0)
		goto out;
	code = RT_EXIT_OK;
out:
	free(sealed);
	free(image);
	free(request);
	return code;
}

const struct rt_command rt_cmd_load_request = {
	.name = "load-request",
	.args = "--sealed-key FILE --image IMAGE [--out FILE|-]",
	.summary = "make the request that loads an encrypted image into its stage",
	.help = "  -s, --sealed-key FILE  the image key, sealed to the loader (`seal` output)\n"
		"  -m, --image FILE       the encrypted image (`encrypt-image` output)\n"
		"  -o, --out FILE         the request (default: - for stdout), for `invoke --in`\n"
		"Needs no state root; the stage opens the key and the image (ebcc_stage_load_image).\n",
	.run = load_request_run,
};
