// Version and commit are fixed at build time by agent/build.ts (esbuild `define`). When
// the compiled module runs straight from dist/ (tests), they fall back to the package
// version and "dev".
declare const __XS_AGENT_VERSION__: string | undefined;
declare const __XS_AGENT_COMMIT__: string | undefined;

export const AGENT_VERSION: string = typeof __XS_AGENT_VERSION__ === 'string' ? __XS_AGENT_VERSION__ : '0.0.0-dev';
export const AGENT_COMMIT: string = typeof __XS_AGENT_COMMIT__ === 'string' ? __XS_AGENT_COMMIT__ : 'dev';
