/* SPDX-License-Identifier: MIT */
/*
 * The sealed-secret codec (lib/sealformat.c, shared by ebcc_secret_seal() and the stage
 * library): a header round trip, and every malformed blob refused with its own status before
 * anything is decrypted: truncated at every length, each field one byte too short or too long,
 * empty or oversized names, another magic or version, trailing bytes, a secret above 1 MiB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sealformat.h"

static const uint8_t rd[EBCC_SEAL_RD_SIZE] = { 1 }, pk[EBCC_SEAL_KEY_SIZE] = { 2 },
		     eph[EBCC_SEAL_KEY_SIZE] = { 3 }, iv[EBCC_SEAL_IV_SIZE] = { 4 };

/* A well-formed blob of instance, stage and measurement with ct_len bytes of ciphertext and
 * the tag (malloc, *ret_len bytes). */
static uint8_t *make(const char *instance, size_t instance_len, size_t ct_len, size_t *ret_len)
{
	struct ebcc_seal_blob b = {
		.instance = (const uint8_t *)instance, .instance_len = instance_len,
		.stage = (const uint8_t *)"vault", .stage_len = 5,
		.measurement = (const uint8_t *)"sha256:ab", .measurement_len = 9,
		.report_data = rd, .public_key = pk, .ephemeral_key = eph, .iv = iv,
		.ciphertext_len = ct_len,
	};
	size_t cap = EBCC_SEAL_HEADER_MAX + 4 + ct_len + EBCC_SEAL_TAG_SIZE + 64;
	uint8_t *out = calloc(1, cap);
	size_t n;

	assert_non_null(out);
	n = ebcc__seal_encode_header(&b, out, cap);
	assert_true(n > 0);
	memset(out + n + 4, 0xc5, ct_len + EBCC_SEAL_TAG_SIZE);
	*ret_len = n + 4 + ct_len + EBCC_SEAL_TAG_SIZE;
	return out;
}

static void round_trip(void **state)
{
	struct ebcc_seal_blob b;
	size_t len;
	uint8_t *blob = make("web", 3, 21, &len);

	(void)state;
	assert_int_equal(ebcc__seal_decode(blob, len, &b), EBCC_SEAL_OK);
	assert_memory_equal(b.instance, "web", 3);
	assert_int_equal(b.instance_len, 3);
	assert_int_equal(b.stage_len, 5);
	assert_int_equal(b.measurement_len, 9);
	assert_memory_equal(b.report_data, rd, sizeof(rd));
	assert_memory_equal(b.public_key, pk, sizeof(pk));
	assert_memory_equal(b.ephemeral_key, eph, sizeof(eph));
	assert_memory_equal(b.iv, iv, sizeof(iv));
	assert_int_equal(b.ciphertext_len, 21);
	assert_ptr_equal(b.tag, b.ciphertext + 21);
	/* The associated data is every byte before the last field's length. */
	assert_int_equal(b.ad_len, len - 4 - 21 - EBCC_SEAL_TAG_SIZE);
	free(blob);
	/* An empty secret is a tag alone. */
	blob = make("web", 3, 0, &len);
	assert_int_equal(ebcc__seal_decode(blob, len, &b), EBCC_SEAL_OK);
	assert_int_equal(b.ciphertext_len, 0);
	free(blob);
}

static void truncated_at_every_length(void **state)
{
	struct ebcc_seal_blob b;
	size_t len;
	uint8_t *blob = make("web", 3, 5, &len);

	(void)state;
	for (size_t n = 0; n < len; n++) {
		int st = ebcc__seal_decode(blob, n, &b);

		if (n < EBCC_SEAL_MAGIC_SIZE)
			assert_int_equal(st, EBCC_SEAL_BAD_MAGIC);
		else if (st != EBCC_SEAL_TRUNCATED && st != EBCC_SEAL_BAD_FIELD)
			fail_msg("%zu of %zu bytes: %s", n, len, ebcc__seal_status_text(st));
	}
	free(blob);
}

/* The offset of field i's length in a blob made by make(). */
static size_t field_at(const uint8_t *blob, int i)
{
	size_t at = EBCC_SEAL_MAGIC_SIZE + 4;

	for (int k = 0; k < i; k++)
		at += 4 + ((size_t)blob[at] << 24 | (size_t)blob[at + 1] << 16 |
			   (size_t)blob[at + 2] << 8 | blob[at + 3]);
	return at;
}

static void fields_of_the_wrong_length(void **state)
{
	static const char *const fixed_names[] = { "report_data", "public_key", "ephemeral_key",
						   "iv" };
	struct ebcc_seal_blob b;
	size_t len;
	uint8_t *blob = make("web", 3, 5, &len);
	char big[1100];

	(void)state;
	/* Each fixed field one byte shorter or longer, the rest shifted: that field is named. */
	for (int i = 3; i <= 6; i++)
		for (int delta = -1; delta <= 1; delta += 2) {
			uint8_t *bad = malloc(len + 1);
			size_t at = field_at(blob, i), n;

			assert_non_null(bad);
			n = (size_t)blob[at + 3];
			memcpy(bad, blob, at + 4);
			bad[at + 3] = (uint8_t)(n + (size_t)delta);
			memcpy(bad + at + 4, blob + at + 4, n);
			if (delta > 0) {
				bad[at + 4 + n] = 0;
				memcpy(bad + at + 5 + n, blob + at + 4 + n, len - at - 4 - n);
			} else {
				memcpy(bad + at + 3 + n, blob + at + 4 + n, len - at - 4 - n);
			}
			assert_int_equal(ebcc__seal_decode(bad, len + (size_t)delta, &b),
					 EBCC_SEAL_BAD_FIELD);
			assert_int_equal(b.bad_field, i);
			assert_string_equal(ebcc__seal_field_name(i), fixed_names[i - 3]);
			free(bad);
		}
	free(blob);
	/* An empty instance, one above 1024 bytes, a ciphertext shorter than its tag. */
	blob = make("", 0, 5, &len);
	assert_int_equal(ebcc__seal_decode(blob, len, &b), EBCC_SEAL_BAD_FIELD);
	assert_int_equal(b.bad_field, 0);
	free(blob);
	memset(big, 'a', sizeof(big));
	blob = make(big, 1025, 5, &len);
	assert_int_equal(ebcc__seal_decode(blob, len, &b), EBCC_SEAL_BAD_FIELD);
	assert_int_equal(b.bad_field, 0);
	free(blob);
	blob = make(big, 1024, 5, &len);
	assert_int_equal(ebcc__seal_decode(blob, len, &b), EBCC_SEAL_OK);
	{
		size_t at = field_at(blob, 7);

		blob[at + 3] = EBCC_SEAL_TAG_SIZE - 1;
		assert_int_equal(ebcc__seal_decode(blob, at + 4 + EBCC_SEAL_TAG_SIZE - 1, &b),
				 EBCC_SEAL_BAD_FIELD);
		assert_int_equal(b.bad_field, 7);
		assert_string_equal(ebcc__seal_field_name(7), "ciphertext");
	}
	free(blob);
}

static void other_magic_version_trailing_and_size(void **state)
{
	struct ebcc_seal_blob b;
	size_t len;
	uint8_t *blob = make("web", 3, 5, &len), *longer;

	(void)state;
	blob[0] = 'X';
	assert_int_equal(ebcc__seal_decode(blob, len, &b), EBCC_SEAL_BAD_MAGIC);
	blob[0] = 'E';
	blob[11] = 2;
	assert_int_equal(ebcc__seal_decode(blob, len, &b), EBCC_SEAL_BAD_VERSION);
	blob[11] = 1;
	assert_int_equal(ebcc__seal_decode(blob, 11, &b), EBCC_SEAL_TRUNCATED);
	longer = malloc(len + 1);
	assert_non_null(longer);
	memcpy(longer, blob, len);
	longer[len] = 0;
	assert_int_equal(ebcc__seal_decode(longer, len + 1, &b), EBCC_SEAL_TRAILING);
	free(longer);
	free(blob);
	/* A secret of 1 MiB is the largest; one byte more is refused as such. */
	blob = make("web", 3, EBCC_SEAL_SECRET_MAX, &len);
	assert_int_equal(ebcc__seal_decode(blob, len, &b), EBCC_SEAL_OK);
	free(blob);
	{
		struct ebcc_seal_blob big = { .instance = (const uint8_t *)"w", .instance_len = 1,
					      .stage = (const uint8_t *)"s", .stage_len = 1,
					      .measurement = (const uint8_t *)"m",
					      .measurement_len = 1, .report_data = rd,
					      .public_key = pk, .ephemeral_key = eph, .iv = iv,
					      .ciphertext_len = EBCC_SEAL_SECRET_MAX + 1 };
		size_t cap = EBCC_SEAL_HEADER_MAX + 4 + EBCC_SEAL_SECRET_MAX + 1 + EBCC_SEAL_TAG_SIZE;
		uint8_t *out = calloc(1, cap);
		size_t n;

		assert_non_null(out);
		/* The encoder refuses it; a blob that says so anyway is TOO_BIG. */
		assert_int_equal(ebcc__seal_encode_header(&big, out, cap), 0);
		big.ciphertext_len = 0;
		n = ebcc__seal_encode_header(&big, out, cap);
		assert_true(n > 0);
		out[n] = 0x00;
		out[n + 1] = 0x10;
		out[n + 2] = 0x00;
		out[n + 3] = 0x11; /* 1 MiB + 17 bytes: 1 MiB + 1 of secret and the tag */
		assert_int_equal(ebcc__seal_decode(out, n + 4 + EBCC_SEAL_SECRET_MAX + 1 +
							   EBCC_SEAL_TAG_SIZE,
						   &b),
				 EBCC_SEAL_TOO_BIG);
		free(out);
	}
	for (int st = EBCC_SEAL_TOO_BIG; st <= EBCC_SEAL_OK; st++)
		assert_true(strcmp(ebcc__seal_status_text(st), "unknown status") != 0);
	assert_string_equal(ebcc__seal_status_text(-99), "unknown status");
	assert_string_equal(ebcc__seal_field_name(8), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(truncated_at_every_length),
		cmocka_unit_test(fields_of_the_wrong_length),
		cmocka_unit_test(other_magic_version_trailing_and_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
