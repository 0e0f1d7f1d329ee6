import { type Kysely, type Selectable, sql } from 'kysely'
import { callFunctionRow } from '../sql/call-function.js'
import type { LimitStatusView, LimitsTable, PgSlotsDatabase } from '../sql/schema.js'
import { LimitNotFoundError } from '../errors.js'
import type { SqlContext } from '../sql/context.js'
import { checkBoolean, checkInteger, checkKnownKeys, checkLimitName, checkNumber, invalid } from '../validate.js'

/** A limit as users see it. */
export interface LimitInfo {
  name: string
  slots: number
  active: boolean
  slotDecayPerSecond: number
  /** Slots held by live leases; may exceed `slots` right after `slots` was lowered. */
  activeSlots: number
  /** Slots of requests that could not be granted at once (queued or refused), since creation. */
  deniedSlots: number
  avgSlotOccupancySeconds: number
  createdAt: Date
  updatedAt: Date
  /** Requests waiting in this limit's queue (0 in what delete() returns: they no longer wait for it). */
  waiting: number
  /** 'template' for a name ending in '*' (holds no slots; creates the limits it covers). */
  kind: 'limit' | 'template'
  /** The template this limit was created from, or null. */
  template: string | null
  /**
   * A rate limit's budget in use (fractional slots, draining at slotDecayPerSecond), now (in
   * what delete() returns: as of the limit's last change). null for a concurrency limit.
   */
  bucketLevel: number | null
  /** When the next slot of a rate limit's budget frees; null when one is free (or not a rate limit). */
  bucketFreesAt: Date | null
}

export interface LimitSettings {
  slots: number
  active?: boolean | undefined
  slotDecayPerSecond?: number | undefined
}

/** What update() changes: settings, and the name (`{ name: 'gpu:a100-1' }` renames). */
export type LimitUpdate = Partial<LimitSettings> & { name?: string | undefined }

const settingKeys = ['slots', 'active', 'slotDecayPerSecond'] as const

/** A row of the table (what the SQL functions return) as of its last change. */
function toInfo(row: Selectable<LimitsTable>, waiting: number): LimitInfo {
  return {
    name: row.name,
    slots: row.slots,
    active: row.active,
    slotDecayPerSecond: row.slot_decay_per_second,
    activeSlots: row.active_slots,
    deniedSlots: Number(row.denied_slots),
    avgSlotOccupancySeconds: row.avg_slot_occupancy_seconds,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    waiting,
    kind: row.name.endsWith('*') ? 'template' : 'limit',
    template: row.template,
    ...bucketAt(row),
  }
}

/** The bucket as of its last change (decayed_at), from the row alone: no clock is read. */
function bucketAt(row: Selectable<LimitsTable>): Pick<LimitInfo, 'bucketLevel' | 'bucketFreesAt'> {
  if (row.slot_decay_per_second <= 0) return { bucketLevel: null, bucketFreesAt: null }
  const full = row.decaying_slots + 1 > row.slots
  const freesInMs = ((row.decaying_slots + 1 - row.slots) / row.slot_decay_per_second) * 1000
  return {
    bucketLevel: row.decaying_slots,
    bucketFreesAt: full ? new Date(new Date(row.decayed_at).getTime() + freesInMs) : null,
  }
}

/** Reads go through the `limit_status` view, so a reader role (views only) can list limits. */
function statusToInfo(row: Selectable<LimitStatusView>): LimitInfo {
  return {
    name: row.name,
    slots: row.slots,
    active: row.active,
    slotDecayPerSecond: row.slot_decay_per_second,
    activeSlots: row.used,
    deniedSlots: Number(row.denied),
    avgSlotOccupancySeconds: row.avg_occupancy_seconds,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    waiting: row.waiting,
    kind: row.kind,
    template: row.template,
    bucketLevel: row.bucket_level,
    bucketFreesAt: row.bucket_frees_at === null ? null : new Date(row.bucket_frees_at),
  }
}

function checkSettings(value: unknown, slotsRequired: boolean, known: readonly string[] = settingKeys): Partial<LimitSettings> {
  if (value === null || typeof value !== 'object') invalid('settings', 'must be an object', value)
  checkKnownKeys('settings', value, known)
  const s = value as Partial<LimitSettings>
  if (slotsRequired || s.slots !== undefined) checkInteger('slots', s.slots, 0)
  if (s.active !== undefined) checkBoolean('active', s.active)
  if (s.slotDecayPerSecond !== undefined) checkNumber('slotDecayPerSecond', s.slotDecayPerSecond, 0, 1e9)
  return s
}

/** Administration of limits: `coordinator.limits`. */
export class Limits {
  readonly #ctx: SqlContext
  readonly #db: Kysely<PgSlotsDatabase>
  readonly #warn: (message: string) => void

  /** @internal */
  constructor(ctx: SqlContext, db: Kysely<PgSlotsDatabase>, warn: (message: string) => void) {
    this.#ctx = ctx
    this.#db = db
    this.#warn = warn
  }

  /**
   * Creates a limit; LimitExistsError when the name is taken.
   * @example
   * await slots.limits.create('gpu:gpu-1', { slots: 2 })
   */
  async create(name: string, settings: LimitSettings): Promise<LimitInfo> {
    return this.#put(checkLimitName(name), checkSettings(settings, true), 'create')
  }

  /**
   * Creates the limit, or updates the given settings of an existing one.
   * @example
   * await slots.limits.upsert('api:openai', { slots: 5, slotDecayPerSecond: 1 })
   */
  async upsert(name: string, settings: LimitSettings): Promise<LimitInfo> {
    return this.#put(checkLimitName(name), checkSettings(settings, true), 'upsert')
  }

  /**
   * Changes settings; slots freed by a raise go to waiters at once. Lowering below the
   * slots in use is allowed: no new grant until fewer slots than the new number are in use
   * (reported as a warning).
   *
   * `name` renames it (a template keeps a trailing '*', and its limits follow it). Refused
   * while any lease or waiter names the limit: they all carry the old name, so rename it
   * when it is idle (disable it first to let work drain elsewhere). History keeps the old name.
   * @example
   * await slots.limits.update('gpu:gpu-1', { slots: 4 })
   * await slots.limits.update('gpu:gpu-1', { name: 'gpu:a100-1' })
   */
  async update(name: string, settings: LimitUpdate): Promise<LimitInfo> {
    checkLimitName(name)
    const { name: newName, ...rest } = checkSettings(settings, false, [...settingKeys, 'name']) as LimitUpdate
    if (newName === undefined) return this.#put(name, rest, 'update')
    checkLimitName(newName)
    const renamed = await callFunctionRow<Selectable<LimitsTable>>(this.#ctx.pool, this.#ctx.schema, 'rename_limit', [name, newName])
    return Object.keys(rest).length === 0 ? this.#current(renamed) : this.#put(newName, rest, 'update')
  }

  /** @example await slots.limits.enable('gpu:gpu-1') */
  async enable(name: string): Promise<LimitInfo> {
    return this.update(name, { active: true })
  }

  /** An inactive limit never blocks and counts nothing. @example await slots.limits.disable('gpu:gpu-1') */
  async disable(name: string): Promise<LimitInfo> {
    return this.update(name, { active: false })
  }

  /** LimitNotFoundError when missing. @example const info = await slots.limits.get('gpu:gpu-1') */
  async get(name: string): Promise<LimitInfo> {
    checkLimitName(name)
    const row = await this.#db.selectFrom('limit_status').selectAll().where('name', '=', name).executeTakeFirst()
    if (!row) throw new LimitNotFoundError(`limit not found: ${name}`)
    return statusToInfo(row)
  }

  /**
   * Limits in name order, optionally only those whose name starts with `prefix`.
   * @example
   * const gpus = await slots.limits.list({ prefix: 'gpu:' })
   */
  async list(options: { prefix?: string | undefined } = {}): Promise<LimitInfo[]> {
    checkKnownKeys('options', options, ['prefix'])
    let query = this.#db.selectFrom('limit_status').selectAll().orderBy('name')
    if (options.prefix !== undefined) {
      if (typeof options.prefix !== 'string') invalid('prefix', 'must be a string', options.prefix)
      query = query.where(sql<boolean>`starts_with(name, ${options.prefix})`)
    }
    return (await query.execute()).map(statusToInfo)
  }

  /**
   * Deletes a limit and returns it as it was; its leases stop counting against it and
   * its waiters stop waiting for it. LimitNotFoundError when missing.
   * @example
   * await slots.limits.delete('gpu:gpu-1')
   */
  async delete(name: string): Promise<LimitInfo> {
    checkLimitName(name)
    const row = await callFunctionRow<Selectable<LimitsTable>>(this.#ctx.pool, this.#ctx.schema, 'delete_limit', [name])
    return toInfo(row, 0)
  }

  /**
   * Gives every limit created from template `name` (e.g. 'gpu:*') the template's current
   * settings; returns how many were updated. (Editing a template alone changes only the
   * limits it creates afterwards.)
   * @example
   * await slots.limits.update('gpu:*', { slots: 3 })
   * await slots.limits.applyTemplate('gpu:*')
   */
  async applyTemplate(name: string): Promise<number> {
    checkLimitName(name)
    if (!name.endsWith('*')) invalid('name', "must be a template name ending in '*'", name)
    const row = await callFunctionRow<{ apply_template: number }>(this.#ctx.pool, this.#ctx.schema, 'apply_template', [name])
    return row.apply_template
  }

  async #put(name: string, s: Partial<LimitSettings>, mode: 'create' | 'upsert' | 'update'): Promise<LimitInfo> {
    const row = await callFunctionRow<Selectable<LimitsTable>>(this.#ctx.pool, this.#ctx.schema, 'put_limit', [
      name,
      s.slots ?? null,
      s.active ?? null,
      s.slotDecayPerSecond ?? null,
      mode,
    ])
    const info = await this.#current(row)
    if (info.active && info.activeSlots > info.slots) {
      this.#warn(
        `limit ${name} has ${info.activeSlots} slots in use, above its new ${info.slots}: no new grant until fewer than ${info.slots} are in use`,
      )
    }
    return info
  }

  /**
   * A changed limit as get() shows it (its waiters counted, its bucket now), so that every
   * method returns one shape; the row as changed if it is gone meanwhile.
   */
  async #current(row: Selectable<LimitsTable>): Promise<LimitInfo> {
    const status = await this.#db.selectFrom('limit_status').selectAll().where('name', '=', row.name).executeTakeFirst()
    return status ? statusToInfo(status) : toInfo(row, 0)
  }
}
