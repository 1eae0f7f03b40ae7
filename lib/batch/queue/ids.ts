/**
 * A job line's id as a BullMQ job id. BullMQ refuses ids that are integers or contain ':', so
 * the id is URI-encoded behind a prefix; the mapping is fixed, which is what makes enqueueing
 * the same file twice add nothing.
 */
export const jobIdOf = (id: string): string => `id=${encodeURIComponent(id)}`;

export const idOfJobId = (jobId: string): string => decodeURIComponent(jobId.slice(3));
