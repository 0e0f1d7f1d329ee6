import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { hostAllowed, refuseAdminRequest } from '../../src/ui/request-guard.js'

const token = 'per-process-token'
const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage
const good = { host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080', 'content-type': 'application/json', 'x-pgslots-token': token }

describe('the admin request guard', () => {
  it('lets a same-origin JSON request with the token through', () => {
    expect(refuseAdminRequest(request(good), token, '127.0.0.1')).toBeNull()
    expect(refuseAdminRequest(request({ ...good, 'sec-fetch-site': 'same-origin' }), token, '127.0.0.1')).toBeNull()
  })

  it('refuses another origin, another site, a form post, a missing or wrong token', () => {
    expect(refuseAdminRequest(request({ ...good, origin: 'http://evil.example' }), token, '127.0.0.1')).toBe('cross-site request')
    expect(refuseAdminRequest(request({ ...good, origin: 'null' }), token, '127.0.0.1')).toBe('cross-site request')
    expect(refuseAdminRequest(request({ ...good, 'sec-fetch-site': 'cross-site' }), token, '127.0.0.1')).toBe('cross-site request')
    expect(refuseAdminRequest(request({ ...good, 'content-type': 'text/plain' }), token, '127.0.0.1')).toBe('expected application/json')
    const { 'x-pgslots-token': _omitted, ...noToken } = good
    expect(refuseAdminRequest(request(noToken), token, '127.0.0.1')).toBe('missing or wrong x-pgslots-token')
    expect(refuseAdminRequest(request({ ...good, 'x-pgslots-token': 'guess' }), token, '127.0.0.1')).toBe('missing or wrong x-pgslots-token')
  })

  it('accepts only this server’s names as Host, unless it listens everywhere', () => {
    for (const host of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080']) expect(hostAllowed(request({ host }), '127.0.0.1')).toBe(true)
    expect(hostAllowed(request({ host: 'evil.example:8080' }), '127.0.0.1')).toBe(false)
    expect(hostAllowed(request({}), '127.0.0.1')).toBe(false)
    expect(hostAllowed(request({ host: '10.0.0.5:8080' }), '10.0.0.5')).toBe(true)
    expect(hostAllowed(request({ host: 'pgslots.internal:8080' }), '0.0.0.0')).toBe(true)
  })
})
