/* SPDX-License-Identifier: MIT */
/*
 * The part of crun's handler ABI that libcrun-ebcc uses, as crun 1.8.1 defines it
 * (src/libcrun/custom-handler.h, container.h, error.h). crun exports no symbols a plugin could
 * link against and ships no headers, so the plugin declares what it touches and nothing else:
 * the callback table, the configure phases, the leading fields of the context and the error
 * struct. The container struct and libocispec's config struct stay opaque (the helper reads the
 * bundle's config.json itself).
 */
#ifndef EBCC_CRUN_ABI_H
#define EBCC_CRUN_ABI_H

/* crun frees both the struct and msg with free(). */
struct crun_error {
	int status; /* an errno value, or 0 */
	char *msg;
};

/* libcrun_context_t: only the leading three pointers are read; the rest of the struct has
 * changed between crun releases. state_root is NULL when crun was given no --root. */
struct crun_context_prefix {
	const char *state_root;
	const char *id;
	const char *bundle;
};

/* enum handler_configure_phase. Later crun releases add phases (BEFORE_USERNS = 4): a handler
 * ignores the ones it does not know. */
enum {
	CRUN_CONFIGURE_BEFORE_MOUNTS = 1,
	CRUN_CONFIGURE_AFTER_MOUNTS = 2,
	CRUN_CONFIGURE_MOUNTS = 3,
};

/* struct custom_handler_s of crun 1.8.1. Later releases append callbacks (close_fds in 1.27):
 * the plugin's table is followed by zeroed space, so that a newer crun reads NULLs there. */
struct crun_handler {
	const char *name;
	const char *feature_string;
	const char *alias;
	int (*load)(void **cookie, struct crun_error **err);
	int (*unload)(void *cookie, struct crun_error **err);
	int (*run_func)(void *cookie, void *container, const char *pathname, char *const argv[]);
	int (*exec_func)(void *cookie, void *container, const char *pathname, char *const argv[]);
	int (*configure_container)(void *cookie, int phase, struct crun_context_prefix *context,
				   void *container, const char *rootfs, struct crun_error **err);
	int (*can_handle_container)(void *container, struct crun_error **err);
	int (*modify_oci_configuration)(void *cookie, struct crun_context_prefix *context,
					void *def, struct crun_error **err);
};

#endif /* EBCC_CRUN_ABI_H */
