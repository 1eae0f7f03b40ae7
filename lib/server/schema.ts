/**
 * JSON schema of POST /v1/chat/completions, checked by Fastify (ajv) before the handler runs:
 * types and ranges of the OpenAI fields, plus vLLM's media kwargs and the `vidlm` object.
 * Content parts are checked by type in request.ts, so an unknown type names its own part.
 */
const url = { anyOf: [{ type: 'string' }, { type: 'object', required: ['url'], properties: { url: { type: 'string' } } }] };

export const chatCompletionBody = {
  type: 'object',
  required: ['messages'],
  properties: {
    model: { type: 'string' },
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: 1024,
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool'] },
          content: {
            anyOf: [
              { type: 'string' },
              { type: 'null' },
              {
                type: 'array',
                maxItems: 256,
                items: {
                  type: 'object',
                  required: ['type'],
                  properties: {
                    type: { type: 'string' },
                    text: { type: 'string' },
                    image_url: url,
                    video_url: url,
                    input_video: { type: 'object', properties: { data: { type: 'string' }, url: { type: 'string' }, format: { type: 'string' } } },
                    // OpenAI's audio part: base64 bytes of a wav or mp3 file
                    input_audio: { type: 'object', required: ['data'], properties: { data: { type: 'string', minLength: 1 }, format: { type: 'string', enum: ['wav', 'mp3'] } } },
                  },
                },
              },
            ],
          },
          name: { type: 'string' },
          // checked in tools.ts, which names the bad field
          tool_calls: { anyOf: [{ type: 'null' }, { type: 'array', maxItems: 128 }] },
          tool_call_id: { type: 'string', maxLength: 256 },
        },
      },
    },
    stream: { type: 'boolean' },
    stream_options: { anyOf: [{ type: 'null' }, { type: 'object', properties: { include_usage: { type: 'boolean' } } }] },
    temperature: { anyOf: [{ type: 'null' }, { type: 'number', minimum: 0, maximum: 2 }] },
    top_p: { anyOf: [{ type: 'null' }, { type: 'number', minimum: 0, maximum: 1 }] },
    max_tokens: { anyOf: [{ type: 'null' }, { type: 'integer', minimum: 1, maximum: 1048576 }] },
    max_completion_tokens: { anyOf: [{ type: 'null' }, { type: 'integer', minimum: 1, maximum: 1048576 }] },
    stop: { anyOf: [{ type: 'null' }, { type: 'string' }, { type: 'array', maxItems: 16, items: { type: 'string' } }] },
    seed: { anyOf: [{ type: 'null' }, { type: 'integer', minimum: 0, maximum: 4294967295 }] },
    n: { anyOf: [{ type: 'null' }, { type: 'integer', minimum: 1, maximum: 128 }] },
    logprobs: { anyOf: [{ type: 'null' }, { type: 'boolean' }] },
    top_logprobs: { anyOf: [{ type: 'null' }, { type: 'integer' }] },
    tools: { anyOf: [{ type: 'null' }, { type: 'array', maxItems: 128 }] },
    tool_choice: {},
    parallel_tool_calls: { anyOf: [{ type: 'null' }, { type: 'boolean' }] },
    response_format: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { type: 'string', enum: ['text', 'json_object', 'json_schema'] },
        json_schema: { type: 'object', properties: { name: { type: 'string' }, schema: { type: 'object' }, strict: { anyOf: [{ type: 'boolean' }, { type: 'null' }] } } },
      },
    },
    media_io_kwargs: {
      type: 'object',
      properties: {
        video: { type: 'object', properties: { num_frames: { type: 'integer', minimum: 1, maximum: 100000 }, fps: { type: 'number', exclusiveMinimum: 0, maximum: 240 } } },
      },
    },
    mm_processor_kwargs: { type: 'object', properties: { fps: { type: 'number', exclusiveMinimum: 0, maximum: 240 } } },
    // vLLM's Efficient Video Sampling: the share of the video's tokens pruned (vidlm: reduce { ratio: 1 - p })
    video_pruning_rate: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
    vidlm: {
      type: 'object',
      additionalProperties: false,
      properties: {
        strategy: { type: 'string', enum: ['auto', 'concat', 'slowfast', 'pllava', 'bilinear', 'vcgpt', 'native'] },
        frames: { type: 'integer', minimum: 1, maximum: 100000 },
        fps: { type: 'number', exclusiveMinimum: 0, maximum: 240 },
        segment: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'number', minimum: 0 } },
        timeTokens: { type: 'string', enum: ['none', 'text', 'lita', 'model'] },
        preamble: { type: 'boolean' },
        audio: { anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['interleave', 'prefix'] }] },
        audioWindow: { type: 'number', exclusiveMinimum: 0, maximum: 3600 },
        audioLength: { type: 'string', enum: ['real', 'padded'] },
        // a track (true, a language tag, a stream index) or a .srt/.vtt/.ass file inside --media-path (request.ts checks which)
        subtitles: { anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 0, maximum: 1000 }, { type: 'string', minLength: 1, maxLength: 4096 }] },
        // 'off' | 'auto' | { tokens } | { ratio } (lib/reduce/option.ts checks the object's fields)
        reduce: { anyOf: [{ type: 'string', enum: ['off', 'auto'] }, { type: 'object' }] },
      },
    },
  },
} as const;
