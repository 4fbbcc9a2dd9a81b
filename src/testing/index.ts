/**
 * The engine conformance suite: `runEngineConformance` registers `bun:test` tests proving an engine keeps the
 * `SessionEngine` contract. Our own engines run exactly this suite.
 */
export { type EngineConformanceOptions, type EngineFactory, runEngineConformance } from './conformance.js'
