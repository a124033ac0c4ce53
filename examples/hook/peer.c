/* SPDX-License-Identifier: MIT */
/*
 * Who may use a container's stages: processes of that container. The broker knows the
 * container's process (the anchor) and admits a peer only if it shares the anchor's mount and
 * pid namespaces, as every process of the container does (including those added later with
 * `runc exec`). The socket file itself is open to all; this is the check that counts.
 * Where the kernel gives the peer's pidfd, the peer is checked to be alive after its
 * namespaces were read, so that a pid recycled in between cannot pass for it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hook.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5 */
#endif

static int ns_of(pid_t pid, const char *ns, struct hook_ns_id *ret)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	if (stat(path, &st) < 0)
		return -1;
	ret->dev = st.st_dev;
	ret->ino = st.st_ino;
	return 0;
}

int hook_ns_read(pid_t pid, struct hook_peer_rule *ret)
{
	struct hook_peer_rule r;

	if (ns_of(pid, "mnt", &r.mnt) < 0 || ns_of(pid, "pid", &r.pid) < 0)
		return -1;
	*ret = r;
	return 0;
}

static int same(const struct hook_ns_id *a, const struct hook_ns_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* Whether the process behind pidfd still runs (then its pid was not recycled). Without
 * pidfd_send_signal (before Linux 5.1, or under valgrind) the pid alone has to do. */
static int pidfd_alive(int pidfd)
{
#ifdef SYS_pidfd_send_signal
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno != ESRCH;
#else
	(void)pidfd;
	return 1;
#endif
}

int hook_peer_check(int conn_fd, const struct hook_peer_rule *rule, char *why, size_t why_size)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct hook_peer_rule peer;
	int pidfd = -1, r = -1;

	if (getsockopt(conn_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		snprintf(why, why_size, "peer credentials: %s", strerror(errno));
		return -1;
	}
	/* A peer whose pid the broker cannot see is in no namespace of the container's. */
	if (cred.pid <= 0) {
		snprintf(why, why_size, "peer (uid %u) is not visible from the broker",
			 (unsigned)cred.uid);
		return -1;
	}
	len = sizeof(pidfd);
	if (getsockopt(conn_fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		pidfd = -1; /* before Linux 6.5 */
	if (hook_ns_read(cred.pid, &peer) < 0)
		snprintf(why, why_size, "peer pid %d (uid %u): namespaces unreadable: %s",
			 (int)cred.pid, (unsigned)cred.uid, strerror(errno));
	else if (pidfd >= 0 && !pidfd_alive(pidfd))
		snprintf(why, why_size, "peer pid %d (uid %u) exited while being checked",
			 (int)cred.pid, (unsigned)cred.uid);
	else if (!same(&peer.mnt, &rule->mnt) || !same(&peer.pid, &rule->pid))
		snprintf(why, why_size,
			 "peer pid %d (uid %u) is not a process of this container (other "
			 "namespaces)",
			 (int)cred.pid, (unsigned)cred.uid);
	else
		r = 0;
	if (pidfd >= 0)
		close(pidfd);
	return r;
}
