/* SPDX-License-Identifier: MIT */
/*
 * The lifecycle peers: `crun run` and `runc run` of /bin/true in a busybox container (a static
 * busybox as the whole rootfs, the default OCI spec of `runc spec`, no terminal), each run a
 * new container id that the runtime deletes at its end. A run is timed from posix_spawn of the
 * runtime to its exit.
 *
 * crun refuses the hybrid cgroup layout (cgroup v1 controllers with a v2 "unified" mount) that
 * some hosts have; there it runs from a helper process in a private mount namespace whose
 * /sys/fs/cgroup is a cgroup2 mount only, with --cgroup-manager=disabled. The helper times each
 * run itself and reports it over a pipe, so the pipe costs nothing measured. Leftover
 * containers (a run interrupted between its create and start) are force-deleted at cleanup,
 * from the namespace they were made in.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* `runc spec` with args ["/bin/true"] and no terminal. */
static const char config_json[] =
	"{\"ociVersion\": \"1.0.2-dev\", \"process\": {\"terminal\": false, \"user\": {\"uid\": 0, "
	"\"gid\": 0}, \"args\": [\"/bin/true\"], \"env\": "
	"[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"], \"cwd\": \"/\", "
	"\"capabilities\": {\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
	"\"CAP_NET_BIND_SERVICE\"], \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
	"\"CAP_NET_BIND_SERVICE\"], \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
	"\"CAP_NET_BIND_SERVICE\"], \"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
	"\"CAP_NET_BIND_SERVICE\"]}, \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, "
	"\"soft\": 1024}], \"noNewPrivileges\": true}, \"root\": {\"path\": \"rootfs\", "
	"\"readonly\": true}, \"hostname\": \"bench\", \"mounts\": [{\"destination\": \"/proc\", "
	"\"type\": \"proc\", \"source\": \"proc\"}, {\"destination\": \"/dev\", \"type\": "
	"\"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"strictatime\", "
	"\"mode=755\", \"size=65536k\"]}, {\"destination\": \"/dev/pts\", \"type\": \"devpts\", "
	"\"source\": \"devpts\", \"options\": [\"nosuid\", \"noexec\", \"newinstance\", "
	"\"ptmxmode=0666\", \"mode=0620\", \"gid=5\"]}, {\"destination\": \"/dev/shm\", \"type\": "
	"\"tmpfs\", \"source\": \"shm\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", "
	"\"mode=1777\", \"size=65536k\"]}, {\"destination\": \"/dev/mqueue\", \"type\": "
	"\"mqueue\", \"source\": \"mqueue\", \"options\": [\"nosuid\", \"noexec\", \"nodev\"]}, "
	"{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": "
	"[\"nosuid\", \"noexec\", \"nodev\", \"ro\"]}, {\"destination\": \"/sys/fs/cgroup\", "
	"\"type\": \"cgroup\", \"source\": \"cgroup\", \"options\": [\"nosuid\", \"noexec\", "
	"\"nodev\", \"relatime\", \"ro\"]}], \"linux\": {\"resources\": {\"devices\": "
	"[{\"allow\": false, \"access\": \"rwm\"}]}, \"namespaces\": [{\"type\": \"pid\"}, "
	"{\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": "
	"\"mount\"}], \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", "
	"\"/proc/keys\", \"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\", "
	"\"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"], \"readonlyPaths\": "
	"[\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", "
	"\"/proc/sysrq-trigger\"]}}\n";

struct peer {
	char name[8];
	char root[4096], bundle[4096];
	bool cgroup_disabled; /* --cgroup-manager=disabled (crun in the helper) */
	pid_t helper;         /* > 0: runs happen in the helper */
	int to_helper, from_helper;
	unsigned n;
	int cleanup;
	char setup[512];
	char last_err[256];
};

struct reply {
	int status;
	uint64_t ns;
	char err[256];
};

/* One run of a new container to its end, timed here. */
static void run_once(struct peer *p, struct reply *ret)
{
	char id[64], *argv[10];
	size_t a = 0;
	uint64_t t0;

	snprintf(id, sizeof(id), "ebcc-bench-%d-%s-%u", (int)getpid(), p->name, p->n++);
	argv[a++] = p->name;
	if (p->cgroup_disabled)
		argv[a++] = (char *)"--cgroup-manager=disabled";
	argv[a++] = (char *)"--root";
	argv[a++] = p->root;
	argv[a++] = (char *)"run";
	argv[a++] = (char *)"--bundle";
	argv[a++] = p->bundle;
	argv[a++] = id;
	argv[a] = NULL;
	t0 = now_ns();
	ret->status = proc_run(argv, ret->err, sizeof(ret->err));
	ret->ns = now_ns() - t0;
	ret->err[strcspn(ret->err, "\n")] = '\0';
}

/* Force-deletes every container left in the runtime's root (each is a directory there). */
static void delete_leftovers(struct peer *p)
{
	DIR *d = opendir(p->root);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *argv[8];
		size_t a = 0;

		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		argv[a++] = p->name;
		if (p->cgroup_disabled)
			argv[a++] = (char *)"--cgroup-manager=disabled";
		argv[a++] = (char *)"--root";
		argv[a++] = p->root;
		argv[a++] = (char *)"delete";
		argv[a++] = (char *)"--force";
		argv[a++] = de->d_name;
		argv[a] = NULL;
		proc_run(argv, NULL, 0);
	}
	closedir(d);
}

/* The helper: a private mount namespace with cgroup2 alone on /sys/fs/cgroup; one run per
 * byte read, until end of file; then the leftovers. Never returns. */
static void helper_main(struct peer *p, int in, int out)
{
	struct reply rep = { 0 };
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGINT, SIG_IGN); /* the bench ends it by closing the pipe */
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    umount2("/sys/fs/cgroup", MNT_DETACH) < 0 ||
	    mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0) {
		rep.status = -1;
		snprintf(rep.err, sizeof(rep.err),
			 "cannot make a mount namespace with cgroup2 on /sys/fs/cgroup: %s",
			 strerror(errno));
	}
	/* The first reply says whether the namespace is ready. */
	if (write(out, &rep, sizeof(rep)) != sizeof(rep) || rep.status < 0)
		_exit(1);
	while (read(in, &c, 1) == 1) {
		run_once(p, &rep);
		if (write(out, &rep, sizeof(rep)) != sizeof(rep))
			break;
	}
	delete_leftovers(p);
	_exit(0);
}

static int helper_start(struct peer *p, char *why, size_t why_size)
{
	int down[2], up[2];
	struct reply rep;

	if (pipe2(down, O_CLOEXEC) < 0 || pipe2(up, O_CLOEXEC) < 0) {
		snprintf(why, why_size, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	p->helper = fork();
	if (p->helper == 0) {
		close(down[1]);
		close(up[0]);
		helper_main(p, down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	p->to_helper = down[1];
	p->from_helper = up[0];
	if (p->helper < 0) {
		snprintf(why, why_size, "fork: %s", strerror(errno));
		return -1;
	}
	if (read(p->from_helper, &rep, sizeof(rep)) != sizeof(rep) || rep.status < 0) {
		snprintf(why, why_size, "%s", rep.err[0] ? rep.err : "the helper failed");
		return -1;
	}
	return 0;
}

static void peer_release(void *arg)
{
	struct peer *p = arg;

	if (p->helper > 0) {
		close(p->to_helper); /* the helper deletes the leftovers and exits */
		close(p->from_helper);
		while (waitpid(p->helper, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		delete_leftovers(p);
	}
	free(p);
}

int peer_run(struct peer *p, uint64_t *ret_ns)
{
	struct reply rep;

	if (p->helper > 0) {
		if (write(p->to_helper, "R", 1) != 1 ||
		    read(p->from_helper, &rep, sizeof(rep)) != sizeof(rep))
			return fail_errno("the crun helper");
	} else {
		run_once(p, &rep);
	}
	if (rep.status != 0) {
		snprintf(p->last_err, sizeof(p->last_err), "%s", rep.err);
		fprintf(stderr, "ebcc-bench: %s run failed (status %d): %s\n", p->name, rep.status,
			rep.err);
		return -1;
	}
	*ret_ns = rep.ns;
	return 0;
}

const char *peer_setup(const struct peer *p)
{
	return p->setup;
}

void peer_close(struct peer *p)
{
	if (p != NULL)
		cleanup_run(p->cleanup);
}

static bool cgroup2_only(void)
{
	struct statfs sf;

	return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

struct peer *peer_open(const char *name, const char *scratch, char *why, size_t why_size)
{
	struct peer *p = calloc(1, sizeof(*p));
	char rootfs[4096], busybox[4096], config[4096], version[256];
	char *argv[] = { (char *)name, (char *)"--version", NULL };
	uint64_t ns;
	int fd, r;

	if (p == NULL) {
		snprintf(why, why_size, "out of memory");
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->to_helper = p->from_helper = -1;
	r = proc_capture(argv, version, sizeof(version));
	if (r != 0) {
		snprintf(why, why_size, "%s is not installed or does not run (%s)", name,
			 r < 0 ? strerror(-r) : "--version failed");
		free(p);
		return NULL;
	}
	version[strcspn(version, "\n")] = '\0';
	if (pathf(p->root, sizeof(p->root), "%s/%s-root", scratch, name) < 0 ||
	    pathf(p->bundle, sizeof(p->bundle), "%s/%s-bundle", scratch, name) < 0 ||
	    pathf(rootfs, sizeof(rootfs), "%s/%s-bundle/rootfs", scratch, name) < 0 ||
	    pathf(config, sizeof(config), "%s/%s-bundle/config.json", scratch, name) < 0 || mkdir(p->bundle, 0755) < 0 || mkdir(p->root, 0700) < 0 ||
	    busybox_rootfs(rootfs, busybox, sizeof(busybox)) < 0 ||
	    (fd = open(config, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		snprintf(why, why_size, "cannot write its bundle: %s", strerror(errno));
		free(p);
		return NULL;
	}
	r = write(fd, config_json, strlen(config_json)) == (ssize_t)strlen(config_json);
	close(fd);
	if (!r) {
		snprintf(why, why_size, "cannot write %s", config);
		free(p);
		return NULL;
	}
	p->cleanup = cleanup_push(peer_release, p);
	if (p->cleanup < 0) {
		snprintf(why, why_size, "too many cleanups");
		return NULL;
	}
	if (strcmp(name, "crun") == 0 && !cgroup2_only()) {
		p->cgroup_disabled = true;
		if (helper_start(p, why, why_size) < 0) {
			peer_close(p);
			return NULL;
		}
		pathf(p->setup, sizeof(p->setup),
			 "%s; --cgroup-manager=disabled, from a helper in a mount namespace with "
			 "only cgroup2 on /sys/fs/cgroup (this host's layout is not cgroup2-only)",
			 version);
	} else {
		pathf(p->setup, sizeof(p->setup), "%s; run directly", version);
	}
	/* A first run says whether it works here at all. */
	if (peer_run(p, &ns) < 0) {
		snprintf(why, why_size, "`%s run` of /bin/true fails here: %s", name,
			 p->last_err[0] ? p->last_err : "no message");
		peer_close(p);
		return NULL;
	}
	return p;
}
