/* SPDX-License-Identifier: MIT */
/* A fake Keystone driver and security monitor (fake-keystone.h). Test code only. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../../backends/common/bytes.h"
#include "../../backends/keystone/driver.h"
#include "../../backends/keystone/report.h"
#include "fake-keystone.h"

#define MAX_FILES 8
#define MAX_ENCLAVES 16
#define FIRST_EID 0x1000
#define PAGE 4096u
#define SM_IMAGE_SIZE 0x1ff000
#define EPM_BASE 0x8200000000ull

enum state { FREE, ALLOCATED, FRESH, STOPPED, EXITED, POISONED };

struct enclave {
	enum state state;
	int epm_fd, utm_fd;
	uint64_t epm_size, epm_paddr, utm_size, utm_paddr;
	bool is_init, has_utm;
	uint8_t hash[64];
	uint8_t *utm; /* the SM's view, mapped at FINALIZE */
	pthread_t thread;
	bool started, eapp_turn, exited, destroying;
	uint64_t exit_value;
};

struct fake_ks_eyrie {
	struct fake_ks *k;
	struct enclave *e;
};

struct fake_ks {
	struct ebcc__hostops ops;
	struct fake_ks_faults faults;
	fake_ks_eapp_fn eapp;
	void *eapp_userdata;
	struct {
		int fd;
		uint64_t ueid;
	} files[MAX_FILES];
	struct enclave enclaves[MAX_ENCLAVES];
	struct fake_ks_eyrie eyrie[MAX_ENCLAVES];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t dev_pk[32], dev_sk[64], sm_hash[64], sm_pk[32], sm_sk[64], sm_sig[64];
	bool test_key;
	uint8_t last_hash[64];
	unsigned maps, use_after_free, interrupts, steps;
};

static void die(const char *what)
{
	fprintf(stderr, "fake-keystone: %s\n", what);
	abort();
}

/* ---- keys, as the boot ROM makes them ---------------------------------------------------- */

static bool read_test_key(struct fake_ks *k)
{
	const char *dir = getenv("EBCC_REALDATA");
	char path[4096];
	FILE *f;
	bool ok;

	if (dir == NULL)
		return false;
	snprintf(path, sizeof(path), "%s/keystone/keystone_test_dev_secret_key.derived.bin", dir);
	f = fopen(path, "rb");
	if (f == NULL)
		return false;
	ok = fread(k->dev_sk, 1, 64, f) == 64;
	fclose(f);
	memcpy(k->dev_pk, ebcc__ks_test_dev_public_key, 32);
	return ok;
}

static void boot_rom(struct fake_ks *k)
{
	static const uint8_t seed[32] = "fake-keystone device key seed";
	uint8_t *image = calloc(1, SM_IMAGE_SIZE), sm_seed[64], msg[96];
	const void *parts[2];
	size_t lens[2];

	k->test_key = read_test_key(k);
	if (!k->test_key && ebcc__ks_keypair(seed, k->dev_pk, k->dev_sk) < 0)
		die("device key");
	if (image == NULL)
		die("out of memory");
	memcpy(image, "fake security monitor firmware", 30);
	parts[0] = image;
	lens[0] = SM_IMAGE_SIZE;
	if (ebcc__ks_sha3_512(parts, lens, 1, k->sm_hash) < 0)
		die("sm hash");
	free(image);
	/* bootloader.c hashes sizeof(*sanctum_dev_secret_key) and sizeof(*sanctum_sm_hash):
	 * one byte each. */
	parts[0] = k->dev_sk;
	parts[1] = k->sm_hash;
	lens[0] = lens[1] = 1;
	if (ebcc__ks_sha3_512(parts, lens, 2, sm_seed) < 0 ||
	    ebcc__ks_keypair(sm_seed, k->sm_pk, k->sm_sk) < 0)
		die("sm key");
	memcpy(msg, k->sm_hash, 64);
	memcpy(msg + 64, k->sm_pk, 32);
	if (ebcc__ks_sign(k->sm_sig, msg, sizeof(msg), k->dev_pk, k->dev_sk) < 0)
		die("sm signature");
}

/* ---- files and enclaves -------------------------------------------------------------------- */

static int file_of(struct fake_ks *k, int fd)
{
	for (int i = 0; i < MAX_FILES; i++)
		if (k->files[i].fd == fd && fd >= 0)
			return i;
	return -1;
}

/* The enclave of an eid, as the driver's IDR gives it; a poisoned id is a use after free. */
static struct enclave *enclave_of(struct fake_ks *k, uint64_t eid)
{
	struct enclave *e;

	if (eid < FIRST_EID || eid >= FIRST_EID + MAX_ENCLAVES)
		return NULL;
	e = &k->enclaves[eid - FIRST_EID];
	if (e->state == POISONED) {
		k->use_after_free++;
		return NULL;
	}
	return e->state == FREE ? NULL : e;
}

static int memfd(uint64_t size)
{
	int fd = memfd_create("fake-keystone", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		die("memfd");
	return fd;
}

static uint64_t pow2_pages(uint64_t pages)
{
	uint64_t p = 1;

	while (p < pages)
		p <<= 1;
	return p;
}

static void stop_eapp(struct fake_ks *k, struct enclave *e)
{
	if (!e->started)
		return;
	pthread_mutex_lock(&k->lock);
	e->destroying = true;
	e->eapp_turn = true;
	pthread_cond_broadcast(&k->cond);
	pthread_mutex_unlock(&k->lock);
	pthread_join(e->thread, NULL);
	e->started = false;
}

static void free_enclave(struct fake_ks *k, struct enclave *e, enum state to)
{
	stop_eapp(k, e);
	if (e->utm != NULL)
		munmap(e->utm, e->utm_size);
	if (e->epm_fd >= 0)
		close(e->epm_fd);
	if (e->utm_fd >= 0)
		close(e->utm_fd);
	*e = (struct enclave){ .state = to, .epm_fd = -1, .utm_fd = -1 };
}

/* ---- the SM ---------------------------------------------------------------------------------- */

/* is_create_args_valid and validate_and_hash_epm. */
static int finalize(struct fake_ks *k, struct enclave *e, struct ebcc__ks_ioctl_create *c)
{
	uint64_t base = e->epm_paddr, end = e->epm_paddr + e->epm_size;
	uint8_t *epm, sizes[24];
	EVP_MD_CTX *md;
	unsigned len;

	if (k->faults.finalize_refuse || !e->has_utm || c->runtime_paddr < base ||
	    c->runtime_paddr >= end || c->user_paddr < base || c->user_paddr >= end ||
	    c->free_paddr < base || c->free_paddr > end || c->runtime_paddr > c->user_paddr ||
	    c->user_paddr > c->free_paddr)
		return -1;
	epm = mmap(NULL, e->epm_size, PROT_READ, MAP_SHARED, e->epm_fd, 0);
	if (epm == MAP_FAILED)
		die("mmap epm");
	ebcc__put_le64(sizes, c->runtime_paddr - base);
	ebcc__put_le64(sizes + 8, c->user_paddr - c->runtime_paddr);
	ebcc__put_le64(sizes + 16, c->free_paddr - c->user_paddr);
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha3_512(), NULL) != 1 ||
	    EVP_DigestUpdate(md, sizes, sizeof(sizes)) != 1)
		die("sha3");
	for (uint64_t page = base; page < c->free_paddr; page += PAGE)
		if (EVP_DigestUpdate(md, epm + (page - base), PAGE) != 1)
			die("sha3");
	if (EVP_DigestFinal_ex(md, e->hash, &len) != 1)
		die("sha3");
	EVP_MD_CTX_free(md);
	munmap(epm, e->epm_size);
	memcpy(k->last_hash, e->hash, 64);
	e->utm = mmap(NULL, e->utm_size, PROT_READ | PROT_WRITE, MAP_SHARED, e->utm_fd, 0);
	if (e->utm == MAP_FAILED)
		die("mmap utm");
	memset(e->utm, 0, e->utm_size); /* clean_enclave_memory */
	e->state = FRESH;
	return 0;
}

static void *eapp_thread(void *arg)
{
	struct fake_ks_eyrie *y = arg;
	uint64_t v = y->k->eapp(y, y->k->eapp_userdata);

	pthread_mutex_lock(&y->k->lock);
	y->e->exited = true;
	y->e->exit_value = v;
	y->e->eapp_turn = false;
	pthread_cond_broadcast(&y->k->cond);
	pthread_mutex_unlock(&y->k->lock);
	return NULL;
}

/* Runs the eapp until it stops: EDGE_CALL_HOST, or exit. */
static void step(struct fake_ks *k, struct enclave *e, struct ebcc__ks_ioctl_run *run)
{
	k->steps++;
	if (k->faults.spin ||
	    (k->faults.interrupt_every != 0 && k->steps % k->faults.interrupt_every == 0)) {
		k->interrupts++;
		e->state = STOPPED;
		run->error = EBCC_KS_SM_INTERRUPTED;
		return;
	}
	pthread_mutex_lock(&k->lock);
	e->eapp_turn = true;
	if (!e->started) {
		struct fake_ks_eyrie *y = &k->eyrie[e - k->enclaves];

		y->k = k;
		y->e = e;
		if (pthread_create(&e->thread, NULL, eapp_thread, y) != 0)
			die("pthread_create");
		e->started = true;
	} else {
		pthread_cond_broadcast(&k->cond);
	}
	while (e->eapp_turn)
		pthread_cond_wait(&k->cond, &k->lock);
	pthread_mutex_unlock(&k->lock);
	if (e->exited) {
		e->state = EXITED;
		run->error = EBCC_KS_SM_SUCCESS;
		run->value = e->exit_value;
	} else {
		e->state = STOPPED;
		run->error = EBCC_KS_SM_EDGE_CALL_HOST;
	}
}

/* The eapp's side of a stop: hand over to the host and wait for RESUME. */
static int eapp_stop(struct fake_ks *k, struct enclave *e)
{
	int r;

	pthread_mutex_lock(&k->lock);
	e->eapp_turn = false;
	pthread_cond_broadcast(&k->cond);
	while (!e->eapp_turn)
		pthread_cond_wait(&k->cond, &k->lock);
	r = e->destroying ? -1 : 0;
	pthread_mutex_unlock(&k->lock);
	return r;
}

int fake_ks_ocall_raw(struct fake_ks_eyrie *y, uint64_t call_id, uint64_t arg_offset,
		      uint64_t arg_size)
{
	struct ebcc__ks_edge_call call = { .call_id = call_id,
					   .call_arg_offset = arg_offset,
					   .call_arg_size = arg_size };

	memcpy(y->e->utm, &call, sizeof(call));
	return eapp_stop(y->k, y->e);
}

int fake_ks_ocall(struct fake_ks_eyrie *y, uint64_t call_id, const void *data, size_t len,
		  void *ret, size_t ret_len)
{
	struct ebcc__ks_edge_call call;
	struct enclave *e = y->e;

	if (len > e->utm_size - EBCC_KS_EDGE_DATA_OFFSET)
		return -1;
	if (len > 0) /* Eyrie copies nothing for an ocall without an argument */
		memcpy(e->utm + EBCC_KS_EDGE_DATA_OFFSET, data, len);
	if (fake_ks_ocall_raw(y, call_id, EBCC_KS_EDGE_DATA_OFFSET, len) < 0)
		return -1;
	memcpy(&call, e->utm, sizeof(call));
	/* Eyrie (runtime/call/syscall.c, dispatch_edgecall_ocall): status OK; nothing more for
	 * ret_len 0; else the return offset and size checked against the UTM, then ret_len bytes
	 * copied from that offset, whatever size the host gave (past the host's answer the eapp
	 * gets what the UTM held). Where Eyrie would read past the UTM the fake fails instead. */
	if (call.call_status != EBCC_EDGE_CALL_STATUS_OK)
		return -1;
	if (ret_len == 0)
		return 0;
	if (call.call_ret_offset > e->utm_size ||
	    call.call_ret_size > e->utm_size - call.call_ret_offset ||
	    ret_len > e->utm_size - call.call_ret_offset)
		return -1;
	memcpy(ret, e->utm + call.call_ret_offset, ret_len);
	return 0;
}

int fake_ks_attest(struct fake_ks_eyrie *y, uint8_t buf[2048], const void *data, size_t len)
{
	struct fake_ks *k = y->k;
	uint8_t *r = buf;

	if (len > EBCC_KS_ATTEST_DATA_MAX)
		return -1;
	memset(buf, 0xee, 2048); /* Eyrie copies 2048 bytes back; past 1352 is not the report */
	memset(r, 0, EBCC_KS_REPORT_SIZE);
	memcpy(r, y->e->hash, 64);
	ebcc__put_le64(r + EBCC_KS_OFF_DATA_LEN, len);
	memcpy(r + EBCC_KS_OFF_DATA, data, len);
	if (ebcc__ks_sign(r + EBCC_KS_OFF_ENCLAVE_SIG, r, EBCC_KS_OFF_DATA + len, k->sm_pk,
			  k->sm_sk) < 0)
		die("sign");
	memcpy(r + EBCC_KS_OFF_SM, k->sm_hash, 64);
	memcpy(r + EBCC_KS_OFF_SM_PUBLIC_KEY, k->sm_pk, 32);
	memcpy(r + EBCC_KS_OFF_SM_SIG, k->sm_sig, 64);
	memcpy(r + EBCC_KS_OFF_DEV_PUBLIC_KEY, k->dev_pk, 32);
	return 0;
}

/* ---- the driver ------------------------------------------------------------------------------ */

static int ioctl_create(struct fake_ks *k, int file, struct ebcc__ks_ioctl_create *c)
{
	for (int i = 0; i < MAX_ENCLAVES; i++) {
		struct enclave *e = &k->enclaves[i];

		if (e->state != FREE)
			continue;
		if (k->faults.create_enomem || c->min_pages == 0 || c->min_pages > 65536)
			return -ENOMEM;
		*e = (struct enclave){ .state = ALLOCATED, .utm_fd = -1, .is_init = true };
		e->epm_size = (k->faults.cma ? c->min_pages : pow2_pages(c->min_pages)) * PAGE;
		e->epm_fd = memfd(e->epm_size);
		e->epm_paddr = EPM_BASE + (uint64_t)i * 0x10000000;
		k->files[file].ueid = FIRST_EID + (uint64_t)i; /* a second CREATE overwrites it */
		c->eid = k->files[file].ueid;
		c->epm_paddr = e->epm_paddr;
		c->epm_size = e->epm_size;
		return 0;
	}
	c->eid = 0; /* enclave_idr_alloc failed, and CREATE succeeds anyway */
	return 0;
}

static int f_ioctl(int fd, unsigned long request, void *arg, void *userdata)
{
	struct fake_ks *k = userdata;
	int file = file_of(k, fd);
	struct ebcc__ks_ioctl_create c;
	struct ebcc__ks_ioctl_run run;
	struct enclave *e;
	int r = 0;

	if (file < 0)
		return -EBADF;
	if (arg == NULL)
		return -EINVAL;
	switch (request) {
	case EBCC_KS_IOC_CREATE:
		memcpy(&c, arg, sizeof(c));
		r = ioctl_create(k, file, &c);
		memcpy(arg, &c, sizeof(c));
		return r;
	case EBCC_KS_IOC_UTM_INIT:
	case EBCC_KS_IOC_FINALIZE:
	case EBCC_KS_IOC_DESTROY:
		memcpy(&c, arg, sizeof(c));
		e = enclave_of(k, c.eid);
		if (e == NULL)
			return -EINVAL;
		if (request == EBCC_KS_IOC_UTM_INIT) {
			if (e->has_utm)
				return -EINVAL;
			e->utm_size = pow2_pages((c.utm_size + PAGE - 1) / PAGE) * PAGE;
			e->utm_fd = memfd(e->utm_size);
			e->utm_paddr = e->epm_paddr + 0x8000000;
			e->has_utm = true;
			c.utm_paddr = e->utm_paddr;
		} else if (request == EBCC_KS_IOC_FINALIZE) {
			if (!e->is_init)
				return -EINVAL;
			e->is_init = false;
			if (finalize(k, e, &c) < 0) {
				/* The driver frees the enclave and leaves its id in the IDR. */
				free_enclave(k, e, POISONED);
				return -EINVAL;
			}
		} else {
			free_enclave(k, e, FREE);
			if (k->files[file].ueid == c.eid)
				k->files[file].ueid = 0;
		}
		memcpy(arg, &c, sizeof(c));
		return 0;
	case EBCC_KS_IOC_RUN:
	case EBCC_KS_IOC_RESUME:
		memcpy(&run, arg, sizeof(run));
		e = enclave_of(k, run.eid);
		if (e == NULL)
			return -EINVAL;
		run.value = 0;
		if (request == EBCC_KS_IOC_RUN && e->state != FRESH)
			run.error = EBCC_KS_SM_NOT_FRESH;
		else if (request == EBCC_KS_IOC_RESUME && e->state != STOPPED)
			run.error = EBCC_KS_SM_NOT_RESUMABLE;
		else
			step(k, e, &run);
		memcpy(arg, &run, sizeof(run));
		return 0;
	default:
		return -ENOSYS;
	}
}

static int f_open(const char *path, int flags, mode_t mode, void *userdata)
{
	struct fake_ks *k = userdata;

	(void)mode;
	if (strcmp(path, EBCC_KS_DEVICE) != 0 || k->faults.no_device)
		return -ENOENT;
	if ((flags & O_ACCMODE) != O_RDWR)
		return -EINVAL;
	for (int i = 0; i < MAX_FILES; i++) {
		if (k->files[i].fd < 0) {
			k->files[i].fd = memfd(0);
			k->files[i].ueid = 0;
			return k->files[i].fd;
		}
	}
	return -EMFILE;
}

static int f_close(int fd, void *userdata)
{
	struct fake_ks *k = userdata;
	int file = file_of(k, fd);
	struct enclave *e;

	if (file < 0)
		return -EBADF;
	/* release(): the last close destroys the file's enclave (after a failed FINALIZE the
	 * real driver's release touches the freed enclave itself; here its id is freed). */
	if (k->files[file].ueid >= FIRST_EID && k->files[file].ueid < FIRST_EID + MAX_ENCLAVES) {
		e = &k->enclaves[k->files[file].ueid - FIRST_EID];
		if (e->state != FREE)
			free_enclave(k, e, FREE);
	}
	close(fd);
	k->files[file].fd = -1;
	return 0;
}

static int f_mmap(size_t len, int prot, int flags, int fd, off_t offset, void **ret_addr,
		  void *userdata)
{
	struct fake_ks *k = userdata;
	int file = file_of(k, fd);
	struct enclave *e = file >= 0 ? enclave_of(k, k->files[file].ueid) : NULL;
	void *p;

	if (e == NULL || !(flags & MAP_SHARED))
		return -EINVAL;
	if (e->is_init) {
		if (len > PAGE || offset < 0 || (uint64_t)offset >= e->epm_size || offset % PAGE)
			return -EINVAL;
		p = mmap(NULL, len, prot, MAP_SHARED, e->epm_fd, offset);
	} else {
		if (len > e->utm_size || e->utm_fd < 0)
			return -EINVAL;
		p = mmap(NULL, len, prot, MAP_SHARED, e->utm_fd, 0); /* offset ignored */
	}
	if (p == MAP_FAILED)
		return -errno;
	k->maps++;
	*ret_addr = p;
	return 0;
}

static int f_munmap(void *addr, size_t len, void *userdata)
{
	struct fake_ks *k = userdata;

	k->maps--;
	return munmap(addr, len) < 0 ? -errno : 0;
}

/* ---- setup ------------------------------------------------------------------------------------ */

struct fake_ks *fake_ks_new(fake_ks_eapp_fn eapp, void *userdata)
{
	struct fake_ks *k = calloc(1, sizeof(*k));

	if (k == NULL)
		die("out of memory");
	k->ops = (struct ebcc__hostops){
		.root = "",
		.open = f_open,
		.close = f_close,
		.ioctl = f_ioctl,
		.mmap = f_mmap,
		.munmap = f_munmap,
		.userdata = k,
	};
	k->eapp = eapp;
	k->eapp_userdata = userdata;
	for (int i = 0; i < MAX_FILES; i++)
		k->files[i].fd = -1;
	for (int i = 0; i < MAX_ENCLAVES; i++)
		k->enclaves[i] = (struct enclave){ .state = FREE, .epm_fd = -1, .utm_fd = -1 };
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->cond, NULL);
	boot_rom(k);
	return k;
}

void fake_ks_free(struct fake_ks *k)
{
	if (k == NULL)
		return;
	for (int i = 0; i < MAX_FILES; i++)
		if (k->files[i].fd >= 0)
			f_close(k->files[i].fd, k);
	for (int i = 0; i < MAX_ENCLAVES; i++)
		if (k->enclaves[i].state != FREE && k->enclaves[i].state != POISONED)
			free_enclave(k, &k->enclaves[i], FREE);
	pthread_mutex_destroy(&k->lock);
	pthread_cond_destroy(&k->cond);
	free(k);
}

const struct ebcc__hostops *fake_ks_host(struct fake_ks *k) { return &k->ops; }
struct fake_ks_faults *fake_ks_faults(struct fake_ks *k) { return &k->faults; }

const uint8_t *fake_ks_device_key(struct fake_ks *k, bool *is_test_key)
{
	*is_test_key = k->test_key;
	return k->dev_pk;
}

const uint8_t *fake_ks_sm_hash(struct fake_ks *k) { return k->sm_hash; }
const uint8_t *fake_ks_last_hash(struct fake_ks *k) { return k->last_hash; }

unsigned fake_ks_live_enclaves(struct fake_ks *k)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_ENCLAVES; i++)
		n += k->enclaves[i].state != FREE && k->enclaves[i].state != POISONED;
	return n;
}

unsigned fake_ks_open_files(struct fake_ks *k)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_FILES; i++)
		n += k->files[i].fd >= 0;
	return n;
}

unsigned fake_ks_live_maps(struct fake_ks *k) { return k->maps; }
unsigned fake_ks_use_after_free(struct fake_ks *k) { return k->use_after_free; }
unsigned fake_ks_interrupts(struct fake_ks *k) { return k->interrupts; }
