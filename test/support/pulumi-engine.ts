// A stand-in for the Pulumi engine's side of a component package: the engine and resource monitor gRPC services a
// provider plugin talks to while it constructs a component. Registrations and invokes are answered by the pretend
// AWS account (pulumi-cloud.mjs) through the SDK's own mock monitor; every RegisterResource request is kept as the
// engine would see it. Other calls (RegisterResourceOutputs, Log) get an empty answer.
import * as grpc from '@grpc/grpc-js'
import * as resproto from '@pulumi/pulumi/proto/resource_pb.js'
import { EngineService } from '@pulumi/pulumi/proto/engine_grpc_pb.js'
import { ResourceMonitorService } from '@pulumi/pulumi/proto/resource_grpc_pb.js'
import { MockMonitor } from '@pulumi/pulumi/runtime/mocks.js'

import { mockCloud, type Cloud, type Registered } from './pulumi-cloud.mjs'

/** A RegisterResource request: what the engine learns of each resource. */
export interface Registration {
  type: string
  name: string
  parent: string
  custom: boolean
  /** Alias specs as the SDK sends them to an engine that supports them (type, name, parent). */
  aliases: { type: string; name: string; urn: string }[]
  /** Alias URNs the SDK computed itself, for an engine without alias specs. */
  aliasUrns: string[]
}

export interface FakeEngine {
  engineAddress: string
  monitorAddress: string
  registrations: Registration[]
  resources: Registered[]
  logs: { severity: number; message: string }[]
  stop(): Promise<void>
}

type Handler = (
  call: { request: unknown },
  callback: (error: Error | null, response?: unknown) => void,
) => void
type Definition = Record<
  string,
  { responseType: new () => unknown; requestStream: boolean; responseStream: boolean }
>

/** A service whose methods answer with an empty response unless given. */
function service(
  definition: Definition,
  methods: Record<string, Handler>,
): grpc.UntypedServiceImplementation {
  const implementation: grpc.UntypedServiceImplementation = {}
  for (const [name, method] of Object.entries(definition)) {
    implementation[name] =
      methods[name] ??
      (method.requestStream || method.responseStream
        ? (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end()
        : (_call: unknown, callback: (error: null, response: unknown) => void) =>
            callback(null, new method.responseType()))
  }
  return implementation
}

async function listen(server: grpc.Server): Promise<string> {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  )
  return `127.0.0.1:${port}`
}

/**
 * `aliasSpecs: false` stands for an engine older than alias specs: the SDK then computes every alias URN itself,
 * children's inherited ones included, and sends them as URNs.
 */
export async function startFakeEngine(
  project: string,
  stack: string,
  { cloud = {}, aliasSpecs = true }: { cloud?: Cloud; aliasSpecs?: boolean } = {},
): Promise<FakeEngine> {
  const registrations: Registration[] = []
  const resources: Registered[] = []
  const logs: FakeEngine['logs'] = []
  const mock = new MockMonitor(mockCloud(cloud, resources))
  // URNs of this stack and project, as the engine makes them (the SDK's mock reads them from its own process).
  Object.assign(mock, {
    newUrn(parent: string, type: string, name: string) {
      const parentType = parent ? `${parent.split('::')[2]!.split('$').pop()}$` : ''
      return `urn:pulumi:${stack}::${project}::${parentType}${type}::${name}`
    },
  })
  const delegated = (name: keyof MockMonitor): Handler => {
    const method = mock[name] as unknown as (request: unknown, callback: unknown) => void
    return (call, callback) => method.call(mock, call.request, callback)
  }
  const monitor = new grpc.Server()
  monitor.addService(
    ResourceMonitorService as unknown as grpc.ServiceDefinition,
    service(ResourceMonitorService as unknown as Definition, {
      getDeploymentInfo: (call, callback) =>
        delegated('getDeploymentInfo')(call, (error, info) => {
          const deployment = info as resproto.DeploymentInfo
          if (!aliasSpecs) {
            const features = deployment.getSupportedfeaturesList()
            deployment.setSupportedfeaturesList(
              features.filter(
                (f) => f !== resproto.ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
              ),
            )
          }
          callback(error, deployment)
        }),
      invoke: delegated('invoke'),
      readResource: delegated('readResource'),
      registerPackage: delegated('registerPackage'),
      registerResource: (call, callback) => {
        const request = call.request as resproto.RegisterResourceRequest
        registrations.push({
          type: request.getType(),
          name: request.getName(),
          parent: request.getParent(),
          custom: request.getCustom(),
          aliases: request.getAliasesList().map((alias) => ({
            type: alias.getSpec()?.getType() ?? '',
            name: alias.getSpec()?.getName() ?? '',
            urn: alias.getUrn(),
          })),
          aliasUrns: request.getAliasurnsList(),
        })
        delegated('registerResource')(call, callback)
      },
    }),
  )
  const engine = new grpc.Server()
  engine.addService(
    EngineService as unknown as grpc.ServiceDefinition,
    service(EngineService as unknown as Definition, {
      log: (call, callback) => {
        const request = call.request as { getSeverity(): number; getMessage(): string }
        logs.push({ severity: request.getSeverity(), message: request.getMessage() })
        callback(null, new (EngineService as unknown as Definition).log!.responseType())
      },
    }),
  )
  const [monitorAddress, engineAddress] = await Promise.all([listen(monitor), listen(engine)])
  return {
    engineAddress,
    monitorAddress,
    registrations,
    resources,
    logs,
    stop: async () => {
      monitor.forceShutdown()
      engine.forceShutdown()
    },
  }
}
