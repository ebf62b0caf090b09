/*
 * kvstore.c — the example app: a tiny in-memory key-value store in a pVM.
 * It calls into libkvmath (DT_NEEDED, bound lazily) and links libacme-log
 * at run time with kx_dlopen; the manager's policy decides both
 * (manifests/kvstore.yaml).  `kvstore.kxe [LIB]` dlopens LIB instead.
 */
#include "guest/examples/kvmath.h"
#include "guest/kxguest.h"

#define SLOTS 64

struct entry {
	const char *key;
	long value;
};

static struct entry table[SLOTS];

static struct entry *slot_of(const char *key)
{
	uint64_t h = kvm_hash(key);

	for (unsigned i = 0; i < SLOTS; i++) {
		struct entry *e = &table[(h + i) % SLOTS];

		if (e->key == NULL || strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

static void put(const char *key, long value)
{
	struct entry *e = slot_of(key);

	if (e == NULL)
		kx_panic("kvstore: table full");
	e->key = key;
	e->value = value;
}

static long get(const char *key)
{
	struct entry *e = slot_of(key);

	return e != NULL && e->key != NULL ? e->value : -1;
}

int main(int argc, char **argv)
{
	const char *lib = argc > 1 ? argv[1] : "libacme-log.so";
	int (*log_line)(const char *, const char *, long);
	kx_handle_t h;
	long rc;

	printf("kvstore: libkvmath %s\n", kvm_version);
	put("apples", kvm_add(40, 2));
	put("pears", kvm_mul(6, 7));
	put("plums", kvm_add(get("apples"), get("pears")));
	printf("kvstore: apples=%ld pears=%ld plums=%ld (%lu libkvmath calls)\n", get("apples"),
	       get("pears"), get("plums"), kvm_calls);

	rc = kx_dlopen(lib, &h);
	if (rc != 0) {
		printf("kvstore: %s not linked (%ld)\n", lib, rc);
		return 3;
	}
	log_line = (int (*)(const char *, const char *, long))kx_dlsym(h, "acme_log");
	if (log_line == NULL) {
		printf("kvstore: %s has no acme_log\n", lib);
		return 4;
	}
	log_line("kvstore", "plums", get("plums"));
	return 0;
}
