/*
 * kxsign — sign shared libraries for kx, verify and show their signatures.
 *
 * One command table drives dispatch, `kxsign --help` and each subcommand's
 * help.  Exit codes: 0 success, 1 verification failed, 2 usage, I/O or
 * malformed input.  Only this file (and kxsign_show.c, kxsign_ptrmap.c) prints.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "signer/kxsign_cli.h"

#define KXSIGN_VERSION "1.0"
#define MAX_KEYS 256

static const struct kxsign_cmd *current; /* for usage errors */

int kxsign_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kxsign %s: ", current ? current->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: kxsign %s\n", current ? current->synopsis : "COMMAND ...");
	return KXSIGN_EXIT_USAGE;
}

int kxsign_report(const char *file, const char *what, int rc, const struct kx_error *err)
{
	fprintf(stderr, "kxsign: %s: %s%s%s\n", file, what ? what : "", what ? ": " : "",
		err->msg);
	return kxsig_err_is_verify(rc) ? KXSIGN_EXIT_VERIFY : KXSIGN_EXIT_USAGE;
}

/* ---- keygen ------------------------------------------------------------ */

static int cmd_keygen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"public", required_argument, NULL, 'p'},
		{"secret", required_argument, NULL, 's'},
		{"comment", required_argument, NULL, 'c'},
		{"no-passphrase", no_argument, NULL, 'n'},
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	const char *pub = NULL, *sec = NULL, *comment = NULL;
	unsigned flags = 0;
	uint8_t keyid[KXSIG_KEYID_BYTES];
	char hex[2 * KXSIG_KEYID_BYTES + 1];
	struct kx_error err = {0};
	int c, rc;

	while ((c = getopt_long(argc, argv, "+p:s:c:f", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': pub = optarg; break;
		case 's': sec = optarg; break;
		case 'c': comment = optarg; break;
		case 'n': flags |= KXSIG_KEYGEN_NO_PASSPHRASE; break;
		case 'f': flags |= KXSIG_KEYGEN_FORCE; break;
		default: return kxsign_usage_error("bad option");
		}
	}
	if (!pub || !sec)
		return kxsign_usage_error("-p PUBKEY and -s SECKEY are required");
	if (optind != argc)
		return kxsign_usage_error("unexpected argument '%s'", argv[optind]);
	if (strcmp(pub, sec) == 0)
		return kxsign_usage_error("the public and secret key files must differ");
	rc = kxsig_keygen(pub, sec, comment, flags, keyid, &err);
	if (rc != 0)
		return kxsign_report("keygen", NULL, rc, &err);
	kxsig_keyid_hex(keyid, hex);
	printf("key id %s\npublic key: %s\nsecret key: %s (%s)\n", hex, pub, sec,
	       (flags & KXSIG_KEYGEN_NO_PASSPHRASE) ? "unencrypted" : "passphrase-protected");
	return KXSIGN_EXIT_OK;
}

/* ---- sign -------------------------------------------------------------- */

/* SOURCE_DATE_EPOCH (reproducible builds) when set, else the clock. */
static int sign_time(uint64_t *out)
{
	const char *env = getenv("SOURCE_DATE_EPOCH");
	char *end = NULL;
	unsigned long long v;

	if (!env || !env[0]) {
		*out = (uint64_t)time(NULL);
		return 0;
	}
	errno = 0;
	v = strtoull(env, &end, 10);
	if (errno || *end || env[0] == '-')
		return -1;
	*out = v;
	return 0;
}

/* The map from the file's DWARF (or debug's): none, with a note, when
 * there is no DWARF; any other failure stops the signing (exit 2). */
static int pointer_map(const char *file, const uint8_t *in, size_t in_len, const char *debug,
		       uint8_t **map, size_t *map_len, struct kxsig_ptrmap_stats *st)
{
	struct kx_error err = {0};
	uint8_t *dbg = NULL;
	size_t dbg_len = 0;
	int rc = 0;

	if (debug && (rc = kxsig_read_file(debug, KXSIG_FILE_MAX, &dbg, &dbg_len, &err)) != 0)
		return kxsign_report(debug, NULL, rc, &err);
	rc = kxsig_ptrmap_build(in, in_len, dbg, dbg_len, map, map_len, st, &err);
	free(dbg);
	if (rc == -ENOEXEC && !debug)
		return 0; /* not ELF: signing says why, in the signer's words */
	if (rc == -ENODATA && !debug) {
		fprintf(stderr,
			"kxsign: %s: note: %s: no pointer map; an online update of this library "
			"will copy its variables verbatim, rebasing none\n",
			file, err.msg);
		return 0;
	}
	if (rc) {
		fprintf(stderr, "kxsign: %s: cannot build the pointer map: %s\n",
			debug ? debug : file, err.msg);
		return KXSIGN_EXIT_USAGE;
	}
	return 0;
}

/* Sign in (file's bytes) with the secret key sec and write the result to
 * out atomically with mode: the step sign and resign share.  The new key's
 * id in keyid.  An exit code. */
static int sign_write(const char *sec, const char *file, const char *out, mode_t mode,
		      const uint8_t *in, size_t in_len, const struct kxsig_sign_opts *opts,
		      uint8_t keyid[KXSIG_KEYID_BYTES])
{
	struct kxsig_seckey *key = NULL;
	struct kx_error err = {0};
	uint8_t *signed_buf = NULL;
	size_t signed_len = 0;
	int rc = kxsig_seckey_open(sec, &key, &err);

	if (rc) {
		rc = kxsign_report(sec, NULL, rc, &err);
		goto out;
	}
	rc = kxsig_sign_elf(key, in, in_len, opts, &signed_buf, &signed_len, &err);
	if (!rc)
		rc = kxsig_write_file_atomic(out, signed_buf, signed_len, mode & 0777, 1, &err);
	if (rc) {
		fprintf(stderr, "kxsign: %s: cannot sign: %s\n", file, err.msg);
		rc = KXSIGN_EXIT_USAGE;
		goto out;
	}
	kxsig_seckey_keyid(key, keyid);
	rc = KXSIGN_EXIT_OK;
out:
	kxsig_seckey_free(key);
	free(signed_buf);
	return rc;
}

static int cmd_sign(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"secret", required_argument, NULL, 's'},
		{"name", required_argument, NULL, 'N'},
		{"version", required_argument, NULL, 'V'},
		{"trusted-comment", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"debug-file", required_argument, NULL, 'd'},
		{"no-ptrmap", no_argument, NULL, 'P'},
		{NULL, 0, NULL, 0},
	};
	struct kxsig_sign_opts opts = {0};
	const char *sec = NULL, *out = NULL, *debug = NULL, *file;
	struct kx_error err = {0};
	uint8_t *in = NULL, *map = NULL, keyid[KXSIG_KEYID_BYTES];
	size_t in_len = 0, map_len = 0;
	struct kxsig_ptrmap_stats ms = {0};
	int want_map = 1;
	char hex[2 * KXSIG_KEYID_BYTES + 1];
	struct stat st;
	int c, rc;

	while ((c = getopt_long(argc, argv, "+s:t:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 's': sec = optarg; break;
		case 'N': opts.name = optarg; break;
		case 'V': opts.version = optarg; break;
		case 't': opts.trusted_comment = optarg; break;
		case 'o': out = optarg; break;
		case 'd': debug = optarg; break;
		case 'P': want_map = 0; break;
		default: return kxsign_usage_error("bad option");
		}
	}
	if (debug && !want_map)
		return kxsign_usage_error("--debug-file and --no-ptrmap contradict each other");
	if (!sec || !opts.name || !opts.version)
		return kxsign_usage_error("-s SECKEY, --name and --version are required");
	if (optind + 1 != argc)
		return kxsign_usage_error("exactly one FILE to sign");
	file = argv[optind];
	out = out ? out : file;
	if (sign_time(&opts.timestamp) != 0)
		return kxsign_usage_error("SOURCE_DATE_EPOCH is not a number of seconds");
	if (stat(file, &st) != 0) {
		fprintf(stderr, "kxsign: %s: %s\n", file, strerror(errno));
		rc = KXSIGN_EXIT_USAGE;
		goto out;
	}
	rc = kxsig_read_file(file, KXSIG_FILE_MAX, &in, &in_len, &err);
	if (rc) {
		rc = kxsign_report(file, NULL, rc, &err);
		goto out;
	}
	if (want_map) {
		rc = pointer_map(file, in, in_len, debug, &map, &map_len, &ms);
		if (rc)
			goto out;
		opts.ptrmap = map;
		opts.ptrmap_len = map_len;
	}
	rc = sign_write(sec, file, out, st.st_mode, in, in_len, &opts, keyid);
	if (rc)
		goto out;
	kxsig_keyid_hex(keyid, hex);
	printf("signed %s as %s %s with key %s -> %s\n", file, opts.name, opts.version, hex, out);
	if (map)
		printf("pointer map: %zu variables, %zu pointer words, %zu maybe, %zu untyped%s%s%s\n",
		       ms.vars, ms.pointers, ms.maybe, ms.untyped, ms.untyped ? " (e.g. '" : "",
		       ms.untyped ? ms.untyped_example : "", ms.untyped ? "')" : "");
	rc = KXSIGN_EXIT_OK;
out:
	free(map);
	free(in);
	return rc;
}

/* ---- verify ------------------------------------------------------------ */

static int add_key(struct kxsig_pubkey *keys, size_t *nkeys, const char *path)
{
	struct kx_error err = {0};

	if (*nkeys >= MAX_KEYS) {
		fprintf(stderr, "kxsign: %s: more than %d trusted keys\n", path, MAX_KEYS);
		return KXSIGN_EXIT_USAGE;
	}
	if (kxsig_pubkey_load(path, &keys[*nkeys], &err) != 0) {
		fprintf(stderr, "kxsign: %s: bad public key: %s\n", path, err.msg);
		return KXSIGN_EXIT_USAGE;
	}
	(*nkeys)++;
	return KXSIGN_EXIT_OK;
}

static int pub_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && d->d_name[0] != '.' && strcmp(d->d_name + n - 4, ".pub") == 0;
}

/* Every *.pub in dir, in name order (so messages are stable). */
static int add_keyring(struct kxsig_pubkey *keys, size_t *nkeys, const char *dir)
{
	struct dirent **names = NULL;
	char path[4096];
	int n, rc = KXSIGN_EXIT_OK;

	n = scandir(dir, &names, pub_filter, alphasort);
	if (n < 0) {
		fprintf(stderr, "kxsign: %s: cannot read keyring: %s\n", dir, strerror(errno));
		return KXSIGN_EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		if (rc == KXSIGN_EXIT_OK) {
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >=
			    sizeof(path)) {
				fprintf(stderr, "kxsign: %s: path too long\n", dir);
				rc = KXSIGN_EXIT_USAGE;
			} else {
				rc = add_key(keys, nkeys, path);
			}
		}
		free(names[i]);
	}
	free(names);
	if (rc == KXSIGN_EXIT_OK && n == 0) {
		fprintf(stderr, "kxsign: %s: keyring holds no *.pub key\n", dir);
		rc = KXSIGN_EXIT_USAGE;
	}
	return rc;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"public", required_argument, NULL, 'p'},
		{"keyring", required_argument, NULL, 'K'},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	struct kxsig_pubkey *keys = NULL;
	struct kxsig_meta meta;
	struct kx_error err = {0};
	uint8_t *buf = NULL;
	size_t nkeys = 0, len = 0;
	char hex[2 * KXSIG_KEYID_BYTES + 1], dhex[2 * KXSIG_DIGEST_BYTES + 1];
	int c, quiet = 0, rc = KXSIGN_EXIT_OK;

	keys = calloc(MAX_KEYS, sizeof(*keys));
	if (!keys) {
		fprintf(stderr, "kxsign: out of memory\n");
		return KXSIGN_EXIT_USAGE;
	}
	while (rc == KXSIGN_EXIT_OK &&
	       (c = getopt_long(argc, argv, "+p:K:q", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': rc = add_key(keys, &nkeys, optarg); break;
		case 'K': rc = add_keyring(keys, &nkeys, optarg); break;
		case 'q': quiet = 1; break;
		default: rc = kxsign_usage_error("bad option");
		}
	}
	if (rc)
		goto out;
	if (nkeys == 0 || optind + 1 != argc) {
		rc = kxsign_usage_error(nkeys == 0 ? "at least one -p PUBKEY or -K KEYRING_DIR"
						   : "exactly one FILE to verify");
		goto out;
	}
	rc = kxsig_read_file(argv[optind], KXSIG_FILE_MAX, &buf, &len, &err);
	if (!rc)
		rc = kxsig_verify(buf, len, keys, nkeys, &meta, &err);
	if (rc) {
		rc = kxsign_report(argv[optind],
				   kxsig_err_is_verify(rc) ? "verification failed" : NULL, rc, &err);
		goto out;
	}
	kxsig_keyid_hex(meta.keyid, hex);
	kxsig_digest_hex(meta.digest, dhex);
	if (!quiet)
		printf("%s: signature OK: %s %s, signed by key %s, content digest %s\n",
		       argv[optind], meta.name, meta.version, hex, dhex);
	rc = KXSIGN_EXIT_OK;
out:
	free(buf);
	free(keys);
	return rc;
}

/* ---- resign ------------------------------------------------------------ */

/* Key rotation: the file's current signature must verify against a key the
 * caller trusts (-p/-K: the old key); then it is signed again under the new
 * key with the same name, version and trusted comment, and the same layout
 * and pointer map (kxsig_sign_elf keeps them when it replaces a signature).
 * An unverified file is never re-signed: that would launder it. */
static int cmd_resign(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"secret", required_argument, NULL, 's'},
		{"public", required_argument, NULL, 'p'},
		{"keyring", required_argument, NULL, 'K'},
		{"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	struct kxsig_sign_opts opts = {0};
	struct kxsig_pubkey *keys = NULL;
	struct kxsig_meta meta;
	struct kx_error err = {0};
	const char *sec = NULL, *out = NULL, *file;
	uint8_t *in = NULL, keyid[KXSIG_KEYID_BYTES];
	size_t nkeys = 0, in_len = 0;
	char old_hex[2 * KXSIG_KEYID_BYTES + 1], new_hex[2 * KXSIG_KEYID_BYTES + 1];
	struct stat st;
	int c, rc = KXSIGN_EXIT_OK;

	keys = calloc(MAX_KEYS, sizeof(*keys));
	if (!keys) {
		fprintf(stderr, "kxsign: out of memory\n");
		return KXSIGN_EXIT_USAGE;
	}
	while (rc == KXSIGN_EXIT_OK &&
	       (c = getopt_long(argc, argv, "+s:p:K:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 's': sec = optarg; break;
		case 'p': rc = add_key(keys, &nkeys, optarg); break;
		case 'K': rc = add_keyring(keys, &nkeys, optarg); break;
		case 'o': out = optarg; break;
		default: rc = kxsign_usage_error("bad option");
		}
	}
	if (rc)
		goto out;
	if (!sec || nkeys == 0 || optind + 1 != argc) {
		rc = kxsign_usage_error("-s NEW_SECKEY, at least one -p OLD_PUBKEY or -K DIR, and "
					"exactly one FILE");
		goto out;
	}
	file = argv[optind];
	out = out ? out : file;
	if (sign_time(&opts.timestamp) != 0) {
		rc = kxsign_usage_error("SOURCE_DATE_EPOCH is not a number of seconds");
		goto out;
	}
	if (stat(file, &st) != 0) {
		fprintf(stderr, "kxsign: %s: %s\n", file, strerror(errno));
		rc = KXSIGN_EXIT_USAGE;
		goto out;
	}
	rc = kxsig_read_file(file, KXSIG_FILE_MAX, &in, &in_len, &err);
	if (!rc)
		rc = kxsig_verify(in, in_len, keys, nkeys, &meta, &err);
	if (rc) {
		rc = kxsign_report(file, kxsig_err_is_verify(rc) ? "not re-signed: the current "
				   "signature does not verify" : NULL, rc, &err);
		goto out;
	}
	opts.name = meta.name;
	opts.version = meta.version;
	opts.trusted_comment = meta.trusted_comment[0] ? meta.trusted_comment : NULL;
	rc = sign_write(sec, file, out, st.st_mode, in, in_len, &opts, keyid);
	if (rc)
		goto out;
	kxsig_keyid_hex(meta.keyid, old_hex);
	kxsig_keyid_hex(keyid, new_hex);
	printf("re-signed %s as %s %s: key %s -> %s -> %s\n", file, meta.name, meta.version,
	       old_hex, new_hex, out);
	rc = KXSIGN_EXIT_OK;
out:
	free(in);
	free(keys);
	return rc;
}

/* ---- digest ------------------------------------------------------------ */

static int cmd_digest(int argc, char **argv)
{
	struct kx_error err = {0};
	uint8_t digest[KXSIG_DIGEST_BYTES], *buf = NULL;
	char hex[2 * KXSIG_DIGEST_BYTES + 1];
	size_t len = 0;
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return kxsign_usage_error("exactly one FILE");
	rc = kxsig_read_file(argv[1], KXSIG_FILE_MAX, &buf, &len, &err);
	if (!rc)
		rc = kxsig_content_digest(buf, len, digest, &err);
	free(buf);
	if (rc)
		return kxsign_report(argv[1], NULL, rc, &err);
	kxsig_digest_hex(digest, hex);
	printf("%s  %s\n", hex, argv[1]);
	return KXSIGN_EXIT_OK;
}

/* ---- the command table ------------------------------------------------- */

static const struct kxsign_cmd commands[] = {
	{"keygen", cmd_keygen, "keygen -p PUBKEY -s SECKEY [-c COMMENT] [--no-passphrase] [-f]",
	 "Generate an Ed25519 key pair.  The secret key is encrypted under a passphrase\n"
	 "(Argon2id + XSalsa20-Poly1305) read from $KXSIGN_PASSPHRASE_FILE (first line)\n"
	 "or asked twice on the terminal.\n"
	 "  -p, --public PUBKEY    public key file to write (mode 0644)\n"
	 "  -s, --secret SECKEY    secret key file to write (mode 0600)\n"
	 "  -c, --comment TEXT     comment for the public key's first line\n"
	 "      --no-passphrase    store the secret key unencrypted (CI and dev keys)\n"
	 "  -f, --force            replace existing key files\n"},
	{"sign", cmd_sign,
	 "sign -s SECKEY --name NAME --version VERSION [-t TRUSTED_COMMENT] [-o OUT]\n"
	 "              [--debug-file DEBUG | --no-ptrmap] FILE",
	 "Embed a signature in FILE, an ELF64 x86-64 shared object or executable, as a\n"
	 ".kxsig section (an existing signature is replaced).  The new signature is\n"
	 "verified before the file is written atomically.  Sign after strip: strip\n"
	 "invalidates a signature.  The time is $SOURCE_DATE_EPOCH when set.\n"
	 "From FILE's DWARF (or DEBUG's), a signed .kxptrmap section records which\n"
	 "words of each writable variable are pointers, for online update; without\n"
	 "DWARF the file is signed without one (a note says so).\n"
	 "  -s, --secret SECKEY            secret key (passphrase as for keygen)\n"
	 "      --name NAME                library name, signed ([A-Za-z0-9._+-], <= 63)\n"
	 "      --version VERSION          library version, signed (same rule, <= 31)\n"
	 "  -t, --trusted-comment TEXT     signed free text (<= 255 printable ASCII characters)\n"
	 "  -o, --output OUT               write OUT instead of replacing FILE\n"
	 "      --debug-file DEBUG         DWARF from DEBUG, a debug file of the same build\n"
	 "                                 (objcopy --only-keep-debug), e.g. for a stripped FILE\n"
	 "      --no-ptrmap                add no pointer map\n"},
	{"verify", cmd_verify, "verify -p PUBKEY [-p PUBKEY ...] [-K KEYRING_DIR] [-q] FILE",
	 "Check FILE's embedded signature against the trusted keys.  Exit 1 names\n"
	 "what failed: the regions that changed, or the signing and expected key ids.\n"
	 "  -p, --public PUBKEY    trust this public key (repeatable)\n"
	 "  -K, --keyring DIR      trust every *.pub in DIR (repeatable)\n"
	 "  -q, --quiet            print nothing on success\n"},
	{"resign", cmd_resign,
	 "resign -s NEW_SECKEY -p OLD_PUBKEY [-p ...] [-K KEYRING_DIR] [-o OUT] FILE",
	 "Key rotation: sign FILE again under a new key, keeping its signed name,\n"
	 "version, trusted comment, layout and pointer map.  FILE's current signature\n"
	 "must verify against one of the given old keys first (else exit 1, nothing\n"
	 "written); the new signature is verified before FILE is replaced atomically.\n"
	 "A policy that trusts the old key `until` a date and the new one `from` an\n"
	 "earlier date accepts both copies during the overlap.\n"
	 "  -s, --secret NEW_SECKEY        the new key (passphrase as for keygen)\n"
	 "  -p, --public OLD_PUBKEY        a key the current signature may verify with\n"
	 "  -K, --keyring DIR              ... every *.pub in DIR (repeatable)\n"
	 "  -o, --output OUT               write OUT instead of replacing FILE\n"},
	{"show", kxsign_cmd_show, "show [--json] FILE",
	 "Print FILE's signed metadata, content digest and the regions the signature\n"
	 "covers, without checking the signature (use verify for that).\n"
	 "      --json             one JSON object (keys: file, name, version, keyid,\n"
	 "                         timestamp, trusted_comment, digest, verified, regions)\n"},
	{"ptrmap", kxsign_cmd_ptrmap, "ptrmap [--all] FILE",
	 "List FILE's pointer map: for each writable variable, the words an online\n"
	 "update rebases (pointer), those a union may use as a pointer (maybe), or\n"
	 "untyped (no type information: copied verbatim).  Not verified (use verify).\n"
	 "      --all              also list the variables that hold no pointer\n"},
	{"digest", cmd_digest, "digest FILE",
	 "Print FILE's content digest (signed or not: signing does not change it), the\n"
	 "value a policy's revoked.digests list names.\n"},
};

static const char exit_status_help[] =
	"Exit status: 0 success, 1 verification failed, 2 usage, I/O or malformed input.\n";

static void usage(FILE *f)
{
	fprintf(f, "usage: kxsign COMMAND [OPTION...] [FILE]\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  kxsign %s\n", commands[i].synopsis);
	fprintf(f, "\n  kxsign COMMAND --help    details of one command\n"
		   "  kxsign --version\n\n%s"
		   "Environment: KXSIGN_PASSPHRASE_FILE, SOURCE_DATE_EPOCH.  See kxsign(1).\n",
		exit_status_help);
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return KXSIGN_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return KXSIGN_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("kxsign %s (signature format %d)\n", KXSIGN_VERSION, KXSIG_ABI_VERSION);
		return KXSIGN_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		current = &commands[i];
		if (wants_help(argc - 1, argv + 1)) {
			printf("usage: kxsign %s\n\n%s\n%s", current->synopsis, current->help,
			       exit_status_help);
			return KXSIGN_EXIT_OK;
		}
		if (kxsig_init() != 0) {
			fprintf(stderr, "kxsign: cannot initialise libsodium\n");
			return KXSIGN_EXIT_USAGE;
		}
		return current->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "kxsign: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return KXSIGN_EXIT_USAGE;
}
