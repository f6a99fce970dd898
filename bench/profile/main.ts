import { readFile } from 'node:fs/promises';

/**
 * Where a CPU profile's time went (a .cpuprofile that BENCH_PROFILE wrote): self time by package
 * (node_modules), by Berth app or package, or by V8's own buckets (garbage collector, program),
 * idle left out, and the functions with the most self time. Ends with one JSON line.
 *
 *   pnpm bench:profile -- bench/profiles/CPU.<...>.cpuprofile
 */

interface ProfileNode {
  id: number;
  hitCount?: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

const file = process.argv.slice(2).find((a) => a !== '--');
if (!file) throw new Error('usage: pnpm bench:profile -- <file.cpuprofile>');
const profile = JSON.parse(await readFile(file, 'utf8')) as { nodes: ProfileNode[] };

/** The bucket a frame's self time goes to. */
function bucketOf({ url, functionName }: ProfileNode['callFrame']): string {
  const pkg = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(apps|packages)\/([^/]+)\//.exec(url);
  if (own) return `berth ${own[1]}/${own[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return functionName || '(anonymous)';
}

const buckets = new Map<string, number>();
const functions = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  if (!hits || node.callFrame.functionName === '(idle)') continue;
  total += hits;
  const bucket = bucketOf(node.callFrame);
  buckets.set(bucket, (buckets.get(bucket) ?? 0) + hits);
  const name = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`;
  functions.set(name, (functions.get(name) ?? 0) + hits);
}
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, hits]) => ({ name, percent: Math.round((hits / total) * 1000) / 10 }));
for (const { name, percent } of top(buckets, 15))
  process.stderr.write(`${String(percent).padStart(5)} %  ${name}\n`);
process.stderr.write('\n');
for (const { name, percent } of top(functions, 15))
  process.stderr.write(`${String(percent).padStart(5)} %  ${name}\n`);
process.stdout.write(
  `${JSON.stringify({ samples: total, byBucket: top(buckets, 15), byFunction: top(functions, 15) })}\n`,
);
