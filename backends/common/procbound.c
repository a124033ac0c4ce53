/* SPDX-License-Identifier: MIT */
/* Warm stages bound to the process that loaded them (procbound.h). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ebcc-base.h"
#include "procbound.h"

#define REF_MAX 4096

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ebcc__procbound *table;

void ebcc__procbound_init(struct ebcc__procbound *b, const struct ebcc__procbound_kind *kind,
			  const void *host)
{
	*b = (struct ebcc__procbound){ .kind = kind, .host = host, .refcount = 1, .local = true,
				       .owner = getpid() };
	if (ebcc__proc_start_time(b->owner, &b->owner_start) < 0)
		b->owner_start = 0;
}

static struct ebcc__procbound *ref(struct ebcc__procbound *b)
{
	__atomic_add_fetch(&b->refcount, 1, __ATOMIC_RELAXED);
	return b;
}

void ebcc__procbound_unref(struct ebcc__procbound *b)
{
	if (__atomic_sub_fetch(&b->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		b->kind->free(b);
}

void ebcc__procbound_list(struct ebcc__procbound *b, uint64_t eid)
{
	pthread_mutex_lock(&table_lock);
	b->eid = eid;
	b->next_listed = table;
	b->listed = true;
	table = ref(b);
	pthread_mutex_unlock(&table_lock);
}

void ebcc__procbound_unlist(struct ebcc__procbound *b)
{
	bool was = false;

	pthread_mutex_lock(&table_lock);
	for (struct ebcc__procbound **p = &table; *p != NULL; p = &(*p)->next_listed) {
		if (*p == b) {
			*p = b->next_listed;
			b->listed = false;
			was = true;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	if (was)
		ebcc__procbound_unref(b);
}

static struct ebcc__procbound *find(const struct ebcc__procbound_kind *kind, const void *host,
				    uint64_t eid)
{
	struct ebcc__procbound *found = NULL;

	pthread_mutex_lock(&table_lock);
	for (struct ebcc__procbound *b = table; b != NULL && found == NULL; b = b->next_listed)
		if (b->kind == kind && b->host == host && b->eid == eid && b->owner == getpid())
			found = ref(b);
	pthread_mutex_unlock(&table_lock);
	return found;
}

int ebcc__procbound_ref(const struct ebcc__procbound *b, char **ret)
{
	if (asprintf(ret, "{\"pid\":%d,\"start_time\":%" PRIu64 ",\"eid\":%" PRIu64 "}",
		     (int)b->owner, b->owner_start, b->eid) < 0) {
		*ret = NULL;
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	return 0;
}

static int parse_ref(struct ebcc__procbound *b, const char *ref, const char *what)
{
	struct json_object *o = NULL, *v;
	int64_t pid = 0, start = -1;
	int r;

	r = ebcc__json_parse(ref, strnlen(ref, REF_MAX + 1), EBCC_ERR_CORRUPT, what, &o);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(o, "pid", &v) && json_object_is_type(v, json_type_int))
		pid = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "start_time", &v) && json_object_is_type(v, json_type_int))
		start = json_object_get_int64(v);
	json_object_put(o);
	if (pid <= 0 || pid > INT32_MAX || start < 0)
		return ebcc__error(EBCC_ERR_CORRUPT, "%s is not {\"pid\", \"start_time\", \"eid\"}: "
				   "%.200s", what, ref);
	b->local = false;
	b->owner = (pid_t)pid;
	b->owner_start = (uint64_t)start;
	return 0;
}

int ebcc__procbound_open(const struct ebcc__procbound_kind *kind, const void *host,
			 const struct ebcc_backend_stage_params *params, uint64_t eid,
			 const char *ref, size_t size, struct ebcc__procbound **ret, bool *ret_new)
{
	struct ebcc__procbound *b;
	char what[64];
	int r;

	if (params->lifetime != EBCC_LIFETIME_INSTANCE || ref == NULL)
		return ebcc__error(EBCC_ERR_NOT_FOUND, "stage %s: no %s to reach without its ref "
				   "(an enclave ends with the process that made it)",
				   params->stage_name, kind->what);
	b = find(kind, host, eid);
	if (b != NULL) {
		*ret = b;
		*ret_new = false;
		return 0;
	}
	b = calloc(1, size);
	if (b == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	ebcc__procbound_init(b, kind, host);
	b->eid = eid;
	snprintf(what, sizeof(what), "%s stage ref", kind->backend);
	r = parse_ref(b, ref, what);
	if (r < 0) {
		free(b); /* nothing of the kind's is in it yet */
		return r;
	}
	*ret = b;
	*ret_new = true;
	return 0;
}

void ebcc__procbound_set_dead(struct ebcc__procbound *b, const char *reason)
{
	b->dead = true;
	snprintf(b->dead_reason, sizeof(b->dead_reason), "%s", reason);
}

int ebcc__procbound_usable(const struct ebcc__procbound *b, const char *name)
{
	if (!b->local)
		return ebcc__proc_alive(b->owner, b->owner_start)
			       ? ebcc__error(EBCC_ERR_STAGE,
					     "%s: its %s belongs to process %d, which loaded the "
					     "stage; %s, so a warm %s stage is reached only from "
					     "that process (use lifetime \"invocation\" to invoke it "
					     "from any process)", name, b->kind->what, (int)b->owner,
					     b->kind->why, b->kind->backend)
			       : ebcc__error(EBCC_ERR_STAGE,
					     "%s is not running: process %d, which held its %s, has "
					     "exited and the %s ended with it (unload the stage and "
					     "load it again)", name, (int)b->owner, b->kind->what,
					     b->kind->what);
	if (b->dead)
		return ebcc__error(EBCC_ERR_STAGE, "%s is not running: %s", name, b->dead_reason);
	return 0;
}
