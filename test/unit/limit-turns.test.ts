import { afterEach, describe, expect, it, vi } from 'vitest'
import { LimitTurns } from '../../src/sql/limit-turns.js'

/** A call that settles when told to, and records when it started. */
function pendingCall(log: string[], label: string) {
  let settle!: (value: string) => void
  let fail!: (error: Error) => void
  const call = () => {
    log.push(`start ${label}`)
    return new Promise<string>((resolve, reject) => {
      settle = resolve
      fail = reject
    })
  }
  return { call, settle: () => settle(label), fail: (error: Error) => fail(error) }
}

const flush = () => new Promise((resolve) => setImmediate(resolve))

describe('turns per limit', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('runs the calls on one limit one at a time, in the order they were made', async () => {
    const turns = new LimitTurns()
    const log: string[] = []
    const [a, b, c] = ['a', 'b', 'c'].map((label) => pendingCall(log, label))
    const results = Promise.allSettled([turns.take(['gpu'], a!.call), turns.take(['gpu'], b!.call), turns.take(['gpu'], c!.call)])
    await flush()
    expect(log).toEqual(['start a'])

    a!.settle()
    await flush()
    expect(log).toEqual(['start a', 'start b'])
    b!.fail(new Error('b failed'))
    await flush()
    expect(log).toEqual(['start a', 'start b', 'start c'])
    c!.settle()

    const [first, second, third] = await results
    expect(first).toEqual({ status: 'fulfilled', value: 'a' })
    expect(second).toMatchObject({ status: 'rejected', reason: new Error('b failed') })
    expect(third).toEqual({ status: 'fulfilled', value: 'c' })
  })

  it('lets calls on other limits, and on several limits, run at once', async () => {
    const turns = new LimitTurns()
    const log: string[] = []
    const calls = ['one', 'other', 'both', 'one again'].map((label) => pendingCall(log, label))
    void turns.take(['gpu:1'], calls[0]!.call)
    void turns.take(['gpu:2'], calls[1]!.call)
    void turns.take(['gpu:1', 'gpu:2'], calls[2]!.call)
    void turns.take(['gpu:1'], calls[3]!.call)
    await flush()
    expect(log).toEqual(['start one', 'start other', 'start both'])
  })

  it('hands the turn on when a call has not answered in time, and only once', async () => {
    vi.useFakeTimers()
    const turns = new LimitTurns({ giveUpMs: 50 })
    const log: string[] = []
    const [hung, next, last] = ['hung', 'next', 'last'].map((label) => pendingCall(log, label))
    void turns.take(['gpu'], hung!.call)
    void turns.take(['gpu'], next!.call)
    void turns.take(['gpu'], last!.call)
    await vi.advanceTimersByTimeAsync(49)
    expect(log).toEqual(['start hung'])

    await vi.advanceTimersByTimeAsync(1)
    expect(log).toEqual(['start hung', 'start next'])
    // The late answer of the hung call frees no place: the last call still waits for the next.
    hung!.settle()
    await vi.advanceTimersByTimeAsync(0)
    expect(log).toEqual(['start hung', 'start next'])
    next!.settle()
    await vi.advanceTimersByTimeAsync(0)
    expect(log).toEqual(['start hung', 'start next', 'start last'])
    last!.settle()
  })

  it('lets more calls through at once when the fastest recent call is slow (a distant database)', async () => {
    let clock = 0
    const turns = new LimitTurns({ busyMs: 0.4, now: () => clock })
    expect(turns.width).toBe(1)
    for (let i = 0; i < 64; i++) {
      await turns.take(['gpu'], async () => {
        clock += i === 10 ? 1.1 : 1.3
      })
    }
    expect(turns.width).toBe(3)

    const log: string[] = []
    const calls = ['a', 'b', 'c', 'd'].map((label) => pendingCall(log, label))
    for (const c of calls) void turns.take(['gpu'], c.call)
    await flush()
    expect(log).toEqual(['start a', 'start b', 'start c'])
    calls[1]!.settle()
    await flush()
    expect(log).toEqual(['start a', 'start b', 'start c', 'start d'])
  })

  it('starts the next call at once after one that gave up with nobody waiting', async () => {
    vi.useFakeTimers()
    const turns = new LimitTurns({ giveUpMs: 50 })
    const log: string[] = []
    const [hung, next] = ['hung', 'next'].map((label) => pendingCall(log, label))
    void turns.take(['gpu'], hung!.call)
    await vi.advanceTimersByTimeAsync(50)
    void turns.take(['gpu'], next!.call)
    await vi.advanceTimersByTimeAsync(0)
    expect(log).toEqual(['start hung', 'start next'])
    hung!.settle()
    next!.settle()
  })

  it('does not let untimed calls (releases) narrow the width', async () => {
    let clock = 0
    const turns = new LimitTurns({ busyMs: 0.4, now: () => clock })
    for (let i = 0; i < 64; i++) await turns.take(['gpu'], async () => void (clock += 1.3))
    expect(turns.width).toBe(4)
    for (let i = 0; i < 128; i++) await turns.take(['gpu'], async () => void (clock += 0.1), false)
    expect(turns.width).toBe(4)
  })

  it('times only the calls that succeeded: fast failures do not narrow the width', async () => {
    let clock = 0
    const turns = new LimitTurns({ busyMs: 0.4, now: () => clock })
    const slow = async () => void (clock += 1.3)
    for (let i = 0; i < 64; i++) await turns.take(['gpu'], slow)
    expect(turns.width).toBe(4)
    for (let i = 0; i < 64; i++) await turns.take(['gpu'], async () => Promise.reject(new Error('refused'))).catch(() => {})
    for (let i = 0; i < 63; i++) await turns.take(['gpu'], slow)
    await turns.take(['gpu'], slow)
    expect(turns.width).toBe(4)
  })

  it('keeps the calls waiting ahead of a new one when the width grows, and lets them in first', async () => {
    let clock = 0
    const turns = new LimitTurns({ busyMs: 0.4, now: () => clock })
    const log: string[] = []
    const [holder, first, second, late] = ['holder', 'first', 'second', 'late'].map((label) => pendingCall(log, label))
    void turns.take(['gpu'], holder!.call)
    void turns.take(['gpu'], first!.call)
    void turns.take(['gpu'], second!.call)
    // Slow calls on another limit widen the turns of every limit.
    for (let i = 0; i < 64; i++) await turns.take(['cpu'], async () => void (clock += 1.3))
    expect(turns.width).toBe(4)
    void turns.take(['gpu'], late!.call)
    await flush()
    expect(log).toEqual(['start holder'])

    holder!.settle()
    await flush()
    expect(log).toEqual(['start holder', 'start first', 'start second', 'start late'])
  })
})
