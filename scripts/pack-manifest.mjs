// `npm pack` and `npm publish` run this before packing (`strip`) and after (`restore`): the
// published package.json leaves out the `prepare` script, which builds dist/ in a clone of this
// repository but would list Loopwise among the packages with install scripts in every app
// (npm warns about each). pinst does the same for husky's postinstall.
//   node scripts/pack-manifest.mjs strip|restore [package folder, default this repository]
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const file = join(process.argv[3] ?? fileURLToPath(new URL("..", import.meta.url)), "package.json");
const saved = "__prepare";
const manifest = JSON.parse(readFileSync(file, "utf8"));
const action = process.argv[2];
const [from, to] = action === "strip" ? ["prepare", saved] : action === "restore" ? [saved, "prepare"] : [];
if (from === undefined) throw new Error(`usage: node scripts/pack-manifest.mjs strip|restore, got ${action}`);
// Renamed in place, so package.json reads the same once restored.
manifest.scripts = Object.fromEntries(Object.entries(manifest.scripts).map(([name, command]) => [name === from ? to : name, command]));
writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
