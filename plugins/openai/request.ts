/**
 * OpenAI Chat Completions requests: client body → IR (`decodeRequest`). The IR → upstream
 * direction lives in `request-encode.ts` and is re-exported here.
 *
 * @module
 */
import type { DecodeOptions } from '../../core/codec.ts';
import { invalidRequest } from '../../core/errors.ts';
import type { IRRequest, IRResponseFormat, IRTool, IRToolChoice, ReasoningEffort } from '../../core/ir.ts';
import { decodeMessages } from './request-messages.ts';
import { isObj, type Json, optNumber, str } from './wire.ts';

export { encodeRequest } from './request-encode.ts';

const EFFORTS: readonly string[] = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'];

/** Decodes a Chat Completions request body into the IR, validating the fields it relies on. */
export function decodeRequest(body: Json, opts: DecodeOptions = {}): IRRequest {
  if (!isObj(body)) throw invalidRequest('request body must be a JSON object');
  const model = opts.model ?? body.model;
  if (typeof model !== 'string' || !model) throw invalidRequest('"model" must be a non-empty string', 'model');
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw invalidRequest('"messages" must be a non-empty array', 'messages');
  }
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') {
    throw invalidRequest('"stream" must be a boolean', 'stream');
  }
  const req: IRRequest = { model, ...decodeMessages(body.messages), stream: opts.stream ?? body.stream === true };

  const tools = decodeTools(body);
  if (tools) req.tools = tools;
  const toolChoice = decodeToolChoice(body);
  if (toolChoice) req.toolChoice = toolChoice;
  if (typeof body.parallel_tool_calls === 'boolean') req.parallelToolCalls = body.parallel_tool_calls;
  if (!Array.isArray(body.tools) && Array.isArray(body.functions)) {
    // §4 #40: the answer goes back as one `function_call`; the legacy API never made parallel calls.
    req.legacyFunctions = true;
    if (req.tools) req.parallelToolCalls ??= false;
  }

  const maxTokens = optNumber(body, 'max_completion_tokens') ?? optNumber(body, 'max_tokens');
  if (maxTokens !== undefined) req.maxTokens = maxTokens;
  const numeric = [
    ['temperature', 'temperature'],
    ['top_p', 'topP'],
    ['seed', 'seed'],
    ['presence_penalty', 'presencePenalty'],
    ['frequency_penalty', 'frequencyPenalty'],
    ['n', 'n'],
  ] as const;
  for (const [wire, key] of numeric) {
    const v = optNumber(body, wire);
    if (v !== undefined) req[key] = v;
  }

  const stop = body.stop;
  if (typeof stop === 'string') req.stop = [stop];
  else if (Array.isArray(stop)) req.stop = stop.filter((s): s is string => typeof s === 'string');
  else if (stop !== undefined && stop !== null) throw invalidRequest('"stop" must be a string or an array', 'stop');

  const responseFormat = decodeResponseFormat(body.response_format);
  if (responseFormat) req.responseFormat = responseFormat;

  const effort = body.reasoning_effort;
  if (effort !== undefined && effort !== null) {
    if (typeof effort !== 'string' || !EFFORTS.includes(effort)) {
      throw invalidRequest(`"reasoning_effort" must be one of ${EFFORTS.join(', ')}`, 'reasoning_effort');
    }
    req.reasoning = effort === 'none' ? { enabled: false, effort: 'none' } : { effort: effort as ReasoningEffort };
  }

  if (isObj(body.stream_options) && typeof body.stream_options.include_usage === 'boolean') {
    req.includeUsage = body.stream_options.include_usage;
  }
  const user = str(body.safety_identifier) ?? str(body.user);
  if (user) req.user = user;
  if (isObj(body.metadata)) {
    const entries = Object.entries(body.metadata).filter((e): e is [string, string] => typeof e[1] === 'string');
    if (entries.length) req.metadata = Object.fromEntries(entries);
  }
  return req;
}

function decodeTools(body: Json): IRTool[] | undefined {
  const out: IRTool[] = [];
  const add = (fn: Json, at: string, strict?: unknown) => {
    const name = str(fn.name);
    if (!name) throw invalidRequest(`"${at}.name" must be a non-empty string`, `${at}.name`);
    const tool: IRTool = { name, parameters: isObj(fn.parameters) ? fn.parameters : { type: 'object', properties: {} } };
    if (str(fn.description)) tool.description = fn.description as string;
    if (typeof strict === 'boolean') tool.strict = strict;
    out.push(tool);
  };
  if (Array.isArray(body.tools)) {
    body.tools.forEach((t, i) => {
      if (!isObj(t)) throw invalidRequest(`"tools[${i}]" must be an object`, `tools[${i}]`);
      if (t.type === 'custom') throw invalidRequest('custom tools cannot be converted to the target format', `tools[${i}]`);
      if (t.type === 'function' && isObj(t.function)) add(t.function, `tools[${i}].function`, t.function.strict);
    });
  } else if (Array.isArray(body.functions)) {
    body.functions.forEach((f, i) => {
      if (!isObj(f)) throw invalidRequest(`"functions[${i}]" must be an object`, `functions[${i}]`);
      add(f, `functions[${i}]`);
    });
  }
  return out.length ? out : undefined;
}

function decodeToolChoice(body: Json): IRToolChoice | undefined {
  const tc = body.tool_choice ?? body.function_call;
  const param = body.tool_choice !== undefined && body.tool_choice !== null ? 'tool_choice' : 'function_call';
  if (tc === undefined || tc === null) return undefined;
  if (tc === 'auto' || tc === 'none' || tc === 'required') return { type: tc };
  if (isObj(tc)) {
    const fnName = isObj(tc.function) ? str(tc.function.name) : str(tc.name);
    if ((tc.type === 'function' || param === 'function_call') && fnName) return { type: 'tool', name: fnName };
    const allowed = tc.allowed_tools;
    if (tc.type === 'allowed_tools' && isObj(allowed) && Array.isArray(allowed.tools)) {
      const names = allowed.tools.flatMap((t) => (isObj(t) && isObj(t.function) && str(t.function.name) ? [t.function.name as string] : []));
      return { type: 'allowed', mode: allowed.mode === 'required' ? 'required' : 'auto', names };
    }
  }
  throw invalidRequest(`"${param}" is not a supported tool choice`, param);
}

function decodeResponseFormat(rf: unknown): IRResponseFormat | undefined {
  if (rf === undefined || rf === null) return undefined;
  if (!isObj(rf)) throw invalidRequest('"response_format" must be an object', 'response_format');
  if (rf.type === 'text' || rf.type === 'json_object') return { type: rf.type };
  if (rf.type === 'json_schema') {
    const js = rf.json_schema;
    if (!isObj(js)) throw invalidRequest('"response_format.json_schema" must be an object', 'response_format.json_schema');
    const out: IRResponseFormat = { type: 'json_schema', schema: isObj(js.schema) ? js.schema : {} };
    if (str(js.name)) out.name = js.name as string;
    if (str(js.description)) out.description = js.description as string;
    if (typeof js.strict === 'boolean') out.strict = js.strict;
    return out;
  }
  throw invalidRequest('"response_format.type" must be text, json_object or json_schema', 'response_format.type');
}
