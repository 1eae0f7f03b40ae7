/**
 * model.chat(): a chat about a video plan the caller assembled. Model (lib/model.ts) loads,
 * encodes and makes contexts and knows nothing of chats or the pipeline; this module gives it
 * the method (lib/index.ts loads it with the public API), so the layers point down.
 */
import type { SequencePlan } from '../assembly/types.js';
import { CHAT_SEQUENCES, type Chat } from '../inference/chat.js';
import type { Context } from '../inference/context.js';
import { VidlmError } from '../errors.js';
import { Model, type CreateContextOptions } from '../model.js';
import { startChat, type ChatStartOptions } from './start.js';

export interface ChatOptions extends ChatStartOptions {
  /** Context to use (must be fresh; the caller keeps it and disposes it); by default one is created with `contextOptions` and owned by the chat. */
  context?: Context;
  /** Options of the context the chat creates; `sequences` defaults to 4 (the chat and three forks). */
  contextOptions?: CreateContextOptions;
}

declare module '../model.js' {
  interface Model {
    /**
     * Starts a chat about a video: the video plan (from a strategy) is evaluated once, each
     * question then evaluates only its own tokens, and chat.fork() branches without re-evaluating.
     */
    chat(video: SequencePlan, opts?: ChatOptions): Promise<Chat>;
  }
}

Model.prototype.chat = async function chat(this: Model, video: SequencePlan, opts: ChatOptions = {}): Promise<Chat> {
  if (this.disposed) throw new VidlmError('ERR_DISPOSED', 'the model was disposed');
  if (opts.context) return (await startChat(this, opts.context, video, opts)).chat;
  // the chat owns the context it creates: disposing the chat (and its forks) frees it
  const context = await this.createContext({ sequences: CHAT_SEQUENCES, ...opts.contextOptions });
  try {
    return (await startChat(this, context, video, opts, { ownsContext: true })).chat;
  } catch (e) {
    context.dispose();
    throw e;
  }
};
