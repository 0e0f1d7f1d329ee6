import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

const loopbackNames = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])
const wildcard = new Set(['0.0.0.0', '::', '[::]'])

/** The hostname of a Host header ("127.0.0.1:8080" → "127.0.0.1", "[::1]:80" → "[::1]"). */
function hostname(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '')
}

/**
 * Whether a Host header names this server. A page served under another name (DNS rebinding:
 * evil.example resolving to 127.0.0.1) could otherwise read the token from the page.
 */
export function hostAllowed(req: IncomingMessage, boundHost: string): boolean {
  const host = req.headers.host
  if (!host) return false
  if (wildcard.has(boundHost)) return true // listening everywhere: any name the network gives it
  const name = hostname(host)
  return loopbackNames.has(name) || name === boundHost || name === `[${boundHost}]`
}

/**
 * Why an admin request is refused, or null when it may run. Cross-site requests fail at
 * least twice: a browser sends their Origin (not ours), and they cannot know the token,
 * which is random per process and only in the page. A JSON content type also forces a
 * CORS preflight, which this server never answers.
 */
export function refuseAdminRequest(req: IncomingMessage, token: string, boundHost: string): string | null {
  if (!hostAllowed(req, boundHost)) return 'unknown Host'
  const origin = req.headers.origin
  if (origin !== undefined && origin !== `http://${req.headers.host}`) return 'cross-site request'
  const site = req.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin') return 'cross-site request'
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return 'expected application/json'
  const given = Buffer.from(String(req.headers['x-pgslots-token'] ?? ''))
  const expected = Buffer.from(token)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'missing or wrong x-pgslots-token'
  return null
}
