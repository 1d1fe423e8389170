import { KongGatewayArgumentError } from './errors.js'

/** The current long-term-support line of Kong Gateway (supported until March 2028). */
export const DEFAULT_KONG_IMAGE = 'kong/kong-gateway:3.10'

/** Kong Gateway edition. */
export const KongEdition = {
  /** The open-source image (`kong`). */
  Community: 'community',
  /** Kong Enterprise (`kong/kong-gateway`), which runs in free mode without a licence. */
  Enterprise: 'enterprise',
} as const
export type KongEdition = (typeof KongEdition)[keyof typeof KongEdition]

export interface KongImage {
  /** The reference as given, passed to ECS unchanged. */
  reference: string
  repository: string
  tag: string
  /** Numeric parts of the tag: 3.10 → [3, 10], 3.10.0.6 → [3, 10, 0, 6]. */
  version: number[]
  /** `kong/kong-gateway` (and mirrors of it) is Enterprise, which runs in free mode without a licence. */
  edition: KongEdition
}

// [registry[:port]/]path[:tag][@sha256:digest]; the tag is what matters here.
const REFERENCE =
  /^(?<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@sha256:[a-f0-9]{64})?$/
// 3.10, 3.9.3, 3.10.0.6, with an optional variant suffix: 3.10.0.6-ubuntu, 3.15.0.0-distroless.
const VERSION_TAG = /^(?<version>\d+\.\d+(?:\.\d+){0,2})(?:-[a-z0-9][a-z0-9.-]*)?$/

/**
 * Reads a Kong image reference. The tag must name a Kong 3.x version, because the component relies on 3.x
 * behaviour (status listener, `/status/ready`, migrations) and because a rebuild must be repeatable: `latest` or
 * a branch name would give a different gateway on every run.
 */
export function parseKongImage(reference: string, edition?: KongEdition): KongImage {
  const match = REFERENCE.exec(reference)
  const tag = match?.groups?.tag
  if (!match || !tag) {
    throw new KongGatewayArgumentError(
      'kongImage',
      `"${reference}" is not an image reference with a version tag; write it as repository:version, ` +
        `for example ${DEFAULT_KONG_IMAGE} or kong:3.9.3`,
    )
  }
  const version = VERSION_TAG.exec(tag)?.groups?.version
  if (!version) {
    throw new KongGatewayArgumentError(
      'kongImage',
      `tag "${tag}" is not a Kong version (3.10, 3.9.3, 3.10.0.6, 3.10.0.6-ubuntu); pin a version so a rebuild ` +
        'gives the same gateway every time',
    )
  }
  const parts = version.split('.').map(Number)
  if (parts[0] !== 3) {
    throw new KongGatewayArgumentError('kongImage', `Kong ${version} is not supported; use a Kong 3.x image`)
  }
  const repository = match.groups!.repository!
  return {
    reference,
    repository,
    tag,
    version: parts,
    edition: edition ?? (/(^|\/)kong-gateway$/.test(repository) ? 'enterprise' : 'community'),
  }
}

/** True when the image's version is at least major.minor. */
export function atLeast(image: KongImage, major: number, minor: number): boolean {
  const [imageMajor = 0, imageMinor = 0] = image.version
  return imageMajor > major || (imageMajor === major && imageMinor >= minor)
}
