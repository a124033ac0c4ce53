/* SPDX-License-Identifier: MIT */
/* Context options: defaults, validation and their text form. One table row per key. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ebcc-private.h"
#include "../backends/common/sandbox-pool.h"

static int absolute_path(const char *key, const char *value)
{
	size_t len = strlen(value);

	if (value[0] != '/')
		return ebcc__error(EBCC_ERR_INVALID_ARG, "option %s: \"%s\" is not an absolute path",
				   key, value);
	if (len >= EBCC_PATH_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "option %s: path of %zu bytes exceeds %d",
				   key, len, EBCC_PATH_MAX - 1);
	return 0;
}

static int replace_string(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory copying option value");
	free(*slot);
	*slot = copy;
	return 0;
}

static int set_state_root(struct ebcc_options *o, const char *key, const char *value)
{
	int r = absolute_path(key, value);

	return r < 0 ? r : replace_string(&o->state_root, value);
}

static int set_plugin_dir(struct ebcc_options *o, const char *key, const char *value)
{
	int r;

	if (*value == '\0') { /* "" turns plugin loading off */
		free(o->plugin_dir);
		o->plugin_dir = NULL;
		return 0;
	}
	r = absolute_path(key, value);
	return r < 0 ? r : replace_string(&o->plugin_dir, value);
}

static int set_default_backend(struct ebcc_options *o, const char *key, const char *value)
{
	if (!ebcc__backend_name_valid(value))
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "option %s: \"%s\" is not a backend name ([a-z0-9_-]{1,32})", key,
				   value);
	return replace_string(&o->default_backend, value);
}

static int set_durability(struct ebcc_options *o, const char *key, const char *value)
{
	if (strcmp(value, "none") == 0)
		o->durability = EBCC_DURABILITY_NONE;
	else if (strcmp(value, "fsync") == 0)
		o->durability = EBCC_DURABILITY_FSYNC;
	else
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "option %s: \"%s\" is not one of none, fsync", key, value);
	return 0;
}

static int set_artifacts(struct ebcc_options *o, const char *key, const char *value)
{
	if (strcmp(value, "full") == 0)
		o->artifacts = EBCC_ARTIFACTS_FULL;
	else if (strcmp(value, "digests") == 0)
		o->artifacts = EBCC_ARTIFACTS_DIGESTS;
	else
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "option %s: \"%s\" is not one of full, digests", key, value);
	return 0;
}

static int set_retention(struct ebcc_options *o, const char *key, const char *value)
{
	uint64_t n;

	if (strcmp(value, "unlimited") == 0) {
		o->retention = 0;
		return 0;
	}
	if (ebcc__parse_u64(value, 1, EBCC_RETENTION_MAX, &n) < 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "option %s: \"%s\" is not \"unlimited\" or an integer in 1..%u",
				   key, value, EBCC_RETENTION_MAX);
	o->retention = (uint32_t)n;
	return 0;
}

static int set_max_request(struct ebcc_options *o, const char *key, const char *value)
{
	uint64_t n;

	if (ebcc__parse_u64(value, 1, EBCC_MAX_REQUEST_CAP, &n) < 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "option %s: \"%s\" is not a byte count in 1..%" PRIu64, key, value,
				   EBCC_MAX_REQUEST_CAP);
	o->max_request = n;
	return 0;
}

static int set_anchor(struct ebcc_options *o, const char *key, const char *value)
{
	if (strcmp(value, "spawn") == 0)
		o->anchor_external = false;
	else if (strcmp(value, "external") == 0)
		o->anchor_external = true;
	else
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "option %s: \"%s\" is not one of spawn, external", key, value);
	return 0;
}

static int set_log_level(struct ebcc_options *o, const char *key, const char *value)
{
	int level = ebcc__log_level_parse(value);

	if (level < 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "option %s: \"%s\" is not one of err, warning, info, debug, 3..7",
				   key, value);
	o->log_level = level;
	return 0;
}

static int set_sandbox_pool(struct ebcc_options *o, const char *key, const char *value)
{
	uint64_t n;

	if (ebcc__parse_u64(value, 0, EBCC_SANDBOX_POOL_MAX, &n) < 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "option %s: \"%s\" is not a count of sandboxes in 0..%d", key,
				   value, EBCC_SANDBOX_POOL_MAX);
	o->sandbox_pool = (uint32_t)n;
	return 0;
}

static int set_sandbox_pool_idle_ms(struct ebcc_options *o, const char *key, const char *value)
{
	uint64_t n;

	if (ebcc__parse_u64(value, 1, EBCC_SANDBOX_POOL_IDLE_MAX_MS, &n) < 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "option %s: \"%s\" is not a time in milliseconds in 1..%d", key,
				   value, EBCC_SANDBOX_POOL_IDLE_MAX_MS);
	o->sandbox_pool_idle_ms = (uint32_t)n;
	return 0;
}

static void get_sandbox_pool(const struct ebcc_options *o, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu32, o->sandbox_pool);
}

static void get_sandbox_pool_idle_ms(const struct ebcc_options *o, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu32, o->sandbox_pool_idle_ms);
}

static const char *durability_names[] = {
	[EBCC_DURABILITY_NONE] = "none",
	[EBCC_DURABILITY_FSYNC] = "fsync",
};
static const char *artifacts_names[] = {
	[EBCC_ARTIFACTS_FULL] = "full",
	[EBCC_ARTIFACTS_DIGESTS] = "digests",
};
static const char *log_level_names[] = {
	[EBCC_LOG_ERR] = "err",
	[EBCC_LOG_WARNING] = "warning",
	[5] = "notice",
	[EBCC_LOG_INFO] = "info",
	[EBCC_LOG_DEBUG] = "debug",
};

static void get_anchor(const struct ebcc_options *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s", o->anchor_external ? "external" : "spawn");
}

static void get_state_root(const struct ebcc_options *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s", o->state_root != NULL ? o->state_root : "");
}

static void get_plugin_dir(const struct ebcc_options *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s", o->plugin_dir != NULL ? o->plugin_dir : "");
}

static void get_default_backend(const struct ebcc_options *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s", o->default_backend);
}

static void get_durability(const struct ebcc_options *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s", durability_names[o->durability]);
}

static void get_artifacts(const struct ebcc_options *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s", artifacts_names[o->artifacts]);
}

static void get_retention(const struct ebcc_options *o, char *buf, size_t size)
{
	if (o->retention == 0)
		snprintf(buf, size, "unlimited");
	else
		snprintf(buf, size, "%" PRIu32, o->retention);
}

static void get_max_request(const struct ebcc_options *o, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64, o->max_request);
}

static void get_log_level(const struct ebcc_options *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s", log_level_names[o->log_level]);
}

/* Sorted by key; the unknown-key message lists them in this order. */
static const struct option_row {
	const char *key;
	int (*set)(struct ebcc_options *o, const char *key, const char *value);
	/* Formats the current value into buf (at least EBCC_PATH_MAX + 1 bytes). */
	void (*get)(const struct ebcc_options *o, char *buf, size_t size);
} option_rows[] = {
	{ "anchor", set_anchor, get_anchor },
	{ "artifacts", set_artifacts, get_artifacts },
	{ "default_backend", set_default_backend, get_default_backend },
	{ "durability", set_durability, get_durability },
	{ "log_level", set_log_level, get_log_level },
	{ "max_request", set_max_request, get_max_request },
	{ "plugin_dir", set_plugin_dir, get_plugin_dir },
	{ "retention", set_retention, get_retention },
	{ "sandbox_pool", set_sandbox_pool, get_sandbox_pool },
	{ "sandbox_pool_idle_ms", set_sandbox_pool_idle_ms, get_sandbox_pool_idle_ms },
	{ "state_root", set_state_root, get_state_root },
};

static const struct option_row *find_row(const char *key)
{
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(option_rows); i++)
		if (strcmp(option_rows[i].key, key) == 0)
			return &option_rows[i];
	return NULL;
}

/* The message lists the keys from the table, so that it never falls behind it. */
static int unknown_key(const char *key)
{
	char known[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < EBCC_ARRAY_SIZE(option_rows); i++) {
		int n = snprintf(known + used, sizeof(known) - used, "%s%s", i > 0 ? ", " : "",
				 option_rows[i].key);

		if (n < 0 || (size_t)n >= sizeof(known) - used)
			break;
		used += (size_t)n;
	}
	return ebcc__error(EBCC_ERR_INVALID_ARG, "unknown option \"%.64s\" (known: %s)", key, known);
}

/* The default state root: /run/ebcc for root, else $XDG_RUNTIME_DIR/ebcc, else none. */
static int default_state_root(char **ret)
{
	const char *xdg;
	char path[EBCC_PATH_MAX];
	int n;

	*ret = NULL;
	if (geteuid() == 0)
		return replace_string(ret, "/run/ebcc");
	xdg = secure_getenv("XDG_RUNTIME_DIR");
	if (xdg == NULL || xdg[0] != '/')
		return 0;
	n = snprintf(path, sizeof(path), "%s/ebcc", xdg);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	return replace_string(ret, path);
}

int ebcc__options_init(struct ebcc_options *opts)
{
	*opts = (struct ebcc_options){
		.durability = EBCC_DURABILITY_NONE,
		.artifacts = EBCC_ARTIFACTS_FULL,
		.retention = 0,
		.max_request = EBCC_MAX_REQUEST_DEFAULT,
		.log_level = EBCC_LOG_WARNING,
		.sandbox_pool_idle_ms = EBCC_SANDBOX_POOL_IDLE_DEFAULT_MS,
	};
	if (default_state_root(&opts->state_root) < 0 ||
	    replace_string(&opts->default_backend, "sim") < 0 ||
	    replace_string(&opts->plugin_dir, EBCC_DEFAULT_PLUGIN_DIR) < 0) {
		ebcc__options_clear(opts);
		return EBCC_ERR_NO_MEMORY;
	}
	return 0;
}

void ebcc__options_clear(struct ebcc_options *opts)
{
	free(opts->state_root);
	free(opts->plugin_dir);
	free(opts->default_backend);
	*opts = (struct ebcc_options){ 0 };
}

int ebcc__options_set(struct ebcc_options *opts, const char *key, const char *value)
{
	const struct option_row *row = find_row(key);

	if (row == NULL)
		return unknown_key(key);
	return row->set(opts, key, value);
}

int ebcc__options_get(const struct ebcc_options *opts, const char *key, char **ret_value)
{
	const struct option_row *row = find_row(key);
	char buf[EBCC_PATH_MAX + 1];
	char *copy;

	if (row == NULL)
		return unknown_key(key);
	row->get(opts, buf, sizeof(buf));
	copy = strdup(buf);
	if (copy == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	*ret_value = copy;
	return 0;
}
