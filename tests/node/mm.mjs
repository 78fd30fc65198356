// Prints what music-metadata reads from an audio file as JSON: its chapters and cover.
// Usage: node mm.mjs FILE
import { parseFile } from 'music-metadata';

const file = process.argv[2];
try {
  const m = await parseFile(file, { includeChapters: true, duration: false });
  const chapters = (m.format.chapters ?? []).map((c) => ({
    title: c.title,
    start: c.start,
    timeScale: c.timeScale ?? null,
    sampleOffset: c.sampleOffset ?? null,
    url: c.url ?? null,
  }));
  const pictures = (m.common.picture ?? []).map((p) => ({ format: p.format, bytes: p.data.length }));
  console.log(JSON.stringify({ ok: true, chapters, pictures, title: m.common.title ?? null }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.message ? e.message : e) }));
}
