/** The current long-term-support line of Kong Gateway (supported until March 2028). */
export declare const DEFAULT_KONG_IMAGE = "kong/kong-gateway:3.10";
/** Kong Gateway edition. */
export declare const KongEdition: {
    /** The open-source image (`kong`). */
    readonly Community: "community";
    /** Kong Enterprise (`kong/kong-gateway`), which runs in free mode without a licence. */
    readonly Enterprise: "enterprise";
};
export type KongEdition = (typeof KongEdition)[keyof typeof KongEdition];
export interface KongImage {
    /** The reference as given, passed to ECS unchanged. */
    reference: string;
    repository: string;
    tag: string;
    /** Numeric parts of the tag: 3.10 → [3, 10], 3.10.0.6 → [3, 10, 0, 6]. */
    version: number[];
    /** `kong/kong-gateway` (and mirrors of it) is Enterprise, which runs in free mode without a licence. */
    edition: KongEdition;
}
/**
 * Reads a Kong image reference. The tag must name a Kong 3.x version, because the component relies on 3.x
 * behaviour (status listener, `/status/ready`, migrations) and because a rebuild must be repeatable: `latest` or
 * a branch name would give a different gateway on every run.
 */
export declare function parseKongImage(reference: string, edition?: KongEdition): KongImage;
/** True when the image's version is at least major.minor. */
export declare function atLeast(image: KongImage, major: number, minor: number): boolean;
