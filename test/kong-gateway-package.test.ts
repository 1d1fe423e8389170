// KongGateway as a Pulumi component package for every Pulumi language: the schema Pulumi's component provider
// host serves (made by Pulumi's own analyzer from pulumi/*.ts) is the committed pulumi/schema.json, and it has the
// shapes other languages need: no unions, choices as enums, named object types, Inputs where values come from
// other resources.
import { describe, expect, test } from '@jest/globals'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'

import { ROOT } from './support/action.js'

interface Property {
  type?: string
  $ref?: string
  items?: Property
  additionalProperties?: Property
  plain?: boolean
  optional?: boolean
}
interface ObjectType {
  type: string
  properties?: Record<string, Property>
  required?: string[]
  enum?: { name: string; value: string }[]
}
interface Schema {
  name: string
  version: string
  resources: Record<
    string,
    {
      isComponent: boolean
      inputProperties: Record<string, Property>
      properties: Record<string, Property>
      required?: string[]
    }
  >
  types: Record<string, ObjectType>
  dependencies: { name: string; version: string }[]
}

const json = async <T>(path: string) => JSON.parse(await readFile(join(ROOT, path), 'utf8')) as T
const schema = await json<Schema>('pulumi/schema.json')
const gateway = schema.resources['deckhand:index:KongGateway']!
const inputs = gateway.inputProperties
const typeOf = (ref: string | undefined) => schema.types[ref!.replace('#/types/', '')]!

/** Every property in the schema, with where it is. */
function properties(): [string, Property][] {
  const found: [string, Property][] = []
  const visit = (where: string, property: Property) => {
    found.push([where, property])
    if (property.items) visit(`${where}[]`, property.items)
    if (property.additionalProperties) visit(`${where}{}`, property.additionalProperties)
  }
  for (const [name, property] of Object.entries(inputs)) visit(name, property)
  for (const [name, property] of Object.entries(gateway.properties)) visit(`output ${name}`, property)
  for (const [typeName, type] of Object.entries(schema.types)) {
    for (const [name, property] of Object.entries(type.properties ?? {}))
      visit(`${typeName}.${name}`, property)
  }
  return found
}

describe('the committed package schema', () => {
  test('is what Pulumi’s analyzer makes of the sources now (node script/pulumi-schema.mjs --check)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['script/pulumi-schema.mjs', '--check'], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '' },
    })
    expect(stdout).toContain('pulumi/schema.json is up to date')
  }, 60_000)

  test('names the package deckhand at the version of both package.json files, on the peer @pulumi/aws', async () => {
    const root = await json<{ version: string; peerDependencies: Record<string, string> }>('package.json')
    expect(schema.name).toBe('deckhand')
    expect(schema.version).toBe(root.version)
    expect(schema.dependencies.map((dependency) => dependency.name)).toEqual(['aws'])
  })

  test('has KongGateway as a component of module index', () => {
    expect(Object.keys(schema.resources)).toEqual(['deckhand:index:KongGateway'])
    expect(gateway.isComponent).toBe(true)
  })

  test('refers only to types it defines, and each choice is an enum of the strings TypeScript callers write', () => {
    for (const [where, property] of properties()) {
      if (property.$ref?.startsWith('#/types/'))
        expect({ where, defined: !!typeOf(property.$ref) }).toEqual({ where, defined: true })
      else if (property.$ref === undefined)
        expect({ where, type: typeof property.type }).toEqual({ where, type: 'string' })
    }
    const values = (input: string) => typeOf(inputs[input]!.$ref).enum!.map((member) => member.value)
    expect(values('natGateways')).toEqual(['single', 'perAz'])
    expect(values('mode')).toEqual(['database', 'dbless', 'konnect'])
    expect(values('edition')).toEqual(['community', 'enterprise'])
    expect(values('cpuArchitecture')).toEqual(['X86_64', 'ARM64'])
    const objectLock = typeOf(typeOf(inputs.backupBucket!.$ref).properties!.objectLock!.$ref)
    expect(typeOf(objectLock.properties!.mode!.$ref).enum!.map((member) => member.value)).toEqual([
      'GOVERNANCE',
      'COMPLIANCE',
    ])
  })

  test('has named object types for the nested arguments', () => {
    expect(inputs.database!.$ref).toBe('#/types/deckhand:index:DatabaseOptions')
    expect(inputs.restoreToPointInTime!.$ref).toBe('#/types/deckhand:index:PointInTimeRestore')
    expect(inputs.backupBucket!.$ref).toBe('#/types/deckhand:index:BackupBucketOptions')
    const bucket = typeOf(inputs.backupBucket!.$ref)
    expect(bucket.properties!.enabled).toMatchObject({ type: 'boolean', optional: true })
    expect(bucket.properties!.objectLock!.$ref).toBe('#/types/deckhand:index:ObjectLock')
    expect(typeOf(bucket.properties!.objectLock!.$ref)).toMatchObject({
      type: 'object',
      properties: { days: { type: 'number' } },
      required: ['days', 'mode'],
    })
  })

  test('takes Inputs wherever a value may come from another resource', () => {
    for (const input of [
      'region',
      'vpcId',
      'kongImage',
      'declarativeConfig',
      'licenseSecretArn',
      'adminTokenSecretArn',
      'certificateArn',
      'restoreFromSnapshot',
      'kmsKeyArn',
    ]) {
      expect({ input, ...inputs[input] }).toMatchObject({ input, type: 'string' })
      expect({ input, plain: inputs[input]!.plain }).toEqual({ input, plain: undefined })
    }
    for (const input of ['publicSubnetIds', 'privateSubnetIds', 'secretsKmsKeyArns']) {
      expect({ input, ...inputs[input] }).toEqual({
        input,
        type: 'array',
        items: { type: 'string' },
        optional: true,
        description: expect.any(String),
      })
    }
    // The zones' count decides the subnets; their names may still come from elsewhere.
    expect(inputs.availabilityZones).toMatchObject({ type: 'array', plain: true, items: { type: 'string' } })
    expect(inputs.availabilityZones!.items!.plain).toBeUndefined()
    for (const input of ['kongEnvironment', 'kongSecrets']) {
      expect({ input, ...inputs[input] }).toMatchObject({
        input,
        type: 'object',
        additionalProperties: { type: 'string' },
      })
      expect({ input, plain: inputs[input]!.additionalProperties!.plain }).toEqual({
        input,
        plain: undefined,
      })
    }
    expect(inputs.tags).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } })
  })

  test('has the URLs and names as string outputs, always set', () => {
    for (const output of ['proxyUrl', 'clusterName', 'serviceName', 'vpcId', 'kmsKeyArn', 'kongImage']) {
      expect({ output, ...gateway.properties[output] }).toMatchObject({ output, type: 'string' })
      expect(gateway.required).toContain(output)
    }
    expect(gateway.properties.databaseEndpoint).toMatchObject({ type: 'string', optional: true })
    // Konnect data planes have no Admin API.
    expect(gateway.properties.adminUrl).toMatchObject({ type: 'string', optional: true })
    expect(gateway.required).not.toContain('adminUrl')
  })
})

describe('the package folder', () => {
  test('runs on Node.js under Pulumi’s plugin host, with the root package’s Pulumi versions', async () => {
    const plugin = parse(await readFile(join(ROOT, 'pulumi/PulumiPlugin.yaml'), 'utf8')) as {
      runtime: string
    }
    expect(plugin.runtime).toBe('nodejs')
    const root = await json<{
      version: string
      peerDependencies: Record<string, string>
      devDependencies: Record<string, string>
    }>('package.json')
    const folder = await json<{
      name: string
      version: string
      main: string
      dependencies: Record<string, string>
    }>('pulumi/package.json')
    expect(folder).toMatchObject({ name: 'deckhand', version: root.version, main: 'host.js' })
    // The sources import yaml; the analyzer and the source hooks need typescript.
    expect(folder.dependencies).toEqual({
      ...root.peerDependencies,
      typescript: root.devDependencies.typescript,
      yaml: root.devDependencies.yaml,
    })
  })
})
