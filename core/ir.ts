/**
 * The intermediate representation (IR) every wire format converts through.
 *
 * Four formats, eight directions, no pairwise converters: each codec decodes its wire shape into
 * these types and encodes them back. The IR is computed lazily — only when a plugin asks for it or
 * the client's format differs from the provider's — so passthrough never pays for it.
 *
 * Conventions:
 * - Tool-call `arguments` are JSON *text* (as OpenAI sends them), so streamed fragments concatenate.
 * - Tool results live as parts of a `user` message (the strictest grouping, Anthropic's); encoders
 *   for formats with a `tool` role split them out.
 * - Provider-specific opaque tokens (thinking signatures, encrypted reasoning, Gemini
 *   `thoughtSignature`) carry the `origin` format that produced them; an encoder only emits tokens
 *   whose origin is its own format and drops the rest cleanly.
 *
 * @module
 */

/** The four wire formats the gateway speaks, on either side. */
export type WireFormat = 'openai' | 'anthropic' | 'gemini' | 'responses';

/** What a request asks for; chat-like operations go through the IR, the rest are passthrough only. */
export type Operation = 'chat' | 'completions' | 'embeddings' | 'count_tokens';

/** Anthropic-style prompt caching hint, kept only when the target is Anthropic. */
export type CacheControl = { type: 'ephemeral'; ttl?: '5m' | '1h' };

/** A plain text part. `thoughtSignature` is Gemini's opaque token when it sits on a text part. */
export interface IRText {
  type: 'text';
  text: string;
  cacheControl?: CacheControl;
  /** Opaque Gemini thought signature attached to this exact part (origin: gemini). */
  thoughtSignature?: string;
}

/** An image, inline (base64 without the `data:` prefix) or by URL. */
export interface IRImage {
  type: 'image';
  source: { kind: 'base64'; mediaType: string; data: string } | { kind: 'url'; url: string };
  detail?: 'auto' | 'low' | 'high' | 'original';
  cacheControl?: CacheControl;
}

/** A document (PDF and other files), inline base64, by URL, or by provider file id. */
export interface IRDocument {
  type: 'document';
  source:
    | { kind: 'base64'; mediaType: string; data: string }
    | { kind: 'url'; url: string; mediaType?: string }
    | { kind: 'file'; fileId: string };
  filename?: string;
  cacheControl?: CacheControl;
}

/** An assistant's request to call a tool. `arguments` is JSON text (`"{}"` when empty). */
export interface IRToolCall {
  type: 'tool_call';
  id: string;
  name: string;
  arguments: string;
  /** Opaque Gemini thought signature carried on the functionCall part (origin: gemini). */
  thoughtSignature?: string;
}

/** The result of a tool call, sent back by the user side. */
export interface IRToolResult {
  type: 'tool_result';
  callId: string;
  /** The tool's name when known (Gemini requires it; decoders of other formats look it up). */
  name?: string;
  content: string | Array<IRText | IRImage | IRDocument>;
  isError?: boolean;
  cacheControl?: CacheControl;
}

/**
 * Model reasoning. `text` is the visible thinking or summary; `signature` / `redacted` /
 * `encrypted` are opaque continuity tokens that only the `origin` format understands.
 */
export interface IRReasoning {
  type: 'reasoning';
  text: string;
  /** Which format produced the opaque tokens; other formats must drop them. */
  origin?: WireFormat;
  /** Anthropic `thinking.signature`. */
  signature?: string;
  /** Anthropic `redacted_thinking.data` (the block has no visible text). */
  redacted?: string;
  /** OpenAI Responses `reasoning.encrypted_content`. */
  encrypted?: string;
  /** OpenAI Responses reasoning item id (`rs_...`). */
  id?: string;
}

/** A refusal (OpenAI `refusal`); encoders without the concept render it as text. */
export interface IRRefusal {
  type: 'refusal';
  text: string;
}

/** Any content part. */
export type IRPart = IRText | IRImage | IRDocument | IRToolCall | IRToolResult | IRReasoning | IRRefusal;

/** One conversation turn. System text lives in {@link IRRequest.system}, not here. */
export interface IRMessage {
  role: 'user' | 'assistant';
  content: IRPart[];
}

/** A function tool the model may call. `parameters` is JSON Schema (always an object schema). */
export interface IRTool {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
  strict?: boolean;
  cacheControl?: CacheControl;
  /**
   * Set when a Responses client declared the tool inside a `namespace` tool: the namespace and the
   * tool's own name there (`name` above is then the flat `ns__tool` form every format sees).
   */
  namespaced?: { namespace: string; name: string };
  /**
   * Set for a freeform tool (a Responses `custom` tool, e.g. Codex CLI's `apply_patch`), with the
   * client's input `format` (`{ type: 'text' }` or `{ type: 'grammar', syntax, definition }`).
   * Other formats see it as a function with one required string parameter `input` (`parameters`
   * above); its calls go back to a Responses client as `custom_tool_call` items carrying that raw
   * `input`, and to a Responses upstream it is declared as the original `custom` tool.
   */
  custom?: { format?: Record<string, unknown> };
}

/** Which tools the model may or must call. */
export type IRToolChoice =
  | { type: 'auto' }
  | { type: 'none' }
  | { type: 'required' }
  | { type: 'tool'; name: string }
  | { type: 'allowed'; mode: 'auto' | 'required'; names: string[] };

/** Structured output request. */
export type IRResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name?: string; description?: string; schema: Record<string, unknown>; strict?: boolean };

/** Reasoning effort levels across formats. */
export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max';

/** Reasoning configuration; each encoder maps effort <-> budget with one documented policy. */
export interface IRReasoningConfig {
  /** Off explicitly (Anthropic `disabled`, Gemini budget 0, OpenAI effort `none`). */
  enabled?: boolean;
  effort?: ReasoningEffort;
  budgetTokens?: number;
  /** Ask the model to return its thinking / summary text. */
  includeThoughts?: boolean;
}

/** A chat request in the IR. */
export interface IRRequest {
  model: string;
  /** System/developer instructions, in order, one entry per original block. */
  system: IRText[];
  messages: IRMessage[];
  tools?: IRTool[];
  toolChoice?: IRToolChoice;
  parallelToolCalls?: boolean;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stop?: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Number of choices; only Chat and Gemini can honour more than one. */
  n?: number;
  responseFormat?: IRResponseFormat;
  reasoning?: IRReasoningConfig;
  stream: boolean;
  /** OpenAI `stream_options.include_usage` (always honoured upstream; this records the client's wish). */
  includeUsage?: boolean;
  /**
   * An OpenAI Chat client declared its tools with the legacy `functions` (no `tools`): it reads
   * `message.function_call` / `finish_reason:"function_call"`, never `tool_calls` (§4 #40).
   * Records the client's shape only; upstream encoders ignore it.
   */
  legacyFunctions?: boolean;
  /** End-user id (OpenAI `user`/`safety_identifier`, Anthropic `metadata.user_id`). */
  user?: string;
  metadata?: Record<string, string>;
}

export * from './ir-response.ts';
