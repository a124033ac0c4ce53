/* SPDX-License-Identifier: MIT */
/* A completed invocation as the caller holds it: sequence number, response, evidence. */
#include <string.h>

#include "ebcc-private.h"

struct ebcc_invocation {
	int refcount; /* atomic */
	uint64_t seq;
	void *response;
	size_t response_len;
	struct ebcc_evidence *evidence;
};

int ebcc__invocation_new(uint64_t seq, struct ebcc_backend_buffer *response,
			 struct ebcc_evidence *ev, struct ebcc_invocation **ret)
{
	struct ebcc_invocation *inv = calloc(1, sizeof(*inv));

	if (inv == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	inv->refcount = 1;
	inv->seq = seq;
	inv->response = response->data; /* taken over */
	inv->response_len = response->len;
	response->data = NULL;
	response->len = 0;
	inv->evidence = ebcc_evidence_ref(ev);
	*ret = inv;
	return 0;
}

EBCC_EXPORT int ebcc_invocation_response(struct ebcc_invocation *inv, const void **ret_data,
					 size_t *ret_len)
{
	if (inv == NULL || ret_data == NULL || ret_len == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_invocation_response: %s is NULL",
				   inv == NULL ? "inv" : ret_data == NULL ? "ret_data" : "ret_len");
	*ret_data = inv->response_len > 0 ? inv->response : NULL;
	*ret_len = inv->response_len;
	return 0;
}

EBCC_EXPORT uint64_t ebcc_invocation_seq(struct ebcc_invocation *inv)
{
	if (inv == NULL) {
		ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_invocation_seq: inv is NULL");
		return 0;
	}
	return inv->seq;
}

EBCC_EXPORT int ebcc_invocation_evidence(struct ebcc_invocation *inv, struct ebcc_evidence **ret_ev)
{
	if (inv == NULL || ret_ev == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_invocation_evidence: %s is NULL",
				   inv == NULL ? "inv" : "ret_ev");
	*ret_ev = ebcc_evidence_ref(inv->evidence);
	return 0;
}

EBCC_EXPORT struct ebcc_invocation *ebcc_invocation_ref(struct ebcc_invocation *inv)
{
	if (inv != NULL)
		__atomic_add_fetch(&inv->refcount, 1, __ATOMIC_RELAXED);
	return inv;
}

EBCC_EXPORT struct ebcc_invocation *ebcc_invocation_unref(struct ebcc_invocation *inv)
{
	if (inv == NULL || __atomic_sub_fetch(&inv->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return NULL;
	ebcc_evidence_unref(inv->evidence);
	free(inv->response);
	free(inv);
	return NULL;
}
