#!/usr/bin/env python3
"""A sparse faststart M4A of about SIZE bytes with a real moov, for benches/m4a-grow-vs-ffmpeg.sh.

Usage: make-big-m4a.py TEMPLATE.m4a OUT.m4a [SIZE_GIB]   (default 4.5)

The moov of TEMPLATE (one AAC track, e.g. fixtures/m4a/faststart.m4a) is kept (sample
entry, handler, metadata) with its sample tables replaced: N samples of 16 KiB, 64 per chunk,
one stsz entry per sample (as a real file has), co64 chunk offsets, durations to match
(1024 samples per frame). The mdat payload is a hole (zeros, not allocated): every byte of
it belongs to a sample, so a tool that copies the samples (ffmpeg -c copy) copies them all,
as it would for a real 4.5 GiB file. Nothing here decodes; the file is for write timing.
"""

import struct
import sys

SAMPLE = 16 << 10
PER_CHUNK = 64
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"}


def parse(b):
    out, i = [], 0
    while i + 8 <= len(b):
        size, typ = struct.unpack(">I4s", b[i : i + 8])
        body = b[i + 8 : i + size]
        out.append([typ, parse(body) if typ in CONTAINERS else body])
        i += size
    return out


def ser(nodes):
    out = b""
    for typ, body in nodes:
        raw = ser(body) if isinstance(body, list) else body
        out += struct.pack(">I4s", len(raw) + 8, typ) + raw
    return out


def find(nodes, typ):
    return next(n for n in nodes if n[0] == typ)


def set_u32(body, at, value):
    return body[:at] + struct.pack(">I", value) + body[at + 4 :]


def main():
    template, out = sys.argv[1], sys.argv[2]
    size = int(float(sys.argv[3] if len(sys.argv) > 3 else 4.5) * (1 << 30))
    data = open(template, "rb").read()
    top, i = [], 0
    while i < len(data):
        s, t = struct.unpack(">I4s", data[i : i + 8])
        top.append((t, data[i : i + s]))
        i += s
    ftyp = next(b for t, b in top if t == b"ftyp")
    moov = parse(next(b for t, b in top if t == b"moov")[8:])
    n = size // SAMPLE // PER_CHUNK * PER_CHUNK
    chunks = n // PER_CHUNK
    trak = find(moov, b"trak")
    mdia = find(trak[1], b"mdia")
    mdhd = find(mdia[1], b"mdhd")
    ts = struct.unpack(">I", mdhd[1][12:16])[0]
    media = n * 1024
    movie_ts = struct.unpack(">I", find(moov, b"mvhd")[1][12:16])[0]
    movie = media * movie_ts // ts
    mdhd[1] = set_u32(mdhd[1], 16, media)
    mvhd = find(moov, b"mvhd")
    mvhd[1] = set_u32(mvhd[1], 16, movie)
    tkhd = find(trak[1], b"tkhd")
    tkhd[1] = set_u32(tkhd[1], 20, movie)
    elst = find(find(trak[1], b"edts")[1], b"elst")
    elst[1] = set_u32(elst[1], 8, (media - 1024) * movie_ts // ts)
    stbl = find(find(mdia[1], b"minf")[1], b"stbl")
    keep = [c for c in stbl[1] if c[0] == b"stsd"]
    stts = struct.pack(">IIII", 0, 1, n, 1024)
    stsc = struct.pack(">IIIII", 0, 1, 1, PER_CHUNK, 1)
    stsz = struct.pack(">III", 0, 0, n) + struct.pack(">I", SAMPLE) * n

    def with_offsets(base):
        co64 = struct.pack(">II", 0, chunks) + b"".join(
            struct.pack(">Q", base + k * PER_CHUNK * SAMPLE) for k in range(chunks)
        )
        stbl[1] = keep + [[b"stts", stts], [b"stsc", stsc], [b"stsz", stsz], [b"co64", co64]]
        return ser(moov)

    # The offsets depend on moov's size, which does not depend on their values.
    moov_len = len(with_offsets(0)) + 8
    payload = len(ftyp) + moov_len + 16
    moov_bytes = with_offsets(payload)
    with open(out, "wb") as f:
        f.write(ftyp)
        f.write(struct.pack(">I4s", len(moov_bytes) + 8, b"moov") + moov_bytes)
        f.write(struct.pack(">I4sQ", 1, b"mdat", 16 + n * SAMPLE))
        f.truncate(payload + n * SAMPLE)
    print(f"{out}: {payload + n * SAMPLE} bytes, moov {moov_len} bytes, {n} samples")


if __name__ == "__main__":
    main()
