import { InvalidArgumentError } from 'commander'

export function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`expected an integer, got "${value}"`)
  return Number(value)
}

export function parsePort(value: string): number {
  const port = parseInteger(value)
  if (port < 0 || port > 65535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got ${value}`)
  return port
}

export function parseNumber(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`)
  return n
}
