/* SPDX-License-Identifier: MIT */
/* Quotes from Intel's quoting enclave through its quote library (qe.h). */
#include <errno.h>
#include <string.h>

#include "ebcc-base.h"
#include "qe.h"

#define QL_BASE 0xe000 /* SGX_QL_MK_ERROR(x) = 0xe000 | x */

/* quote3_error_t (Intel's sgx_ql_lib_common.h) up to 0xe01a, the codes of quote generation,
 * with meanings after Intel's comments; later ones (mostly of verification) by value. */
static const struct {
	const char *name, *meaning;
} ql_errors[] = {
	[0x01] = { "SGX_QL_ERROR_UNEXPECTED", "an unexpected error" },
	[0x02] = { "SGX_QL_ERROR_INVALID_PARAMETER", "a parameter is incorrect" },
	[0x03] = { "SGX_QL_ERROR_OUT_OF_MEMORY", "out of memory" },
	[0x04] = { "SGX_QL_ERROR_ECDSA_ID_MISMATCH", "the ECDSA_ID is not the ECDSA blob's" },
	[0x05] = { "SGX_QL_PATHNAME_BUFFER_OVERFLOW_ERROR", "the ECDSA blob's path is too long" },
	[0x06] = { "SGX_QL_FILE_ACCESS_ERROR", "the ECDSA blob cannot be accessed" },
	[0x07] = { "SGX_QL_ERROR_STORED_KEY", "the cached ECDSA key is invalid" },
	[0x08] = { "SGX_QL_ERROR_PUB_KEY_ID_MISMATCH",
		   "the cached ECDSA key is not the one asked for" },
	[0x09] = { "SGX_QL_ERROR_INVALID_PCE_SIG_SCHEME", "the PCE's signature scheme is wrong" },
	[0x0a] = { "SGX_QL_ATT_KEY_BLOB_ERROR", "the attestation key blob is bad" },
	[0x0b] = { "SGX_QL_UNSUPPORTED_ATT_KEY_ID", "the attestation key id is not supported" },
	[0x0c] = { "SGX_QL_UNSUPPORTED_LOADING_POLICY",
		   "the enclave loading policy is not supported" },
	[0x0d] = { "SGX_QL_INTERFACE_UNAVAILABLE", "the QE or PCE enclave cannot be loaded" },
	[0x0e] = { "SGX_QL_PLATFORM_LIB_UNAVAILABLE",
		   "no platform quote provider library (libdcap_quoteprov.so.1) with the functions "
		   "needed" },
	[0x0f] = { "SGX_QL_ATT_KEY_NOT_INITIALIZED",
		   "the attestation key does not exist or is not certified" },
	[0x10] = { "SGX_QL_ATT_KEY_CERT_DATA_INVALID",
		   "the certification data from the platform library is invalid" },
	[0x11] = { "SGX_QL_NO_PLATFORM_CERT_DATA",
		   "the platform library has no certification data (PCK certificate) for this "
		   "platform" },
	[0x12] = { "SGX_QL_OUT_OF_EPC", "not enough EPC to load the enclave" },
	[0x13] = { "SGX_QL_ERROR_REPORT", "an SGX REPORT could not be verified" },
	[0x14] = { "SGX_QL_ENCLAVE_LOST", "the enclave was lost (a power transition, or fork())" },
	[0x15] = { "SGX_QL_INVALID_REPORT",
		   "the QE refused the application enclave's REPORT: its MAC does not verify with "
		   "the QE's report key (a REPORT not made by EREPORT on this CPU for the QE's "
		   "TARGETINFO, or altered since)" },
	[0x16] = { "SGX_QL_ENCLAVE_LOAD_ERROR",
		   "the enclaves cannot be loaded (file I/O, the loader, or no SGX)" },
	[0x17] = { "SGX_QL_UNABLE_TO_GENERATE_QE_REPORT",
		   "the QE cannot make its own report for the application enclave" },
	[0x18] = { "SGX_QL_KEY_CERTIFCATION_ERROR",
		   "the provider library returned an invalid (too high) TCB" },
	[0x19] = { "SGX_QL_NETWORK_ERROR", "a network error retrieving the PCK certificates" },
	[0x1a] = { "SGX_QL_MESSAGE_ERROR", "a message error retrieving the PCK certificates" },
};

/* The host operation's result r of fn as an error. */
static int fail(const char *fn, int r)
{
	unsigned int i = (unsigned int)r - QL_BASE;

	if (r == -ENOENT)
		return ebcc__error(EBCC_ERR_UNAVAILABLE, "%s: no libsgx_dcap_ql.so.1 with "
				   "sgx_qe_get_target_info, sgx_qe_get_quote_size and "
				   "sgx_qe_get_quote: Intel's DCAP quote library, not in Debian, "
				   "which the sgx backend loads at run time (Intel's package "
				   "libsgx-dcap-ql)", fn);
	if (r == -ENOSYS)
		return ebcc__error(EBCC_ERR_UNAVAILABLE, "%s: these host operations have no SGX "
				   "quote library", fn);
	if (r == -ENOMEM)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	if (r == -EFBIG)
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s: the quote library sizes the quote above "
				   "%d bytes", fn, EBCC_HOST_SGX_QUOTE_MAX);
	if (r < 0)
		return ebcc__error(EBCC_ERR_BACKEND, "%s: %s", fn, strerror(-r));
	if (i < EBCC_ARRAY_SIZE(ql_errors) && ql_errors[i].name != NULL)
		return ebcc__error(EBCC_ERR_BACKEND, "%s: %s (0x%x): %s", fn, ql_errors[i].name,
				   (unsigned int)r, ql_errors[i].meaning);
	return ebcc__error(EBCC_ERR_BACKEND, "%s: quote3_error_t 0x%x, unknown to libebcc", fn,
			   (unsigned int)r);
}

int ebcc__sgx_qe_target_info(const struct ebcc__hostops *host,
			     uint8_t ret[EBCC_SGX_TARGETINFO_SIZE])
{
	int r = ebcc__host_sgx_qe_target_info(host, ret);

	return r == 0 ? 0 : fail("sgx_qe_get_target_info", r);
}

int ebcc__sgx_qe_quote(const struct ebcc__hostops *host,
		       const uint8_t report[EBCC_SGX_REPORT_SIZE], uint8_t **ret, size_t *ret_len)
{
	int r = ebcc__host_sgx_qe_quote(host, report, ret, ret_len);

	/* One operation makes both calls: the code does not say which of them failed. */
	return r == 0 ? 0 : fail("sgx_qe_get_quote_size or sgx_qe_get_quote", r);
}
