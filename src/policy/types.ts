/**
 * The policy gate's public shapes: the decision (DESIGN.md contract), the context a caller supplies, and the
 * input document the Rego policies read (documented field by field in policies/README.md).
 */
import { z } from 'zod';

export const violationSchema = z.object({
  id: z.string().min(1),
  message: z.string(),
  path: z.string().optional(),
  level: z.enum(['deny', 'review']).optional(),
});
export type Violation = z.infer<typeof violationSchema>;

export const decisionSchema = z.object({
  decision: z.enum(['allow', 'review', 'deny']),
  violations: z.array(violationSchema),
});
export type PolicyDecision = z.infer<typeof decisionSchema>;

export const statusClasses = ['2xx', '3xx', '4xx', 'mixed'] as const;
/** The class of the patched service's answers to the failing requests (a 4xx for invalid input, …). */
export type StatusClass = (typeof statusClasses)[number];

/** A sandbox Verdict (DESIGN.md `suture verify`) as read from a file; extra fields are ignored. */
export const verdictFileSchema = z.looseObject({
  verdict: z.enum(['pass', 'fail']),
  reproduced: z.boolean(),
  fixed: z.boolean(),
  fixedStatusClass: z.enum(statusClasses).nullable().optional(),
  testsPassed: z.boolean(),
  regressionTest: z.looseObject({ failsBefore: z.boolean(), passesAfter: z.boolean() }).nullable(),
  differential: z
    .looseObject({
      status: z.enum(['compared', 'none']).optional(),
      compared: z.number(),
      mismatches: z.array(z.unknown()),
    })
    .optional(),
  installNetwork: z.enum(['isolated', 'host']).nullable().optional(),
});

/** Where the sandbox's install step ran: its own network, the host's (loopback reachable), or none ran. */
export type InstallNetwork = 'isolated' | 'host' | null;

/** The fields of a sandbox Verdict the gate reads; src/sandbox's Verdict is assignable to it. */
export type VerdictLike = {
  verdict: 'pass' | 'fail';
  reproduced: boolean;
  fixed: boolean;
  /** Absent in verdicts of suture versions that did not record it. */
  fixedStatusClass?: StatusClass | null;
  testsPassed: boolean;
  regressionTest: { failsBefore: boolean; passesAfter: boolean } | null;
  /** `status` is absent in verdicts of suture versions that did not record it. */
  differential?: { status?: 'compared' | 'none'; compared: number; mismatches: unknown[] };
  /** Absent in verdicts of suture versions that did not record it; those ran install on the host network. */
  installNetwork?: InstallNetwork;
};

/** The verdict as the policies see it: differential mismatches reduced to a count. */
export type PolicyVerdict = {
  verdict: 'pass' | 'fail';
  reproduced: boolean;
  fixed: boolean;
  fixedStatusClass: StatusClass | null;
  testsPassed: boolean;
  regressionTest: { failsBefore: boolean; passesAfter: boolean } | null;
  /** null only when no verdict was given (verdictAssumed). */
  differential: { status: 'compared' | 'none'; compared: number; mismatches: number } | null;
  installNetwork: InstallNetwork;
};

export const autonomyModes = ['observe', 'propose', 'auto'] as const;
export type AutonomyMode = (typeof autonomyModes)[number];

export type PolicyContext = {
  candidate: { strategy: string | null; confidence: number | null };
  verdict: PolicyVerdict;
  /** True when no verdict was supplied and the change is judged as if verification passed. */
  verdictAssumed: boolean;
  incident: { service: string | null; environment: string | null; severity: string | null };
  mode: AutonomyMode;
};

/** What a caller may pass: any part of the context; the rest gets neutral defaults. */
export type PolicyContextInput = {
  candidate?: Partial<PolicyContext['candidate']>;
  verdict?: VerdictLike | null;
  incident?: Partial<PolicyContext['incident']>;
  mode?: AutonomyMode;
};

/** The verdict a change is judged with when the caller has none: verification passed. */
export const ASSUMED_VERDICT: PolicyVerdict = {
  verdict: 'pass',
  reproduced: true,
  fixed: true,
  fixedStatusClass: null,
  testsPassed: true,
  regressionTest: { failsBefore: true, passesAfter: true },
  differential: null,
  installNetwork: null,
};

export const fileKinds = [
  'source',
  'test',
  'manifest',
  'workflow',
  'dockerfile',
  'dependency',
  'policy',
  'other',
] as const;
export type FileKind = (typeof fileKinds)[number];

export type ChangedFile = {
  path: string;
  oldPath: string | null;
  status: 'added' | 'modified' | 'deleted' | 'renamed' | 'copied' | 'type-changed';
  additions: number;
  deletions: number;
  binary: boolean;
  isTest: boolean;
  language: string | null;
  kind: FileKind;
  protected: boolean;
  /** Bytes of the new content (null when deleted or a submodule). */
  size: number | null;
  /** The old or the new content is above the size the gate reads: it cannot be judged. */
  tooLarge: boolean;
  /** Other names of the file through symlinks of the base or head tree; classification uses them all. */
  aliases: string[];
  symlink: SymlinkFact | null;
};

/** A symlink and where following it ends (src/policy/symlinks.ts). */
export type SymlinkFact = {
  target: string;
  /** The repository path it resolves to ("" is the root); null when it escapes or cannot be resolved. */
  resolved: string | null;
  escapesRepo: boolean;
  /** Why it cannot be resolved (a loop, a submodule, an unreadable target); null when it can. */
  error: string | null;
};

export type PortFact = { port: number; hostPort: number | null; protocol: string };

export type ContainerFact = {
  name: string;
  init: boolean;
  image: string | null;
  registry: string | null;
  ports: PortFact[];
  securityContext: {
    privileged: boolean;
    allowPrivilegeEscalation: boolean | null;
    runAsUser: number | null;
    runAsNonRoot: boolean | null;
    capabilitiesAdd: string[];
  };
};

export type ResourceFact = {
  /** kind/namespace/name; namespace is "" when the manifest leaves it to the deploy tool. */
  id: string;
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  /** Cloud identity annotations only (IAM roles, workload identity), from metadata and the pod template. */
  identity: Record<string, string>;
  pod: {
    hostNetwork: boolean;
    hostPID: boolean;
    hostIPC: boolean;
    runAsUser: number | null;
    serviceAccountName: string | null;
    containers: ContainerFact[];
  } | null;
  service: { type: string; ports: { port: number; protocol: string; nodePort: number | null }[] } | null;
  rbac: {
    clusterScoped: boolean;
    rules: { apiGroups: string[]; resources: string[]; verbs: string[]; nonResourceURLs: string[] }[];
    roleRef: string | null;
  } | null;
  networkPolicy: {
    podSelector: Record<string, string>;
    policyTypes: string[];
    ingressRules: number;
    egressRules: number;
    /** An ingress (egress) rule without from (to): it admits every peer. */
    allowsAllIngress: boolean;
    allowsAllEgress: boolean;
  } | null;
};

export type ManifestFact = {
  path: string;
  status: ChangedFile['status'];
  before: ResourceFact[];
  after: ResourceFact[];
  errors: string[];
  /** Go-templated (Helm): judged with the template actions stubbed out. */
  templated: boolean;
};

export type DockerfileFacts = {
  stages: { image: string; registry: string | null; name: string | null }[];
  /** The USER of the final stage; null when it never sets one (the image then runs as root). */
  user: string | null;
};

export type DockerfileFact = {
  path: string;
  status: ChangedFile['status'];
  before: DockerfileFacts | null;
  after: DockerfileFacts | null;
};

export type DependencyEntry = { name: string; version: string | null };

export type DependencyFact = {
  path: string;
  ecosystem: 'npm' | 'python' | 'go' | 'cargo' | 'ruby' | 'other';
  file: 'manifest' | 'lockfile';
  added: DependencyEntry[];
  removed: DependencyEntry[];
  changed: { name: string; from: string | null; to: string | null }[];
};

export type LineFact = { path: string; line: number; text: string };

export type SecretFact = { path: string; line: number; kind: string; redacted: string };

export const installHostNetworkLevels = ['allow', 'review', 'deny'] as const;

export type PolicyConfigInput = {
  thresholds: { maxSourceLines: number; minConfidence: number };
  images: { allowedRegistries: string[] };
  sandbox: { installHostNetwork: (typeof installHostNetworkLevels)[number] };
};

export type RunnerConfigFact = { path: string; reason: string };

export const INPUT_SCHEMA = 3;

export type PolicyInput = {
  schema: typeof INPUT_SCHEMA;
  base: string;
  head: string;
  files: ChangedFile[];
  stats: { files: number; additions: number; deletions: number; sourceLines: number };
  kubernetes: ManifestFact[];
  dockerfiles: DockerfileFact[];
  dependencies: DependencyFact[];
  /** Symlinks of the head tree that escape or cannot be resolved and did not before the change. */
  symlinks: (SymlinkFact & { path: string })[];
  tests: {
    removedAssertions: LineFact[];
    addedSkips: LineFact[];
    runnerConfig: RunnerConfigFact[];
    runnerAccess: LineFact[];
    processHooks: LineFact[];
  };
  secrets: SecretFact[];
  context: PolicyContext;
  config: PolicyConfigInput;
};
