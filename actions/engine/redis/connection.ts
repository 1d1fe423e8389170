import { DeckhandError, explainOutput } from '../errors.js'
import { scrub } from '../scrub.js'

/** Where a Redis server is. The password reaches redis-cli through REDISCLI_AUTH, never its arguments. */
export interface RedisTarget {
  host: string
  port: number
  user?: string
  password?: string
  tls: boolean
}

/** Reads redis://[user[:password]@]host[:port][/db] or rediss:// (TLS). Errors never repeat the URL. */
export function parseRedisTarget(url: string | undefined): RedisTarget {
  const raw = (url ?? '').trim()
  if (raw === '') {
    throw new DeckhandError(
      'engine redis needs database-url: redis://:password@host:6379 (rediss:// for TLS).',
    )
  }
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new DeckhandError(
      'database-url is not a URL: use redis://:password@host:6379 (percent-encode the password).',
    )
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new DeckhandError(
      `With engine redis, database-url must start with redis:// or rediss://, not ${parsed.protocol}//`,
    )
  }
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value)
    } catch {
      throw new DeckhandError('database-url: the user or password is not valid percent-encoding')
    }
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    user: parsed.username ? decode(parsed.username) : undefined,
    password: parsed.password ? decode(parsed.password) : undefined,
    tls: parsed.protocol === 'rediss:',
  }
}

export function describeRedis(target: RedisTarget): string {
  return `${target.tls ? 'rediss' : 'redis'}://${target.user ? `${target.user}@` : ''}${target.host}:${target.port}`
}

/** redis-cli's connection arguments: host, port, user and TLS; never the password. */
export function redisCliArgs(target: RedisTarget): string[] {
  const args = ['-h', target.host, '-p', String(target.port)]
  if (target.user) args.push('--user', target.user)
  if (target.tls) args.push('--tls')
  return args
}

/** The environment redis-cli runs with: the password in REDISCLI_AUTH (which redis-cli reads), or none. */
export function redisCliEnv(target: RedisTarget): Record<string, string | undefined> {
  return { REDISCLI_AUTH: target.password }
}

/** An actionable message for redis-cli's error output. */
export function explainRedisError(output: string, target: RedisTarget): string {
  const where = describeRedis(target)
  const text = scrub(output, [target.password], '[redacted]').trim()
  const rules: [RegExp, string][] = [
    [
      /NOAUTH|WRONGPASS|invalid password|invalid username-password/i,
      `Redis at ${where} refused the credentials: check the password (and user) in database-url.`,
    ],
    [
      /Connection refused|Could not connect|timed out|No route to host|Name or service not known/i,
      `cannot reach Redis at ${where}: is it running and reachable from this runner?`,
    ],
    [
      /unknown command .*SYNC|NOPERM|not allowed/i,
      `Redis at ${where} does not allow replication (SYNC), which redis-cli --rdb needs: managed services such as ElastiCache or Memorystore offer their own snapshots instead; or grant the user +sync.`,
    ],
  ]
  return explainOutput('redis-cli', text, rules, 4)
}
