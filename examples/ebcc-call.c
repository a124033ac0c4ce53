/* SPDX-License-Identifier: MIT */
/*
 * ebcc-call: sends one request to a confidential stage through the socket that ebcc-oci-hook
 * exposes inside a container, and writes the response to stdout and the evidence to a file.
 *
 *   ebcc-call SOCKET STAGE [--nonce HEX] [--evidence FILE] < request > response
 *
 * It runs inside containers that may hold nothing but a static shell, so it uses libc only and
 * is linked statically. The protocol is in hook/protocol.h and ebcc-oci-hook(8).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ebcc/ebcc.h> /* EBCC_VERSION_STRING only: nothing of the library is linked */

#include "hook/protocol.h"

#define NAME "ebcc-call"
#define EXIT_FAIL 1
/* Without --nonce the request gets a fresh random one of this many bytes. */
#define DEFAULT_NONCE_LEN 32

struct call {
	const char *socket_path;
	const char *stage;
	const char *evidence_path;
	uint8_t nonce[PROTO_NONCE_MAX];
	size_t nonce_len;
	char *body;
	size_t body_len;
	int evidence_fd;
};

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	char line[PROTO_MESSAGE_MAX + 512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, NAME ": %s\n", line);
	return EXIT_FAIL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " NAME " SOCKET STAGE [--nonce HEX] [--evidence FILE] < request > response\n"
		"\n"
		"Sends the request on stdin to STAGE of this container's composite through SOCKET\n"
		"(the socket ebcc-oci-hook exposes), writes the response to stdout and the evidence\n"
		"that binds both to the measured stage to FILE.\n"
		"\n"
		"  -n, --nonce HEX      the nonce bound into the evidence, up to 64 bytes in hex\n"
		"                       (default: 32 fresh random bytes)\n"
		"  -e, --evidence FILE  write the evidence (JSON) to FILE\n"
		"  -h, --help           show this help\n"
		"      --version        show the version\n"
		"\n"
		"Exit status: 0 on success; 1 when the stage, the broker or the connection fails\n"
		"(one line on stderr).\n");
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_nonce(const char *hex, struct call *c)
{
	size_t len = strlen(hex);

	if (len == 0 || len % 2 != 0 || len / 2 > PROTO_NONCE_MAX)
		return fail("--nonce \"%s\": 1 to %d bytes in hex (an even number of digits)", hex,
			    PROTO_NONCE_MAX);
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return fail("--nonce \"%s\": not hexadecimal", hex);
		c->nonce[i] = (uint8_t)(hi << 4 | lo);
	}
	c->nonce_len = len / 2;
	return 0;
}

static int random_nonce(struct call *c)
{
	size_t done = 0;

	while (done < DEFAULT_NONCE_LEN) {
		ssize_t n = getrandom(c->nonce + done, DEFAULT_NONCE_LEN - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("getrandom: %s", strerror(errno));
		done += (size_t)n;
	}
	c->nonce_len = DEFAULT_NONCE_LEN;
	return 0;
}

/* The whole of stdin, at most PROTO_REQUEST_MAX bytes (the broker refuses more anyway). */
static int read_request(struct call *c)
{
	size_t size = 0;

	for (;;) {
		ssize_t n;

		if (c->body_len == size) {
			size_t want = size ? size * 2 : 65536;
			char *grown;

			if (want > (size_t)PROTO_REQUEST_MAX + 1)
				want = (size_t)PROTO_REQUEST_MAX + 1;
			if (want <= size)
				return fail("the request on stdin is longer than %" PRIu32 " bytes",
					    PROTO_REQUEST_MAX);
			grown = realloc(c->body, want);
			if (grown == NULL)
				return fail("reading the request: out of memory");
			c->body = grown;
			size = want;
		}
		n = read(STDIN_FILENO, c->body + c->body_len, size - c->body_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("reading the request from stdin: %s", strerror(errno));
		if (n == 0)
			break;
		c->body_len += (size_t)n;
	}
	if (c->body_len > PROTO_REQUEST_MAX)
		return fail("the request on stdin is longer than %" PRIu32 " bytes",
			    PROTO_REQUEST_MAX);
	return 0;
}

static int connect_socket(const char *path, int *ret_fd)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return fail("%s: a socket path must be shorter than %zu bytes", path,
			    sizeof(addr.sun_path));
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int saved = errno;

		close(fd);
		return fail("connect to %s: %s", path, strerror(saved));
	}
	*ret_fd = fd;
	return 0;
}

static int send_request(int fd, const struct call *c)
{
	struct proto_request_header h = {
		.stage_len = (uint8_t)strlen(c->stage),
		.nonce_len = (uint8_t)c->nonce_len,
		.body_len = (uint32_t)c->body_len,
	};
	uint8_t header[PROTO_REQUEST_HEADER_SIZE];

	proto_request_header_encode(&h, header);
	if (fd_write_all(fd, header, sizeof(header)) < 0 ||
	    fd_write_all(fd, c->stage, h.stage_len) < 0 ||
	    fd_write_all(fd, c->nonce, c->nonce_len) < 0 ||
	    fd_write_all(fd, c->body, c->body_len) < 0) {
		/* A broker that refuses a request early (too big, unknown stage) answers and
		 * closes before reading it all: its answer is still there to read. */
		if (errno == EPIPE || errno == ECONNRESET)
			return 0;
		return fail("sending the request to %s: %s", c->socket_path, strerror(errno));
	}
	shutdown(fd, SHUT_WR);
	return 0;
}

static int receive_response(int fd, const struct call *c)
{
	uint8_t header[PROTO_RESPONSE_HEADER_SIZE];
	struct proto_response_header h;
	char message[PROTO_MESSAGE_MAX + 1];
	const char *problem;
	char *evidence;
	int r, read_failed = 0;

	r = fd_read_exact(fd, header, sizeof(header));
	if (r != 0)
		return fail("%s: no response from %s: %s", c->stage, c->socket_path,
			    r == 1 ? "the broker closed the connection" : strerror(errno));
	if (proto_response_header_decode(header, &h, &problem) < 0)
		return fail("%s: malformed response from %s: %s", c->stage, c->socket_path, problem);
	if (fd_read_exact(fd, message, h.message_len) != 0)
		return fail("%s: truncated response from %s", c->stage, c->socket_path);
	message[h.message_len] = '\0';
	if (h.status < 0)
		return fail("%s: %s", c->stage, h.message_len > 0 ? message : "failed");

	if (fd_copy_exact(fd, STDOUT_FILENO, h.body_len, &read_failed) < 0)
		return fail("%s: %s the response: %s", c->stage,
			    read_failed ? "receiving" : "writing", strerror(errno));
	evidence = malloc(h.evidence_len);
	if (evidence == NULL)
		return fail("%s: out of memory for the evidence", c->stage);
	r = fd_read_exact(fd, evidence, h.evidence_len);
	if (r == 0 && c->evidence_fd >= 0 && fd_write_all(c->evidence_fd, evidence, h.evidence_len) < 0) {
		free(evidence);
		return fail("writing the evidence to %s: %s", c->evidence_path, strerror(errno));
	}
	free(evidence);
	if (r != 0)
		return fail("%s: truncated evidence from %s", c->stage, c->socket_path);
	return 0;
}

static int parse_args(int argc, char **argv, struct call *c, int *ret_exit)
{
	static const struct option opts[] = {
		{ "nonce", required_argument, NULL, 'n' },
		{ "evidence", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *nonce = NULL;
	int opt;

	*ret_exit = EXIT_FAIL;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:e:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			nonce = optarg;
			break;
		case 'e':
			c->evidence_path = optarg;
			break;
		case 'h':
			usage(stdout);
			*ret_exit = 0;
			return -1;
		case 'V':
			printf(NAME " version " EBCC_VERSION_STRING "\n");
			*ret_exit = 0;
			return -1;
		case ':':
			fail("option %s needs an argument (see --help)", argv[optind - 1]);
			return -1;
		default:
			fail("unknown option %s (see --help)", argv[optind - 1]);
			return -1;
		}
	}
	if (argc - optind != 2) {
		fail(argc - optind < 2 ? "SOCKET and STAGE are required (see --help)"
				       : "too many arguments (see --help)");
		return -1;
	}
	c->socket_path = argv[optind];
	c->stage = argv[optind + 1];
	if (!proto_stage_name_valid(c->stage, strlen(c->stage))) {
		fail("stage name \"%s\": 1 to 64 of [a-z0-9_-]", c->stage);
		return -1;
	}
	if (nonce != NULL ? parse_nonce(nonce, c) != 0 : random_nonce(c) != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct call c = { .evidence_fd = -1 };
	int fd = -1, code;

	if (parse_args(argc, argv, &c, &code) < 0)
		return code;
	code = EXIT_FAIL;
	/* Opened first: an unwritable evidence file must fail before the stage is invoked. */
	if (c.evidence_path != NULL) {
		c.evidence_fd = open(c.evidence_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
							      O_NOCTTY, 0644);
		if (c.evidence_fd < 0) {
			fail("%s: %s", c.evidence_path, strerror(errno));
			goto out;
		}
	}
	if (read_request(&c) != 0 || connect_socket(c.socket_path, &fd) != 0 ||
	    send_request(fd, &c) != 0 || receive_response(fd, &c) != 0)
		goto out;
	if (c.evidence_fd >= 0 && close(c.evidence_fd) < 0) {
		c.evidence_fd = -1;
		fail("%s: %s", c.evidence_path, strerror(errno));
		goto out;
	}
	c.evidence_fd = -1;
	code = 0;
out:
	if (fd >= 0)
		close(fd);
	if (c.evidence_fd >= 0)
		close(c.evidence_fd);
	free(c.body);
	return code;
}
