// A tiny static server for the workbench (no dependencies):
//   node tests/web/serve.mjs [--port 8000] DIR [/prefix=DIR ...]
// Serves DIR at /, each extra mount at its prefix. Sends Content-Length (the
// page streams packages with a real progress bar) and the right MIME types.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

/** Starts a server; mounts is [[prefix, dir], ...]. Resolves to {server, url}. */
export function serve(mounts, port = 0) {
  const sorted = [...mounts].sort((a, b) => b[0].length - a[0].length);
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let rel = decodeURIComponent(url.pathname);
    const m = sorted.find(([prefix]) => rel === prefix || rel.startsWith(prefix.endsWith('/') ? prefix : prefix + '/'));
    if (!m) return notFound(res);
    rel = rel.slice(m[0].length).replace(/^\/+/, '');
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const root = path.resolve(m[1]);
    const file = path.resolve(root, rel);
    if (file !== root && !file.startsWith(root + path.sep)) return notFound(res);
    let st;
    try { st = statSync(file); } catch { return notFound(res); }
    if (!st.isFile()) return notFound(res);
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': st.size, 'Cache-Control': 'no-store',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () =>
    resolve({ server, url: `http://127.0.0.1:${server.address().port}` })));
}

function notFound(res) {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let port = 8000;
  const mounts = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i].includes('=')) mounts.push(args[i].split('=', 2));
    else mounts.push(['/', args[i]]);
  }
  if (!mounts.length) mounts.push(['/', 'build/wasm/web']);
  const { url } = await serve(mounts, port);
  console.log(`serving ${mounts.map(([p, d]) => `${p} -> ${d}`).join(', ')} at ${url}/`);
}
