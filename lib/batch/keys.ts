/**
 * Journal keys live in two namespaces, `id:` for a job's id and `line:` for a jobs-file line
 * without one, so that no id (`"line:2"` included) can stand for a line, or the other way round.
 */
export const idKey = (id: string): string => `id:${id}`;
export const lineKey = (line: number): string => `line:${line}`;
