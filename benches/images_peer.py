#!/usr/bin/python3
"""The mutagen peer for benches/images-vs-mutagen.sh (Debian's python3, which has mutagen).

  images_peer.py FILE.mp3 CHAPTERS.json
      writes the JSON's chapters as CHAP/CTOC with each chapter's `img` file as an APIC
      sub-frame (ID3v2.3, in place), as chapmark does.
"""

import json
import os
import sys

from mutagen.id3 import APIC, CHAP, CTOC, ID3, TIT2, CTOCFlags, ID3NoHeaderError
from mutagen.mp3 import MP3


def main(path, chapters_json):
    doc = json.load(open(chapters_json, encoding="utf-8"))
    base = os.path.dirname(os.path.abspath(chapters_json))
    chapters = doc["chapters"]
    end = int(MP3(path).info.length * 1000)
    try:
        tag = ID3(path)
    except ID3NoHeaderError:
        tag = ID3()
    tag.delall("CHAP")
    tag.delall("CTOC")
    ids = []
    for i, c in enumerate(chapters):
        start = int(round(c["startTime"] * 1000))
        stop = int(round(chapters[i + 1]["startTime"] * 1000)) if i + 1 < len(chapters) else end
        cid = "chp%d" % i
        ids.append(cid)
        with open(os.path.join(base, c["img"]), "rb") as f:
            data = f.read()
        tag.add(
            CHAP(
                element_id=cid,
                start_time=start,
                end_time=stop,
                sub_frames=[
                    TIT2(encoding=3, text=[c["title"]]),
                    APIC(encoding=0, mime="image/jpeg", type=3, desc="", data=data),
                ],
            )
        )
    tag.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=["Chapters"])],
        )
    )
    tag.save(path, v2_version=3)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
