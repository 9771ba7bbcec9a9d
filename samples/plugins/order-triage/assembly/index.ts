// order-triage: Kefu's sample plugin (ABI v1, docs/plugins.md).
//
//   before_message  redacts card numbers (13–19 digits, single spaces or dashes between groups, Luhn-valid only)
//   after_message   tags order questions (Chinese and English) and sets the contact's last_intent
//   route           sets `intent` and, when the text names one, `order_id` for later routing steps
//
// It works on the UTF-8 bytes Kefu hands over and allocates nothing managed: every buffer comes from one bump arena
// that `process` empties when it returns, so a long-lived instance never grows past its largest call.

// ---------------------------------------------------------------------------------------------------------------
// Host functions (the only imports a plugin may have besides env.abort).

@external("kefu", "emit")
declare function kefu_emit(ptr: usize, len: usize): void;

@external("kefu", "config_get")
declare function kefu_config_get(keyPtr: usize, keyLen: usize, out: usize): i32;

// ---------------------------------------------------------------------------------------------------------------
// ABI v1 exports.

/** Marks the module as ABI v1. */
export function kefu_abi_v1(): void {}

// The arena starts after the static data; 0 = not started (a global initializer cannot read __heap_base).
let arenaTop: usize = 0;

/** Kefu writes each call's input here, and config values during a call. */
export function alloc(len: i32): usize {
  if (len < 0) unreachable();
  if (arenaTop == 0) arenaTop = (__heap_base + 15) & ~15;
  const ptr = arenaTop;
  const end = (ptr + <usize>len + 7) & ~7;
  const have = <usize>memory.size() << 16;
  if (end > have) {
    // Out of memory within the manifest's cap traps: a failed call, and the next call gets a fresh instance.
    if (memory.grow(<i32>((end - have + 0xffff) >>> 16)) < 0) unreachable();
  }
  arenaTop = end;
  return ptr;
}

/** One call: `input` is the UTF-8 JSON of docs/plugins.md "Input". Returns 0 (success) or a failure status. */
export function process(input: usize, len: i32): i32 {
  const end = input + <usize>len;
  let status = 1;
  const hook = member(input, end, "hook");
  if (hook != 0) {
    if (isString(hook, end, "before_message")) status = beforeMessage(input, end);
    else if (isString(hook, end, "after_message")) status = afterMessage(input, end);
    else if (isString(hook, end, "route")) status = route(input, end);
  }
  arenaTop = 0; // everything of this call (input included) is garbage now
  return status;
}

// ---------------------------------------------------------------------------------------------------------------
// Hooks.

function beforeMessage(input: usize, end: usize): i32 {
  if (!messageText(input, end)) return 0; // nothing to redact
  const text = textPtr;
  const textEnd = textPtr + <usize>textLen;
  if (configValue("with")) {
    withPtr = valuePtr;
    withLen = valueLen;
  } else {
    withPtr = 0;
    withLen = 0;
  }
  redactCards(text, textEnd);
  return 0;
}

function afterMessage(input: usize, end: usize): i32 {
  if (!messageText(input, end)) return 0;
  if (!isOrderQuestion(textPtr, textPtr + <usize>textLen)) return 0;
  const configured = configValue("tag");
  begin(64 + valueLen * 6);
  put('{"action":"tag","tag":"');
  if (configured) putEscaped(valuePtr, valueLen);
  else put("order");
  put('"}');
  finish();
  begin(64);
  put('{"action":"set_attribute","key":"last_intent","value":"order_status"}');
  finish();
  return 0;
}

function route(input: usize, end: usize): i32 {
  // A message event carries the text at event.data.message.text; other events may carry data.order_id.
  const event = member(input, end, "event");
  const data: usize = event == 0 ? 0 : member(event, end, "data");
  let found = false;
  if (data != 0) {
    const message = member(data, end, "message");
    const text: usize = message == 0 ? 0 : member(message, end, "text");
    if (text != 0 && decodeString(text, end)) found = true;
  }
  const order = found && isOrderQuestion(textPtr, textPtr + <usize>textLen);
  begin(64);
  put('{"action":"set","name":"intent","value":"');
  put(order ? "order_status" : "other");
  put('"}');
  finish();

  if (found && findOrderId(textPtr, textPtr + <usize>textLen)) {
    emitOrderId(digitsPtr, digitsLen);
  } else if (data != 0) {
    const id = member(data, end, "order_id");
    if (id != 0) {
      const c = <u32>load<u8>(id);
      if (c == 0x22) {
        if (decodeString(id, end) && textLen > 0) emitOrderId(textPtr, textLen);
      } else if (c >= 0x30 && c <= 0x39) {
        const stop = skipValue(id, end);
        if (stop != 0) emitOrderId(id, <i32>(stop - id));
      }
    }
  }
  return 0;
}

function emitOrderId(ptr: usize, len: i32): void {
  begin(48 + len * 6);
  put('{"action":"set","name":"order_id","value":"');
  putEscaped(ptr, len);
  put('"}');
  finish();
}

// message.text of a message hook, decoded into textPtr/textLen.
function messageText(input: usize, end: usize): bool {
  const message = member(input, end, "message");
  if (message == 0) return false;
  const text = member(message, end, "text");
  return text != 0 && decodeString(text, end) && textLen > 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Card numbers.

const MAX_GROUPS = 64;

/**
 * Finds runs of digit groups separated by one space or dash, and within each run the longest stretches of whole groups
 * that hold 13–19 digits and pass the Luhn check; emits one `redact` per stretch with the text exactly as written.
 * Order numbers, phone numbers and other digit strings that fail Luhn stay as they are.
 */
function redactCards(text: usize, end: usize): void {
  const groups = alloc(MAX_GROUPS * 12); // (start, end, digits) per group
  let q = text;
  while (q < end) {
    // Skip what cannot start a digit (neither '0'–'9' nor the lead byte of a full-width digit): 16 bytes at a time, then
    // byte by byte.
    if (q + 16 <= end) {
      const v = v128.load(q);
      const digits = i8x16.lt_u(i8x16.sub(v, i8x16.splat(0x30)), i8x16.splat(10));
      const hits = i8x16.bitmask(v128.or(digits, i8x16.eq(v, i8x16.splat(<i8>0xef))));
      if (hits == 0) {
        q += 16;
        continue;
      }
      q += <usize>ctz(hits);
    }
    const c = <u32>load<u8>(q);
    if ((c - 0x30 > 9 && c != 0xef) || digitAt(q, end) < 0) {
      q++;
      continue;
    }
    // One run: groups of digits, each followed by a single separator and another digit to continue.
    let n = 0;
    while (true) {
      const start = q;
      let digits = 0;
      while (q < end && digitAt(q, end) >= 0) {
        q += digitWidth;
        digits++;
      }
      if (n < MAX_GROUPS) {
        store<u32>(groups + n * 12, <u32>start);
        store<u32>(groups + n * 12 + 4, <u32>q);
        store<u32>(groups + n * 12 + 8, <u32>digits);
        n++;
      }
      if (q + 1 < end && isSeparator(load<u8>(q)) && digitAt(q + 1, end) >= 0) q++;
      else break;
    }
    let i = 0;
    while (i < n) {
      let matched = -1;
      let total = 0;
      for (let j = i; j < n; j++) {
        total += <i32>load<u32>(groups + j * 12 + 8);
        if (total > 19) break;
        if (total >= 13 && luhn(groups, i, j, end)) matched = j; // keep looking: prefer the longest
      }
      if (matched < 0) {
        i++;
        continue;
      }
      const from = <usize>load<u32>(groups + i * 12);
      const to = <usize>load<u32>(groups + matched * 12 + 4);
      emitRedact(from, <i32>(to - from));
      i = matched + 1;
    }
  }
}

function luhn(groups: usize, first: i32, last: i32, end: usize): bool {
  // Digits from right to left: every second one doubled.
  let sum = 0;
  let double = false;
  for (let g = last; g >= first; g--) {
    const start = <usize>load<u32>(groups + g * 12);
    let q = <usize>load<u32>(groups + g * 12 + 4);
    while (q > start) {
      q -= load<u8>(q - 1) >= 0x80 ? 3 : 1; // a group holds only ASCII (1 byte) and full-width (3 bytes) digits
      let d = digitAt(q, end);
      if (double) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
      double = !double;
    }
  }
  return sum % 10 == 0;
}

// The manifest's config.with (read once per call), or 0 for the default.
let withPtr: usize = 0;
let withLen = 0;

function emitRedact(find: usize, len: i32): void {
  begin(64 + (len + withLen) * 6);
  put('{"action":"redact","find":"');
  putEscaped(find, len);
  put('","with":"');
  if (withPtr != 0) putEscaped(withPtr, withLen);
  else put("[card]");
  put('"}');
  finish();
}

function isSeparator(c: u8): bool {
  return c == 0x20 || c == 0x2d;
}

// The digit at q (ASCII 0–9 or full-width ０–９, which Chinese input methods type), or -1; its width in digitWidth.
let digitWidth: usize = 1;

function digitAt(q: usize, end: usize): i32 {
  const c = <u32>load<u8>(q);
  if (c >= 0x30 && c <= 0x39) {
    digitWidth = 1;
    return <i32>(c - 0x30);
  }
  if (c == 0xef && q + 3 <= end && load<u8>(q + 1) == 0xbc) {
    const d = <u32>load<u8>(q + 2);
    if (d >= 0x90 && d <= 0x99) {
      digitWidth = 3;
      return <i32>(d - 0x90);
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------------------------
// Order questions.

// Chinese: order, logistics, shipped, courier, "where is it", refund, return, tracking number, parcel, delivery, signed for.
const ZH_WORDS: StaticArray<string> = ["订单", "物流", "发货", "快递", "到哪", "退款", "退货", "单号", "包裹", "配送", "签收"];
// English, matched case-insensitively at the start of a word ("order" also finds "orders", "ordered").
const EN_WORDS: StaticArray<string> = ["order", "shipping", "shipment", "shipped", "deliver", "track", "where is my", "where's my", "refund", "return", "parcel", "package"];

function isOrderQuestion(text: usize, end: usize): bool {
  for (let q = text; q < end; q++) {
    const c = <u32>load<u8>(q);
    if (c >= 0xe0 && c < 0xf0 && q + 3 <= end) {
      // A 3-byte character (all of the Chinese words start with one): compare code points first, bytes only on a hit.
      const cp = ((c & 0x0f) << 12) | ((<u32>load<u8>(q + 1) & 0x3f) << 6) | (<u32>load<u8>(q + 2) & 0x3f);
      for (let i = 0; i < ZH_WORDS.length; i++) {
        const word = unchecked(ZH_WORDS[i]);
        if (firstUnit(word) == cp && matchAt(q, end, word, false) > 0) return true;
      }
      q += 2;
    } else if (isLetter(c) && (q == text || !isLetter(<u32>load<u8>(q - 1)))) {
      const lower = c | 0x20;
      for (let i = 0; i < EN_WORDS.length; i++) {
        const word = unchecked(EN_WORDS[i]);
        if (firstUnit(word) != lower || matchAt(q, end, word, true) == 0) continue;
        // "in order to" is not about an order.
        if (i == 0 && q >= text + 3 && matchAt(q - 3, end, "in ", true) > 0 && matchAt(q + 5, end, " to ", true) > 0) continue;
        return true;
      }
    }
  }
  return false;
}

// The first UTF-16 unit of a (non-empty, static) string, without a bounds check: a string reference points at its units.
// @ts-ignore: decorator
@inline function firstUnit(word: string): u32 {
  return <u32>load<u16>(changetype<usize>(word));
}

/** The order number after 订单, "order" or "#" (up to 16 bytes further, at least 3 digits), into digitsPtr/digitsLen as ASCII. */
let digitsPtr: usize = 0;
let digitsLen = 0;

function findOrderId(text: usize, end: usize): bool {
  for (let q = text; q < end; q++) {
    let anchor: usize = 0;
    const c = <u32>load<u8>(q);
    if (c == 0x23) anchor = 1;
    else if (c >= 0xc0) anchor = matchAt(q, end, "订单", false);
    else if (isLetter(c) && (q == text || !isLetter(<u32>load<u8>(q - 1)))) anchor = matchAt(q, end, "order", true);
    if (anchor == 0) continue;
    let p = q + anchor;
    const limit = min(p + 16, end);
    while (p < limit && digitAt(p, end) < 0 && load<u8>(p) != 0x0a) p++;
    if (p >= end || digitAt(p, end) < 0) continue;
    const out = alloc(32);
    let n = 0;
    while (p < end && n < 32) {
      const d = digitAt(p, end);
      if (d < 0) break;
      store<u8>(out + <usize>n, <u8>(0x30 + d));
      n++;
      p += digitWidth;
    }
    if (n >= 3 && (p >= end || digitAt(p, end) < 0)) {
      digitsPtr = out;
      digitsLen = n;
      return true;
    }
  }
  return false;
}

function isLetter(c: u32): bool {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

/** Bytes of `literal` (UTF-8 of a BMP string, ASCII folded to lower case when asked) matched at q, or 0. */
function matchAt(q: usize, end: usize, literal: string, fold: bool): usize {
  let p = q;
  for (let i = 0; i < literal.length; i++) {
    const u = <u32>literal.charCodeAt(i);
    if (u < 0x80) {
      if (p >= end) return 0;
      let b = <u32>load<u8>(p);
      if (fold && b >= 0x41 && b <= 0x5a) b += 0x20;
      if (b != u) return 0;
      p += 1;
    } else if (u < 0x800) {
      if (p + 2 > end) return 0;
      if (<u32>load<u8>(p) != (0xc0 | (u >> 6)) || <u32>load<u8>(p + 1) != (0x80 | (u & 0x3f))) return 0;
      p += 2;
    } else {
      if (p + 3 > end) return 0;
      if (<u32>load<u8>(p) != (0xe0 | (u >> 12)) || <u32>load<u8>(p + 1) != (0x80 | ((u >> 6) & 0x3f)) ||
          <u32>load<u8>(p + 2) != (0x80 | (u & 0x3f))) return 0;
      p += 3;
    }
  }
  return p - q;
}

// ---------------------------------------------------------------------------------------------------------------
// Configuration (kefu.config_get): the value lands in memory from our own alloc.

let valuePtr: usize = 0;
let valueLen = 0;

function configValue(key: string): bool {
  const keyPtr = alloc(key.length * 3);
  const keyLen = writeLiteral(keyPtr, key);
  const out = alloc(8);
  valueLen = 0;
  if (kefu_config_get(keyPtr, keyLen, out) != 0) return false;
  valuePtr = <usize>load<u32>(out);
  valueLen = <i32>load<u32>(out + 4);
  if (valueLen > 0) return true;
  valueLen = 0;
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// A minimal JSON reader over UTF-8 bytes: enough to find members and decode strings. 0 means "not found/malformed"
// (no valid position is 0: the arena starts above the static data).

function ws(p: usize, end: usize): usize {
  while (p < end) {
    const c = load<u8>(p);
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
    p++;
  }
  return p;
}

function skipString(p: usize, end: usize): usize {
  p++;
  while (p < end) {
    const c = load<u8>(p);
    if (c == 0x5c) p += 2;
    else if (c == 0x22) return p + 1;
    else p++;
  }
  return 0;
}

function skipValue(p: usize, end: usize): usize {
  p = ws(p, end);
  if (p >= end) return 0;
  const c = load<u8>(p);
  if (c == 0x22) return skipString(p, end);
  if (c == 0x7b || c == 0x5b) {
    let depth = 0;
    while (p < end) {
      const d = load<u8>(p);
      if (d == 0x22) {
        p = skipString(p, end);
        if (p == 0) return 0;
        continue;
      }
      if (d == 0x7b || d == 0x5b) depth++;
      else if (d == 0x7d || d == 0x5d) {
        depth--;
        if (depth == 0) return p + 1;
      }
      p++;
    }
    return 0;
  }
  while (p < end) {
    const d = load<u8>(p);
    if (d == 0x2c || d == 0x7d || d == 0x5d || d == 0x20 || d == 0x09 || d == 0x0a || d == 0x0d) break;
    p++;
  }
  return p;
}

/** Where the value of `key` starts in the object at p, or 0. */
function member(p: usize, end: usize, key: string): usize {
  p = ws(p, end);
  if (p >= end || load<u8>(p) != 0x7b) return 0;
  p++;
  while (true) {
    p = ws(p, end);
    if (p >= end) return 0;
    const c = load<u8>(p);
    if (c == 0x7d) return 0;
    if (c == 0x2c) {
      p++;
      continue;
    }
    if (c != 0x22) return 0;
    const keyEnd = skipString(p, end);
    if (keyEnd == 0) return 0;
    const matches = keyEnd - p - 2 == <usize>key.length && matchAt(p + 1, keyEnd - 1, key, false) > 0;
    p = ws(keyEnd, end);
    if (p >= end || load<u8>(p) != 0x3a) return 0;
    p = ws(p + 1, end);
    if (matches) return p;
    p = skipValue(p, end);
    if (p == 0) return 0;
  }
}

function isString(p: usize, end: usize, literal: string): bool {
  const close = skipString(p, end);
  return load<u8>(p) == 0x22 && close != 0 && close - p - 2 == <usize>literal.length && matchAt(p + 1, close - 1, literal, false) > 0;
}

let textPtr: usize = 0;
let textLen = 0;

/** Decodes the JSON string at p (escapes, \uXXXX and surrogate pairs) to UTF-8 in the arena: textPtr/textLen. */
function decodeString(p: usize, end: usize): bool {
  if (p >= end || load<u8>(p) != 0x22) return false;
  const out = alloc(<i32>(end - p)); // decoding never makes a string longer; the arena is emptied after the call
  let o = out;
  let q = p + 1;
  while (true) {
    // A run without escapes is copied at once; found 16 bytes at a time (SIMD), then byte by byte.
    let r = q;
    while (r + 16 <= end) {
      const v = v128.load(r);
      const hits = i8x16.bitmask(v128.or(i8x16.eq(v, i8x16.splat(0x22)), i8x16.eq(v, i8x16.splat(0x5c))));
      if (hits != 0) {
        r += <usize>ctz(hits);
        break;
      }
      r += 16;
    }
    while (r < end) {
      const c = load<u8>(r);
      if (c == 0x22 || c == 0x5c) break;
      r++;
    }
    if (r >= end) return false;
    memory.copy(o, q, r - q);
    o += r - q;
    q = r;
    if (load<u8>(q) == 0x22) break;
    if (q + 1 >= end) return false;
    const e = load<u8>(q + 1);
    q += 2;
    if (e == 0x6e) store<u8>(o++, 0x0a);
    else if (e == 0x74) store<u8>(o++, 0x09);
    else if (e == 0x72) store<u8>(o++, 0x0d);
    else if (e == 0x62) store<u8>(o++, 0x08);
    else if (e == 0x66) store<u8>(o++, 0x0c);
    else if (e == 0x75) {
      let cp = hex4(q, end);
      q += 4;
      if (cp >= 0xd800 && cp <= 0xdbff && q + 6 <= end && load<u8>(q) == 0x5c && load<u8>(q + 1) == 0x75) {
        const low = hex4(q + 2, end);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          q += 6;
        }
      }
      if (cp < 0 || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
      o += writeCodePoint(o, <u32>cp);
    } else store<u8>(o++, e); // \" \\ \/
  }
  textPtr = out;
  textLen = <i32>(o - out);
  return true;
}

function hex4(q: usize, stop: usize): i32 {
  if (q + 4 > stop) return -1;
  let v = 0;
  for (let i: usize = 0; i < 4; i++) {
    const c = <i32>load<u8>(q + i);
    let d = -1;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 0x61 + 10;
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

function writeCodePoint(o: usize, cp: u32): usize {
  if (cp < 0x80) {
    store<u8>(o, <u8>cp);
    return 1;
  }
  if (cp < 0x800) {
    store<u8>(o, <u8>(0xc0 | (cp >> 6)));
    store<u8>(o + 1, <u8>(0x80 | (cp & 0x3f)));
    return 2;
  }
  if (cp < 0x10000) {
    store<u8>(o, <u8>(0xe0 | (cp >> 12)));
    store<u8>(o + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    store<u8>(o + 2, <u8>(0x80 | (cp & 0x3f)));
    return 3;
  }
  store<u8>(o, <u8>(0xf0 | (cp >> 18)));
  store<u8>(o + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
  store<u8>(o + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(o + 3, <u8>(0x80 | (cp & 0x3f)));
  return 4;
}

function writeLiteral(o: usize, literal: string): usize {
  let n: usize = 0;
  for (let i = 0; i < literal.length; i++) n += writeCodePoint(o + n, <u32>literal.charCodeAt(i));
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Building one action's JSON in the arena, then kefu.emit.

let outStart: usize = 0;
let outPos: usize = 0;
let outCap: usize = 0;

function begin(capacity: i32): void {
  outCap = <usize>capacity + 256;
  outStart = alloc(<i32>outCap);
  outPos = outStart;
}

function put(literal: string): void {
  outPos += writeLiteral(outPos, literal);
}

/** UTF-8 bytes as the inside of a JSON string. Callers size `begin` for 6 bytes per input byte (\u00XX). */
function putEscaped(p: usize, len: i32): void {
  for (let i = 0; i < len; i++) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x22 || c == 0x5c) {
      store<u8>(outPos++, 0x5c);
      store<u8>(outPos++, c);
    } else if (c < 0x20) {
      store<u8>(outPos++, 0x5c);
      store<u8>(outPos++, 0x75);
      store<u8>(outPos++, 0x30);
      store<u8>(outPos++, 0x30);
      store<u8>(outPos++, 0x30 + (c >> 4));
      const low = c & 0x0f;
      store<u8>(outPos++, low < 10 ? 0x30 + low : 0x61 + low - 10);
    } else store<u8>(outPos++, c);
  }
}

function finish(): void {
  kefu_emit(outStart, outPos - outStart);
}
