/* SPDX-License-Identifier: MIT */
/* SHA-256 of buffers and files, and the strict hex and base64 codecs used on disk and in
 * evidence. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "ebcc-base.h"

/* OpenSSL 3 looks a digest up in its provider store, under locks, every time EVP_sha256() is
 * used; the methods are fetched once instead and kept for the life of the process. */
static EVP_MD *sha256_md, *sha512_md;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_digests(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	sha512_md = EVP_MD_fetch(NULL, "SHA512", NULL);
}

__attribute__((destructor)) static void release_digests(void)
{
	EVP_MD_free(sha256_md);
	EVP_MD_free(sha512_md);
}

const EVP_MD *ebcc__md_sha256(void)
{
	pthread_once(&fetch_once, fetch_digests);
	return sha256_md != NULL ? sha256_md : EVP_sha256();
}

const EVP_MD *ebcc__md_sha512(void)
{
	pthread_once(&fetch_once, fetch_digests);
	return sha512_md != NULL ? sha512_md : EVP_sha512();
}

int ebcc__sha256(const void *data, size_t len, uint8_t out[EBCC_SHA256_SIZE])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, ebcc__md_sha256(), NULL) != 1 || n != EBCC_SHA256_SIZE)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "SHA-256 failed (OpenSSL)");
	return 0;
}

int ebcc__sha256_fd_max(int fd, const char *display, uint64_t max, uint8_t out[EBCC_SHA256_SIZE])
{
	EVP_MD_CTX *md;
	uint8_t buf[65536];
	unsigned int n = 0;
	uint64_t offset = 0;
	struct stat st;
	int r = 0;

	/* A sparse file of any size costs nothing to make and minutes to hash: refused first. */
	if (fstat(fd, &st) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "stat %s", display);
	if (st.st_size > 0 && (uint64_t)st.st_size > max)
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s is %jd bytes, more than the %" PRIu64
				   " bytes allowed", display, (intmax_t)st.st_size, max);
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, ebcc__md_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "SHA-256 init failed (OpenSSL)");
	}
	for (;;) {
		ssize_t got = pread(fd, buf, sizeof(buf), (off_t)offset);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = ebcc__error_errno(EBCC_ERR_IO, errno, "read %s", display);
			break;
		}
		if (got == 0)
			break;
		if ((uint64_t)got > max - offset) {
			r = ebcc__error(EBCC_ERR_TOO_BIG, "%s: more than the %" PRIu64 " bytes "
					"allowed could be read (it grew while it was hashed)",
					display, max);
			break;
		}
		if (EVP_DigestUpdate(md, buf, (size_t)got) != 1) {
			r = ebcc__error(EBCC_ERR_NO_MEMORY, "SHA-256 update failed (OpenSSL)");
			break;
		}
		offset += (uint64_t)got;
	}
	if (r == 0 && (EVP_DigestFinal_ex(md, out, &n) != 1 || n != EBCC_SHA256_SIZE))
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "SHA-256 final failed (OpenSSL)");
	EVP_MD_CTX_free(md);
	return r;
}

int ebcc__sha256_fd(int fd, const char *display, uint8_t out[EBCC_SHA256_SIZE])
{
	return ebcc__sha256_fd_max(fd, display, EBCC_STAGE_IMAGE_MAX, out);
}

void ebcc__hex_encode(const void *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hex_value(char c, bool either_case)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (either_case && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_size,
		      size_t *ret_len, bool either_case)
{
	if (hex_len % 2 != 0 || hex_len / 2 > out_size)
		return -EINVAL;
	for (size_t i = 0; i < hex_len / 2; i++) {
		int hi = hex_value(hex[2 * i], either_case);
		int lo = hex_value(hex[2 * i + 1], either_case);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret_len = hex_len / 2;
	return 0;
}

int ebcc__hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_size,
		     size_t *ret_len)
{
	/* Upper case is refused: one spelling per value in what the library reads back. */
	return hex_decode(hex, hex_len, out, out_size, ret_len, false);
}

int ebcc__hex_decode_either_case(const char *hex, size_t hex_len, uint8_t *out,
				 size_t out_size, size_t *ret_len)
{
	return hex_decode(hex, hex_len, out, out_size, ret_len, true);
}

void ebcc__measurement_format(const uint8_t digest[EBCC_SHA256_SIZE],
			      char out[EBCC_SHA256_MEASUREMENT_MAX])
{
	memcpy(out, "sha256:", 7);
	ebcc__hex_encode(digest, EBCC_SHA256_SIZE, out + 7);
}

bool ebcc__measurement_valid(const char *text)
{
	uint8_t raw[EBCC_SHA256_SIZE];
	size_t n;

	uint8_t ks[64];

	/* keystone: Keystone's enclave hash (SHA3-512), which only that backend computes. */
	if (strncmp(text, "keystone:", 9) == 0)
		return strlen(text) == 9 + 2 * sizeof(ks) &&
		       ebcc__hex_decode(text + 9, 2 * sizeof(ks), ks, sizeof(ks), &n) == 0;
	/* sgx: MRENCLAVE, which only that backend computes (SHA-256 of the enclave's
	 * creation records, not of the file). */
	if (strncmp(text, "sgx:", 4) == 0)
		return strlen(text) == 4 + 2 * EBCC_SHA256_SIZE &&
		       ebcc__hex_decode(text + 4, 2 * EBCC_SHA256_SIZE, raw, sizeof(raw), &n) == 0;
	return strncmp(text, "sha256:", 7) == 0 && strlen(text) == 7 + 2 * EBCC_SHA256_SIZE &&
	       ebcc__hex_decode(text + 7, 2 * EBCC_SHA256_SIZE, raw, sizeof(raw), &n) == 0;
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *ebcc__base64_encode(const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t out_len = 4 * ((len + 2) / 3);
	char *out = malloc(out_len + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = b64_alphabet[(v >> 18) & 63];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	const char *p = c != '\0' ? strchr(b64_alphabet, c) : NULL;

	return p != NULL ? (int)(p - b64_alphabet) : -1;
}

/* Strict RFC 4648 base64: padded, no whitespace, no bits set beyond the data. */
int ebcc__base64_decode(const char *text, size_t text_len, uint8_t **ret_data, size_t *ret_len)
{
	size_t pad = 0, out_len, o = 0;
	uint8_t *out;

	if (text_len % 4 != 0)
		return -EINVAL;
	if (text_len > 0 && text[text_len - 1] == '=')
		pad = text_len > 1 && text[text_len - 2] == '=' ? 2 : 1;
	out_len = text_len / 4 * 3 - pad;
	out = malloc(out_len > 0 ? out_len : 1);
	if (out == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < text_len; i += 4) {
		bool last = i + 4 == text_len;
		int v[4];
		uint32_t w;

		for (int k = 0; k < 4; k++) {
			bool is_pad = last && k >= 4 - (int)pad;

			v[k] = is_pad ? (text[i + k] == '=' ? 0 : -1) : b64_value(text[i + k]);
			if (v[k] < 0) {
				free(out);
				return -EINVAL;
			}
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		if (last && ((pad == 2 && (w & 0xffff) != 0) || (pad == 1 && (w & 0xff) != 0))) {
			free(out); /* non-canonical: bits set under the padding */
			return -EINVAL;
		}
		out[o++] = (uint8_t)(w >> 16);
		if (o < out_len)
			out[o++] = (uint8_t)(w >> 8);
		if (o < out_len)
			out[o++] = (uint8_t)w;
	}
	*ret_data = out;
	*ret_len = out_len;
	return 0;
}
