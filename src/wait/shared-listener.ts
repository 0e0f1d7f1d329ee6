import type pg from 'pg'
import { Listener, type ListenerEvents } from './listener.js'

/** What a coordinator's waiting room hears from the process's listener. @internal */
export interface ListenerMember extends Omit<ListenerEvents, 'onNotify'> {
  /** A NOTIFY payload arrived; true when one of this member's waiters took it. With `remember`, one that none took is kept for a waiter about to register. */
  onNotify(payload: string, remember: boolean): boolean
}

interface Shared {
  listener: Listener
  members: Set<ListenerMember>
}

const byKey = new Map<string, Shared>()

/**
 * The key of a connection that can be shared: the schema and the settings, when every one of
 * them is a plain value. Settings with a function, a stream or an object in them (a password
 * callback, TLS options) cannot be told apart from others: such a coordinator listens alone.
 */
function shareKey(config: pg.ClientConfig, schema: string): string | undefined {
  const entries = Object.entries(config).filter(([, v]) => v !== undefined)
  if (entries.some(([, v]) => v !== null && typeof v === 'object')) return undefined
  if (entries.some(([, v]) => typeof v === 'function')) return undefined
  return JSON.stringify([schema, entries.sort(([a], [b]) => (a < b ? -1 : 1))])
}

/**
 * Joins the process's LISTEN connection for this database and schema, started if none runs.
 * One connection serves every coordinator of the process with the same settings: at each
 * commit that notifies, PostgreSQL wakes every listening backend of the database, so every
 * extra listener costs every grant some server CPU. Grants go to the member whose waiter has
 * the ticket (tickets are unique in a schema); the last member to leave stops the connection.
 * @internal
 */
export function joinListener(config: pg.ClientConfig, schema: string, member: ListenerMember): { listener: Listener; leave(): Promise<void> } {
  const key = shareKey(config, schema)
  let shared = key === undefined ? undefined : byKey.get(key)
  if (!shared) {
    const members = new Set<ListenerMember>()
    const created: Shared = { listener: undefined!, members }
    created.listener = new Listener(config, schema, {
      // When no member has the waiter yet (its acquire() answer is on the way), each keeps the ticket (bounded).
      onNotify: (payload) => {
        if (![...members].some((m) => m.onNotify(payload, false))) members.forEach((m) => m.onNotify(payload, true))
      },
      onListening: () => members.forEach((m) => m.onListening()),
      onUnreliable: () => {
        // The listener stops for good; coordinators created later try a connection of their own.
        if (key !== undefined && byKey.get(key) === created) byKey.delete(key)
        members.forEach((m) => m.onUnreliable())
      },
      // Through the first member whose pool can send it.
      sendProbe: async (channel, payload) => {
        let failure: unknown = new Error('no coordinator left to send the probe')
        for (const m of [...members]) {
          try {
            return await m.sendProbe(channel, payload)
          } catch (error) {
            failure = error
          }
        }
        throw failure
      },
    })
    shared = created
    if (key !== undefined) byKey.set(key, shared)
  }
  const joined = shared
  joined.members.add(member)
  return {
    listener: joined.listener,
    async leave() {
      if (!joined.members.delete(member) || joined.members.size > 0) return
      if (key !== undefined && byKey.get(key) === joined) byKey.delete(key)
      await joined.listener.stop()
    },
  }
}
