/* SPDX-License-Identifier: MIT */
/*
 * A hostile stage for the sandbox tests: it speaks the frame protocol itself (no stage library)
 * so that it can also break it. The request names the misdeed:
 *
 *   echo:<x>   answer <x>                    uid        answer getuid()
 *   fds        answer the open descriptors    env        answer the environment's size
 *   stat       stat("/etc/passwd")
 *   limits     answer RLIMIT_AS, _NOFILE, _CPU, _CORE
 *   open       open("/etc/passwd")           socket     socket(AF_INET)
 *   exec       execve("/bin/sh")             execveat   execveat(4, "/bin/sh", AT_EMPTY_PATH)
 *   fork       fork bomb                     ptrace     ptrace(PTRACE_TRACEME)
 *   mmapexec   mmap(PROT_EXEC)               kill       kill(1, SIGKILL)
 *   malloc     malloc(1 GiB) and touch it    crash      write through NULL
 *   logcrash   log two lines, then crash
 *   loop       spin forever                  exit       exit(3)
 *   garbage    write bytes that are no frame oversize   a RESPONSE header of 1 GiB
 *   half       half a RESPONSE, then close the connection (a warm stage serves on)
 *   halfexit   half a RESPONSE, then exit    badlog     a LOG frame with a NUL byte
 *   logflood   2 MiB of log, then answer "done"
 *   late:<ms>  answer "late" after <ms> milliseconds (past a shorter deadline)
 *   bigresp:<n>  a RESPONSE of <n> bytes (more than maxResponse, honestly announced)
 *   overlong   a LOG frame that carries more bytes than its header announced
 *   overlongresp  a RESPONSE "okay" followed by bytes no header announced
 *   noreport   a RESPONSE without the REPORT that must precede it
 *   badbind    a REPORT binding another response than the one it sends
 *   ownreport  a REPORT with report bytes of its own after report_data
 *   v1         a frame of channel protocol 1 (a stage of libebcc-stage 0.1)
 *
 * Every honest answer is a REPORT with the report_data it computed (lib/stage/binding.c) over
 * the BIND fields, the request it read and the response it sends, and its security monitor's
 * report over them (lib/stage/attest.c), then the RESPONSE.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "stage/attest.h"
#include "stage/binding.h"

extern char **environ;

static char *volatile kept;

static void send_all(int fd, const void *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		p = (const char *)p + n;
		len -= (size_t)n;
	}
}

static void send_frame(int fd, uint8_t type, const void *p, size_t len)
{
	uint8_t hdr[EBCC_FRAME_HEADER_SIZE];

	ebcc__frame_encode_header(hdr, type, (uint32_t)len);
	send_all(fd, hdr, sizeof(hdr));
	send_all(fd, p, len);
}

/* This request's BIND payload and the digest of the request. */
static uint8_t bind_fields[EBCC_FRAME_BIND_MAX];
static size_t bind_len;
static uint8_t request_digest[32];

/* The REPORT for a response of these bytes: with the security monitor's report, or with
 * report bytes of its own (extra). */
static void send_report(int fd, const void *response, size_t len, const void *extra,
			size_t extra_len)
{
	uint8_t payload[EBCC_FRAME_REPORT_DATA_SIZE + EBCC_ATTEST_REPORT_MAX], digest[32];
	size_t report_len = 0;

	ebcc__stage_sha256(response, len, digest);
	ebcc__stage_report_data(bind_fields, bind_len, request_digest, digest, payload);
	if (extra != NULL) {
		memcpy(payload + EBCC_FRAME_REPORT_DATA_SIZE, extra, extra_len);
		report_len = extra_len;
	} else if (ebcc__stage_attest(payload, payload + EBCC_FRAME_REPORT_DATA_SIZE,
				      EBCC_ATTEST_REPORT_MAX, &report_len) < 0) {
		report_len = 0;
	}
	send_frame(fd, EBCC_FRAME_REPORT, payload, EBCC_FRAME_REPORT_DATA_SIZE + report_len);
}

static void respond(int fd, const void *p, size_t len)
{
	send_report(fd, p, len, NULL, 0);
	send_frame(fd, EBCC_FRAME_RESPONSE, p, len);
}

static void answer(int fd, const char *text)
{
	respond(fd, text, strlen(text));
}

static void fail(int fd, int32_t code, const char *text)
{
	uint8_t buf[EBCC_FRAME_ERROR_CODE_SIZE + 256];
	size_t len = strlen(text);

	ebcc__frame_encode_error_code(buf, code);
	memcpy(buf + EBCC_FRAME_ERROR_CODE_SIZE, text, len);
	send_frame(fd, EBCC_FRAME_ERROR, buf, EBCC_FRAME_ERROR_CODE_SIZE + len);
}

static int read_exact(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* 1: keep serving this connection, 0: it is closed. */
static int serve_one(int fd)
{
	static const struct ebcc_frame_limits lim = { EBCC_FRAME_BIT(EBCC_FRAME_REQUEST), 1 << 20 };
	static const struct ebcc_frame_limits bind_lim = { EBCC_FRAME_BIT(EBCC_FRAME_BIND), 0 };
	uint8_t hdr[EBCC_FRAME_HEADER_SIZE];
	char req[4096], out[512];
	struct ebcc_frame f;

	if (read_exact(fd, hdr, sizeof(hdr)) < 0 ||
	    ebcc__frame_decode_header(hdr, sizeof(hdr), &bind_lim, &f) != 0 ||
	    read_exact(fd, bind_fields, f.length) < 0)
		return 0;
	bind_len = f.length;
	if (read_exact(fd, hdr, sizeof(hdr)) < 0 ||
	    ebcc__frame_decode_header(hdr, sizeof(hdr), &lim, &f) != 0 || f.length >= sizeof(req) ||
	    read_exact(fd, req, f.length) < 0)
		return 0;
	req[f.length] = '\0';
	ebcc__stage_sha256(req, f.length, request_digest);

	if (strncmp(req, "echo:", 5) == 0) {
		answer(fd, req + 5);
	} else if (strcmp(req, "uid") == 0) {
		snprintf(out, sizeof(out), "%u", (unsigned)getuid());
		answer(fd, out);
	} else if (strcmp(req, "fds") == 0) {
		size_t o = 0;
		struct stat st;

		out[0] = '\0';
		/* The fstat system call itself: glibc's fstat() is newfstatat(), which the
		 * sandbox refuses (it would look up paths too). */
		for (int i = 0; i < 64; i++)
			if (syscall(SYS_fstat, i, &st) == 0)
				o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%d", o ? "," : "", i);
		answer(fd, out);
	} else if (strcmp(req, "env") == 0) {
		size_t n = 0;

		while (environ != NULL && environ[n] != NULL)
			n++;
		snprintf(out, sizeof(out), "%zu", n);
		answer(fd, out);
	} else if (strcmp(req, "limits") == 0) {
		struct rlimit as, nofile, cpu, core;

		getrlimit(RLIMIT_AS, &as);
		getrlimit(RLIMIT_NOFILE, &nofile);
		getrlimit(RLIMIT_CPU, &cpu);
		getrlimit(RLIMIT_CORE, &core);
		snprintf(out, sizeof(out), "as=%lld nofile=%lld cpu=%lld core=%lld",
			 (long long)as.rlim_cur, (long long)nofile.rlim_cur, (long long)cpu.rlim_cur,
			 (long long)core.rlim_cur);
		answer(fd, out);
	} else if (strcmp(req, "stat") == 0) {
		/* Looking up a host path is refused softly, not with SIGSYS. */
		answer(fd, stat("/etc/passwd", &(struct stat){ 0 }) == 0 ? "stat worked"
		       : errno == ENOSYS				       ? "stat refused"
									       : "stat failed");
	} else if (strcmp(req, "open") == 0) {
		int p = open("/etc/passwd", O_RDONLY);

		answer(fd, p >= 0 ? "opened /etc/passwd" : "open failed");
	} else if (strcmp(req, "socket") == 0) {
		answer(fd, socket(AF_INET, SOCK_STREAM, 0) >= 0 ? "socket made" : "socket failed");
	} else if (strcmp(req, "exec") == 0) {
		char sh[] = "sh", *argv[] = { sh, NULL };

		execve("/bin/sh", argv, environ);
		answer(fd, "execve failed");
	} else if (strcmp(req, "execveat") == 0) {
		char sh[] = "sh", *argv[] = { sh, NULL };

		syscall(SYS_execveat, 4, "/bin/sh", argv, environ, AT_EMPTY_PATH);
		answer(fd, "execveat failed");
	} else if (strcmp(req, "fork") == 0) {
		for (;;)
			if (fork() < 0)
				break;
		answer(fd, "fork failed");
	} else if (strcmp(req, "ptrace") == 0) {
		answer(fd, ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? "traced" : "ptrace failed");
	} else if (strcmp(req, "mmapexec") == 0) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		answer(fd, p != MAP_FAILED ? "mapped executable memory" : "mmap failed");
	} else if (strcmp(req, "kill") == 0) {
		answer(fd, kill(1, SIGKILL) == 0 ? "killed" : "kill failed");
	} else if (strcmp(req, "malloc") == 0) {
		size_t size = (size_t)1 << 30;
		char *p;

		kept = malloc(size); /* through a volatile: no compiler may elide it */
		p = kept;

		if (p == NULL) {
			fail(fd, -2 /* EBCC_ERR_NO_MEMORY */, "malloc of 1 GiB failed");
		} else {
			memset(p, 1, size);
			answer(fd, "allocated 1 GiB");
		}
	} else if (strcmp(req, "logcrash") == 0) {
		send_frame(fd, EBCC_FRAME_LOG, "first line", 10);
		send_frame(fd, EBCC_FRAME_LOG, "about to crash", 14);
		*(volatile int *)(uintptr_t)(f.length - f.length) = 1;
	} else if (strcmp(req, "crash") == 0) {
		*(volatile int *)(uintptr_t)(f.length - f.length) = 1;
	} else if (strcmp(req, "loop") == 0) {
		for (volatile unsigned long i = 0;; i++)
			;
	} else if (strcmp(req, "exit") == 0) {
		_exit(3);
	} else if (strcmp(req, "garbage") == 0) {
		send_all(fd, "this is not a frame\n", 20);
	} else if (strcmp(req, "oversize") == 0) {
		send_report(fd, "", 0, NULL, 0);
		ebcc__frame_encode_header((uint8_t *)out, EBCC_FRAME_RESPONSE, 1u << 30);
		send_all(fd, out, EBCC_FRAME_HEADER_SIZE);
	} else if (strcmp(req, "half") == 0 || strcmp(req, "halfexit") == 0) {
		send_report(fd, "", 0, NULL, 0);
		ebcc__frame_encode_header((uint8_t *)out, EBCC_FRAME_RESPONSE, 1000);
		memset(out + EBCC_FRAME_HEADER_SIZE, 'x', 100);
		send_all(fd, out, EBCC_FRAME_HEADER_SIZE + 100);
		if (strcmp(req, "halfexit") == 0)
			_exit(0);
		return 0;
	} else if (strcmp(req, "badlog") == 0) {
		send_frame(fd, EBCC_FRAME_LOG, "bad\0log", 7);
		answer(fd, "unreachable");
	} else if (strncmp(req, "late:", 5) == 0) {
		long ms = strtol(req + 5, NULL, 10);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

		while (nanosleep(&ts, &ts) < 0)
			;
		answer(fd, "late");
	} else if (strncmp(req, "bigresp:", 8) == 0) {
		size_t n = (size_t)strtoul(req + 8, NULL, 10);
		char *big = malloc(n > 0 ? n : 1);

		if (big == NULL) {
			fail(fd, -2 /* EBCC_ERR_NO_MEMORY */, "no memory for the big response");
		} else {
			memset(big, 'R', n);
			respond(fd, big, n);
			free(big);
		}
	} else if (strcmp(req, "overlong") == 0) {
		/* The header says 5 bytes; 5 + 20 follow, the rest is no header at all. */
		ebcc__frame_encode_header((uint8_t *)out, EBCC_FRAME_LOG, 5);
		memcpy(out + EBCC_FRAME_HEADER_SIZE, "five+and twenty more bytes", 25);
		send_all(fd, out, EBCC_FRAME_HEADER_SIZE + 25);
		answer(fd, "unreachable");
	} else if (strcmp(req, "overlongresp") == 0) {
		send_report(fd, "okay", 4, NULL, 0);
		ebcc__frame_encode_header((uint8_t *)out, EBCC_FRAME_RESPONSE, 4);
		memcpy(out + EBCC_FRAME_HEADER_SIZE, "okay and more that nobody announced", 35);
		send_all(fd, out, EBCC_FRAME_HEADER_SIZE + 35);
	} else if (strcmp(req, "logflood") == 0) {
		char line[4096];

		memset(line, 'L', sizeof(line));
		for (int i = 0; i < 512; i++)
			send_frame(fd, EBCC_FRAME_LOG, line, sizeof(line));
		answer(fd, "done");
	} else if (strcmp(req, "noreport") == 0) {
		send_frame(fd, EBCC_FRAME_RESPONSE, "unbound", 7);
	} else if (strcmp(req, "badbind") == 0) {
		send_report(fd, "another", 7, NULL, 0);
		send_frame(fd, EBCC_FRAME_RESPONSE, "bound", 5);
	} else if (strcmp(req, "ownreport") == 0) {
		send_report(fd, "mine", 4, "a report of my own", 18);
		send_frame(fd, EBCC_FRAME_RESPONSE, "mine", 4);
	} else if (strcmp(req, "v1") == 0) {
		ebcc__frame_encode_header((uint8_t *)out, EBCC_FRAME_RESPONSE, 3);
		out[2] = 1;
		memcpy(out + EBCC_FRAME_HEADER_SIZE, "old", 3);
		send_all(fd, out, EBCC_FRAME_HEADER_SIZE + 3);
	} else {
		fail(fd, -1 /* EBCC_ERR_INVALID_ARG */, "unknown misdeed");
	}
	return 1;
}

int main(void)
{
	int listening = 0;
	socklen_t len = sizeof(listening);

	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return 2;
	if (!listening) {
		while (serve_one(3))
			;
		return 0;
	}
	for (;;) {
		int c = accept4(3, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		while (serve_one(c))
			;
		close(c);
	}
}
