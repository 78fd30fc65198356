"""Checks for .ci/packaging.sh (issue 21) that need a YAML or TOML parser.

  packaging.py yaml
      Every ```yaml block of README.md that is not a GitHub workflow (those go through
      actionlint) parses as YAML, and so does .pre-commit-hooks.yaml; a Kubernetes block is a
      batch/v1 Indexed Job whose command runs chapmark with --shard from the completion index.
  packaging.py binstall TARGET ARCHIVE
      ARCHIVE has the file name [package.metadata.binstall] in Cargo.toml gives for TARGET, and
      holds the binary where its bin-dir says, next to the completions and man pages.
"""

import re
import sys
import tarfile
import tomllib
from pathlib import Path

import yaml


def readme_yaml_blocks():
    lines = Path("README.md").read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```yaml":
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            yield i + 2, "\n".join(lines[i + 1 : end])
            i = end
        i += 1


def check_yaml():
    checked = 0
    for line, text in readme_yaml_blocks():
        if re.match(r"# \.github/workflows/[\w.-]+\.ya?ml\b", text):
            continue
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
        if not docs:
            sys.exit(f"README.md:{line}: empty YAML block")
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "Job":
                check_job(line, doc)
        checked += 1
    yaml.safe_load(Path(".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    print(f"yaml: {checked} README blocks besides workflows and .pre-commit-hooks.yaml parse")


def check_job(line, job):
    spec = job.get("spec") or {}
    where = f"README.md:{line}: Kubernetes Job"
    if job.get("apiVersion") != "batch/v1" or spec.get("completionMode") != "Indexed":
        sys.exit(f"{where}: not a batch/v1 Job with completionMode: Indexed")
    containers = spec["template"]["spec"]["containers"]
    command = " ".join(str(a) for c in containers for a in c.get("command", []) + c.get("args", []))
    if "--shard" not in command or "JOB_COMPLETION_INDEX" not in command:
        sys.exit(f"{where}: the container does not shard by JOB_COMPLETION_INDEX")
    if str(spec.get("completions")) not in command:
        sys.exit(f"{where}: --shard K/N does not use N = completions ({spec.get('completions')})")


def render(template, values):
    return re.sub(r"\{\s*([\w-]+)\s*\}", lambda m: values[m.group(1)], template)


def check_binstall(target, archive):
    manifest = tomllib.loads(Path("Cargo.toml").read_text(encoding="utf-8"))
    package = manifest["package"]
    meta = package["metadata"]["binstall"]
    override = meta.get("overrides", {}).get(target, {})
    fmt = override.get("pkg-fmt", meta.get("pkg-fmt", "tgz"))
    suffix = {"tgz": ".tar.gz", "zip": ".zip", "txz": ".tar.xz", "tzstd": ".tar.zst"}[fmt]
    windows = "windows" in target
    values = {
        "name": package["name"],
        "version": package["version"],
        "target": target,
        "archive-suffix": suffix,
        "bin": package["name"],
        "binary-ext": ".exe" if windows else "",
        "repo": package["repository"],
    }
    url = render(override.get("pkg-url", meta["pkg-url"]), values)
    expected = url.rsplit("/", 1)[-1]
    if Path(archive).name != expected:
        sys.exit(f"binstall: {archive} is not named {expected} ({url})")
    if not url.startswith(package["repository"] + "/releases/download/v" + package["version"] + "/"):
        sys.exit(f"binstall: {url} is not a release download of {package['repository']}")
    bin_path = render(override.get("bin-dir", meta["bin-dir"]), values)
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    top = bin_path.split("/")[0]
    needed = [bin_path, f"{top}/README.md", f"{top}/CHANGELOG.md", f"{top}/man/chapmark.1"]
    needed += [f"{top}/complete/{f}" for f in ("chapmark.bash", "_chapmark", "chapmark.fish", "_chapmark.ps1", "chapmark.elv")]
    missing = [n for n in needed if n not in names]
    if missing:
        sys.exit(f"binstall: {archive} lacks {', '.join(missing)}")
    print(f"binstall: {expected} matches pkg-url and holds {bin_path}, completions and man pages")


if __name__ == "__main__":
    if sys.argv[1:2] == ["yaml"]:
        check_yaml()
    elif sys.argv[1:2] == ["binstall"] and len(sys.argv) == 4:
        check_binstall(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
