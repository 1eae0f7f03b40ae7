/** versions(): vidlm, llama.cpp, and the ggml backends and devices this build sees. */
import { native, type NativeVersions } from './native.js';

export type Versions = NativeVersions;

export function versions(): Versions {
  return native().versions();
}
