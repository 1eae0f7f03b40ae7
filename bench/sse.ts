/**
 * The JSON payloads of an OpenAI-style server-sent event stream, in order (`[DONE]` and empty
 * events skipped): the reading both server benches do on vidlm serve and llama-server alike.
 */
export async function* sseJson(body: AsyncIterable<unknown>): AsyncGenerator<any> {
  const dec = new TextDecoder();
  let buf = '';
  for await (const bytes of body) {
    buf += dec.decode(bytes as Uint8Array, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, i); buf = buf.slice(i + 2);
      const data = ev.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('');
      if (!data || data === '[DONE]') continue;
      yield JSON.parse(data);
    }
  }
}
