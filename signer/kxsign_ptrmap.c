/*
 * kxsign ptrmap: a library's pointer map (common/kxptrmap.h) as text, one
 * variable per line with its name from the symbol tables.  Nothing here is
 * verified: the map is decoded (checked) from the file as it is.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "signer/kxsign_cli.h"

static void print_var(const struct kxptrmap *map, const struct kxsig_ptrmap_var *pv)
{
	const struct kxptrmap_abi_var *v = &pv->var;

	printf("  0x%08llx %8llu  %-24s", (unsigned long long)v->addr,
	       (unsigned long long)v->size, pv->name);
	if (v->flags & KXPTRMAP_VAR_UNTYPED) {
		printf(" untyped\n");
		return;
	}
	if (v->run_count == 0)
		printf(" no pointers");
	for (size_t i = v->first_run; i < (size_t)v->first_run + v->run_count; i++) {
		struct kxptrmap_abi_run r;

		kxptrmap_run(map, i, &r);
		printf("%s %s +%llu", i == v->first_run ? "" : ",",
		       r.kind == KXPTRMAP_MAYBE ? "maybe" : "pointer", (unsigned long long)r.offset);
		if (r.count > 1)
			printf(" x%u step %llu", r.count, (unsigned long long)r.stride);
	}
	printf("\n");
}

int kxsign_cmd_ptrmap(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"all", no_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	struct kxsig_ptrmap_var *vars = NULL;
	struct kx_error err = {0};
	struct kxptrmap map;
	uint8_t *buf = NULL;
	size_t len = 0, n = 0, untyped = 0, words[3] = {0};
	int c, all = 0, rc;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (c != 'a')
			return kxsign_usage_error("bad option");
		all = 1;
	}
	if (optind + 1 != argc)
		return kxsign_usage_error("exactly one FILE");
	rc = kxsig_read_file(argv[optind], KXSIG_FILE_MAX, &buf, &len, &err);
	if (!rc)
		rc = kxsig_ptrmap_describe(buf, len, &vars, &n, &map, &err);
	if (rc) {
		rc = kxsign_report(argv[optind], NULL, rc, &err);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		untyped += (vars[i].var.flags & KXPTRMAP_VAR_UNTYPED) != 0;
	for (size_t i = 0; i < map.run_count; i++) {
		struct kxptrmap_abi_run r;

		kxptrmap_run(&map, i, &r);
		words[r.kind] += r.count; /* kind is 1 or 2: decoded */
	}
	printf("pointer map of %s: %zu variables, %zu pointer words, %zu maybe, %zu untyped\n",
	       argv[optind], n, words[KXPTRMAP_POINTER], words[KXPTRMAP_MAYBE], untyped);
	for (size_t i = 0; i < n; i++)
		if (all || vars[i].var.run_count || (vars[i].var.flags & KXPTRMAP_VAR_UNTYPED))
			print_var(&map, &vars[i]);
	rc = KXSIGN_EXIT_OK;
out:
	free(vars);
	free(buf);
	return rc;
}
