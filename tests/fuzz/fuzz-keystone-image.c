/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: keystone stage images (ebcc__ks_image_parse, backends/keystone/image.c), which the
 * library reads from a bundle it does not trust at create and again at load. An input is the
 * image. Properties:
 *  - a refusal is EBCC_ERR_INVALID_ARG (or EBCC_ERR_NO_MEMORY) with a message naming the image;
 *  - an accepted image has the three files, none empty, each inside the input and after its
 *    own 512-byte header, not overlapping; its measurement is "keystone:" and Keystone's enclave
 *    hash of exactly those bytes; and every byte after the last file's padding is zero.
 */
#include "../../backends/keystone/image.h"
#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ebcc__ks_image im = { 0 };
	char want[EBCC_KS_MEASUREMENT_SIZE];
	uint8_t hash[EBCC_KS_MDSIZE];
	int r = ebcc__ks_image_parse(data, size, "fuzz.tar", &im);

	if (r < 0) {
		FUZZ_CHECK(r == EBCC_ERR_INVALID_ARG || r == EBCC_ERR_NO_MEMORY, "code %d", r);
		FUZZ_CHECK(r != EBCC_ERR_INVALID_ARG ||
				   strncmp(ebcc_last_error_message(), "fuzz.tar: ", 10) == 0,
			   "message does not name the image");
		return 0;
	}
	for (int i = 0; i < EBCC_KS_FILES; i++) {
		const uint8_t *p = im.files[i];

		FUZZ_CHECK(im.lens[i] > 0, "file %d empty", i);
		FUZZ_CHECK(p >= data + 512 && (size_t)(p - data) % 512 == 0 &&
				   im.lens[i] <= size - (size_t)(p - data),
			   "file %d outside the image", i);
		for (int j = 0; j < EBCC_KS_FILES; j++)
			FUZZ_CHECK(j == i || p + im.lens[i] <= im.files[j] - 512 ||
					   im.files[j] + im.lens[j] <= p - 512,
				   "files %d and %d overlap", i, j);
	}
	FUZZ_CHECK(ebcc__ks_measure(im.files, im.lens, hash) == 0, "measure");
	memcpy(want, "keystone:", 9);
	ebcc__hex_encode(hash, sizeof(hash), want + 9);
	FUZZ_CHECK(strcmp(want, im.measurement) == 0, "measurement %s, not %s", im.measurement,
		   want);
	return 0;
}
