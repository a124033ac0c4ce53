/* SPDX-License-Identifier: MIT */
/* The TEE sessions this process holds (see sessions.h). */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "sessions.h"

#define SESSIONS_MAX 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ebcc__optee_session *listed[SESSIONS_MAX];

void ebcc__optee_sessions_add(struct ebcc__optee_session *s)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		if (listed[i] == NULL) {
			listed[i] = s;
			s->listed = true;
			s->refcount++;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
}

struct ebcc__optee_session *ebcc__optee_sessions_find(const struct ebcc__hostops *host,
						      uint32_t session)
{
	struct ebcc__optee_session *found = NULL;
	pid_t self = getpid();

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SESSIONS_MAX && found == NULL; i++) {
		struct ebcc__optee_session *s = listed[i];

		if (s != NULL && s->host == host && s->session == session && s->owner == self &&
		    !s->closed) {
			s->refcount++;
			found = s;
		}
	}
	pthread_mutex_unlock(&lock);
	return found;
}

void ebcc__optee_sessions_remove(struct ebcc__optee_session *s)
{
	bool drop = false;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		if (listed[i] == s) {
			listed[i] = NULL;
			s->listed = false;
			drop = true;
		}
	}
	pthread_mutex_unlock(&lock);
	if (drop)
		ebcc__optee_session_unref(s);
}

int ebcc__optee_session_close(struct ebcc__optee_session *s)
{
	int r = 0;

	pthread_mutex_lock(&lock);
	if (!s->closed && s->owner == getpid()) {
		if (s->local && s->dev.fd >= 0)
			r = ebcc__teedev_close_session(&s->dev, s->session);
		ebcc__teedev_close(&s->dev);
	}
	s->closed = true;
	pthread_mutex_unlock(&lock);
	return r;
}

struct ebcc__optee_session *ebcc__optee_session_ref(struct ebcc__optee_session *s)
{
	pthread_mutex_lock(&lock);
	s->refcount++;
	pthread_mutex_unlock(&lock);
	return s;
}

void ebcc__optee_session_unref(struct ebcc__optee_session *s)
{
	bool last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&lock);
	last = --s->refcount == 0;
	pthread_mutex_unlock(&lock);
	if (!last)
		return;
	/* Only the process that opened it may close it; a forked child leaves it alone. */
	if (!s->closed && s->owner == getpid())
		ebcc__optee_session_close(s);
	free(s->name);
	free(s);
}
