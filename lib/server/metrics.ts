/** The server's Prometheus metrics (prom-client), in a registry of its own so servers do not mix. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  requests: Counter<'status'>;
  errors: Counter<'code'>;
  queueDepth: Gauge;
  slotsBusy: Gauge;
  stage: Histogram<'stage'>;
  cacheHits: Counter;
  cacheMisses: Counter;
  tokensPerSecond: Histogram;
  promptTokens: Counter;
  cachedTokens: Counter;
  completionTokens: Counter;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vidlm_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({ name: 'vidlm_requests_total', help: 'Chat completion requests by HTTP status', labelNames: ['status'], registers }),
    errors: new Counter({ name: 'vidlm_errors_total', help: 'Failed chat completion requests by error code', labelNames: ['code'], registers }),
    queueDepth: new Gauge({ name: 'vidlm_queue_depth', help: 'Requests waiting for a slot', registers }),
    slotsBusy: new Gauge({ name: 'vidlm_slots_busy', help: 'Slots running a request', registers }),
    stage: new Histogram({
      name: 'vidlm_stage_seconds', help: 'Time of each stage of a request: decode, encode, prefill, generate', labelNames: ['stage'], registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    }),
    cacheHits: new Counter({ name: 'vidlm_encode_cache_hits_total', help: 'Frames whose embeddings came from the cache', registers }),
    cacheMisses: new Counter({ name: 'vidlm_encode_cache_misses_total', help: 'Frames the encoder ran on', registers }),
    tokensPerSecond: new Histogram({
      name: 'vidlm_generated_tokens_per_second', help: 'Generation speed of each request', registers,
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
    }),
    promptTokens: new Counter({ name: 'vidlm_prompt_tokens_total', help: 'Prompt tokens of all requests (cached included)', registers }),
    cachedTokens: new Counter({ name: 'vidlm_cached_prompt_tokens_total', help: 'Prompt tokens reused from a slot\'s KV cache', registers }),
    completionTokens: new Counter({ name: 'vidlm_completion_tokens_total', help: 'Generated tokens', registers }),
  };
}
