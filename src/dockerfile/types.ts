/**
 * The shape of the Dockerfile model (built by model.ts): plain, read-only
 * data that the build preflight and `secbuild check` read. Secret and ssh
 * mounts carry ids, lines and paths only; the model never holds a value other
 * than the Dockerfile's own text and the ARG/ENV values it expands.
 */
import type { Instruction } from 'dockerfile-ast';

/** What a model is parsed from: the Dockerfile text and the build arguments that change it. */
export interface DockerfileInput {
  dockerfile: string;
  /** For messages. */
  path: string;
  target?: string;
  buildArgs?: Record<string, string>;
}

/** Variables in scope: null = declared by ARG without a value (unset). Absent = unknown (maybe from the base image). */
export type Vars = ReadonlyMap<string, string | null>;

export interface SecretMount {
  id: string;
  /** 1-based line of the `--mount` flag. */
  line: number;
  /** Stage name, or its index as a string when unnamed. */
  stage: string;
  required: boolean;
  /** Where the secret appears: target path, `/run/secrets/<id>` by default, '' for env-only mounts. */
  target: string;
  /** 1-based first line of the RUN instruction (a cache policy's ARG goes before it: ../dockerfile/derive.ts). */
  run?: number;
}

/** `RUN --mount=type=ssh[,id=ID]`: the agent socket or key a build forwards with `docker build --ssh ID`. */
export interface SshMount {
  /** `default` when the mount names none (BuildKit's sshforward default id). */
  id: string;
  /** 1-based line of the `--mount` flag. */
  line: number;
  /** Stage name, or its index as a string when unnamed. */
  stage: string;
  required: boolean;
}

/**
 * A `RUN --mount` with an `env=` key, in any stage: the Dockerfile frontend
 * reads the key from 1.10 on; an older one refuses the whole Dockerfile
 * ("unexpected key 'env'"; BuildKit 0.8 parses every stage's mounts).
 */
export interface EnvMount {
  /** 1-based line of the `--mount` flag. */
  line: number;
  /** The variable env= names, as written. */
  env: string;
  /** For a secret mount, the file that holds the secret without env= (target=, else /run/secrets/<id>); '' otherwise. */
  file: string;
}

/**
 * The Dockerfile frontend a `# syntax=` line (or the BUILDKIT_SYNTAX build-arg)
 * names; without either, the builder's own frontend parses the Dockerfile.
 */
export interface Frontend {
  /** The image named; absent without a syntax line. */
  ref?: string;
  /** `path:line` of the syntax line, or `path (build-arg BUILDKIT_SYNTAX)`. */
  where?: string;
  /** docker/dockerfile's version from the tag: 'latest' (no tag, latest, labs, master, a major alone) or [major, minor]; null when the ref does not tell (a digest only, another frontend, no syntax line). */
  version: 'latest' | [number, number] | null;
}

/** A leading `--name[=value]` word of an instruction, as BuildKit reads it (quotes removed, not expanded). */
export interface Flag {
  name: string;
  /** null for `--name` without `=`. */
  value: string | null;
  /** 1-based line the flag starts on. */
  line: number;
}

/** One well-formed `RUN --mount`, of any type. */
export interface RunMount {
  /** Lower-cased: bind (the default), cache, tmpfs, secret or ssh. */
  type: string;
  /** target=/dst=/destination=, expanded where it can be; '' when absent. */
  target: string;
  line: number;
}

/** The sources of a COPY or ADD. */
export interface CopySources {
  /** The `--from` value (not expanded), or null without one. */
  from: string | null;
  /** Every source operand, quotes removed (the destination is not one). */
  sources: string[];
  /** The sources read from the build context: none with --from or a heredoc; URLs and git@ sources left out. */
  context: string[];
  /** `--exclude` patterns. */
  excludes: string[];
}

export interface Step {
  /** Upper-cased. */
  keyword: string;
  /** dockerfile-ast's instruction, for what the model does not lift out (ARG/ENV properties). */
  ins: Instruction;
  /** 1-based first and last line (heredoc bodies and continuation lines included). */
  start: number;
  end: number;
  /** Index of the stage (0 = first FROM); -1 before the first FROM. */
  stage: number;
  flags: Flag[];
  /** The text after the keyword and flags, continuation lines and heredoc bodies included. */
  text: string;
  /** The JSON (exec) form's words, or null for the shell form. */
  json: string[] | null;
  /** Variables in scope after this instruction (the global ARGs before the first FROM). */
  vars: Vars;
  /** RUN only (else empty): its mounts. */
  mounts: RunMount[];
  /** COPY and ADD only. */
  copy?: CopySources;
}

export interface Stage {
  index: number;
  /** Lower-cased `AS` name, '' when unnamed. */
  name: string;
  /** The name, or the index as a string. */
  label: string;
  /** 1-based line of its FROM. */
  line: number;
  /** The stage its FROM builds on, when the image is an earlier stage's name. */
  parent?: number;
  /** Other stages it reads: COPY --from (name or index) and RUN --mount from= (name). */
  deps: number[];
  /** Variables in scope at the end of the stage. */
  vars: Vars;
  /** Its secret and ssh mounts and notes, reached or not. */
  mounts: SecretMount[];
  sshMounts: SshMount[];
  notes: string[];
}

export interface DockerfileModel {
  path: string;
  lines: string[];
  escape: string;
  steps: Step[];
  stages: Stage[];
  /** The stage built: the --target, else the last; -1 without a FROM. */
  root: number;
  /** Stage indexes the build reaches from the root. */
  reached: ReadonlySet<number>;
  /** Secret mounts in the reached stages, in document order. */
  mounts: SecretMount[];
  /** Ssh mounts in the reached stages, in document order. */
  sshMounts: SshMount[];
  /** The frontend the syntax line names (./frontend.ts reads what it supports). */
  frontend: Frontend;
  /** Mounts with env=, in every stage, in document order. */
  envMounts: EnvMount[];
  /** What could not be decided (a variable that cannot be expanded, another frontend); never fatal. */
  notes: string[];
}
