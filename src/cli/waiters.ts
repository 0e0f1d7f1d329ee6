import { sql } from 'kysely'
import type { Coordinator } from '../coordinator.js'

/** A queued request as the CLI shows it (the same shape in `limit inspect` and `watch`). */
export interface WaiterInfo {
  ticket: string
  priority: number
  names: string[]
  occupy: number
  holder: unknown
  waitingSince: Date
}

/** Waiters in line order (priority, then ticket), of one limit or of all; from the `waiting` view. */
export async function listWaiters(slots: Coordinator, options: { limit?: string; max?: number } = {}): Promise<WaiterInfo[]> {
  let query = slots.db.selectFrom('waiting').selectAll().orderBy('priority', 'desc').orderBy('ticket')
  if (options.limit !== undefined) query = query.where(sql<boolean>`${options.limit} = ANY (queues)`)
  if (options.max !== undefined) query = query.limit(options.max)
  return (await query.execute()).map((w) => ({
    ticket: w.ticket,
    priority: w.priority,
    names: w.names,
    occupy: w.occupy,
    holder: w.holder,
    waitingSince: new Date(w.created_at),
  }))
}
