#!/usr/bin/env python3
"""Object storage: chapmark's ranged reads + multipart copy against download-tag-upload.

Starts moto_server on a free loopback port, then
 1. tags one 40-min MP3 (LAME/Xing header) and one 40-min faststart M4A in the bucket with
    `chapmark write s3://…` and reads the bytes it moved from its message; the baseline
    (download the object, `chapmark write` the local copy, upload it) moves the whole file
    each way;
 2. times `chapmark batch s3://bench/many/ --jobs 8` over N objects with sidecars against the
    same download-tag-upload done with boto3 in 8 threads (N=200 by default).

With WAN=MBIT:MS in the environment, step 2 goes through tests/s3/proxy.py in its `wan`
mode for both contenders: bodies paced to MBIT megabit/s each way, MS ms added per request
(on loopback, bytes cost nothing and moto's server-side copies are slow Python, which
favours moving whole files; a real link to a bucket is the other way round).

usage: s3_bench.py CHAPMARK WORKDIR [N] [MINUTES_PER_OBJECT]
"""
import concurrent.futures
import os
import re
import socket
import subprocess
import sys
import time

import boto3
import botocore.config

chapmark, work = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 200
minutes = int(sys.argv[4]) if len(sys.argv) > 4 else 12
os.makedirs(work, exist_ok=True)
NOTES = "00:00 Intro\n05:00 News\n10:00 Interview\n".encode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def audio(path, seconds, codec):
    if not os.path.exists(path):
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        f"sine=frequency=440:sample_rate=44100:duration={seconds}", "-ac", "1",
                        *codec, path], check=True)
    return path


port = free_port()
proxy = None
moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            break
        except OSError:
            time.sleep(0.1)
    env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_REGION="us-east-1", AWS_ENDPOINT_URL=endpoint)
    cfg = botocore.config.Config(max_pool_connections=16)
    s3 = boto3.client("s3", config=cfg, endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="bench", aws_secret_access_key="bench")
    s3.create_bucket(Bucket="bench")
    wan = os.environ.get("WAN")
    batch_env, s3_batch = env, s3
    if wan:
        here = os.path.dirname(os.path.abspath(__file__))
        proxy = subprocess.Popen([sys.executable, os.path.join(here, "..", "tests", "s3", "proxy.py"),
                                  str(port), f"wan:{wan}", os.devnull],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        proxied = f"http://127.0.0.1:{proxy.stdout.readline().strip()}"
        batch_env = dict(env, AWS_ENDPOINT_URL=proxied)
        s3_batch = boto3.client("s3", config=cfg, endpoint_url=proxied, region_name="us-east-1",
                                aws_access_key_id="bench", aws_secret_access_key="bench")
    notes = os.path.join(work, "notes.txt")
    with open(notes, "wb") as f:
        f.write(NOTES)

    print("## bytes moved to tag one 40-minute episode\n")
    print("| file | size | chapmark down | chapmark up | copied by the service | download-tag-upload down + up |")
    print("| --- | --- | --- | --- | --- | --- |")
    mp3 = audio(os.path.join(work, "40min.mp3"), 2400, ["-c:a", "libmp3lame", "-b:a", "128k"])
    m4a = audio(os.path.join(work, "40min.m4a"), 2400, ["-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"])
    for path in (mp3, m4a):
        key = os.path.basename(path)
        s3.upload_file(path, "bench", key)
        out = subprocess.run([chapmark, "write", f"s3://bench/{key}", notes], env=env,
                             capture_output=True, text=True, check=True)
        m = re.search(r"(\d+) bytes down, (\d+) up, (\d+) copied", out.stderr)
        size = os.path.getsize(path)
        print(f"| {key} | {size} | {m.group(1)} | {m.group(2)} | {m.group(3)} | {size} + {size} |")

    link = f", through a {wan.split(':')[0]} Mbit/s link with {wan.split(':')[1]} ms per request" if wan else ""
    print(f"\n## {count} objects of {minutes} min, --jobs 8{link}\n")
    one = audio(os.path.join(work, f"{minutes}min.mp3"), minutes * 60, ["-c:a", "libmp3lame", "-b:a", "128k"])
    s3.upload_file(one, "bench", "seed.mp3")

    def reset():
        # The same untagged objects for each contender (moto keeps them in memory: one set).
        for i in range(count):
            s3.copy_object(Bucket="bench", Key=f"many/ep{i:03}.mp3", CopySource={"Bucket": "bench", "Key": "seed.mp3"})
            s3.put_object(Bucket="bench", Key=f"many/ep{i:03}.txt", Body=NOTES)

    reset()

    t0 = time.monotonic()
    report = os.path.join(work, "report.jsonl")
    subprocess.run([chapmark, "batch", "s3://bench/many/", "--jobs", "8", "--report", report],
                   env=batch_env, check=True, capture_output=True)
    chap = time.monotonic() - t0
    import json
    recs = [json.loads(line) for line in open(report)]
    down = sum(r["bytes_down"] for r in recs)
    up = sum(r["bytes_up"] for r in recs)

    def baseline(i):
        local = os.path.join(work, f"dl{i:03}.mp3")
        side = os.path.join(work, f"dl{i:03}.txt")
        s3_batch.download_file("bench", f"many/ep{i:03}.mp3", local)
        s3_batch.download_file("bench", f"many/ep{i:03}.txt", side)
        subprocess.run([chapmark, "write", local, side], check=True, capture_output=True)
        s3_batch.upload_file(local, "bench", f"many/ep{i:03}.mp3")
        n = os.path.getsize(local)
        os.remove(local)
        os.remove(side)
        return n

    reset()
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        moved = sum(pool.map(baseline, range(count)))
    base = time.monotonic() - t0
    print("| run | wall time | bytes down | bytes up |")
    print("| --- | --- | --- | --- |")
    print(f"| chapmark batch s3:// --jobs 8 | {chap:.1f} s | {down} | {up} |")
    print(f"| boto3 download + chapmark write + upload, 8 threads | {base:.1f} s | ~{moved} | {moved} |")
    print(f"\nratio boto3 / chapmark: {base / chap:.2f}x")
    statuses = {}
    for r in recs:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    print(f"chapmark statuses: {statuses}")
finally:
    if proxy is not None:
        proxy.kill()
    moto.kill()
    moto.wait()
