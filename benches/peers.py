#!/usr/bin/python3
"""Helpers for benches/write-vs-peers.sh (Debian's python3, which has mutagen).

  peers.py tag-mp3 FILE COVER          ID3v2.3 title/artist + APIC cover, no padding
  peers.py tag-m4a FILE COVER          iTunes title/artist + covr cover
  peers.py mutagen-chapters FILE CHAPTERS.txt
                                       the mutagen peer: CHAP/CTOC written in place
  peers.py mutagen-chapter-images FILE CHAPTERS.json
                                       the same with each chapter's `img` file as an APIC
  peers.py measure NAME PREPARE -- CMD...
                                       runs PREPARE (shell) then CMD under /usr/bin/time -v,
                                       3 times; prints one JSON line with the median peak RSS
                                       and the bytes the command wrote (write(2) bytes and
                                       bytes dirtied to storage, which also counts mmap writes)
  peers.py table RESULTS.jsonl HYPERFINE.json...
                                       markdown table of time, bytes and memory

Bytes come from this process's /proc/self/io: Linux adds a reaped child's I/O counters to its
parent's, so the difference around one child run is that child's I/O (and its children's).
"""

import json
import os
import statistics
import subprocess
import sys


def parse_chapters(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            ts, _, title = line.strip().partition(" ")
            m, _, s = ts.partition(":")
            if m.isdigit() and s.isdigit():
                out.append(((int(m) * 60 + int(s)) * 1000, title))
    return out


def tag_mp3(path, cover):
    from mutagen.id3 import APIC, ID3, TIT2, TPE1

    tag = ID3()
    tag.add(TIT2(encoding=3, text=["Benchmark episode"]))
    tag.add(TPE1(encoding=3, text=["chapmark"]))
    with open(cover, "rb") as f:
        tag.add(APIC(encoding=0, mime="image/jpeg", type=3, desc="", data=f.read()))
    # No padding: the first chapter write has to grow the tag.
    tag.save(path, v2_version=3, padding=lambda info: 0)


def tag_m4a(path, cover):
    from mutagen.mp4 import MP4, MP4Cover

    m = MP4(path)
    m["\xa9nam"] = ["Benchmark episode"]
    m["\xa9ART"] = ["chapmark"]
    with open(cover, "rb") as f:
        m["covr"] = [MP4Cover(f.read(), imageformat=MP4Cover.FORMAT_JPEG)]
    m.save(padding=lambda info: 0)


def write_chapters(path, chapters, sub_frames):
    """CHAP/CTOC for (start ms, title) `chapters`, each CHAP with TIT2 plus
    `sub_frames(i)`, saved in place as ID3v2.3."""
    from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags, ID3NoHeaderError
    from mutagen.mp3 import MP3

    end = int(MP3(path).info.length * 1000)
    try:
        tag = ID3(path)
    except ID3NoHeaderError:
        tag = ID3()
    tag.delall("CHAP")
    tag.delall("CTOC")
    ids = []
    for i, (start, title) in enumerate(chapters):
        stop = chapters[i + 1][0] if i + 1 < len(chapters) else end
        cid = "chp%d" % i
        ids.append(cid)
        subs = [TIT2(encoding=3, text=[title])] + sub_frames(i)
        tag.add(CHAP(element_id=cid, start_time=start, end_time=stop, sub_frames=subs))
    tag.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=["Chapters"])],
        )
    )
    tag.save(path, v2_version=3)


def mutagen_chapters(path, chapters_txt):
    from mutagen.id3 import WXXX

    write_chapters(
        path,
        parse_chapters(chapters_txt),
        lambda i: [WXXX(encoding=0, desc="", url="https://example.com/%d" % i)],
    )


def mutagen_chapter_images(path, chapters_json):
    """The JSON's chapters with each `img` file as an APIC sub-frame (type 3, as chapmark)."""
    from mutagen.id3 import APIC

    with open(chapters_json, encoding="utf-8") as f:
        doc = json.load(f)
    base = os.path.dirname(os.path.abspath(chapters_json))
    chapters = [(int(round(c["startTime"] * 1000)), c["title"]) for c in doc["chapters"]]

    def image(i):
        with open(os.path.join(base, doc["chapters"][i]["img"]), "rb") as f:
            data = f.read()
        return [APIC(encoding=0, mime="image/jpeg", type=3, desc="", data=data)]

    write_chapters(path, chapters, image)


def io_counters():
    out = {}
    with open("/proc/self/io") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k.strip()] = int(v)
    return out


def measure(name, prepare, cmd, runs=3):
    rss, wchar, dirtied = [], [], []
    for _ in range(runs):
        subprocess.run(prepare, shell=True, check=True)
        before = io_counters()
        p = subprocess.run(
            ["/usr/bin/time", "-v"] + cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        after = io_counters()
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            raise SystemExit("%s failed" % name)
        for line in p.stderr.splitlines():
            if "Maximum resident set size" in line:
                rss.append(int(line.split(":")[1]))
        wchar.append(after["wchar"] - before["wchar"])
        dirtied.append(after["write_bytes"] - before["write_bytes"])
    print(
        json.dumps(
            {
                "name": name,
                "max_rss_kib": statistics.median(rss),
                "write_syscall_bytes": statistics.median(wchar),
                "storage_bytes": statistics.median(dirtied),
            }
        )
    )


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0


def table(results_path, hyperfine_paths):
    res = {}
    with open(results_path) as f:
        for line in f:
            r = json.loads(line)
            res[r["name"]] = r
    print("| command | mean ± σ (ms) | min (ms) | bytes written (write(2)) | bytes to storage | peak RSS |")
    print("|---|---|---|---|---|---|")
    for hp in hyperfine_paths:
        with open(hp) as f:
            for r in json.load(f)["results"]:
                name = r["command"]
                m = res.get(name, {})
                print(
                    "| %s | %.1f ± %.1f | %.1f | %s | %s | %s |"
                    % (
                        name,
                        r["mean"] * 1000,
                        r["stddev"] * 1000,
                        r["min"] * 1000,
                        human(m.get("write_syscall_bytes", 0)),
                        human(m.get("storage_bytes", 0)),
                        human(m.get("max_rss_kib", 0) * 1024),
                    )
                )


def main():
    a = sys.argv[1:]
    if not a:
        raise SystemExit(__doc__)
    if a[0] == "tag-mp3":
        tag_mp3(a[1], a[2])
    elif a[0] == "tag-m4a":
        tag_m4a(a[1], a[2])
    elif a[0] == "mutagen-chapters":
        mutagen_chapters(a[1], a[2])
    elif a[0] == "mutagen-chapter-images":
        mutagen_chapter_images(a[1], a[2])
    elif a[0] == "measure":
        sep = a.index("--")
        measure(a[1], a[2], a[sep + 1 :])
    elif a[0] == "table":
        table(a[1], a[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
