/**
 * Chat Completions `messages` → IR system text and turns (part of `decodeRequest`).
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import type { IRDocument, IRImage, IRMessage, IRPart, IRRequest, IRText } from '../../core/ir.ts';
import { parseDataUrl } from '../shared/codec-util.ts';
import { isObj, type Json, str } from './wire.ts';

type InputPart = IRText | IRImage | IRDocument;

/** Splits `messages` into IR system text and turns; consecutive tool messages share one user turn. */
export function decodeMessages(list: unknown[]): Pick<IRRequest, 'system' | 'messages'> {
  const system: IRText[] = [];
  const messages: IRMessage[] = [];
  const names = new Map<string, string>();
  // Legacy `function_call`s carry no id: mint one per call and pair `function` results FIFO by name.
  const pendingLegacy: Array<{ id: string; name: string }> = [];
  let toolTurn: IRMessage | undefined;

  const pushResult = (part: IRPart) => {
    if (!toolTurn) messages.push((toolTurn = { role: 'user', content: [] }));
    toolTurn.content.push(part);
  };

  list.forEach((m, i) => {
    const at = `messages[${i}]`;
    if (!isObj(m)) throw invalidRequest(`"${at}" must be an object`, at);
    const role = m.role;
    if (role === 'tool') {
      const callId = str(m.tool_call_id);
      if (!callId) throw invalidRequest(`"${at}.tool_call_id" must be a non-empty string`, `${at}.tool_call_id`);
      pushResult({ type: 'tool_result', callId, name: names.get(callId), content: decodeToolContent(m.content, at) });
      return;
    }
    if (role === 'function') {
      const name = str(m.name) ?? '';
      const k = pendingLegacy.findIndex((p) => p.name === name);
      const callId = k >= 0 ? pendingLegacy.splice(k, 1)[0]!.id : `call_fn_${i}`;
      pushResult({ type: 'tool_result', callId, name, content: decodeToolContent(m.content, at) });
      return;
    }
    toolTurn = undefined;
    if (role === 'system' || role === 'developer') {
      for (const text of systemTexts(m.content, at)) system.push({ type: 'text', text });
    } else if (role === 'user') {
      if (m.content === undefined || m.content === null) throw invalidRequest(`"${at}.content" is required`, `${at}.content`);
      const content = decodeUserContent(m.content, `${at}.content`);
      if (content.length) messages.push({ role: 'user', content });
    } else if (role === 'assistant') {
      const content = decodeAssistant(m, at);
      for (const p of content) if (p.type === 'tool_call') names.set(p.id, p.name);
      if (isObj(m.function_call) && str(m.function_call.name)) {
        const call = { id: `call_fn_${i}`, name: m.function_call.name as string };
        pendingLegacy.push(call);
        content.push({ type: 'tool_call', ...call, arguments: str(m.function_call.arguments) ?? '{}' });
      }
      if (content.length) messages.push({ role: 'assistant', content });
    } else {
      throw invalidRequest(
        `"${at}.role" must be one of system, developer, user, assistant, tool, function`,
        `${at}.role`,
      );
    }
  });
  return { system, messages };
}

function systemTexts(content: unknown, at: string): string[] {
  if (typeof content === 'string') return content ? [content] : [];
  if (Array.isArray(content)) {
    return content.flatMap((p) => (isObj(p) && p.type === 'text' && str(p.text) ? [p.text as string] : []));
  }
  throw invalidRequest(`"${at}.content" must be a string or an array of text parts`, `${at}.content`);
}

function decodeUserContent(content: unknown, at: string): InputPart[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) throw invalidRequest(`"${at}" must be a string or an array`, at);
  const out: InputPart[] = [];
  content.forEach((p, j) => {
    if (!isObj(p)) throw invalidRequest(`"${at}[${j}]" must be an object`, `${at}[${j}]`);
    if (p.type === 'text') {
      if (typeof p.text !== 'string') throw invalidRequest(`"${at}[${j}].text" must be a string`, `${at}[${j}].text`);
      if (p.text) out.push({ type: 'text', text: p.text });
    } else if (p.type === 'image_url') {
      out.push(decodeImage(p.image_url, `${at}[${j}].image_url`));
    } else if (p.type === 'file') {
      out.push(decodeFile(p.file, `${at}[${j}].file`));
    } else if (p.type === 'input_audio') {
      throw invalidRequest('audio input cannot be converted to the target format', `${at}[${j}]`);
    }
  });
  return out;
}

function decodeImage(v: unknown, at: string): IRImage {
  const url = isObj(v) ? str(v.url) : str(v);
  if (!url) throw invalidRequest(`"${at}.url" must be a non-empty string`, `${at}.url`);
  const data = parseDataUrl(url);
  const image: IRImage = {
    type: 'image',
    source: data ? { kind: 'base64', mediaType: data.mediaType, data: data.data } : { kind: 'url', url },
  };
  const detail = isObj(v) ? v.detail : undefined;
  if (detail === 'auto' || detail === 'low' || detail === 'high' || detail === 'original') image.detail = detail;
  return image;
}

function decodeFile(v: unknown, at: string): IRDocument {
  if (!isObj(v)) throw invalidRequest(`"${at}" must be an object`, at);
  const filename = str(v.filename);
  const fileData = str(v.file_data);
  const fileId = str(v.file_id);
  let doc: IRDocument;
  if (fileData) {
    const data = parseDataUrl(fileData);
    doc = { type: 'document', source: { kind: 'base64', mediaType: data?.mediaType ?? 'application/pdf', data: data?.data ?? fileData } };
  } else if (fileId) {
    doc = { type: 'document', source: { kind: 'file', fileId } };
  } else {
    throw invalidRequest(`"${at}" needs "file_data" or "file_id"`, at);
  }
  if (filename) doc.filename = filename;
  return doc;
}

function decodeToolContent(content: unknown, at: string): string | InputPart[] {
  if (content === undefined || content === null) return '';
  return typeof content === 'string' ? content : decodeUserContent(content, `${at}.content`);
}

function decodeAssistant(m: Json, at: string): IRPart[] {
  const out: IRPart[] = [];
  // `reasoning_content` is a vendor extension (DeepSeek-style) some clients echo back in history.
  const reasoning = str(m.reasoning_content);
  if (reasoning) out.push({ type: 'reasoning', text: reasoning });
  if (typeof m.content === 'string') {
    if (m.content) out.push({ type: 'text', text: m.content });
  } else if (Array.isArray(m.content)) {
    for (const p of m.content) {
      if (!isObj(p)) continue;
      if (p.type === 'text' && str(p.text)) out.push({ type: 'text', text: p.text as string });
      if (p.type === 'refusal' && str(p.refusal)) out.push({ type: 'refusal', text: p.refusal as string });
    }
  }
  const refusal = str(m.refusal);
  if (refusal && !out.some((p) => p.type === 'refusal')) out.push({ type: 'refusal', text: refusal });
  if (Array.isArray(m.tool_calls)) {
    m.tool_calls.forEach((tc, j) => {
      const here = `${at}.tool_calls[${j}]`;
      if (!isObj(tc)) throw invalidRequest(`"${here}" must be an object`, here);
      if (tc.type === 'custom') throw invalidRequest('custom tool calls cannot be converted to the target format', here);
      const fn = isObj(tc.function) ? tc.function : {};
      const id = str(tc.id);
      const name = str(fn.name);
      if (!id || !name) throw invalidRequest(`"${here}" needs "id" and "function.name"`, here);
      out.push({ type: 'tool_call', id, name, arguments: str(fn.arguments) ?? '{}' });
    });
  }
  return out;
}
