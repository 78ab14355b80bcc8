// The gateway's API as the page uses it: the token (asked once, kept in sessionStorage), JSON
// requests with the Authorization header, and the event stream read through fetch (EventSource
// cannot send a header) with a small Server-Sent Events parser.

const TOKEN_ITEM = 'splinter-serve-token';

export class NeedToken extends Error {}

export function token() {
  return sessionStorage.getItem(TOKEN_ITEM) ?? '';
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_ITEM, value);
}

function headers() {
  const t = token();
  return t === '' ? {} : { Authorization: `Bearer ${t}` };
}

/** GET a JSON answer; NeedToken on 401, an Error with the gateway's code and message otherwise. */
export async function getJson(path) {
  const res = await fetch(path, { headers: headers(), cache: 'no-store' });
  if (res.status === 401) throw new NeedToken('this server needs a token');
  if (!res.ok) {
    let error = {};
    try {
      error = (await res.json()).error ?? {};
    } catch {
      // not JSON: the status says enough
    }
    const failure = new Error(`${res.status} ${error.code ?? ''}: ${error.message ?? res.statusText}`);
    failure.status = res.status;
    failure.code = error.code;
    throw failure;
  }
  return res.json();
}

/** A key's bytes: its hex when the API gave one (not UTF-8), else its UTF-8 text. */
export function keyBytes(row) {
  if (row.keyHex) return Uint8Array.from(row.keyHex.match(/../g), (h) => parseInt(h, 16));
  return new TextEncoder().encode(row.key);
}

/** The key as a path segment: every byte but letters, digits, '-' and '_' percent-encoded (docs/serve.md, "Keys in URLs"). */
export function keySegment(row) {
  let out = '';
  for (const b of keyBytes(row)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Follows /v1/events until `signal` aborts, calling onEvent(type, data) for each event; after a
 * drop it waits a second, calls onReconnect() and reads again.
 */
export async function followEvents(onEvent, onReconnect, onState, signal) {
  let first = true;
  while (!signal.aborted) {
    try {
      if (!first) await onReconnect();
      first = false;
      const res = await fetch('/v1/events', { headers: headers(), cache: 'no-store', signal });
      if (res.status === 401) throw new NeedToken('this server needs a token');
      if (!res.ok || res.body === null) throw new Error(`events: ${res.status}`);
      onState('live');
      await readEvents(res.body, onEvent);
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof NeedToken) {
        onState('token');
        throw error;
      }
    }
    onState('reconnecting');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Splits the stream into events at blank lines; `event:` and `data:` lines, comments ignored. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trimStart();
      }
      if (data !== '') onEvent(type, JSON.parse(data));
    }
  }
}
