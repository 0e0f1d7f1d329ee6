// A worker machine of the image pipeline: runs its flows at once, each in its own
// subprocess (flow.js), and exits non-zero if any of them failed.
//   WORKER_ID=gpu-1 DATABASE_URL=postgres://… node worker.js
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const flows = Number(process.env.FLOWS ?? 10)
const flowFile = fileURLToPath(new URL('./flow.js', import.meta.url))

const children = Array.from({ length: flows }, (_, flow) =>
  spawn(process.execPath, [flowFile], {
    env: { ...process.env, FLOW: String(flow) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  }),
)
const exits = children.map((child) => new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1))))
// Starting a process takes a moment: all flows begin together once every one is connected.
let ready = 0
for (const child of children) {
  child.once('message', () => {
    if (++ready === flows) for (const c of children) c.send('go')
  })
}
const failed = (await Promise.all(exits)).filter((code) => code !== 0).length
if (failed > 0) {
  process.stderr.write(`${process.env.WORKER_ID}: ${failed} of ${flows} flows failed\n`)
  process.exitCode = 1
}
