import pg from 'pg'

/** A real pg.Pool that sees the pgslots functions called through it. */
export interface SpiedPool {
  pool: pg.Pool
  /** How many calls of `fn` were sent so far. */
  calls(fn: string): number
  /** The next call of `fn` runs to its commit, then fails like a cut connection: its answer is lost. */
  loseAnswerOfNext(fn: string): void
  /** How many answers were lost so far. */
  lost(): number
}

export function spiedPool(url: string): SpiedPool {
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  const sent = new Map<string, number>()
  let toLose: string | undefined
  let lost = 0
  type Query = string | { text: string }
  const query = pool.query.bind(pool) as (q: Query, values?: unknown[]) => Promise<pg.QueryResult>
  pool.query = ((q: Query, values?: unknown[]) => {
    // A call is sent as text and values, or as a named statement ({ name, text, values }).
    const text = typeof q === 'string' ? q : q.text
    const fn = /^SELECT \* FROM "[^"]+"\.(\w+)\(/.exec(text)?.[1]
    if (fn === undefined) return query(q, values)
    sent.set(fn, (sent.get(fn) ?? 0) + 1) // counted when sent, not when answered
    const lose = fn === toLose
    if (lose) toLose = undefined
    return query(q, values).then((result) => {
      if (!lose) return result
      lost++
      throw new Error('Connection terminated unexpectedly')
    })
  }) as typeof pool.query
  return {
    pool,
    calls: (fn) => sent.get(fn) ?? 0,
    loseAnswerOfNext: (fn) => void (toLose = fn),
    lost: () => lost,
  }
}
