/**
 * Gemini cannot read arbitrary https image URLs (`fileData` is for Files API URIs), so before a
 * converted request goes upstream the provider downloads URL images and inlines them as base64
 * (WIRE-FORMATS §4 #36): bounded in size and time, image types only, private hosts refused
 * unless allowed (the gateway must not become a way into the internal network).
 *
 * @module
 */
import { request } from 'undici';
import { GatewayError } from '../../core/errors.ts';
import { discard } from '../../core/upstream.ts';
import type { IRImage, IRRequest } from '../../core/ir.ts';
import type { ProviderCall } from '../../core/plugin.ts';

/** Options for image inlining. */
export interface InlineImageOptions {
  /** Largest image accepted, in bytes. @default 20 MB */
  maxBytes?: number;
  /** Time allowed per download, in ms. @default 10_000 */
  timeoutMs?: number;
  /** Allow loopback/private/link-local hosts (tests, trusted networks). @default false */
  allowPrivateHosts?: boolean;
}

const PRIVATE = /^(localhost|127\.|10\.|192\.168\.|169\.254\.|172\.(1[6-9]|2\d|3[01])\.|0\.|\[?::1\]?$|\[?f[cd][0-9a-f]{2}:|\[?fe80:)/i;
const KEEP = /(^|\.)generativelanguage\.googleapis\.com$|(^|\.)youtube\.com$|^youtu\.be$/i;

function urlImages(ir: IRRequest): IRImage[] {
  const out: IRImage[] = [];
  const visit = (p: { type: string }) => {
    if (p.type === 'image') {
      const img = p as IRImage;
      if (img.source.kind === 'url' && /^https?:/i.test(img.source.url) && !KEEP.test(new URL(img.source.url).hostname)) out.push(img);
    }
  };
  for (const m of ir.messages) {
    for (const p of m.content) {
      visit(p);
      if (p.type === 'tool_result' && Array.isArray(p.content)) p.content.forEach(visit);
    }
  }
  return out;
}

/**
 * Returns the IR with URL images replaced by inline base64 (a copy; the request's own IR, shared
 * by every failover attempt, is left as it was). Unchanged when there is nothing to download.
 *
 * @example
 * ```ts
 * const ir = await inlineImageUrls(call, irForUpstream(call), { maxBytes: 5_000_000 });
 * ```
 */
export async function inlineImageUrls(call: ProviderCall, ir: IRRequest, opts: InlineImageOptions = {}): Promise<IRRequest> {
  if (!urlImages(ir).length) return ir;
  const copy = structuredClone(ir);
  const max = opts.maxBytes ?? 20 * 1024 * 1024;
  await Promise.all(
    urlImages(copy).map(async (img) => {
      const url = (img.source as { url: string }).url;
      const fail = (why: string) => new GatewayError('image_fetch_failed', `could not fetch image ${url}: ${why}`, { status: 400 });
      if (!opts.allowPrivateHosts && PRIVATE.test(new URL(url).hostname)) throw fail('private addresses are not fetched');
      let res;
      try {
        res = await request(url, {
          dispatcher: call.dispatcher,
          signal: call.signal,
          headersTimeout: opts.timeoutMs ?? 10_000,
          bodyTimeout: opts.timeoutMs ?? 10_000,
        }); // redirects are not followed (undici's default)
      } catch {
        throw fail('unreachable');
      }
      const type = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (res.statusCode !== 200 || !type.startsWith('image/')) {
        discard(res.body);
        throw fail(res.statusCode !== 200 ? `status ${res.statusCode}` : `not an image (${type || 'no content-type'})`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of res.body) {
        size += (c as Buffer).length;
        if (size > max) {
          discard(res.body);
          throw fail(`larger than ${max} bytes`);
        }
        chunks.push(c as Buffer);
      }
      img.source = { kind: 'base64', mediaType: type, data: Buffer.concat(chunks).toString('base64') };
    }),
  );
  return copy;
}
