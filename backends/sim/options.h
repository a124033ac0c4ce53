/* SPDX-License-Identifier: MIT */
/*
 * What the sim backend reads from the documents it is handed: nothing. Its stages take no
 * backendOptions in the manifest and its reports no backend_options.sim in a policy, so any key
 * there is refused, naming the backend and the key, instead of being silently ignored.
 */
#ifndef EBCC_SIM_OPTIONS_H
#define EBCC_SIM_OPTIONS_H

struct ebcc_backend_report_check;

/* A check's backend_options.sim (absent, or an empty object). Errors: EBCC_ERR_VERIFY
 * ("policy: backend_options.sim: unknown key ..."), EBCC_ERR_NO_MEMORY. */
int ebcc__sim_policy_options_check(const struct ebcc_backend_report_check *check);

#endif
