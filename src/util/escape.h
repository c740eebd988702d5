/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * docs/DESIGN.md's text escaping. Every byte below 0x20, 0x7f, the backslash,
 * every byte that is not part of valid UTF-8, and every byte of a code point
 * that splits lines or fools a terminal becomes "\xHH" (lowercase hex);
 * everything else is copied. So "\x" always starts an escape and an escaped
 * value never holds a newline. Valid UTF-8 is Unicode's well-formed UTF-8:
 * overlong forms, surrogates (U+D800..U+DFFF), code points above U+10FFFF and
 * cut-short sequences are invalid, and each of their bytes is escaped on its
 * own (E0 80 80 is "\xe0\x80\x80"), so unescaping gives the bytes back.
 *
 * The code points escaped although valid (docs/FORMAT.md, "Text escaping"):
 *   U+0080-U+009F  C1 controls: NEL (U+0085) ends a line for some readers,
 *                  CSI (U+009B) starts a terminal control sequence
 *   U+2028 U+2029  line and paragraph separators
 *   U+202A-U+202E  bidirectional embeddings and overrides (RLO makes
 *                  "evil\u202Egpj.exe" display as "evilexe.jpg")
 *   U+2066-U+2069  bidirectional isolates
 *   U+200E U+200F U+061C  the direction marks (LRM, RLM, ALM): invisible,
 *                  they reorder the text around them
 * U+202E is written "\xe2\x80\xae". Other invisible characters (ZWJ, ZWNJ,
 * ZWSP, BOM) are kept: they reorder nothing, split no line, and scripts and
 * emoji need them.
 *
 * cmdline: each argument escaped as above; an argument that is empty or holds
 * a space or a double quote is wrapped in double quotes, each double quote
 * inside it written \x22; arguments joined by single spaces.
 *   - The '"' byte of an argument is always written \x22, so the only literal
 *     '"' in a cmdline are the pairs around quoted arguments, and the only
 *     literal spaces are separators or inside such a pair. (An argument with
 *     a '"' is quoted as well, as docs/DESIGN.md says, though it need not be.)
 *   - An empty argv (len 0) encodes to the empty string, one empty argument
 *     ("\0") to a pair of double quotes; they decode to 0 and 1 arguments.
 *   - A final argument cut short (no NUL) is encoded like any other; it
 *     decodes with a NUL, as all arguments do. docs/DESIGN.md has the recorder
 *     mark the cut in the record's detail (truncated=1).
 *   printf 'a b\n'  ->  printf "a b\x0a"
 */
#ifndef ONMITSU_ESCAPE_H
#define ONMITSU_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

/* Append the escaped form of p[0..n) to out. */
void escape_text(struct strbuf *out, const void *p, size_t n);

/* For showing text that is already escaped (a value from the log) on a
 * terminal: append p[0..n) with every byte escape_text escapes written "\xHH",
 * except the backslash (it starts the text's own escapes) and LF (it ends
 * the output's lines). A value from a well-formed log is copied unchanged;
 * a raw control byte, invalid UTF-8 or an unsafe code point (an old or a
 * forged log) is shown as the escape it would have had. */
void escape_display(struct strbuf *out, const void *p, size_t n);

/* The same for JSON text (a JSON Lines record): each escape is written
 * "\\xHH", a JSON-escaped backslash, so the line stays valid JSON and the
 * string holding the byte decodes to the log's escaped text. (Outside its
 * strings a JSON line is ASCII.) */
void escape_display_json(struct strbuf *out, const void *p, size_t n);

/*
 * Append raw bytes p[0..n) as the body of a JSON string (no quotes) that
 * holds the value itself, for JSON Lines' ECS fields: '"' and '\\' are
 * backslash-escaped; controls, DEL and every code point escape_text escapes
 * although valid (C1, U+2028/9, bidi controls, direction marks) are written
 * \uXXXX, so the line stays one line and shows nothing a terminal acts on;
 * each byte that is not part of valid UTF-8 becomes U+FFFD (\ufffd), since a
 * JSON string cannot hold it (JSON Lines keeps the exact bytes elsewhere).
 */
void escape_json_value(struct strbuf *out, const void *p, size_t n);

/*
 * exe and path: a path the kernel's walk cut at its limit (OM_PATH_MAX bytes
 * or OM_PATH_DEPTH directory levels, include/onmitsu/event.h) lost its top
 * directories, since the walk goes from the file up. Its field starts with
 * PATH_CUT_MARK, then the escaped part that was kept, from a '/':
 * "\\.../d/e/true". Every backslash of data is written \x5c, so a backslash
 * not followed by 'x' never comes from a real path: the mark cannot be forged
 * by a file name, and unescape_text refuses it (a cut path is never taken for
 * a whole one).
 */
#define PATH_CUT_MARK "\\..."
#define PATH_CUT_MARK_LEN (sizeof(PATH_CUT_MARK) - 1)

/* escape_text of p[0..n), after PATH_CUT_MARK when cut. */
void escape_path(struct strbuf *out, const void *p, size_t n, bool cut);

/* Undo escape_path: append the raw bytes that were kept, and tell in *cut
 * whether the path was cut. Returns 0, or -1 when s is malformed (the mark
 * anywhere but at the start is one); then out is left as it was. */
int unescape_path(struct strbuf *out, const char *s, size_t n, bool *cut);

/* Undo escape_text: append the raw bytes to out. Returns 0, or -1 when s
 * holds a malformed escape (a "\" not followed by "x" and two hex digits);
 * then out is left as it was. Uppercase hex is accepted, never written.
 * Other bytes are copied as they are, even those escape_text would escape. */
int unescape_text(struct strbuf *out, const char *s, size_t n);

/* args: arguments, each terminated by NUL (as in /proc/PID/cmdline and the
 * kernel's argument area). A final argument without its NUL is taken as it
 * is (argv cut short). Appends the cmdline form to out. */
void cmdline_encode(struct strbuf *out, const char *args, size_t len);

/* Undo cmdline_encode: append the arguments, each NUL-terminated, to out.
 * Returns the number of arguments, or -1 when s is malformed (then out is left
 * as it was): an unterminated quote, a '"' inside an unquoted argument, text
 * right after a closing quote, a leading, trailing or doubled space, a bad
 * escape, or a NUL (raw or \x00), which no argument can hold. A quoted
 * argument that needed no quotes ("ab") is accepted. */
int cmdline_decode(struct strbuf *out, const char *s, size_t n);

#endif
