import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** Every process below `pid` right now (children, their children, …), from `ps`. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const line of execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' }).trim().split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number) as [number, number]
    children.set(parent, [...(children.get(parent) ?? []), child])
  }
  const found: number[] = []
  const visit = (p: number) => {
    for (const child of children.get(p) ?? []) {
      found.push(child)
      visit(child)
    }
  }
  visit(pid)
  return found
}

/** The pids among `pids` whose process still runs (a zombie has ended: it only waits to be reaped). Linux: reads /proc. */
export function stillRunning(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
    } catch {
      return false
    }
  })
}
