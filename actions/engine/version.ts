/** deckhand's own version, recorded in every manifest and shown by `deckhand --version`. */
export const TOOL_VERSION = '0.1.0'
