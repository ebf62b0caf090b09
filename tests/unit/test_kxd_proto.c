/*
 * test_kxd_proto: the checks kxd applies to control requests and to each
 * pVM's channel messages, on well-formed and hostile datagrams; and the
 * datagram I/O over a real socketpair (fds attached, too many fds, a
 * datagram longer than the buffer).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "manager/kxd/kxd.h"

static char why[256];

static struct kxmon_msg chan_msg(uint32_t type)
{
	struct kxmon_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.size = sizeof(m);
	return m;
}

static int chan_check(const struct kxmon_msg *m, int nfds)
{
	return chan_check_from_kxmon(m, sizeof(*m), nfds, why, sizeof(why));
}

static void test_chan_good(void **state)
{
	struct kxmon_msg m = chan_msg(KXMON_MSG_HELLO);

	(void)state;
	m.u.hello.chan_version = KXMON_CHAN_VERSION;
	assert_int_equal(chan_check(&m, 0), 0);
	m = chan_msg(KXMON_MSG_LINK_REQ);
	strcpy(m.u.link_req.name, "libkvmath.so");
	assert_int_equal(chan_check(&m, 0), 0);
	m = chan_msg(KXMON_MSG_EXIT);
	assert_int_equal(chan_check(&m, 0), 0);
	m = chan_msg(KXMON_MSG_LINK_DONE);
	assert_int_equal(chan_check(&m, 0), 0);
}

static void test_chan_hostile(void **state)
{
	struct kxmon_msg m = chan_msg(KXMON_MSG_HELLO);

	(void)state;
	m.u.hello.chan_version = 99; /* wrong version */
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	assert_non_null(strstr(why, "version"));
	m = chan_msg(KXMON_MSG_LINK_RESP); /* kxd's own type, not kxmon's */
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	m = chan_msg(77);
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	m = chan_msg(KXMON_MSG_LINK_REQ); /* name fills its field, no NUL */
	memset(m.u.link_req.name, 'a', sizeof(m.u.link_req.name));
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	assert_non_null(strstr(why, "NUL"));
	m = chan_msg(KXMON_MSG_LINK_REQ); /* an fd where none belongs */
	assert_int_equal(chan_check(&m, 1), -EBADMSG);
	m = chan_msg(KXMON_MSG_EXIT);
	memset(m.u.exit.report, 'x', sizeof(m.u.exit.report));
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	m = chan_msg(KXMON_MSG_EXIT); /* short datagram, wrong size field */
	assert_int_equal(chan_check_from_kxmon(&m, sizeof(m) - 1, 0, why, sizeof(why)), -EBADMSG);
	m.size = 12;
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
}

/* kxd names a failed LINK_DONE with strerror(-result): only 0 and -errno
 * pass (fuzz/regress/kxd/chan-link-done-result-int-min). */
static void test_chan_link_done_result(void **state)
{
	struct kxmon_msg m = chan_msg(KXMON_MSG_LINK_DONE);

	(void)state;
	m.u.done.result = -ENOMEM;
	assert_int_equal(chan_check(&m, 0), 0);
	m.u.done.result = -4095;
	assert_int_equal(chan_check(&m, 0), 0);
	m.u.done.result = INT32_MIN;
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	assert_non_null(strstr(why, "result"));
	m.u.done.result = -4096;
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	m.u.done.result = 1;
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
}

static struct kxd_req run_req(const char *args, size_t args_len, uint32_t argc)
{
	struct kxd_req r;

	memset(&r, 0, sizeof(r));
	r.type = KXD_REQ_RUN;
	r.size = sizeof(r);
	r.argc = argc;
	r.args_len = (uint32_t)args_len;
	memcpy(r.args, args, args_len);
	return r;
}

static void test_req(void **state)
{
	struct kxd_req r = run_req("img\0one\0", 8, 2);

	(void)state;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), 0);
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	r = run_req("img\0one\0", 8, 3); /* argc lies */
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), -EBADMSG);
	r = run_req("img\0one", 7, 2); /* last string unterminated */
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), -EBADMSG);
	r = run_req("img\0", 4, 1);
	r.args_len = KXD_ARGS_MAX + 1; /* past the field */
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), -EBADMSG);
	memset(&r, 0, sizeof(r));
	r.type = KXD_REQ_LINK;
	r.size = sizeof(r);
	strcpy(r.name, "libok.so");
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), 0);
	r.as_pvm_id = 2; /* on behalf of pVM 2: kxd checks that it runs */
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), 0);
	r.type = KXD_REQ_KILL; /* only a link is asked on behalf of a pVM */
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	r.type = KXD_REQ_LINK;
	r.as_pvm_id = 0;
	strcpy(r.name, "../etc/passwd");
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	strcpy(r.name, "a/b");
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	r.type = 0;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
}

/* Recycling: RUN may carry KXD_RUN_RECYCLE and nothing else; no other
 * request carries it; a pooled kxmon's RECYCLE_READY has no fds. */
static void test_recycle(void **state)
{
	struct kxd_req r = run_req("libkvcount.so\0one\0", 18, 2);
	struct kxmon_msg m = chan_msg(KXMON_MSG_RECYCLE_READY);

	(void)state;
	r.flags = KXD_RUN_RECYCLE;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), 0);
	r.flags = KXD_RUN_RECYCLE | 2;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), -EBADMSG);
	memset(&r, 0, sizeof(r));
	r.type = KXD_REQ_LIST;
	r.size = sizeof(r);
	r.flags = KXD_RUN_RECYCLE;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	assert_int_equal(chan_check(&m, 0), 0);
	assert_int_equal(chan_check(&m, 1), -EBADMSG);
	m = chan_msg(KXMON_MSG_RECYCLE_APP); /* kxd -> kxmon only */
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
}

/* The policy (docs/kxd.md "Reloading the policy"): POLICY carries nothing;
 * RELOAD carries no argument or one absolute path, and only the ENFORCE
 * flag; 8 and 9 are reserved numbers, not requests. */
static void test_reload(void **state)
{
	struct kxd_req r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.type = KXD_REQ_POLICY;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), 0);
	r.type = KXD_REQ_RELOAD;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), 0);
	assert_int_equal(kxd_check_req(&r, sizeof(r), 1, why, sizeof(why)), -EBADMSG);
	r.flags = KXD_RELOAD_ENFORCE;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), 0);
	r.flags = 2;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	r.flags = 0;
	r.argc = 1;
	r.args_len = 8;
	memcpy(r.args, "/p/x.kxp", 9);
	r.args_len = 9;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), 0);
	r.args_len = 8; /* no NUL inside the length */
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	r.args_len = 10; /* the path ends before its length */
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	memcpy(r.args, "p/x.kxp", 8); /* relative: kxd's directory is not kxctl's */
	r.args_len = 8;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "absolute path"));
	memset(r.args, 'a', sizeof(r.args)); /* longer than a path kxd keeps */
	r.args[0] = '/';
	r.args[KXD_PATH_MAX] = '\0';
	r.args_len = KXD_PATH_MAX + 1;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	r.argc = 2;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.type = KXD_REQ_POLICY; /* arguments only where a request has them */
	r.argc = 1;
	r.args_len = 2;
	r.args[0] = '/';
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	for (uint32_t t = 8; t <= 9; t++) {
		r.type = t;
		assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	}
	r.type = KXD_REQ_RELOAD + 1;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
}

/* Signals (docs/signals.md): only KILL carries a signal, 1..31 (0: end
 * the pVM); a KILL_REQ's signal is 0..31 with no result and no fds;
 * WAIT_CANCEL has no body; KILL_RESP and SIGNAL go kxd -> kxmon only. */
static void test_signals(void **state)
{
	struct kxd_req r;
	struct kxmon_msg m = chan_msg(KXMON_MSG_KILL_REQ);

	(void)state;
	memset(&r, 0, sizeof(r));
	r.type = KXD_REQ_KILL;
	r.size = sizeof(r);
	r.pvm_id = 3;
	for (int32_t sig = 0; sig < 32; sig++) {
		r.sig = sig;
		assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), 0);
	}
	r.sig = 32;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "signal 32 out of range"));
	r.sig = -1;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	r.sig = 15;
	r.type = KXD_REQ_LIST; /* no other request carries a signal */
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	m.u.sig.pvm_id = 2;
	m.u.sig.sig = 31;
	assert_int_equal(chan_check(&m, 0), 0);
	assert_int_equal(chan_check(&m, 1), -EBADMSG);
	m.u.sig.sig = 32;
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	m.u.sig.sig = 10;
	m.u.sig.result = -3;
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	m = chan_msg(KXMON_MSG_WAIT_CANCEL);
	assert_int_equal(chan_check(&m, 0), 0);
	m = chan_msg(KXMON_MSG_KILL_RESP);
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	m = chan_msg(KXMON_MSG_SIGNAL);
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
}

/* posix-fs: FS_MOUNT_REQ from kxmon, FS_MOUNT_RESP from kxd (one fd exactly
 * when granted, a normalised absolute mount point, a cap when writable). */
static int from_kxd(const struct kxmon_msg *m, int nfds)
{
	return chan_check_from_kxd(m, sizeof(*m), nfds, 5, NULL, why, sizeof(why));
}

static void test_fs_mount(void **state)
{
	static const char *bad[] = {"/", "", "data", "/data/", "/a//b", "/a/./b", "/a/../b",
				    "/a/..", "/a/."};
	struct kxmon_msg m = chan_msg(KXMON_MSG_FS_MOUNT_REQ);

	(void)state;
	m.u.fs_mount_req.index = 3;
	assert_int_equal(chan_check(&m, 0), 0);
	assert_int_equal(chan_check(&m, 1), -EBADMSG);
	m.u.fs_mount_req.reserved = 1;
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	m = chan_msg(KXMON_MSG_FS_MOUNT_RESP); /* kxd's type, not kxmon's */
	assert_int_equal(chan_check(&m, 0), -EBADMSG);

	m = chan_msg(KXMON_MSG_FS_MOUNT_RESP);
	m.seq = 5;
	strcpy(m.u.fs_mount.guest, "/var/lib/app");
	m.u.fs_mount.writable = 1;
	m.u.fs_mount.max = 4096;
	assert_int_equal(from_kxd(&m, 1), 0);
	assert_int_equal(from_kxd(&m, 0), -EBADMSG);
	assert_int_equal(from_kxd(&m, 2), -EBADMSG);
	m.seq = 6; /* no request has it */
	assert_int_equal(from_kxd(&m, 1), -EBADMSG);
	m.seq = 5;
	m.u.fs_mount.max = 0; /* writable without a cap */
	assert_int_equal(from_kxd(&m, 1), -EBADMSG);
	m.u.fs_mount.writable = 2;
	assert_int_equal(from_kxd(&m, 1), -EBADMSG);
	m.u.fs_mount.writable = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(m.u.fs_mount.guest, 0, sizeof(m.u.fs_mount.guest));
		strcpy(m.u.fs_mount.guest, bad[i]);
		if (from_kxd(&m, 1) != -EBADMSG)
			fail_msg("mount point \"%s\" accepted", bad[i]);
	}
	memset(m.u.fs_mount.guest, 'a', sizeof(m.u.fs_mount.guest)); /* no NUL */
	assert_int_equal(from_kxd(&m, 1), -EBADMSG);
	/* no more / denied: no fd, a result in range */
	m = chan_msg(KXMON_MSG_FS_MOUNT_RESP);
	m.seq = 5;
	m.u.fs_mount.result = -ENOENT;
	assert_int_equal(from_kxd(&m, 0), 0);
	assert_int_equal(from_kxd(&m, 1), -EBADMSG);
	m.u.fs_mount.result = -EACCES;
	assert_int_equal(from_kxd(&m, 0), 0);
	m.u.fs_mount.result = -EPERM;
	assert_int_equal(from_kxd(&m, 0), -EBADMSG);
	m.u.fs_mount.result = 1;
	assert_int_equal(from_kxd(&m, 0), -EBADMSG);
}

/* Network (docs/network.md): NET_ATTACH from kxd (2 fds, or "none" with
 * none), NET_REPORT from kxmon, and the NET control request. */
static int from_kxd_unasked(const struct kxmon_msg *m, int nfds)
{
	return chan_check_from_kxd(m, sizeof(*m), nfds, 0, NULL, why, sizeof(why));
}

static void test_net(void **state)
{
	static const uint8_t mac[6] = {0x02, 0x6b, 0x78, 0, 0, 1};
	struct kxmon_msg m = chan_msg(KXMON_MSG_NET_ATTACH);
	struct kxd_req r;

	(void)state;
	assert_int_equal(from_kxd_unasked(&m, 0), 0); /* none */
	assert_int_equal(from_kxd_unasked(&m, 2), -EBADMSG); /* fds without an interface */
	strcpy(m.u.net_attach.iface, "net0");
	memcpy(m.u.net_attach.mac, mac, 6);
	assert_int_equal(from_kxd_unasked(&m, 2), 0);
	assert_int_equal(from_kxd_unasked(&m, 0), -EBADMSG); /* an interface without its fds */
	assert_int_equal(from_kxd_unasked(&m, 1), -EBADMSG);
	m.u.net_attach.mac[0] = 0x03; /* multicast */
	assert_int_equal(from_kxd_unasked(&m, 2), -EBADMSG);
	m.u.net_attach.mac[0] = 0x02;
	m.u.net_attach.index = 1;
	assert_int_equal(from_kxd_unasked(&m, 2), -EBADMSG);
	m.u.net_attach.index = 0;
	memset(m.u.net_attach.iface, 'a', sizeof(m.u.net_attach.iface)); /* no NUL */
	assert_int_equal(from_kxd_unasked(&m, 2), -EBADMSG);
	m = chan_msg(KXMON_MSG_NET_ATTACH);
	m.u.net_attach.mac[5] = 1; /* "none" carries nothing else */
	assert_int_equal(from_kxd_unasked(&m, 0), -EBADMSG);

	m = chan_msg(KXMON_MSG_NET_REPORT);
	assert_int_equal(chan_check(&m, 0), 0);
	m.u.net_report.first = 3;
	m.u.net_report.query = 2;
	m.u.net_report.proto = 6;
	assert_int_equal(chan_check(&m, 0), 0);
	assert_int_equal(chan_check(&m, 1), -EBADMSG);
	m.u.net_report.first = KXMON_NET_KINDS + 1;
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	m.u.net_report.first = 1;
	m.u.net_report.query = 3;
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	m.u.net_report.query = 1;
	m.u.net_report.proto = 1; /* ICMP is never a policy question */
	assert_int_equal(chan_check(&m, 0), -EBADMSG);
	m.u.net_report.proto = 17;
	memset(m.u.net_report.what, 'x', sizeof(m.u.net_report.what));
	assert_int_equal(chan_check(&m, 0), -EBADMSG);

	memset(&r, 0, sizeof(r));
	r.type = KXD_REQ_NET;
	r.size = sizeof(r);
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), 0);
	r.type = 19; /* reserved, not (yet) a request */
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
	r.type = 8;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 0, why, sizeof(why)), -EBADMSG);
}

/* kxd's argv for kxmon comes from kxd_split_args over a checked request. */
static void test_split_args(void **state)
{
	struct kxd_req r = run_req("img\0\0two\0", 9, 3);
	char *argv[KXD_ARGC_MAX + 1];

	(void)state;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), 0);
	argv[3] = r.args; /* must be overwritten with the terminator */
	kxd_split_args(r.args, r.argc, argv);
	assert_string_equal(argv[0], "img");
	assert_string_equal(argv[1], ""); /* an empty argument stays one */
	assert_string_equal(argv[2], "two");
	assert_ptr_equal(argv[2], r.args + 5);
	assert_null(argv[3]);
}

/* posix-mon: RUN with KXD_RUN_ENV carries argc argv strings, then 1..256
 * NAME=VALUE strings; without the flag extra strings are refused. */
static void test_run_env(void **state)
{
	struct kxd_req r = run_req("img\0a\0X=1\0EMPTY=\0", 17, 2);
	char *env[KXD_ENVC_MAX + 1];

	(void)state;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), -EBADMSG);
	r.flags = KXD_RUN_ENV;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), 0);
	assert_int_equal(kxd_split_env(r.args, r.args_len, r.argc, env), 2);
	assert_string_equal(env[0], "X=1");
	assert_string_equal(env[1], "EMPTY=");
	assert_null(env[2]);
	r.flags = KXD_RUN_ENV | KXD_RUN_RECYCLE;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), -EBADMSG);
	r = run_req("img\0a\0NOEQUALS\0", 15, 2);
	r.flags = KXD_RUN_ENV;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), -EBADMSG);
	r = run_req("img\0=x\0", 7, 1);
	r.flags = KXD_RUN_ENV;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), -EBADMSG);
	r = run_req("img\0a\0", 6, 2); /* the flag, but no environment */
	r.flags = KXD_RUN_ENV;
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), -EBADMSG);
	r = run_req("img\0a=b\0", 8, 2); /* an argument may hold '=' */
	assert_int_equal(kxd_check_req(&r, sizeof(r), 3, why, sizeof(why)), 0);
}

static void test_libname(void **state)
{
	(void)state;
	assert_true(kxd_libname_ok("libkvmath.so"));
	assert_true(kxd_libname_ok("libc.so.6"));
	assert_false(kxd_libname_ok(""));
	assert_false(kxd_libname_ok(".hidden.so"));
	assert_false(kxd_libname_ok(".."));
	assert_false(kxd_libname_ok("dir/lib.so"));
	assert_false(kxd_libname_ok("lib\n.so"));
	assert_false(kxd_libname_ok("lib\xff.so"));
}

static void test_io(void **state)
{
	struct kxd_resp resp, got;
	int sp[2], fds[KXD_MAX_FDS], nfds, three[4];
	size_t len;
	char big[sizeof(resp) + 16];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	memset(&resp, 0, sizeof(resp));
	resp.type = KXD_RESP_OK;
	resp.size = sizeof(resp);
	three[0] = three[1] = three[2] = three[3] = sp[0];
	assert_int_equal(kxd_send(sp[0], &resp, sizeof(resp), three, 3), 0);
	assert_int_equal(kxd_recv(sp[1], &got, sizeof(got), &len, fds, &nfds), 0);
	assert_int_equal(len, sizeof(got));
	assert_int_equal(nfds, 3);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	assert_int_equal(kxd_check_resp(&got, len, 0, why, sizeof(why)), 0);
	assert_int_equal(kxd_send(sp[0], &resp, sizeof(resp), three, 4), -EINVAL);
	/* a datagram longer than the reader's buffer is refused, not cut */
	memset(big, 0, sizeof(big));
	assert_int_equal(kxd_send(sp[0], big, sizeof(big), NULL, 0), 0);
	assert_int_equal(kxd_recv(sp[1], &got, sizeof(got), &len, fds, &nfds), -EMSGSIZE);
	close(sp[0]);
	assert_int_equal(kxd_recv(sp[1], &got, sizeof(got), &len, fds, &nfds), 0);
	assert_int_equal(len, 0); /* the peer closed */
	close(sp[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chan_good), cmocka_unit_test(test_chan_hostile),
		cmocka_unit_test(test_req),       cmocka_unit_test(test_libname),
		cmocka_unit_test(test_io),        cmocka_unit_test(test_chan_link_done_result),
		cmocka_unit_test(test_split_args),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_run_env),
		cmocka_unit_test(test_recycle),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_fs_mount),
		cmocka_unit_test(test_net),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
