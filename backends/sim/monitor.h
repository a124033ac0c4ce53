/* SPDX-License-Identifier: MIT */
/*
 * The simulated security monitor (monitor.c): the sim backend's stage-side attestation
 * primitive. One process per stage holds the device key's signing secret and the measurement
 * and EID of the image the launcher loaded; only the stage holds the other end of its socket.
 */
#ifndef EBCC_SIM_MONITOR_H
#define EBCC_SIM_MONITOR_H

#include <stdbool.h>
#include <sys/types.h>

#include "report.h"

/*
 * Starts the monitor of one stage, signing for signer. *ret_stage_end is the stage's end of
 * the monitor's socket (close-on-exec; the sandbox hands it to the stage as descriptor 4): the
 * monitor exits when every copy of it is closed. With detach, it is forked twice and nobody
 * here waits for it (*ret_pid 0); else it is our child, *ret_pid, to reap once its stage is
 * gone; pool, when not NULL, may have forked it beforehand (not detach only). EBCC_ERR_IO,
 * EBCC_ERR_BACKEND.
 */
struct ebcc__sandbox_pool;
int ebcc__sim_monitor_start(const struct ebcc__sim_signer *signer, bool detach,
			    struct ebcc__sandbox_pool *pool, int *ret_stage_end, pid_t *ret_pid);

#endif
