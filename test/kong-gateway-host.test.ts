// KongGateway served by Pulumi's component provider host, started as the Pulumi engine starts a component package:
// the Node.js language host runs `node @pulumi/pulumi/cmd/run-plugin <package folder> <engine address>`, reads the
// port the plugin prints, and calls it over gRPC. The engine and its resource monitor are stand-ins
// (support/pulumi-engine.ts) that record what the engine would see; no Pulumi CLI is involved.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import * as grpc from '@grpc/grpc-js'
import * as provproto from '@pulumi/pulumi/proto/provider_pb.js'
import { ResourceProviderClient } from '@pulumi/pulumi/proto/provider_grpc_pb.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Empty } from 'google-protobuf/google/protobuf/empty_pb.js'
import { Struct } from 'google-protobuf/google/protobuf/struct_pb.js'

import { ROOT } from './support/action.js'
import { startFakeEngine, type FakeEngine } from './support/pulumi-engine.js'

const TOKEN = 'deckhand:index:KongGateway'

let engine: FakeEngine
let plugin: ChildProcess
let client: InstanceType<typeof ResourceProviderClient>
const stderr: string[] = []

/** A unary call on the plugin, as a promise. */
function rpc<Response>(method: string, request: unknown): Promise<Response> {
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, (r: unknown, c: (e: Error | null, v: Response) => void) => void>)[
      method
    ]!(request, (error, response) => (error ? reject(error) : resolve(response))),
  )
}

/** A Construct request as the engine sends it for a KongGateway declared in another language's program. */
function constructRequest(monitorAddress: string, inputs: Record<string, unknown>) {
  const request = new provproto.ConstructRequest()
  request.setProject('deckhand')
  request.setStack('test')
  request.setParallel(4)
  request.setMonitorendpoint(monitorAddress)
  request.setType(TOKEN)
  request.setName('kong')
  // As a Python or YAML program would give them: plain JSON values.
  request.setInputs(Struct.fromJavaScript(inputs as never))
  return request
}

beforeAll(async () => {
  engine = await startFakeEngine('deckhand', 'test')
  plugin = spawn(
    process.execPath,
    [join(ROOT, 'node_modules/@pulumi/pulumi/cmd/run-plugin'), join(ROOT, 'pulumi'), engine.engineAddress],
    { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  plugin.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
  // The provider's first line on stdout is its port.
  const lines = createInterface({ input: plugin.stdout! })
  const [port] = (await Promise.race([
    once(lines, 'line'),
    once(plugin, 'exit').then(([code]) => {
      throw new Error(`the plugin exited (${code}) before printing its port: ${stderr.join('')}`)
    }),
  ])) as [string]
  expect(port).toMatch(/^\d+$/)
  client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
}, 30_000)

afterAll(async () => {
  client?.close()
  if (plugin && plugin.exitCode === null) {
    const exited = once(plugin, 'exit')
    plugin.kill()
    await exited
  }
  await engine?.stop()
})

describe('the component package under Pulumi’s component provider host', () => {
  test('answers GetPluginInfo with the package version', async () => {
    const info = await rpc<{ getVersion(): string }>('getPluginInfo', new Empty())
    const { version } = JSON.parse(await readFile(join(ROOT, 'pulumi/package.json'), 'utf8')) as {
      version: string
    }
    expect(info.getVersion()).toBe(version)
  })

  test('serves the committed schema (GetSchema)', async () => {
    const response = await rpc<{ getSchema(): string }>('getSchema', new provproto.GetSchemaRequest())
    const committed: unknown = JSON.parse(await readFile(join(ROOT, 'pulumi/schema.json'), 'utf8'))
    expect(JSON.parse(response.getSchema())).toEqual(committed)
  }, 60_000)

  test('constructs a gateway for another language (Construct): the type, its alias, its children and outputs', async () => {
    const request = constructRequest(engine.monitorAddress, {
      natGateways: 'perAz',
      backupBucket: { enabled: false },
    })
    const response = await rpc<provproto.ConstructResponse>('construct', request)

    const urn = 'urn:pulumi:test::deckhand::deckhand:index:KongGateway::kong'
    expect(response.getUrn()).toBe(urn)
    const gateway = engine.registrations.filter((registration) => registration.type === TOKEN)
    expect(gateway).toEqual([
      {
        type: TOKEN,
        name: 'kong',
        parent: '',
        custom: false,
        aliases: [{ type: 'deckhand:aws:KongGateway', name: '', urn: '' }],
        aliasUrns: [],
      },
    ])
    // Children name the component as parent, so the engine carries its alias over to them (step_generator.go,
    // generateAliases): their URNs under the old type still match.
    const children = engine.registrations.filter((registration) => registration.type !== TOKEN)
    expect(children.length).toBeGreaterThan(20)
    expect(children.filter((child) => child.parent !== urn)).toEqual([])
    expect(engine.resources.filter((r) => r.type === 'aws:ec2/natGateway:NatGateway')).toHaveLength(2)
    // backupBucket.enabled false: the gateway's log bucket is the only bucket.
    expect(engine.resources.filter((r) => r.type === 'aws:s3/bucket:Bucket').map((r) => r.name)).toEqual([
      'kong-logs',
    ])

    const state = response.getState()!.toJavaScript()
    expect(state).toMatchObject({
      proxyUrl: expect.stringMatching(/^https:\/\/kong-proxy/),
      adminUrl: expect.stringMatching(/^https:\/\/kong-admin/),
      kongImage: 'kong/kong-gateway:3.10',
    })
    expect(engine.logs.filter((log) => log.severity >= 3)).toEqual([])
  }, 60_000)

  test('children keep the URNs they had under the former type (the SDK computes them for an engine without alias specs)', async () => {
    const older = await startFakeEngine('deckhand', 'test', { aliasSpecs: false })
    try {
      await rpc('construct', constructRequest(older.monitorAddress, {}))
      const old = 'urn:pulumi:test::deckhand::deckhand:aws:KongGateway'
      const aliases = (type: string, name: string) =>
        older.registrations.find((r) => r.type === type && r.name === name)?.aliasUrns
      expect(aliases('aws:ec2/vpc:Vpc', 'kong-vpc')).toEqual([`${old}$aws:ec2/vpc:Vpc::kong-vpc`])
      expect(aliases('aws:ecs/service:Service', 'kong')).toEqual([`${old}$aws:ecs/service:Service::kong`])
    } finally {
      await older.stop()
    }
  }, 60_000)
})
