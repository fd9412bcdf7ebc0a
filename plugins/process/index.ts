/**
 * The `processProvider()`: serves chat requests by running a local command per request — a model
 * CLI such as `ollama run`, `llm`, `claude -p` or a script of your own. The prompt goes in on
 * stdin or as an argument, stdout streams back as text deltas.
 *
 * - No shell: `command` is executed directly with `args` as an array, so nothing in a prompt is
 *   ever interpreted by a shell. `{model}` in an argument becomes the target's model name,
 *   `{prompt}` (with `input: 'arg'`) the prompt.
 * - Errors: a missing command → 502 `upstream_unreachable`; a run longer than `timeoutMs` → 504
 *   `upstream_timeout`; a non-zero exit → 502 `process_failed`, or the status `exitCodes` maps
 *   it to (4xx statuses show the last stderr line, scrubbed of key-like strings). After the
 *   first streamed byte a failure becomes the client format's in-stream error event.
 * - The process is killed (SIGTERM, then SIGKILL) when the client disconnects or stops reading.
 * - Concurrency: at most `maxConcurrency` processes run at once per provider; up to `maxQueue`
 *   more requests wait in FIFO order (a waiting request whose client leaves gives up its place),
 *   and beyond that the provider answers 503 `overloaded` with `Retry-After: 1`, which `failover`
 *   treats as a reason to try another target. The limit belongs to the provider instance: after
 *   a config reload, processes of the draining version still run beside the new version's.
 *
 * @module
 */
import { ConfigError, GatewayError, invalidRequest, UpstreamError } from '../../core/errors.ts';
import type { IRPart, IRRequest, IRStreamEvent, IRUsage } from '../../core/ir.ts';
import type { GatewayResult, Provider, ProviderCall } from '../../core/plugin.ts';
import { newId, nowSeconds } from '../shared/codec-util.ts';
import { createLimiter, startRun, type Run } from './run.ts';

/** Options for {@link processProvider}. */
export interface ProcessOptions {
  /** The executable: a path or a name looked up on `PATH`. Never run through a shell. */
  command: string;
  /** Arguments; `{model}` becomes the target model, `{prompt}` the prompt (with `input: 'arg'`). @default [] */
  args?: string[];
  /** How the prompt reaches the command: written to stdin, or as an argument (`{prompt}`, else appended last). @default 'stdin' */
  input?: 'stdin' | 'arg';
  /** Longest one run may take, from start to exit (ms). @default 300_000 */
  timeoutMs?: number;
  /** Processes running at once. @default 2 */
  maxConcurrency?: number;
  /** Requests waiting for a slot before new ones get 503. @default 16 */
  maxQueue?: number;
  /** Working directory. @default the gateway's */
  cwd?: string;
  /** The command's environment. @default the gateway's own (`process.env`, upstream keys included: pass a smaller one to keep them from the command) */
  env?: Record<string, string | undefined>;
  /** Turns the request into the text fed to the command. @default {@link renderPrompt} */
  prompt?: (ir: IRRequest) => string;
  /** Exit code → HTTP status for the client (e.g. `{ 2: 400 }`); other non-zero codes are 502. @default {} */
  exitCodes?: Record<number, number>;
  /** Largest non-streamed answer, in characters (the process is killed past it). @default 4_194_304 */
  maxOutputChars?: number;
}

/** A process provider, with its live counters. */
export interface ProcessProvider extends Provider {
  /** Processes running and requests waiting, now. */
  stats(): { running: number; queued: number };
}

const estimate = (chars: number) => Math.max(1, Math.ceil(chars / 4));

function partText(p: IRPart): string {
  if (p.type === 'text' || p.type === 'refusal') return p.text;
  if (p.type === 'image') return '[image]';
  if (p.type === 'document') return '[document]';
  if (p.type === 'tool_call') return `[tool call ${p.name}(${p.arguments})]`;
  if (p.type === 'tool_result') return `[tool result: ${typeof p.content === 'string' ? p.content : p.content.map(partText).join('')}]`;
  return ''; // reasoning is not replayed
}

/**
 * The default prompt: a single user message as is; anything longer as a plain transcript
 * (`System:`, `User:`, `Assistant:` paragraphs).
 *
 * @example
 * ```ts
 * processProvider({ command: 'llm', prompt: (ir) => renderPrompt(ir) + '\n\nAnswer briefly.' })
 * ```
 */
export function renderPrompt(ir: IRRequest): string {
  const system = ir.system.map((s) => s.text).join('\n\n');
  const only = ir.messages.length === 1 ? ir.messages[0] : undefined;
  if (!system && only?.role === 'user') return only.content.map(partText).join('');
  const lines = system ? [`System: ${system}`] : [];
  for (const m of ir.messages) lines.push(`${m.role === 'user' ? 'User' : 'Assistant'}: ${m.content.map(partText).join('')}`);
  return lines.join('\n\n');
}

/**
 * A provider that runs a local command per request.
 *
 * @example
 * ```ts
 * providers: {
 *   local: processProvider({ command: 'ollama', args: ['run', '{model}'], input: 'stdin', maxConcurrency: 1 }),
 * },
 * models: { llama: { provider: 'local', model: 'llama3.2' } },
 * ```
 */
export function processProvider(opts: ProcessOptions): ProcessProvider {
  if (!opts.command || typeof opts.command !== 'string') throw new ConfigError('processProvider: "command" is required');
  const max = opts.maxConcurrency ?? 2;
  const maxQueue = opts.maxQueue ?? 16;
  if (!Number.isInteger(max) || max < 1) throw new ConfigError('processProvider: "maxConcurrency" must be a positive integer');
  if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new ConfigError('processProvider: "maxQueue" must be an integer, 0 or more');
  const limiter = createLimiter(max, maxQueue);
  const maxChars = opts.maxOutputChars ?? 4 * 1024 * 1024;

  function start(call: ProviderCall, prompt: string): Run {
    const model = call.target.model;
    // Replacer functions: a prompt holding `$&` or `$'` must not be read as a replacement pattern.
    let args = (opts.args ?? []).map((a) => a.replaceAll('{model}', () => model));
    if (opts.input === 'arg') {
      args = args.some((a) => a.includes('{prompt}')) ? args.map((a) => a.replaceAll('{prompt}', () => prompt)) : [...args, prompt];
    }
    const run = startRun({
      provider: call.name,
      command: opts.command,
      args,
      stdin: opts.input === 'arg' ? undefined : prompt,
      cwd: opts.cwd,
      env: opts.env,
      timeoutMs: call.target.timeoutMs ?? opts.timeoutMs ?? 300_000,
      exitCodes: opts.exitCodes ?? {},
      signal: call.signal,
    });
    call.logger.debug({ provider: call.name, pid: run.pid, command: opts.command }, 'process started');
    return run;
  }

  return {
    kind: 'process',
    format: 'ir',
    stats: () => limiter.stats(),
    async call(call: ProviderCall): Promise<GatewayResult> {
      const req = call.request;
      if (req.operation !== 'chat') {
        throw new GatewayError('unsupported_operation', `the process provider does not support ${req.operation}`, { status: 400 });
      }
      const prompt = (opts.prompt ?? renderPrompt)(req.ir);
      if (opts.input === 'arg' && prompt.includes('\0')) {
        // The OS cannot pass it (spawn would throw): the request is at fault, not the gateway.
        throw invalidRequest('the prompt contains a NUL character, which cannot be passed as a command argument', 'messages');
      }
      const release = await limiter.acquire(call.signal, call.name);
      let run: Run;
      try {
        run = start(call, prompt);
      } catch (err) {
        release();
        throw err;
      }
      void run.closed.then(release);
      // A plugin may replace or drop the result unread: the process would then block on a full
      // pipe and hold its slot for ever. Once the request has ended, it is stopped (a no-op when
      // it already exited).
      call.onDone?.(() => run.kill());
      const id = newId('proc_');
      const created = nowSeconds();
      const model = call.target.model;
      const usage = (outChars: number): IRUsage => ({ inputTokens: estimate(prompt.length), outputTokens: estimate(outChars) });
      if (!req.stream) {
        let text = '';
        for await (const chunk of run.output) {
          text += chunk;
          if (text.length > maxChars) {
            run.kill();
            throw new UpstreamError('output_too_large', `process "${call.name}" wrote more than ${maxChars} characters`, { status: 502, provider: call.name });
          }
        }
        return { type: 'ir', response: { id, model, created, content: [{ type: 'text', text }], finishReason: 'stop', usage: usage(text.length) } };
      }
      // Wait for the first output (or the failure) so an early error is still a proper HTTP error.
      const first = await run.output.next();
      async function* events(): AsyncGenerator<IRStreamEvent> {
        let chars = 0; // counted, not kept: nothing is buffered
        yield { type: 'start', id, model, created, usage: { inputTokens: estimate(prompt.length) } };
        if (!first.done) {
          chars += first.value.length;
          yield { type: 'text_delta', text: first.value };
          for await (const text of run.output) {
            chars += text.length;
            yield { type: 'text_delta', text };
          }
        }
        yield { type: 'finish', reason: 'stop' };
        yield { type: 'usage', usage: usage(chars) };
      }
      return { type: 'ir-stream', events: events() };
    },
  };
}
