#include "cli/cli_util.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/secret.h"
#include "common/util.h"

volatile sig_atomic_t cli_stop;

/* Options of one command (verify has about 50); cli_parse refuses a longer table. */
#define CLI_MAX_OPTS 96

void cli_help(const struct cli_cmd *cmd, FILE *f)
{
	const struct cli_opt *o;

	fprintf(f, "usage: cvmrestore %s %s%s\n\n%s\n", cmd->name,
		cmd->opts[0].name ? "[options] " : "", cmd->args, cmd->summary);
	if (cmd->opts[0].name)
		fprintf(f, "\noptions:\n");
	for (o = cmd->opts; o->name; o++) {
		char left[64];

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
				 o->has_arg ? " " : "", o->has_arg ? o->metavar : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->has_arg ? " " : "",
				 o->has_arg ? o->metavar : "");
		fprintf(f, "  %-28s %s\n", left, o->help);
	}
	fprintf(f, "  %-28s %s\n", "-h, --help", "show this help");
	if (cmd->details)
		fprintf(f, "\n%s\n", cmd->details);
	fprintf(f,
		"\nA positional argument or a URL option's value may be @FILE (the file's first "
		"line), @- (the first\nline of standard input) or env:NAME (the variable's value): "
		"a SAS then never appears on the\ncommand line (given there, its query is "
		"overwritten at start). A path that starts with '@'\nor 'env:' is written ./@... "
		"or ./env:...\n");
	fprintf(f, "\nexit codes: 0 ok, 1 verification failed, 2 usage, 3 malformed input, 4 I/O, "
		   "5 authentication, 130 interrupted (docs/exit-codes.md)\n");
}

int cli_usage(const struct cli_cmd *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The message may quote any argument: a URL loses its query, controls are escaped. */
	fprintf(stderr, "cvmrestore: %s: %s (see 'cvmrestore %s --help')\n", cmd->name,
		RP_TEXT(msg), cmd->name);
	return CLI_EXIT_USAGE;
}

/* Does cmd have the option --name? */
static bool has_opt(const struct cli_cmd *cmd, const char *name)
{
	const struct cli_opt *o;

	for (o = cmd->opts; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return true;
	return false;
}

const char *cli_hint(const struct cli_cmd *cmd, enum rp_hint hint, const char *value, char *buf,
		     size_t size)
{
	static const char *const hints[RP_H_COUNT] = {
	    [RP_H_KEK] = "give --kek-file or --kek-url",
	    [RP_H_KEK_PASS] = "give its passphrase with --kek-pass-file",
	    [RP_H_WRAP_ALG] = "give --alg",
	    [RP_H_ALLOW_RSA1_5] = "add --allow-rsa1_5 to use it anyway",
	    [RP_H_TOKEN] = "give --bearer-token-file, --identity or --client-credentials",
	    [RP_H_ONE_TOKEN] = "choose one of --bearer-token-file, --identity and "
			       "--client-credentials",
	    [RP_H_PRIVATE_CIDR] = "--require-private is on; add --private-cidr to allow it",
	    [RP_H_CREATE_BLOB] = "or use --create for a new page blob",
	    [RP_H_OUTSIDE_SOURCES] = "give --allow-outside-sources to read it",
	    [RP_H_FORCE] = "use --force to replace it",
	    [RP_H_FORMAT_RAW] = "use --format raw",
	    [RP_H_TH_CRC64] = "--transport-hash crc64 needs it; try md5 or auto",
	    [RP_H_TH_MD5] = "--transport-hash md5 needs it; try auto or none",
	    [RP_H_TH_CHUNK] = "lower --chunk-size or add --transport-hash none",
	    [RP_H_CHUNK_LARGER] = "use a larger --chunk-size",
	    [RP_H_SEAL_CHUNK] = "seal it again with that --chunk-size",
	    [RP_H_LUKS_ENCRYPTED] = "--luks-* reads the stored bytes; restore it, then check the "
				    "restored file",
	    [RP_H_NO_SPACE_CHECK] = "--no-space-check tries anyway",
	    [RP_H_RESOLVE] = "or pin the name with --resolve HOST:PORT:ADDR",
	    [RP_H_CACERT] = "check --cacert and the name you connect to",
	    [RP_H_KEY_FILE] = "use --key-file to use every byte",
	    [RP_H_PARENT] = "give it with --parent PATH (nearest first)",
	    [RP_H_ACCESS_JSON] = "give the answer with --access-json {}=FILE",
	};
	const char *text, *at;

	if ((unsigned)hint >= RP_H_COUNT || !hints[hint])
		return NULL;
	text = hints[hint];
	/* The key file is an option of luks, and --luks-key-file where a check rides along. */
	if (hint == RP_H_KEY_FILE && has_opt(cmd, "luks-key-file"))
		text = "use --luks-key-file to use every byte";
	at = strstr(text, "{}");
	if (!at)
		return text;
	snprintf(buf, size, "%.*s%s%s", (int)(at - text), text, value && value[0] ? value : "NAME",
		 at + 2);
	return buf;
}

int cli_fail(const struct cli_cmd *cmd, const struct rp_err *err)
{
	char words[512];
	const char *hint = cli_hint(cmd, err->hint, err->hint_value, words, sizeof(words));

	/*
	 * One line, and nothing that acts on the terminal or leaks a secret: a file name may hold
	 * a newline, a server's or a document's text control sequences, and a URL that reached a
	 * message unredacted its SAS (common/text.h).
	 */
	fflush(stdout);
	fprintf(stderr, "cvmrestore: %s: %s%s%s\n", cmd->name, RP_TEXT(err->msg), hint ? "; " : "",
		hint ? hint : "");
	return rp_code_exit(err->code);
}

/* Store one option's value where its table entry binds it. */
static int bind(const struct cli_cmd *cmd, const struct cli_opt *o, void *ctx, const char *arg)
{
	char *field = (char *)ctx + o->off;

	switch (o->bind) {
	case CLI_FLAG:
		*(bool *)(void *)field = true;
		return 0;
	case CLI_STR:
		*(const char **)(void *)field = arg;
		return 0;
	case CLI_SET:
		break;
	}
	return o->set(cmd, o, field, arg); /* CLI_SET */
}

int cli_set_named(const struct cli_cmd *cmd, const struct cli_opt *opts, void *ctx,
		  const char *name, const char *arg)
{
	const struct cli_opt *o;

	for (o = opts; o->name; o++) {
		if (strcmp(o->name, name) != 0)
			continue;
		if (o->has_arg && !arg)
			return cli_usage(cmd, "%s needs a value", name);
		if (!o->has_arg && arg)
			return cli_usage(cmd, "%s takes no value", name);
		return bind(cmd, o, ctx, arg);
	}
	return 1;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, void *ctx, const char **pos,
	      int max_pos, int *npos)
{
	struct option lopts[CLI_MAX_OPTS + 2];
	char shorts[2 * CLI_MAX_OPTS + 4];
	size_t ns = 0;
	int n = 0, c, idx, rc;

	shorts[ns++] = '+';
	shorts[ns++] = ':';
	for (; cmd->opts[n].name && n < CLI_MAX_OPTS; n++) {
		lopts[n].name = cmd->opts[n].name;
		lopts[n].has_arg = cmd->opts[n].has_arg ? required_argument : no_argument;
		lopts[n].flag = NULL;
		lopts[n].val = 256 + n;
		if (cmd->opts[n].short_name) {
			shorts[ns++] = cmd->opts[n].short_name;
			if (cmd->opts[n].has_arg)
				shorts[ns++] = ':';
		}
	}
	if (cmd->opts[n].name) {
		/* A table longer than the array: its last options would be unknown. */
		fprintf(stderr, "cvmrestore: %s: more than %d options (CLI_MAX_OPTS)\n", cmd->name,
			CLI_MAX_OPTS);
		return CLI_EXIT_USAGE;
	}
	lopts[n] = (struct option){"help", no_argument, NULL, 'h'};
	lopts[n + 1] = (struct option){0};
	shorts[ns++] = 'h';
	shorts[ns] = '\0';
	*npos = 0;
	optind = 1;
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, shorts, lopts, NULL);
		if (c == -1) {
			if (optind >= argc)
				break;
			/* A positional argument: keep it and go on parsing options after it. */
			if (*npos >= max_pos)
				return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
			pos[(*npos)++] = argv[optind++];
			continue;
		}
		if (c == 'h') {
			cli_help(cmd, stdout);
			return CLI_HELP_SHOWN;
		}
		if (c == '?') {
			if (optopt)
				return cli_usage(cmd, "unknown option '-%c'", optopt);
			return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
		}
		if (c == ':')
			return cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
		idx = -1;
		if (c >= 256)
			idx = c - 256;
		else
			for (int i = 0; i < n; i++)
				if (cmd->opts[i].short_name == c)
					idx = i;
		if (idx < 0)
			return cli_usage(cmd, "unknown option");
		rc = bind(cmd, &cmd->opts[idx], ctx, cmd->opts[idx].has_arg ? optarg : NULL);
		if (rc)
			return rc;
	}
	return 0;
}

int cli_print_json(const struct rp_json *v)
{
	char *text = rp_json_dump(v, true);

	if (!text)
		return CLI_EXIT_IO;
	fputs(text, stdout);
	fputc('\n', stdout);
	free(text);
	return fflush(stdout) == 0 ? 0 : CLI_EXIT_IO;
}

static void print_scalar(FILE *f, const struct rp_json *v)
{
	uint64_t u;
	bool b;

	if (rp_json_is_string(v))
		fputs(rp_json_string(v)[0] ? RP_ESC(rp_json_string(v)) : "\"\"", f);
	else if (rp_json_u64(v, &u) == 0)
		fprintf(f, "%llu", (unsigned long long)u);
	else if (rp_json_bool(v, &b) == 0)
		fputs(b ? "yes" : "no", f);
	else if (rp_json_is_null(v))
		fputs("-", f);
	else {
		char *t = rp_json_dump(v, false);
		fputs(t ? t : "?", f);
		free(t);
	}
}

static bool is_container(const struct rp_json *v)
{
	return rp_json_is_object(v) || rp_json_is_array(v);
}

void cli_print_tree(FILE *f, const struct rp_json *v, int indent)
{
	struct rp_json *val = NULL;
	const char *key;
	size_t i;

	if (rp_json_is_object(v)) {
		for (i = 0; (key = rp_json_object_key_at(v, i, &val)) != NULL; i++) {
			/* The JSON envelope (cli_doc_new) is for programs, not people. */
			if (indent == 0 &&
			    (strcmp(key, "schema") == 0 || strcmp(key, "tool") == 0 ||
			     strcmp(key, "command") == 0 || strcmp(key, "exit_code") == 0))
				continue;
			fprintf(f, "%*s%s:", indent, "", RP_ESC(key));
			if (is_container(val) && rp_json_array_size(val) == 0 &&
			    rp_json_is_array(val)) {
				fputs(" none\n", f);
			} else if (is_container(val)) {
				fputc('\n', f);
				cli_print_tree(f, val, indent + 2);
			} else {
				fputc(' ', f);
				print_scalar(f, val);
				fputc('\n', f);
			}
		}
	} else if (rp_json_is_array(v)) {
		for (i = 0; i < rp_json_array_size(v); i++) {
			struct rp_json *e = rp_json_array_at(v, i);
			fprintf(f, "%*s- ", indent, "");
			if (is_container(e)) {
				fprintf(f, "[%zu]\n", i);
				cli_print_tree(f, e, indent + 4);
			} else {
				print_scalar(f, e);
				fputc('\n', f);
			}
		}
	}
}

static void on_signal(int sig)
{
	(void)sig;
	cli_stop = 1;
}

void cli_signals_install(void)
{
	/* SAS signatures, tokens and keys pass through memory: never into a core file. */
	const struct rlimit no_core = {0, 0};
	struct sigaction sa;

	(void)setrlimit(RLIMIT_CORE, &no_core);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void cli_fmt_size(uint64_t bytes, char *out, size_t outsz)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, outsz, "%llu B", (unsigned long long)bytes);
	else
		snprintf(out, outsz, "%.1f %s", v, units[u]);
}

int cli_set_threads(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		    const char *arg)
{
	(void)o;
	return cli_parse_threads(cmd, arg, field);
}

int cli_set_parent(const struct cli_cmd *cmd, const struct cli_opt *o, void *field, const char *arg)
{
	struct cli_image_args *a = field;

	(void)o;
	if (a->parent_count >= RP_IMAGE_MAX_CHAIN + 1)
		return cli_usage(cmd, "more than %d --parent options", RP_IMAGE_MAX_CHAIN + 1);
	a->parents[a->parent_count++] = arg;
	return 0;
}

int cli_parse_threads(const struct cli_cmd *cmd, const char *arg, unsigned *out)
{
	uint64_t v;

	if (rp_parse_u64(arg, &v, NULL) != 0 || v < 1 || v > 256)
		return cli_usage(cmd, "--threads must be a number from 1 to 256, not '%s'", arg);
	*out = (unsigned)v;
	return 0;
}

int cli_open_image(const struct cli_cmd *cmd, const char *path, const struct cli_image_args *a,
		   bool keep_unreadable, struct rp_image **out)
{
	struct rp_image_opts o = {
	    .parents = a->parents,
	    .parent_count = a->parent_count,
	    .ignore_checksums = a->ignore_checksums,
	    .keep_unreadable = keep_unreadable,
	};
	struct rp_err err;

	rp_err_init(&err);
	if (rp_image_open(path, &o, out, &err) != 0) {
		rp_err_prefix(&err, "'%s'", path);
		return cli_fail(cmd, &err);
	}
	return 0;
}

/* Does this argument's value come indirectly (@FILE, @-, env:NAME)? */
static bool is_indirect(const char *v)
{
	return v[0] == '@' || strncmp(v, "env:", 4) == 0;
}

/* Read the first line of f (newline and a CR before it dropped) into a new string. */
static char *read_first_line(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/* The value behind @FILE, @- or env:NAME as a new string; prints the error and returns NULL. */
static char *resolve_indirect(const char *cmdname, const char *v, bool *stdin_used)
{
	char *out = NULL;
	FILE *f;

	if (strncmp(v, "env:", 4) == 0) {
		const char *e = getenv(v + 4);
		if (!v[4] || !e || !e[0]) {
			fprintf(stderr,
				"cvmrestore: %s: '%s': the environment variable is not set or "
				"empty (see 'cvmrestore %s --help')\n",
				cmdname, RP_TEXT(v), cmdname);
			return NULL;
		}
		out = strdup(e);
	} else if (strcmp(v, "@-") == 0) {
		if (*stdin_used) {
			fprintf(stderr,
				"cvmrestore: %s: '@-' given twice: standard input holds one value "
				"(see 'cvmrestore %s --help')\n",
				cmdname, cmdname);
			return NULL;
		}
		*stdin_used = true;
		out = read_first_line(stdin);
		if (!out || !out[0]) {
			fprintf(stderr,
				"cvmrestore: %s: '@-': standard input holds no line "
				"(see 'cvmrestore %s --help')\n",
				cmdname, cmdname);
			free(out);
			return NULL;
		}
	} else {
		f = fopen(v + 1, "re");
		if (!f) {
			fprintf(stderr,
				"cvmrestore: %s: '%s': cannot read it: %s (a path that starts "
				"with '@' is written './@...')\n",
				cmdname, RP_TEXT(v), strerror(errno));
			return NULL;
		}
		out = read_first_line(f);
		fclose(f);
		if (!out || !out[0]) {
			fprintf(stderr, "cvmrestore: %s: '%s': the file's first line is empty\n",
				cmdname, RP_TEXT(v));
			free(out);
			return NULL;
		}
	}
	if (!out)
		fprintf(stderr, "cvmrestore: %s: out of memory\n", cmdname);
	return out;
}

/* The option of cmd named by "--name" or "--name=value" (len: the name's length), or NULL. */
static const struct cli_opt *find_long(const struct cli_cmd *cmd, const char *name, size_t len)
{
	const struct cli_opt *o;

	for (o = cmd->opts; o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_cmd *cmd, char c)
{
	const struct cli_opt *o;

	for (o = cmd->opts; o->name; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

/* May the value of o (NULL: a positional argument) come from @FILE, @- or env:NAME? */
static bool takes_url(const struct cli_opt *o)
{
	return !o || (o->metavar && strstr(o->metavar, "URL"));
}

/* Expand new[i] in place (a copy owned by new[]) if it is indirect; 0 or CLI_EXIT_USAGE. */
static int expand_one(const struct cli_cmd *cmd, char **slot, size_t prefix, bool *stdin_used)
{
	char *v, *joined;
	size_t n;

	if (!is_indirect(*slot + prefix))
		return 0;
	v = resolve_indirect(cmd->name, *slot + prefix, stdin_used);
	if (!v)
		return CLI_EXIT_USAGE;
	n = prefix + strlen(v) + 1;
	joined = malloc(n);
	if (!joined) {
		rp_wipe(v, strlen(v));
		free(v);
		return CLI_EXIT_USAGE;
	}
	memcpy(joined, *slot, prefix);
	memcpy(joined + prefix, v, n - prefix);
	rp_wipe(v, strlen(v));
	free(v);
	rp_wipe(*slot, strlen(*slot));
	free(*slot);
	*slot = joined;
	return 0;
}

int cli_args_prepare(const struct cli_cmd *cmd, int argc, char **argv, char ***out)
{
	char **a = calloc((size_t)argc + 1, sizeof(*a));
	const struct cli_opt *o;
	bool stdin_used = false, options_done = false;
	int i, rc = 0;
	size_t k;

	*out = NULL;
	if (!a)
		return CLI_EXIT_IO;
	for (i = 0; i < argc; i++) {
		a[i] = strdup(argv[i]);
		if (!a[i]) {
			cli_args_free(a);
			return CLI_EXIT_IO;
		}
	}
	/* The same walk as getopt's (no permutation: '+'), to know which word is what. */
	for (i = 1; i < argc && rc == 0; i++) {
		const char *w = a[i];
		if (options_done || w[0] != '-' || strcmp(w, "-") == 0) {
			rc = expand_one(cmd, &a[i], 0, &stdin_used);
		} else if (strcmp(w, "--") == 0) {
			options_done = true;
		} else if (w[1] == '-') {
			const char *eq = strchr(w + 2, '=');
			o = find_long(cmd, w + 2, eq ? (size_t)(eq - w - 2) : strlen(w + 2));
			if (!o || !o->has_arg)
				continue;
			if (eq) {
				if (takes_url(o))
					rc = expand_one(cmd, &a[i], (size_t)(eq + 1 - w),
							&stdin_used);
			} else if (i + 1 < argc) {
				i++;
				if (takes_url(o))
					rc = expand_one(cmd, &a[i], 0, &stdin_used);
			}
		} else {
			for (k = 1; w[k]; k++) {
				o = find_short(cmd, w[k]);
				if (!o || !o->has_arg)
					continue;
				if (w[k + 1]) {
					if (takes_url(o))
						rc = expand_one(cmd, &a[i], k + 1, &stdin_used);
				} else if (i + 1 < argc) {
					i++;
					if (takes_url(o))
						rc = expand_one(cmd, &a[i], 0, &stdin_used);
				}
				break;
			}
		}
	}
	if (rc) {
		cli_args_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void cli_args_free(char **a)
{
	size_t i;

	for (i = 0; a && a[i]; i++) {
		rp_wipe(a[i], strlen(a[i]));
		free(a[i]);
	}
	free(a);
}

void cli_args_scrub(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		rp_text_wipe_secrets(argv[i]);
}
