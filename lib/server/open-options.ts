/**
 * What FFmpeg may do with a client's media: only the demuxers of media files (no SDP, RTP, RTSP,
 * HLS, image2 sequences or concat lists, which open sockets or other files) and only the protocol
 * the input needs (`file` for a file of the media folder, none for bytes in memory), through
 * FFmpeg's own `format_whitelist` / `protocol_whitelist` options, which also bind every nested
 * open a demuxer makes. The format check runs after probing and before the demuxer reads its
 * header, so a refused format never gets to open anything.
 */

/** Demuxers (FFmpeg names) of the containers, streams and pictures clients send. */
export const MEDIA_DEMUXERS = [
  'mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2', 'matroska', 'webm', 'avi', 'mpegts', 'mpeg', 'flv', 'ogg', 'ivf', 'yuv4mpegpipe',
  'h264', 'hevc', 'mjpeg', 'gif', 'png_pipe', 'jpeg_pipe', 'webp_pipe', 'gif_pipe',
  'wav', 'mp3', 'aac', 'flac',
] as const;

/**
 * FFmpeg open options for a client's input: a path of the media folder, or bytes (data URL,
 * download). FFmpeg reads a picture file by path with image2 (chosen by its extension): allowed
 * only for a name without image2's sequence and glob characters, so it opens that one file.
 */
export function mediaOpenOptions(input: string | Uint8Array): Record<string, string> {
  if (typeof input !== 'string') return { format_whitelist: MEDIA_DEMUXERS.join(','), protocol_whitelist: 'none' };
  const single = !/[%*?{[]/.test(input);
  return { format_whitelist: [...MEDIA_DEMUXERS, ...(single ? ['image2'] : [])].join(','), protocol_whitelist: 'file' };
}

/** The MIME types a data URL may declare: a picture, a video or a sound. */
export function isMediaMime(type: string): boolean {
  return /^(image|video|audio)\/[a-z0-9][a-z0-9.+-]*$/i.test(type.trim());
}
