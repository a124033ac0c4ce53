/* SPDX-License-Identifier: MIT */
/*
 * The raw floors: the unavoidable work of one invocation done with plain libc and OpenSSL
 * calls, without libebcc, to judge the library's overhead against.
 *
 *  - A warm stage: the same stage image started with fork + execve, a listening Unix socket
 *    on descriptor 3 as the sim backend hands it (ebcc-backends(7)), stdio on /dev/null.
 *  - One exchange: a new connection, the BIND and REQUEST frames, LOG frames, the REPORT and
 *    the RESPONSE frame read back, close; then the check every host makes of the stage's
 *    binding: SHA-256 of request and response and the SHA-512 binding over them (OpenSSL),
 *    compared with the REPORT's report_data. The frames are encoded here from
 *    ebcc-stage-protocol(7), not with the library's codec.
 *  - A run-to-completion stage: socketpair on descriptor 3, fork, fexecve of the image
 *    descriptor (opened once), one exchange, hang up, waitpid.
 *  - One report as the sim backend's stage obtains it: a round trip on a SOCK_SEQPACKET
 *    socket to a signing process (started once) that makes one Ed25519 signature with
 *    libsodium, as the security monitor does.
 *  - The artifact files of one invocation: the same names and sizes the library wrote, in a
 *    temporary directory of the same stage directory, renamed into place; with durability
 *    every file and both directories fsync'ed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "bench.h"

/* ---- frames (ebcc-stage-protocol(7)) --------------------------------------------------------- */

#define FRAME_HEADER 8
#define FRAME_REQUEST 1
#define FRAME_RESPONSE 2
#define FRAME_LOG 3
#define FRAME_ERROR 4
#define FRAME_BIND 5
#define FRAME_REPORT 6
#define FRAME_TEXT_MAX (4 + 4096)
#define REPORT_DATA 64

static void frame_header(uint8_t h[FRAME_HEADER], uint8_t type, uint32_t len)
{
	h[0] = 0xEB;
	h[1] = 0xCC;
	h[2] = 2;
	h[3] = type;
	h[4] = (uint8_t)len;
	h[5] = (uint8_t)(len >> 8);
	h[6] = (uint8_t)(len >> 16);
	h[7] = (uint8_t)(len >> 24);
}

static int read_exact(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (uint8_t *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* F(x) = u32be(length) || x, at out. */
static size_t put_field(uint8_t *out, const void *data, uint32_t len)
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	memcpy(out + 4, data, len);
	return 4 + (size_t)len;
}

/* The BIND payload of an invocation like the library's (an id, a stage name, EID, sequence
 * number, a measurement and a 16-byte nonce), built once. */
static uint8_t bind_payload[256];
static size_t bind_len;

static void make_bind(void)
{
	static const char measurement[] =
		"sha256:0000000000000000000000000000000000000000000000000000000000000000";
	const uint8_t u64[8] = { 0, 0, 0, 0, 0, 0, 0, 1 }, nonce[16] = { 0 };

	if (bind_len > 0)
		return;
	bind_len += put_field(bind_payload + bind_len, "warm", 4);
	bind_len += put_field(bind_payload + bind_len, "echo", 4);
	bind_len += put_field(bind_payload + bind_len, u64, 8);
	bind_len += put_field(bind_payload + bind_len, u64, 8);
	bind_len += put_field(bind_payload + bind_len, measurement, sizeof(measurement) - 1);
	bind_len += put_field(bind_payload + bind_len, nonce, sizeof(nonce));
}

static int send_request(int fd, const void *req, size_t len)
{
	uint8_t hb[FRAME_HEADER], h[FRAME_HEADER];
	struct iovec iov[4] = { { hb, sizeof(hb) }, { bind_payload, bind_len }, { h, sizeof(h) },
				{ (void *)req, len } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 4 };

	make_bind();
	iov[1].iov_len = bind_len;
	frame_header(hb, FRAME_BIND, (uint32_t)bind_len);
	frame_header(h, FRAME_REQUEST, (uint32_t)len);
	while (msg.msg_iovlen > 0) {
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		while (msg.msg_iovlen > 0 && n >= 0) {
			size_t take = (size_t)n < msg.msg_iov->iov_len ? (size_t)n
								       : msg.msg_iov->iov_len;

			msg.msg_iov->iov_base = (uint8_t *)msg.msg_iov->iov_base + take;
			msg.msg_iov->iov_len -= take;
			n -= (ssize_t)take;
			if (msg.msg_iov->iov_len > 0)
				break;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
	}
	return 0;
}

/* The host's check of the stage's binding: report_data over BIND, request and response. */
static int binding_holds(const void *req, size_t len, const void *resp, size_t resp_len,
			 const uint8_t report_data[REPORT_DATA])
{
	uint8_t in[4 + 16 + sizeof(bind_payload) + 2 * 36], digest[32], rd[REPORT_DATA];
	unsigned int n = 0;
	size_t at = put_field(in, "EBCC-EVIDENCE-V2", 16);

	memcpy(in + at, bind_payload, bind_len);
	at += bind_len;
	if (EVP_Digest(req, len, digest, NULL, EVP_sha256(), NULL) != 1)
		return -1;
	at += put_field(in + at, digest, 32);
	if (EVP_Digest(resp, resp_len, digest, NULL, EVP_sha256(), NULL) != 1)
		return -1;
	at += put_field(in + at, digest, 32);
	if (EVP_Digest(in, at, rd, &n, EVP_sha512(), NULL) != 1)
		return -1;
	return memcmp(rd, report_data, REPORT_DATA) == 0 ? 0 : -1;
}

/* BIND and REQUEST out; LOG frames, the REPORT, then RESPONSE back into buf; the binding
 * checked. */
static int exchange(int fd, const void *req, size_t len, void *buf, size_t cap, size_t *ret_len)
{
	uint8_t text[FRAME_TEXT_MAX], report_data[REPORT_DATA];
	bool reported = false;

	if (send_request(fd, req, len) < 0)
		return -1;
	for (;;) {
		uint8_t h[FRAME_HEADER];
		uint32_t n;

		if (read_exact(fd, h, sizeof(h)) < 0 || h[0] != 0xEB || h[1] != 0xCC || h[2] != 2)
			return -1;
		n = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 |
		    (uint32_t)h[7] << 24;
		if (h[3] == FRAME_RESPONSE && reported) {
			if (n > cap || (n > 0 && read_exact(fd, buf, n) < 0))
				return -1;
			*ret_len = n;
			return binding_holds(req, len, buf, n, report_data);
		}
		/* report_data, then the report of the stage's TEE primitive when it has one (the
		 * sim security monitor's, for a stage libebcc started). */
		if (h[3] == FRAME_REPORT && !reported && n >= REPORT_DATA &&
		    n - REPORT_DATA <= sizeof(text)) {
			if (read_exact(fd, report_data, REPORT_DATA) < 0 ||
			    (n > REPORT_DATA && read_exact(fd, text, n - REPORT_DATA) < 0))
				return -1;
			reported = true;
			continue;
		}
		if (h[3] != FRAME_LOG || n > sizeof(text) || read_exact(fd, text, n) < 0)
			return -1; /* ERROR, or anything unexpected */
	}
}

/* ---- stage processes --------------------------------------------------------------------------- */

static char *const stage_argv[] = { (char *)"echo", NULL };
static char *const stage_envp[] = { NULL };

/* In a child before exec: stdio on /dev/null and channel on descriptor 3, all inherited
 * (dup2 clears close-on-exec on its copy, but does nothing when the descriptor is already 3). */
static int child_fds(int devnull, int channel)
{
	if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
		return -1;
	if (channel == 3)
		return fcntl(3, F_SETFD, 0);
	return dup2(channel, 3) < 0 ? -1 : 0;
}

int raw_stage_start(const char *image, const char *sock_path, struct raw_stage *ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, devnull;
	pid_t pid;

	if (strlen(sock_path) >= sizeof(sa.sun_path) || strlen(sock_path) >= sizeof(ret->sock_path)) {
		fprintf(stderr, "ebcc-bench: socket path %s is too long\n", sock_path);
		return -1;
	}
	strcpy(sa.sun_path, sock_path);
	unlink(sock_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return fail_errno("socket");
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0) {
		close(lfd);
		return fail_errno(sock_path);
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid = devnull < 0 ? -1 : fork();
	if (pid == 0) {
		if (child_fds(devnull, lfd) < 0)
			_exit(127);
		execve(image, stage_argv, stage_envp);
		_exit(127);
	}
	close(lfd);
	if (devnull >= 0)
		close(devnull);
	if (pid < 0) {
		unlink(sock_path);
		return fail_errno("fork a raw stage");
	}
	ret->pid = pid;
	strcpy(ret->sock_path, sock_path);
	return 0;
}

void raw_stage_stop(struct raw_stage *s)
{
	if (s->pid > 0)
		proc_kill(s->pid);
	if (s->sock_path[0] != '\0')
		unlink(s->sock_path);
	s->pid = 0;
	s->sock_path[0] = '\0';
}

int raw_roundtrip(const char *sock_path, const void *req, size_t len, void *buf, size_t cap,
		  size_t *ret_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -1
								 : exchange(fd, req, len, buf, cap, ret_len);
	close(fd);
	return r;
}

int raw_oneshot(int image_fd, const void *req, size_t len, void *buf, size_t cap,
		size_t *ret_len)
{
	static int devnull = -1;
	int sv[2], status, r;
	pid_t pid;

	if (devnull < 0 && (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		/* The image must not sit where the channel goes. */
		if (image_fd <= 3 && (image_fd = fcntl(image_fd, F_DUPFD_CLOEXEC, 4)) < 0)
			_exit(127);
		if (child_fds(devnull, sv[1]) < 0)
			_exit(127);
		fexecve(image_fd, stage_argv, stage_envp);
		_exit(127);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	r = exchange(sv[0], req, len, buf, cap, ret_len);
	close(sv[0]); /* the host hangs up: the stage's serve loop ends */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* ---- the signature ------------------------------------------------------------------------------ */

/* A process that signs what it is sent, on a SOCK_SEQPACKET socket: what the sim backend's
 * security monitor is to its stage. */
struct raw_signer {
	int fd;
	pid_t pid;
};

static void raw_monitor(int fd, const unsigned char secret[crypto_sign_SECRETKEYBYTES])
{
	unsigned char in[64], out[64 + crypto_sign_BYTES];
	ssize_t n;

	while ((n = recv(fd, in, sizeof(in), 0)) > 0) {
		memcpy(out, in, sizeof(in));
		crypto_sign_detached(out + 64, NULL, in, (size_t)n, secret);
		if (send(fd, out, sizeof(out), MSG_NOSIGNAL) < 0)
			break;
	}
	_exit(0);
}

int raw_signer_new(struct raw_signer **ret)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], secret[crypto_sign_SECRETKEYBYTES];
	struct raw_signer *s = calloc(1, sizeof(*s));
	int sv[2];

	if (s == NULL)
		return -1;
	if (sodium_init() < 0 || crypto_sign_keypair(pk, secret) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		free(s);
		fprintf(stderr, "ebcc-bench: cannot set up the raw signing process\n");
		return -1;
	}
	s->pid = fork();
	if (s->pid == 0) {
		close(sv[0]);
		raw_monitor(sv[1], secret);
	}
	sodium_memzero(secret, sizeof(secret));
	close(sv[1]);
	s->fd = sv[0];
	if (s->pid < 0) {
		close(s->fd);
		free(s);
		return fail_errno("fork the raw signing process");
	}
	*ret = s;
	return 0;
}

/* One report as the sim backend's stage gets it: a round trip to the signing process, which
 * makes one Ed25519 signature. */
int raw_sign(struct raw_signer *s, const uint8_t report_data[64])
{
	unsigned char out[64 + crypto_sign_BYTES];

	if (send(s->fd, report_data, 64, MSG_NOSIGNAL) != 64)
		return -1;
	return recv(s->fd, out, sizeof(out), 0) == (ssize_t)sizeof(out) ? 0 : -1;
}

void raw_signer_free(struct raw_signer *s)
{
	if (s == NULL)
		return;
	close(s->fd); /* the signing process sees end of file and exits */
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(s);
}

/* ---- the artifact files -------------------------------------------------------------------------- */

/* The library's order: bodies, log, evidence, meta.json last. */
static int file_rank(const char *name)
{
	static const char *const order[] = { "request.bin", "response.bin", "log.txt",
					     "evidence.json", "meta.json" };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (strcmp(name, order[i]) == 0)
			return (int)i;
	return 99;
}

int raw_artifacts_like(const char *invocation_dir, bool durable, struct raw_artifacts *ret)
{
	DIR *d = opendir(invocation_dir);
	struct dirent *de;

	*ret = (struct raw_artifacts){ .durable = durable };
	if (d == NULL)
		return fail_errno(invocation_dir);
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		size_t i;

		snprintf(path, sizeof(path), "%s/%s", invocation_dir, de->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (ret->n == RAW_FILES_MAX || strlen(de->d_name) >= sizeof(ret->names[0])) {
			closedir(d);
			fprintf(stderr, "ebcc-bench: unexpected files in %s\n", invocation_dir);
			return -1;
		}
		/* Insertion in the library's order. */
		for (i = ret->n; i > 0 && file_rank(ret->names[i - 1]) > file_rank(de->d_name); i--) {
			memcpy(ret->names[i], ret->names[i - 1], sizeof(ret->names[i]));
			ret->sizes[i] = ret->sizes[i - 1];
		}
		snprintf(ret->names[i], sizeof(ret->names[i]), "%s", de->d_name);
		ret->sizes[i] = (size_t)st.st_size;
		ret->n++;
		ret->total += (size_t)st.st_size;
	}
	closedir(d);
	ret->fill = malloc(ret->total + 1);
	if (ret->fill == NULL)
		return -1;
	memset(ret->fill, 'r', ret->total + 1);
	return 0;
}

static int write_file(int dir_fd, const char *name, const char *data, size_t len, bool durable)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = 0;

	if (fd < 0)
		return -1;
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = -1;
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	if (r == 0 && durable && fsync(fd) < 0)
		r = -1;
	if (close(fd) < 0)
		r = -1;
	return r;
}

int raw_artifacts_write(int stage_dir_fd, const struct raw_artifacts *a, uint64_t n)
{
	char tmp[64], name[64];
	const char *p = a->fill;
	int dir_fd, r = 0;

	snprintf(tmp, sizeof(tmp), ".raw-tmp-%llu", (unsigned long long)n);
	snprintf(name, sizeof(name), "raw-%llu", (unsigned long long)n);
	if (mkdirat(stage_dir_fd, tmp, 0700) < 0)
		return -1;
	dir_fd = openat(stage_dir_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dir_fd < 0)
		return -1;
	for (size_t i = 0; i < a->n && r == 0; i++) {
		r = write_file(dir_fd, a->names[i], p, a->sizes[i], a->durable);
		p += a->sizes[i];
	}
	if (r == 0 && a->durable && fsync(dir_fd) < 0)
		r = -1;
	close(dir_fd);
	if (r == 0 && renameat(stage_dir_fd, tmp, stage_dir_fd, name) < 0)
		r = -1;
	if (r == 0 && a->durable && fsync(stage_dir_fd) < 0)
		r = -1;
	return r;
}

void raw_artifacts_clear(struct raw_artifacts *a)
{
	free(a->fill);
	*a = (struct raw_artifacts){ 0 };
}
