// Jest 30 in ESM mode, as actions/typescript-action runs it. Type checking is `npm run typecheck`'s job,
// so ts-jest only transpiles (isolatedModules), which keeps the suite fast.
export default {
  preset: 'ts-jest',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  resolver: 'ts-jest-resolver',
  moduleNameMapper: {
    // The example programs import the component by its published name.
    '^deckhand/pulumi$': '<rootDir>/pulumi/index.ts',
    // @actions/workflow-parser imports its schemas as JSON without an import attribute, which Jest 30 warns
    // about (and its next major refuses); these modules read the same files.
    '^\\.\\./(workflow|action)-v1\\.0\\.min\\.json$': '<rootDir>/test/support/github-$1-schema.mjs',
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The Pulumi component package's manifest, also named deckhand, would collide in Jest's module map.
  modulePathIgnorePatterns: ['<rootDir>/pulumi/package\\.json$'],
  clearMocks: true,
  testTimeout: 60000,
  // Two workers on a two-core runner: most suites wait on child processes and servers, not the CPU (about
  // 13 minutes for the suite instead of 15 to 20 with Jest's default of one worker there).
  maxWorkers: 2,
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', useESM: true }],
  },
}
