// An in-memory model of pgslots' concurrency limits, for model-based tests:
// what a request should get, and what the counters should read afterwards.

export interface ModelLimit {
  slots: number
  active: boolean
  activeSlots: number
  deniedSlots: number
}

export interface ModelLease {
  /** The limits the lease counts against (those active when it was granted). */
  counted: string[]
  occupy: number
  live: boolean
  /** Leases taken through the SQL API are not renewed: they expire after their ttl. */
  expires: boolean
  /** Lease.release() answers every call like the first one. */
  firstRelease?: boolean
}

export type Outcome = { kind: 'granted' } | { kind: 'busy' } | { kind: 'error'; code: string }

export class SlotsModel {
  readonly limits = new Map<string, ModelLimit>()
  readonly leases: ModelLease[] = []

  create(name: string, slots: number): Outcome {
    // A second template of one name is bad input; a second limit is a conflict.
    if (this.limits.has(name)) return { kind: 'error', code: name.endsWith('*') ? 'PGSLOTS_VALIDATION' : 'PGSLOTS_LIMIT_EXISTS' }
    this.limits.set(name, { slots, active: true, activeSlots: 0, deniedSlots: 0 })
    return { kind: 'granted' }
  }

  update(name: string, change: { slots?: number; active?: boolean }): Outcome {
    const limit = this.limits.get(name)
    if (!limit) return { kind: 'error', code: 'PGSLOTS_LIMIT_NOT_FOUND' }
    Object.assign(limit, Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)))
    return { kind: 'granted' }
  }

  delete(name: string): Outcome {
    if (!this.limits.delete(name)) return { kind: 'error', code: 'PGSLOTS_LIMIT_NOT_FOUND' }
    // Leases stop counting against a deleted limit; a new limit of that name starts empty.
    for (const lease of this.leases) lease.counted = lease.counted.filter((n) => n !== name)
    return { kind: 'granted' }
  }

  /** What acquire/tryAcquire should answer; applies it (a grant is appended to `leases`). */
  acquire(names: string[], occupy: number, strict: boolean, expires = false): Outcome {
    // Limits created from templates are part of the request's transaction: an error undoes them.
    const created = this.#instantiate(names)
    const outcome = this.#acquire(names, occupy, strict, expires)
    if (outcome.kind === 'error') for (const name of created) this.limits.delete(name)
    return outcome
  }

  #acquire(names: string[], occupy: number, strict: boolean, expires: boolean): Outcome {
    const found = names.filter((n) => this.limits.has(n))
    if (strict && found.length < names.length) return { kind: 'error', code: 'PGSLOTS_LIMIT_NOT_FOUND' }
    const active = found.filter((n) => this.limits.get(n)!.active)
    // slots = 0 without strict means "paused": the request waits rather than failing.
    const impossible = active.some((n) => {
      const l = this.limits.get(n)!
      return l.slots < occupy && (l.slots > 0 || strict)
    })
    if (impossible) return { kind: 'error', code: 'PGSLOTS_IMPOSSIBLE_REQUEST' }
    const blocked = active.filter((n) => {
      const l = this.limits.get(n)!
      return l.activeSlots + occupy > l.slots
    })
    if (blocked.length > 0) {
      for (const n of blocked) this.limits.get(n)!.deniedSlots += occupy
      return { kind: 'busy' }
    }
    for (const n of active) this.limits.get(n)!.activeSlots += occupy
    // No limit found: nothing to guard, so no lease (the handle holds nothing).
    if (found.length > 0) this.leases.push({ counted: active, occupy, live: true, expires })
    return { kind: 'granted' }
  }

  /** Missing names covered by a template ('d*') become limits with its settings (longest prefix wins). */
  #instantiate(names: string[]): string[] {
    const created: string[] = []
    for (const name of names) {
      if (this.limits.has(name)) continue
      const template = [...this.limits.keys()]
        .filter((t) => t.endsWith('*') && name.startsWith(t.slice(0, -1)))
        .sort((x, y) => y.length - x.length)[0]
      if (!template) continue
      const { slots, active } = this.limits.get(template)!
      this.limits.set(name, { slots, active, activeSlots: 0, deniedSlots: 0 })
      created.push(name)
    }
    return created
  }

  /** Ends a lease (release, revoke, expiry); false when it had already ended. */
  end(index: number): boolean {
    const lease = this.leases[index]!
    if (!lease.live) return false
    lease.live = false
    for (const n of lease.counted) {
      const limit = this.limits.get(n)
      if (limit) limit.activeSlots -= lease.occupy
    }
    return true
  }

  /** Lease.release(): idempotent, every call answers like the first. */
  release(index: number): boolean {
    const lease = this.leases[index]!
    lease.firstRelease ??= this.end(index)
    return lease.firstRelease
  }

  /** Expires every lease that is not renewed. */
  expireUnrenewed(): void {
    this.leases.forEach((lease, i) => lease.expires && this.end(i))
  }
}
