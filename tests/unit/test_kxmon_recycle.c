/*
 * kxmon outside a pooled pVM's wait: a RECYCLE_APP or RECYCLE_CONSOLE that
 * reaches a safe point (an app already runs) is out of turn.  It must break
 * the channel — never be taken for a LINK_PUSH, which would link the app
 * library into the running pVM without a gate_link decision.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "manager/kxd/kxd.h"
#include "manager/kxmon/kxmon.h"

static unsigned links, pauses;

static int fake_link(struct hv_vm *vm, const char *name, int fd, unsigned bind, uint64_t *handle,
		     struct hv_error *err)
{
	(void)vm, (void)name, (void)bind, (void)handle, (void)err;
	links++;
	close(fd);
	return 0;
}

static void fake_pause(struct hv_vm *vm)
{
	(void)vm;
	pauses++;
}

static const struct hv_ops ops = {.link = fake_link, .pause = fake_pause};

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

/* A started client on one end of a channel; kxd's end in *kxd (HELLO read). */
static void start(struct kxmon_client *c, int *kxd)
{
	struct kxmon_msg hello;
	int sv[2];

	links = pauses = 0;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(kxmon_client_start(c, sv[0], &ops), 0);
	assert_int_equal(recv(sv[1], &hello, sizeof(hello), 0), (ssize_t)sizeof(hello));
	assert_int_equal(hello.type, KXMON_MSG_HELLO);
	*kxd = sv[1];
}

static void stop(struct kxmon_client *c, int kxd)
{
	kxmon_client_finish(c, 0, 0, 0, NULL);
	close(kxd);
}

static void app_after_the_wait_breaks_the_channel(void **state)
{
	struct kxmon_client c;
	struct kxmon_msg m;
	int kxd, fd;

	(void)state;
	start(&c, &kxd);
	app_msg(&m);
	fd = sealed_memfd();
	send_with_fds(kxd, &m, &fd, 1);
	close(fd);
	kxmon_client_safe_point(&c, NULL);
	assert_int_equal(links, 0);
	assert_true(c.broken);
	assert_int_equal(pauses, 1);
	stop(&c, kxd);
}

static void console_after_the_wait_breaks_the_channel(void **state)
{
	struct kxmon_client c;
	struct kxmon_msg m;
	int kxd, pipe_fds[2], console[2];
	char byte;

	(void)state;
	start(&c, &kxd);
	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_RECYCLE_CONSOLE;
	m.size = sizeof(m);
	assert_int_equal(pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK), 0);
	console[0] = console[1] = pipe_fds[1]; /* stdout and stderr */
	send_with_fds(kxd, &m, console, 2);
	close(pipe_fds[1]);
	kxmon_client_safe_point(&c, NULL);
	assert_int_equal(links, 0);
	assert_true(c.broken);
	assert_int_equal(pauses, 1);
	/* kxmon kept neither console fd: the reader sees end of file. */
	assert_int_equal(read(pipe_fds[0], &byte, 1), 0);
	close(pipe_fds[0]);
	stop(&c, kxd);
}

/* The same during a blocking call (kx_wait, kx_pause): no answer, no fd kept. */
static void app_during_a_blocking_call_breaks_the_channel(void **state)
{
	struct kxmon_client c;
	struct kxmon_msg m;
	int kxd, pipe_fds[2], fds[4], nfds = 0;
	char byte;

	(void)state;
	start(&c, &kxd);
	app_msg(&m);
	assert_int_equal(pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK), 0);
	fds[0] = sealed_memfd();
	send_with_fds(kxd, &m, fds, 1);
	close(fds[0]);
	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_RECYCLE_CONSOLE;
	m.size = sizeof(m);
	fds[0] = fds[1] = pipe_fds[1];
	send_with_fds(kxd, &m, fds, 2);
	close(pipe_fds[1]);
	assert_int_equal(kxmon_client_answer(&c, 0, 1000, &m, fds, &nfds), -EPIPE);
	assert_int_equal(nfds, 0);
	assert_true(c.broken);
	assert_int_equal(kxmon_client_answer(&c, 0, 0, &m, fds, &nfds), -EPIPE);
	assert_int_equal(links, 0);
	stop(&c, kxd); /* closes the channel: the CONSOLE still queued goes with it */
	assert_int_equal(read(pipe_fds[0], &byte, 1), 0);
	close(pipe_fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(app_after_the_wait_breaks_the_channel),
		cmocka_unit_test(console_after_the_wait_breaks_the_channel),
		cmocka_unit_test(app_during_a_blocking_call_breaks_the_channel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
