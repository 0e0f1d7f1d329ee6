import { readdir, readFile } from 'node:fs/promises'
import { packageDir } from '../package-dir.js'
import { rules } from './rules.js'

/** One SQL object in its current form (rules written in): `src/sql/<folder>/<name>.sql` defines `<name>`. @internal */
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
      const text = withRules(`src/sql/${folder}/${file}`, await readFile(`${dir}/${file}`, 'utf8'))
      const creates = folder === 'functions' ? `FUNCTION ${name}(` : `VIEW ${name} AS`
      if (!text.split('\n').some((line) => line.startsWith(`CREATE OR REPLACE ${creates}`))) {
        throw new Error(`pgslots: src/sql/${folder}/${file} must CREATE OR REPLACE ${creates}`)
      }
      return { name, text }
    }),
  )
}

/** Writes the bounds and words of src/sql/rules.ts in for the `{{rule.key}}` of a source. */
function withRules(file: string, text: string): string {
  return text.replace(/\{\{(\w+)\.(\w+)\}\}/g, (placeholder, rule: string, key: string) => {
    const value = (rules as Record<string, Record<string, unknown> | undefined>)[rule]?.[key]
    if (typeof value === 'number') return String(value)
    if (typeof value === 'string') return value.replaceAll("'", "''")
    throw new Error(`pgslots: ${file}: ${placeholder} is not in src/sql/rules.ts`)
  })
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
