import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { AbortWatch } from '../../src/wait/abort-watch.js'

const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length

describe('abort watch', () => {
  it('puts one listener on a signal however many watch it, and calls each watcher once on abort', () => {
    const watch = new AbortWatch()
    const controller = new AbortController()
    const calls = Array.from({ length: 1000 }, () => 0)
    calls.forEach((_, i) => watch.watch(controller.signal, () => calls[i]!++))
    expect(listeners(controller.signal)).toBe(1)
    controller.abort()
    expect(calls.every((n) => n === 1)).toBe(true)
    expect(listeners(controller.signal)).toBe(0)
  })

  it('does not call a watcher that stopped watching, and takes its listener off with the last one', () => {
    const watch = new AbortWatch()
    const controller = new AbortController()
    let kept = 0
    let dropped = 0
    const stopFirst = watch.watch(controller.signal, () => dropped++)
    const stopSecond = watch.watch(controller.signal, () => kept++)
    stopFirst()
    stopFirst() // twice is harmless
    expect(listeners(controller.signal)).toBe(1)
    stopSecond()
    expect(listeners(controller.signal)).toBe(0)
    watch.watch(controller.signal, () => kept++)
    controller.abort()
    expect({ kept, dropped }).toEqual({ kept: 1, dropped: 0 })
  })

  it('calls a watcher at once when its signal has already aborted', () => {
    const watch = new AbortWatch()
    let called = 0
    const stop = watch.watch(AbortSignal.abort(), () => called++)
    expect(called).toBe(1)
    stop()
  })

  it('keeps the watchers of different signals apart', () => {
    const watch = new AbortWatch()
    const a = new AbortController()
    const b = new AbortController()
    const seen: string[] = []
    watch.watch(a.signal, () => seen.push('a'))
    watch.watch(b.signal, () => seen.push('b'))
    b.abort()
    expect(seen).toEqual(['b'])
    expect(listeners(a.signal)).toBe(1)
  })

  it('lets a watcher stop watching from inside another watcher’s abort callback', () => {
    const watch = new AbortWatch()
    const controller = new AbortController()
    const seen: string[] = []
    let stopLater = () => {}
    watch.watch(controller.signal, () => {
      seen.push('first')
      stopLater()
    })
    stopLater = watch.watch(controller.signal, () => seen.push('second'))
    controller.abort()
    expect(seen).toEqual(['first'])
  })
})
