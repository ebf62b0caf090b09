/*
 * The version-constraint language of kx manifests (and of library
 * selectors, which are the wildcard patterns of the same language).
 *
 * Grammar, in plain BNF (terminals quoted; `version` and `pattern` are
 * single tokens from expr.l; blanks and tabs between tokens are ignored):
 *
 *   <constraint> ::= <or>
 *   <or>         ::= <and> | <or> "||" <and>
 *   <and>        ::= <unary> | <and> "&&" <unary>
 *   <unary>      ::= "!" <unary> | <primary>
 *   <primary>    ::= "(" <or> ")" | <operand> | <compare> <operand>
 *   <compare>    ::= "==" | "!=" | "<" | "<=" | ">" | ">="
 *   <operand>    ::= <version> | <pattern>
 *   <version>    ::= <number> | <number> "." <number>    (1 to 4 numbers)
 *   <pattern>    ::= "*" | <version> ".*"                (1 to 4 numbers)
 *   <number>     ::= <digit> | <number> <digit>           (each <= 4294967295)
 *
 * So `!` binds tightest, then `&&`, then `||`; parentheses group.
 *
 * Meaning (a constraint denotes a set of versions; missing parts are 0):
 *   v          == v                  exactly v (1.2 == 1.2.0)
 *   p.*        == p.*                [p, p+1): 2.1.* is [2.1, 2.2)
 *   *          == *                  every version
 *   != x       the complement of == x
 *   < x        below every version of x;   <= x   up to and including x
 *   > x        above every version of x;   >= x   from x upwards
 *   a && b     intersection;  a || b  union;  !a  complement
 * `*` may only follow == or !=.  A constraint that no version satisfies is
 * an error ("empty version range"); a contradictory `&&` inside a larger
 * constraint that is not empty is a warning.
 *
 * The parser is pure and prefixed (pmexpr_) so that it can live in a library
 * next to other generated parsers.  Its input is untrusted: expr.l bounds the
 * text and every number; values are freed on every error path through
 * %destructor.
 */
%define api.pure full
%define api.prefix {pmexpr_}
%define api.token.prefix {PMEXPR_TOK_}
%define parse.error detailed
%locations
%parse-param {void *scanner} {struct pm_expr_ctx *ctx}
%lex-param {void *scanner}

%code requires {
#include <setjmp.h>
#include "policy-lang/front.h"

/* A version or pattern token. */
struct pm_vtok {
	struct pm_version v;
	bool wild;
};

/* State shared by the scanner, the parser and pm_expr_compile(). */
struct pm_expr_ctx {
	const char *text;
	size_t len;
	int pos;                  /* scanner offset, bytes */
	struct pm_expr_report *rep;
	struct pm_vset *result;   /* the constraint's value, owned */
	size_t contradiction[PM_EXPR_WARN_MAX]; /* offsets of empty "&&" */
	size_t ncontradiction;
	bool nomem;
	jmp_buf fatal;            /* scanner allocation failure */
	void *owned[8];           /* what the scanner allocated (see expr.l) */
};

void pm_expr_fail(struct pm_expr_ctx *ctx, size_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
}

%code {
#include <stdio.h>
#include <string.h>

int pmexpr_lex(PMEXPR_STYPE *lval, PMEXPR_LTYPE *lloc, void *scanner);
static void pmexpr_error(PMEXPR_LTYPE *loc, void *scanner, struct pm_expr_ctx *ctx,
			 const char *msg);

#define OFFSET(loc) ((size_t)(loc).first_column)

/* Allocation failed somewhere below: stop, values already freed. */
#define CHECK(v)                          \
	do {                              \
		if ((v) == NULL) {        \
			ctx->nomem = true; \
			YYABORT;          \
		}                         \
	} while (0)
}

%union {
	struct pm_vset *set;
	struct pm_vtok ver;
	enum pm_cmp cmp;
}

%token END 0 "end of constraint"
%token <ver> VERSION "version"
%token EQ "==" NE "!=" LT "<" LE "<=" GT ">" GE ">="
%token AND "&&" OR "||" NOT "!" LPAREN "(" RPAREN ")"
%token INVALID "invalid text"

%type <set> or and unary primary
%type <cmp> compare
%destructor { pm_vset_free($$); } <set>

%%

constraint:
	or { ctx->result = $1; }
	;

or:
	and
	| or "||" and { $$ = pm_vset_or($1, $3); CHECK($$); }
	;

and:
	unary
	| and "&&" unary {
		bool before = !pm_vset_empty($1) && !pm_vset_empty($3);

		$$ = pm_vset_and($1, $3);
		CHECK($$);
		if (before && pm_vset_empty($$) && ctx->ncontradiction < PM_EXPR_WARN_MAX)
			ctx->contradiction[ctx->ncontradiction++] = OFFSET(@2);
	}
	;

unary:
	"!" unary { $$ = pm_vset_not($2); CHECK($$); }
	| primary
	;

primary:
	"(" or ")" { $$ = $2; }
	| VERSION { $$ = pm_vset_cmp(PM_CMP_EQ, &$1.v, $1.wild); CHECK($$); }
	| compare VERSION {
		if ($2.wild && $2.v.nparts == 0 && $1 != PM_CMP_EQ && $1 != PM_CMP_NE) {
			pm_expr_fail(ctx, OFFSET(@2), "'*' can only follow == or !=");
			YYABORT;
		}
		$$ = pm_vset_cmp($1, &$2.v, $2.wild);
		CHECK($$);
	}
	;

compare:
	"==" { $$ = PM_CMP_EQ; }
	| "!=" { $$ = PM_CMP_NE; }
	| "<" { $$ = PM_CMP_LT; }
	| "<=" { $$ = PM_CMP_LE; }
	| ">" { $$ = PM_CMP_GT; }
	| ">=" { $$ = PM_CMP_GE; }
	;

%%

void pm_expr_fail(struct pm_expr_ctx *ctx, size_t offset, const char *fmt, ...)
{
	va_list ap;

	if (ctx->rep->failed)
		return; /* the first error is the one worth reading */
	ctx->rep->failed = true;
	ctx->rep->error.offset = offset;
	va_start(ap, fmt);
	vsnprintf(ctx->rep->error.msg, sizeof(ctx->rep->error.msg), fmt, ap);
	va_end(ap);
}

static void pmexpr_error(PMEXPR_LTYPE *loc, void *scanner, struct pm_expr_ctx *ctx,
			 const char *msg)
{
	(void)scanner;
	if (strcmp(msg, "memory exhausted") == 0) {
		ctx->nomem = true;
		return;
	}
	/* "syntax error, unexpected X": the caller says what was invalid. */
	if (strncmp(msg, "syntax error, ", 14) == 0)
		msg += 14;
	pm_expr_fail(ctx, OFFSET(*loc), "%s", msg);
}
