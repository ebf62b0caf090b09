/* Private to the kxsign CLI (kxsign.c, kxsign_show.c). */
#ifndef KX_SIGNER_KXSIGN_CLI_H
#define KX_SIGNER_KXSIGN_CLI_H

#include "signer/kxsig.h"
#include "signer/kxsig_abi.h"

enum { KXSIGN_EXIT_OK = 0, KXSIGN_EXIT_VERIFY = 1, KXSIGN_EXIT_USAGE = 2 };

/* One row per subcommand: dispatch, `kxsign --help` and `kxsign CMD --help`. */
struct kxsign_cmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
	const char *synopsis;              /* after "kxsign " */
	const char *help;                  /* description and options */
};

/* Print "kxsign CMD: <reason>" and the command's synopsis; returns 2. */
int kxsign_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "kxsign: FILE: [WHAT: ]<reason>"; returns 1 when rc is a
 * verification failure, else 2. */
int kxsign_report(const char *file, const char *what, int rc, const struct kx_error *err);

int kxsign_cmd_show(int argc, char **argv);
int kxsign_cmd_ptrmap(int argc, char **argv);

#endif /* KX_SIGNER_KXSIGN_CLI_H */
