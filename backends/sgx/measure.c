/* SPDX-License-Identifier: MIT */
/* MRENCLAVE in software (records in measure.h). */
#include <inttypes.h>
#include <string.h>

#include <openssl/evp.h>

#include "bytes.h"
#include "ebcc-base.h"
#include "measure.h"

#define ERR EBCC_ERR_INVALID_ARG
#define TAG_ECREATE UINT64_C(0x0045544145524345)
#define TAG_EADD UINT64_C(0x0000000044444145)
#define TAG_EEXTEND UINT64_C(0x00444E4554584545)
#define SECINFO_PERMS (EBCC_SGX_SECINFO_R | EBCC_SGX_SECINFO_W | EBCC_SGX_SECINFO_X)
#define SECINFO_TYPE (UINT64_C(0xff) << 8)

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int ebcc__sgx_secinfo_check(uint64_t flags, size_t index)
{
	uint64_t type = flags & SECINFO_TYPE;

	if ((flags & ~(SECINFO_PERMS | SECINFO_TYPE)) != 0)
		return ebcc__error(ERR, "SGX segment %zu: SECINFO flags 0x%" PRIx64 " set reserved "
				   "bits", index, flags);
	if (type != EBCC_SGX_SECINFO_REG && type != EBCC_SGX_SECINFO_TCS)
		return ebcc__error(ERR, "SGX segment %zu: SECINFO page type %" PRIu64 " is neither "
				   "REG (2) nor TCS (1)", index, type >> 8);
	if ((flags & EBCC_SGX_SECINFO_W) != 0 && (flags & EBCC_SGX_SECINFO_R) == 0)
		return ebcc__error(ERR, "SGX segment %zu: SECINFO allows writing without reading",
				   index);
	if (type == EBCC_SGX_SECINFO_TCS && (flags & SECINFO_PERMS) != 0)
		return ebcc__error(ERR, "SGX segment %zu: a TCS page's SECINFO must give no "
				   "permissions", index);
	return 0;
}

static int check_layout(const struct ebcc__sgx_layout *l)
{
	uint64_t end_prev = 0;

	if (l->size < 2 * EBCC_SGX_PAGE_SIZE || (l->size & (l->size - 1)) != 0)
		return ebcc__error(ERR, "SGX enclave size 0x%" PRIx64 " is not a power of two of "
				   "at least two pages", l->size);
	if (l->ssa_frame_size == 0)
		return ebcc__error(ERR, "SGX enclave: SSA frame size 0");
	if (l->n_segments == 0)
		return ebcc__error(ERR, "SGX enclave without pages");
	for (size_t i = 0; i < l->n_segments; i++) {
		const struct ebcc__sgx_segment *s = &l->segments[i];
		int r;

		if (s->offset % EBCC_SGX_PAGE_SIZE != 0 || s->length % EBCC_SGX_PAGE_SIZE != 0 ||
		    s->length == 0)
			return ebcc__error(ERR, "SGX segment %zu: offset 0x%" PRIx64 " or length "
					   "0x%" PRIx64 " is not a non-zero multiple of the page "
					   "size", i, s->offset, s->length);
		if (s->offset > l->size || s->length > l->size - s->offset)
			return ebcc__error(ERR, "SGX segment %zu: 0x%" PRIx64 " bytes at 0x%" PRIx64
					   " end beyond the enclave's 0x%" PRIx64 " bytes",
					   i, s->length, s->offset, l->size);
		/* Segments in ascending order: an overlap would add a page twice. */
		if (i > 0 && s->offset < end_prev)
			return ebcc__error(ERR, "SGX segment %zu at 0x%" PRIx64 " overlaps or precedes "
					   "the one before it (which ends at 0x%" PRIx64 ")",
					   i, s->offset, end_prev);
		if (s->data == NULL)
			return ebcc__error(ERR, "SGX segment %zu has no data", i);
		r = ebcc__sgx_secinfo_check(s->secinfo_flags, i);
		if (r < 0)
			return r;
		end_prev = s->offset + s->length;
	}
	return 0;
}

static bool update(EVP_MD_CTX *md, const uint8_t r[64])
{
	return EVP_DigestUpdate(md, r, 64) == 1;
}

/* "ECREATE\0" || u32 SSAFRAMESIZE || u64 SIZE || zeros. */
static bool ecreate(EVP_MD_CTX *md, uint32_t ssa_frame_size, uint64_t size)
{
	uint8_t r[64] = { 0 };

	put64(r, TAG_ECREATE);
	for (int i = 0; i < 4; i++)
		r[8 + i] = (uint8_t)(ssa_frame_size >> (8 * i));
	put64(r + 12, size);
	return update(md, r);
}

/* tag || u64 offset || u64 second (EADD: the SECINFO flags; EEXTEND: 0) || zeros. */
static bool page_record(EVP_MD_CTX *md, uint64_t tag, uint64_t offset, uint64_t second)
{
	uint8_t r[64] = { 0 };

	put64(r, tag);
	put64(r + 8, offset);
	put64(r + 16, second);
	return update(md, r);
}

int ebcc__sgx_mrenclave(const struct ebcc__sgx_layout *layout, uint8_t ret[32])
{
	EVP_MD_CTX *md;
	unsigned int n = 0;
	bool ok;
	int r = check_layout(layout);

	if (r < 0)
		return r;
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	     ecreate(md, layout->ssa_frame_size, layout->size);
	for (size_t i = 0; ok && i < layout->n_segments; i++) {
		const struct ebcc__sgx_segment *s = &layout->segments[i];

		for (uint64_t page = 0; ok && page < s->length; page += EBCC_SGX_PAGE_SIZE) {
			ok = page_record(md, TAG_EADD, s->offset + page, s->secinfo_flags);
			for (uint64_t c = 0; ok && s->measure && c < EBCC_SGX_PAGE_SIZE;
			     c += EBCC_SGX_EEXTEND_CHUNK)
				ok = page_record(md, TAG_EEXTEND, s->offset + page + c, 0) &&
				     EVP_DigestUpdate(md, s->data + page + c,
						      EBCC_SGX_EEXTEND_CHUNK) == 1;
		}
	}
	ok = ok && EVP_DigestFinal_ex(md, ret, &n) == 1 && n == 32;
	EVP_MD_CTX_free(md);
	if (!ok)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "SHA-256 of the SGX enclave failed");
	return 0;
}
