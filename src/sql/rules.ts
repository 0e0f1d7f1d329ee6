/** Longest limit name, in characters. */
const NAME_MAX_CHARS = 200
const NAMES_MAX = 100
const HOLDER_MAX_BYTES = 4096
const PRIORITY = { min: -1000, max: 1000 }
const DURATION_MS = { min: 100, max: 7 * 24 * 3600 * 1000 }

/**
 * The value rules of limit names and requests, each stated once: its bounds and the words
 * an error says. The TypeScript checks (src/validate.ts, src/options.ts,
 * src/acquire/acquire-options.ts) use them for early errors, after checking types and
 * shapes. The SQL checks, which every client language goes through, have them written in
 * by migrate(): a source file says `{{rule.key}}`, bare for a number, inside a string
 * literal for words (their quotes are doubled; they hold no %, as they stand in format()
 * strings). See src/sql/README.md. The
 * limit_name, occupy_count and positive_interval domains of migrations/0001_baseline.sql
 * hold stored rows to the same bounds for raw SQL writes. @internal
 */
export const rules = {
  name: {
    maxChars: NAME_MAX_CHARS,
    size: `must be 1-${NAME_MAX_CHARS} characters without control characters`,
    star: "'*' may only end a template name (gpu:*)",
    catchAll: "a template needs a prefix before '*' (gpu:*); a catch-all would guard every misspelt name",
    template: 'is a template, which holds no slots; ask for a name it covers',
  },
  // A request locks one limit row per name for its whole transaction.
  names: { max: NAMES_MAX, tooMany: `at most ${NAMES_MAX} names per request` },
  // The holder is copied into the lease, every waiter row and history, and shown whole by the listings.
  holder: { maxBytes: HOLDER_MAX_BYTES, tooBig: `at most ${HOLDER_MAX_BYTES} bytes of JSON text` },
  occupy: { min: 1, range: 'must be an integer >= 1' },
  priority: { ...PRIORITY, range: `must be an integer from ${PRIORITY.min} to ${PRIORITY.max}` },
  // ttl and heartbeat: integers of milliseconds in TypeScript (refused as such), intervals in SQL.
  duration: { minMs: DURATION_MS.min, maxMs: DURATION_MS.max, range: 'must be between 100 ms and 7 days' },
} as const
