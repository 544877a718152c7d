/*
 * Display forms of text that came from a user, a file or a server: what may be printed or
 * written into a message, a report or a journal.
 *
 * Two threats: a URL given by the user may carry a secret (a SAS signature in its query, a
 * password in its user info), and text from a document or a server may carry terminal control
 * sequences (ESC [2J, OSC 0;title BEL, the 8-bit CSI U+009B) that act on the operator's
 * terminal when printed. One rule for each, used by every layer:
 *
 *  - Redaction: text that holds a '?' loses everything from the first '?' on (or '#', the
 *    fragment), whether or not its scheme parses ("htps://", "https:/", a leading space, a
 *    local path); user info ("user:pw@") after a scheme is dropped.
 *  - Escaping: C0 controls (U+0000-U+001F), DEL, C1 controls (U+0080-U+009F), the Unicode
 *    bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) and every byte that
 *    is not part of well-formed UTF-8 are shown as \xNN, one per byte; printable UTF-8 stays.
 *
 * All functions are pure and thread-safe; out is always NUL-terminated when outsz > 0, and a
 * result that does not fit is cut at a character (or escape) boundary, never inside one.
 */
#ifndef RP_COMMON_TEXT_H
#define RP_COMMON_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* The URL (or path) without its query, fragment and user info, for messages and reports. */
void rp_url_redact(const char *url, char *out, size_t outsz);

/*
 * Redact a free-text message in place: within each word (a run between white space and
 * quotes) that holds a '?' followed by something, the '?' and the rest of the word go; user
 * info is dropped from each word that holds "://". Used on every message before it is printed,
 * so that a URL that reached a message without rp_url_redact() still loses its query.
 */
void rp_text_redact(char *msg);

/*
 * Overwrite, in place and keeping the length, what rp_url_redact() would drop as secret: the
 * query (every byte after the first '?') and user info, with '*'. For the process's own
 * argument strings, so that /proc/PID/cmdline and ps no longer show a SAS once it is copied.
 */
void rp_text_wipe_secrets(char *s);

/* The escaped display form of in (see above). */
void rp_text_escape(const char *in, char *out, size_t outsz);

/*
 * JSON text (from a JSON writer that escapes C0 controls, '"' and '\\' itself) with every DEL,
 * C1 control and bidirectional override written as a \uXXXX escape, so that a JSON document
 * printed on a terminal cannot act on it either. Such characters can only occur inside JSON
 * strings, where the escape means the same character. Takes ownership of the malloc'd json and
 * returns a malloc'd text (json itself if nothing changed), or NULL if out of memory (json is
 * then freed). NULL in, NULL out.
 */
char *rp_text_json_harden(char *json);

/* Is in safe to print as it is (nothing rp_text_escape() would change)? */
bool rp_text_is_clean(const char *in);

/* rp_url_redact() then rp_text_escape(): the form of a user-given path or URL. Returns out. */
const char *rp_show_path(const char *path, char *out, size_t outsz);

/* rp_text_redact() then rp_text_escape(): the form of a message or a document's text. */
const char *rp_show_text(const char *text, char *out, size_t outsz);

/* rp_url_redact() into out, or NULL for NULL. Returns out. */
const char *rp_show_url(const char *url, char *out, size_t outsz);

/* rp_text_redact() alone, on a copy (NULL stays NULL): a message for a JSON document, whose
 * writer escapes it. Returns out, or NULL for NULL. */
const char *rp_show_redacted(const char *text, char *out, size_t outsz);

/* rp_text_escape() alone (NULL shows as "(null)"). Returns out. */
const char *rp_show_escaped(const char *text, char *out, size_t outsz);

#define RP_SHOW_MAX 2048

/*
 * For a printf argument: the shown form of a path or of a text in a buffer that lives until
 * the end of the enclosing block, e.g. fprintf(stderr, "cannot open '%s'\n", RP_PATH(p)).
 */
#define RP_PATH(p) rp_show_path((p), (char[RP_SHOW_MAX]){0}, RP_SHOW_MAX)
#define RP_TEXT(t) rp_show_text((t), (char[RP_SHOW_MAX]){0}, RP_SHOW_MAX)
/* rp_url_redact() alone, for a path or URL that goes into a JSON document (NULL stays NULL). */
#define RP_URL(p) rp_show_url((p), (char[RP_SHOW_MAX]){0}, RP_SHOW_MAX)
/* Redaction only, for a message that goes into a JSON document (NULL stays NULL). */
#define RP_MSG(t) rp_show_redacted((t), (char[RP_SHOW_MAX]){0}, RP_SHOW_MAX)
/* Escaping only, for a document's own text (a name, a creator field) where a '?' is just text. */
#define RP_ESC(t) rp_show_escaped((t), (char[RP_SHOW_MAX]){0}, RP_SHOW_MAX)

#endif
