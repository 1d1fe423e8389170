import { DeckhandError } from '../errors.js'
import { nameTime, type StoredBackup } from './store.js'

/**
 * Which backups to keep, as restic's `forget` decides it: `last` keeps the n newest; `daily`, `weekly` and
 * `monthly` keep the newest backup of each of the n most recent days, ISO weeks and months that have one (UTC). A
 * backup any rule keeps is kept. Beyond the rules, two are never deleted: the newest backup, and the newest
 * one a restore verified, so a store always holds a backup known to restore.
 */
export interface RetentionPolicy {
  last?: number
  daily?: number
  weekly?: number
  monthly?: number
}

export interface RetentionPlan {
  keep: { backup: StoredBackup; reasons: string[] }[]
  remove: StoredBackup[]
}

export function hasPolicy(policy: RetentionPolicy): boolean {
  return Object.values(policy).some((n) => n !== undefined && n > 0)
}

/** The backups (complete ones of one kind and source) to keep and to remove under the policy. */
export function planRetention(backups: readonly StoredBackup[], policy: RetentionPolicy): RetentionPlan {
  if (!hasPolicy(policy))
    throw new DeckhandError(
      'retention needs at least one of keep-last, keep-daily, keep-weekly, keep-monthly',
    )
  const newestFirst = [...backups].sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))
  const rules: { label: string; count: number; bucket: (d: Date) => string }[] = [
    { label: 'last', count: policy.last ?? 0, bucket: () => '' },
    { label: 'daily', count: policy.daily ?? 0, bucket: (d) => d.toISOString().slice(0, 10) },
    { label: 'weekly', count: policy.weekly ?? 0, bucket: isoWeek },
    { label: 'monthly', count: policy.monthly ?? 0, bucket: (d) => d.toISOString().slice(0, 7) },
  ]
  const last = new Map<string, string | undefined>()
  const newestVerified = newestFirst.find((b) => b.verified)
  const plan: RetentionPlan = { keep: [], remove: [] }
  newestFirst.forEach((backup, index) => {
    const reasons: string[] = []
    const time = nameTime(backup.name)
    for (const rule of rules) {
      if (rule.count <= 0) continue
      const bucket = rule.label === 'last' ? backup.name : rule.bucket(time)
      if (last.get(rule.label) !== bucket) {
        last.set(rule.label, bucket)
        rule.count--
        reasons.push(rule.label === 'last' ? 'last' : `${rule.label} ${bucket}`)
      }
    }
    if (index === 0) reasons.push('newest')
    if (backup === newestVerified) reasons.push('newest verified')
    if (reasons.length > 0) plan.keep.push({ backup, reasons })
    else plan.remove.push(backup)
  })
  return plan
}

/** ISO 8601 week of a UTC date: 2026-W49. */
function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()))
  const day = d.getUTCDay() || 7
  d.setUTCDate(d.getUTCDate() + 4 - day)
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1)
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7)
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`
}
