#!/usr/bin/env node
/**
 * The `vidlm` command. Each sub-command lives in lib/commands/<name>.ts and exports
 * `run(args: string[]): Promise<number>` (the exit code); this file only dispatches.
 * Errors with a `code` are printed as `vidlm: CODE: message` on stderr.
 */
import { VidlmError } from './errors.js';

type Command = { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  version: { summary: 'print vidlm, llama.cpp and backend versions', load: () => import('./commands/version.js') },
  inspect: { summary: 'load a model and its mmproj and print their shapes', load: () => import('./commands/inspect.js') },
  ask: { summary: 'ask a question about a video or image', load: () => import('./commands/ask.js') },
  localize: { summary: 'find when an event happens in a video (start and end seconds)', load: () => import('./commands/localize.js') },
  describe: { summary: 'describe a video (or its sound, with --audio)', load: () => import('./commands/describe.js') },
  info: { summary: 'probe a video, image or stream: duration, fps, size, codec, audio', load: () => import('./commands/info.js') },
  frames: { summary: 'sample frames with a plan and write them as PNG files', load: () => import('./commands/frames.js') },
  watch: { summary: 'answer every few seconds about a live stream or a file (--when: events)', load: () => import('./commands/watch.js') },
  batch: { summary: 'run a jobs.jsonl file here, or queue it for workers on Redis (--queue)', load: () => import('./commands/batch.js') },
  worker: { summary: 'run queued batch jobs from Redis (BullMQ) on this machine', load: () => import('./commands/worker.js') },
  serve: { summary: 'OpenAI-compatible HTTP server for video questions (/v1/chat/completions)', load: () => import('./commands/serve.js') },
  eval: { summary: 'score saved answers: eval localize|qa --pred P.jsonl --gt G.json', load: () => import('./commands/eval.js') },
};

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: vidlm <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nvidlm <command> --help shows a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v') return main(['version', ...rest]);
  const command = commands[name];
  if (!command) {
    process.stderr.write(`vidlm: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof VidlmError) process.stderr.write(`vidlm: ${err.code}: ${err.message}\n`);
    else if (err instanceof Error && (err as { code?: string }).code) process.stderr.write(`vidlm: ${(err as { code?: string }).code}: ${err.message}\n`);
    else process.stderr.write(`vidlm: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
