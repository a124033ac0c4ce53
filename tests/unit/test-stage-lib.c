/* SPDX-License-Identifier: MIT */
/*
 * The stage library (libebcc-stage.a) on its own: ebcc_stage_serve() in a child process with a
 * socketpair or a listening socket on descriptor 3, driven frame by frame from here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

#include <openssl/sha.h>

#include "frame.h"
#include "sealformat.h"

static int handler(const void *request, size_t len, void **ret, size_t *ret_len, void *userdata)
{
	int *calls = userdata;
	char *out;

	(*calls)++;
	ebcc_stage_log("handling");
	if (len == 4 && memcmp(request, "fail", 4) == 0)
		return EBCC_ERR_PERMISSION;
	if (len >= 3 && memcmp(request, "key", 3) == 0) {
		unsigned char pk[32], again[32];

		/* Twice in one request: one key. */
		if (ebcc_stage_key_public(pk) < 0 || ebcc_stage_key_public(again) < 0 ||
		    memcmp(pk, again, 32) != 0)
			return EBCC_ERR_STAGE;
		if (len == 8 && memcmp(request, "key-fail", 8) == 0)
			return EBCC_ERR_PERMISSION; /* the key this request made is wiped */
		out = malloc(32);
		if (out == NULL)
			return EBCC_ERR_NO_MEMORY;
		memcpy(out, pk, 32);
		*ret = out;
		*ret_len = 32;
		return 0;
	}
	if (len >= 5 && memcmp(request, "open:", 5) == 0) {
		void *secret = NULL;
		size_t secret_len = 0;
		int r = ebcc_stage_open_secret((const char *)request + 5, len - 5, &secret,
					       &secret_len);

		ebcc_stage_secret_free(secret, secret_len);
		out = malloc(16);
		if (out == NULL)
			return EBCC_ERR_NO_MEMORY;
		*ret_len = (size_t)snprintf(out, 16, "%d", r);
		*ret = out;
		return 0;
	}
	out = malloc(len + 1);
	if (out == NULL)
		return EBCC_ERR_NO_MEMORY;
	memcpy(out, request, len);
	out[len] = '!';
	*ret = out;
	*ret_len = len + 1;
	return 0;
}

/* Runs ebcc_stage_serve() in a child with `channel` as descriptor 3; returns its pid. The
 * child exits with 100 + (-result). */
static pid_t serve_in_child(int channel)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int calls = 0, r;

		unsigned char pk[32];

		signal(SIGPIPE, SIG_DFL);
		if (dup2(channel, EBCC_STAGE_CHANNEL_FD) < 0)
			_exit(99);
		ebcc_stage_log("outside a request: dropped");
		if (ebcc_stage_key_public(pk) != EBCC_ERR_STATE) /* no answer would bind it */
			_exit(98);
		r = ebcc_stage_serve(handler, &calls);
		_exit(100 - r);
	}
	return pid;
}

static int child_result(pid_t pid)
{
	int status = 0;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return 100 - WEXITSTATUS(status);
}

/* The BIND payload every request here carries. */
static size_t test_bind(uint8_t out[EBCC_FRAME_BIND_MAX])
{
	const struct ebcc_frame_bind b = {
		.instance = "web", .instance_len = 3, .stage = "echo", .stage_len = 4,
		.eid = 3, .seq = 9, .measurement = "sha256:00", .measurement_len = 9,
	};
	size_t n = ebcc__frame_encode_bind(&b, out, EBCC_FRAME_BIND_MAX);

	assert_true(n > 0);
	return n;
}

/* report_data as a verifier computes it, with OpenSSL: the stage's (BearSSL) must equal it;
 * with a public key (32 bytes), evidence version 3's. */
static void expected_report_data_keyed(const char *request, const void *response,
				       size_t response_len, const uint8_t *public_key,
				       uint8_t out[64])
{
	uint8_t buf[4 + 16 + EBCC_FRAME_BIND_MAX + 3 * 36];
	size_t n = 20;

	ebcc__frame_put_field(buf, public_key != NULL ? "EBCC-EVIDENCE-V3" : "EBCC-EVIDENCE-V2",
			      16);
	n += test_bind(buf + n);
	buf[n] = buf[n + 1] = buf[n + 2] = 0;
	buf[n + 3] = 32;
	SHA256((const unsigned char *)request, strlen(request), buf + n + 4);
	n += 36;
	buf[n] = buf[n + 1] = buf[n + 2] = 0;
	buf[n + 3] = 32;
	SHA256(response, response_len, buf + n + 4);
	n += 36;
	if (public_key != NULL) {
		ebcc__frame_put_field(buf + n, public_key, 32);
		n += 36;
	}
	SHA512(buf, n, out);
}

static void expected_report_data(const char *request, const void *response, size_t response_len,
				 uint8_t out[64])
{
	expected_report_data_keyed(request, response, response_len, NULL, out);
}

static void send_request_bytes(int fd, const void *text, size_t len)
{
	uint8_t hdr[EBCC_FRAME_HEADER_SIZE], bind[EBCC_FRAME_BIND_MAX];
	size_t bind_len = test_bind(bind);

	ebcc__frame_encode_header(hdr, EBCC_FRAME_BIND, (uint32_t)bind_len);
	assert_int_equal(write(fd, hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(write(fd, bind, bind_len), (ssize_t)bind_len);

	ebcc__frame_encode_header(hdr, EBCC_FRAME_REQUEST, (uint32_t)len);
	assert_int_equal(write(fd, hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(write(fd, text, len), (ssize_t)len);
}

static void send_request(int fd, const char *text)
{
	send_request_bytes(fd, text, strlen(text));
}

/* Reads one frame (payload up to 4096 bytes) into *f and buf. */
static void read_frame(int fd, struct ebcc_frame *f, uint8_t *buf, size_t size)
{
	static const struct ebcc_frame_limits lim = {
		EBCC_FRAME_BIT(EBCC_FRAME_RESPONSE) | EBCC_FRAME_BIT(EBCC_FRAME_LOG) |
			EBCC_FRAME_BIT(EBCC_FRAME_ERROR) | EBCC_FRAME_BIT(EBCC_FRAME_REPORT) |
			EBCC_FRAME_BIT(EBCC_FRAME_KEY),
		4096,
	};
	size_t got = 0, used = 0;

	for (;;) {
		ssize_t n;
		int r = ebcc__frame_decode(buf, got, &lim, f, &used);

		if (r == EBCC_FRAME_OK)
			return;
		assert_int_equal(r, EBCC_FRAME_INCOMPLETE);
		/* One byte at a time: never read into the next frame. */
		assert_true(got < size);
		n = read(fd, buf + got, 1);
		assert_int_equal(n, 1);
		got++;
	}
}

/* The answer to request: the handler's LOG line, the REPORT with the stage's binding of request
 * and response (no report of its own), then the RESPONSE, which is left in *f. */
static void read_answer(int fd, const char *request, struct ebcc_frame *f, uint8_t *buf,
			size_t size)
{
	uint8_t want[64], got[64];

	read_frame(fd, f, buf, size);
	assert_int_equal(f->type, EBCC_FRAME_LOG);
	read_frame(fd, f, buf, size);
	assert_int_equal(f->type, EBCC_FRAME_REPORT);
	assert_int_equal(f->length, 64);
	memcpy(got, f->payload, 64);
	read_frame(fd, f, buf, size);
	assert_int_equal(f->type, EBCC_FRAME_RESPONSE);
	expected_report_data(request, f->payload, f->length, want);
	assert_memory_equal(got, want, 64);
}

/* "open:" and a well-formed sealed secret to public_key and report_data (its ciphertext is
 * 16 bytes that no key opens); the length of the request in out. */
static size_t open_request(const uint8_t public_key[32], const uint8_t report_data[64],
			   uint8_t *out, size_t cap)
{
	static const uint8_t ephemeral[32] = { 9 }; /* the base point: a valid public key */
	static const uint8_t iv[12];
	struct ebcc_seal_blob b = {
		.instance = (const uint8_t *)"web", .instance_len = 3,
		.stage = (const uint8_t *)"echo", .stage_len = 4,
		.measurement = (const uint8_t *)"sha256:00", .measurement_len = 9,
		.report_data = report_data, .public_key = public_key, .ephemeral_key = ephemeral,
		.iv = iv, .ciphertext_len = 16,
	};
	size_t n;

	memcpy(out, "open:", 5);
	n = ebcc__seal_encode_header(&b, out + 5, cap - 5);
	assert_true(n > 0 && 5 + n + 4 + 32 <= cap);
	memset(out + 5 + n + 4, 0xa5, 32);
	return 5 + n + 4 + 32;
}

/* The open request's answer: the library's return code, as the handler wrote it. */
static int open_result(int fd, const uint8_t *request, size_t len)
{
	uint8_t buf[4200];
	struct ebcc_frame f;
	char text[16];

	send_request_bytes(fd, request, len);
	read_frame(fd, &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_LOG);
	read_frame(fd, &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_REPORT);
	read_frame(fd, &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_RESPONSE);
	assert_true(f.length < sizeof(text));
	memcpy(text, f.payload, f.length);
	text[f.length] = '\0';
	return atoi(text);
}

/* ebcc_stage_key_public(): the KEY frame before the REPORT, report_data of version 3 over it,
 * and ebcc_stage_open_secret()'s refusals of what no key, another key or another answer's
 * report_data would open. The round trip with the relying party's side is test_secrets.py. */
static void stage_held_key(void **state)
{
	uint8_t buf[4200], pk[32], got[64], want[64], other[64] = { 1 }, req[512];
	struct ebcc_frame f;
	void *secret = NULL;
	size_t secret_len = 0, n;
	int sv[2];
	pid_t pid;

	(void)state;
	/* Outside a request, and its argument checks. */
	assert_int_equal(ebcc_stage_key_public(pk), EBCC_ERR_STATE);
	assert_int_equal(ebcc_stage_key_public(NULL), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_stage_open_secret(NULL, 0, &secret, &secret_len),
			 EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_stage_open_secret("x", 1, NULL, &secret_len), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_stage_open_secret("x", 1, &secret, NULL), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_stage_open_secret("EBCCSEAL", 8, &secret, &secret_len),
			 EBCC_ERR_CORRUPT);
	ebcc_stage_secret_free(NULL, 0);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = serve_in_child(sv[1]);
	close(sv[1]);

	/* No key yet. */
	n = open_request(other, other, req, sizeof(req));
	assert_int_equal(open_result(sv[0], req, n), EBCC_ERR_STATE);

	send_request(sv[0], "key");
	read_frame(sv[0], &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_LOG);
	read_frame(sv[0], &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_KEY);
	assert_int_equal(f.length, 32);
	memcpy(pk, f.payload, 32);
	read_frame(sv[0], &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_REPORT);
	memcpy(got, f.payload, 64);
	read_frame(sv[0], &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_RESPONSE);
	assert_int_equal(f.length, 32);
	assert_memory_equal(f.payload, pk, 32);
	expected_report_data_keyed("key", pk, 32, pk, want);
	assert_memory_equal(got, want, 64);

	/* Sealed to another key, to this key under another answer's report_data, or to both
	 * but not by a sealer that knows the key: refused, and the key stays. */
	n = open_request(other, got, req, sizeof(req));
	assert_int_equal(open_result(sv[0], req, n), EBCC_ERR_VERIFY);
	n = open_request(pk, other, req, sizeof(req));
	assert_int_equal(open_result(sv[0], req, n), EBCC_ERR_VERIFY);
	n = open_request(pk, got, req, sizeof(req));
	assert_int_equal(open_result(sv[0], req, n), EBCC_ERR_VERIFY);
	assert_int_equal(open_result(sv[0], (const uint8_t *)"open:EBCCSEAL", 13),
			 EBCC_ERR_CORRUPT);

	/* A request that makes a key and fails: no KEY frame, and its key (which replaced the
	 * bound one) is wiped. */
	send_request(sv[0], "key-fail");
	read_frame(sv[0], &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_LOG);
	read_frame(sv[0], &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_ERROR);
	assert_int_equal(f.error_code, EBCC_ERR_PERMISSION);
	n = open_request(pk, got, req, sizeof(req));
	assert_int_equal(open_result(sv[0], req, n), EBCC_ERR_STATE);
	/* Answers that bind no key are version 2, as before. */
	send_request(sv[0], "plain");
	read_answer(sv[0], "plain", &f, buf, sizeof(buf));

	close(sv[0]);
	assert_int_equal(child_result(pid), 0);
}

static void null_and_missing_channel(void **state)
{
	pid_t pid;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)state;
	assert_int_equal(ebcc_stage_serve(NULL, NULL), EBCC_ERR_INVALID_ARG);
	ebcc_stage_log(NULL); /* outside a request, NULL: both ignored */
	assert_true(devnull >= 0);
	pid = serve_in_child(devnull); /* not a socket */
	assert_int_equal(child_result(pid), EBCC_ERR_NOT_FOUND);
	close(devnull);
}

static void serves_a_connected_socket(void **state)
{
	uint8_t buf[4200];
	struct ebcc_frame f;
	int sv[2];
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = serve_in_child(sv[1]);
	close(sv[1]);

	send_request(sv[0], "hi");
	read_frame(sv[0], &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_LOG);
	assert_int_equal(f.text_len, 8);
	assert_memory_equal(f.text, "handling", 8);
	read_frame(sv[0], &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_REPORT);
	read_frame(sv[0], &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_RESPONSE);
	assert_int_equal(f.length, 3);
	assert_memory_equal(f.payload, "hi!", 3);

	/* A failed request: no REPORT, only the ERROR. */
	send_request(sv[0], "fail");
	read_frame(sv[0], &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_LOG);
	read_frame(sv[0], &f, buf, sizeof(buf));
	assert_int_equal(f.type, EBCC_FRAME_ERROR);
	assert_int_equal(f.error_code, EBCC_ERR_PERMISSION);

	send_request(sv[0], "");
	read_answer(sv[0], "", &f, buf, sizeof(buf));
	assert_int_equal(f.length, 1);
	send_request(sv[0], "bound");
	read_answer(sv[0], "bound", &f, buf, sizeof(buf));

	/* The host hangs up between requests: serve returns 0. */
	close(sv[0]);
	assert_int_equal(child_result(pid), 0);
}

static void host_breaking_the_protocol(void **state)
{
	uint8_t hdr[EBCC_FRAME_HEADER_SIZE];
	int sv[2];
	pid_t pid;

	(void)state;
	/* A REQUEST without its BIND: the stage binds nothing it was not told. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = serve_in_child(sv[1]);
	close(sv[1]);
	ebcc__frame_encode_header(hdr, EBCC_FRAME_REQUEST, 0);
	assert_int_equal(write(sv[0], hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(child_result(pid), EBCC_ERR_CORRUPT);
	close(sv[0]);

	/* A BIND that is not six fields. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = serve_in_child(sv[1]);
	close(sv[1]);
	ebcc__frame_encode_header(hdr, EBCC_FRAME_BIND, 4);
	assert_int_equal(write(sv[0], hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(write(sv[0], "\0\0\0\0", 4), 4);
	assert_int_equal(child_result(pid), EBCC_ERR_CORRUPT);
	close(sv[0]);

	/* A RESPONSE is not what a stage accepts. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = serve_in_child(sv[1]);
	close(sv[1]);
	ebcc__frame_encode_header(hdr, EBCC_FRAME_RESPONSE, 0);
	assert_int_equal(write(sv[0], hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(child_result(pid), EBCC_ERR_CORRUPT);
	close(sv[0]);

	/* A hangup in the middle of a request. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = serve_in_child(sv[1]);
	close(sv[1]);
	{
		uint8_t bind[EBCC_FRAME_BIND_MAX];
		size_t n = test_bind(bind);

		ebcc__frame_encode_header(hdr, EBCC_FRAME_BIND, (uint32_t)n);
		assert_int_equal(write(sv[0], hdr, sizeof(hdr)), sizeof(hdr));
		assert_int_equal(write(sv[0], bind, n), (ssize_t)n);
	}
	ebcc__frame_encode_header(hdr, EBCC_FRAME_REQUEST, 10);
	assert_int_equal(write(sv[0], hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(write(sv[0], "abc", 3), 3);
	close(sv[0]);
	assert_int_equal(child_result(pid), EBCC_ERR_IO);
}

/* The serving child of the listening test, killed in teardown even when the test fails. */
static pid_t listening_server = -1;

static int kill_server(void **state)
{
	(void)state;
	if (listening_server > 0) {
		kill(listening_server, SIGKILL);
		waitpid(listening_server, NULL, 0);
	}
	listening_server = -1;
	return 0;
}

/* A listening socket: one connection after the other; a peer of another uid is not served. */
static void serves_a_listening_socket(void **state)
{
	char dir[] = "/tmp/ebcc-stage-lib-XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t buf[4200];
	struct ebcc_frame f;
	int lfd, c;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(chmod(sa.sun_path, 0777), 0);
	assert_int_equal(listen(lfd, 4), 0);
	pid = serve_in_child(lfd);
	listening_server = pid;
	close(lfd);

	for (int i = 0; i < 3; i++) {
		c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
		send_request(c, "again");
		read_answer(c, "again", &f, buf, sizeof(buf));
		assert_memory_equal(f.payload, "again!", 6);
		close(c);
	}

	if (geteuid() == 0) {
		/* Another user connects: its connection is closed unserved. */
		pid_t other = fork();

		assert_true(other >= 0);
		if (other == 0) {
			uint8_t hdr[EBCC_FRAME_HEADER_SIZE], byte;
			int ok;

			/* The stage may close the connection before the request is written. */
			signal(SIGPIPE, SIG_IGN);
			if (setgid(65534) < 0 || setuid(65534) < 0)
				_exit(2);
			c = socket(AF_UNIX, SOCK_STREAM, 0);
			if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
				_exit(3);
			ebcc__frame_encode_header(hdr, EBCC_FRAME_REQUEST, 8);
			(void)!write(c, hdr, sizeof(hdr));
			(void)!write(c, "intruder", 8);
			ok = read(c, &byte, 1) <= 0; /* closed (or reset), no answer */
			_exit(ok ? 0 : 1);
		}
		assert_int_equal(child_result(other), 100);
		/* The stage serves on. */
		c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
		send_request(c, "owner");
		read_answer(c, "owner", &f, buf, sizeof(buf));
		assert_memory_equal(f.payload, "owner!", 6);
		close(c);
	}
	kill_server(NULL);
	unlink(sa.sun_path);
	rmdir(dir);
}

/* ebcc_stage_report_data(): the same binding as the served path, for stages the TEE calls. */
static void report_data_for_called_stages(void **state)
{
	uint8_t bind[EBCC_FRAME_BIND_MAX], want[64], got[64];
	size_t bind_len = test_bind(bind);

	(void)state;
	expected_report_data("question", "answer", 6, want);
	assert_int_equal(ebcc_stage_report_data(bind, bind_len, "question", 8, "answer", 6, got), 0);
	assert_memory_equal(got, want, 64);
	expected_report_data("", "", 0, want);
	assert_int_equal(ebcc_stage_report_data(bind, bind_len, NULL, 0, NULL, 0, got), 0);
	assert_memory_equal(got, want, 64);
	/* Not a BIND payload: cut short, a field too long, or NULL where bytes are due. */
	assert_int_equal(ebcc_stage_report_data(bind, bind_len - 1, "q", 1, "a", 1, got),
			 EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_stage_report_data(bind, 3, "q", 1, "a", 1, got), EBCC_ERR_INVALID_ARG);
	bind[3] = 0xff;
	assert_int_equal(ebcc_stage_report_data(bind, bind_len, "q", 1, "a", 1, got),
			 EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_stage_report_data(NULL, 0, "q", 1, "a", 1, got), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_stage_report_data(bind, bind_len, NULL, 1, "a", 1, got),
			 EBCC_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(null_and_missing_channel),
		cmocka_unit_test(report_data_for_called_stages),
		cmocka_unit_test(stage_held_key),
		cmocka_unit_test(serves_a_connected_socket),
		cmocka_unit_test(host_breaking_the_protocol),
		cmocka_unit_test_teardown(serves_a_listening_socket, kill_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
