/* SPDX-License-Identifier: MIT */
/* An SGX enclave runtime's instructions for x86-64 stages under the fake SGX driver
 * (fake-sgx-shim.h). Test code. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/base/sgx-edge.h"
#include "../../lib/stage/sgx.h"
#include "fake-sgx-shim.h"

#define MAX_ENCLAVES 32

struct enclave {
	bool used, started, finished, gone;
	bool enclave_turn; /* who runs: the stage's thread or the host's */
	uint8_t *base;
	const struct fake_sgx_shim_main *main;
	pthread_t thread;
	struct fake_sgx_call *call; /* of the EENTER that runs now */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn = PTHREAD_COND_INITIALIZER;
static struct enclave enclaves[MAX_ENCLAVES];
static unsigned threads;
static __thread struct enclave *current;

static void wait_turn(struct enclave *e, bool enclave)
{
	while (e->enclave_turn != enclave && !(enclave && e->gone))
		pthread_cond_wait(&turn, &lock);
}

static void give_turn(struct enclave *e, bool enclave)
{
	e->enclave_turn = enclave;
	pthread_cond_broadcast(&turn);
}

void ebcc__sgx_entry_regs(void **rdi, size_t *rsi)
{
	/* No entry once the enclave is being released: the stage finds no channel. */
	*rdi = current->call != NULL ? (void *)current->call->rdi : NULL;
	*rsi = current->call != NULL ? current->call->rsi : 0;
}

int ebcc__sgx_exit(void)
{
	struct enclave *e = current;
	int r;

	pthread_mutex_lock(&lock);
	give_turn(e, false);
	wait_turn(e, true);
	r = e->gone ? -1 : 0;
	pthread_mutex_unlock(&lock);
	return r;
}

void ebcc__sgx_ereport(const uint8_t *target_info, const uint8_t report_data[64],
		       uint8_t *report)
{
	fake_sgx_ereport(current->call, target_info, report_data, report);
}

int ebcc__sgx_outside_enclave(const void *p, size_t len)
{
	const uint8_t *a = p;

	if (current->call == NULL)
		return 0;
	return a + len >= a &&
	       (a + len <= current->call->base || a >= current->call->base + current->call->size);
}

/* The runtime's exit when main() returns: EXIT and its status in the channel. */
static void exit_call(int status)
{
	void *rdi = NULL;
	size_t rsi = 0;
	uint8_t *ch;

	ebcc__sgx_entry_regs(&rdi, &rsi);
	ch = rdi;
	if (ch == NULL || rsi < EBCC_SGX_CHANNEL_HEADER + 4 ||
	    !ebcc__sgx_outside_enclave(ch, rsi))
		return;
	memset(ch, 0, 16);
	for (int i = 0; i < 4; i++) {
		ch[EBCC_SGX_CHANNEL_CALL + i] = (uint8_t)(EBCC_SGX_CALL_EXIT >> (8 * i));
		ch[EBCC_SGX_CHANNEL_HEADER + i] = (uint8_t)((unsigned)status >> (8 * i));
	}
	ch[EBCC_SGX_CHANNEL_ARG_LEN] = 4;
}

static void *stage_thread(void *arg)
{
	struct enclave *e = arg;
	int status;

	current = e;
	pthread_mutex_lock(&lock);
	wait_turn(e, true);
	pthread_mutex_unlock(&lock);
	status = e->gone ? 0 : e->main->main(e->main->userdata);
	pthread_mutex_lock(&lock);
	if (!e->gone)
		exit_call(status);
	e->finished = true;
	give_turn(e, false);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static struct enclave *find(uint8_t *base)
{
	for (int i = 0; i < MAX_ENCLAVES; i++)
		if (enclaves[i].used && enclaves[i].base == base)
			return &enclaves[i];
	return NULL;
}

void fake_sgx_shim_entry(struct fake_sgx_call *call, void *userdata)
{
	struct enclave *e;

	pthread_mutex_lock(&lock);
	e = find(call->base);
	if (e == NULL) {
		for (int i = 0; i < MAX_ENCLAVES && e == NULL; i++)
			if (!enclaves[i].used)
				e = &enclaves[i];
		if (e == NULL)
			abort();
		*e = (struct enclave){ .used = true, .base = call->base, .main = userdata };
	}
	if (e->finished) {
		/* Its stage has returned: the runtime lets no one in again (#GP). */
		pthread_mutex_unlock(&lock);
		call->exception_vector = 13;
		return;
	}
	e->call = call;
	if (!e->started) {
		e->started = true;
		if (pthread_create(&e->thread, NULL, stage_thread, e) != 0)
			abort();
		threads++;
	}
	give_turn(e, true);
	wait_turn(e, false);
	e->call = NULL;
	pthread_mutex_unlock(&lock);
}

/* The fake released an enclave: its stage's thread ends. */
static void released(uint8_t *base, void *userdata)
{
	struct enclave *e;

	(void)userdata;
	pthread_mutex_lock(&lock);
	e = find(base);
	if (e == NULL) {
		pthread_mutex_unlock(&lock);
		return;
	}
	e->gone = true;
	pthread_cond_broadcast(&turn);
	pthread_mutex_unlock(&lock);
	if (e->started) {
		pthread_join(e->thread, NULL);
		pthread_mutex_lock(&lock);
		threads--;
		pthread_mutex_unlock(&lock);
	}
	pthread_mutex_lock(&lock);
	*e = (struct enclave){ 0 };
	pthread_mutex_unlock(&lock);
}

void fake_sgx_shim_attach(struct fake_sgx *f)
{
	fake_sgx_on_release(f, released, NULL);
}

unsigned fake_sgx_shim_threads(void)
{
	unsigned n;

	pthread_mutex_lock(&lock);
	n = threads;
	pthread_mutex_unlock(&lock);
	return n;
}
