// The component package's entry (`main`): Pulumi's Node.js language host runs it when a program in any language
// uses KongGateway, and Pulumi's component provider host serves the component over gRPC, printing its port. The
// schema comes from this folder's TypeScript sources (Pulumi's analyzer reads them through tsconfig.json), and the
// component runs from the same sources.
import { componentProviderHost } from '@pulumi/pulumi/provider/experimental/index.js'

import './source-hooks.js'

// Imported once the hooks are in place, without top-level await: the language host loads this module with require().
import('./index.ts').then(({ KongGateway }) =>
  componentProviderHost({ name: 'deckhand', dirname: import.meta.dirname, components: [KongGateway] }),
)
