// Bundles GraphiQL, React and graphql-ws into api/assets/graphiql: the page script, its
// stylesheet, Monaco's three workers and its icon font, plus LICENSES.txt (the licence of every
// package bundled, with its version). Run by ./build.sh; the output is checked in, so that
// `cargo run` needs no Node and the page needs no network.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const out = '../../api/assets/graphiql';
fs.rmSync(out, { recursive: true, force: true });
const common = {
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
  metafile: true,
  outdir: out,
};
const page = await esbuild.build({
  ...common,
  entryPoints: { graphiql: 'main.jsx' },
  jsx: 'automatic',
  loader: { '.ttf': 'file' },
  assetNames: '[name]',
});
const workers = await esbuild.build({
  ...common,
  entryPoints: {
    'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
    'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
    'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
  },
});

// Every package a bundle holds code of, found from its inputs' node_modules paths.
const packages = new Set();
for (const meta of [page.metafile, workers.metafile]) {
  for (const input of Object.keys(meta.inputs)) {
    const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (match) packages.add(match[1]);
  }
}
let licences = 'The GraphiQL that hiregraph serves bundles these packages (built by tools/graphiql/build.sh).\n';
for (const name of [...packages].sort()) {
  const dir = path.join('node_modules', name);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
  licences += `\n${'='.repeat(78)}\n${name} ${manifest.version} (${manifest.license ?? 'see below'})\n${'='.repeat(78)}\n`;
  licences += file ? fs.readFileSync(path.join(dir, file), 'utf8').trim() + '\n' : '(the package ships no licence file)\n';
}
fs.writeFileSync(path.join(out, 'LICENSES.txt'), licences);
console.log(`bundled ${packages.size} packages into ${out}`);
