/** What a command needs of the database role it runs as (see `pgslots grant`). */
export type NeededGrant = 'reader' | 'worker' | 'admin' | 'owner'

const needs: Record<string, NeededGrant> = {
  'limit ls': 'reader',
  'limit inspect': 'reader',
  'lease ls': 'reader',
  watch: 'reader',
  metrics: 'reader',
  run: 'worker',
  'reaper run': 'worker',
  'limit create': 'admin',
  'limit update': 'admin',
  'limit delete': 'admin',
  'limit enable': 'admin',
  'limit disable': 'admin',
  'limit apply-template': 'admin',
  'lease revoke': 'admin',
  migrate: 'owner',
  grant: 'owner',
  'reaper install-cron': 'owner',
  'reaper uninstall-cron': 'owner',
  demo: 'owner',
}

/**
 * The hint after "permission denied" for `command` (e.g. 'lease ls'): which grant it needs,
 * since the role evidently lacks it, or that no grant helps because it needs the owner.
 */
export function permissionHint(command: string): string {
  const need = needs[command]
  if (need === undefined) return 'this role has no pgslots grant for it (see `pgslots grant`)'
  if (need === 'owner') return `\`pgslots ${command}\` must run as the owner of the pgslots schema; no grant gives a role that`
  const also = need === 'worker' ? '' : need === 'reader' ? ' (or --admin)' : ''
  return `\`pgslots ${command}\` needs the ${need} grant: as the schema owner, run \`pgslots grant --${need} ROLE\`${also}`
}
