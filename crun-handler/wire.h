/* SPDX-License-Identifier: MIT */
/*
 * What the plugin (in crun) and ebcc-crun-helper say to each other over their socketpair
 * (SOCK_SEQPACKET: one write is one message, so a message's length tells its kind).
 *
 *   init -> helper  struct wire_report, with SCM_CREDENTIALS: the kernel gives the helper the
 *                   container init's pid as the host sees it
 *   helper -> init  struct wire_socket_dir (when the stages get a socket), then
 *                   struct wire_ready: the composite exists with its stages loaded, or why not
 */
#ifndef EBCC_CRUN_WIRE_H
#define EBCC_CRUN_WIRE_H

#include <stdint.h>

#define WIRE_REPORT_MAGIC 0x45424352u  /* "EBCR" */
#define WIRE_SOCKDIR_MAGIC 0x45424344u /* "EBCD" */
#define WIRE_PATH_MAX 4096

struct wire_report {
	uint32_t magic;
	uint32_t reserved;
};

struct wire_socket_dir {
	uint32_t magic;
	char path[WIRE_PATH_MAX]; /* NUL-terminated, absolute */
};

/* The broker's readiness message, as examples/hook/daemon.c's hook_broker_ready writes it. */
struct wire_ready {
	int32_t pid;
	int32_t ok;
	char text[1024];
};

/* The descriptor number the helper finds its end of the socketpair on. */
#define WIRE_HELPER_FD 3

#endif /* EBCC_CRUN_WIRE_H */
