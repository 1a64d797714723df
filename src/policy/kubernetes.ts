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

/** Helm and other templated YAML cannot be judged by parsing; the manifest-changed review covers it. */
export function isTemplated(text: string): boolean {
  return text.includes('{{');
}

/** Parses TEXT into Kubernetes objects; documents that are not objects with apiVersion and kind are skipped. */
export function parseManifest(text: string): ParsedManifest {
  const resources: ResourceFact[] = [];
  const errors: string[] = [];
  if (isTemplated(text)) return { resources, errors };
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text);
  } catch (err) {
    return { resources, errors: [(err as Error).message.split('\n')[0] ?? 'unparseable'] };
  }
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      errors.push(doc.errors[0]!.message.split('\n')[0]!);
      continue;
    }
    collect(doc.toJS({ maxAliasCount: 100 }), resources);
  }
  return { resources, errors };
}

function collect(value: unknown, out: ResourceFact[]): void {
  if (!isObj(value)) return;
  if (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) {
    for (const item of value.items) collect(item, out);
    return;
  }
  if (typeof value.apiVersion === 'string' && typeof value.kind === 'string') out.push(resourceFact(value));
}

export function looksLikeKubernetes(text: string): boolean {
  return /^\s*apiVersion\s*:/m.test(text) && /^\s*kind\s*:/m.test(text);
}

export function resourceFact(o: Obj): ResourceFact {
  const meta = obj(o.metadata);
  const kind = String(o.kind);
  const name = str(meta.name) ?? '';
  const namespace = str(meta.namespace) ?? '';
  const podSpec = podSpecOf(kind, obj(o.spec));
  const podMeta = podMetaOf(kind, obj(o.spec));
  return {
    id: `${kind}/${namespace}/${name}`,
    apiVersion: String(o.apiVersion),
    kind,
    name,
    namespace,
    identity: {
      ...identityOf(meta),
      ...identityOf(podMeta),
    },
    pod: podSpec ? podFact(podSpec) : null,
    service: kind === 'Service' ? serviceFact(obj(o.spec)) : null,
    rbac: /^(Cluster)?Role(Binding)?$/.test(kind) ? rbacFact(kind, o) : null,
    networkPolicy: kind === 'NetworkPolicy' ? networkPolicyFact(obj(o.spec)) : null,
  };
}

function podSpecOf(kind: string, spec: Obj): Obj | null {
  if (kind === 'Pod') return spec;
  if (kind === 'CronJob') return obj(obj(obj(obj(spec.jobTemplate).spec).template).spec);
  const template = obj(obj(spec.template).spec);
  return Array.isArray(template.containers) ? template : null;
}

function podMetaOf(kind: string, spec: Obj): Obj {
  if (kind === 'Pod') return {};
  if (kind === 'CronJob') return obj(obj(obj(obj(spec.jobTemplate).spec).template).metadata);
  return obj(obj(spec.template).metadata);
}

function identityOf(meta: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of [obj(meta.annotations), obj(meta.labels)]) {
    for (const [key, value] of Object.entries(source)) {
      if (IDENTITY_PREFIXES.some((p) => key.startsWith(p))) out[key] = str(value) ?? '';
    }
  }
  return out;
}

function podFact(spec: Obj): NonNullable<ResourceFact['pod']> {
  const security = obj(spec.securityContext);
  const containers = [
    ...list(spec.containers).map((c) => containerFact(obj(c), false)),
    ...list(spec.initContainers).map((c) => containerFact(obj(c), true)),
    ...list(spec.ephemeralContainers).map((c) => containerFact(obj(c), false)),
  ];
  return {
    hostNetwork: spec.hostNetwork === true,
    hostPID: spec.hostPID === true,
    hostIPC: spec.hostIPC === true,
    runAsUser: int(security.runAsUser),
    serviceAccountName: str(spec.serviceAccountName),
    containers,
  };
}

function containerFact(c: Obj, init: boolean): ContainerFact {
  const sc = obj(c.securityContext);
  const image = str(c.image);
  return {
    name: str(c.name) ?? '',
    init,
    image,
    registry: image ? registryOf(image) : null,
    ports: list(c.ports).map((p): PortFact => {
      const port = obj(p);
      return {
        port: int(port.containerPort) ?? 0,
        hostPort: int(port.hostPort),
        protocol: str(port.protocol) ?? 'TCP',
      };
    }),
    securityContext: {
      privileged: sc.privileged === true,
      allowPrivilegeEscalation: typeof sc.allowPrivilegeEscalation === 'boolean' ? sc.allowPrivilegeEscalation : null,
      runAsUser: int(sc.runAsUser),
      runAsNonRoot: typeof sc.runAsNonRoot === 'boolean' ? sc.runAsNonRoot : null,
      capabilitiesAdd: strings(obj(sc.capabilities).add).map((cap) => cap.toUpperCase().replace(/^CAP_/, '')),
    },
  };
}

function serviceFact(spec: Obj): NonNullable<ResourceFact['service']> {
  return {
    type: str(spec.type) ?? 'ClusterIP',
    ports: list(spec.ports).map((p) => {
      const port = obj(p);
      return { port: int(port.port) ?? 0, protocol: str(port.protocol) ?? 'TCP', nodePort: int(port.nodePort) };
    }),
  };
}

function rbacFact(kind: string, o: Obj): NonNullable<ResourceFact['rbac']> {
  const ref = obj(o.roleRef);
  return {
    clusterScoped: kind.startsWith('Cluster'),
    rules: list(o.rules).map((r) => {
      const rule = obj(r);
      return {
        apiGroups: strings(rule.apiGroups),
        resources: strings(rule.resources),
        verbs: strings(rule.verbs),
        nonResourceURLs: strings(rule.nonResourceURLs),
      };
    }),
    roleRef: kind.endsWith('Binding') ? `${str(ref.kind) ?? ''}/${str(ref.name) ?? ''}` : null,
  };
}

function networkPolicyFact(spec: Obj): NonNullable<ResourceFact['networkPolicy']> {
  const ingress = list(spec.ingress).map(obj);
  const egress = list(spec.egress).map(obj);
  const labels = obj(obj(spec.podSelector).matchLabels);
  return {
    podSelector: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, str(v) ?? ''])),
    policyTypes: strings(spec.policyTypes),
    ingressRules: ingress.length,
    egressRules: egress.length,
    allowsAllIngress: ingress.some((r) => list(r.from).length === 0),
    allowsAllEgress: egress.some((r) => list(r.to).length === 0),
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
