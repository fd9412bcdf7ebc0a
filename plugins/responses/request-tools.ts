/**
 * The tools of a client Responses request → IR: `function` tools, freeform `custom` tools (see
 * custom.ts), both also inside `namespace` tools (flattened to `ns__name`, the namespace kept for
 * the answer), and `tool_choice`. Hosted tools (`web_search` …) have no IR form and are dropped.
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import type { IRTool, IRToolChoice } from '../../core/ir.ts';
import { decodeCustomTool } from './custom.ts';
import { flatToolName, isObj, requireStr, str, type Json } from './wire.ts';

/**
 * `tools` → IR tools; undefined when absent or only hosted tools remain.
 *
 * @example
 * ```ts
 * decodeTools([{ type: 'function', name: 'shell', parameters: {...} }, { type: 'web_search' }]); // [{ name: 'shell', ... }]
 * ```
 */
export function decodeTools(tools: unknown): IRTool[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw invalidRequest('"tools" must be an array', 'tools');
  const out: IRTool[] = [];
  tools.forEach((t: unknown, i) => {
    const at = `tools[${i}]`;
    if (!isObj(t)) throw invalidRequest(`"${at}" must be an object`, at);
    if (t.type === 'function' || t.type === 'custom') out.push(ownTool(t, at));
    else if (t.type === 'namespace' && Array.isArray(t.tools)) {
      const ns = requireStr(t.name, `${at}.name`);
      t.tools.forEach((nt: unknown, j) => {
        if (isObj(nt) && (nt.type === 'function' || nt.type === 'custom')) out.push(ownTool(nt, `${at}.tools[${j}]`, ns, str(t.description)));
      });
    }
  });
  return out.length ? out : undefined;
}

/** A `function` or `custom` tool, possibly declared inside the namespace `namespace`. */
function ownTool(t: Json, at: string, namespace?: string, nsDescription?: string): IRTool {
  const own = requireStr(t.name, `${at}.name`);
  const name = flatToolName(own, namespace);
  const description = str(t.description) || nsDescription;
  let tool: IRTool;
  if (t.type === 'custom') tool = decodeCustomTool(t, name, description);
  else {
    const parameters = isObj(t.parameters) ? t.parameters : { type: 'object', properties: {} };
    tool = { name, parameters };
    if (description) tool.description = description;
    if (typeof t.strict === 'boolean') tool.strict = t.strict;
  }
  if (namespace) tool.namespaced = { namespace, name: own };
  return tool;
}

/**
 * `tool_choice` → IR; a `custom` tool counts like a function. Undefined for hosted-tool choices.
 *
 * @example
 * ```ts
 * decodeToolChoice({ type: 'custom', name: 'apply_patch' }); // { type: 'tool', name: 'apply_patch' }
 * ```
 */
export function decodeToolChoice(tc: unknown): IRToolChoice | undefined {
  if (tc === undefined || tc === null) return undefined;
  if (tc === 'auto' || tc === 'none' || tc === 'required') return { type: tc };
  if (!isObj(tc)) throw invalidRequest('"tool_choice" must be "none", "auto", "required" or an object', 'tool_choice');
  if (tc.type === 'function' || tc.type === 'custom') {
    return { type: 'tool', name: flatToolName(requireStr(tc.name, 'tool_choice.name'), tc.namespace) };
  }
  if (tc.type === 'allowed_tools') {
    const names = (Array.isArray(tc.tools) ? tc.tools : [])
      .filter((t): t is Json => isObj(t) && (t.type === 'function' || t.type === 'custom') && typeof t.name === 'string')
      .map((t) => flatToolName(t.name as string, t.namespace));
    return { type: 'allowed', mode: tc.mode === 'required' ? 'required' : 'auto', names };
  }
  return undefined; // hosted-tool choices have no IR form: the model decides
}
