/* SPDX-License-Identifier: MIT */
/*
 * White-box: the optee backend against a fake /dev/tee0 (fake-tee.c). The fake first shows it
 * answers like the Linux TEE subsystem; then every TEE result the backend maps, the whole
 * lifecycle through the public API with the fake in place of the kernel (both attestation
 * modes, verified in a context with only the built-in backends), short buffers, dead and busy
 * TAs, load failures, a session reached from another process, and tampered reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/tee.h>

#include "../../backends/optee/attest.h"
#include "../../backends/optee/options.h"
#include "../../backends/optee/teec.h"
#include "../../backends/optee/teedev.h"
#include "bundleutil.h"
#include "fake-pki.h"
#include "fake-tee.h"
#include "tee-fixture.h"
#include "check-policy.h"

#define TA_UUID "8aaaf200-2450-11e4-abe2-0002a5d5c51b"
#define PTA_UUID "39800861-182a-4720-9b67-2bcd622bc0b5"

static struct fake_tee *shared_tee; /* one RSA key for the whole run */

static int group_setup(void **state)
{
	(void)state;
	shared_tee = fake_tee_new();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	fake_tee_free(shared_tee);
	return 0;
}

/* A fresh fake each test: the same key, nothing installed, no faults. */
static struct fake_tee *fresh_tee(void)
{
	fake_tee_reset(shared_tee);
	return shared_tee;
}

static void uuid(const char *text, uint8_t out[16])
{
	assert_int_equal(ebcc__optee_uuid_parse(text, out), 0);
}

/* ---- the fake is a faithful TEE subsystem ---------------------------------------------------- */

struct raw_arg {
	union {
		uint64_t align;
		uint8_t bytes[sizeof(struct tee_ioctl_open_session_arg) +
			      4 * sizeof(struct tee_ioctl_param)];
	};
};

static void fake_behaves_like_tee_subsystem(void **state)
{
	struct fake_tee *t = fresh_tee();
	const struct ebcc__hostops *h = fake_tee_host(t);
	struct tee_ioctl_version_data v;
	struct tee_ioctl_shm_alloc_data shm = { .size = 64, .flags = 1 };
	struct raw_arg buf;
	struct tee_ioctl_open_session_arg *os = (void *)buf.bytes;
	struct tee_ioctl_invoke_arg *inv = (void *)buf.bytes;
	struct tee_ioctl_param *p = (void *)(buf.bytes + sizeof(*inv));
	struct tee_ioctl_buf_data data = { .buf_ptr = (uintptr_t)buf.bytes };
	struct tee_ioctl_close_session_arg cs;
	uint8_t ta[16], pta[16];
	int fd, fd2, shm_fd;
	void *map;

	(void)state;
	uuid(TA_UUID, ta);
	uuid(PTA_UUID, pta);
	assert_int_equal(h->open("/dev/tee1", O_RDWR | O_CLOEXEC, 0, h->userdata), -ENOENT);
	fd = h->open("/dev/tee0", O_RDWR | O_CLOEXEC, 0, h->userdata);
	fd2 = h->open("/dev/tee0", O_RDWR | O_CLOEXEC, 0, h->userdata);
	assert_true(fd >= 0 && fd2 >= 0);
	assert_int_equal(h->ioctl(fd, TEE_IOC_VERSION, &v, h->userdata), 0);
	assert_int_equal(v.impl_id, TEE_IMPL_ID_OPTEE);
	assert_true(v.gen_caps & TEE_GEN_CAP_GP);
	assert_int_equal(h->ioctl(fd, _IO(0xa4, 0x42), &v, h->userdata), -ENOTTY);
	/* Shared memory: flags must be 0, the size not. */
	assert_int_equal(h->ioctl(fd, TEE_IOC_SHM_ALLOC, &shm, h->userdata), -EINVAL);
	shm = (struct tee_ioctl_shm_alloc_data){ .size = 0 };
	assert_int_equal(h->ioctl(fd, TEE_IOC_SHM_ALLOC, &shm, h->userdata), -EINVAL);
	shm = (struct tee_ioctl_shm_alloc_data){ .size = 64 };
	shm_fd = h->ioctl(fd, TEE_IOC_SHM_ALLOC, &shm, h->userdata);
	assert_true(shm_fd >= 0);
	assert_int_equal(h->mmap(64, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0, &map,
				 h->userdata), 0);
	/* Opening a session: the buffer must be exactly the header and its parameters. */
	memset(&buf, 0, sizeof(buf));
	memcpy(os->uuid, ta, 16);
	data.buf_len = sizeof(*os) + 1;
	assert_int_equal(h->ioctl(fd, TEE_IOC_OPEN_SESSION, &data, h->userdata), -EINVAL);
	data.buf_len = sizeof(*os);
	assert_int_equal(h->ioctl(fd, TEE_IOC_OPEN_SESSION, &data, h->userdata), 0);
	assert_int_equal(os->ret, TEEC_ERROR_ITEM_NOT_FOUND);
	assert_int_equal(os->ret_origin, TEEC_ORIGIN_TEE);
	memset(&buf, 0, sizeof(buf));
	memcpy(os->uuid, pta, 16);
	assert_int_equal(h->ioctl(fd, TEE_IOC_OPEN_SESSION, &data, h->userdata), 0);
	assert_int_equal(os->ret, TEEC_SUCCESS);
	cs.session = os->session;
	/* Invoking: the session must be this descriptor's; memrefs within their memory. */
	memset(&buf, 0, sizeof(buf));
	inv->session = cs.session;
	inv->func = 2; /* PTA_ATTESTATION_HASH_TA_MEMORY */
	inv->num_params = 2;
	p[0] = (struct tee_ioctl_param){ TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INPUT, 0, 32,
					 (uint64_t)shm.id };
	p[1] = (struct tee_ioctl_param){ TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT, 32, 33,
					 (uint64_t)shm.id };
	data.buf_len = sizeof(*inv) + 2 * sizeof(*p);
	assert_int_equal(h->ioctl(fd2, TEE_IOC_INVOKE, &data, h->userdata), -EINVAL);
	assert_int_equal(h->ioctl(fd, TEE_IOC_INVOKE, &data, h->userdata), -EINVAL);
	p[1].b = 32;
	assert_int_equal(h->ioctl(fd, TEE_IOC_INVOKE, &data, h->userdata), 0);
	/* The PTA serves HASH_TA_MEMORY to TAs only. */
	assert_int_equal(inv->ret, TEEC_ERROR_ACCESS_DENIED);
	inv->func = 1; /* GET_TA_SHDR_DIGEST with the wrong parameter types */
	assert_int_equal(h->ioctl(fd, TEE_IOC_INVOKE, &data, h->userdata), 0);
	assert_int_equal(inv->ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(h->ioctl(fd2, TEE_IOC_CLOSE_SESSION, &cs, h->userdata), -EINVAL);
	assert_int_equal(h->ioctl(fd, TEE_IOC_CLOSE_SESSION, &cs, h->userdata), 0);
	assert_int_equal(h->ioctl(fd, TEE_IOC_CLOSE_SESSION, &cs, h->userdata), -EINVAL);
	/* Closing a descriptor ends its sessions. */
	memset(&buf, 0, sizeof(buf));
	memcpy(os->uuid, pta, 16);
	data.buf_len = sizeof(*os);
	assert_int_equal(h->ioctl(fd2, TEE_IOC_OPEN_SESSION, &data, h->userdata), 0);
	assert_int_equal(fake_tee_open_sessions(t), 1);
	assert_int_equal(h->close(fd2, h->userdata), 0);
	assert_int_equal(fake_tee_open_sessions(t), 0);
	assert_int_equal(h->munmap(map, 64, h->userdata), 0);
	assert_int_equal(h->close(shm_fd, h->userdata), 0);
	assert_int_equal(h->close(fd, h->userdata), 0);
	assert_int_equal(h->close(fd, h->userdata), -EBADF);
	assert_int_equal(fake_tee_open_contexts(t) + fake_tee_shm_alive(t), 0);
}

/* ---- TEE results in libebcc's terms ----------------------------------------------------------- */

static void teec_results(void **state)
{
	static const struct {
		uint32_t ret, origin;
		int code;
		const char *message;
	} cases[] = {
		{ TEEC_ERROR_TARGET_DEAD, TEEC_ORIGIN_TEE, EBCC_ERR_STAGE,
		  "x: TEEC_ERROR_TARGET_DEAD from the TEE: the trusted application is dead" },
		{ TEEC_ERROR_BUSY, TEEC_ORIGIN_TEE, EBCC_ERR_BUSY,
		  "x: TEEC_ERROR_BUSY from the TEE: the trusted application is busy" },
		{ TEEC_ERROR_ITEM_NOT_FOUND, TEEC_ORIGIN_TEE, EBCC_ERR_NOT_FOUND,
		  "x: TEEC_ERROR_ITEM_NOT_FOUND from the TEE: no such trusted application" },
		{ TEEC_ERROR_ITEM_NOT_FOUND, TEEC_ORIGIN_TRUSTED_APP, EBCC_ERR_STAGE,
		  "x: the trusted application failed with TEEC_ERROR_ITEM_NOT_FOUND" },
		{ TEEC_ERROR_ACCESS_DENIED, TEEC_ORIGIN_TEE, EBCC_ERR_PERMISSION,
		  "x: TEEC_ERROR_ACCESS_DENIED from the TEE" },
		{ TEEC_ERROR_COMMUNICATION, TEEC_ORIGIN_COMMS, EBCC_ERR_IO,
		  "x: TEEC_ERROR_COMMUNICATION from the communication stack" },
		{ TEEC_ERROR_OUT_OF_MEMORY, TEEC_ORIGIN_TEE, EBCC_ERR_NO_MEMORY,
		  "the TEE ran out of memory" },
		{ TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_TRUSTED_APP, EBCC_ERR_STAGE,
		  "x: the trusted application failed with TEEC_ERROR_BAD_PARAMETERS" },
		{ TEEC_ERROR_GENERIC, TEEC_ORIGIN_TEE, EBCC_ERR_BACKEND,
		  "x: TEEC_ERROR_GENERIC from the TEE" },
		{ 0x12345678, 9, EBCC_ERR_BACKEND, "x: 0x12345678 from an unknown origin" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = ebcc__teec_error(cases[i].ret, cases[i].origin, "x");

		if (r != cases[i].code || strstr(ebcc_last_error_message(), cases[i].message) == NULL)
			fail_msg("%s/%u: got %s \"%s\"", ebcc__teec_name(cases[i].ret),
				 cases[i].origin, ebcc_error_name(r), ebcc_last_error_message());
	}
}

/* ---- the lifecycle through the public API ---------------------------------------------------- */

struct life {
	char *root, *bundle;
	struct fake_tee *t;
	struct ebcc_context *ctx;
	struct ebcc_instance *inst;
	uint8_t uuid[16], digest[32];
};

/* A bundle whose stages are the TA file stages/echo.ta (payload chooses its digest) with the
 * given backendOptions extra members. */
static void life_setup(struct life *l, const char *payload, const char *extra_options,
		       uint64_t max_response)
{
	static const char config[] = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}}";
	char *manifest;
	uint8_t *ta;
	size_t len;

	l->root = scratch_dir("optee-root");
	l->bundle = scratch_dir("optee-bundle");
	l->t = fresh_tee();
	uuid(TA_UUID, l->uuid);
	len = fake_tee_ta_file(l->uuid, payload, &ta, l->digest);
	assert_true(asprintf(&manifest,
			     "{\"ebccVersion\": \"0.1\", \"backend\": \"optee\", \"stages\": ["
			     "{\"name\": \"ta\", \"image\": \"stages/echo.ta\", \"maxResponse\": "
			     "%llu, \"backendOptions\": {\"uuid\": \"" TA_UUID "\"%s}},"
			     "{\"name\": \"fresh\", \"image\": \"stages/echo.ta\", \"lifetime\": "
			     "\"invocation\", \"backendOptions\": {\"uuid\": \"" TA_UUID "\"%s}}]}",
			     (unsigned long long)max_response, extra_options, extra_options) > 0);
	write_file(l->bundle, "config.json", config, strlen(config));
	write_file(l->bundle, "ebcc.json", manifest, strlen(manifest));
	write_file(l->bundle, "stages/echo.ta", (const char *)ta, len);
	free(manifest);
	free(ta);
	l->ctx = tee_context(l->root, NULL, fake_tee_host(l->t));
	assert_int_equal(ebcc_instance_create(l->ctx, "tz", l->bundle, &l->inst), 0);
}

static void life_end(struct life *l)
{
	if (l->inst != NULL) {
		ebcc_instance_delete(l->inst, EBCC_DELETE_FORCE);
		ebcc_instance_unref(l->inst);
	}
	ebcc_context_unref(l->ctx);
	/* Nothing left open in the TEE. */
	assert_int_equal(fake_tee_open_sessions(l->t), 0);
	assert_int_equal(fake_tee_open_contexts(l->t), 0);
	assert_int_equal(fake_tee_shm_alive(l->t), 0);
	assert_int_equal(fake_tee_opens_without_cloexec(l->t), 0);
	scratch_remove(l->root);
	scratch_remove(l->bundle);
}

static char *key_policy(struct life *l, const char *extra_key, const char *extra_value)
{
	const char *keys[] = { fake_tee_pubkey_pem(l->t), NULL };

	return tee_policy("optee", keys, extra_key, extra_value, NULL);
}

static void expect_verdict(const char *verdict, const char *key, const char *prefix)
{
	char *value = tee_json_get(verdict, key);

	if (value == NULL || strncmp(value, prefix, strlen(prefix)) != 0)
		fail_msg("verdict \"%s\" is \"%s\", want \"%s...\" in %s", key,
			 value != NULL ? value : "(none)", prefix, verdict);
	free(value);
}

static void lifecycle_mode(const char *extra_options, const char *mode)
{
	static const char nonce[] = "fedcba9876543210";
	struct life l = { 0 };
	struct ebcc_context *plain = NULL;
	struct ebcc_invocation *inv = NULL;
	struct ebcc_evidence *ev = NULL, *parsed = NULL;
	const void *data;
	size_t len;
	char *json = NULL, *info = NULL, *policy, *pem = NULL, *verdict = NULL, pin[80], hex[65];
	char kind[32];
	uint8_t memory[32];
	uint64_t eid;
	struct tee_env e;

	life_setup(&l, "an echo TA", extra_options, 4096);
	fake_tee_install(l.t, l.uuid, l.digest);
	assert_int_equal(ebcc_instance_start(l.inst), 0);
	assert_int_equal(fake_tee_open_sessions(l.t), 1);
	assert_int_equal(ebcc_stage_info(l.inst, "ta", &info), 0);
	assert_non_null(strstr(info, "\"tee\": \"OP-TEE (Arm TrustZone)\""));
	assert_non_null(strstr(info, "\"uuid\": \"" TA_UUID "\""));
	ebcc_free(info);

	assert_int_equal(ebcc_stage_invoke(l.inst, "ta", "hello", 5, nonce, 16, &inv), 0);
	assert_int_equal(ebcc_invocation_response(inv, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "hello", 5);
	ebcc_invocation_unref(inv);
	/* Empty requests are requests too. */
	assert_int_equal(ebcc_stage_invoke(l.inst, "ta", "", 0, NULL, 0, &inv), 0);
	assert_int_equal(ebcc_invocation_response(inv, &data, &len), 0);
	assert_int_equal(len, 0);
	ebcc_invocation_unref(inv);
	/* A per-invocation stage: a session of its own, closed after. */
	assert_int_equal(ebcc_stage_invoke(l.inst, "fresh", "again", 5, NULL, 0, &inv), 0);
	ebcc_invocation_unref(inv);
	assert_int_equal(fake_tee_open_sessions(l.t), 1);

	/* Offline verification with the attestation PTA's key, in a plain context. */
	assert_int_equal(ebcc_backend_attestation_key(l.ctx, "optee", &pem), 0);
	assert_string_equal(pem, fake_tee_pubkey_pem(l.t));
	assert_int_equal(ebcc_evidence_get(l.inst, "ta", 1, &ev), 0);
	eid = ebcc__evidence_fields(ev)->binding.eid;
	assert_true(eid > 0);
	assert_int_equal(ebcc_evidence_serialize(ev, &json), 0);
	assert_int_equal(ebcc_context_new(&plain), 0);
	assert_int_equal(ebcc_evidence_parse(plain, json, strlen(json), &parsed), 0);
	if (strcmp(mode, "ta-digest") == 0) {
		ebcc__hex_encode(l.digest, 32, hex);
	} else {
		fake_tee_memory_hash(l.uuid, memory);
		ebcc__hex_encode(memory, 32, hex);
	}
	snprintf(pin, sizeof(pin), "\"%s\"", hex);
	snprintf(kind, sizeof(kind), "\"%s\"", mode);
	if (strcmp(mode, "ta-binding") == 0) {
		/* Only a policy that expects a binding TA and pins it takes its report. */
		policy = key_policy(&l, "ta_digest", pin);
		assert_int_equal(ebcc_evidence_verify(plain, parsed, policy), EBCC_ERR_VERIFY);
		assert_non_null(strstr(ebcc_last_error_message(), "verifies only under a policy"));
		free(policy);
	}
	policy = tee_policy("optee", (const char *const[]){ fake_tee_pubkey_pem(l.t), NULL },
			    "ta_digest", pin, "attestation", kind, NULL);
	assert_int_equal(ebcc_evidence_verify(plain, parsed, policy), 0);
	tee_env_init(&e);
	assert_int_equal(tee_verdict(ebcc__backend_optee_entry(), &e, parsed, policy, &verdict), 0);
	expect_verdict(verdict, "signature", "verified: RSASSA-PSS (SHA-256, salt 32) over "
					     "report_data || digest by trusted_keys[0]");
	expect_verdict(verdict, "attestation", mode);
	expect_verdict(verdict, "ta_digest", hex);
	expect_verdict(verdict, "ta_digest_pinned", "matches the policy");
	assert_non_null(strstr(verdict, "\"not_verified\":["));
	if (strcmp(mode, "ta-binding") == 0) {
		/* The TA bound request and response itself: no caveat of the normal world's. */
		expect_verdict(verdict, "report_data", "bound by the TA");
		assert_null(strstr(verdict, "normal world's claim"));
		assert_null(strstr(verdict, "the claim of the library"));
	} else {
		expect_verdict(verdict, "report_data", "bound: the nonce");
	}
	free(verdict);
	free(policy);
	/* No key: refused unless the policy says so; a wrong digest pin: refused. */
	policy = tee_policy("optee", NULL, "attestation", kind, "ta_digest", pin, NULL);
	assert_int_equal(ebcc_evidence_verify(plain, parsed, policy), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "signature not verified: no "
							  "trusted_keys in the policy"));
	free(policy);
	policy = tee_policy("optee", NULL, "allow_unverified_signature", "true", "attestation",
			    kind, "ta_digest", pin, NULL);
	assert_int_equal(ebcc_evidence_verify(plain, parsed, policy), 0);
	free(policy);
	policy = tee_policy("optee", (const char *const[]){ fake_tee_pubkey_pem(l.t), NULL },
			    "attestation", kind, "ta_digest",
			    "\"0000000000000000000000000000000000000000000000000000000000000000\"",
			    NULL);
	assert_int_equal(ebcc_evidence_verify(plain, parsed, policy), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "TA digest expected 0000"));
	free(policy);
	/* A policy that expects another kind refuses the report. */
	policy = tee_policy("optee", (const char *const[]){ fake_tee_pubkey_pem(l.t), NULL },
			    "attestation",
			    strcmp(mode, "ta-memory") == 0 ? "\"ta-digest\"" : "\"ta-memory\"",
			    NULL);
	assert_int_equal(ebcc_evidence_verify(plain, parsed, policy), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "the policy expects"));
	free(policy);

	ebcc_evidence_unref(parsed);
	ebcc_evidence_unref(ev);
	ebcc_free(json);
	ebcc_free(pem);
	ebcc_context_unref(plain);
	assert_int_equal(ebcc_instance_kill(l.inst, 9), 0);
	assert_int_equal(fake_tee_open_sessions(l.t), 0);
	assert_int_equal(ebcc_instance_delete(l.inst, 0), 0);
	ebcc_instance_unref(l.inst);
	l.inst = NULL;
	life_end(&l);
}

static void lifecycle_ta_digest(void **state)
{
	(void)state;
	lifecycle_mode("", "ta-digest");
}

static void lifecycle_ta_memory(void **state)
{
	(void)state;
	lifecycle_mode(", \"attestation\": \"ta-memory\", \"attestCommand\": 256", "ta-memory");
}

/* A TA built with libebcc-stage's binding: it binds and has the PTA sign in one call. */
static void lifecycle_ta_binding(void **state)
{
	(void)state;
	lifecycle_mode(", \"command\": 512, \"attestation\": \"ta-binding\"", "ta-binding");
}

static void invoke_results(void **state)
{
	struct life l = { 0 };
	struct ebcc_invocation *inv = NULL;
	const void *data;
	size_t len;

	(void)state;
	life_setup(&l, "an echo TA", "", 64 << 10);
	fake_tee_install(l.t, l.uuid, l.digest);
	assert_int_equal(ebcc_instance_start(l.inst), 0);
	/* TEEC_ERROR_SHORT_BUFFER: the buffer the TA asked for, within maxResponse. */
	assert_int_equal(ebcc_stage_invoke(l.inst, "ta", "grow:40000", 10, NULL, 0, &inv), 0);
	assert_int_equal(ebcc_invocation_response(inv, &data, &len), 0);
	assert_int_equal(len, 40000);
	ebcc_invocation_unref(inv);
	assert_int_equal(ebcc_stage_invoke(l.inst, "ta", "grow:70000", 10, NULL, 0, &inv),
			 EBCC_ERR_STAGE);
	assert_non_null(strstr(ebcc_last_error_message(),
			       "asks for a 70000-byte response buffer (TEEC_ERROR_SHORT_BUFFER), "
			       "more than its maxResponse 65536"));
	/* Busy and failing TAs. */
	assert_int_equal(ebcc_stage_invoke(l.inst, "ta", "busy", 4, NULL, 0, &inv), EBCC_ERR_BUSY);
	assert_non_null(strstr(ebcc_last_error_message(), "command 0: TEEC_ERROR_BUSY from the TEE"));
	assert_int_equal(ebcc_stage_invoke(l.inst, "ta", "fail", 4, NULL, 0, &inv), EBCC_ERR_STAGE);
	assert_non_null(strstr(ebcc_last_error_message(),
			       "command 0: the trusted application failed with "
			       "TEEC_ERROR_BAD_PARAMETERS"));
	/* Shared memory the kernel cannot give. */
	fake_tee_faults(l.t)->shm_errno = ENOMEM;
	assert_int_equal(ebcc_stage_invoke(l.inst, "ta", "x", 1, NULL, 0, &inv), EBCC_ERR_NO_MEMORY);
	assert_non_null(strstr(ebcc_last_error_message(),
			       "TEE_IOC_SHM_ALLOC on /dev/tee0: Cannot allocate memory (ENOMEM)"));
	fake_tee_faults(l.t)->shm_errno = 0;
	/* A TA that panics is dead for good: TEEC_ERROR_TARGET_DEAD, then and after. */
	assert_int_equal(ebcc_stage_invoke(l.inst, "ta", "panic", 5, NULL, 0, &inv),
			 EBCC_ERR_STAGE);
	assert_non_null(strstr(ebcc_last_error_message(), "TEEC_ERROR_TARGET_DEAD from the TEE: "
							  "the trusted application is dead"));
	assert_int_equal(ebcc_stage_invoke(l.inst, "ta", "hello", 5, NULL, 0, &inv),
			 EBCC_ERR_STAGE);
	assert_non_null(strstr(ebcc_last_error_message(), "TEEC_ERROR_TARGET_DEAD"));
	life_end(&l);
}

struct load_case {
	const char *name;
	const char *payload; /* of the TA file in the bundle */
	const char *options;
	bool install;        /* the bundle's TA, as OP-TEE would find it */
	bool install_other;  /* another build of it under the same UUID */
	struct fake_tee_faults faults;
	int code;
	const char *message;
};

static void load_failures(void **state)
{
	static const struct load_case cases[] = {
		{ "no device", "ta", "", true, false, { .no_device = true }, EBCC_ERR_UNAVAILABLE,
		  "no /dev/tee0: No such file or directory (ENOENT): no TEE driver" },
		{ "no permission", "ta", "", true, false, { .open_errno = EACCES },
		  EBCC_ERR_PERMISSION, "open /dev/tee0: Permission denied (EACCES)" },
		{ "AMD-TEE", "ta", "", true, false, { .impl_id = TEE_IMPL_ID_AMDTEE },
		  EBCC_ERR_UNAVAILABLE, "/dev/tee0 is not OP-TEE: TEE_IOC_VERSION says "
					"implementation 2 (AMD-TEE)" },
		{ "not installed", "ta", "", false, false, { 0 }, EBCC_ERR_NOT_FOUND,
		  "opening a session with TA " TA_UUID ": TEEC_ERROR_ITEM_NOT_FOUND from the TEE" },
		{ "another build", "ta", "", false, true, { 0 }, EBCC_ERR_VERIFY,
		  "has signed-header digest" },
		{ "busy", "ta", "", true, false, { .busy_open = true }, EBCC_ERR_BUSY,
		  "TEEC_ERROR_BUSY from the TEE" },
		{ "no attestation PTA", "ta", "", true, false, { .no_pta = true },
		  EBCC_ERR_NOT_FOUND, "opening the attestation PTA " PTA_UUID },
		{ "bad options", "ta", ", \"colour\": 1", true, false, { 0 }, EBCC_ERR_INVALID_ARG,
		  "backendOptions has unknown key \"colour\"" },
		{ "ta-memory without command", "ta", ", \"attestation\": \"ta-memory\"", true,
		  false, { 0 }, EBCC_ERR_INVALID_ARG, "needs attestCommand" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct life l = { 0 };
		int r;

		life_setup(&l, cases[i].payload, cases[i].options, 4096);
		if (cases[i].install)
			fake_tee_install(l.t, l.uuid, l.digest);
		if (cases[i].install_other) {
			uint8_t *other = NULL, digest[32];

			fake_tee_ta_file(l.uuid, "a rebuilt TA", &other, digest);
			free(other);
			fake_tee_install(l.t, l.uuid, digest);
		}
		*fake_tee_faults(l.t) = cases[i].faults;
		r = ebcc_instance_start(l.inst);
		if (r != cases[i].code ||
		    strstr(ebcc_last_error_message(), cases[i].message) == NULL)
			fail_msg("%s: got %s \"%s\", want %s with \"%s\"", cases[i].name,
				 ebcc_error_name(r), ebcc_last_error_message(),
				 ebcc_error_name(cases[i].code), cases[i].message);
		assert_int_equal(ebcc_instance_status(l.inst), EBCC_STATUS_CREATED);
		*fake_tee_faults(l.t) = (struct fake_tee_faults){ 0 };
		life_end(&l);
	}
}

static void image_must_be_the_ta(void **state)
{
	static const char config[] = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}}";
	static const char manifest[] =
		"{\"ebccVersion\": \"0.1\", \"backend\": \"optee\", \"stages\": ["
		"{\"name\": \"ta\", \"image\": \"stages/echo.ta\", \"backendOptions\": {\"uuid\": "
		"\"11111111-2222-3333-4444-555555555555\"}}]}";
	char *root = scratch_dir("optee-root"), *bundle = scratch_dir("optee-bundle");
	struct fake_tee *t = fresh_tee();
	struct ebcc_context *ctx = tee_context(root, NULL, fake_tee_host(t));
	struct ebcc_instance *inst = NULL;
	uint8_t u[16], digest[32], *ta;
	size_t len;

	(void)state;
	write_file(bundle, "config.json", config, strlen(config));
	write_file(bundle, "ebcc.json", manifest, strlen(manifest));
	/* Not a TA file at all. */
	write_file(bundle, "stages/echo.ta", "\x7f" "ELF, not a signed OP-TEE TA", 28);
	assert_int_equal(ebcc_instance_create(ctx, "a", bundle, &inst), 0);
	assert_int_equal(ebcc_instance_start(inst), EBCC_ERR_INVALID_ARG);
	if (strstr(ebcc_last_error_message(), "is not an OP-TEE trusted application: no signed "
						     "header") == NULL)
		fail_msg("%s", ebcc_last_error_message());
	ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
	ebcc_instance_unref(inst);
	/* The TA of another UUID. */
	uuid(TA_UUID, u);
	len = fake_tee_ta_file(u, "payload", &ta, digest);
	write_file(bundle, "stages/echo.ta", (const char *)ta, len);
	free(ta);
	assert_int_equal(ebcc_instance_create(ctx, "b", bundle, &inst), 0);
	assert_int_equal(ebcc_instance_start(inst), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "the image is the trusted application "
							  TA_UUID ", but backendOptions.uuid names "
							  "11111111-2222-3333-4444-555555555555"));
	ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);
	scratch_remove(root);
	scratch_remove(bundle);
}

/* A warm stage's session lives in the process that loaded it. */
static void other_process(void **state)
{
	struct life l = { 0 };
	struct ebcc_invocation *inv = NULL;
	const struct ebcc_backend_ops *ops = ebcc__backend_optee_entry();
	struct ebcc_backend_stage_params params = {
		.size = sizeof(params),
		.lifetime = EBCC_LIFETIME_INSTANCE,
		.instance_id = "tz",
		.stage_name = "ta",
		.image_fd = -1,
		.stage_dir_fd = -1,
	};
	static const uint8_t fields[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	const struct ebcc_backend_binding binding = {
		.size = sizeof(binding),
		.evidence_version = 2,
		.instance_id = "tz",
		.stage_name = "ta",
		.measurement = "sha256:00",
		.encoded = fields,
		.encoded_len = sizeof(fields),
	};
	struct ebcc_backend_invocation inv_out = { .size = sizeof(inv_out) };
	char ref[128];
	void *handle = NULL;
	struct tee_env e;
	pid_t child;
	int status;

	(void)state;
	life_setup(&l, "an echo TA", "", 4096);
	fake_tee_install(l.t, l.uuid, l.digest);
	assert_int_equal(ebcc_instance_start(l.inst), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int r = ebcc_stage_invoke(l.inst, "ta", "hi", 2, NULL, 0, &inv);
		char want[160];

		snprintf(want, sizeof(want), "its TEE session belongs to process %d, which opened "
			 "/dev/tee0", (int)getppid());
		_exit(r == EBCC_ERR_STAGE && strstr(ebcc_last_error_message(), want) != NULL ? 0 : 1);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Here, in the loading process, it still answers. */
	assert_int_equal(ebcc_stage_invoke(l.inst, "ta", "hi", 2, NULL, 0, &inv), 0);
	ebcc_invocation_unref(inv);

	/* A ref naming a process that has exited: its session is gone with it. */
	snprintf(ref, sizeof(ref), "{\"pid\": %d, \"start_time\": 1, \"session\": 999, "
		 "\"uuid\": \"" TA_UUID "\"}", (int)child);
	tee_env_init(&e);
	assert_int_equal(ops->stage_open(&e.env, &params, 999, ref, &handle,
					 (void *)fake_tee_host(l.t)), 0);
	assert_int_equal(ops->stage_invoke(&e.env, handle, &binding, "x", 1, &inv_out,
					   (void *)fake_tee_host(l.t)),
			 EBCC_ERR_STAGE);
	assert_non_null(strstr(e.error, "which held its TEE session, has exited and the session "
					"ended with it"));
	/* Unloading it from here closes nothing of another process. */
	assert_int_equal(ops->stage_unload(&e.env, handle, (void *)fake_tee_host(l.t)), 0);
	assert_int_equal(fake_tee_open_sessions(l.t), 1);
	life_end(&l);
}

/* ---- reports ---------------------------------------------------------------------------------- */

static void report_flips_and_claims(void **state)
{
	struct life l = { 0 };
	struct ebcc_evidence *ev = NULL;
	struct ebcc_evidence_fields f;
	struct ebcc_backend_report_check check;
	const struct ebcc_backend_ops *ops = ebcc__backend_optee_entry();
	const char *keys[] = { NULL, NULL };
	char *policy, *verdict = NULL, *other_key;
	uint8_t *report;
	struct ebcc_invocation *inv = NULL;
	struct tee_env e;
	EVP_PKEY *other;

	(void)state;
	life_setup(&l, "an echo TA", "", 4096);
	fake_tee_install(l.t, l.uuid, l.digest);
	assert_int_equal(ebcc_instance_start(l.inst), 0);
	assert_int_equal(ebcc_stage_invoke(l.inst, "ta", "hi", 2, NULL, 0, &inv), 0);
	assert_int_equal(ebcc_invocation_evidence(inv, &ev), 0);
	ebcc_invocation_unref(inv);
	f = *ebcc__evidence_fields(ev);
	keys[0] = fake_tee_pubkey_pem(l.t);
	policy = tee_policy("optee", keys, NULL);
	check = (struct ebcc_backend_report_check){
		.size = sizeof(check),
		.format = f.format,
		.measurement = f.binding.measurement,
		.eid = f.binding.eid,
		.report_data = f.report_data,
		.report_data_len = 64,
		.report_len = f.report_len,
		.trusted_keys = keys,
		.trusted_keys_count = 1,
	};
	check_policy_set(&check, policy, "optee");
	report = malloc(f.report_len);
	memcpy(report, f.report, f.report_len);
	check.report = report;
	tee_env_init(&e);
	assert_int_equal(ops->verify_report(&e.env, &check, &verdict, NULL), 0);
	free(verdict);
	verdict = NULL;
	/* Every bit of every byte of the report. */
	for (size_t i = 0; i < f.report_len; i++) {
		for (int bit = 0; bit < 8; bit += (i < 46 ? 1 : 3)) {
			int r;

			report[i] ^= (uint8_t)(1u << bit);
			r = ops->verify_report(&e.env, &check, &verdict, NULL);
			report[i] ^= (uint8_t)(1u << bit);
			free(verdict);
			verdict = NULL;
			if (r != EBCC_ERR_VERIFY)
				fail_msg("bit %d of byte %zu: %s", bit, i,
					 r == 0 ? "still verifies" : ebcc_error_name(r));
		}
	}
	/* Claims: another EID; other report_data; another key; a short report. */
	check.eid++;
	assert_int_equal(ops->verify_report(&e.env, &check, &verdict, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(e.error, "for TEE session"));
	check.eid--;
	((uint8_t *)check.report_data)[0] ^= 1; /* a copy: f is the evidence's own */
	assert_int_equal(ops->verify_report(&e.env, &check, &verdict, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(e.error, "does not verify with any of the 1 trusted_keys"));
	((uint8_t *)check.report_data)[0] ^= 1;
	other = fake_pki_rsa_key(2048);
	other_key = fake_pki_pubkey_pem(other);
	keys[0] = other_key;
	assert_int_equal(ops->verify_report(&e.env, &check, &verdict, NULL), EBCC_ERR_VERIFY);
	keys[0] = fake_tee_pubkey_pem(l.t);
	check.report_len = 45;
	assert_int_equal(ops->verify_report(&e.env, &check, &verdict, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(e.error, "ebcc.optee.v1 report: 45 bytes is too short"));
	check.report_len = f.report_len;
	free(policy);
	/* Policies it refuses. */
	policy = tee_policy("optee", keys, "colour", "1", NULL);
	check_policy_set(&check, policy, "optee");
	assert_int_equal(ops->verify_report(&e.env, &check, &verdict, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(e.error, "policy: backend_options.optee: unknown key \"colour\""));
	free(policy);
	policy = tee_policy("optee", keys, "uuid", "\"11111111-2222-3333-4444-555555555555\"", NULL);
	check_policy_set(&check, policy, "optee");
	assert_int_equal(ops->verify_report(&e.env, &check, &verdict, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(e.error, "unknown key \"uuid\" (known: ta_digest, "
					"allow_unverified_signature, attestation)"));
	free(policy);
	EVP_PKEY_free(other);
	free(other_key);
	free(report);
	ebcc_evidence_unref(ev);
	life_end(&l);
}

static void probe_through_the_api(void **state)
{
	struct fake_tee *t = fresh_tee();
	char *root = scratch_dir("optee-probe"), *json = NULL;
	struct ebcc_context *ctx = tee_context(root, NULL, fake_tee_host(t));

	(void)state;
	assert_int_equal(ebcc_backend_probe(ctx, "optee", &json), 0);
	assert_non_null(strstr(json, "\"implementation\":\"OP-TEE\""));
	assert_non_null(strstr(json, "\"available\":true"));
	assert_non_null(strstr(json, "\"isolation\":\"embedded\""));
	ebcc_free(json);
	fake_tee_faults(t)->no_device = true;
	assert_int_equal(ebcc_backend_probe(ctx, "optee", &json), 0);
	assert_non_null(strstr(json, "\"available\":false"));
	assert_non_null(strstr(json, "\"reason\":\"no /dev/tee0: No such file or directory "
				     "(ENOENT): no TEE driver"));
	ebcc_free(json);
	fake_tee_faults(t)->no_device = false;
	fake_tee_faults(t)->impl_id = TEE_IMPL_ID_AMDTEE;
	assert_int_equal(ebcc_backend_probe(ctx, "optee", &json), 0);
	assert_non_null(strstr(json, "is not OP-TEE"));
	ebcc_free(json);
	assert_int_equal(fake_tee_open_contexts(t), 0);
	ebcc_context_unref(ctx);
	scratch_remove(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fake_behaves_like_tee_subsystem),
		cmocka_unit_test(teec_results),
		cmocka_unit_test(lifecycle_ta_digest),
		cmocka_unit_test(lifecycle_ta_memory),
		cmocka_unit_test(lifecycle_ta_binding),
		cmocka_unit_test(invoke_results),
		cmocka_unit_test(load_failures),
		cmocka_unit_test(image_must_be_the_ta),
		cmocka_unit_test(other_process),
		cmocka_unit_test(report_flips_and_claims),
		cmocka_unit_test(probe_through_the_api),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
