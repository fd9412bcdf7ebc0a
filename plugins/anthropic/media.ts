/**
 * Anthropic `image` / `document` blocks ↔ IR images and documents.
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import type { IRDocument, IRImage } from '../../core/ir.ts';
import { parseDataUrl } from '../shared/codec-util.ts';
import { type Json, decodeCacheControl, isObj, str, withCache } from './wire.ts';

/** An `image` block → IR image (or a file document: the IR has no image-by-file-id). */
export function decodeImage(b: Json, where: string): IRImage | IRDocument {
  const s = b.source;
  if (!isObj(s)) throw invalidRequest(`${where}.source must be an object`, `${where}.source`);
  const cacheControl = decodeCacheControl(b.cache_control);
  const cc = cacheControl ? { cacheControl } : {};
  if (s.type === 'base64' && typeof s.data === 'string') {
    return { type: 'image', source: { kind: 'base64', mediaType: str(s.media_type) ?? 'image/png', data: s.data }, ...cc };
  }
  if (s.type === 'url' && typeof s.url === 'string') return { type: 'image', source: { kind: 'url', url: s.url }, ...cc };
  // The IR has no image-by-file-id; a file document keeps the id (re-encoded as a document block).
  if (s.type === 'file' && typeof s.file_id === 'string') {
    return { type: 'document', source: { kind: 'file', fileId: s.file_id }, ...cc };
  }
  throw invalidRequest(`${where}.source has an unsupported type`, `${where}.source.type`);
}

function toB64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** A `document` block (base64, text, content, url, file sources) → IR document. */
export function decodeDocument(b: Json, where: string): IRDocument {
  const s = b.source;
  if (!isObj(s)) throw invalidRequest(`${where}.source must be an object`, `${where}.source`);
  const doc = (source: IRDocument['source']): IRDocument => {
    const d: IRDocument = { type: 'document', source };
    const title = str(b.title);
    if (title) d.filename = title;
    const cc = decodeCacheControl(b.cache_control);
    if (cc) d.cacheControl = cc;
    return d;
  };
  if (s.type === 'base64' && typeof s.data === 'string') {
    return doc({ kind: 'base64', mediaType: str(s.media_type) ?? 'application/pdf', data: s.data });
  }
  if (s.type === 'text' && typeof s.data === 'string') return doc({ kind: 'base64', mediaType: 'text/plain', data: toB64(s.data) });
  if (s.type === 'content') {
    const c = s.content;
    const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((x) => (isObj(x) ? str(x.text) ?? '' : '')).join('\n') : '';
    return doc({ kind: 'base64', mediaType: 'text/plain', data: toB64(text) });
  }
  if (s.type === 'url' && typeof s.url === 'string') return doc({ kind: 'url', url: s.url });
  if (s.type === 'file' && typeof s.file_id === 'string') return doc({ kind: 'file', fileId: s.file_id });
  throw invalidRequest(`${where}.source has an unsupported type`, `${where}.source.type`);
}

function encodeSource(
  source: IRImage['source'] | IRDocument['source'],
  fallbackType: string,
): { kind: 'image' | 'document'; source: Json } {
  if (source.kind === 'file') return { kind: 'document', source: { type: 'file', file_id: source.fileId } };
  if (source.kind === 'url') {
    const d = parseDataUrl(source.url);
    if (!d) return { kind: fallbackType === 'image' ? 'image' : 'document', source: { type: 'url', url: source.url } };
    return encodeSource({ kind: 'base64', mediaType: d.mediaType, data: d.data }, fallbackType);
  }
  const mt = source.mediaType;
  if (mt.startsWith('image/')) return { kind: 'image', source: { type: 'base64', media_type: mt, data: source.data } };
  // Anthropic documents take PDF as base64 and plain text as text; other text-like types are sent as text.
  if (mt.startsWith('text/') || mt === 'application/json') {
    return { kind: 'document', source: { type: 'text', media_type: 'text/plain', data: Buffer.from(source.data, 'base64').toString('utf8') } };
  }
  return { kind: 'document', source: { type: 'base64', media_type: mt, data: source.data } };
}

/** An IR image or document → an Anthropic `image` / `document` block. */
export function encodeMedia(p: IRImage | IRDocument): Json {
  const { kind, source } = encodeSource(p.source, p.type);
  const block: Json = { type: kind, source };
  if (p.type === 'document' && p.filename && kind === 'document') block.title = p.filename;
  return withCache(block, p.cacheControl);
}
