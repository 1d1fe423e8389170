// The load balancers' certificate when the caller gives none: TLS on every listener all the same. A self-signed
// certificate for both load balancers' DNS names, imported into ACM; clients trust it through the certificatePem
// output (deckhand's actions take it as their ca-cert input).
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import * as tls from '@pulumi/tls'

import type { Settings } from './settings.js'

/** A year; a later `pulumi up` in the last 60 days replaces the certificate, before ACM.1 (30 days) flags it. */
export const CERTIFICATE_VALIDITY_HOURS = 365 * 24
export const CERTIFICATE_EARLY_RENEWAL_HOURS = 60 * 24

export interface GatewayCertificate {
  certificateArn: pulumi.Output<string>
  /** The generated certificate; undefined when the caller gave certificateArn. */
  certificatePem: pulumi.Output<string | undefined>
}

export function gatewayCertificate(
  settings: Settings,
  dnsNames: pulumi.Input<string>[],
  parent: pulumi.Resource,
): GatewayCertificate {
  if (settings.certificateArn !== undefined) {
    return {
      certificateArn: pulumi.output(settings.certificateArn),
      certificatePem: pulumi.output<string | undefined>(undefined),
    }
  }
  const { name, region, tags } = settings
  const opts = { parent }
  // ACM imports RSA 1024/2048/3072/4096 and ECDSA P-256/P-384 keys (ImportCertificate, AWS ACM API reference).
  const key = new tls.PrivateKey(`${name}-tls`, { algorithm: 'ECDSA', ecdsaCurve: 'P256' }, opts)
  const certificate = new tls.SelfSignedCert(
    `${name}-tls`,
    {
      privateKeyPem: key.privateKeyPem,
      // Clients match the DNS names; a load balancer's name can outgrow the 64 characters a common name allows.
      subject: { commonName: `deckhand ${name}`, organization: 'deckhand Kong gateway' },
      dnsNames,
      validityPeriodHours: CERTIFICATE_VALIDITY_HOURS,
      earlyRenewalHours: CERTIFICATE_EARLY_RENEWAL_HOURS,
      allowedUses: ['digital_signature', 'key_encipherment', 'server_auth'],
    },
    opts,
  )
  const imported = new aws.acm.Certificate(
    `${name}-tls`,
    { region, privateKey: key.privateKeyPem, certificateBody: certificate.certPem, tags },
    // A renewed certificate is imported again under the same ARN (terraform-provider-aws
    // internal/service/acm/certificate.go, resourceCertificateUpdate), so the listeners keep pointing at it.
    opts,
  )
  return { certificateArn: imported.arn, certificatePem: certificate.certPem }
}
