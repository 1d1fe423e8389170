/**
 * Secrets recognised by their value alone: the last line of secret detection, for fields whose name or
 * schema says nothing (free-form plugin configuration, header lines, JSON blobs). Pure functions, no I/O;
 * they run on every string of a dump, so each starts with cheap checks (length, first character,
 * `indexOf`) and only then looks closer, with anchored, linear regular expressions and bounded work per
 * value (PEM armour is searched for at any length; everything else looks at a bounded prefix or size).
 *
 * Why not secretlint (@secretlint/core 13.1 with @secretlint/secretlint-rule-preset-recommend 13.1):
 * it lints a whole text per call (`lintSource({ source: { content, filePath, contentType } })`),
 * asynchronously (a Promise per call, rules run through an event emitter), and reports source ranges
 * with translated messages; it requires Node >= 22 (deckhand supports 20); the preset is a 230 kB
 * bundle, 1.5 MB unpacked with core and its dependencies (debug, ms, structured-source, boundary,
 * @secretlint/profiler, @secretlint/types). Called once per value on 20,000 typical values, it took
 * 34 µs a value (131 µs with its profiler, which is on by default and keeps every performance mark):
 * over half a minute for the million strings of a 100,000-entity dump. detectSecret takes 0.17 µs a
 * value on the same values, with the same findings. One call on all of them joined took 90 ms, but
 * yields ranges in a text, not a verdict on a field. The preset also has no JWT or JWK rule, and finds
 * URL credentials only for http(s) and ftp with `[-a-zA-Z0-9_]` passwords (and for mongodb, mysql,
 * postgres). Redaction needs a synchronous verdict per field value, so the vendor formats below follow
 * the preset's rules (github, slack, stripe, gitlab, npm, openai, anthropic, sendgrid, gcp, aws,
 * privatekey, basicauth, hashicorp-vault, …) as anchored whole-value patterns instead.
 */

/** What {@link detectSecret} found. */
export type DetectorKind =
  /** A PEM (or OpenSSH, PGP, SSH2) private key block anywhere in the value. */
  | 'private-key'
  /** JSON of a JWK, a JWK set or an array of JWKs, with private members. */
  | 'jwk-private'
  /** A URL (anywhere in the value) whose userinfo holds a password or a token: see {@link urlCredentials}. */
  | 'url-credentials'
  /** A JWS or JWE in compact serialisation. */
  | 'jwt'
  /** An AWS access key id, the whole value. */
  | 'aws-access-key-id'
  /** Only reported by callers, with {@link isAwsSecretKeyShape} and a field name: never by detectSecret. */
  | 'aws-secret-key'
  /** JSON of a GCP service-account key. */
  | 'gcp-service-account'
  /**
   * A vendor token of an unambiguous format, an HTTP credential with its scheme (`Bearer …`, `Basic …`),
   * or a gcloud user credential (`authorized_user` JSON with a refresh token).
   */
  | 'token'

export interface Span {
  /** Index of the first character. */
  start: number
  /** Index after the last character. */
  end: number
}

// Limits ----------------------------------------------------------------------------------------------

/** The shortest value any detector can match (`a://b:c@d` is 9). */
const MIN_SECRET_LENGTH = 9
/** JSON is parsed up to this size: 80 private RSA-4096 JWKs, or a hundred GCP keys. */
const MAX_JSON_LENGTH = 256 * 1024
/** Tokens (vendor formats, schemes, JWTs) are looked for in values up to this length. */
const MAX_TOKEN_LENGTH = 16384
/** A JWT header is a few dozen bytes; one above this is not decoded. */
const MAX_JWT_HEADER_LENGTH = 2048
/** Random-token heuristics only look at values (or parts of header values) up to this length. */
const MAX_RANDOM_TOKEN_LENGTH = 1024
/** Header values are split into parts up to this length; longer ones only get the whole-value checks. */
const MAX_HEADER_VALUE_LENGTH = 4096
/** A URL's authority is scanned this far for its userinfo's `@`. */
const MAX_AUTHORITY_LENGTH = 2048
/** A URL scheme is looked back for this far from its `://`. */
const MAX_SCHEME_LENGTH = 32

// Character classes -------------------------------------------------------------------------------------

/** Character class bits: lower case, upper case, digit. */
const LOWER = 1
const UPPER = 2
const DIGIT = 4
const ALL_CLASSES = LOWER | UPPER | DIGIT

function charClass(code: number): number {
  if (code >= 97 && code <= 122) return LOWER
  if (code >= 65 && code <= 90) return UPPER
  if (code >= 48 && code <= 57) return DIGIT
  return 0
}

/** Space, tab, line breaks and the other ASCII controls. */
function isSpace(code: number): boolean {
  return code <= 32 || code === 127
}

// References and masks ----------------------------------------------------------------------------------

/**
 * A value that stands for a secret without being one: a `{vault://…}` reference (Kong), a deck template
 * (`${{ env "DECK_X" }}`), a mask (`[masked]` is deck's, `[redacted]` deckhand's, `***`), or a
 * placeholder (`${VAR}`, `$VAR`, `{{ var }}`, `<password>`, `%s`).
 */
export function isPlaceholder(value: string): boolean {
  const v = value.trim()
  const n = v.length
  if (n === 0) return true
  const first = v.charCodeAt(0)
  const last = v.charCodeAt(n - 1)
  if (first === 123 /* { */ && last === 125 /* } */) return v.startsWith('{vault://') || v.startsWith('{{')
  if (first === 36 /* $ */) return last === 125 || /^\$[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(v)
  if (first === 60 /* < */ && last === 62 /* > */) return n <= 64
  if (n > 10) return false
  const lower = v.toLowerCase()
  return (
    lower === '[masked]' ||
    lower === '[redacted]' ||
    lower === 'redacted' ||
    lower === '%s' ||
    /^\*{3,}$/.test(v)
  )
}

// Private keys ------------------------------------------------------------------------------------------

/**
 * The armour of a private key: PEM `-----BEGIN <label>-----` whose label ends in `PRIVATE KEY` (PKCS#1
 * `RSA`, `EC`, `DSA`, PKCS#8 plain and `ENCRYPTED`, `OPENSSH`) or `PRIVATE KEY BLOCK` (PGP), and RFC 4716's
 * `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`. Public keys and certificates have other labels.
 */
export const PRIVATE_KEY_ARMOUR =
  /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|---- BEGIN SSH2 [A-Z ]{0,20}PRIVATE KEY ----/

/** Whether a private key's armour is anywhere in the value (any length: one `indexOf`, then a regex). */
export function hasPrivateKey(value: string): boolean {
  // Most values fail the indexOf; the label's length is bounded, so every attempt of the regex is short.
  return value.includes('PRIVATE KEY') && PRIVATE_KEY_ARMOUR.test(value)
}

// JWK ---------------------------------------------------------------------------------------------------

/**
 * Members that make a JWK private (RFC 7518 §6.2.2, §6.3.2 and §6.4.1; RFC 8037 §2 for OKP's `d`): `d`
 * (EC, OKP and RSA private exponent), `p`, `q`, `dp`, `dq`, `qi` (RSA CRT), `oth` (RSA other primes,
 * whose entries carry `r`, `d`, `t`) and `k` (a symmetric key). `r` and `t` are listed too for objects
 * that are such an `oth` entry, or a JWK flattened by mistake.
 */
export const JWK_PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'r', 't'] as const

/**
 * The private members present in a parsed JWK (a member holding null or undefined is absent), in the
 * order of {@link JWK_PRIVATE_MEMBERS}. `kty` is not required: callers pass what they know is a JWK.
 */
export function jwkPrivateMembers(jwk: Record<string, unknown>): string[] {
  return JWK_PRIVATE_MEMBERS.filter((name) => Object.hasOwn(jwk, name) && jwk[name] != null)
}

/** A JWK (with `kty`) holding at least one private member that is a value, not a reference or mask. */
function isPrivateJwk(value: unknown): boolean {
  if (!isRecord(value) || typeof value.kty !== 'string') return false
  return jwkPrivateMembers(value).some((name) => {
    const member = value[name]
    return typeof member === 'string' ? !isPlaceholder(member) : true
  })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A secret in JSON text: a private JWK (alone, in a set's `keys`, or in an array), or GCP credentials. */
function jsonSecret(trimmed: string): DetectorKind | undefined {
  if (trimmed.length > MAX_JSON_LENGTH) return undefined
  const jwk = trimmed.includes('"kty"')
  const gcp = trimmed.includes('service_account') || trimmed.includes('authorized_user')
  if (!jwk && !gcp) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(trimmed)
  } catch {
    return undefined
  }
  if (jwk) {
    const candidates = Array.isArray(parsed)
      ? parsed
      : isRecord(parsed) && Array.isArray(parsed.keys)
        ? [parsed, ...parsed.keys]
        : [parsed]
    if (candidates.some(isPrivateJwk)) return 'jwk-private'
  }
  if (gcp && isRecord(parsed)) return gcpCredentials(parsed)
  return undefined
}

/**
 * GCP credential files: a service-account key (`"type": "service_account"` with a `private_key`), or
 * gcloud's application-default user credentials (`"type": "authorized_user"` with a `refresh_token`).
 * Workload identity federation files (`external_account`) hold no secret.
 */
function gcpCredentials(json: Record<string, unknown>): DetectorKind | undefined {
  const present = (name: string): boolean => {
    const v = json[name]
    return typeof v === 'string' && !isPlaceholder(v)
  }
  if (json.type === 'service_account' && present('private_key')) return 'gcp-service-account'
  if (json.type === 'authorized_user' && (present('refresh_token') || present('client_secret')))
    return 'token'
  return undefined
}

// URLs --------------------------------------------------------------------------------------------------

function isSchemeChar(code: number): boolean {
  return charClass(code) !== 0 || code === 43 /* + */ || code === 45 /* - */ || code === 46 /* . */
}

/**
 * Where a URL's authority ends: its path, query or fragment (so an `@` there is no userinfo), white
 * space, or characters that cannot be in a URL and delimit one in text (quotes, brackets of templates).
 */
function isAuthorityEnd(code: number): boolean {
  switch (code) {
    case 47: // /
    case 63: // ?
    case 35: // #
    case 92: // \
    case 34: // "
    case 39: // '
    case 60: // <
    case 62: // >
    case 96: // `
    case 123: // {
    case 125: // }
    case 124: // |
    case 94: // ^
      return true
    default:
      return isSpace(code)
  }
}

/**
 * Every URL credential in the value, in order: see {@link urlCredentials}. At most `limit` spans.
 */
export function allUrlCredentials(value: string, limit = Infinity): Span[] {
  const spans: Span[] = []
  if (value.length < MIN_SECRET_LENGTH) return spans
  let from = 0
  while (spans.length < limit) {
    const sep = value.indexOf('://', from)
    if (sep < 0) break
    from = sep + 3
    if (!hasScheme(value, sep)) continue
    const start = sep + 3
    const cap = Math.min(value.length, start + MAX_AUTHORITY_LENGTH)
    let at = -1
    let colon = -1
    for (let i = start; i < cap; i++) {
      const code = value.charCodeAt(i)
      if (isAuthorityEnd(code)) break
      // The last `@` ends the userinfo (as WHATWG URL parsing has it), the first `:` in it ends the user.
      if (code === 64 /* @ */) at = i
      else if (code === 58 /* : */ && colon < 0) colon = i
    }
    if (at <= start) continue
    if (colon >= 0 && colon < at) {
      if (colon + 1 < at && !isPlaceholder(value.slice(colon + 1, at))) spans.push({ start, end: at })
    } else if (at - start >= 20 && isUserinfoToken(value.slice(start, at))) {
      spans.push({ start, end: at })
    }
  }
  return spans
}

/** A scheme (`[A-Za-z][A-Za-z0-9+.-]*`, at most 32 characters) right before `://`. */
function hasScheme(value: string, sep: number): boolean {
  let s = sep
  while (s > 0 && sep - s < MAX_SCHEME_LENGTH && isSchemeChar(value.charCodeAt(s - 1))) s--
  for (; s < sep; s++) {
    const cls = charClass(value.charCodeAt(s))
    if (cls === LOWER || cls === UPPER) return true
  }
  return false
}

/**
 * A userinfo without a password that is a credential all the same: a vendor token, a JWT, or a random
 * token (`https://ghp_…@github.com`, `https://<token>@host`), but not a user name (`ssh://git@host`).
 */
function isUserinfoToken(user: string): boolean {
  if (user.length < 20 || user.length > MAX_RANDOM_TOKEN_LENGTH) return false
  return vendorToken(user) || isJwt(user) || looksLikeRandomToken(user)
}

/**
 * The span of the credentials of the first URL in the value that has any, or undefined.
 *
 * - A URL is `scheme://authority…` anywhere in the value (a connection string, a Lua snippet, a list),
 *   for any scheme (`https`, `redis`, `postgres`, `mongodb+srv`, `amqps`, …). Scheme-relative URLs
 *   (`//user:pass@host`), `mailto:` and `user@host` without a scheme are not URLs with credentials.
 * - The userinfo is what precedes the last `@` of the authority; an `@` in the path, query or fragment
 *   (after the first `/`, `?` or `#`) is not.
 * - The span covers the whole userinfo (`user:password`, `:password`), which is what has to go: the user
 *   name of a credential is rarely worth keeping. It is reported when the password is non-empty and not
 *   a reference, mask or placeholder (`https://user:${{ env "P" }}@host`, `redis://:[redacted]@host`).
 * - A userinfo without `:` is reported when it is a token by itself (`https://ghp_…@github.com`): a vendor
 *   token, a JWT or a random token as {@link looksLikeRandomToken} has it; a user name alone is not.
 */
export function urlCredentials(value: string): Span | undefined {
  return allUrlCredentials(value, 1)[0]
}

// JWT ---------------------------------------------------------------------------------------------------

/** Base64url without padding. */
function isBase64UrlSegment(value: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = value.charCodeAt(i)
    if (charClass(code) === 0 && code !== 45 /* - */ && code !== 95 /* _ */) return false
  }
  return true
}

/**
 * A JWT (JWS, 3 segments) or JWE (5 segments) in compact serialisation: base64url segments whose first
 * decodes to a JSON object with a string `alg`. Prefix check first: every such header starts `eyJ`.
 */
export function isJwt(value: string): boolean {
  if (!value.startsWith('eyJ') || value.length > MAX_TOKEN_LENGTH) return false
  const dots: number[] = []
  for (let i = value.indexOf('.'); i >= 0 && dots.length < 5; i = value.indexOf('.', i + 1)) dots.push(i)
  if (dots.length !== 2 && dots.length !== 4) return false
  const headerEnd = dots[0]!
  if (headerEnd > MAX_JWT_HEADER_LENGTH) return false
  // The payload (JWS) or encrypted key and ciphertext (JWE) are non-empty; a JWS signature may be.
  if (dots[1]! - headerEnd < 2) return false
  let start = 0
  for (const end of [...dots, value.length]) {
    if (!isBase64UrlSegment(value, start, end)) return false
    start = end + 1
  }
  try {
    const header: unknown = JSON.parse(Buffer.from(value.slice(0, headerEnd), 'base64url').toString('utf8'))
    return isRecord(header) && typeof header.alg === 'string'
  } catch {
    return false
  }
}

// AWS ---------------------------------------------------------------------------------------------------

/** AKIA (user), ASIA (temporary, STS), ABIA (STS service bearer), ACCA (context), A3T… (older). */
const AWS_ACCESS_KEY_ID = /^(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}$/

/** An AWS access key id, the whole value (surrounding white space aside). */
export function isAwsAccessKeyId(value: string): boolean {
  const v = value.length === 20 ? value : value.trim()
  return v.length === 20 && v.charCodeAt(0) === 65 /* A */ && AWS_ACCESS_KEY_ID.test(v)
}

/**
 * The shape of an AWS secret access key: 40 characters of base64 without padding (`[A-Za-z0-9/+]`) with
 * upper and lower case letters and digits (a random one lacks one of these once in a billion; a SHA-1
 * hex digest lacks upper case). Not a secret by itself: callers combine it with a field name mentioning
 * aws or secret. {@link detectSecret} never reports it.
 */
export function isAwsSecretKeyShape(value: string): boolean {
  const v = value.length === 40 ? value : value.trim()
  if (v.length !== 40) return false
  let classes = 0
  for (let i = 0; i < 40; i++) {
    const code = v.charCodeAt(i)
    const cls = charClass(code)
    if (cls === 0 && code !== 47 /* / */ && code !== 43 /* + */) return false
    classes |= cls
  }
  return classes === ALL_CLASSES
}

// Vendor tokens -----------------------------------------------------------------------------------------

interface TokenFormat {
  prefix: string
  /** What follows the prefix, anchored at both ends. */
  rest: RegExp
  /** Character classes the rest must all have, for prefixes short enough to start a word or a slug. */
  needs?: number
}

/**
 * Token formats unambiguous by their prefix, mostly as secretlint's recommended preset and the vendors'
 * documentation describe them. Lengths are kept a little loose where vendors have changed them before.
 */
const TOKEN_FORMATS: readonly TokenFormat[] = [
  // GitHub: classic tokens are prefix + 36 base62 (github.blog 2021-04-05); fine-grained PATs are longer.
  ...['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'].map((prefix) => ({ prefix, rest: /^[A-Za-z0-9_]{36,251}$/ })),
  { prefix: 'github_pat_', rest: /^[A-Za-z0-9_]{22,244}$/ },
  // Slack: bot, user, app-level, legacy workspace, configuration and refresh tokens; incoming webhooks.
  ...['xoxa-', 'xoxb-', 'xoxo-', 'xoxp-', 'xoxr-', 'xoxs-', 'xapp-', 'xoxe-'].map((prefix) => ({
    prefix,
    rest: /^[A-Za-z0-9-]{10,250}$/,
    needs: DIGIT,
  })),
  { prefix: 'xoxe.xox', rest: /^[a-z]-[A-Za-z0-9-]{10,250}$/ },
  {
    prefix: 'https://hooks.slack.com/services/',
    rest: /^T[A-Za-z0-9]{1,40}\/B[A-Za-z0-9]{1,40}\/[A-Za-z0-9]{8,64}$/,
  },
  // Stripe secret and restricted keys (live and test), webhook signing secrets. `pk_` keys are public.
  ...['sk_live_', 'rk_live_', 'sk_test_', 'rk_test_'].map((prefix) => ({
    prefix,
    rest: /^[A-Za-z0-9]{20,247}$/,
  })),
  { prefix: 'whsec_', rest: /^[A-Za-z0-9+/=]{24,128}$/ },
  // GitLab token prefixes (docs.gitlab.com, "Token prefixes"); routable tokens hold dots.
  ...['glpat-', 'gloas-', 'gldt-', 'glrt-', 'glcbt-', 'glptt-', 'glft-', 'glimt-', 'glsoat-', 'glffct-'].map(
    (prefix) => ({ prefix, rest: /^[A-Za-z0-9_.-]{20,255}$/ }),
  ),
  // npm access tokens.
  { prefix: 'npm_', rest: /^[A-Za-z0-9]{36}$/ },
  // Anthropic before OpenAI, whose `sk-` it shares; OpenAI's `sk-proj-`, `sk-svcacct-`, `sk-admin-` and
  // legacy `sk-` keys. `sk-` alone could start a slug (`sk-payments-service-prod`): mixed classes required.
  { prefix: 'sk-ant-', rest: /^[A-Za-z0-9_-]{32,255}$/ },
  { prefix: 'sk-', rest: /^[A-Za-z0-9_-]{20,255}$/, needs: ALL_CLASSES },
  // SendGrid: SG.<22>.<43>.
  { prefix: 'SG.', rest: /^[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}$/ },
  // Google API keys.
  { prefix: 'AIza', rest: /^[0-9A-Za-z_-]{35}$/ },
  // Twilio API key SIDs.
  { prefix: 'SK', rest: /^[0-9a-f]{32}$/ },
  // HashiCorp Vault service, batch and recovery tokens (Vault 1.10+).
  ...['hvs.', 'hvb.', 'hvr.'].map((prefix) => ({ prefix, rest: /^[A-Za-z0-9_-]{24,300}$/ })),
  // Kong Konnect personal and system account access tokens (what deck's --konnect-token takes).
  ...['kpat_', 'spat_'].map((prefix) => ({ prefix, rest: /^[A-Za-z0-9]{30,100}$/ })),
  // Hugging Face, Docker Hub, Shopify, Groq, Databricks, DigitalOcean, PyPI, Linear, Notion, Grafana,
  // Postman, age, Tailscale, New Relic, Sentry, Pulumi, Doppler, Supabase, PlanetScale, Heroku, Mailgun.
  { prefix: 'hf_', rest: /^[A-Za-z]{34}$/ },
  { prefix: 'dckr_pat_', rest: /^[A-Za-z0-9_-]{20,64}$/ },
  ...['shpat_', 'shpca_', 'shppa_', 'shpss_'].map((prefix) => ({ prefix, rest: /^[A-Za-z0-9]{32,64}$/ })),
  { prefix: 'gsk_', rest: /^[A-Za-z0-9]{52}$/ },
  { prefix: 'dapi', rest: /^[a-f0-9]{32}(?:-[0-9])?$/ },
  ...['dop_v1_', 'doo_v1_', 'dor_v1_'].map((prefix) => ({ prefix, rest: /^[a-f0-9]{64}$/ })),
  { prefix: 'pypi-AgE', rest: /^[A-Za-z0-9_-]{50,}$/ },
  { prefix: 'lin_api_', rest: /^[A-Za-z0-9_]{32,128}$/ },
  { prefix: 'ntn_', rest: /^[0-9]{11}[A-Za-z0-9]{35}$/ },
  { prefix: 'glc_', rest: /^[A-Za-z0-9+/]{32,400}={0,2}$/ },
  { prefix: 'glsa_', rest: /^[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}$/ },
  { prefix: 'PMAK-', rest: /^[a-f0-9]{24}-[a-f0-9]{34}$/ },
  { prefix: 'AGE-SECRET-KEY-1', rest: /^[0-9A-Z]{58}$/ },
  { prefix: 'tskey-', rest: /^[A-Za-z0-9_-]{20,200}$/ },
  { prefix: 'NRAK-', rest: /^[A-Z0-9]{27}$/ },
  ...['sntrys_', 'sntryu_'].map((prefix) => ({ prefix, rest: /^[A-Za-z0-9+/=_]{32,500}$/ })),
  { prefix: 'pul-', rest: /^[a-f0-9]{40}$/ },
  ...['dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.'].map((prefix) => ({ prefix, rest: /^[A-Za-z0-9]{40,44}$/ })),
  { prefix: 'sbp_', rest: /^[a-f0-9]{40}$/ },
  ...['pscale_tkn_', 'pscale_pw_', 'pscale_oauth_'].map((prefix) => ({
    prefix,
    rest: /^[A-Za-z0-9_.=-]{32,64}$/,
  })),
  { prefix: 'HRKU-', rest: /^[A-Za-z0-9_-]{30,80}$/ },
  { prefix: 'key-', rest: /^[0-9a-f]{32}$/ },
]

/** The formats by first character, so that a value is tried against a handful at most. */
const FORMATS_BY_FIRST = new Map<number, TokenFormat[]>()
for (const format of TOKEN_FORMATS) {
  const first = format.prefix.charCodeAt(0)
  const list = FORMATS_BY_FIRST.get(first) ?? []
  list.push(format)
  FORMATS_BY_FIRST.set(first, list)
}

/** Classes of the characters of value[start..]. */
function classesOf(value: string, start = 0, end = value.length): number {
  let classes = 0
  for (let i = start; i < end; i++) classes |= charClass(value.charCodeAt(i))
  return classes
}

/** A vendor token of one of {@link TOKEN_FORMATS}, the whole value. */
export function vendorToken(value: string): boolean {
  if (value.length < 20 || value.length > 512) return false
  const formats = FORMATS_BY_FIRST.get(value.charCodeAt(0))
  if (!formats) return false
  for (const { prefix, rest, needs } of formats) {
    if (!value.startsWith(prefix)) continue
    const tail = value.slice(prefix.length)
    if (!rest.test(tail)) continue
    if (needs !== undefined && (classesOf(tail) & needs) !== needs) continue
    return true
  }
  return false
}

// Random tokens -----------------------------------------------------------------------------------------

/** Character counts, reused between calls (the functions here never run concurrently). */
const counts = new Uint16Array(128)

/** Shannon entropy of the value's characters, in bits per character (ASCII; others count as one). */
export function shannonEntropy(value: string): number {
  const n = value.length
  if (n === 0) return 0
  const end = Math.min(n, 65535)
  for (let i = 0; i < end; i++) counts[value.charCodeAt(i) & 127]!++
  let bits = 0
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i) & 127
    const count = counts[c]!
    if (count === 0) continue
    const p = count / end
    bits -= p * Math.log2(p)
    counts[c] = 0
  }
  return bits
}

/** Characters of tokens: base64 and base64url, with `.` and `~` (token68, JWT, Slack and other formats). */
function isTokenChar(code: number): boolean {
  return (
    charClass(code) !== 0 ||
    code === 43 /* + */ ||
    code === 47 /* / */ ||
    code === 61 /* = */ ||
    code === 95 /* _ */ ||
    code === 45 /* - */ ||
    code === 46 /* . */ ||
    code === 126 /* ~ */
  )
}

/** `[0-9a-f-]` or `[0-9A-F-]` only: UUIDs, trace ids (`traceparent`), digests. */
function hexShape(value: string): { hex: boolean; dash: boolean } {
  let lower = false
  let upper = false
  let dash = false
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code >= 48 && code <= 57) continue
    if (code >= 97 && code <= 102) lower = true
    else if (code >= 65 && code <= 70) upper = true
    else if (code === 45) dash = true
    else return { hex: false, dash }
  }
  return { hex: !(lower && upper), dash }
}

/** `api.eu-west-1.example.com`: lower-case DNS labels, at least two, the last alphabetic. */
function isHostname(value: string): boolean {
  if (!value.includes('.')) return false
  return /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/.test(value)
}

function isVowel(code: number): boolean {
  switch (code | 32) {
    case 97: // a
    case 101: // e
    case 105: // i
    case 111: // o
    case 117: // u
      return true
    default:
      return false
  }
}

/**
 * The share of letters that are in words: runs of an optional capital and at least two lower-case
 * letters holding a vowel (`My`, `Very`, `Long`, `Service`; not `Xq`, `bcd`). Identifiers are made of
 * words (`OrdersServiceV2Canary`: 0.95, `GetUserByIdV2Handler`: 0.74), random mixed-case text rarely
 * (base62: 0.2 median).
 */
function wordShare(value: string): number {
  let letters = 0
  let inWords = 0
  let i = 0
  while (i < value.length) {
    const cls = charClass(value.charCodeAt(i))
    if (cls !== LOWER && cls !== UPPER) {
      i++
      continue
    }
    const lowers = cls === UPPER ? i + 1 : i
    let vowel = cls === UPPER && isVowel(value.charCodeAt(i))
    let end = lowers
    while (end < value.length && charClass(value.charCodeAt(end)) === LOWER) {
      vowel ||= isVowel(value.charCodeAt(end))
      end++
    }
    letters += end - i
    if (end - lowers >= 2 && vowel) inWords += end - i
    i = end
  }
  return letters === 0 ? 0 : inWords / letters
}

/** DER length at `at`: [length, bytes it takes], or undefined. */
function derLength(der: Buffer, at: number): [number, number] | undefined {
  const first = der[at]
  if (first === undefined) return undefined
  if (first < 0x80) return [first, 1]
  const size = first & 0x7f
  if (size < 1 || size > 3 || at + size >= der.length) return undefined
  let length = 0
  for (let i = 1; i <= size; i++) length = length * 256 + der[at + i]!
  return [length, 1 + size]
}

/**
 * Base64 of a DER X.509 certificate (`MII…`): a SEQUENCE whose first element, the TBSCertificate, is a
 * SEQUENCE starting with the explicit version `[0] INTEGER`. Only the first 24 characters are decoded.
 * Private keys (PKCS#1, PKCS#8, SEC1) start their SEQUENCE with an INTEGER instead.
 */
function isBase64Certificate(value: string): boolean {
  if (!value.startsWith('MI')) return false
  const der = Buffer.from(value.slice(0, 24), 'base64')
  if (der[0] !== 0x30) return false
  const outer = derLength(der, 1)
  if (!outer) return false
  let at = 1 + outer[1]
  if (der[at] !== 0x30) return false
  const tbs = derLength(der, at + 1)
  if (!tbs) return false
  at += 1 + tbs[1]
  return der[at] === 0xa0 && der[at + 1] === 0x03 && der[at + 2] === 0x02 && der[at + 3] === 0x01
}

/**
 * A random token by its look, with nothing else to go on (no name, no prefix). Thresholds, from 20,000
 * simulated random tokens per alphabet (base62, base64url, base36, base32, hex) and length (20 to 64)
 * against identifiers, slugs, host names, versions and dates as gateway configuration has them:
 *
 * - 20 to 1024 characters of token characters (base64, base64url, `.`, `~`): no white space, `:`, `@`,
 *   `%`, brackets; not starting with `/`, `.` or `~` (paths; 1.6% of standard base64 tokens start with
 *   `/` and are missed). Not base64 of a DER
 *   certificate.
 * - Hex only (one case): a token from 32 characters on (Datadog API keys are 32, application keys 40),
 *   never with dashes (UUIDs, `traceparent`) nor below 32 (short digests, ids).
 * - Otherwise at least two of lower case, upper case and digits, and at most one separator (`-`, `_`,
 *   `.`, `~`) per 10 characters: slugs and identifiers (`my_service_v2_production`) have more.
 * - Shannon entropy of at least 3 bits per character: random 20-character tokens have 3.2 and more in
 *   99.9% of cases; repetitive strings (`aaaaaaaaaaaaaaaaaaa1`) have less. Entropy alone does not tell
 *   identifiers from tokens (`MyVeryLongServiceName2024` has 4.1 bits, a random base62 token of 24 has
 *   4.2 median), so two measures of structure follow.
 * - Pieces: split at separators, letter-digit changes and lower-upper changes (`MyVeryLongServiceName2024`
 *   → My Very Long Service Name 2024), random text averages about 2 characters a piece, identifiers 4 to 6.
 *   Mixed case: at most 4.5 a piece, and under 70% of the letters in words (see {@link wordShare};
 *   identifiers have 74% and more, random base62 20% median). Random mixed-case tokens missed: 1.5% at
 *   20 characters, 0.3% at 32, none from 64. One case with digits (base36, base32), where only digits
 *   split: at most 5 characters a piece (missed: about 3% of base36 and 10% of base32 at 32 characters).
 * - Host names (`api-v2.eu-west-1.example.com`) are not tokens.
 */
export function looksLikeRandomToken(value: string): boolean {
  const n = value.length
  if (n < 20 || n > MAX_RANDOM_TOKEN_LENGTH) return false
  const first = value.charCodeAt(0)
  if (first === 47 /* / */ || first === 46 /* . */ || first === 126 /* ~ */) return false
  let classes = 0
  let separators = 0
  let pieces = 0
  let alnum = 0
  let previous = 0
  for (let i = 0; i < n; i++) {
    const code = value.charCodeAt(i)
    if (!isTokenChar(code)) return false
    const cls = charClass(code)
    if (cls === 0) {
      if (code !== 61 && code !== 43 && code !== 47) separators++
      previous = 0
      continue
    }
    classes |= cls
    alnum++
    if (previous === 0 || (previous === DIGIT) !== (cls === DIGIT) || (previous === LOWER && cls === UPPER)) {
      pieces++
    }
    previous = cls
  }
  // One class only: words, numbers.
  if (classes === LOWER || classes === UPPER || classes === DIGIT || classes === 0) return false
  const { hex, dash } = hexShape(value)
  if (hex) return !dash && n >= 32
  if (separators * 10 > n) return false
  if (isHostname(value) || isBase64Certificate(value)) return false
  if (shannonEntropy(value) < 3) return false
  const perPiece = alnum / pieces
  if ((classes & (LOWER | UPPER)) !== (LOWER | UPPER)) return perPiece <= 5
  return perPiece <= 4.5 && wordShare(value) < 0.7
}

// Authorization schemes ---------------------------------------------------------------------------------

/**
 * HTTP authentication schemes whose credentials are one token (token68, RFC 9110 §11.2): Bearer
 * (RFC 6750), Basic (RFC 7617), Token (GitHub, Django REST framework), Splunk (Splunk HEC), SSWS (Okta
 * API tokens), GenieKey (Opsgenie), ApiKey / Api-Key (Elasticsearch), Bot (Discord), LDAP (Kong's
 * ldap-auth), Negotiate and NTLM.
 */
const TOKEN_SCHEMES = new Set([
  'bearer',
  'basic',
  'token',
  'splunk',
  'ssws',
  'geniekey',
  'apikey',
  'api-key',
  'bot',
  'ldap',
  'negotiate',
  'ntlm',
])

/**
 * Schemes whose credentials are parameters: Digest (RFC 7616), hmac (Kong's hmac-auth), OAuth (1.0a),
 * AWS Signature V4, SharedKey and SharedAccessSignature (Azure Storage and Service Bus). They are
 * credentials when they carry a signature or response; a challenge (`Digest realm="…"`) does not.
 */
const PARAMETER_SCHEMES = new Set([
  'digest',
  'hmac',
  'oauth',
  'aws4-hmac-sha256',
  'sharedkey',
  'sharedaccesssignature',
])
const SIGNATURE_PARAMETER =
  /(?:^|[\s,&])(?:signature|response|sig|oauth_signature)=|^[A-Za-z0-9-]{1,64}:[A-Za-z0-9+/=]{16,}$/i

const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/

interface SchemeCredential {
  scheme: string
  credential: string
}

/** `Scheme credentials` split at the first white space; undefined for a value without a known scheme. */
function schemeCredential(trimmed: string): SchemeCredential | undefined {
  let space = 2
  while (space < 25 && space < trimmed.length && !isSpace(trimmed.charCodeAt(space))) space++
  if (space >= 25 || space >= trimmed.length) return undefined
  const scheme = trimmed.slice(0, space).toLowerCase()
  if (!TOKEN_SCHEMES.has(scheme) && !PARAMETER_SCHEMES.has(scheme)) return undefined
  return { scheme, credential: trimmed.slice(space + 1).trim() }
}

/** Whether the credential is base64 of printable `user:password` (password non-empty), as Basic has it. */
function decodesToUserPassword(credential: string): boolean {
  if (credential.length < 8 || credential.length > 1024 || !/^[A-Za-z0-9+/]+={0,2}$/.test(credential))
    return false
  const text = Buffer.from(credential, 'base64').toString('utf8')
  const colon = text.indexOf(':')
  if (colon < 0 || colon === text.length - 1) return false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 32 || code === 127 || code === 0xfffd) return false
  }
  return true
}

/**
 * Whether `Scheme credentials` carries a credential. `strict` (for values of any field): a token68 of at
 * least 16 characters with letters and digits, a known token, or Basic's `user:password`, so that
 * messages such as `Bearer token required` pass. Otherwise (header values): a token68 of at least 8
 * characters that is not a lower-case word, or parameters with a signature.
 */
function isSchemeCredential({ scheme, credential }: SchemeCredential, strict: boolean): boolean {
  if (credential === '' || isPlaceholder(credential) || /realm=/i.test(credential)) return false
  if (PARAMETER_SCHEMES.has(scheme)) return !strict && SIGNATURE_PARAMETER.test(credential)
  if (!TOKEN68.test(credential)) return false
  // Basic is `user:password` (RFC 7617), and Kong's ldap-auth the same; anything else is no credential.
  if (scheme === 'basic' || scheme === 'ldap') return decodesToUserPassword(credential)
  if (vendorToken(credential) || isJwt(credential)) return true
  const classes = classesOf(credential)
  if (strict) return credential.length >= 16 && (classes & DIGIT) !== 0 && (classes & (LOWER | UPPER)) !== 0
  return credential.length >= 8 && classes !== LOWER
}

// Names -------------------------------------------------------------------------------------------------

/** Whole names, after lower-casing and `_` → `-`. */
const CREDENTIAL_NAMES = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'apikey',
  'api-key',
  // Google APIs take an API key as the `key` query parameter.
  'key',
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  // Honeycomb: `X-Honeycomb-Team: <API key>` (docs.honeycomb.io, "Events API").
  'x-honeycomb-team',
])

/**
 * Last parts of names, after splitting at `-`: `*-token` (X-Auth-Token, X-Vault-Token, X-Amz-Security-
 * Token, PRIVATE-TOKEN of GitLab, Kong-Admin-Token of Kong's RBAC, X-CSRF-Token), `*-secret`
 * (client_secret), `*-password`, `*-auth` (X-Auth, Proxy-Auth; not `X-Auth-*`, whose oauth2-proxy
 * X-Auth-Request-User and -Email are no secrets, nor Kong's X-Authenticated-Userid), `*-credential`
 * (X-Amz-Credential; not `*-credentials`, as in Kong's `hide_credentials`), `*-signature`
 * (X-Amz-Signature of presigned URLs), `sig` (Azure SAS), `*-jwt` (Kong's jwt plugin reads `?jwt=`),
 * `*-assertion` (client_assertion, X-Goog-IAP-JWT-Assertion), `*-cookie`. Meant for names of string
 * values: a boolean such as OpenID Connect's `verify_signature` matches too.
 */
const CREDENTIAL_LAST_PARTS = new Set([
  'token',
  'secret',
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'apikey',
  'auth',
  'authentication',
  'credential',
  'signature',
  'sig',
  'jwt',
  'assertion',
  'cookie',
])

/** Endings of single-word names (`accesstoken`, `clientsecret`, `xapikey`). */
const CREDENTIAL_SUFFIXES = [
  'token',
  'secret',
  'password',
  'passwd',
  'apikey',
  'accesskey',
  'secretkey',
  'privatekey',
  'authkey',
  'appkey',
  'licensekey',
  'masterkey',
  'subscriptionkey',
]

/**
 * What precedes `-key` in names that hold no credential: Idempotency-Key (Stripe), Sec-WebSocket-Key (a
 * nonce), cache, routing, partition and sort keys, public keys. Every other `*-key` is taken as a
 * credential: X-API-Key, DD-API-KEY and DD-APPLICATION-KEY (Datadog), Ocp-Apim-Subscription-Key (Azure
 * API Management), X-Goog-Api-Key (Google), X-Functions-Key (Azure Functions), X-Auth-Key (Cloudflare),
 * X-Insert-Key and X-License-Key (New Relic), X-RapidAPI-Key.
 */
const PLAIN_KEY_QUALIFIERS = new Set([
  'idempotency',
  'websocket',
  'cache',
  'routing',
  'partition',
  'sort',
  'primary',
  'foreign',
  'public',
  'dedup',
  'deduplication',
])

/**
 * Whether a header, query or body parameter name holds a credential, case-insensitively, `_` and `-`
 * alike. Names containing `authorization` count (Proxy-Authorization, X-Forwarded-Authorization that
 * Google's ESPv2 forwards the caller's Authorization in). Not credentials: Content-Type, Accept, Host,
 * X-Request-Id, X-Forwarded-For and the other X-Forwarded-*, Kong-Debug, X-Kong-*, X-Consumer-*,
 * X-Credential-Identifier, X-Authenticated-*, WWW-Authenticate, token-url and other names merely about
 * a credential.
 */
export function isCredentialName(name: string): boolean {
  if (name.length === 0 || name.length > 256) return false
  const n = name.trim().toLowerCase().replaceAll('_', '-')
  if (CREDENTIAL_NAMES.has(n) || n.includes('authorization')) return true
  const lastDash = n.lastIndexOf('-')
  const last = n.slice(lastDash + 1)
  if (CREDENTIAL_LAST_PARTS.has(last)) return true
  if (CREDENTIAL_SUFFIXES.some((suffix) => last.endsWith(suffix))) return true
  if (last === 'key' && lastDash > 0) {
    const qualifier = n.slice(n.lastIndexOf('-', lastDash - 1) + 1, lastDash)
    return !PLAIN_KEY_QUALIFIERS.has(qualifier)
  }
  return false
}

// Values ------------------------------------------------------------------------------------------------

/** A known token: vendor format, JWT or AWS access key id. */
function knownToken(value: string): DetectorKind | undefined {
  if (isAwsAccessKeyId(value)) return 'aws-access-key-id'
  if (isJwt(value)) return 'jwt'
  if (vendorToken(value)) return 'token'
  return undefined
}

/**
 * The kind of secret a whole string value is, by its content alone, or undefined. In this order:
 * references and masks are none; JSON (starting with `{` or `[`, up to 256 KiB) of private JWKs or GCP
 * credentials (before PEM, which a service-account key holds); PEM private keys anywhere, at any length;
 * URL credentials anywhere (see {@link urlCredentials}); then the whole value
 * (surrounding white space aside) as an AWS access key id, a JWT, a vendor token, or `Scheme credential`
 * (`Bearer …`, `Basic …`; see {@link looksLikeCredentialValue}, strictly). Generic random-looking
 * strings are not reported: a UUID, a digest, a base64 certificate or an identifier must pass.
 */
export function detectSecret(value: string): DetectorKind | undefined {
  if (value.length < MIN_SECRET_LENGTH) return undefined
  const trimmed = value.trim()
  if (trimmed.length < MIN_SECRET_LENGTH || isPlaceholder(trimmed)) return undefined
  const first = trimmed.charCodeAt(0)
  if (first === 123 /* { */ || first === 91 /* [ */) {
    const json = jsonSecret(trimmed)
    if (json) return json
  }
  if (hasPrivateKey(value)) return 'private-key'
  if (value.includes('@') && urlCredentials(value)) return 'url-credentials'
  if (trimmed.length > MAX_TOKEN_LENGTH) return undefined
  const known = knownToken(trimmed)
  if (known) return known
  const scheme = schemeCredential(trimmed)
  if (scheme && isSchemeCredential(scheme, true)) return 'token'
  return undefined
}

/** A name before `=` in `name=value` parts of cookies, query strings and parameter lists. */
const PARAMETER_NAME = /^[A-Za-z0-9_.$-]{1,64}=/

/**
 * Whether a header value (or a query or body parameter's) looks like a credential by itself, for
 * headers whose name says nothing:
 *
 * - anything {@link detectSecret} reports (PEM, JWT, vendor tokens, URL credentials, …);
 * - `Scheme credentials` with an authentication scheme (Bearer, Basic, Token, Splunk, SSWS, …, see
 *   {@link TOKEN_SCHEMES}): a token68 of at least 8 characters that is not a lower-case word (not
 *   `Bearer required`), or, for parameter schemes (Digest, hmac, OAuth, AWS4-HMAC-SHA256), parameters with
 *   a signature; never a challenge (`Basic realm="…"`) or a reference;
 * - a random token by {@link looksLikeRandomToken}: the value, or (up to 4096 characters) one of its parts
 *   split at white space, `;`, `,` and `&`, without a `name=` in front (cookies, `k=v; k2=v2`, query
 *   strings).
 *
 * Not: UUIDs, words and sentences, numbers, dates, versions, host names and URLs without credentials,
 * MIME types, paths, hex shorter than 32 characters. Hex of 32 characters or more is taken for a token
 * (API keys often are): a digest in a header value is the price.
 */
export function looksLikeCredentialValue(value: string): boolean {
  const trimmed = value.trim()
  if (trimmed.length < 8 || isPlaceholder(trimmed)) return false
  if (detectSecret(trimmed)) return true
  // Longer values, and PEM blocks other than private keys (a certificate forwarded in a header), are none.
  if (trimmed.length > MAX_HEADER_VALUE_LENGTH || trimmed.includes('-----BEGIN ')) return false
  const scheme = schemeCredential(trimmed)
  if (scheme) return isSchemeCredential(scheme, false)
  if (looksLikeRandomToken(trimmed)) return true
  for (const part of trimmed.split(/[\s;,&]+/)) {
    if (part.length < 20) continue
    const name = PARAMETER_NAME.exec(part)
    const rest = name ? part.slice(name[0].length) : part
    if (rest.length >= 20 && !isPlaceholder(rest) && (knownToken(rest) || looksLikeRandomToken(rest)))
      return true
  }
  return false
}
