/* SPDX-License-Identifier: MIT */
/* Keystone's enclave measurement (measure.h). */
#include <openssl/evp.h>

#include "bytes.h"
#include "ebcc-base.h"
#include "measure.h"

static size_t page_up(size_t n)
{
	return (n + EBCC_KS_PAGE_SIZE - 1) & ~(size_t)(EBCC_KS_PAGE_SIZE - 1);
}

int ebcc__ks_measure(const uint8_t *const files[EBCC_KS_FILES],
		     const size_t lens[EBCC_KS_FILES], uint8_t out[EBCC_KS_MDSIZE])
{
	static const uint8_t zeros[EBCC_KS_PAGE_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t sizes[8 * EBCC_KS_FILES];
	unsigned int len = 0;
	int ok;

	if (ctx == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	for (int i = 0; i < EBCC_KS_FILES; i++)
		ebcc__put_le64(sizes + 8 * i, page_up(lens[i]));
	ok = EVP_DigestInit_ex(ctx, EVP_sha3_512(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, sizes, sizeof(sizes)) == 1;
	for (int i = 0; ok && i < EBCC_KS_FILES; i++) {
		size_t pad = page_up(lens[i]) - lens[i];

		ok = (lens[i] == 0 || EVP_DigestUpdate(ctx, files[i], lens[i]) == 1) &&
		     (pad == 0 || EVP_DigestUpdate(ctx, zeros, pad) == 1);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == EBCC_KS_MDSIZE;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "SHA3-512 failed (out of memory?)");
	return 0;
}
