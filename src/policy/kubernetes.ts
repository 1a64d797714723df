/**
 * Kubernetes facts for the policies: each object of a YAML (or JSON) file reduced to what the rules judge —
 * pod security, host namespaces, ports, Service exposure, RBAC rules and cloud identity annotations.
 */
import { parseAllDocuments } from 'yaml';
import type { ContainerFact, PortFact, ResourceFact } from './types.ts';

type Obj = Record<string, unknown>;

const IDENTITY_PREFIXES = [
  'eks.amazonaws.com/',
  'iam.amazonaws.com/',
  'iam.gke.io/',
  'azure.workload.identity/',
  'aadpodidbinding',
];

export type ParsedManifest = { resources: ResourceFact[]; errors: string[] };

/**
 * A field of a Kubernetes object. Older API servers decode field names case-insensitively (Go's
 * encoding/json), so `Privileged: true` counts; two spellings of one field are ambiguous and fail closed.
 */
function field(o: Obj, key: string): unknown {
  const lower = key.toLowerCase();
  const keys = Object.keys(o).filter((k) => k.toLowerCase() === lower);
  if (keys.length > 1) throw new Error(`ambiguous keys ${keys.map((k) => JSON.stringify(k)).join(' and ')}`);
  return keys.length === 1 ? o[keys[0]!] : undefined;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}

function int(v: unknown): number | null {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return null;
}

function strings(v: unknown): string[] {
  return list(v)
    .map(str)
    .filter((s): s is string => s !== null);
}

/** Go-templated (Helm) or Jinja-templated YAML: `{{ … }}`, `{% … %}`, `{# … #}` the renderer replaces. */
const TEMPLATE_ACTION = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g;

export function isTemplated(text: string): boolean {
  return text.includes('{{') || text.includes('{%');
}

/**
 * How Kubernetes reads YAML (sigs.k8s.io/yaml on go-yaml v2): YAML 1.1 whatever the document's %YAML
 * directive says, so `yes`/`on`/`y` are true, `00` and `0x0` are 0 and `<<` merge keys apply. Duplicate keys
 * are errors: readers disagree on which one wins.
 */
const K8S_YAML = { version: '1.1', schema: 'yaml-1.1', merge: true, uniqueKeys: true } as const;

/**
 * TEXT with its template actions stubbed out: an action alone on its line becomes a blank line (both branches
 * of an `if` stay, a key set in both is a duplicate and fails closed), an inline one a placeholder scalar.
 */
export function stubTemplate(text: string): string {
  const marker = '\u0000';
  const stubbed = text.replace(TEMPLATE_ACTION, (m) => marker + '\n'.repeat(m.split('\n').length - 1));
  return stubbed
    .split('\n')
    .map((line) => (line.replaceAll(marker, '').trim() === '' ? '' : line.replaceAll(marker, 'TEMPLATE')))
    .join('\n');
}

function parseDocuments(text: string): ParsedManifest {
  const resources: ResourceFact[] = [];
  const errors: string[] = [];
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text, K8S_YAML);
  } catch (err) {
    return { resources, errors: [(err as Error).message.split('\n')[0] ?? 'unparseable'] };
  }
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      errors.push(doc.errors[0]!.message.split('\n')[0]!);
      continue;
    }
    try {
      collect(doc.toJS({ maxAliasCount: 100 }), resources);
    } catch (err) {
      errors.push((err as Error).message.split('\n')[0] ?? 'unreadable');
    }
  }
  return { resources, errors };
}

/**
 * Parses TEXT into Kubernetes objects; documents that are not objects with apiVersion and kind are skipped.
 * Templated text is parsed with its actions stubbed out (closest to what renders), else as it is; both
 * failing leaves the errors. `templated` says the rendered objects may differ from what was judged.
 */
export function parseManifest(text: string): ParsedManifest & { templated: boolean } {
  if (!isTemplated(text)) return { ...parseDocuments(text), templated: false };
  const stubbed = parseDocuments(stubTemplate(text));
  if (stubbed.errors.length === 0) return { ...stubbed, templated: true };
  const plain = parseDocuments(text);
  return { ...(plain.errors.length === 0 ? plain : stubbed), templated: true };
}

function collect(value: unknown, out: ResourceFact[]): void {
  if (!isObj(value)) return;
  const kind = field(value, 'kind');
  const items = field(value, 'items');
  if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(items)) {
    for (const item of items) collect(item, out);
    return;
  }
  if (typeof field(value, 'apiVersion') === 'string' && typeof kind === 'string') out.push(resourceFact(value));
}

export function looksLikeKubernetes(text: string): boolean {
  return /^\s*["']?apiVersion["']?\s*:/im.test(text) && /^\s*["']?kind["']?\s*:/im.test(text);
}

/** Follows KEYS from O through nested objects (each step case-insensitive, like field). */
function at(o: unknown, ...keys: string[]): unknown {
  let cur = o;
  for (const key of keys) cur = isObj(cur) ? field(cur, key) : undefined;
  return cur;
}

export function resourceFact(o: Obj): ResourceFact {
  const meta = obj(field(o, 'metadata'));
  const kind = String(field(o, 'kind'));
  const name = str(field(meta, 'name')) ?? '';
  const namespace = str(field(meta, 'namespace')) ?? '';
  const spec = obj(field(o, 'spec'));
  const pod = podOf(spec);
  const lowerKind = kind.toLowerCase();
  return {
    id: `${kind}/${namespace}/${name}`,
    apiVersion: String(field(o, 'apiVersion')),
    kind,
    name,
    namespace,
    identity: {
      ...identityOf(meta),
      ...identityOf(pod?.meta ?? {}),
    },
    pod: pod ? podFact(pod.spec) : null,
    service: lowerKind === 'service' ? serviceFact(spec) : null,
    rbac: /^(cluster)?role(binding)?$/.test(lowerKind) ? rbacFact(lowerKind, o) : null,
    networkPolicy: lowerKind === 'networkpolicy' ? networkPolicyFact(spec) : null,
  };
}

/**
 * The pod spec and metadata an object runs, wherever its kind keeps them: a Pod's spec, a workload's
 * spec.template (Deployment, StatefulSet, DaemonSet, Job, Argo Rollout, custom resources of that shape), a
 * CronJob's spec.jobTemplate.spec.template. Found by shape, not by kind name.
 */
function podOf(spec: Obj): { spec: Obj; meta: Obj } | null {
  const candidates: [unknown, unknown][] = [
    [spec, {}],
    [at(spec, 'template', 'spec'), at(spec, 'template', 'metadata')],
    [at(spec, 'jobTemplate', 'spec', 'template', 'spec'), at(spec, 'jobTemplate', 'spec', 'template', 'metadata')],
  ];
  for (const [podSpec, meta] of candidates) {
    if (isObj(podSpec) && Array.isArray(field(podSpec, 'containers'))) return { spec: podSpec, meta: obj(meta) };
  }
  return null;
}

function identityOf(meta: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of [obj(field(meta, 'annotations')), obj(field(meta, 'labels'))]) {
    for (const [key, value] of Object.entries(source)) {
      if (IDENTITY_PREFIXES.some((p) => key.toLowerCase().startsWith(p))) out[key] = str(value) ?? '';
    }
  }
  return out;
}

function podFact(spec: Obj): NonNullable<ResourceFact['pod']> {
  const security = obj(field(spec, 'securityContext'));
  const containers = [
    ...list(field(spec, 'containers')).map((c) => containerFact(obj(c), false)),
    ...list(field(spec, 'initContainers')).map((c) => containerFact(obj(c), true)),
    ...list(field(spec, 'ephemeralContainers')).map((c) => containerFact(obj(c), false)),
  ];
  return {
    hostNetwork: field(spec, 'hostNetwork') === true,
    hostPID: field(spec, 'hostPID') === true,
    hostIPC: field(spec, 'hostIPC') === true,
    runAsUser: int(field(security, 'runAsUser')),
    serviceAccountName: str(field(spec, 'serviceAccountName')),
    containers,
  };
}

function bool(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

function containerFact(c: Obj, init: boolean): ContainerFact {
  const sc = obj(field(c, 'securityContext'));
  const image = str(field(c, 'image'));
  return {
    name: str(field(c, 'name')) ?? '',
    init,
    image,
    registry: image ? registryOf(image) : null,
    ports: list(field(c, 'ports')).map((p): PortFact => {
      const port = obj(p);
      return {
        port: int(field(port, 'containerPort')) ?? 0,
        hostPort: int(field(port, 'hostPort')),
        protocol: str(field(port, 'protocol')) ?? 'TCP',
      };
    }),
    securityContext: {
      privileged: field(sc, 'privileged') === true,
      allowPrivilegeEscalation: bool(field(sc, 'allowPrivilegeEscalation')),
      runAsUser: int(field(sc, 'runAsUser')),
      runAsNonRoot: bool(field(sc, 'runAsNonRoot')),
      capabilitiesAdd: strings(at(sc, 'capabilities', 'add')).map((cap) => cap.toUpperCase().replace(/^CAP_/, '')),
    },
  };
}

function serviceFact(spec: Obj): NonNullable<ResourceFact['service']> {
  return {
    type: str(field(spec, 'type')) ?? 'ClusterIP',
    ports: list(field(spec, 'ports')).map((p) => {
      const port = obj(p);
      return {
        port: int(field(port, 'port')) ?? 0,
        protocol: str(field(port, 'protocol')) ?? 'TCP',
        nodePort: int(field(port, 'nodePort')),
      };
    }),
  };
}

function rbacFact(lowerKind: string, o: Obj): NonNullable<ResourceFact['rbac']> {
  const ref = obj(field(o, 'roleRef'));
  return {
    clusterScoped: lowerKind.startsWith('cluster'),
    rules: list(field(o, 'rules')).map((r) => {
      const rule = obj(r);
      return {
        apiGroups: strings(field(rule, 'apiGroups')),
        resources: strings(field(rule, 'resources')),
        verbs: strings(field(rule, 'verbs')),
        nonResourceURLs: strings(field(rule, 'nonResourceURLs')),
      };
    }),
    roleRef: lowerKind.endsWith('binding') ? `${str(field(ref, 'kind')) ?? ''}/${str(field(ref, 'name')) ?? ''}` : null,
  };
}

function networkPolicyFact(spec: Obj): NonNullable<ResourceFact['networkPolicy']> {
  const ingress = list(field(spec, 'ingress')).map(obj);
  const egress = list(field(spec, 'egress')).map(obj);
  const labels = obj(at(spec, 'podSelector', 'matchLabels'));
  return {
    podSelector: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, str(v) ?? ''])),
    policyTypes: strings(field(spec, 'policyTypes')),
    ingressRules: ingress.length,
    egressRules: egress.length,
    allowsAllIngress: ingress.some((r) => list(field(r, 'from')).length === 0),
    allowsAllEgress: egress.some((r) => list(field(r, 'to')).length === 0),
  };
}

/**
 * The registry an image reference pulls from: its first component when that names a host
 * (has a dot or a port, or is localhost), otherwise Docker Hub.
 */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first.toLowerCase() : 'docker.io';
}
