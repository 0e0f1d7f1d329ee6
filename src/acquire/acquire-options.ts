import { checkHolder, checkTtlMs, type Holder } from '../options.js'
import { rules } from '../sql/rules.js'
import { checkBoolean, checkInteger, checkKnownKeys, invalid } from '../validate.js'

export interface AcquireOptions {
  /** Slots taken on each named limit. Default 1. */
  occupy?: number | undefined
  /** Give up waiting after this long (AcquireTimeoutError). Default: wait forever. */
  timeoutMs?: number | undefined
  /** Lease time-to-live, renewed every ttl/3. Default: the coordinator's `ttlMs`. */
  ttlMs?: number | undefined
  /** Throw LimitNotFoundError when any name is missing, instead of skipping it with a warning. */
  strict?: boolean | undefined
  /** Abort the wait; the signal's reason is thrown and nothing is left behind. */
  signal?: AbortSignal | undefined
  /** Recorded on the lease instead of the coordinator's holder. */
  holder?: Holder | undefined
  /**
   * Place in line, -1000 to 1000 (default 0; rules.priority): on each limit, waiters of higher priority are
   * served first, FIFO among equal priorities. Strict: a steady stream of higher priorities
   * can starve lower ones.
   */
  priority?: number | undefined
}

/** rateLimit() holds nothing, so it has no ttl. */
export type RateLimitOptions = Omit<AcquireOptions, 'ttlMs'>

/** @internal */
export interface CheckedAcquireOptions {
  occupy: number
  ttlMs: number
  timeoutMs: number | undefined
  strict: boolean
  signal: AbortSignal | undefined
  holder: Holder | undefined
  priority: number
}

const acquireKeys = ['occupy', 'timeoutMs', 'ttlMs', 'strict', 'signal', 'holder', 'priority'] as const
/** @internal */
export const rateLimitKeys = ['occupy', 'timeoutMs', 'strict', 'signal', 'holder', 'priority'] as const

/** Defaults and validation of acquire/tryAcquire/concurrency/rateLimit options. @internal */
export function checkAcquireOptions(
  options: AcquireOptions,
  defaultTtlMs: number,
  known: readonly string[] = acquireKeys,
): CheckedAcquireOptions {
  if (options === null || typeof options !== 'object') invalid('options', 'must be an object', options)
  checkKnownKeys('options', options, known)
  const occupy = options.occupy ?? 1
  // The type (an integer column), then the rule.
  if (typeof occupy !== 'number' || !Number.isInteger(occupy) || Math.abs(occupy) > 2_147_483_647) {
    invalid('occupy', 'must be a 32-bit integer', occupy)
  }
  if (occupy < rules.occupy.min) invalid('occupy', rules.occupy.range, occupy)
  const ttlMs = checkTtlMs('ttlMs', options.ttlMs ?? defaultTtlMs)
  if (options.timeoutMs !== undefined && options.timeoutMs !== Number.POSITIVE_INFINITY) {
    checkInteger('timeoutMs', options.timeoutMs, 0, Number.MAX_SAFE_INTEGER)
  }
  const timeoutMs = options.timeoutMs === Number.POSITIVE_INFINITY ? undefined : options.timeoutMs
  const strict = options.strict ?? false
  checkBoolean('strict', strict)
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    invalid('signal', 'must be an AbortSignal', options.signal)
  }
  if (options.holder !== undefined) checkHolder('holder', options.holder)
  const priority = options.priority ?? 0
  checkInteger('priority', priority, rules.priority.min, rules.priority.max, rules.priority.range)
  return { occupy, ttlMs, timeoutMs, strict, signal: options.signal, holder: options.holder, priority }
}
