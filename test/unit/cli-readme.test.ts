// The README's main command runs the checkout's built CLI in place: `npm run phyr -- ...`
// passes every option through to phyr, leaves the built addon where it is (npx would
// reinstall the package into npm's cache and rebuild it, with build/Release/phyr.node
// missing meanwhile), and no command block in the docs tells a reader to use npx inside
// the checkout.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const ADDON = path.join(ROOT, 'build', 'Release', 'phyr.node');

function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```[^\n]*\n([\s\S]*?)```/g)].map((m) => m[1]);
}

t.test('the package has a "phyr" script running the built CLI, and the bin is unchanged', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  t.equal(pkg.scripts.phyr, 'node dist/tools/phyr.js');
  t.equal(pkg.bin.phyr, 'dist/tools/phyr.js', 'an installed package still gets the phyr command');
  t.equal(pkg.scripts.test, 'node test/run-tiers.js', 'npm test stays the test command');
});

t.test('README: the two commands are npm run phyr and npm test; no doc command block uses npx phyr', async (t) => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const two = /## Two commands\n+```sh\n([\s\S]*?)```/.exec(readme);
  t.ok(two, 'README has the "Two commands" block');
  const lines = (two?.[1] ?? '').trim().split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
  t.same(lines, ['npm install && npm run phyr -- bench', 'npm test']);
  const docs = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f))];
  for (const d of docs) {
    for (const block of codeBlocks(fs.readFileSync(path.join(ROOT, d), 'utf8'))) t.notMatch(block, /\bnpx phyr\b/, `${d}: a command block runs npx phyr`);
  }
});

t.test('npm run -s phyr -- bench runs in place: options reach phyr, the addon is not rebuilt', async (t) => {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'tools', 'phyr.js'))) throw new Error('dist/tools/phyr.js is missing: run npm run build:ts first');
  const before = fs.statSync(ADDON);
  const t0 = Date.now();
  const r = spawnSync('npm', ['run', '-s', 'phyr', '--', 'bench', 'emu:backend=null', '--rw=randread', '--runtime=200ms', '--time_based', '--iodepth=4', '--output-format=json', '--eta=never'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  const seconds = (Date.now() - t0) / 1000;
  t.equal(r.status, 0, r.stderr);
  // -s keeps npm's banner off stdout: it is the JSON document alone.
  const doc = JSON.parse(r.stdout) as { 'global options': Record<string, string>; jobs: Array<{ read: { io_bytes: number } }> };
  // No --name: the options are global ones, reported as written.
  t.equal(doc['global options'].runtime, '200ms', 'the options after -- reached phyr');
  t.equal(doc['global options'].iodepth, '4');
  t.ok(doc.jobs[0].read.io_bytes > 0);
  const after = fs.statSync(ADDON);
  t.equal(after.ino, before.ino, 'the built addon is the same file');
  t.equal(after.mtimeMs, before.mtimeMs, 'and was not rebuilt');
  t.ok(seconds < 30, `ran in ${seconds} s (no reinstall, no rebuild)`);
});
