/** The audio track: resampled PCM on the right timeline (tone of 200 + 100k Hz in second k). */
import t from 'tap';
import { openVideo } from '../../lib/video/index.js';
import { media, toneHz } from '../fixtures/media.js';

const hzAt = (pcm: Float32Array, rate: number, from: number, to: number): number => toneHz(pcm.subarray(Math.round(from * rate), Math.round(to * rate)), rate);

for (const kind of ['h264', 'vp9', 'audioOnly'] as const) {
  t.test(`${kind}: 16 kHz mono, each second has its tone`, async (tt) => {
    const v = await openVideo(await media[kind](), { allowAudioOnly: true });
    tt.teardown(() => v.close());
    const secs = kind === 'audioOnly' ? 3 : 4;
    const a = await v.audio();
    tt.equal(a.sampleRate, 16000);
    tt.equal(a.channels, 1);
    tt.equal(a.t, 0);
    tt.ok(Math.abs(a.duration - secs) < 0.05, `duration ${a.duration}`);
    for (let k = 0; k < secs; k++) {
      const hz = hzAt(a.samples, 16000, k + 0.1, k + 0.9);
      tt.ok(Math.abs(hz - (200 + 100 * k)) < 8, `second ${k}: ${hz.toFixed(1)} Hz`);
    }
    const peak = a.samples.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    tt.ok(peak > 0.3 && peak < 0.8, `amplitude ${peak.toFixed(2)} (0.5 tone)`);
    // segment and stereo
    const s = await v.audio({ segment: [1.25, 2.75], channels: 2, sampleRate: 22050 });
    tt.equal(s.t, 1.25);
    tt.equal(s.samples.length, Math.round(1.5 * 22050) * 2);
    const left = s.samples.filter((_, i) => i % 2 === 0);
    tt.ok(Math.abs(hzAt(left, 22050, 0.05, 0.7) - 300) < 8, 'segment starts in second 1');
    tt.ok(Math.abs(hzAt(left, 22050, 0.8, 1.45) - 400) < 8, 'and crosses into second 2');
    // 0.5 s windows aligned with 2 fps frame times (video-SALMONN)
    const w = await v.audio({ window: 0.5 });
    tt.equal(w.windows!.length, Math.ceil(w.duration / 0.5 - 1e-9), 'windows cover the track');
    w.windows!.slice(0, secs * 2).forEach((win, k) => {
      tt.equal(win.t, k * 0.5);
      tt.equal(win.samples.length, 8000);
      if (k % 2 === 0) tt.ok(Math.abs(toneHz(win.samples.subarray(800, 7200), 16000) - (200 + 100 * Math.floor(k / 2))) < 10, `window ${k}`);
    });
    if (kind !== 'audioOnly') {
      const frames = await v.sample({ fps: 2 }, { size: 32 });
      const aligned = await v.audio({ window: 0.5, windowStarts: frames.map((f) => f.t) });
      tt.same(aligned.windows!.map((x) => x.t), frames.map((f) => f.t), 'one window per frame, starting at its time');
    }
  });
}
