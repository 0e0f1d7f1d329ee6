/** The exit code a shell expects from a process ended by `signal`: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 1)
}

/** A command stopped by SIGINT/SIGTERM before it could finish; exits 130 or 143, like a shell. */
export class InterruptedError extends Error {
  readonly exitCode: number
  constructor(signal: NodeJS.Signals, doing: string) {
    super(`interrupted by ${signal} while ${doing}`)
    this.exitCode = signalExitCode(signal)
  }
}
