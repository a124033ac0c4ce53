/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: sgx stage images (ebcc__sgx_image_parse, backends/sgx/image.c), which the library
 * reads from a bundle it does not trust at create and again at load. An input is the image.
 * Properties:
 *  - a refusal is EBCC_ERR_INVALID_ARG, EBCC_ERR_VERIFY (the SIGSTRUCT) or EBCC_ERR_NO_MEMORY,
 *    with a message naming the image, and leaves the image struct zeroed;
 *  - an accepted image's segments lie inside enclave.bin, which lies inside the input; its
 *    entry TCS is one of its TCS segments; its measurement is "sgx:" and the MRENCLAVE of
 *    its layout computed again; and its SIGSTRUCT verifies over that MRENCLAVE with the
 *    MRSIGNER it reports.
 */
#include "../../backends/sgx/image.h"
#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	return 0;
}

static bool zeroed(const struct ebcc__sgx_image *im)
{
	static const struct ebcc__sgx_image zero;

	return memcmp(im, &zero, sizeof(zero)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ebcc__sgx_image im = { 0 };
	uint8_t mrenclave[32], mrsigner[32];
	char want[EBCC_SGX_MEASUREMENT_SIZE];
	bool entry_is_tcs = false;
	int r = ebcc__sgx_image_parse(data, size, "fuzz.tar", &im);

	if (r < 0) {
		FUZZ_CHECK(r == EBCC_ERR_INVALID_ARG || r == EBCC_ERR_VERIFY ||
				   r == EBCC_ERR_NO_MEMORY, "code %d", r);
		FUZZ_CHECK(r == EBCC_ERR_NO_MEMORY ||
				   strncmp(ebcc_last_error_message(), "fuzz.tar: ", 10) == 0,
			   "message does not name the image");
		FUZZ_CHECK(zeroed(&im), "a refused image left its struct filled");
		return 0;
	}
	FUZZ_CHECK(im.enclave >= data && im.enclave_len <= size - (size_t)(im.enclave - data),
		   "enclave.bin outside the input");
	for (size_t i = 0; i < im.n_segments; i++) {
		const struct ebcc__sgx_segment *s = &im.segments[i];

		FUZZ_CHECK(s->data == im.enclave + s->offset &&
				   s->offset + s->length <= im.enclave_len,
			   "segment %zu outside enclave.bin", i);
		if (s->offset == im.tcs_offset && (s->secinfo_flags & EBCC_SGX_SECINFO_TCS))
			entry_is_tcs = true;
	}
	FUZZ_CHECK(entry_is_tcs, "the entry 0x%llx is not a TCS segment",
		   (unsigned long long)im.tcs_offset);
	FUZZ_CHECK(ebcc__sgx_mrenclave(&im.layout, mrenclave) == 0, "measure");
	memcpy(want, "sgx:", 4);
	ebcc__hex_encode(mrenclave, sizeof(mrenclave), want + 4);
	FUZZ_CHECK(strcmp(want, im.measurement) == 0, "measurement %s, not %s", im.measurement,
		   want);
	FUZZ_CHECK(ebcc__sgx_sigstruct_check(im.sigstruct, mrenclave, mrsigner) == 0 &&
			   memcmp(mrsigner, im.mrsigner, 32) == 0,
		   "SIGSTRUCT accepted but does not verify");
	ebcc__sgx_image_clear(&im);
	return 0;
}
