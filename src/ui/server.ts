import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { extname, join } from 'node:path'
import type { Coordinator } from '../coordinator.js'
import { packageDir } from '../package-dir.js'
import { runAdminAction } from './admin-actions.js'
import { LiveFeed } from './live-feed.js'
import { hostAllowed, refuseAdminRequest } from './request-guard.js'

export interface UiOptions {
  /** Default 8080; 0 picks a free port (see `url`). */
  port?: number
  /** Default 127.0.0.1: the page shows every holder's label, so it is not on the network unless asked. */
  host?: string
  /** Offer enable/disable, change slots and revoke (as far as the database role may). Default false. */
  admin?: boolean
  /** How often the views are read for all open pages, in ms. Default 500. */
  intervalMs?: number
}

export interface UiServer {
  server: Server
  /** http://HOST:PORT/ */
  url: string
  /** Stops serving and ends every open page's stream (the coordinator stays open). */
  close(): Promise<void>
}

const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }
const assetNames = ['index.html', 'app.js', 'charts.js', 'timeline.js', 'style.css']

/** The page and its files, read once, from src/ui/assets (paths are relative to src/package-dir.ts, in the sources and the package). */
function loadAssets(): Map<string, Buffer> {
  const dir = packageDir('the ui assets', ['./ui/assets/', '../../src/ui/assets/'], 'index.html')
  const files = new Map(assetNames.map((name) => [`/assets/${name}`, readFileSync(join(dir, name))]))
  // uPlot from its own package (a dependency), so the version is the lock file's.
  const require = createRequire(import.meta.url)
  files.set('/vendor/uPlot.iife.min.js', readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')))
  files.set('/vendor/uPlot.min.css', readFileSync(require.resolve('uplot/dist/uPlot.min.css')))
  return files
}

// No inline script anywhere, so a holder label that smuggled markup in could not run.
const headers = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = ''
  for await (const chunk of req) {
    text += chunk
    if (text.length > 10_000) throw Object.assign(new Error('request body too large'), { status: 413 })
  }
  try {
    return JSON.parse(text)
  } catch {
    throw Object.assign(new Error('request body is not JSON'), { status: 400 })
  }
}

/**
 * Serves the live page of `slots` (limits, holders, waiters, timeline, per-minute charts)
 * from your own process. Resolves once listening; rejects when the port is taken.
 * @example
 * const ui = await serveUi(slots, { port: 0 })
 * console.log(`open ${ui.url}`)
 */
export async function serveUi(slots: Coordinator, options: UiOptions = {}): Promise<UiServer> {
  const host = options.host ?? '127.0.0.1'
  const admin = options.admin ?? false
  // Per process and only in the page: what a cross-site request cannot know.
  const token = randomBytes(24).toString('base64url')
  const assets = loadAssets()
  const config = JSON.stringify({ admin, ...(admin ? { token } : {}) }).replace(/"/g, '&quot;')
  const page = assets.get('/assets/index.html')!.toString('utf8').replace('__PGSLOTS_CONFIG__', config)
  const feed = new LiveFeed(slots, { intervalMs: options.intervalMs ?? 500, admin })

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) =>
    res.writeHead(status, { ...headers, 'content-type': `${type}; charset=utf-8` }).end(body)
  const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, 'application/json', JSON.stringify(value))

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, action: string): Promise<void> {
    const refused = admin ? refuseAdminRequest(req, token, host) : 'the page runs without --admin'
    if (refused) {
      sendJson(res, 403, { error: refused })
      return
    }
    try {
      sendJson(res, 200, await runAdminAction(slots, action, await readJson(req)))
    } catch (error) {
      const e = error as { status?: number; code?: string; message?: string }
      const status = e.status ?? (e.code === '42501' ? 403 : e.code?.startsWith('PGSLOTS_') ? 400 : 500)
      sendJson(res, status, { error: e.message ?? String(error) })
    }
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (!hostAllowed(req, host)) return send(res, 421, 'text/plain', 'unknown Host\n')
    if (req.method === 'POST' && path.startsWith('/api/')) return void handleAdmin(req, res, path.slice('/api/'.length))
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n')
    if (path === '/') return send(res, 200, 'text/html', page)
    if (path === '/events') return feed.add(res)
    if (path === '/favicon.ico') return void res.writeHead(204).end()
    const file = assets.get(path)
    if (file) return send(res, 200, types[extname(path)] ?? 'application/octet-stream', file)
    send(res, 404, 'text/plain', 'not found\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const shown = host.includes(':') ? `[${host}]` : host
  return {
    server,
    url: `http://${shown}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        feed.close()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
