import { DeckhandError } from '../errors.js'
import { readJsonFile } from '../json-file.js'
import { isObject } from '../state/entities.js'
import type { ClusterType, ControlPlane, NewControlPlane } from './api.js'

/**
 * What a dump of Konnect control planes records beside their state files, so that a control plane that is gone
 * can be created again as it was: `.konnect.json`. deck's state file keeps only the control plane's name
 * (`_konnect.control_plane_name`); the rest is what Konnect's CreateControlPlaneRequest takes. IDs and
 * endpoints are not kept: Konnect assigns new ones to a new control plane.
 */
export const KONNECT_METADATA = '.konnect.json'
const FORMAT = 'deckhand-konnect/1'

export interface ControlPlaneRecord extends NewControlPlane {
  /** The state file (within the dump's folder) that holds this control plane's configuration. */
  file: string
}

export function metadataText(planes: readonly { plane: ControlPlane; file: string }[]): string {
  const records: ControlPlaneRecord[] = planes.map(({ plane, file }) => ({
    name: plane.name,
    ...(plane.description ? { description: plane.description } : {}),
    ...(plane.labels && Object.keys(plane.labels).length > 0 ? { labels: sortedLabels(plane.labels) } : {}),
    cluster_type: plane.config.cluster_type,
    auth_type: plane.config.auth_type,
    cloud_gateway: plane.config.cloud_gateway,
    ...(plane.config.proxy_urls?.length ? { proxy_urls: plane.config.proxy_urls } : {}),
    file,
  }))
  records.sort((a, b) => a.name.localeCompare(b.name))
  return `${JSON.stringify({ format: FORMAT, control_planes: records }, null, 2)}\n`
}

/** Byte-stable: labels in name order. */
function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))
}

const CLUSTER_TYPES: readonly ClusterType[] = [
  'CLUSTER_TYPE_CONTROL_PLANE',
  'CLUSTER_TYPE_K8S_INGRESS_CONTROLLER',
  'CLUSTER_TYPE_CONTROL_PLANE_GROUP',
  'CLUSTER_TYPE_SERVERLESS',
  'CLUSTER_TYPE_KAFKA_NATIVE_EVENT_PROXY',
  'CLUSTER_TYPE_SERVERLESS_V1',
]

/** The most `.konnect.json` holds: a record per control plane is a few hundred bytes. */
const MAX_METADATA_BYTES = 4 * 2 ** 20

/**
 * Reads `.konnect.json` (bounded, its errors never quoting its text); anything but what deckhand writes is
 * refused with where it went wrong, and only what CreateControlPlaneRequest takes is kept of each record.
 */
export async function readMetadata(path: string): Promise<ControlPlaneRecord[]> {
  return parseMetadata(await readJsonFile(path, 'deckhand Konnect record', MAX_METADATA_BYTES), path)
}

export function parseMetadata(doc: unknown, source: string): ControlPlaneRecord[] {
  if (!isObject(doc) || doc.format !== FORMAT || !Array.isArray(doc.control_planes)) {
    throw new DeckhandError(`${source} is not a deckhand Konnect record (format ${FORMAT})`)
  }
  return doc.control_planes.map((entry, i) => {
    const where = `${source}: control_planes[${i}]`
    if (
      !isObject(entry) ||
      typeof entry.name !== 'string' ||
      entry.name === '' ||
      typeof entry.file !== 'string'
    )
      throw new DeckhandError(`${where} needs a name and a file`)
    if (entry.cluster_type !== undefined && !CLUSTER_TYPES.includes(entry.cluster_type as ClusterType))
      throw new DeckhandError(`${where}: unknown cluster_type ${JSON.stringify(entry.cluster_type)}`)
    if (
      entry.labels !== undefined &&
      (!isObject(entry.labels) || Object.values(entry.labels).some((v) => typeof v !== 'string'))
    )
      throw new DeckhandError(`${where}: labels must map names to strings`)
    if (
      entry.auth_type !== undefined &&
      entry.auth_type !== 'pinned_client_certs' &&
      entry.auth_type !== 'pki_client_certs'
    )
      throw new DeckhandError(`${where}: unknown auth_type ${JSON.stringify(entry.auth_type)}`)
    // Only what CreateControlPlaneRequest takes (it refuses any other property).
    return {
      name: entry.name,
      ...(typeof entry.description === 'string' ? { description: entry.description } : {}),
      ...(entry.labels !== undefined ? { labels: entry.labels as Record<string, string> } : {}),
      ...(entry.cluster_type !== undefined ? { cluster_type: entry.cluster_type as ClusterType } : {}),
      ...(entry.auth_type !== undefined ? { auth_type: entry.auth_type } : {}),
      ...(typeof entry.cloud_gateway === 'boolean' ? { cloud_gateway: entry.cloud_gateway } : {}),
      ...(Array.isArray(entry.proxy_urls) ? { proxy_urls: entry.proxy_urls as unknown[] } : {}),
      file: entry.file,
    }
  })
}

/** The create request for a recorded control plane: the record without deckhand's own `file`. */
export function createRequest(record: ControlPlaneRecord): NewControlPlane {
  const { file: _file, ...request } = record
  return request
}
