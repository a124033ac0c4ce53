/* SPDX-License-Identifier: MIT */
/*
 * Enclave ids for process-based backends: a persistent counter in the backend's data directory,
 * advanced under flock(), so that ids are never reused under one state root, across processes.
 */
#ifndef EBCC_BACKEND_EID_H
#define EBCC_BACKEND_EID_H

#include <stdbool.h>
#include <stdint.h>

/* Files in the data directory. */
#define EBCC_EID_COUNTER_FILE "eid"
#define EBCC_EID_LOCK_FILE "eid.lock"

/* Returns the next id (1, 2, ...). Errors: EBCC_ERR_CORRUPT (the counter file is not a
 * number), EBCC_ERR_IO, EBCC_ERR_TOO_BIG (exhausted). */
int ebcc__eid_next(int data_dir_fd, bool durable, uint64_t *ret_eid);

#endif
