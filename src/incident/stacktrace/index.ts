export { extractHealthyRequests, extractRequests, extractTraces } from './extract.ts';
export { findNodeTraces, isExternalNodeFile, parseNodeStack } from './node.ts';
export { type FoundTrace, findPythonTraces, isExternalPythonFile, parsePythonTraceback } from './python.ts';
