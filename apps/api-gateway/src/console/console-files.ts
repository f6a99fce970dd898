import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';

/**
 * The web console (apps/console), built to static files, served at /console/ on the API's own
 * origin so that it needs no CORS. The files hold no secret and need no key: the console asks for
 * one and sends it with each API call. Paths that are no file are the console's own pages (a
 * shared or reloaded link), answered with its index.html.
 */
export function consoleFiles(dir: string): Router {
  const router = express.Router();
  const index = join(dir, 'index.html');
  router.use((_req: Request, res: Response, next: NextFunction) => {
    // Only the console's own scripts and styles run; it talks to this origin only.
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  // Vite names built assets by their content's hash: they never change under one name.
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', fallthrough: false }),
  );
  router.use(express.static(dir, { index: false, redirect: false }));
  router.use((req: Request, res: Response) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.status(405).json({ error: 'ClientException', message: 'the console answers GET only' });
      return;
    }
    if (!existsSync(index)) {
      res.status(404).json({
        error: 'ResourceNotFoundException',
        message: `the console is not built (no ${index}): run pnpm build, or set BERTH_CONSOLE_DIR`,
      });
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
