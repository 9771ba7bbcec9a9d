// redact-c: card-number redaction as a Kefu plugin (ABI v1, docs/plugins.md) in C with wasi-libc.
//
// before_message: every run of 13–19 digits (single spaces or dashes between groups) that passes the Luhn check is
// emitted as a `redact` action, replaced by config "with" (default "[card]"). ASCII digits only; the AssemblyScript
// sample (../order-triage) also knows full-width digits, order questions and routing.
//
// wasi-libc gives malloc/free and stdio. stderr is the plugin's log in Kefu (the manifest says "wasi": true; Kefu's
// WASI has no files, no environment and no arguments).

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

IMPORT("kefu", "emit") void kefu_emit(const char *ptr, int32_t len);
IMPORT("kefu", "config_get") int32_t kefu_config_get(const char *key, int32_t key_len, int32_t out[2]);

EXPORT("kefu_abi_v1") void kefu_abi_v1(void) {}

// Kefu writes the input (and config values) into memory it gets here; process frees them.
EXPORT("alloc") void *alloc(int32_t len) { return malloc(len > 0 ? (size_t)len : 1); }

// ---- a minimal JSON reader: enough to find members and decode strings -----------------------------------------

static const char *ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

static const char *skip_string(const char *p, const char *end) {
  for (p++; p < end; p++) {
    if (*p == '\\') p++;
    else if (*p == '"') return p + 1;
  }
  return NULL;
}

static const char *skip_value(const char *p, const char *end) {
  p = ws(p, end);
  if (p >= end) return NULL;
  if (*p == '"') return skip_string(p, end);
  if (*p == '{' || *p == '[') {
    int depth = 0;
    while (p < end) {
      if (*p == '"') {
        if (!(p = skip_string(p, end))) return NULL;
        continue;
      }
      if (*p == '{' || *p == '[') depth++;
      else if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
      p++;
    }
    return NULL;
  }
  while (p < end && !strchr(",}] \t\r\n", *p)) p++;
  return p;
}

// Where the value of `key` starts in the object at p, or NULL.
static const char *member(const char *p, const char *end, const char *key) {
  size_t key_len = strlen(key);
  p = ws(p, end);
  if (p >= end || *p != '{') return NULL;
  for (p++;;) {
    p = ws(p, end);
    if (p >= end || *p == '}') return NULL;
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p != '"') return NULL;
    const char *key_end = skip_string(p, end);
    if (!key_end) return NULL;
    int match = (size_t)(key_end - p - 2) == key_len && memcmp(p + 1, key, key_len) == 0;
    p = ws(key_end, end);
    if (p >= end || *p != ':') return NULL;
    p = ws(p + 1, end);
    if (match) return p;
    if (!(p = skip_value(p, end))) return NULL;
  }
}

static int hex4(const char *p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
    if (d < 0) return -1;
    v = v << 4 | d;
  }
  return v;
}

static char *put_utf8(char *o, uint32_t cp) {
  if (cp < 0x80) *o++ = (char)cp;
  else if (cp < 0x800) *o++ = (char)(0xc0 | cp >> 6), *o++ = (char)(0x80 | (cp & 0x3f));
  else if (cp < 0x10000) *o++ = (char)(0xe0 | cp >> 12), *o++ = (char)(0x80 | ((cp >> 6) & 0x3f)), *o++ = (char)(0x80 | (cp & 0x3f));
  else *o++ = (char)(0xf0 | cp >> 18), *o++ = (char)(0x80 | ((cp >> 12) & 0x3f)), *o++ = (char)(0x80 | ((cp >> 6) & 0x3f)), *o++ = (char)(0x80 | (cp & 0x3f));
  return o;
}

// The JSON string at p decoded to UTF-8 (malloc'd, *len bytes), or NULL.
static char *decode_string(const char *p, const char *end, size_t *len) {
  const char *close;
  if (p >= end || *p != '"' || !(close = skip_string(p, end))) return NULL;
  char *out = malloc((size_t)(close - p)), *o = out; // decoding never makes a string longer
  const char *stop = close - 1;
  for (p++; p < stop;) {
    if (*p != '\\') {
      *o++ = *p++;
      continue;
    }
    char e = p[1];
    p += 2;
    switch (e) {
      case 'n': *o++ = '\n'; break;
      case 't': *o++ = '\t'; break;
      case 'r': *o++ = '\r'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'u': {
        int cp = p + 4 <= stop ? hex4(p) : -1;
        p += 4;
        if (cp >= 0xd800 && cp <= 0xdbff && p + 6 <= stop && p[0] == '\\' && p[1] == 'u') {
          int low = hex4(p + 2);
          if (low >= 0xdc00 && low <= 0xdfff) cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00), p += 6;
        }
        if (cp < 0 || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
        o = put_utf8(o, (uint32_t)cp);
        break;
      }
      default: *o++ = e; // \" \\ \/
    }
  }
  *len = (size_t)(o - out);
  return out;
}

// Appends s (n bytes of UTF-8) as the inside of a JSON string; o has room for 6 bytes per input byte.
static char *put_escaped(char *o, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') *o++ = '\\', *o++ = (char)c;
    else if (c < 0x20) o += sprintf(o, "\\u%04x", c);
    else *o++ = (char)c;
  }
  return o;
}

// ---- card numbers -----------------------------------------------------------------------------------------------

typedef struct {
  const char *start, *end;
  int digits;
} group;

static int luhn(const group *groups, int first, int last) {
  int sum = 0, twice = 0;
  for (int g = last; g >= first; g--)
    for (const char *q = groups[g].end - 1; q >= groups[g].start; q--) {
      int d = *q - '0';
      if (twice && (d *= 2) > 9) d -= 9;
      sum += d;
      twice = !twice;
    }
  return sum % 10 == 0;
}

static void emit_redact(const char *find, size_t len, const char *with, size_t with_len) {
  char *json = malloc(64 + (len + with_len) * 6), *o = json;
  o += sprintf(o, "{\"action\":\"redact\",\"find\":\"");
  o = put_escaped(o, find, len);
  o += sprintf(o, "\",\"with\":\"");
  o = put_escaped(o, with, with_len);
  o += sprintf(o, "\"}");
  kefu_emit(json, (int32_t)(o - json));
  free(json);
}

#define MAX_GROUPS 64
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

static int redact_cards(const char *text, const char *end, const char *with, size_t with_len) {
  group groups[MAX_GROUPS];
  int redacted = 0;
  for (const char *q = text; q < end;) {
    if (!IS_DIGIT(*q)) {
      q++;
      continue;
    }
    int n = 0;
    for (;;) { // one run: digit groups joined by a single space or dash
      const char *start = q;
      while (q < end && IS_DIGIT(*q)) q++;
      if (n < MAX_GROUPS) groups[n++] = (group){start, q, (int)(q - start)};
      if (q + 1 < end && (*q == ' ' || *q == '-') && IS_DIGIT(q[1])) q++;
      else break;
    }
    for (int i = 0; i < n;) { // the longest stretch of whole groups with 13–19 digits passing Luhn
      int matched = -1, total = 0;
      for (int j = i; j < n && (total += groups[j].digits) <= 19; j++)
        if (total >= 13 && luhn(groups, i, j)) matched = j;
      if (matched < 0) {
        i++;
        continue;
      }
      emit_redact(groups[i].start, (size_t)(groups[matched].end - groups[i].start), with, with_len);
      redacted++;
      i = matched + 1;
    }
  }
  return redacted;
}

// ---- ABI v1 entry point -----------------------------------------------------------------------------------------

EXPORT("process") int32_t process(char *input, int32_t len) {
  const char *end = input + len;
  const char *hook = member(input, end, "hook");
  int status = 0;
  if (hook && strncmp(hook, "\"before_message\"", 16) == 0) {
    const char *message = member(input, end, "message");
    const char *text_at = message ? member(message, end, "text") : NULL;
    size_t text_len = 0;
    char *text = text_at ? decode_string(text_at, end, &text_len) : NULL;
    if (text) {
      int32_t value[2];
      int configured = kefu_config_get("with", 4, value) == 0;
      const char *with = configured ? (const char *)(uintptr_t)value[0] : "[card]";
      size_t with_len = configured ? (size_t)value[1] : 6;
      int redacted = redact_cards(text, text + text_len, with, with_len);
      if (redacted > 0) fprintf(stderr, "redacted %d card number(s)\n", redacted); // the count only, never the text
      if (configured) free((void *)with);
      free(text);
    }
  } else {
    status = 1; // this plugin only runs before messages
  }
  free(input);
  return status;
}
