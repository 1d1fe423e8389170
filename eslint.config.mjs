import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // A spread in a call passes every element as an argument: over an array whose length the input
    // decides (rows, files, findings) it overflows the stack past ~100k elements. Spreading a literal
    // list is bounded and allowed; anything else goes through append()/maxOf() (actions/engine/arrays.ts).
    files: ['actions/**/*.ts', 'script/**/*.mjs'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['CallExpression', 'NewExpression'].map((call) => ({
          selector:
            `${call} > SpreadElement:not([argument.type='ArrayExpression'])` +
            `:not([argument.type='ConditionalExpression'][argument.consequent.type='ArrayExpression'][argument.alternate.type='ArrayExpression'])`,
          message:
            'No spreads over unbounded arrays in calls (a RangeError past ~100k elements): use append() or maxOf() from actions/engine/arrays.ts, or a loop.',
        })),
      ],
    },
  },
  {
    // The engine must run outside GitHub (CLI, GitLab, Jenkins): no @actions/* imports there.
    files: ['actions/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@actions/*'], message: 'The engine knows nothing of GitHub.' }] },
      ],
    },
  },
)
