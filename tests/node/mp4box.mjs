// Prints what mp4box.js reads from an MP4's chapter (text) track as JSON: every sample with
// its title, its media time and its presentation time in ms with the edit list applied (a
// leading empty edit delays the track; the edit after it may start the media later, and a
// sample before that start is not presented), plus the raw edit list; for a `vide` track
// (chapter images) each sample's presentation time and size.
// Usage: node mp4box.mjs FILE
import { readFileSync } from 'node:fs';
import { createFile } from 'mp4box';

const file = process.argv[2];
const bytes = readFileSync(file);
const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
buf.fileStart = 0;
const mp4 = createFile();
let info = null;
mp4.onReady = (i) => { info = i; };
mp4.onError = (e) => { console.log(JSON.stringify({ ok: false, error: String(e) })); process.exit(0); };
mp4.appendBuffer(buf);
mp4.flush();
if (!info) {
  console.log(JSON.stringify({ ok: false, error: 'not ready' }));
  process.exit(0);
}
const out = { ok: true, tracks: [] };
for (const t of info.tracks) {
  const trak = mp4.getTrackById(t.id);
  const ts = trak.mdia.mdhd.timescale;
  const movieTs = mp4.moov.mvhd.timescale;
  const edits = (trak.edts && trak.edts.elst ? trak.edts.elst.entries : []).map((e) => ({
    duration: Number(e.segment_duration), mediaTime: Number(e.media_time),
  }));
  // Presentation delay from a leading empty edit (ms), and where the media starts (ms).
  const lead = edits.length > 1 && edits[0].mediaTime === -1;
  const delayMs = lead ? (edits[0].duration * 1000) / movieTs : 0;
  const mediaStartMs = lead ? (edits[1].mediaTime * 1000) / ts : Math.max(0, edits[0]?.mediaTime ?? 0) * 1000 / ts;
  const samples = [];
  for (const s of trak.samples ?? []) {
    if (!s.data) {
      s.data = new Uint8Array(buf, s.offset, s.size);
    }
    const d = s.data;
    const len = d.length >= 2 ? (d[0] << 8) | d[1] : 0;
    const title = new TextDecoder().decode(d.subarray(2, 2 + len));
    const mediaMs = (s.cts * 1000) / ts;
    const durationMs = (s.duration * 1000) / ts;
    samples.push({
      mediaMs,
      startMs: delayMs + mediaMs - mediaStartMs,
      durationMs,
      presented: mediaMs + durationMs > mediaStartMs,
      title,
    });
  }
  const handler = trak.mdia.hdlr.handler;
  // A chapter-image track (`vide` referenced from tref/chap): each sample's times and size.
  const images = handler === 'vide'
    ? samples.map((s, i) => ({ startMs: s.startMs, presented: s.presented, size: trak.samples[i].size }))
    : undefined;
  out.tracks.push({ id: t.id, handler, edits, samples: t.type === 'text' || handler === 'text' ? samples : samples.length, images });
}
console.log(JSON.stringify(out));
