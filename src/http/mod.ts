/**
 * HTTP helpers shared by the Vision and REST clients: signal-linked fetch with header and
 * idle timeouts, leak-free body handling, and transient-error retry.
 *
 * @module
 */
export * from "./fetch.ts";
