/*
 * kxmon outside a pooled pVM's wait: a RECYCLE_APP or RECYCLE_CONSOLE that
 * reaches a safe point (an app already runs) is out of turn.  It must break
 * the channel — never be taken for a LINK_PUSH, which would link the app
 * library into the running pVM without a gate_link decision.  The real
 * kxmon client (manager/kxmon) talks to a test "kxd" over a socketpair; the
 * pVM runs the placeholder image on the fake backend (tests/hv/hv_fake.h),
 * whose run reports a kick (a safe point) and then a pause.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "manager/kxd/kxd.h"
#include "manager/kxmon/kxmon.h"
#include "tests/hv/hv_fake.h"

static char guest_dir[4096];

/* A sealed memfd, as kxd's library store makes them. */
static int sealed_memfd(void)
{
	int fd = memfd_create("app", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x7f" "ELF", 4), 4);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW), 0);
	return fd;
}

static void send_with_fds(int sock, const struct kxmon_msg *m, const int *fds, int nfds)
{
	assert_int_equal(kxd_send(sock, m, sizeof(*m), fds, nfds), 0);
}

/* A well-formed RECYCLE_APP for app "app" (its fd goes beside it). */
static void app_msg(struct kxmon_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = KXMON_MSG_RECYCLE_APP;
	m->size = sizeof(*m);
	m->seq = 7;
	strcpy(m->u.recycle.name, "app");
	strcpy(m->u.recycle.version, "1.0");
	m->u.recycle.argc = 1;
	m->u.recycle.args_len = 4;
	memcpy(m->u.recycle.args, "app", 4);
}

struct rig {
	struct kxmon_client c;
	struct hv_manager mgr;
	struct hv_pvm *p;
	int kxd;
};

/* A started client on one end of a channel (kxd's end in r->kxd, HELLO
 * read) and a booted pVM that uses it. */
static void start(struct rig *r)
{
	struct kxmon_msg hello;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(kxmon_client_start(&r->c, sv[0]), 0);
	assert_int_equal(recv(sv[1], &hello, sizeof(hello), 0), (ssize_t)sizeof(hello));
	assert_int_equal(hello.type, KXMON_MSG_HELLO);
	r->kxd = sv[1];
	{
		/* posix-fs: the load asks for the app's first host directory
		 * (request seq 1, the first after HELLO): there is none. */
		struct kxmon_msg none = {.type = KXMON_MSG_FS_MOUNT_RESP, .size = sizeof(none),
					 .seq = 1};

		none.u.fs_mount.result = -ENOENT;
		send_with_fds(r->kxd, &none, NULL, 0);
	}
	r->mgr = (struct hv_manager){.ops = &kxmon_manager_ops, .ctx = &r->c};
	r->p = fake_pvm_with(16ull << 20, &r->mgr, false);
	fake_load(r->p, guest_dir, "kxpool.kxe");
}

/* Run the pVM to a safe point: how it ended. */
static void run_to_safe_point(struct rig *r, struct hv_end *end)
{
	struct hv_vm *vm = fake_vm_of(r->p);
	struct kx_error err;

	vm->script[0].kind = HV_EXIT_KICK;
	vm->script[1].kind = HV_EXIT_PAUSED;
	vm->nscript = 2;
	assert_int_equal(hv_run(r->p, end, &err), 0);
}

static void stop(struct rig *r)
{
	hv_destroy(r->p, 0, NULL, "");
	kxmon_client_close(&r->c);
	close(r->kxd);
}

static void expect_broken_without_link(struct rig *r, const struct hv_end *end)
{
	struct hv_link_stats st;

	assert_int_equal(end->reason, HV_END_CHANNEL);
	assert_non_null(strstr(end->message, "out of turn"));
	assert_true(r->c.broken);
	hv_link_stats(r->p, &st);
	assert_int_equal(st.modules, 1); /* the image, and nothing else */
	assert_int_equal(st.pushes, 0);
}

static void app_after_the_wait_breaks_the_channel(void **state)
{
	struct rig r;
	struct kxmon_msg m;
	struct hv_end end;
	int fd;

	(void)state;
	start(&r);
	app_msg(&m);
	fd = sealed_memfd();
	send_with_fds(r.kxd, &m, &fd, 1);
	close(fd);
	run_to_safe_point(&r, &end);
	expect_broken_without_link(&r, &end);
	stop(&r);
}

static void console_after_the_wait_breaks_the_channel(void **state)
{
	struct rig r;
	struct kxmon_msg m;
	struct hv_end end;
	int pipe_fds[2], console[2];
	char byte;

	(void)state;
	start(&r);
	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_RECYCLE_CONSOLE;
	m.size = sizeof(m);
	assert_int_equal(pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK), 0);
	console[0] = console[1] = pipe_fds[1]; /* stdout and stderr */
	send_with_fds(r.kxd, &m, console, 2);
	close(pipe_fds[1]);
	run_to_safe_point(&r, &end);
	expect_broken_without_link(&r, &end);
	/* kxmon kept neither console fd: the reader sees end of file. */
	assert_int_equal(read(pipe_fds[0], &byte, 1), 0);
	close(pipe_fds[0]);
	stop(&r);
}

/* The same during a blocking call (kx_wait, kx_pause): no answer, no fd kept. */
static void app_during_a_blocking_call_breaks_the_channel(void **state)
{
	struct rig r;
	struct kxmon_msg m;
	int pipe_fds[2], fds[4], nfds = 0;
	char byte;

	(void)state;
	start(&r);
	app_msg(&m);
	assert_int_equal(pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK), 0);
	fds[0] = sealed_memfd();
	send_with_fds(r.kxd, &m, fds, 1);
	close(fds[0]);
	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_RECYCLE_CONSOLE;
	m.size = sizeof(m);
	fds[0] = fds[1] = pipe_fds[1];
	send_with_fds(r.kxd, &m, fds, 2);
	close(pipe_fds[1]);
	assert_int_equal(kxmon_manager_ops.next(&r.c, 0, 1000, &m, fds, &nfds), -EPIPE);
	assert_int_equal(nfds, 0);
	assert_true(r.c.broken);
	assert_int_equal(kxmon_manager_ops.next(&r.c, 0, 0, &m, fds, &nfds), -EPIPE);
	stop(&r); /* closes the channel: the CONSOLE still queued goes with it */
	assert_int_equal(read(pipe_fds[0], &byte, 1), 0);
	close(pipe_fds[0]);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(app_after_the_wait_breaks_the_channel),
		cmocka_unit_test(console_after_the_wait_breaks_the_channel),
		cmocka_unit_test(app_during_a_blocking_call_breaks_the_channel),
	};
	char self[4096];

	(void)argc;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(guest_dir, sizeof(guest_dir), "%s/../guest", dirname(self));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
