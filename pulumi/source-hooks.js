// Loads this folder's TypeScript sources in Node, as the component package runs them: each file is compiled as it
// loads, and `./x.js` imports (written for the compiled package, dist/pulumi) find `./x.ts`. Module hooks need
// Node 22.15 or later.
import { readFileSync } from 'node:fs'
import { registerHooks } from 'node:module'
import { fileURLToPath } from 'node:url'

import ts from 'typescript'

const fromSource = (url) => url?.startsWith('file:') && url.endsWith('.ts')

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (error) {
      if (!fromSource(context.parentURL) || !/^\.\.?\/.*\.js$/.test(specifier)) throw error
      return nextResolve(specifier.replace(/\.js$/, '.ts'), context)
    }
  },
  load(url, context, nextLoad) {
    if (!fromSource(url)) return nextLoad(url, context)
    const fileName = fileURLToPath(url)
    const { outputText } = ts.transpileModule(readFileSync(fileName, 'utf8'), {
      fileName,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    })
    return { format: 'module', source: outputText, shortCircuit: true }
  },
})
