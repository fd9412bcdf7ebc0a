/**
 * Gemini `generateContent` request → IR. The model and the stream flag come from the URL
 * (`opts`); camelCase and proto snake_case field names are both accepted.
 *
 * @module
 */
import type { DecodeOptions } from '../../core/codec.ts';
import { invalidRequest } from '../../core/errors.ts';
import type {
  IRImage, IRDocument, IRMessage, IRPart, IRReasoningConfig, IRRequest, IRResponseFormat, IRText, IRTool,
  IRToolChoice, ReasoningEffort,
} from '../../core/ir.ts';
import { stringifyArgs } from '../shared/codec-util.ts';
import { decodeBasicPart, decodeMedia, isObj, type Json, num, pick, str } from './content.ts';

export { encodeRequest } from './request-encode.ts';

/** Decodes a Gemini client request into the IR; throws a 400 on malformed input. */
export function decodeRequest(body: Json, opts: DecodeOptions = {}): IRRequest {
  if (!isObj(body)) throw invalidRequest('request body must be a JSON object');
  const model = opts.model ?? str(body.model)?.replace(/^models\//, '');
  if (!model) throw invalidRequest('model is required (in the URL: /v1beta/models/{model}:generateContent)', 'model');
  const contents = body.contents;
  if (!Array.isArray(contents)) throw invalidRequest('"contents" must be an array', 'contents');
  if (!contents.length) throw invalidRequest('"contents" must not be empty', 'contents');

  const pairing = new CallPairing();
  const req: IRRequest = {
    model,
    system: decodeSystem(pick(body, 'systemInstruction')),
    messages: contents.map((c, i) => decodeContent(c, i, pairing)),
    stream: opts.stream ?? body.stream === true,
  };
  const tools = decodeTools(body.tools);
  if (tools.length) req.tools = tools;
  const toolConfig = pick(body, 'toolConfig');
  const choice = isObj(toolConfig) ? decodeToolChoice(pick(toolConfig, 'functionCallingConfig')) : undefined;
  if (choice) req.toolChoice = choice;
  const gen = pick(body, 'generationConfig');
  if (gen !== undefined && !isObj(gen)) throw invalidRequest('"generationConfig" must be an object', 'generationConfig');
  if (gen) decodeGeneration(gen, req);
  return req;
}

/**
 * Pairs function responses with calls when ids are absent: ids are minted per call position and a
 * response without `id` takes the oldest unanswered call of the same name (FIFO, §4 #5).
 */
class CallPairing {
  private pending = new Map<string, string[]>();
  call(name: string, id: string): void {
    this.pending.set(name, [...(this.pending.get(name) ?? []), id]);
  }
  response(name: string, id: string | undefined): string | undefined {
    const queue = this.pending.get(name) ?? [];
    const pos = id === undefined ? 0 : queue.indexOf(id);
    if (pos >= 0 && queue.length) return queue.splice(pos, 1)[0];
    return id;
  }
}

function decodeSystem(si: unknown): IRText[] {
  if (si === undefined || si === null) return [];
  if (typeof si === 'string') return si ? [{ type: 'text', text: si }] : [];
  if (!isObj(si) || !Array.isArray(si.parts)) {
    throw invalidRequest('"systemInstruction" must be a Content object with "parts"', 'systemInstruction');
  }
  return si.parts.flatMap((p): IRText[] => (isObj(p) && typeof p.text === 'string' && p.text ? [{ type: 'text', text: p.text }] : []));
}

function decodeContent(c: unknown, i: number, pairing: CallPairing): IRMessage {
  const at = `contents[${i}]`;
  if (!isObj(c)) throw invalidRequest(`${at} must be an object`, at);
  const role = c.role ?? 'user';
  if (role !== 'user' && role !== 'model' && role !== 'function') {
    throw invalidRequest(`${at}.role must be "user" or "model"`, `${at}.role`);
  }
  if (!Array.isArray(c.parts)) throw invalidRequest(`${at}.parts must be an array`, `${at}.parts`);
  const content: IRPart[] = [];
  c.parts.forEach((p, k) => {
    if (!isObj(p)) throw invalidRequest(`${at}.parts[${k}] must be an object`, `${at}.parts`);
    const part = decodePart(p, `call_${i}_${k}`, pairing, `${at}.parts[${k}]`);
    if (part) content.push(part);
  });
  return { role: role === 'model' ? 'assistant' : 'user', content };
}

function decodePart(p: Json, mintedId: string, pairing: CallPairing, at: string): IRPart | undefined {
  const fc = pick(p, 'functionCall');
  if (isObj(fc)) {
    const name = str(fc.name);
    if (!name) throw invalidRequest(`${at}.functionCall.name must be a string`, at);
    const id = str(fc.id) || mintedId;
    pairing.call(name, id);
    const sig = str(pick(p, 'thoughtSignature'));
    return { type: 'tool_call', id, name, arguments: stringifyArgs(fc.args), ...(sig ? { thoughtSignature: sig } : {}) };
  }
  const fr = pick(p, 'functionResponse');
  if (isObj(fr)) {
    const name = str(fr.name);
    if (!name) throw invalidRequest(`${at}.functionResponse.name must be a string`, at);
    const callId = pairing.response(name, str(fr.id) || undefined) ?? mintedId;
    const { text, isError } = resultText(fr.response);
    const media = (Array.isArray(fr.parts) ? fr.parts : []).flatMap((x) => {
      const m = isObj(x) ? decodeMedia(x) : undefined;
      return m ? [m] : [];
    });
    const content: string | Array<IRText | IRImage | IRDocument> = media.length ? [{ type: 'text', text }, ...media] : text;
    return { type: 'tool_result', callId, name, content, ...(isError ? { isError } : {}) };
  }
  return decodeBasicPart(p);
}

/** Unwraps `{output}` / `{error}` (the documented convention, §4 #13, #15); other objects as JSON text. */
function resultText(resp: unknown): { text: string; isError?: boolean } {
  const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));
  if (!isObj(resp)) return { text: resp === undefined ? '' : asText(resp) };
  const keys = Object.keys(resp);
  if (keys.length === 1 && keys[0] === 'output') return { text: asText(resp.output) };
  if (keys.length === 1 && keys[0] === 'error') return { text: asText(resp.error), isError: true };
  return { text: JSON.stringify(resp) };
}

function decodeTools(tools: unknown): IRTool[] {
  if (tools === undefined) return [];
  if (!Array.isArray(tools)) throw invalidRequest('"tools" must be an array', 'tools');
  return tools.flatMap((t, i) => {
    if (!isObj(t)) throw invalidRequest(`tools[${i}] must be an object`, 'tools');
    const decls = pick(t, 'functionDeclarations');
    // googleSearch, codeExecution, urlContext ... have no IR form and are dropped.
    if (decls === undefined) return [];
    if (!Array.isArray(decls)) throw invalidRequest(`tools[${i}].functionDeclarations must be an array`, 'tools');
    return decls.map((d, j): IRTool => {
      const name = isObj(d) ? str(d.name) : undefined;
      if (!isObj(d) || !name) throw invalidRequest(`tools[${i}].functionDeclarations[${j}].name must be a string`, 'tools');
      const jsonSchema = pick(d, 'parametersJsonSchema');
      const params = isObj(jsonSchema) ? jsonSchema : isObj(d.parameters) ? fromOpenApiSchema(d.parameters) : undefined;
      const description = str(d.description);
      return {
        name,
        ...(description ? { description } : {}),
        parameters: isObj(params) ? params : { type: 'object', properties: {} },
      };
    });
  });
}

const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
const SCHEMA_MAPS = new Set(['properties', '$defs', 'definitions']);

/** Gemini's OpenAPI-subset `Schema` (`type: "STRING"`, `nullable`) → JSON Schema. */
export function fromOpenApiSchema(s: unknown): unknown {
  if (!isObj(s)) return s;
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'nullable' || k === 'propertyOrdering') continue;
    if (k === 'type' && typeof v === 'string') {
      if (v !== 'TYPE_UNSPECIFIED') out.type = v.toLowerCase();
    } else if (SCHEMA_MAPS.has(k) && isObj(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([n, sub]) => [n, fromOpenApiSchema(sub)]));
    } else if (SCHEMA_LISTS.has(k) && Array.isArray(v)) {
      out[k] = v.map(fromOpenApiSchema);
    } else if (k === 'items' || k === 'not' || k === 'additionalProperties') {
      out[k] = fromOpenApiSchema(v);
    } else {
      out[k] = v;
    }
  }
  if (s.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

function decodeToolChoice(cfg: unknown): IRToolChoice | undefined {
  if (!isObj(cfg)) return undefined;
  const mode = str(cfg.mode)?.toUpperCase();
  const allowed = pick(cfg, 'allowedFunctionNames');
  const names = Array.isArray(allowed) ? allowed.filter((n): n is string => typeof n === 'string') : [];
  if (mode === 'NONE') return { type: 'none' };
  if (mode === 'ANY') {
    if (names.length === 1) return { type: 'tool', name: names[0]! };
    return names.length ? { type: 'allowed', mode: 'required', names } : { type: 'required' };
  }
  if (mode === 'AUTO' || mode === 'VALIDATED') return names.length ? { type: 'allowed', mode: 'auto', names } : { type: 'auto' };
  return undefined;
}

const LEVELS: Record<string, ReasoningEffort> = { MINIMAL: 'minimal', LOW: 'low', MEDIUM: 'medium', HIGH: 'high' };

function decodeGeneration(g: Json, req: IRRequest): void {
  const set = <K extends keyof IRRequest>(key: K, value: IRRequest[K] | undefined): void => {
    if (value !== undefined) req[key] = value;
  };
  set('maxTokens', num(pick(g, 'maxOutputTokens')));
  set('temperature', num(g.temperature));
  set('topP', num(pick(g, 'topP')));
  set('topK', num(pick(g, 'topK')));
  set('seed', num(g.seed));
  set('presencePenalty', num(pick(g, 'presencePenalty')));
  set('frequencyPenalty', num(pick(g, 'frequencyPenalty')));
  set('n', num(pick(g, 'candidateCount')));
  const stop = pick(g, 'stopSequences');
  if (Array.isArray(stop)) set('stop', stop.filter((s): s is string => typeof s === 'string'));
  set('responseFormat', decodeResponseFormat(g));
  const thinking = pick(g, 'thinkingConfig');
  if (isObj(thinking)) set('reasoning', decodeThinking(thinking));
}

function decodeResponseFormat(g: Json): IRResponseFormat | undefined {
  const mime = str(pick(g, 'responseMimeType'));
  if (mime === 'text/plain') return { type: 'text' };
  if (mime !== 'application/json') return undefined;
  const json = pick(g, 'responseJsonSchema');
  const schema = isObj(json) ? json : fromOpenApiSchema(pick(g, 'responseSchema'));
  return isObj(schema) ? { type: 'json_schema', schema } : { type: 'json_object' };
}

function decodeThinking(t: Json): IRReasoningConfig {
  const out: IRReasoningConfig = {};
  const budget = num(pick(t, 'thinkingBudget'));
  const level = LEVELS[str(pick(t, 'thinkingLevel'))?.toUpperCase() ?? ''];
  if (budget === 0) out.enabled = false;
  else if (budget !== undefined) {
    out.enabled = true;
    if (budget > 0) out.budgetTokens = budget;
  } else if (level) {
    out.enabled = true;
    out.effort = level;
  }
  const include = pick(t, 'includeThoughts');
  if (typeof include === 'boolean') out.includeThoughts = include;
  return out;
}
