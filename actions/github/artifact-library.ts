// The entry of dist/artifact/index.js: the artifact library, bundled once and imported on demand by the actions.
export * from '@actions/artifact'
