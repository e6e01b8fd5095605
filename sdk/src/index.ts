export * from "./errors/index.ts";
export { version } from "./version.ts";
