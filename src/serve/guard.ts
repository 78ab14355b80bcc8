/**
 * The checks every request passes before a handler sees it: URL length, the Host of a loopback
 * bind (DNS rebinding), the token, and for writes the read-only switch and the Origin.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './answer.js';

/** Longer request targets are 414: no key or query of this API needs more. */
export const MAX_URL_BYTES = 8192;

export interface GuardSettings {
  /** The port actually bound (port 0 resolved). */
  port: number;
  /** True when the bind address is loopback: then only loopback Host names are answered. */
  loopback: boolean;
  /** SHA-256 of the token, or undefined when none is required. */
  tokenHash: Buffer | undefined;
  readOnly: boolean;
  allowOrigins: ReadonlySet<string>;
  /** The last Host a loopback server accepted (the same Host comes on every request of a client). */
  hostSeen?: string;
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** 127.0.0.0/8, ::1 and localhost: the names a loopback bind answers to. */
export function isLoopbackName(name: string): boolean {
  const lower = name.toLowerCase();
  if (lower === 'localhost' || lower === '::1' || lower === '[::1]') return true;
  const parts = lower.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** Host's name and port ("" when absent); undefined when it does not parse. */
function splitHost(host: string): { name: string; port: string } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/.exec(host);
  return match === null ? undefined : { name: match[1]!, port: match[2] ?? '' };
}

function refuse(status: number, code: string, message: string, headers: Record<string, string> = {}): never {
  throw new HttpError(status, code, message, headers);
}

/** The origin this request addresses the server by: what a page the server itself served sends as Origin. */
export function ownOrigin(req: IncomingMessage): string {
  return `http://${(req.headers.host ?? '').toLowerCase()}`;
}

/** Throws the HttpError a request earns before routing, if any. `write`: the method changes the store; `isStatic`: the page or its files (no token asked). */
export function guard(req: IncomingMessage, settings: GuardSettings, write: boolean, isStatic = false): void {
  if ((req.url ?? '').length > MAX_URL_BYTES) refuse(414, 'EMSGSIZE', `a request target is at most ${MAX_URL_BYTES} bytes, received ${(req.url ?? '').length}`);
  if (settings.loopback) {
    const host = req.headers.host ?? '';
    if (host === settings.hostSeen) return afterHost(req, settings, write, isStatic); // a Host this server accepted before: checked once, not per request
    const parts = splitHost(host);
    // A page on another site that rebinds its name to 127.0.0.1 still sends its own name here.
    if (parts === undefined || !isLoopbackName(parts.name) || (parts.port || '80') !== String(settings.port)) {
      refuse(403, 'EPERM', `this server answers on loopback names at port ${settings.port} only (Host localhost:${settings.port} or 127.0.0.1:${settings.port}); the request's Host is not one`);
    }
    settings.hostSeen = host;
  }
  afterHost(req, settings, write, isStatic);
}

function afterHost(req: IncomingMessage, settings: GuardSettings, write: boolean, isStatic: boolean): void {
  if (settings.tokenHash !== undefined && !isStatic) {
    const header = req.headers.authorization ?? '';
    const given = /^Bearer (\S+)$/.exec(header)?.[1];
    // Both sides hashed: equal lengths for timingSafeEqual, and no timing that depends on the token's length.
    if (given === undefined || !timingSafeEqual(hashToken(given), settings.tokenHash)) {
      refuse(401, 'EACCES', given === undefined ? 'this server needs "Authorization: Bearer <token>"' : 'the token is not the one this server was given', {
        'WWW-Authenticate': 'Bearer',
      });
    }
  }
  if (!write) return;
  if (settings.readOnly) refuse(403, 'EPERM', 'this server is read-only (--read-only): it refuses every write');
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== ownOrigin(req) && !settings.allowOrigins.has(origin)) {
    refuse(403, 'EPERM', 'a write from a page of another origin is refused (the server allows no other origin)');
  }
}
