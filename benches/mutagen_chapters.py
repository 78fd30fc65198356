#!/usr/bin/env python3
"""One Python process writing ID3v2 CHAP/CTOC chapters with mutagen into every MP3 given.

The peer chapmark batch is compared with in benches/batch-vs-peers.sh. For each EP.mp3 it
reads EP.chapters.json (Podcasting 2.0 JSON: startTime in seconds, title), ends the last
chapter at mutagen's length estimate (no validation, no exact duration, no crash safety:
mutagen rewrites the file in place) and saves an ID3v2.3 tag.
Usage: mutagen_chapters.py FILE.mp3...
"""
import json
import sys

from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags, ID3NoHeaderError
from mutagen.mp3 import MP3


def tag(path):
    with open(path[: -len(".mp3")] + ".chapters.json", encoding="utf-8") as f:
        chapters = json.load(f)["chapters"]
    length_ms = int(MP3(path).info.length * 1000)
    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        tags = ID3()
    tags.delall("CHAP")
    tags.delall("CTOC")
    ids = []
    for i, ch in enumerate(chapters):
        start = int(ch["startTime"] * 1000)
        end = int(chapters[i + 1]["startTime"] * 1000) if i + 1 < len(chapters) else length_ms
        eid = f"chp{i}"
        ids.append(eid)
        tags.add(CHAP(element_id=eid, start_time=start, end_time=end,
                      sub_frames=[TIT2(encoding=3, text=[ch["title"]])]))
    tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                  child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=["Chapters"])]))
    tags.save(path, v2_version=3)


for p in sys.argv[1:]:
    tag(p)
