/* SPDX-License-Identifier: MIT */
/*
 * The built-in backends, as the core (lib/registry.c) and white-box tests reach them. Each is
 * compiled against the public headers, the base layer and the support library only; this is
 * the only declaration the core includes from backends/.
 */
#ifndef EBCC_BACKENDS_BUILTIN_H
#define EBCC_BACKENDS_BUILTIN_H

#include "ebcc/backend.h"

/* Built-in backends, registered by every new context. Each returns its static table. */
const struct ebcc_backend_ops *ebcc__backend_sim_entry(void);
const struct ebcc_backend_ops *ebcc__backend_tsm_entry(void);
const struct ebcc_backend_ops *ebcc__backend_optee_entry(void);
const struct ebcc_backend_ops *ebcc__backend_keystone_entry(void);
const struct ebcc_backend_ops *ebcc__backend_sgx_entry(void);

/*
 * tsm (configfs-tsm) and optee (/dev/tee0) make every kernel call through a host operations
 * table (backends/common/hostops.h) given as their userdata: the built-ins registered by every
 * context have NULL, the real system under "/". White-box tests register them bound to a fake
 * kernel instead: a context holds one backend per name, so such a test first empties the
 * registry of a new context with ebcc__registry_free() and then registers what it needs (sim
 * again with ebcc_backend_register(ctx, ebcc__backend_sim_entry(), NULL)). host must outlive
 * ctx. Errors as ebcc_backend_register().
 */
struct ebcc__hostops;
int ebcc__backend_tsm_register(struct ebcc_context *ctx, const struct ebcc__hostops *host);
int ebcc__backend_optee_register(struct ebcc_context *ctx, const struct ebcc__hostops *host);
int ebcc__backend_keystone_register(struct ebcc_context *ctx, const struct ebcc__hostops *host);
int ebcc__backend_sgx_register(struct ebcc_context *ctx, const struct ebcc__hostops *host);

#endif
