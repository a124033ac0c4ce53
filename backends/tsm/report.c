/* SPDX-License-Identifier: MIT */
/* The ebcc.tsm.v1 report: made through configfs-tsm, encoded and decoded (see report.h). */
#include <string.h>

#include "bytes.h"
#include "report.h"
#include "ebcc-base.h"
#include "snp.h"

#define WHAT EBCC_TSM_FORMAT " report"

int ebcc__tsm_container_encode(const struct ebcc__tsm_container *c, uint8_t **ret,
			       size_t *ret_len)
{
	size_t len;
	uint8_t *buf, *p;

	if (ebcc__tsm_provider_name(c->provider) == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, WHAT ": no provider");
	if (c->outblob_len == 0 || c->outblob_len > EBCC_TSM_OUTBLOB_MAX)
		return ebcc__error(EBCC_ERR_TOO_BIG, WHAT ": an outblob of %zu bytes (1..%zu)",
				   c->outblob_len, EBCC_TSM_OUTBLOB_MAX);
	if (c->auxblob_len > EBCC_TSM_OUTBLOB_MAX)
		return ebcc__error(EBCC_ERR_TOO_BIG, WHAT ": an auxblob of %zu bytes (at most %zu)",
				   c->auxblob_len, EBCC_TSM_OUTBLOB_MAX);
	len = EBCC_TSM_CONTAINER_HEADER + 4 + c->outblob_len + 4 + c->auxblob_len;
	buf = malloc(len);
	if (buf == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	p = buf;
	memcpy(p, EBCC_TSM_CONTAINER_MAGIC, 4);
	p[4] = EBCC_TSM_CONTAINER_VERSION;
	p[5] = (uint8_t)c->provider;
	p[6] = p[7] = 0;
	p += EBCC_TSM_CONTAINER_HEADER;
	ebcc__put_le32(p, (uint32_t)c->outblob_len);
	memcpy(p + 4, c->outblob, c->outblob_len);
	p += 4 + c->outblob_len;
	ebcc__put_le32(p, (uint32_t)c->auxblob_len);
	if (c->auxblob_len > 0)
		memcpy(p + 4, c->auxblob, c->auxblob_len);
	*ret = buf;
	*ret_len = len;
	return 0;
}

int ebcc__tsm_container_decode(const uint8_t *data, size_t len, struct ebcc__tsm_container *ret)
{
	struct ebcc__tsm_container c = { 0 };
	size_t pos = EBCC_TSM_CONTAINER_HEADER;
	uint32_t n;

	if (data == NULL || len < EBCC_TSM_CONTAINER_HEADER + 8)
		return ebcc__error(EBCC_ERR_VERIFY, WHAT ": %zu bytes is too short", len);
	if (memcmp(data, EBCC_TSM_CONTAINER_MAGIC, 4) != 0)
		return ebcc__error(EBCC_ERR_VERIFY, WHAT ": no \"" EBCC_TSM_CONTAINER_MAGIC "\" magic");
	if (data[4] != EBCC_TSM_CONTAINER_VERSION)
		return ebcc__error(EBCC_ERR_VERIFY, WHAT ": version %u, only %d is understood",
				   data[4], EBCC_TSM_CONTAINER_VERSION);
	c.provider = (enum ebcc__tsm_provider)data[5];
	if (ebcc__tsm_provider_name(c.provider) == NULL)
		return ebcc__error(EBCC_ERR_VERIFY, WHAT ": provider %u is not 1 (tdx_guest) or 2 "
				   "(sev_guest)", data[5]);
	if (data[6] != 0 || data[7] != 0)
		return ebcc__error(EBCC_ERR_VERIFY, WHAT ": reserved bytes are not zero");
	n = ebcc__le32(data + pos);
	pos += 4;
	if (n == 0 || n > EBCC_TSM_OUTBLOB_MAX || n > len - pos)
		return ebcc__error(EBCC_ERR_VERIFY, WHAT ": outblob length %u at offset %zu does not "
				   "fit (1..%zu bytes, %zu left)",
				   n, pos - 4, EBCC_TSM_OUTBLOB_MAX, len - pos);
	c.outblob = data + pos;
	c.outblob_len = n;
	pos += n;
	if (len - pos < 4)
		return ebcc__error(EBCC_ERR_VERIFY, WHAT ": no auxblob length at offset %zu", pos);
	n = ebcc__le32(data + pos);
	pos += 4;
	if (n > EBCC_TSM_OUTBLOB_MAX || n != len - pos)
		return ebcc__error(EBCC_ERR_VERIFY, WHAT ": auxblob length %u at offset %zu, but %zu "
				   "bytes follow (at most %zu allowed)",
				   n, pos - 4, len - pos, EBCC_TSM_OUTBLOB_MAX);
	c.auxblob = n > 0 ? data + pos : NULL;
	c.auxblob_len = n;
	*ret = c;
	return 0;
}

int ebcc__tsm_report_make(const struct ebcc__hostops *host, const uint8_t *report_data,
			  size_t report_data_len, uint8_t **ret, size_t *ret_len,
			  unsigned *ret_attempts)
{
	struct ebcc__tsm_blobs blobs = { 0 };
	struct ebcc__tsm_container c;
	uint8_t *certs = NULL;
	size_t certs_len = 0;
	int r;

	r = ebcc__tsm_configfs_report(host, report_data, report_data_len, &blobs);
	if (r < 0)
		return r;
	c = (struct ebcc__tsm_container){
		.provider = blobs.provider,
		.outblob = blobs.outblob,
		.outblob_len = blobs.outblob_len,
		.auxblob = blobs.auxblob,
		.auxblob_len = blobs.auxblob_len,
	};
	if (blobs.provider == EBCC_TSM_PROVIDER_SNP) {
		/* Kept in the canonical form a verifier checks byte for byte. */
		r = ebcc__snp_certs_canonical(blobs.auxblob, blobs.auxblob_len, &certs, &certs_len);
		if (r < 0)
			r = ebcc__error_prefix(r, "auxblob of the sev_guest provider");
		c.auxblob = certs;
		c.auxblob_len = certs_len;
	}
	if (r == 0)
		r = ebcc__tsm_container_encode(&c, ret, ret_len);
	*ret_attempts = blobs.attempts;
	free(certs);
	ebcc__tsm_blobs_clear(&blobs);
	return r;
}
