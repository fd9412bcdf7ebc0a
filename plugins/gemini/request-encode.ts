/**
 * IR → Gemini `generateContent` request body (the model goes in the URL, not the body).
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import type { IRMessage, IRPart, IRReasoningConfig, IRRequest, IRToolChoice, IRToolResult, ReasoningEffort } from '../../core/ir.ts';
import { budgetToEffort, effortToBudget, mergeConsecutive, toolNamesById } from '../shared/codec-util.ts';
import { withUpstreamToolNames } from '../shared/tool-names.ts';
import { encodeMedia, encodeModelParts, isObj, type Json, SKIP_SIGNATURE } from './content.ts';

interface Content {
  role: 'user' | 'model';
  parts: Json[];
}

/**
 * Encodes an IR request for a Gemini upstream. Turns are merged so roles alternate, all function
 * responses of a turn share one `user` content, and a conversation opening with a model turn gets
 * a minimal `"."` user turn first (§4 #9).
 */
export function encodeRequest(ir: IRRequest, opts: { model: string }): Json {
  const req = withUpstreamToolNames(ir, 'gemini');
  const body: Json = { contents: encodeContents(req.messages) };
  const system = req.system.filter((t) => t.text).map((t) => ({ text: t.text }));
  if (system.length) body.systemInstruction = { parts: system };
  const allowed = req.toolChoice?.type === 'allowed' && req.toolChoice.mode === 'auto' ? new Set(req.toolChoice.names) : undefined;
  const decls = (req.tools ?? [])
    .filter((t) => !allowed || allowed.has(t.name))
    .map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      parametersJsonSchema: cleanSchema(t.parameters),
    }));
  if (decls.length) {
    body.tools = [{ functionDeclarations: decls }];
    if (req.toolChoice) body.toolConfig = { functionCallingConfig: encodeToolChoice(req.toolChoice) };
  }
  const gen = encodeGeneration(req, opts.model);
  if (Object.keys(gen).length) body.generationConfig = gen;
  return body;
}

function encodeContents(messages: IRMessage[]): Content[] {
  const names = toolNamesById(messages);
  const out: Content[] = [];
  for (const m of mergeConsecutive(messages)) {
    const role = m.role === 'assistant' ? 'model' : 'user';
    const parts = role === 'model' ? encodeModelParts(m.content, false) : encodeUserParts(m.content, names);
    if (!parts.length) continue;
    const last = out[out.length - 1];
    if (last?.role === role) last.parts.push(...parts);
    else out.push({ role, parts });
  }
  if (out[0]?.role !== 'user') out.unshift({ role: 'user', parts: [{ text: '.' }] });
  for (const c of out) if (c.role === 'model') ensureCallSignature(c.parts);
  return out;
}

/**
 * Gemini 3 rejects a function-call turn whose first call has no `thoughtSignature`. History from
 * another provider has none, so the documented bypass value goes on the first call of that turn.
 */
function ensureCallSignature(parts: Json[]): void {
  const calls = parts.filter((p) => p.functionCall !== undefined);
  if (calls.length && !calls.some((p) => p.thoughtSignature)) calls[0]!.thoughtSignature = SKIP_SIGNATURE;
}

function encodeUserParts(parts: IRPart[], names: Map<string, string>): Json[] {
  const responses: Json[] = [];
  const rest: Json[] = [];
  for (const p of parts) {
    if (p.type === 'tool_result') {
      responses.push(encodeToolResult(p, names));
      // Images in tool results follow the responses as plain parts: every model accepts that,
      // while functionResponse.parts is Gemini 3 only.
      if (typeof p.content !== 'string') {
        for (const c of p.content) if (c.type !== 'text') rest.push(encodeMedia(c));
      }
    } else if (p.type === 'text') {
      const sig = p.thoughtSignature ? { thoughtSignature: p.thoughtSignature } : {};
      if (p.text || p.thoughtSignature) rest.push({ text: p.text, ...sig });
    } else if (p.type === 'refusal') {
      if (p.text) rest.push({ text: p.text });
    } else if (p.type === 'image' || p.type === 'document') {
      rest.push(encodeMedia(p));
    }
  }
  return [...responses, ...rest];
}

function encodeToolResult(p: IRToolResult, names: Map<string, string>): Json {
  const name = p.name ?? names.get(p.callId);
  if (!name) {
    throw invalidRequest(`tool result "${p.callId}" has no matching tool call (Gemini needs the function name)`, 'messages');
  }
  const text = typeof p.content === 'string' ? p.content : p.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');
  return { functionResponse: { id: p.callId, name, response: resultObject(text, p.isError) } };
}

/** `response` must be an object (§4 #15): JSON objects pass through, anything else is wrapped. */
function resultObject(text: string, isError: boolean | undefined): Json {
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // plain text stays a string
  }
  if (isError) return { error: isObj(value) ? value : text };
  return isObj(value) ? value : { output: value };
}

/** Drops `$schema`, which Gemini rejects in function and response schemas. */
function cleanSchema(schema: Record<string, unknown>): Json {
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

function encodeToolChoice(c: IRToolChoice): Json {
  switch (c.type) {
    case 'auto':
      return { mode: 'AUTO' };
    case 'none':
      return { mode: 'NONE' };
    case 'required':
      return { mode: 'ANY' };
    case 'tool':
      return { mode: 'ANY', allowedFunctionNames: [c.name] };
    case 'allowed':
      // The auto subset is expressed by filtering the declarations instead (see encodeRequest).
      return c.mode === 'required' ? { mode: 'ANY', allowedFunctionNames: c.names } : { mode: 'AUTO' };
  }
}

function encodeGeneration(req: IRRequest, model: string): Json {
  const g: Json = {};
  const put = (key: string, value: unknown): void => {
    if (value !== undefined) g[key] = value;
  };
  put('maxOutputTokens', req.maxTokens);
  put('temperature', req.temperature);
  put('topP', req.topP);
  put('topK', req.topK);
  if (req.stop?.length) g.stopSequences = req.stop;
  put('seed', req.seed);
  put('presencePenalty', req.presencePenalty);
  put('frequencyPenalty', req.frequencyPenalty);
  put('candidateCount', req.n);
  const rf = req.responseFormat;
  if (rf?.type === 'json_object' || rf?.type === 'json_schema') g.responseMimeType = 'application/json';
  if (rf?.type === 'json_schema') g.responseJsonSchema = cleanSchema(rf.schema);
  const thinking = req.reasoning && encodeThinking(req.reasoning, model);
  if (thinking && Object.keys(thinking).length) g.thinkingConfig = thinking;
  return g;
}

/**
 * Reasoning → `thinkingConfig`. Gemini 3 models get `thinkingLevel` (from the effort, or from the
 * budget through the shared budget↔effort policy) and cannot switch thinking off, so "off" is their
 * lowest level. Older models get `thinkingBudget` (the explicit budget, else the effort's), clamped
 * to the 2.5 maxima (Flash 24576, Pro 32768); "off" is 0, except 2.5 Pro, which only runs with
 * thinking and gets its minimum of 128.
 */
function encodeThinking(r: IRReasoningConfig, model: string): Json {
  const out: Json = {};
  const off = r.enabled === false || r.effort === 'none';
  if (/gemini-3/i.test(model)) {
    const effort = off ? 'none' : (r.effort ?? (r.budgetTokens !== undefined ? budgetToEffort(r.budgetTokens) : undefined));
    if (effort) out.thinkingLevel = thinkingLevel(effort, model);
  } else if (off) {
    out.thinkingBudget = /2\.5-pro/i.test(model) ? 128 : 0;
  } else {
    const budget = r.budgetTokens ?? (r.effort ? effortToBudget(r.effort) : undefined);
    if (budget !== undefined) out.thinkingBudget = Math.min(budget, /flash/i.test(model) ? 24576 : 32768);
  }
  if (r.includeThoughts !== undefined && out.thinkingBudget !== 0) out.includeThoughts = r.includeThoughts;
  return out;
}

function thinkingLevel(effort: ReasoningEffort, model: string): string {
  if (effort === 'none' || effort === 'minimal') return /flash/i.test(model) ? 'MINIMAL' : 'LOW';
  if (effort === 'low') return 'LOW';
  return effort === 'medium' ? 'MEDIUM' : 'HIGH';
}
