/** Stable error codes; `error.code` never changes between releases. */
export type PgSlotsErrorCode =
  | 'PGSLOTS_VALIDATION'
  | 'PGSLOTS_LIMIT_NOT_FOUND'
  | 'PGSLOTS_LIMIT_EXISTS'
  | 'PGSLOTS_IMPOSSIBLE_REQUEST'
  | 'PGSLOTS_ACQUIRE_TIMEOUT'
  | 'PGSLOTS_LEASE_LOST'

/** Base class of every error pgslots throws on purpose. */
export class PgSlotsError extends Error {
  readonly code: PgSlotsErrorCode
  constructor(code: PgSlotsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** A bad argument or option; the message names the field and the value. */
export class ValidationError extends PgSlotsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGSLOTS_VALIDATION', message, options)
  }
}

export class LimitNotFoundError extends PgSlotsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGSLOTS_LIMIT_NOT_FOUND', message, options)
  }
}

export class LimitExistsError extends PgSlotsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGSLOTS_LIMIT_EXISTS', message, options)
  }
}

/** The request can never be satisfied (e.g. occupy > slots); thrown at once instead of waiting forever. */
export class ImpossibleRequestError extends PgSlotsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGSLOTS_IMPOSSIBLE_REQUEST', message, options)
  }
}

export class AcquireTimeoutError extends PgSlotsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGSLOTS_ACQUIRE_TIMEOUT', message, options)
  }
}

/** The lease expired, was revoked, or could not be renewed before the local trust window closed. */
export class LeaseLostError extends PgSlotsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PGSLOTS_LEASE_LOST', message, options)
  }
}

const bySqlState: Record<string, new (message: string, options?: { cause?: unknown }) => PgSlotsError> = {
  PS400: ValidationError,
  PS404: LimitNotFoundError,
  PS409: LimitExistsError,
  PS410: LeaseLostError,
  PS422: ImpossibleRequestError,
}

/**
 * Turns an error raised by a pgslots SQL function (custom SQLSTATE) into its error class.
 * Any other error (connectivity, permissions) is returned unchanged.
 * @internal
 */
export function fromDatabaseError(error: unknown): unknown {
  const sqlState = (error as { code?: unknown } | null)?.code
  const ErrorClass = typeof sqlState === 'string' ? bySqlState[sqlState] : undefined
  if (!ErrorClass) return error
  return new ErrorClass((error as Error).message, { cause: error })
}
