import { type Kysely, sql } from 'kysely'
import type { PgSlotsDatabase } from '../sql/schema.js'
import type { SqlContext } from '../sql/context.js'
import { revokeLease } from '../sql/revoke.js'
import { checkKnownKeys, checkLimitName, invalid } from '../validate.js'

/** A live lease as others see it: never the secret id. */
export interface LeaseInfo {
  fencingToken: bigint
  names: string[]
  occupy: number
  holder: unknown
  acquiredAt: Date
  expiresAt: Date
}

/** `JSON.stringify` of a LeaseInfo works: the bigint token becomes a string (a hidden toJSON). */
function withJson(info: LeaseInfo): LeaseInfo {
  return Object.defineProperty(info, 'toJSON', {
    value: () => ({ ...info, fencingToken: info.fencingToken.toString() }),
    enumerable: false,
  })
}

/** Listing and revoking leases: `coordinator.leases`. */
export class Leases {
  readonly #ctx: SqlContext
  readonly #db: Kysely<PgSlotsDatabase>

  /** @internal */
  constructor(ctx: SqlContext, db: Kysely<PgSlotsDatabase>) {
    this.#ctx = ctx
    this.#db = db
  }

  /**
   * Live (unexpired) leases in fencing-token order, optionally only those on one limit.
   * @example
   * for (const l of await slots.leases.list({ limit: 'gpu:gpu-1' })) console.log(l.fencingToken, l.holder)
   */
  async list(options: { limit?: string | undefined } = {}): Promise<LeaseInfo[]> {
    checkKnownKeys('options', options, ['limit'])
    let query = this.#db
      // The view (live leases only), so a reader role can list them too.
      .selectFrom('active_leases')
      .select(['fencing_token', 'names', 'occupy', 'holder', 'acquired_at', 'expires_at'])
      .orderBy('fencing_token')
    if (options.limit !== undefined) {
      const name = checkLimitName(options.limit, 'limit')
      query = query.where(sql<boolean>`${name} = ANY (names)`)
    }
    const rows = await query.execute()
    return rows.map((r) =>
      withJson({
        fencingToken: BigInt(r.fencing_token),
        names: r.names,
        occupy: r.occupy,
        holder: r.holder,
        acquiredAt: new Date(r.acquired_at),
        expiresAt: new Date(r.expires_at),
      }),
    )
  }

  /**
   * Ends a lease by its public fencing token; its slots go to the next waiter now and its
   * holder learns at its next renewal at the latest. Resolves false when no such lease.
   * @example
   * await slots.leases.revoke(42n)
   */
  async revoke(fencingToken: bigint | number | string): Promise<boolean> {
    let token: bigint
    try {
      token = BigInt(fencingToken)
    } catch {
      return invalid('fencingToken', 'must be an integer', fencingToken)
    }
    // A bigint column: a larger number names no lease and would fail in PostgreSQL instead.
    if (token < 1n || token > 9_223_372_036_854_775_807n) {
      invalid('fencingToken', 'must be an integer from 1 to 9223372036854775807', fencingToken)
    }
    return revokeLease(this.#ctx, token)
  }
}
