#include "cli/cli_progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/util.h"

int cli_set_progress(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		     const char *arg)
{
	static const char *const names[] = {"auto", "bar", "lines", "json", "none"};
	size_t i;

	(void)o;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(arg, names[i]) == 0) {
			*(enum cli_progress_mode *)field = (enum cli_progress_mode)i;
			return 0;
		}
	return cli_usage(cmd, "--progress must be auto, bar, lines, json or none, not '%s'", arg);
}

int cli_set_progress_interval(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			      const char *arg)
{
	uint64_t v;

	(void)o;
	if (rp_parse_u64(arg, &v, NULL) != 0 || v < 1 || v > CLI_PROGRESS_INTERVAL_MAX)
		return cli_usage(cmd,
				 "--progress-interval must be a number of seconds from 1 to %d, "
				 "not '%s'",
				 CLI_PROGRESS_INTERVAL_MAX, arg);
	*(unsigned *)field = (unsigned)v;
	return 0;
}

void cli_progress_init(struct cli_progress *p, const char *label,
		       const struct cli_progress_opts *po, bool quiet, bool json)
{
	bool tty = isatty(STDERR_FILENO);

	memset(p, 0, sizeof(*p));
	p->mode = quiet ? CLI_PROGRESS_NONE : po ? po->mode : CLI_PROGRESS_AUTO;
	if (p->mode == CLI_PROGRESS_AUTO && json)
		p->mode = CLI_PROGRESS_NONE;
	/* A bar redraws one line with carriage returns: on anything but a terminal (a pipe, a
	 * file, journald) that is noise, so there it is a status line instead. */
	if (p->mode == CLI_PROGRESS_AUTO || (p->mode == CLI_PROGRESS_BAR && !tty))
		p->mode = tty ? CLI_PROGRESS_BAR : CLI_PROGRESS_LINES;
	p->interval_s = po && po->interval_s ? po->interval_s : CLI_PROGRESS_INTERVAL_DEFAULT;
	p->label = label;
	p->start = rp_now_s();
	p->last_emit = p->start;
}

/* The terminal's width: TIOCGWINSZ on stderr, else $COLUMNS, else 80. */
static int term_width(void)
{
	struct winsize ws;
	const char *c = getenv("COLUMNS");
	uint64_t v;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (c && rp_parse_u64(c, &v, NULL) == 0 && v >= 20 && v <= 1000)
		return (int)v;
	return 80;
}

/* Bytes per second since the first callback (a resumed run's earlier bytes do not count). */
static double rate_of(const struct cli_progress *p, double now)
{
	double secs = now - p->start;

	return secs > 0 && p->last_done > p->base ? (double)(p->last_done - p->base) / secs : 0;
}

/* "12.0 MiB / 24.0 MiB (50%), 2.0 MiB/s, 0:06 left[, detail]" into out. */
static void status_text(const struct cli_progress *p, double now, bool eta, char *out, size_t outsz)
{
	char d[32], t[32], r[32], sk[32];
	double rate = rate_of(p, now);
	size_t n;

	cli_fmt_size(p->last_done, d, sizeof(d));
	cli_fmt_size(p->total, t, sizeof(t));
	cli_fmt_size((uint64_t)rate, r, sizeof(r));
	n = (size_t)snprintf(out, outsz, "%s / %s (%.0f%%), %s/s", d, t,
			     p->total ? (double)p->last_done * 100.0 / (double)p->total : 0.0, r);
	if (n < outsz && eta && rate > 0 && p->last_done < p->total) {
		unsigned long left = (unsigned long)((double)(p->total - p->last_done) / rate);
		n += (size_t)snprintf(out + n, outsz - n, ", %lu:%02lu left", left / 60, left % 60);
	}
	if (n < outsz && p->detail) {
		cli_fmt_size(p->skipped, sk, sizeof(sk));
		snprintf(out + n, outsz - n, ", %s %s, %llu retries", sk,
			 p->skipped_as ? p->skipped_as : "never written",
			 (unsigned long long)p->retries);
	}
}

static void draw_bar(struct cli_progress *p, double now)
{
	char text[256], bar[64];
	int width = term_width(), room, fill, i;
	int label_len = (int)strlen(p->label);
	bool detail = p->detail;

	/* "label [####    ] text": one column short of the width, so it never wraps; the
	 * skipped bytes and retries go first when the terminal is narrow. */
	status_text(p, now, true, text, sizeof(text));
	room = width - 1 - label_len - 4 - (int)strlen(text);
	if (room < 10 && detail) {
		p->detail = false;
		status_text(p, now, true, text, sizeof(text));
		p->detail = detail;
		room = width - 1 - label_len - 4 - (int)strlen(text);
	}
	if (room > 40)
		room = 40;
	if (room >= 5) {
		fill = p->total ? (int)((double)room * (double)p->last_done / (double)p->total) : 0;
		for (i = 0; i < room; i++)
			bar[i] = i < fill ? '#' : ' ';
		bar[room] = '\0';
		fprintf(stderr, "\r%s [%s] %s\033[K", RP_TEXT(p->label), bar, text);
	} else {
		/* Too narrow for a bar: the text, cut to the width. */
		fprintf(stderr, "\r%.*s\033[K", width > 1 ? width - 1 : 1, text);
	}
	fflush(stderr);
}

/* s as a JSON string (a disk's name may hold anything). */
static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_event(struct cli_progress *p, double now, const char *event)
{
	double rate = rate_of(p, now);

	fprintf(stderr, "{\"event\":\"%s\",\"label\":", event);
	json_string(stderr, p->label);
	fprintf(stderr, ",\"done\":%llu,\"total\":%llu,\"rate\":%llu,\"elapsed_s\":%.1f",
		(unsigned long long)p->last_done, (unsigned long long)p->total,
		(unsigned long long)rate, now - p->start);
	if (rate > 0 && p->last_done < p->total)
		fprintf(stderr, ",\"eta_s\":%llu",
			(unsigned long long)((double)(p->total - p->last_done) / rate));
	else
		fprintf(stderr, ",\"eta_s\":%s", p->last_done >= p->total ? "0" : "null");
	if (p->detail)
		fprintf(stderr, ",\"skipped\":%llu,\"retries\":%llu",
			(unsigned long long)p->skipped, (unsigned long long)p->retries);
	fputs("}\n", stderr);
	fflush(stderr);
}

void cli_progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	double now;

	if (!p || p->mode == CLI_PROGRESS_NONE)
		return;
	if (!p->started) {
		/* Bytes done at the very start (a resumed restore's) do not count for the rate;
		 * a first call that comes later just reports what this run did. */
		p->started = true;
		p->base = rp_now_s() - p->start < 1.0 ? done : 0;
	}
	p->last_done = done;
	p->total = total;
	now = rp_now_s();
	switch (p->mode) {
	case CLI_PROGRESS_BAR:
		if (total && (now - p->last_emit >= 0.1 || done >= total || !p->emitted)) {
			draw_bar(p, now);
			p->last_emit = now;
			p->emitted = true;
		}
		break;
	case CLI_PROGRESS_LINES:
		if (now - p->last_emit >= (double)p->interval_s) {
			char text[256];

			status_text(p, now, true, text, sizeof(text));
			fprintf(stderr, "cvmrestore: %s: %s\n", RP_TEXT(p->label), text);
			fflush(stderr);
			p->last_emit = now;
			p->emitted = true;
		}
		break;
	case CLI_PROGRESS_JSON:
		if (now - p->last_emit >= (double)p->interval_s) {
			json_event(p, now, "progress");
			p->last_emit = now;
			p->emitted = true;
		}
		break;
	default:
		break;
	}
}

void cli_progress_detail(void *ctx, uint64_t skipped, uint64_t retries)
{
	struct cli_progress *p = ctx;

	p->detail = true;
	p->skipped = skipped;
	p->retries = retries;
}

void cli_progress_end(struct cli_progress *p)
{
	double now = rp_now_s();

	switch (p->mode) {
	case CLI_PROGRESS_BAR:
		if (p->emitted)
			fputc('\n', stderr);
		break;
	case CLI_PROGRESS_LINES:
		/* A run short enough to print no line prints no last one either. */
		if (p->emitted) {
			char text[256];

			status_text(p, now, false, text, sizeof(text));
			fprintf(stderr, "cvmrestore: %s: %s in %.0f s\n", RP_TEXT(p->label), text,
				now - p->start);
		}
		break;
	case CLI_PROGRESS_JSON:
		json_event(p, now, "end");
		break;
	default:
		break;
	}
	fflush(stderr);
}
