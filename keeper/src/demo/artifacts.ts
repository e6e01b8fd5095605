/**
 * Hardhat's in-process chain (EDR) reads every build info in artifacts/build-info when it starts, and refuses
 * to start if one cannot be parsed: `Failed to parse build info: missing field 'contracts'`. An isolated build
 * (Hardhat's default production profile, used by `hardhat ignition deploy` before hardhat.config.ts defined its
 * own) leaves such build infos for files without contracts (lib/Types.sol). `withSoundArtifacts` runs `open`
 * (which starts a chain), and on that error rebuilds the artifacts once with `hardhat build`, which replaces
 * and prunes the build infos, then runs `open` again.
 */
export const BUILD_INFO_ERROR = /Failed to parse build info/i;

export function isBuildInfoError(error: unknown): boolean {
  for (let e: unknown = error; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
    if (BUILD_INFO_ERROR.test(e instanceof Error ? e.message : String(e))) return true;
    if (!(e instanceof Error)) break;
  }
  return false;
}

/** `hardhat build` in this process (the project's config and artifacts). */
export async function rebuildArtifacts(): Promise<void> {
  const { default: hre } = await import("hardhat");
  await hre.tasks.getTask("build").run({ quiet: true });
}

export async function withSoundArtifacts<T>(
  open: () => Promise<T>,
  options: { rebuild?: () => Promise<void>; say?: (line: string) => void } = {},
): Promise<T> {
  try {
    return await open();
  } catch (error) {
    if (!isBuildInfoError(error)) throw error;
    (options.say ?? ((line: string) => console.error(line)))(
      "oao: the artifacts' build infos cannot be read by the in-process chain (an isolated build, e.g. an older `hardhat ignition deploy`); rebuilding them with `hardhat build`…",
    );
    await (options.rebuild ?? rebuildArtifacts)();
    return open();
  }
}
