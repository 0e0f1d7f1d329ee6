// Preloaded (node --import, through NODE_OPTIONS) into every worker and flow process the demo
// starts: a process whose parent is gone ends itself. A demo killed with SIGKILL forwards
// nothing, so its workers notice instead and end their flows with them; a flow whose worker
// alone was killed notices the same way. Each process learns its parent's pid from the
// environment and hands its own on to its children the same way (workers start flows with
// their environment). process.ppid is read once at startup, so it is no use here; probing
// the pid also catches a parent that died before this ran.
import { isMainThread } from 'node:worker_threads'
import { parentPidVariable } from './worker-processes.js'

const parent = Number(process.env[parentPidVariable])
// Worker threads (the lease renewer) get the preload too; their process is watched already.
if (isMainThread && parent > 0) {
  process.env[parentPidVariable] = String(process.pid)
  const watch = setInterval(() => {
    try {
      process.kill(parent, 0)
    } catch {
      clearInterval(watch)
      endAsIfTheDemoHadForwardedSigterm()
    }
  }, 250)
  watch.unref()
}

function endAsIfTheDemoHadForwardedSigterm(): void {
  try {
    process.kill(-process.pid, 'SIGTERM') // a worker leads its flows' process group: all at once
  } catch {
    process.kill(process.pid, 'SIGTERM') // a flow (ESRCH: no group has its pid)
  }
}
