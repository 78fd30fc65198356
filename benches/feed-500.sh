#!/usr/bin/env bash
# `chapmark feed --emit-json` on a generated 500-item feed (half the items with PSC chapters,
# half with chapters in a CDATA description, 10 chapters each, CRLF line ends: ~600 KB),
# whole process per run: scan, read every item's chapters, write 500 JSON files, splice the
# links into the feed. Side by side, python3's xml.dom.minidom merely *parsing* the same feed
# (the cheapest thing a script doing this job in Python would have to do), for scale.
# Needs hyperfine. Results: benches/results-feed-500.md (appended).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CHAPMARK_BIN:-target/release/chapmark}
[ -x "$BIN" ] || cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/big.xml" <<'PY'
import sys
out = ['<?xml version="1.0" encoding="UTF-8"?>\r\n<rss version="2.0" xmlns:psc="http://podlove.org/simple-chapters">\r\n  <channel>\r\n    <title>Big</title>\r\n']
for i in range(500):
    out.append(f'    <item>\r\n      <title>Episode {i} &amp; more</title>\r\n      <guid isPermaLink="false">ep-{i}</guid>\r\n      <enclosure url="https://example.com/{i}.mp3" length="1" type="audio/mpeg"/>\r\n')
    if i % 2 == 0:
        out.append('      <psc:chapters version="1.2">\r\n')
        out += [f'        <psc:chapter start="00:{c:02}:00.000" title="Part {c} of {i}"/>\r\n' for c in range(10)]
        out.append('      </psc:chapters>\r\n')
    else:
        out.append('      <description><![CDATA[Show notes\n' + ''.join(f'{c:02}:00 Part {c} of {i}\n' for c in range(10)) + ']]></description>\r\n')
    out.append('    </item>\r\n')
out.append('  </channel>\r\n</rss>\r\n')
open(sys.argv[1], 'w').write(''.join(out))
PY
ls -l "$work/big.xml"
hyperfine --warmup 2 --runs 20 --export-markdown "$work/res.md" --export-json "$work/res.json" \
  -n chapmark-feed-emit-json "rm -rf $work/ch && $BIN feed $work/big.xml --emit-json $work/ch --base-url https://cdn.example.com/ch -o $work/out.xml -q" \
  -n python-minidom-parse-only "python3 -c 'import xml.dom.minidom as m; m.parse(\"$work/big.xml\")'"
python3 -c "import xml.dom.minidom as m; d=m.parse('$work/out.xml'); print('result parses as XML;', len(d.getElementsByTagName('podcast:chapters')), 'links')"
medians=$(python3 - "$work/res.json" <<'PY'
import json, statistics, sys
r = {x["command"]: statistics.median(x["times"]) for x in json.load(open(sys.argv[1]))["results"]}
c, p = r["chapmark-feed-emit-json"], r["python-minidom-parse-only"]
print(f"medians: chapmark {c*1000:.1f} ms, python minidom parse only {p*1000:.1f} ms; ratio python/chapmark {p/c:.2f}")
PY
)
{ echo "## $(date -u +%F) $(uname -m), $(nproc) cores (shared)"; cat "$work/res.md"; echo; echo "$medians"; echo; } >> benches/results-feed-500.md
cat "$work/res.md"; echo "$medians"
