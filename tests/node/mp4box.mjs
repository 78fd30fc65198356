// Prints what mp4box.js reads from an MP4's chapter (text) track as JSON: every sample with
// its presentation time in ms (edit list applied: a leading empty edit delays the track) and
// its title, plus the raw edit list. Usage: node mp4box.mjs FILE
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
  // Presentation delay from a leading empty edit, in ms.
  const delayMs = edits.length > 1 && edits[0].mediaTime === -1 ? (edits[0].duration * 1000) / movieTs : 0;
  const samples = [];
  for (const s of trak.samples ?? []) {
    if (!s.data) {
      const start = s.offset;
      s.data = new Uint8Array(buf, start, s.size);
    }
    const d = s.data;
    const len = d.length >= 2 ? (d[0] << 8) | d[1] : 0;
    const title = new TextDecoder().decode(d.subarray(2, 2 + len));
    samples.push({ startMs: delayMs + (s.cts * 1000) / ts, durationMs: (s.duration * 1000) / ts, title });
  }
  out.tracks.push({ id: t.id, handler: trak.mdia.hdlr.handler, edits, samples: t.type === 'text' || trak.mdia.hdlr.handler === 'text' ? samples : samples.length });
}
console.log(JSON.stringify(out));
