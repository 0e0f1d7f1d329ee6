import { readdir, readFile } from 'node:fs/promises'
import { packageDir } from '../package-dir.js'

/** One SQL object in its current form: `src/sql/<folder>/<name>.sql` defines `<name>`. @internal */
export interface SqlSource {
  name: string
  text: string
}

/** The sources of one folder of src/sql, in name order; each must define the object it is named after. @internal */
export async function readSqlSources(folder: 'functions' | 'views', marker: string): Promise<SqlSource[]> {
  const dir = packageDir(`src/sql/${folder}`, [`./sql/${folder}`, `../../src/sql/${folder}`], marker)
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()
  return Promise.all(
    files.map(async (file) => {
      const name = file.slice(0, -'.sql'.length)
      const text = await readFile(`${dir}/${file}`, 'utf8')
      const creates = folder === 'functions' ? `FUNCTION ${name}(` : `VIEW ${name} AS`
      if (!text.split('\n').some((line) => line.startsWith(`CREATE OR REPLACE ${creates}`))) {
        throw new Error(`pgslots: src/sql/${folder}/${file} must CREATE OR REPLACE ${creates}`)
      }
      return { name, text }
    }),
  )
}

/**
 * CREATE OR REPLACE refused the current form of an object: the transaction is lost, and
 * the installer runs again with this object dropped and created anew. @internal
 */
export class ReplaceRefused extends Error {
  constructor(
    readonly object: string,
    cause: unknown,
  ) {
    super(`pgslots: ${object} cannot be replaced in place`, { cause })
  }
}
