/**
 * The answer side of the IR: responses, usage, errors and stream events (re-exported by `ir.ts`).
 *
 * @module
 */
import type { IRPart, WireFormat } from './ir.ts';

/** Why generation stopped, in the IR's vocabulary (mapping tables in WIRE-FORMATS §3.8). */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'pause' | 'error';

/** Token usage. `inputTokens` includes cached tokens; `outputTokens` includes reasoning tokens. */
export interface IRUsage {
  inputTokens: number;
  outputTokens: number;
  cachedTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

/** A complete (non-streamed) chat response. */
export interface IRResponse {
  id: string;
  model: string;
  /** Unix seconds. */
  created: number;
  content: IRPart[];
  finishReason: FinishReason;
  /** The matched stop sequence, only when the upstream reports it (Anthropic). */
  stopSequence?: string | null;
  usage?: IRUsage;
}

/** An error inside a stream, or decoded from an upstream error body. */
export interface IRError {
  /** HTTP status the error would have had (drives the client format's error type). */
  status: number;
  message: string;
  /** A stable machine code when known (`rate_limit_exceeded`, `overloaded_error` ...). */
  code?: string;
  /** The request parameter at fault, when known (rendered as OpenAI `param`). */
  param?: string;
}

/**
 * One event of a chat stream in the IR.
 *
 * Ordering guarantees decoders give encoders: `start` first; tool calls are numbered by `index`
 * (0, 1, 2 ... in order of appearance, independent of content-block positions) and each goes
 * `tool_call_start` → `tool_call_delta*` → `tool_call_end`; `usage` may come several times (each
 * one is cumulative and replaces the last); `finish` comes once, near the end; an `error` ends the
 * stream. Encoders hold their terminal event until the source ends, so a `usage` after `finish`
 * still lands in the final event.
 */
export type IRStreamEvent =
  | { type: 'start'; id: string; model: string; created?: number; usage?: Partial<IRUsage> }
  | { type: 'text_delta'; text: string; thoughtSignature?: string }
  | { type: 'refusal_delta'; text: string }
  | { type: 'reasoning_delta'; text: string }
  /** Ends the current reasoning block with its opaque token(s). */
  | { type: 'reasoning_end'; origin: WireFormat; signature?: string; encrypted?: string; id?: string }
  /** A complete redacted reasoning block (Anthropic `redacted_thinking`). */
  | { type: 'reasoning_redacted'; origin: WireFormat; data: string }
  | { type: 'tool_call_start'; index: number; id: string; name: string; thoughtSignature?: string }
  | { type: 'tool_call_delta'; index: number; arguments: string }
  | { type: 'tool_call_end'; index: number }
  | { type: 'usage'; usage: IRUsage }
  | { type: 'finish'; reason: FinishReason; stopSequence?: string | null }
  | { type: 'error'; error: IRError };

/** Sum of input and output tokens. */
export function totalTokens(u: IRUsage): number {
  return u.inputTokens + u.outputTokens;
}
