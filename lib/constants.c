/* SPDX-License-Identifier: MIT */
/*
 * ebcc_constant(): the value of every integer macro of <ebcc/ebcc.h> and <ebcc/backend.h>, and
 * of every error code, by name, for bindings that have no C preprocessor (ctypes, cgo without
 * the headers). tests/python/test_constants.py compiles the headers to check this table is
 * complete and right.
 */
#include <string.h>

#include "ebcc-private.h"
#include "ebcc/backend.h"

struct constant {
	const char *name;
	int64_t value;
};

#define CONSTANT(name) { #name, (int64_t)(name) },
#define ERROR_CONSTANT(name, value, message) { #name, (value) },

static const struct constant constants[] = {
	/* <ebcc/ebcc.h> */
	CONSTANT(EBCC_VERSION_MAJOR) CONSTANT(EBCC_VERSION_MINOR) CONSTANT(EBCC_VERSION_MICRO)
	CONSTANT(EBCC_VERSION) CONSTANT(EBCC_OK)
	EBCC_ERROR_TABLE(ERROR_CONSTANT)
	CONSTANT(EBCC_LOG_ERR) CONSTANT(EBCC_LOG_WARNING) CONSTANT(EBCC_LOG_INFO)
	CONSTANT(EBCC_LOG_DEBUG)
	CONSTANT(EBCC_STATUS_CREATING) CONSTANT(EBCC_STATUS_CREATED) CONSTANT(EBCC_STATUS_RUNNING)
	CONSTANT(EBCC_STATUS_STOPPED)
	CONSTANT(EBCC_DELETE_FORCE)
	CONSTANT(EBCC_NONCE_MAX) CONSTANT(EBCC_TRACE_ID_MAX)
	CONSTANT(EBCC_CONTEXT_IGNORE_ENV)
	CONSTANT(EBCC_ANCHOR_CONTEXT) CONSTANT(EBCC_ANCHOR_SPAWN) CONSTANT(EBCC_ANCHOR_EXTERNAL)
	CONSTANT(EBCC_EVIDENCE_BACKEND) CONSTANT(EBCC_EVIDENCE_FORMAT) CONSTANT(EBCC_EVIDENCE_INSTANCE)
	CONSTANT(EBCC_EVIDENCE_STAGE) CONSTANT(EBCC_EVIDENCE_MEASUREMENT) CONSTANT(EBCC_EVIDENCE_EID)
	CONSTANT(EBCC_EVIDENCE_SEQ) CONSTANT(EBCC_EVIDENCE_SIMULATED) CONSTANT(EBCC_EVIDENCE_NONCE)
	CONSTANT(EBCC_EVIDENCE_REQUEST_DIGEST) CONSTANT(EBCC_EVIDENCE_RESPONSE_DIGEST)
	CONSTANT(EBCC_EVIDENCE_REPORT_DATA) CONSTANT(EBCC_EVIDENCE_REPORT)
	/* <ebcc/backend.h> */
	CONSTANT(EBCC_BACKEND_ABI_VERSION)
	CONSTANT(EBCC_ISOLATION_ENCLAVE) CONSTANT(EBCC_ISOLATION_VM) CONSTANT(EBCC_ISOLATION_EMBEDDED)
	CONSTANT(EBCC_BACKEND_SIMULATED) CONSTANT(EBCC_BACKEND_CONCURRENT_INVOKE)
	CONSTANT(EBCC_BACKEND_HOST_IN_TCB)
	CONSTANT(EBCC_LIFETIME_INSTANCE) CONSTANT(EBCC_LIFETIME_INVOCATION)
	CONSTANT(EBCC_REPORT_DATA_SIZE)
	CONSTANT(EBCC_BACKEND_DURABILITY_NONE) CONSTANT(EBCC_BACKEND_DURABILITY_FSYNC)
};

EBCC_EXPORT int ebcc_constant(const char *name, int64_t *ret_value)
{
	if (name == NULL || ret_value == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_constant: %s is NULL",
				   name == NULL ? "name" : "ret_value");
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(constants); i++)
		if (strcmp(constants[i].name, name) == 0) {
			*ret_value = constants[i].value;
			return 0;
		}
	return ebcc__error(EBCC_ERR_NOT_FOUND, "no integer constant named \"%.64s\"", name);
}
