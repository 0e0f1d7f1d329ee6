// A worker machine of the image pipeline: runs its flows at once, each in its own
// subprocess (flow.js), says how they go, and exits non-zero if any of them failed.
//   WORKER_ID=gpu-1 DATABASE_URL=postgres://… node worker.js
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Coordinator, LimitNotFoundError } from 'pgslots'

const worker = process.env.WORKER_ID ?? 'gpu-1'
const flows = Number(process.env.FLOWS ?? 10)
const flowFile = fileURLToPath(new URL('./flow.js', import.meta.url))
// pgslots demo labels its runs (RUN_ID) and draws progress itself, from the database.
const say = process.env.RUN_ID ? () => {} : (line: string) => process.stdout.write(`${worker}: ${line}\n`)

// The flows' limits come from templates: without them every flow would fail alike, so
// check once, and say in one line what to do.
const missing = await missingTemplates(['gpu:*', 'net:*', 'disk:*'])
if (missing.length > 0) {
  process.stderr.write(
    `${worker}: limit template(s) ${missing.join(', ')} not found in schema ${process.env.PGSLOTS_SCHEMA ?? 'pgslots'}; create them first: ${missing.map((t) => `pgslots limit create '${t}' --slots N`).join('; ')}\n`,
  )
  process.exit(1)
}

const started = Date.now()
say(`starting ${flows} flows; at most gpu:${worker} of them on the GPU at once`)
const children = Array.from({ length: flows }, (_, flow) =>
  spawn(process.execPath, [flowFile], {
    env: { ...process.env, WORKER_ID: worker, FLOW: String(flow) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  }),
)
let finished = 0
const exits = children.map(
  (child, flow) =>
    new Promise<number>((resolve) =>
      child.once('exit', (code) => {
        finished++
        say(`flow ${flow} ${code === 0 ? 'done' : 'failed'} (${finished}/${flows}, ${seconds()} s)`)
        resolve(code ?? 1)
      }),
    ),
)
// Starting a process takes a moment: all flows begin together once every one is connected.
let ready = 0
for (const child of children) {
  child.once('message', () => {
    if (++ready === flows) for (const c of children) c.send('go')
  })
}
const failed = (await Promise.all(exits)).filter((code) => code !== 0).length
if (failed > 0) {
  process.stderr.write(`${worker}: ${failed} of ${flows} flows failed\n`)
  process.exitCode = 1
} else {
  say(`all ${flows} flows done in ${seconds()} s`)
}

function seconds(): string {
  return ((Date.now() - started) / 1000).toFixed(1)
}

/** The templates among `names` that do not exist (a connection error ends the worker with one line too). */
async function missingTemplates(names: string[]): Promise<string[]> {
  const slots = new Coordinator({
    connectionString: process.env.DATABASE_URL,
    schema: process.env.PGSLOTS_SCHEMA ?? 'pgslots',
    reaper: false,
    listen: false,
  })
  try {
    const found = await Promise.all(
      names.map((name) => slots.limits.get(name).then(() => true, (e: unknown) => (e instanceof LimitNotFoundError ? false : Promise.reject(e)))),
    )
    return names.filter((_, i) => !found[i])
  } catch (error) {
    process.stderr.write(`${worker}: cannot read the limits: ${(error as Error).message}\n`)
    process.exit(1)
  } finally {
    await slots.close()
  }
}
